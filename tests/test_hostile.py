"""The hostile corpus (tests/hostile/, written by make_corpus.py): every file, in ``check`` and in ``recalc``,
finishes within its time and memory bound with its exit code and a Chinese message with a code, and is
byte-identical afterwards."""
from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

HOSTILE = Path(__file__).parent / "hostile"
P = "hunan-dept-2024"
SECONDS = 60
MEMORY = 1 << 30  # peak resident memory of the child
ADDRESS_SPACE = 3 << 29  # 1.5 GiB: the child cannot take the machine down even if a bound is lost


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    os.setsid()


_MEASURE = """
import resource, subprocess, sys
limit, report, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
def cap():
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
code = subprocess.call(cmd, preexec_fn=cap)
with open(report, "w") as fh:
    fh.write(f"{code} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}")
"""


def run_bounded(*args: str, cwd: Path | None = None) -> tuple[int, str, str, float, int]:
    """``python -m jixiao ARGS`` in a child: (exit code, stdout, stderr, seconds, peak RSS in bytes).

    A small Python process starts the command and reports its children's peak memory: measured from this
    test process directly, the copy of pytest a fork makes would count in the child's peak RSS.
    """
    import tempfile

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".txt") as report:
        t0 = time.monotonic()
        p = subprocess.Popen([sys.executable, "-c", _MEASURE, str(ADDRESS_SPACE), report.name, sys.executable, "-m",
                              "jixiao", *args], stdout=out, stderr=err, cwd=cwd, start_new_session=True)
        killer = threading.Timer(SECONDS + 30, lambda: os.killpg(p.pid, 9))
        killer.start()
        try:
            p.wait()
        finally:
            killer.cancel()
        seconds = time.monotonic() - t0
        code, rss = (int(x) for x in report.read().split())
        out.seek(0)
        err.seek(0)
        return code, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"), seconds, rss


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A copy of the committed corpus (so a bug could never damage the repository's files), checked against it."""
    d = tmp_path_factory.mktemp("hostile")
    for f in HOSTILE.iterdir():
        if f.suffix in (".xlsx", ".zip"):
            shutil.copyfile(f, d / f.name)
    return d


def test_corpus_is_what_the_script_writes(tmp_path):
    sys.path.insert(0, str(HOSTILE))
    try:
        import make_corpus
    finally:
        sys.path.pop(0)
    made = make_corpus.corpus()
    committed = {p.name for p in HOSTILE.iterdir() if p.suffix in (".xlsx", ".zip")}
    assert set(made) == committed
    for name, data in made.items():
        assert len(data) < 200_000, name  # small files: the damage is in what they ask for
        old = (HOSTILE / name).read_bytes()
        if data[:2] != b"PK" or name == "truncated.xlsx":
            assert len(old) == len(data), name
            continue
        # workbooks carry their creation time, so compare what matters: the members and the sheets
        import io

        with zipfile.ZipFile(io.BytesIO(old)) as a, zipfile.ZipFile(io.BytesIO(data)) as b:
            assert a.namelist() == b.namelist(), name
            if name in ("encrypted-member.xlsx", "corrupt-deflate.xlsx"):
                continue  # their parts cannot be read: that is the point
            for m in a.namelist():
                if m.startswith("xl/worksheets/") and a.getinfo(m).file_size < 10_000_000:
                    assert a.read(m) == b.read(m), (name, m)


# file → (check: exit code, codes that must be present, codes that must be absent), (recalc: exit, codes)
NO_CRASH = {"check.failed", "check.crashed", "check.timeout"}
CASES = {
    "huge-range.xlsx": ((0, 1), {"route.full"}, NO_CRASH, (0,), set()),
    "whole-columns.xlsx": ((0, 1), {"route.full"}, NO_CRASH, (0,), set()),
    "huge-range-template.xlsx": ((0,), set(), NO_CRASH, (0,), set()),
    # a template formula cell changed to the huge range: the full route, through the compiled calculation
    "huge-range-template-cell.xlsx": ((0, 1), {"route.full"}, NO_CRASH, (0,), set()),
    "whole-columns-template.xlsx": ((0,), set(), NO_CRASH, (0,), set()),
    # the other findings of the file are kept: the bureau layout's 实际完成值 written as a comparator
    "deep-parens.xlsx": ((0, 1), {"route.full", "indicator.actual_has_comparator"}, NO_CRASH, (2,),
                         {"formula.too_deep"}),
    "deep-ifs.xlsx": ((0, 1), {"route.full", "indicator.actual_has_comparator"}, NO_CRASH, (2,), {"formula.too_deep"}),
    "text-equals.xlsx": ((0, 1), {"route.full"}, NO_CRASH | {"formulas.unknown_function"}, (0,), set()),
    "zip-bomb.xlsx": ((1,), {"workbook.too_large"}, NO_CRASH, (2,), {"workbook.too_large"}),
    "million-rows.xlsx": ((1,), {"workbook.too_large"}, NO_CRASH, (2,), {"workbook.too_large"}),
    "encrypted.xlsx": ((1,), {"workbook.encrypted_or_xls"}, NO_CRASH, (2,), {"workbook.encrypted_or_xls"}),
    "junk.xlsx": ((1,), {"workbook.not_xlsx"}, NO_CRASH, (2,), {"workbook.not_xlsx"}),
    "truncated.xlsx": ((1,), {"workbook.corrupt"}, NO_CRASH, (2,), {"workbook.corrupt"}),
    "gbk-names.zip": ((0, 1), set(), NO_CRASH, None, None),
    # 8,000 formula cells: formulas would take minutes; the compiled calculation takes a second
    "many-formulas.xlsx": ((1,), {"form.unrecognized"}, NO_CRASH, (0,), set()),
    # a defined name over a whole sheet: formulas would expand it; jixiao's calculation does not read names
    "huge-name.xlsx": ((0, 1), {"route.full"}, NO_CRASH, (2,), {"formula.range_too_large"}),
    "encrypted-member.xlsx": ((1,), {"workbook.encrypted_or_xls"}, NO_CRASH, (2,), {"workbook.encrypted_or_xls"}),
    "corrupt-deflate.xlsx": ((1,), {"workbook.corrupt"}, NO_CRASH, (2,), {"workbook.corrupt"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_is_bounded(corpus, name):
    exits, present, absent, _, _ = CASES[name]
    before = digest(corpus)
    code, out, err, seconds, rss = run_bounded("check", str(corpus / name), "--profile", P, "--json")
    assert "Traceback" not in err, err
    doc = json.loads(out)
    codes = {f["rule"] for f in doc["findings"]}
    assert code in exits, (code, codes, err)
    assert present <= codes, codes
    assert not (absent & codes), codes
    assert all(has_chinese(f["message"]) for f in doc["findings"]), doc["findings"]
    assert seconds < SECONDS and rss < MEMORY, (seconds, rss)
    assert digest(corpus) == before


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c[3] is not None))
def test_recalc_is_bounded(corpus, name):
    _, _, _, exits, codes = CASES[name]
    before = digest(corpus)
    code, out, err, seconds, rss = run_bounded("recalc", str(corpus / name), "--json")
    assert "Traceback" not in err, err
    assert code in exits, (code, err[-500:])
    for c in codes:
        assert f"[{c}]" in err and has_chinese(err), err
    if code == 0:
        doc = json.loads(out)
        assert doc["cells"] and doc["problems"] == []
    assert seconds < SECONDS and rss < MEMORY, (seconds, rss)
    assert digest(corpus) == before


def test_huge_ranges_are_computed_by_their_bounds(corpus):
    """=SUM(Z1:XFD1048576)*0+5 and =SUM(D:H) get their values: the compiled calculation reads present cells only."""
    for name, expected in (("huge-range.xlsx", 5.0), ("whole-columns.xlsx", None)):
        code, out, err, seconds, rss = run_bounded("recalc", str(corpus / name), "--json")
        doc = json.loads(out)
        assert doc["engine"] == "compiled"
        j1 = next(c["value"] for c in doc["cells"] if c["cell"] == "J1")
        if expected is not None:
            assert j1 == expected
        else:  # the sum of every number in columns D to H of the bureau's sheet
            from openpyxl import load_workbook

            ws = load_workbook(corpus / name).active
            want = sum(c.value for row in ws["D1:H60"] for c in row
                       if isinstance(c.value, (int, float)) and not isinstance(c.value, bool))
            assert j1 == pytest.approx(want)


def test_text_starting_with_equals_is_not_a_formula(corpus):
    from jixiao.excel import bridge

    formulas = bridge.workbook_formulas(corpus / "text-equals.xlsx")
    assert ("附件2", "J1") in formulas
    assert ("附件2", "J2") not in formulas and ("附件2", "J3") not in formulas
    assert not any(f.startswith("=24期") for f in formulas.values())
    rc = bridge.calculate(corpus / "text-equals.xlsx")  # no formulas.unknown_function for text
    assert rc.get("附件2", "J2") == "=未注册函数(1)"


def test_gbk_member_names_are_decoded(corpus):
    from jixiao.checking import batch

    [src] = batch.collect([corpus / "gbk-names.zip"])
    assert src.label.endswith("gbk-names.zip!湖南省教育厅/部门整体支出绩效自评表.xlsx"), src.label
    [res] = batch.run([src], P)
    assert res.error is None and res.unit == "湖南省机关事务管理局"


def test_symlink_loop_and_dangling_link(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copyfile(HOSTILE / "huge-range-template.xlsx", d / "a.xlsx")
    os.symlink(d, d / "loop")
    os.symlink(d / "nowhere.xlsx", d / "dangling.xlsx")
    before = digest(d)
    code, out, err, seconds, rss = run_bounded("check", str(d), "--profile", P, "--json")
    doc = json.loads(out)
    files = {Path(f["file"]).name: f for f in doc["files"]}
    assert set(files) == {"a.xlsx", "dangling.xlsx"}, files
    assert files["dangling.xlsx"]["error"] == "input.not_found"
    assert seconds < SECONDS and rss < MEMORY
    assert digest(d) == before


def test_deep_nesting_keeps_every_other_finding_in_the_compiled_path():
    """The parser refuses deep nesting with a clean error instead of a RecursionError."""
    from jixiao.excel.syntax import FormulaError, parse

    sys.path.insert(0, str(HOSTILE))
    try:
        import make_corpus
    finally:
        sys.path.pop(0)
    for formula in (make_corpus.deep_parens(), make_corpus.deep_ifs(), "=" + "+".join(["1"] * 3000),
                    "=1" + "%" * 3000, "=" + "-" * 3000 + "1"):
        with pytest.raises(FormulaError) as e:
            parse(formula)
        assert e.value.code == "formula.too_deep" and has_chinese(e.value.message)
    parse("=" + "(" * 60 + "1" + ")" * 60)  # Excel's own 64 levels still read


@pytest.mark.parametrize("name,code", [("deep-parens.xlsx", "formula.too_deep"), ("deep-ifs.xlsx", "formula.too_deep")])
def test_full_route_names_deep_nesting(corpus, name, code):
    from jixiao.checking import checker

    res = checker.check_file(str(corpus / name), P)
    codes = {f.rule for f in res.findings}
    assert code in codes and "indicator.actual_has_comparator" in codes and "formulas.failed" not in codes


def test_range_cycles_and_bounds_in_the_compiled_calculation():
    from jixiao.excel.compiler import compile_sheets
    from jixiao.excel.syntax import FormulaError

    calc = compile_sheets({("S", "J1"): "=SUM(Z1:XFD1048576)*0+5", ("S", "J2"): "=SUM(D:H)", ("S", "D5"): "=2*3",
                           ("T", "A1"): "=COUNT(S!A:XFD)", ("T", "A2"): "=SUM(S!3:5)"})
    assert calc.cells.index(("S", "D5")) < calc.cells.index(("S", "J2"))  # D5 lies inside D:H
    v = calc.run({("S", "D1"): 1, ("S", "H100000"): 2.5, ("S", "Z5"): "text", ("S", "A4"): 7})
    assert v[("S", "J1")] == 5 and v[("S", "J2")] == 9.5 and v[("S", "D5")] == 6
    assert v[("T", "A1")] == 6  # D1, A4, H100000, J1, J2, D5
    assert v[("T", "A2")] == 13  # row 3 to 5: A4 and D5
    with pytest.raises(FormulaError) as e:
        compile_sheets({("S", "E7"): "=SUM(D:H)"})  # E7 lies inside its own range
    assert e.value.code == "formula.cycle" and e.value.cell == "E7"
    with pytest.raises(FormulaError) as e:
        compile_sheets({("S", "A1"): "=D:H+1"})
    assert e.value.code == "formula.range_too_large"


def test_recalc_reports_circular_cells_and_lists_cells_in_natural_order(tmp_path, capsys):
    from openpyxl import Workbook

    from jixiao.cli import main

    wb = Workbook()
    ws = wb.active
    ws.title = "S"
    for r in (1, 2, 10):
        ws[f"A{r}"] = f"=B{r}*2"
        ws[f"B{r}"] = r
    ws["C1"] = "=D1+1"
    ws["D1"] = "=C1+1"
    path = tmp_path / "loop.xlsx"
    wb.save(path)
    assert main(["recalc", str(path), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [p["code"] for p in doc["problems"]] == ["formula.cycle"]
    assert doc["problems"][0]["cell"] in ("C1", "D1") and has_chinese(doc["problems"][0]["message"])
    cells = [c["cell"] for c in doc["cells"] if c["cell"].startswith("A")]
    assert cells == ["A1", "A2", "A10"]
    assert main(["recalc", str(path)]) == 1
    assert "formula.cycle" in capsys.readouterr().out


def test_formula_counts_are_bounded(monkeypatch):
    """Past MAX_FORMULA_CELLS formulas is not used (minutes); past MAX_COMPILED_CELLS nothing is computed."""
    from jixiao.errors import JixiaoError
    from jixiao.excel import bridge

    rc = bridge.calculate(HOSTILE / "many-formulas.xlsx")
    assert rc.engine == "compiled" and "公式单元格" in rc.note and rc.get("S", "A8000") == 8001
    rc = bridge.calculate(HOSTILE / "text-equals.xlsx")
    assert rc.engine == "formulas" and rc.formulas == {("附件2", "J1")}
    monkeypatch.setattr(bridge, "MAX_ENGINE_CELLS", 50)  # a sheet of many constants: formulas would load them all
    rc = bridge.calculate(HOSTILE / "text-equals.xlsx")
    assert rc.engine == "compiled" and "非空单元格" in rc.note and rc.get("附件2", "J1") == 2
    monkeypatch.setattr(bridge, "MAX_COMPILED_CELLS", 1000)
    with pytest.raises(JixiaoError) as e:
        bridge.calculate(HOSTILE / "many-formulas.xlsx")
    assert e.value.code == "formula.too_many" and has_chinese(e.value.message)


def test_zip_directory_bombs_are_refused_before_zipfile_reads_them(tmp_path):
    """300,000 empty members cost zipfile 2 GB of objects (and a finding each): refused from the end record."""
    bomb = tmp_path / "目录炸弹.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_STORED) as z:
        for i in range(60_000):
            z.writestr(f"{i}.xlsx", b"")
    shutil.copyfile(bomb, tmp_path / "目录炸弹.xlsx")
    before = digest(tmp_path)
    for name, code in (("目录炸弹.zip", "archive.too_large"), ("目录炸弹.xlsx", "workbook.too_large")):
        exit_code, out, err, seconds, rss = run_bounded("check", str(tmp_path / name), "--json")
        doc = json.loads(out)
        assert exit_code == 1 and [f["rule"] for f in doc["findings"]] == [code], doc["findings"]
        assert "60000" in doc["findings"][0]["message"]
        assert seconds < SECONDS and rss < 300 << 20, (seconds, rss)
    assert digest(tmp_path) == before


def test_cells_and_shared_strings_are_counted_while_reading(tmp_path):
    """A 35 MB sheet of 1.3 million tiny cells (under the part limit): refused while reading, not after all are held."""
    sys.path.insert(0, str(HOSTILE))
    try:
        import make_corpus
    finally:
        sys.path.pop(0)
    cols = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    rows = "".join(f'<row r="{r}">' + "".join(f'<c r="{c}{r}"><v>1</v></c>' for c in cols) + "</row>"
                   for r in range(1, 50_000))
    strings = "".join(f"<si><t>{i}</t></si>" for i in range(500_000))
    path = tmp_path / "cells.xlsx"
    with zipfile.ZipFile(make_corpus.io.BytesIO(make_corpus.many_formulas(1))) as src, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n in src.namelist():
            data = src.read(n)
            if n.endswith("sheet1.xml"):
                data = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                        f"{rows}</sheetData></worksheet>").encode()
            z.writestr(n, data)
    exit_code, out, err, seconds, rss = run_bounded("check", str(path), "--json")
    doc = json.loads(out)
    assert [f["rule"] for f in doc["findings"]] == ["workbook.too_large"]
    assert seconds < SECONDS and rss < 400 << 20, (seconds, rss)

    from jixiao.checking.xlsx import WorkbookError, read_book

    book = tmp_path / "strings.xlsx"
    rels = ('<Relationships><Relationship Id="rId1" Type="http://x/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://x/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for n in src.namelist():
            z.writestr(n, rels if n == "xl/_rels/workbook.xml.rels" else src.read(n))
        z.writestr("xl/sharedStrings.xml", f"<sst>{strings}</sst>")
    with pytest.raises(WorkbookError) as e:
        read_book(book)
    assert e.value.code == "workbook.too_large" and "共享字符串" in e.value.message
