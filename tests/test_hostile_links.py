"""A formula that reads another workbook (``[1]Sheet1!A1``) never makes jixiao open that workbook, whatever its link
points at: an absolute path to a secret on the bureau's disk, a ``../`` path, a ``file://`` URL, a UNC path, a
FIFO, or a path written into the formula itself. Each is a ``formula.external_link`` warning and the cached value
is used — in ``check`` (values and full routes, in-process and in worker processes), ``recalc``, the macros'
openpyxl path, the server's marked copy, and an .xls converted by LibreOffice.

Opened paths are watched twice: a Python audit hook in this process (``open`` events), and ``strace -f`` around the
CLI (every process of the tree, LibreOffice included). The workbooks are made by ``tests/hostile/external_links.py``.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "hostile"))
try:
    import external_links as gen
finally:
    sys.path.pop(0)

P = "hunan-dept-2024"
SECONDS = 90  # one CLI run, LibreOffice conversion and strace included
RULE = "formula.external_link"
MESSAGE = re.compile(r"引用了外部工作簿 .+（第 1 个外部链接），已按缓存值处理")
FORBIDDEN = ("secret.xlsx", "pipe.xlsx", "127.0.0.1")  # any path naming a target
FULL_ROUTE_KINDS = ("absolute", "dotdot", "file-url", "unc", "fifo")


# ---------------------------------------------------------------------------
# Watching the paths this process opens

_OPENED: list = []
_WATCHING = [False]
_WATCHERS: set[int] = set()  # threads of FifoWatch: their own opens of the FIFO are the watch, not the code watched


def _audit(event: str, args: tuple) -> None:
    if _WATCHING[0] and event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)) \
            and threading.get_ident() not in _WATCHERS:
        _OPENED.append(args[0])  # decoded later: the hook itself does as little as possible


sys.addaudithook(_audit)  # hooks cannot be removed: this one records only inside watching()


@contextmanager
def watching():
    """The paths opened inside the block (builtins.open, io.open, os.open: every route to a file in Python)."""
    _OPENED.clear()
    _WATCHING[0] = True
    seen: list[str] = []
    try:
        yield seen
    finally:
        _WATCHING[0] = False
        seen.extend(os.fsdecode(p) for p in _OPENED)


def forbidden(paths: list[str]) -> list[str]:
    return [p for p in paths if any(f in p.lower() for f in FORBIDDEN)]


class FifoWatch:
    """Notices any process opening the FIFO for reading (a writer can then open it without blocking), records it and
    closes its end at once, so the reader gets end-of-file: a regression fails the test instead of hanging it."""

    def __init__(self, fifo: Path):
        self.fifo, self.opened, self._stop = fifo, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        _WATCHERS.add(threading.get_ident())
        while not self._stop.wait(0.02):
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: nobody is reading
                continue
            self.opened += 1
            os.close(fd)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------------------
# The hostile files


@dataclass
class Linked:
    root: Path
    secret: Path
    fifo: Path
    sub: Path
    files: dict[str, Path]
    digests: dict[str, str]
    watch: FifoWatch

    def unchanged(self) -> bool:
        """Inputs byte-identical, the FIFO still a FIFO and never opened by any process."""
        return (all(_sha(p) == self.digests[k] for k, p in self.files.items()) and self.fifo.is_fifo()
                and self.watch.opened == 0)


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    root = tmp_path_factory.mktemp("links")
    (root / "secret").mkdir()
    secret = gen.secret_book(root / "secret" / "secret.xlsx")
    fifo = root / "pipe.xlsx"
    os.mkfifo(fifo)
    sub = root / "sub"
    sub.mkdir()
    files = {}
    for kind, target in gen.targets(secret, fifo, sub).items():
        files[kind] = sub / f"{kind}.xlsx"
        files[kind].write_bytes(gen.linked(target, extra_sheet=None))  # on the form sheet: the full route
        files[kind + "-values"] = sub / f"{kind}-values.xlsx"
        files[kind + "-values"].write_bytes(gen.linked(target))  # on a sheet of their own: the values route
    files["template"] = sub / "template.xlsx"  # jixiao's template, the links on a sheet of their own
    files["template"].write_bytes(gen.linked(str(secret), template=True))
    files["in-formula"] = sub / "in-formula.xlsx"
    files["in-formula"].write_bytes(gen.path_in_formula(secret, extra_sheet="链接"))
    watch = FifoWatch(fifo)
    yield Linked(root, secret, fifo, sub, files, {k: _sha(p) for k, p in files.items()}, watch)
    watch.stop()


def _no_secret(text: str) -> None:
    assert gen.MARKER not in text and "424242" not in text and "424243" not in text


def _link_findings(res) -> list:  # noqa: ANN001
    return [f for f in res.findings if f.rule == RULE]


# ---------------------------------------------------------------------------
# In this process: check, recalc, macros, marked copy


def test_check_reports_the_link_and_keeps_the_cached_value(linked):
    from jixiao.checking import batch
    from jixiao.checking.report import to_json

    with watching() as opened:
        t0 = time.monotonic()
        results = batch.run(batch.collect([linked.sub]), P, isolate=False)
        seconds = time.monotonic() - t0
    assert forbidden(opened) == []
    assert seconds < 60  # the FIFO never blocks
    by_name = {Path(r.file).stem: r for r in results}
    assert set(by_name) == set(linked.files)
    for kind, res in by_name.items():
        found = _link_findings(res)
        assert len(found) == 1, (kind, [f.rule for f in res.findings])
        f = found[0]
        assert f.severity == "warning" and f.sheet in ("附件2", "链接") and f.cell == "J1"
        if kind != "in-formula":
            assert MESSAGE.search(f.message), f.message
            assert "共 3 个单元格" in f.message  # J1, J2 and J4 (through the defined name 外部数)
        else:
            assert str(linked.secret) in f.message and "已按缓存值处理" in f.message
        # the cached values are used: no formula.stale saying what the other workbook holds
        assert not [x for x in res.findings if x.rule == "formula.stale" and x.cell in ("J1", "J2", "J3", "J4")], kind
        assert res.total is not None, kind  # the form itself is still checked and scored
    for kind in FULL_ROUTE_KINDS:
        assert by_name[kind].route == "full" and by_name[kind + "-values"].route == "values"
    assert by_name["template"].route == "template"  # sealed, the workbook is jixiao's template again
    _no_secret(json.dumps(to_json(results), ensure_ascii=False, default=str))
    assert linked.unchanged()


def test_recalc_uses_the_cached_values(linked):
    from jixiao.excel import bridge

    for kind, path in linked.files.items():
        with watching() as opened:
            rc = bridge.calculate(path)
        assert forbidden(opened) == [], kind
        sheet = "附件2" if kind in FULL_ROUTE_KINDS else "链接"
        if kind == "in-formula":
            assert rc.get(sheet, "J1") == gen.CACHED and rc.get(sheet, "J2") == gen.CACHED
        else:
            got = [rc.get(sheet, c) for c in ("J1", "J2", "J3", "J4")]
            assert got == [gen.CACHED, gen.CACHED + 1, 2 * (gen.CACHED + 1), gen.CACHED + 2], (kind, got)
        assert [n.rule for n in rc.notes] == [RULE], kind
        _no_secret(repr(rc.values))
    assert linked.unchanged()


def test_macros_openpyxl_path_never_opens_the_link(linked, tmp_path):
    from jixiao_macros import actions
    from jixiao_macros.book import OpenpyxlBook

    copy = tmp_path / "officer.xlsx"  # the macros write their results into the officer's own book
    shutil.copyfile(linked.files["absolute"], copy)
    with watching() as opened:
        book = OpenpyxlBook(copy)
        res = actions.check(book)
    assert forbidden(opened) == []
    f = _link_findings(res)
    assert len(f) == 1 and MESSAGE.search(f[0].message) and str(linked.secret) in f[0].message
    assert (f[0].sheet, f[0].cell) == ("附件2", "J1")
    rows = [[c.value for c in row] for row in book.wb["检查结果"].iter_rows()]
    _no_secret(repr(rows))
    assert any("引用了外部工作簿" in str(v) for r in rows for v in r)
    assert linked.unchanged()


def test_marked_copy_links_to_nothing(linked):
    from openpyxl import load_workbook

    from jixiao.checking.checker import check_file
    from jixiao.server.marked import cell_changes, marked_copy

    data = linked.files["unc"].read_bytes()
    findings = [f.to_dict() for f in check_file(str(linked.files["unc"]), P).findings]
    with watching() as opened:
        out = marked_copy(data, findings, "unc.xlsx")
        changes = cell_changes(data, out)
    assert forbidden(opened) == []
    with zipfile.ZipFile(io.BytesIO(out)) as z:
        assert not [n for n in z.namelist() if "externalLink" in n]
        # the target is named only in the finding's text, never as a relationship a program would follow
        assert not any(b"127.0.0.1" in z.read(n) for n in z.namelist() if n.endswith(".rels"))
    ws = load_workbook(io.BytesIO(out))["附件2"]
    assert [ws[c].value for c in ("J1", "J2", "J4")] == [gen.CACHED, gen.CACHED + 1, gen.CACHED + 2]
    assert ws["J3"].value == "=J2*2"  # a formula within the workbook stays
    assert {c["cell"] for c in changes} >= {"J1", "J2", "J4"}
    assert linked.unchanged()


def test_the_formulas_engine_itself_is_confined_to_one_book(linked, tmp_path):
    """Whatever reaches the engine — here a link jixiao's scan is not shown — no other book is loaded."""
    from jixiao.excel import bridge

    copy = tmp_path / "raw.xlsx"
    shutil.copyfile(linked.files["absolute"], copy)
    bridge.install()
    with watching() as opened:
        model = bridge._one_book_model_class()().loads(str(copy)).finish()
        solution = model.calculate()
    assert forbidden(opened) == []
    _no_secret(repr(dict(solution)))
    assert linked.unchanged()


