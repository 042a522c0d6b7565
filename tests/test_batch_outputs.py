"""`jixiao check` keeps a batch's results on disk and writes its JSON and HTML in one pass over them: what a
reviewer reads must be exactly what the whole-document writers give for the same results, on real forms
(the corpus) with unreadable and skipped files among them."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jixiao.checking import check, kept, report
from jixiao.checking.outtext import json_safe
from jixiao.checking.tally import Tally

CORPUS = Path(__file__).parent / "corpus" / "forms"


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("batch")
    for i, f in enumerate(sorted(CORPUS.rglob("*.xlsx"))):
        (d / f"{i:02d}-{f.name}").write_bytes(f.read_bytes())
    (d / "损坏.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    (d / "说明.txt").write_text("不是工作簿", encoding="utf-8")
    (d / "空.xlsx").write_bytes(b"")
    return d


@pytest.fixture(scope="module")
def result(batch_dir):
    return check([batch_dir], "hunan-dept-2024")


def _without_seconds(doc: dict) -> dict:
    for f in doc["files"]:
        f.pop("seconds")
    return doc


def test_the_batch_has_every_kind_of_result(result):
    s = result.tally.summary()
    assert s["workbooks"] >= 25 and s["unreadable"] >= 2 and s["not_checked"] >= 1
    assert s["findings"]["error"] > 0 and s["findings"]["warning"] > 0


def test_results_kept_on_disk_come_back_whole_and_in_input_order(result):
    with kept.OnDisk(len(result.files)) as disk:
        for i in reversed(range(len(result.files))):  # put out of order, as workers finish
            disk.put(i, result.files[i])
        assert list(disk) == list(result.files)
        assert list(disk) == list(result.files)  # read again: the reports and the JSON each read once
        assert len(disk) == len(result.files)


def test_streamed_json_is_the_document_built_whole_a_line_per_file_and_finding(result):
    out = io.StringIO()
    report.write_json(result.files, out)
    assert json.loads(out.getvalue()) == json.loads(json.dumps(json_safe(result.to_json()), default=str))
    lines = out.getvalue().splitlines()
    doc = json.loads(out.getvalue())
    assert len([x for x in lines if x.startswith('    {"file": ')]) == len(doc["files"]) + len(doc["findings"])
    counted = io.StringIO()
    report.write_json(result.files, counted, Tally(result.files))
    assert counted.getvalue() == out.getvalue()


def test_streamed_json_of_an_empty_batch_and_of_a_batch_without_findings():
    from jixiao.checking.result import CheckResult, FileResult

    for files in ([], [FileResult("a.xlsx", total=96.0, grade="优")]):
        out = io.StringIO()
        report.write_json(files, out)
        assert json.loads(out.getvalue()) == json.loads(json.dumps(CheckResult(files).to_json()))


def test_html_from_the_gathered_counts_is_the_page_counted_again(result):
    stamp = re.compile(r"生成于 [0-9: -]+")
    again = report.render_html(result.files)
    gathered = report.render_html(result.files, tally=Tally(result.files))
    assert stamp.sub("", again) == stamp.sub("", gathered)
    assert "损坏.xlsx" in gathered and gathered.count("<tr>") > len(result.files)


def test_the_cli_writes_what_the_library_finds(batch_dir, result, tmp_path):
    html, xlsx = tmp_path / "检查报告.html", tmp_path / "检查报告.xlsx"
    proc = subprocess.run([sys.executable, "-m", "jixiao", "check", str(batch_dir), "--profile", "hunan-dept-2024",
                           "--jobs", "2", "--json", "--html", str(html), "--report", str(xlsx), "--quiet"],
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr  # the corpus holds errors
    assert _without_seconds(json.loads(proc.stdout)) == _without_seconds(json_safe(result.to_json()))
    stamp = re.compile(r"生成于 [0-9: -]+")
    assert stamp.sub("", html.read_text(encoding="utf-8")) == stamp.sub("", report.render_html(result.files))
    # the xlsx report holds the same files and findings, in the batch's order whatever order the workers finished in
    from openpyxl import load_workbook

    book = load_workbook(xlsx, read_only=True)
    listed = [row[0] for row in book["汇总"].iter_rows(min_row=2, values_only=True)]
    assert listed == [f.file for f in result.files]
    found = [(row[0], row[4], row[2]) for row in book["问题清单"].iter_rows(min_row=2, values_only=True)]
    assert found == [(f.file, x.rule, x.cell) for f in result.files for x in f.findings]


def test_the_counts_do_not_depend_on_the_order_results_arrive_in(result):
    files = list(result.files)
    forward, backward = Tally(files), Tally(reversed(files))
    assert json.dumps(forward.summary(), ensure_ascii=False) == json.dumps(backward.summary(), ensure_ascii=False)
    assert forward.examples == backward.examples
