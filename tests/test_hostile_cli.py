"""Outputs never over inputs, unreadable inputs as findings, and the rough edges a newcomer hit."""
from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import random
import re
import stat
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest

from jixiao.checking import batch, checker, report
from jixiao.cli import main
from jixiao.samples import submissions

HOSTILE = Path(__file__).parent / "hostile"
P = "hunan-dept-2024"
SAMPLE = str(resources.files("jixiao.samples") / "hunan-2024-dept.json")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def submitted(tmp_path):
    d = tmp_path / "收到的"
    d.mkdir()
    data, _ = submissions.make_submission(random.Random(7), "template", None)
    (d / "教育厅.xlsx").write_bytes(data)
    with zipfile.ZipFile(d / "补报.zip", "w") as z:
        z.writestr("财政厅.xlsx", data)
    return d


# ---------------------------------------------------------------------------
# Outputs


@pytest.mark.parametrize("flag", ["--report", "--html"])
def test_output_over_an_input_is_refused(submitted, tmp_path, capsys, flag):
    book, archive = submitted / "教育厅.xlsx", submitted / "补报.zip"
    link = tmp_path / "link.xlsx"
    os.symlink(book, link)
    before = {p: sha(p) for p in (book, archive)}
    for args, out in (([str(book)], book),  # the file itself
                      ([str(submitted)], book),  # a workbook found in the checked folder
                      ([str(submitted)], link),  # a link that resolves to one
                      ([str(archive)], archive),  # the input archive
                      ([str(archive)], archive / "报告.xlsx")):  # inside it
        assert main(["check", *args, "--profile", P, flag, str(out), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert "[output.is_input]" in err and "拒绝" in err, err
    assert {p: sha(p) for p in before} == before


def test_report_next_to_inputs_is_written_and_skipped_when_rechecked(submitted, capsys):
    rep, page = submitted / "检查报告.xlsx", submitted / "检查报告.html"
    assert main(["check", str(submitted), "--profile", P, "--report", str(rep), "--html", str(page), "--quiet",
                 "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert rep.exists() and batch.is_own_report(rep)
    assert stat.S_IMODE(rep.stat().st_mode) == 0o666 & ~_umask()
    assert main(["check", str(submitted), "--profile", P, "--quiet", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    checked = [f for f in again["files"] if f["file"] not in (str(rep), str(page))]
    assert [f["file"] for f in checked] == [f["file"] for f in first["files"]]
    assert len(checked) == 2
    # both reports are listed as not checked, with why (a submitter could copy a marker: nothing may vanish)
    for own in (rep, page):
        [listed] = [f for f in again["findings"] if f["file"] == str(own)]
        assert listed["rule"] == "input.own_report" and listed["severity"] == "info" and "检查报告" in listed["message"]
    s = again["summary"]
    assert (s["files"], s["workbooks"], s["reports"], s["not_checked"]) == (4, 2, 0, 2)
    # the terminal counts the workbooks, and says what else the folder held
    assert main(["check", str(submitted), "--profile", P, "--quiet"]) == 0
    out = capsys.readouterr().out.replace("\n", "")
    assert "共 2 个工作簿（另有未检查的文件 2 个，原因见清单）" in out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_reports_are_0644_under_the_usual_umask(tmp_path):
    old = os.umask(0o022)
    try:
        x = report.write_xlsx([], tmp_path / "r.xlsx")
        h = report.write_html([], tmp_path / "r.html")
    finally:
        os.umask(old)
    assert stat.S_IMODE(x.stat().st_mode) == 0o644 and stat.S_IMODE(h.stat().st_mode) == 0o644


def test_a_submission_posing_as_a_report_is_still_checked(tmp_path):
    """Only the marker together with exactly the report's sheets makes a file a report."""
    from openpyxl import load_workbook

    data, _ = submissions.make_submission(random.Random(8), "template", None)
    wb = load_workbook(io.BytesIO(data))
    wb.properties.keywords = report.REPORT_MARKER
    wb.save(tmp_path / "a.xlsx")
    assert not batch.is_own_report(tmp_path / "a.xlsx")
    assert [s.label for s in batch.collect([tmp_path])] == [str(tmp_path / "a.xlsx")]


def test_demo_twice_still_shows_four_workbooks(tmp_path):
    for _ in range(2):
        r = subprocess.run([sys.executable, "-m", "jixiao", "demo", "--out", str(tmp_path / "demo")],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert "共 4 个工作簿" in r.stdout.replace("\n", "")


# ---------------------------------------------------------------------------
# Unreadable inputs (simulated: the tests may run as root, who can read anything)


def test_unreadable_folder_is_a_finding(submitted, monkeypatch):
    locked = submitted / "锁定"
    locked.mkdir()
    (locked / "x.xlsx").write_bytes(b"PK")
    real = os.scandir

    def scandir(path="."):
        if Path(path) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    sources = batch.collect([submitted])
    problems = [s for s in sources if s.problem is not None]
    assert [s.label for s in problems] == [str(locked)]
    f = problems[0].problem.findings[0]
    assert f.rule == "input.unreadable" and "没有读取权限" in f.message
    assert len(sources) == 3  # the folder's finding, the workbook, the archive member


def test_unreadable_file_is_a_finding_not_a_traceback(submitted, monkeypatch):
    book = submitted / "教育厅.xlsx"
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: Path(p) != book)
    sources = {s.label: s for s in batch.collect([submitted])}
    f = sources[str(book)].problem.findings[0]
    assert f.rule == "input.unreadable" and "权限" in f.message
    monkeypatch.undo()

    import builtins

    from jixiao.checking import xlsx

    def denied(path, *a, **kw):
        if Path(path) == book:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return builtins.open(path, *a, **kw)

    monkeypatch.setattr(xlsx, "open", denied, raising=False)
    res = checker.check_file(str(book), P)
    assert res.error == "input.unreadable" and "没有读取权限" in res.findings[0].message
    assert "Permission" not in res.findings[0].message


# ---------------------------------------------------------------------------
# Frictions


def test_score_without_profile_uses_the_profile_the_form_names(capsys):
    assert json.loads(Path(SAMPLE).read_text("utf-8"))["profile"] == P
    assert main(["score", SAMPLE, "--json"]) == 0
    form = json.loads(capsys.readouterr().out)["forms"][0]
    assert form["profile"] == P and form["profile_source"] == "表单指定" and form["total"] == 99
    assert main(["score", SAMPLE]) == 0
    assert "规则配置：hunan-dept-2024（表单指定）" in capsys.readouterr().out


def test_score_reports_a_bad_file_and_scores_the_others(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"unit": "某单位"}', encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    code = main(["score", str(bad), SAMPLE, str(broken), str(tmp_path / "missing.json"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    forms = {Path(f["file"]).name: f for f in out["forms"]}
    assert forms["hunan-2024-dept.json"]["total"] == 99
    assert forms["bad.json"]["error"] == "form.unreadable" and "funds" in forms["bad.json"]["message"]
    assert forms["broken.json"]["error"] == "form.unreadable" and "JSON" in forms["broken.json"]["message"]
    assert "文件不存在" in forms["missing.json"]["message"]
    assert main(["score", str(bad)]) == 1  # an unreadable form is an error for that form, as in check (README)
    err = capsys.readouterr().err
    assert "KeyError" not in err and "form.unreadable" in err


def test_more_than_30_files_prints_how_to_see_them_all(capsys):
    from jixiao.checking.checker import FileResult
    from jixiao.checking.result import CheckResult
    from jixiao.cli import _print_check

    _print_check(CheckResult([FileResult(f"f{i}.xlsx") for i in range(31)]), [])
    out = capsys.readouterr().out.replace("\n", "")
    assert "--report" in out and "--json" in out and "共 31 个工作簿" in out


def test_codes_are_not_eaten_by_markup(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["check", str(tmp_path / "empty")]) == 2
    assert "[input.empty]" in capsys.readouterr().err


def test_readme_exit_codes_are_the_codes(tmp_path, capsys):
    readme = (Path(__file__).parents[1] / "README.md").read_text("utf-8")
    line = next(x for x in readme.splitlines() if x.startswith("退出码："))
    assert "0" in line and "1" in line and "2" in line and "文件不存在" in line
    assert main(["check", str(tmp_path / "nothing")]) == 1  # a missing path is a finding, as the README says
    assert main(["exec", "100", "50", "--profile", "no-such"]) == 2
    capsys.readouterr()


def test_no_broken_pipe_when_piped_to_head():
    p = subprocess.Popen([sys.executable, "-m", "jixiao", "recalc", str(HOSTILE / "whole-columns.xlsx")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ | {"COLUMNS": "200"})
    p.stdout.readline()
    p.stdout.close()  # as `| head -1` does
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert "BrokenPipeError" not in err and "Traceback" not in err, err


def test_argparse_and_os_errors_are_chinese(capsys, tmp_path):
    with pytest.raises(SystemExit) as e:
        main(["exec", "abc", "5"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "用法" in err and "应为数字" in err and "invalid" not in err and "usage:" not in err
    with pytest.raises(SystemExit):
        main(["check"])
    err = capsys.readouterr().err
    assert "缺少参数" in err and "required" not in err
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "显示本帮助并退出" in out and "show this help" not in out
    (tmp_path / "a-file").write_text("x")
    assert main(["check", str(HOSTILE / "junk.xlsx"), "--report", str(tmp_path / "a-file" / "r.xlsx"),
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Errno" not in err and "Traceback" not in err and "不是文件夹" in err and "[output.invalid]" in err


def test_no_internal_words_or_python_lists_in_user_text(capsys, tmp_path):
    assert main(["demo", "--json"]) == 0
    out = capsys.readouterr().out
    assert "种子" not in out
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    assert "种子" not in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["frobnicate"])
    err = capsys.readouterr().err
    assert "['" not in err and "'demo'" not in err and "demo、score" in err


def test_jobs_are_capped_by_files_and_cpus(submitted, monkeypatch, capsys):
    from jixiao.checking import workers

    seen = {}
    real = workers.WorkerPool.__init__

    def spy(self, jobs, *args):
        seen["jobs"] = jobs
        real(self, jobs, *args)

    monkeypatch.setattr(workers.WorkerPool, "__init__", spy)
    assert main(["check", str(submitted), "--profile", P, "--jobs", "1000", "--quiet"]) == 0
    capsys.readouterr()
    assert seen["jobs"] <= min(2, os.cpu_count() or 1)


def test_recalc_lists_cells_in_natural_order(tmp_path, capsys):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "S"
    for r in (1, 2, 10, 11):
        ws[f"A{r}"] = f"=B{r}+1"
        ws[f"B{r}"] = r
    wb.save(tmp_path / "n.xlsx")
    assert main(["recalc", str(tmp_path / "n.xlsx")]) == 0
    out = capsys.readouterr().out
    order = re.findall(r"\bA(\d+)\b", out)
    assert order == ["1", "2", "10", "11"]


def test_recalc_has_a_time_bound(monkeypatch, capsys):
    import time as _time

    from jixiao.checking import recalc
    from jixiao.excel import bridge

    def slow(path, **kw):
        try:
            _time.sleep(5)
        except Exception:  # noqa: BLE001 - code that swallows every Exception cannot swallow the deadline
            pass
        _time.sleep(5)

    monkeypatch.setattr(bridge, "calculate", slow)
    monkeypatch.setattr(recalc, "RECALC_SECONDS", 0.3)
    t0 = _time.monotonic()
    assert main(["recalc", str(HOSTILE / "whole-columns.xlsx")]) == 2
    assert _time.monotonic() - t0 < 3
    err = capsys.readouterr().err
    assert "[formulas.timeout]" in err and "秒" in err


def test_reports_written_before_the_marker_are_recognised_too(tmp_path):
    new = report.write_xlsx([], tmp_path / "new.xlsx")
    old = tmp_path / "old.xlsx"
    with zipfile.ZipFile(new) as src, zipfile.ZipFile(old, "w", zipfile.ZIP_DEFLATED) as z:
        for n in src.namelist():
            data = src.read(n)
            if n == "docProps/core.xml":
                data = re.sub(rb"<cp:keywords>[^<]*</cp:keywords>", b"", data)
                assert report.REPORT_MARKER.encode() not in data
            z.writestr(n, data)
    assert batch.is_own_report(old) and batch.is_own_report(new)
    results = batch.run(batch.collect([tmp_path]))
    assert [(r.findings[0].rule, r.error) for r in results] == [("input.own_report", None)] * 2


def test_recalc_turns_an_engine_failure_into_a_chinese_message(monkeypatch, capsys):
    from jixiao.excel import bridge

    def broken(path, **kw):
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr(bridge, "calculate", broken)
    assert main(["recalc", str(HOSTILE / "whole-columns.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "[formulas.failed]" in err and "broadcast" not in err and "Traceback" not in err