# ---------------------------------------------------------------------------
# The CLI, every process watched by strace

STRACE = shutil.which("strace")

# Loaded by every Python process the CLI starts (its workers included): records each path opened to a log.
_SITECUSTOMIZE = """
import os, sys
_log = os.environ.get("JIXIAO_TEST_OPEN_LOG")
if _log:
    _fd = os.open(_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _jixiao_test_audit(event, args):
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            os.write(_fd, os.fsencode(args[0]) + b"\\n")

    sys.addaudithook(_jixiao_test_audit)
"""


def _cli(args: list[str], tmp: Path, cwd: Path) -> tuple[int, str, float, list[str]]:
    """``python -m jixiao ARGS`` watched in every process: an audit hook (via sitecustomize) and, where installed,
    strace -f. Returns (exit code, output, seconds, what either watcher saw that it must not)."""
    site = tmp / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
    audit, trace = tmp / "opened.log", tmp / "strace.log"
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, PYTHONPATH=path, JIXIAO_TEST_OPEN_LOG=str(audit))
    cmd = [sys.executable, "-m", "jixiao", *args]
    if STRACE:
        cmd = [STRACE, "-f", "-qq", "-e", "trace=openat,open,connect", "-o", str(trace), *cmd]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS, cwd=cwd, env=env)
    seconds = time.monotonic() - t0
    opened = audit.read_bytes().decode("utf-8", "replace").splitlines()
    assert any(o.endswith(".xlsx") or o.endswith(".xls") for o in opened)  # the hook did run in the CLI
    bad = forbidden(opened) + (_violations(trace) if STRACE else [])
    return p.returncode, p.stdout + p.stderr, seconds, bad


