"""Text a submission chooses never crashes, steers or runs in any output; output paths are judged by identity.

Every hostile text here is built by the test (no binary files): a unit name, an indicator's context, a
sheet name and a file name carrying every character a spreadsheet may read as the start of a formula,
control characters (vertical tab, ESC sequences, Excel's ``_x000B_`` read back as a control character),
and a lone surrogate. LibreOffice, which nobody here wrote, opens the CSV and xlsx reports to judge
that no cell became a formula.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from jixiao.checking import report
from jixiao.checking.result import CheckResult, FileResult
from jixiao.errors import Finding

LEADS = ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"]
PAYLOADS = [lead + "HYPERLINK(\"http://example.invalid\",\"点此\")" for lead in LEADS] + ["=cmd|' /C calc'!A0"]
CONTROLS = "单位\x0b名称\x1b]0;标题\x07\x1b[2J清屏\ud800尾"


def _hostile_results() -> list[FileResult]:
    out = []
    for i, text in enumerate(PAYLOADS):
        r = FileResult(f"{text}{i}.xlsx", unit=text if i % 2 else CONTROLS, year=2024, kind="dept")
        r.findings.append(Finding("indicator.score_mismatch", "error", text + CONTROLS, expected=text, found=CONTROLS,
                                  context=text, sheet=CONTROLS if i == 0 else text, cell="H20"))
        r.total = float("inf") if i == 1 else 90.0
        out.append(r)
    return out


def _write_all(tmp_path: Path) -> dict[str, Path]:
    results = _hostile_results()
    return {"xlsx": report.write_xlsx(results, tmp_path / "报告.xlsx"),
            "html": report.write_html(results, tmp_path / "报告.html"),
            "csv": report.write_csv(CheckResult(results), tmp_path / "问题清单.csv")}


def test_every_writer_survives_control_characters_and_surrogates(tmp_path):
    written = _write_all(tmp_path)
    doc = json.dumps(report.to_json(_hostile_results()), ensure_ascii=False, allow_nan=False)
    doc.encode("utf-8")  # a lone surrogate would raise here
    assert "Infinity" not in doc and "NaN" not in doc
    html = written["html"].read_text("utf-8")
    assert "\x1b" not in html and "\x0b" not in html and "␛" in html
    wb = load_workbook(written["xlsx"])
    texts = [c.value for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("␛" in t for t in texts) and not any("\x1b" in t or "\x0b" in t for t in texts)


def test_csv_cells_are_inert_whatever_the_leading_character(tmp_path):
    path = _write_all(tmp_path)["csv"]
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    assert head[:3] == ["文件", "填报单位", "年度"] and "级别" in head and "说明" in head
    cells = [c for row in rows[1:] for c in row]
    assert "错误" in cells and "error" not in cells
    for c in cells:
        assert not c.startswith(tuple(LEADS)), c


def test_text_control_pictures_and_cut():
    from jixiao.checking.outtext import MAX_TEXT, shown

    assert shown("a\x1b[2Jb") == "a␛[2Jb"
    long = shown("字" * (MAX_TEXT * 2000))  # a 4 MB cell
    assert len(long) < MAX_TEXT + 40 and "已截断" in long


def test_big_batches_report_in_bounded_time(tmp_path):
    results = []
    for i in range(10):  # ten workbooks with 49,000 findings each
        r = FileResult(f"w{i}.xlsx")
        r.findings = [Finding("indicator.score_mismatch", "warning", "说" * 40, cell=f"H{n}") for n in range(49_000)]
        results.append(r)
    t = time.perf_counter()
    path = report.write_xlsx(results, tmp_path / "大报告.xlsx")
    seconds = time.perf_counter() - t
    assert seconds < 60
    ws = load_workbook(path, read_only=True)["问题清单"]
    texts = [row[5] for row in ws.iter_rows(min_row=2, values_only=True) if row[5] and "未列出" in str(row[5])]
    assert len(texts) == 10 and "47000" in texts[0].replace(",", "")


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed")
def test_libreoffice_opens_no_formula_in_the_reports(tmp_path):
    written = _write_all(tmp_path)
    out = tmp_path / "lo"
    out.mkdir()
    src = tmp_path / "csv-as-text.csv"
    shutil.copy(written["csv"], src)
    xlsx_copy = tmp_path / "report-copy.xlsx"
    shutil.copy(written["xlsx"], xlsx_copy)
    from jixiao.libreoffice import convert

    convert(src, "xlsx", out, infilter="CSV:44,34,76")  # LibreOffice reads each (CSV as UTF-8) and writes
    convert(xlsx_copy, "xlsx", out)                      # what it understood
    for name in ("csv-as-text.xlsx", "report-copy.xlsx"):
        wb = load_workbook(out / name)
        formulas = [c.coordinate for ws in wb for row in ws.iter_rows() for c in row
                    if isinstance(c.value, str) and c.value.startswith("=") and c.data_type == "f"]
        assert formulas == [], (name, formulas[:5])


def _jixiao(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jixiao", *args], capture_output=True, cwd=cwd, timeout=300)


def _hostile_workbook(folder: Path) -> Path:
    from importlib import resources

    from jixiao.samples import submissions

    seed = json.loads((resources.files("jixiao.samples") / "hunan-2024-dept.json").read_text("utf-8"))
    # openpyxl refuses control characters; Excel's own escape for them (_x001B_) is what a file holds
    seed["unit"] = "=HYPERLINK(\"http://example.invalid\")_x001B_[2J_x001B_]0;窗口标题_x0007_单位"
    path = folder / "\x1b[31m=cmd.xlsx"
    path.write_bytes(submissions.bureau_bytes(seed, {"exec_score": 9, "sum": 90}))
    return path


def test_check_end_to_end_keeps_the_terminal_and_every_output_safe(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    book = _hostile_workbook(inputs)
    before = book.read_bytes()
    p = _jixiao("check", str(inputs), "--report", str(tmp_path / "r.xlsx"), "--csv", str(tmp_path / "r.csv"),
                "--html", str(tmp_path / "r.html"))
    assert p.returncode in (0, 1), p.stderr.decode()
    assert b"\x1b" not in p.stdout and b"\x1b" not in p.stderr
    assert "␛".encode() in p.stdout
    j = _jixiao("check", str(inputs), "--json")
    doc = json.loads(j.stdout)
    assert doc["files"][0]["unit"].startswith("=HYPERLINK")  # JSON keeps the text; it escapes the controls
    with open(tmp_path / "r.csv", encoding="utf-8-sig", newline="") as f:
        cells = [c for row in csv.reader(f) for c in row]
    assert not any(c.startswith(tuple(LEADS)) for c in cells)
    assert book.read_bytes() == before


def test_outputs_judged_by_identity_special_files_and_writability(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    book = _hostile_workbook(inputs)
    before = book.read_bytes()
    alias = tmp_path / "alias"
    alias.symlink_to(inputs)
    hard = tmp_path / "hard.xlsx"
    os.link(book, hard)
    for out in (alias / book.name, hard):  # an input reached another way
        p = _jixiao("check", str(inputs), "--report", str(out))
        assert p.returncode == 2 and "[output.is_input]" in p.stderr.decode(), p.stderr.decode()
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    tty = tmp_path / "stdout.csv"
    tty.symlink_to("/dev/null")
    for out in (fifo, tty):
        t = time.perf_counter()
        p = _jixiao("check", str(inputs), "--csv", str(out))
        assert p.returncode == 2 and "[output.special]" in p.stderr.decode(), p.stderr.decode()
        assert time.perf_counter() - t < 60
    assert tty.is_symlink() and fifo.exists()
    # /proc/self/fd/1 is a regular file when the shell redirects stdout to one: still a name of the system's
    redirected = tmp_path / "stdout.txt"
    to_stdout = tmp_path / "to-stdout.csv"
    to_stdout.symlink_to("/proc/self/fd/1")
    for out in ("/proc/self/fd/1", str(to_stdout)):
        with open(redirected, "wb") as fd1:
            p = subprocess.run([sys.executable, "-m", "jixiao", "check", str(inputs), "--csv", out],
                               stdout=fd1, stderr=subprocess.PIPE, timeout=120)
        assert p.returncode == 2 and "[output.special]" in p.stderr.decode(), p.stderr.decode()
        assert redirected.stat().st_size == 0 and not redirected.is_symlink()
    assert to_stdout.is_symlink()
    gone = tmp_path / "not-a-folder"
    gone.write_text("x")
    p = _jixiao("check", str(inputs), "--html", str(gone / "r.html"))
    assert p.returncode == 2 and "[output.invalid]" in p.stderr.decode()
    assert book.read_bytes() == before


def test_unwritable_output_is_refused_before_any_check(tmp_path):
    from jixiao.checking.batch import output_unwritable

    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:  # root writes anywhere a mode allows; a read-only bind mount is not to be had here
        full = Path("/proc/self")
        assert output_unwritable(full / "r.xlsx")
    else:
        ro.chmod(0o500)
        assert output_unwritable(ro / "r.xlsx")
    assert output_unwritable(tmp_path / "new" / "deeper" / "r.xlsx") is None
    inputs = tmp_path / "in"
    inputs.mkdir()
    _hostile_workbook(inputs)
    # as root the one unwritable folder here is under /proc, refused even before its writability is tried
    out, code = ("/proc/self/r.xlsx", "[output.special]") if os.geteuid() == 0 else (str(ro / "r.xlsx"),
                                                                                      "[output.unwritable]")
    p = _jixiao("check", str(inputs), "--report", out)
    assert p.returncode == 2 and code in p.stderr.decode(), p.stderr.decode()
    assert "读取出错" not in p.stderr.decode()
