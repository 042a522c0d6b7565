"""Hostile batches (issue 21, items 4, 5, 7, 8; issue 15, item 4): archives, special files, deep folders, signals,
LibreOffice past its time and formats converted like .xls.

Every input is written here by code (no binary blobs). Each case runs ``python -m jixiao`` in a child of its own
session with a private TMPDIR and asserts: the time bound, the peak memory of the whole process tree (sampled with
psutil), no process of the tree left alive, no file left in the temporary folder, the Chinese message with its
code, and the inputs byte-identical afterwards.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from pathlib import Path

import psutil
import pytest

from jixiao.checking import batch, report
from jixiao.samples import submissions

P = "hunan-dept-2024"
MiB = 1 << 20
TREE_MEMORY = 700 * MiB  # peak resident memory of the whole tree (parent, workers, converters)
ADDRESS_SPACE = 4 << 30  # per process: a lost bound cannot take the machine down


def _cap() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


class Tree:
    """``python -m jixiao ARGS`` in its own session, its process tree watched: peak RSS, every pid seen."""

    def __init__(self, args: list[str], tmp: Path, cap: bool = True):
        self.tmp = tmp
        self.out = io.BytesIO()
        env = os.environ | {"TMPDIR": str(tmp), "COLUMNS": "200"}
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "jixiao", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, start_new_session=True,
                                     preexec_fn=_cap if cap else None)
        self.root = psutil.Process(self.proc.pid)
        self.seen: dict[int, float] = {}  # pid → create time (a reused pid is another process)
        self.peak = 0
        self.done = threading.Event()
        self.stdout = self.stderr = b""
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self.done.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                procs = []
            total = 0
            for p in procs:
                try:
                    total += p.memory_info().rss
                    self.seen.setdefault(p.pid, p.create_time())
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(0.02)

    def descendants(self) -> list[psutil.Process]:
        try:
            return self.root.children(recursive=True)
        except psutil.Error:
            return []

    def wait(self, timeout: float = 90) -> tuple[int, str, str, float]:
        try:
            self.stdout, self.stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.stdout, self.stderr = self.proc.communicate()
            pytest.fail(f"no result within {timeout} s")
        seconds = time.monotonic() - self.t0
        time.sleep(0.05)
        self.done.set()
        return self.proc.returncode, self.stdout.decode("utf-8", "replace"), self.stderr.decode("utf-8", "replace"), \
            seconds

    def alive(self) -> list[int]:
        """Pids of the tree still running (zombies reaped by nobody count as gone)."""
        left = []
        for pid, created in self.seen.items():
            try:
                p = psutil.Process(pid)
                if p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE:
                    left.append(pid)
            except psutil.Error:
                pass
        return left


def assert_all_gone(tree: Tree, within: float = 10) -> None:
    end = time.monotonic() + within
    while tree.alive() and time.monotonic() < end:
        time.sleep(0.1)
    assert tree.alive() == [], [psutil.Process(p).cmdline() for p in tree.alive()]


def office_processes(marker: str) -> list[psutil.Process]:
    """Running processes whose command line names ``marker`` (a private temporary folder)."""
    out = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if any(marker in part for part in p.info["cmdline"] or ()) and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.Error:
            pass
    return out


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def submission(seed: int = 7) -> bytes:
    data, _ = submissions.make_submission(random.Random(seed), "template", None)
    return data


@pytest.fixture
def tmp(tmp_path) -> Path:
    d = tmp_path / "tmp"
    d.mkdir()
    return d


def findings_by_file(doc: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in doc["findings"]:
        out.setdefault(Path(f["file"]).name if "!" not in f["file"] else f["file"].split("!", 1)[1], []).append(f)
    return out


# ---------------------------------------------------------------------------
# Zip archives written byte by byte: what a hostile writer can declare


def raw_zip(members: list[tuple[str, bytes, int, int, int]], *, eocd_count: int | None = None,
            eocd_size: int | None = None, zip64: bool = False) -> bytes:
    """A zip of deflated members given as (name, compressed bytes, crc, declared size, method); the end record
    may declare other numbers than the directory holds, and a zip64 record the true ones."""
    out = bytearray()
    directory = bytearray()
    for name, blob, crc, size, method in members:
        raw = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, method, 0, 0, crc, len(blob), size, len(raw), 0)
        out += raw + blob
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, method, 0, 0, crc, len(blob), size,
                                 len(raw), 0, 0, 0, 0, 0, offset)
        directory += raw
    start = len(out)
    out += directory
    if zip64:
        record = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(members), len(members), len(directory),
                           start)
        out += struct.pack("<IIQI", 0x07064B50, 0, record, 1)
    count = len(members) if eocd_count is None else eocd_count
    size = len(directory) if eocd_size is None else eocd_size
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF), min(count, 0xFFFF), size, start, 0)
    return bytes(out)


def deflated(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


_ZEROS: dict[int, tuple[bytes, int]] = {}


def zeros_member(name: str, size: int) -> tuple[str, bytes, int, int, int]:
    """A member of ``size`` zero bytes (compressed and summed once per size)."""
    if size not in _ZEROS:
        _ZEROS[size] = deflated(bytes(size)), zlib.crc32(bytes(size))
    blob, crc = _ZEROS[size]
    return name, blob, crc, size, 8


def test_zip_declaring_its_directory_only_in_the_zip64_record_is_refused_from_the_directory(tmp_path, tmp):
    """The end record says one member; the zip64 record (which zipfile believes) says 20,000 members of 1 MiB."""
    members = [zeros_member(f"单位{i:05d}.xlsx", MiB) for i in range(20_000)]
    archive = tmp_path / "in" / "zip64.zip"
    archive.parent.mkdir()
    archive.write_bytes(raw_zip(members, eocd_count=1, eocd_size=46 + 15, zip64=True))
    assert len(zipfile.ZipFile(archive).infolist()) == 20_000  # what the parent would otherwise build and inflate
    before = digest(archive.parent)
    tree = Tree(["check", str(archive), "--profile", P, "--json", "--quiet"], tmp)
    code, out, err, seconds = tree.wait()
    assert code == 1, err
    doc = json.loads(out)
    [f] = doc["findings"]
    assert f["rule"] == "archive.too_large" and "20000" in f["message"] and has_chinese(f["message"])
    assert seconds < 20 and tree.peak < TREE_MEMORY, (seconds, tree.peak)
    assert_all_gone(tree)
    assert list(tmp.iterdir()) == [] and digest(archive.parent) == before


def test_two_thousand_members_of_exactly_one_mebibyte_never_reach_the_parent(tmp_path, tmp):
    """2,048 members of 1 MiB of zeros (2.1 MB on disk, 2 GiB inflated): refused from the directory, each listed."""
    archive = tmp_path / "in" / "bomb.zip"
    archive.parent.mkdir()
    archive.write_bytes(raw_zip([zeros_member(f"b/{i:04d}.xlsx", MiB) for i in range(2048)]))
    assert archive.stat().st_size < 3 * MiB
    before = digest(archive.parent)
    tree = Tree(["check", str(archive.parent), "--profile", P, "--json", "--quiet"], tmp)
    code, out, err, seconds = tree.wait()
    assert code == 1, err
    doc = json.loads(out)
    assert len(doc["files"]) == 2048
    assert {f["rule"] for f in doc["findings"]} == {"archive.too_large"}
    assert all("压缩比" in f["message"] for f in doc["findings"])
    assert seconds < 30 and tree.peak < TREE_MEMORY, (seconds, tree.peak)
    assert_all_gone(tree)
    assert list(tmp.iterdir()) == [] and digest(archive.parent) == before


def test_a_member_is_read_through_a_counter_whatever_its_headers_claim(tmp_path):
    """The archive is listed, then replaced by one whose member's headers claim 200 MiB: the worker stops at the
    limit. A well-behaved member of the same archive is checked in a worker like any file."""
    good = submission()
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("教育厅.xlsx", good)
        z.writestr("大.xlsx", b"PK")
    sources = batch.collect([archive])
    assert [s.data for s in sources] == [None, None]  # nothing inflated while listing
    big = 200 * MiB
    archive.write_bytes(raw_zip([("教育厅.xlsx", deflated(good), zlib.crc32(good), len(good), 8),
                                 zeros_member("大.xlsx", big)]))
    t0 = time.monotonic()
    results = {Path(r.file.split("!")[1]).name: r for r in batch.run(sources, P)}
    assert time.monotonic() - t0 < 30
    assert results["教育厅.xlsx"].error is None and results["教育厅.xlsx"].unit
    [f] = results["大.xlsx"].findings
    assert f.rule == "archive.too_large" and "64 MB" in f.message and "与其声明不符" in f.message


def test_a_worker_that_dies_at_start_gives_each_file_a_finding(monkeypatch):
    """Workers that die as they start (as when the parent already holds more than a worker's memory limit) are no
    silent exit 1: the broken pipe to a dead worker was read as 'stdout closed' before."""
    from jixiao.checking import workers

    monkeypatch.setattr(workers, "_limit_memory", lambda limit: os._exit(3))  # runs in each forked worker
    sources = [batch.Source(f"单位{i}.xlsx", data=os.urandom(MiB)) for i in range(3)]  # larger than a pipe buffer
    t0 = time.monotonic()
    results = batch.run(sources, P, jobs=1)
    assert time.monotonic() - t0 < 30
    assert [r.file for r in results] == [s.label for s in sources]
    for r in results:
        [f] = r.findings
        assert f.rule == "check.worker_died" and "退出码 3" in f.message and has_chinese(f.message), f


# ---------------------------------------------------------------------------
# Special files, deep folders, zips in zips, reports that look like jixiao's


def test_fifo_device_and_socket_in_a_folder_are_listed_not_opened(tmp_path, tmp):
    d = tmp_path / "收到的"
    d.mkdir()
    (d / "教育厅.xlsx").write_bytes(submission())
    os.mkfifo(d / "管道.xlsx")
    os.symlink("/dev/zero", d / "设备.xlsx")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(d / "套接字.zip"))
    try:
        before = digest(d)
        tree = Tree(["check", str(d), "--profile", P, "--json", "--quiet"], tmp)
        code, out, err, seconds = tree.wait(timeout=60)
    finally:
        sock.close()
    doc = json.loads(out)
    found = findings_by_file(doc)
    assert [(f["rule"], f["severity"]) for f in found["管道.xlsx"]] == [("input.special_file", "warning")]
    assert "命名管道" in found["管道.xlsx"][0]["message"]
    assert "字符设备" in found["设备.xlsx"][0]["message"] and "套接字" in found["套接字.zip"][0]["message"]
    checked = next(f for f in doc["files"] if f["file"].endswith("教育厅.xlsx"))
    assert checked["error"] is None and checked["unit"]
    assert seconds < 30 and tree.peak < TREE_MEMORY
    assert_all_gone(tree)
    assert list(tmp.iterdir()) == [] and digest(d) == before


def test_folders_1100_deep_are_walked_without_recursion_and_the_cut_is_reported(tmp_path, tmp):
    d = tmp_path / "in"
    (d / "a").mkdir(parents=True)
    (d / "a" / "教育厅.xlsx").write_bytes(submission())
    deep = d
    for _ in range(1100):
        deep = deep / "d"
        os.mkdir(deep)
    (deep / "深.xlsx").write_bytes(submission(8))
    tree = Tree(["check", str(d), "--profile", P, "--json", "--quiet"], tmp)
    code, out, err, seconds = tree.wait()
    assert "RecursionError" not in err and "Traceback" not in err, err
    doc = json.loads(out)
    cut = [f for f in doc["findings"] if f["rule"] == "input.too_deep"]
    assert len(cut) == 1 and f"超过 {batch.MAX_DEPTH} 层" in cut[0]["message"]
    assert any(f["file"].endswith("a/教育厅.xlsx") and f["error"] is None for f in doc["files"])
    assert seconds < 30 and tree.peak < TREE_MEMORY
    assert_all_gone(tree)
    assert list(tmp.iterdir()) == []
    (deep / "深.xlsx").unlink()
    while deep != d:  # without recursion: shutil.rmtree would hit the recursion limit too
        deep.rmdir()
        deep = deep.parent


def test_nothing_in_a_folder_or_archive_vanishes(tmp_path, tmp):
    """A zip in a zip, a text file, and a submission carrying the report's marker and sheet names: each listed."""
    from openpyxl import load_workbook

    d = tmp_path / "收到的"
    d.mkdir()
    wb = load_workbook(io.BytesIO(submission()))
    wb.properties.keywords = report.REPORT_MARKER
    for ws in wb.worksheets[1:]:
        wb.remove(ws)
    wb.worksheets[0].title = report.REPORT_SHEETS[0]
    for name in report.REPORT_SHEETS[1:]:
        wb.create_sheet(name)
    wb.save(d / "冒充报告.xlsx")
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("内层.xlsx", submission())
    with zipfile.ZipFile(d / "外层.zip", "w") as z:
        z.writestr("内层.zip", inner.getvalue())
        z.writestr("说明.txt", "见附件")
    (d / "说明.docx").write_bytes(b"PK not really")
    before = digest(d)
    tree = Tree(["check", str(d), "--profile", P, "--json", "--quiet"], tmp)
    code, out, err, seconds = tree.wait()
    doc = json.loads(out)
    found = {name: [(f["rule"], f["severity"]) for f in fs] for name, fs in findings_by_file(doc).items()}
    assert found["冒充报告.xlsx"] == [("input.own_report", "info")]
    assert found["内层.zip"] == [("archive.nested", "warning")]
    assert found["说明.txt"] == [("input.not_workbook", "info")]
    assert found["说明.docx"] == [("report.unreadable", "error")]  # a .docx is a 自评报告: this one is broken
    assert len(doc["files"]) == 4
    assert all(has_chinese(f["message"]) for f in doc["findings"])
    assert seconds < 30 and tree.peak < TREE_MEMORY
    assert_all_gone(tree)
    assert list(tmp.iterdir()) == [] and digest(d) == before


# ---------------------------------------------------------------------------
# .ods and WPS .et, converted as .xls is; LibreOffice past its time


@pytest.fixture(scope="module")
def office_files(tmp_path_factory) -> dict[str, bytes]:
    """A submission saved by LibreOffice as .ods and as .xls (a WPS .et is such a BIFF workbook): one soffice
    process per format, both files converted at once."""
    from jixiao.libreoffice import soffice

    d = tmp_path_factory.mktemp("office")
    (d / "a.xlsx").write_bytes(submission())
    profile = d / "profile"
    for fmt in ("ods", "xls"):
        subprocess.run([soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                        "--convert-to", fmt, "--outdir", str(d), str(d / "a.xlsx")], check=True,
                       capture_output=True, timeout=120)
    return {"ods": (d / "a.ods").read_bytes(), "xls": (d / "a.xls").read_bytes()}


def test_ods_and_et_files_are_converted_and_checked(tmp_path, tmp, office_files):
    d = tmp_path / "收到的"
    d.mkdir()
    (d / "教育厅.xlsx").write_bytes(submission())
    (d / "财政厅.ods").write_bytes(office_files["ods"])
    (d / "公安厅.et").write_bytes(office_files["xls"])
    before = digest(d)
    tree = Tree(["check", str(d), "--profile", P, "--json", "--quiet", "--jobs", "2"], tmp, cap=False)
    code, out, err, seconds = tree.wait(timeout=120)
    doc = json.loads(out)
    files = {Path(f["file"]).name: f for f in doc["files"]}
    assert set(files) == {"教育厅.xlsx", "财政厅.ods", "公安厅.et"}
    for name, rule in (("财政厅.ods", "ods.converted"), ("公安厅.et", "et.converted")):
        assert files[name]["error"] is None and files[name]["unit"] == files["教育厅.xlsx"]["unit"], files[name]
        assert files[name]["total"] == files["教育厅.xlsx"]["total"]
        assert any(f["rule"] == rule and f["file"].endswith(name) and "LibreOffice" in f["message"]
                   for f in doc["findings"])
    assert seconds < 90 and tree.peak < 2 * TREE_MEMORY
    assert_all_gone(tree)
    assert list(tmp.iterdir()) == [] and digest(d) == before


def test_a_conversion_past_its_timeout_is_killed_with_its_whole_group(tmp_path, monkeypatch, office_files):
    import tempfile

    from jixiao.errors import JixiaoError
    from jixiao.libreoffice import convert

    private = tmp_path / "lo-tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    src = tmp_path / "a.ods"
    src.write_bytes(office_files["ods"])
    t0 = time.monotonic()
    with pytest.raises(JixiaoError) as e:
        convert(src, "xlsx", tmp_path / "out", timeout=0.5)
    assert e.value.code == "render.timeout" and "超时" in e.value.message
    assert time.monotonic() - t0 < 10
    time.sleep(0.5)
    assert office_processes(str(private)) == []  # soffice.bin too, not only its launcher
    assert list(private.iterdir()) == []
    assert src.read_bytes() == office_files["ods"]


# ---------------------------------------------------------------------------
# Signals: the workers and LibreOffice go with the batch, and so do the temporary copies


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_workers_and_conversions_exit_with_the_batch(tmp_path, tmp, office_files, signum):
    d = tmp_path / "收到的"
    d.mkdir()
    for i in range(3):
        (d / f"单位{i}.xls").write_bytes(office_files["xls"])
    before = digest(d)
    tree = Tree(["check", str(d), "--profile", P, "--quiet", "--jobs", "2"], tmp, cap=False)
    end = time.monotonic() + 60
    while not office_processes(str(tmp)) and time.monotonic() < end and tree.proc.poll() is None:
        time.sleep(0.05)
    assert office_processes(str(tmp)), "LibreOffice never started"
    assert any(p.name().startswith("python") for p in tree.descendants())  # a worker is running
    os.kill(tree.proc.pid, signum)
    code, out, err, seconds = tree.wait(timeout=30)
    assert code == (-signal.SIGKILL if signum == signal.SIGKILL else 128 + signum), (code, err)
    assert "Traceback" not in err, err
    assert_all_gone(tree, within=15)
    assert office_processes(str(tmp)) == []
    if signum == signal.SIGKILL:  # nobody could clean up: the next batch sweeps the folder
        assert [p.name for p in tmp.iterdir()] != []
        (tmp_path / "x.xlsx").write_bytes(submission())
        Tree(["check", str(tmp_path / "x.xlsx"), "--profile", P, "--quiet"], tmp).wait()
    assert list(tmp.iterdir()) == []
    assert digest(d) == before


def test_recalc_of_a_styles_bomb_is_bounded(tmp_path, tmp):
    """1.2 MB of zipped styles (600,000 cell formats): recalc peaked at 1.3 GB; now it stops at its bound."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = 1
    wb.active["A2"] = "=A1+1"
    buf = io.BytesIO()
    wb.save(buf)
    rng = random.Random(1)
    xfs = "".join(f'<xf numFmtId="{rng.randrange(200)}" fontId="0" fillId="0" borderId="0" xfId="0" '
                  'applyNumberFormat="1"/>' for _ in range(600_000))
    styles = ('<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/'
              'spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
              '<fills count="1"><fill><patternFill/></fill></fills><borders count="1"><border/></borders>'
              f'<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="600000">{xfs}</cellXfs></styleSheet>')
    bomb = tmp_path / "styles.xlsx"
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for info in src.infolist():
            z.writestr(info.filename, styles if info.filename == "xl/styles.xml" else src.read(info))
    data = bomb.read_bytes()
    tree = Tree(["recalc", str(bomb)], tmp)
    code, out, err, seconds = tree.wait()
    assert code == 2 and "[formulas.memory]" in err and "内存" in err, err
    assert tree.peak < 1.2 * 2 ** 30 and seconds < 30, (tree.peak, seconds)
    assert_all_gone(tree)
    assert list(tmp.iterdir()) == [] and bomb.read_bytes() == data


def test_stale_batch_folders_are_swept_only_when_their_batch_is_gone(tmp):
    from jixiao.checking import scratch

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp / f"{scratch.PREFIX}{dead.pid}-x"
    (stale / "w1").mkdir(parents=True)
    (stale / "w1" / "副本.xlsx").write_bytes(b"PK")
    live = tmp / f"{scratch.PREFIX}{os.getpid()}-y"
    live.mkdir()
    other = tmp / "别人的文件夹"
    other.mkdir()
    scratch.sweep(tmp)
    assert not stale.exists() and live.exists() and other.exists()
    shutil.rmtree(live)