def _violations(log: Path) -> list[str]:
    bad = []
    for line in log.read_text("utf-8", "replace").splitlines():
        if " connect(" in line and ("AF_INET" in line or "AF_INET6" in line):
            bad.append(line)
        m = re.search(r'open(?:at)?\((?:AT_FDCWD, )?"([^"]*)"', line)
        if m and forbidden([m.group(1)]):
            bad.append(line)
    return bad


def test_cli_check_in_workers_opens_no_target(linked, tmp_path):
    code, out, seconds, bad = _cli(["check", str(linked.sub), "-p", P, "--json", "--jobs", "2"], tmp_path, tmp_path)
    assert code in (0, 1), out[-2000:]
    assert seconds < SECONDS
    assert bad == []
    _no_secret(out)
    doc = json.loads(out)
    assert len(doc["files"]) == len(linked.files)
    for entry in doc["files"]:
        rules = [f["rule"] for f in doc["findings"] if f["file"] == entry["file"]]
        assert rules.count(RULE) == 1, (entry["file"], rules)
    assert linked.unchanged()


@pytest.mark.parametrize("kind", ["dotdot", "fifo"])
def test_cli_recalc_opens_no_target(linked, tmp_path, kind):
    code, out, seconds, bad = _cli(["recalc", str(linked.files[kind]), "--json"], tmp_path, linked.sub)
    assert code == 0, out[-2000:]
    assert seconds < SECONDS  # the FIFO is never opened, so nothing blocks
    assert bad == []
    _no_secret(out)
    doc = json.loads(out)
    assert [w["code"] for w in doc["warnings"]] == [RULE]
    assert {(c["cell"], c["value"]) for c in doc["cells"]} >= {("J1", gen.CACHED), ("J2", gen.CACHED + 1)}
    assert linked.unchanged()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice")
def test_xls_converted_by_libreoffice_opens_no_target(linked, tmp_path):
    """An .xls whose formula links to the secret: LibreOffice converts it without updating the link, and the
    converted workbook's link is reported like any other."""
    from jixiao.libreoffice import convert

    made = tmp_path / "made"
    xls = convert(linked.files["absolute"], "xls", made)  # the .xls an officer would submit (made, not checked)
    sub = tmp_path / "xls"
    sub.mkdir()
    shutil.move(xls, sub / "linked.xls")
    digest = _sha(sub / "linked.xls")
    code, out, seconds, bad = _cli(["check", str(sub / "linked.xls"), "-p", P, "--json"], tmp_path, sub)
    assert code in (0, 1), out[-2000:]
    assert bad == []  # LibreOffice included: strace follows soffice too
    _no_secret(out)
    assert RULE in out and "已按缓存值处理" in out
    assert _sha(sub / "linked.xls") == digest
