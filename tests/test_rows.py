"""Officers add and delete indicator rows: every total stays right, in LibreOffice and in the checker.

The filled department template (seed 000, with its 20 indicator rows all used) is edited the way officers
edit it — rows inserted below the last indicator row as 填表说明 says (copy the last row, insert it below),
a blank row inserted inside the table and a row copied onto it, a row inserted above the first indicator
row, a row deleted — by LibreOffice through its UNO bridge (``tests/uno_rows.py``) and, as a second program,
by openpyxl with a spreadsheet's reference moving (``tests/rows_openpyxl.py``) followed by a LibreOffice
recalculation. Then LibreOffice's own 合计/总分 and ``jixiao check`` must both be right, with nothing
flagged against the officer.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from native_support import recalc_in_libreoffice, sheet_values
from openpyxl import load_workbook
from rows_openpyxl import copy_row, delete_rows, insert_rows
from test_vba_libreoffice import UNO
from workbooks import fill, seed000_values

from jixiao.checking import checker
from jixiao.layouts.writer import template_model

pytestmark = pytest.mark.skipif(UNO is None or shutil.which("soffice") is None,
                                reason="LibreOffice with Python-UNO not installed")

SHEET = "自评表"
RUNNER = Path(__file__).with_name("uno_rows.py")
P = "hunan-dept-2024"


def new_row(r: int, name: str, weight: float = 1) -> list[tuple]:
    """An officer types one more met indicator into row ``r``."""
    return [("set", f"B{r}", "效益指标"), ("set", f"C{r}", "社会效益指标"), ("set", f"D{r}", name),
            ("set", f"E{r}", "≥1次"), ("set", f"F{r}", "1次"), ("set", f"G{r}", weight)]


def filled(tmp_path: Path, engine: str) -> tuple[Path, int, int]:
    """Seed 000 in the 20-row template, all rows used: the 10-point 效益 indicator gives 6 points to six more
    1-point indicators (rows 17–20; more are added below). Returns the file, header row and marker row."""
    model = template_model("dept-province", engine=engine)
    values = seed000_values() | {"ind.4.weight": 6}
    for i in range(16, 20):
        values |= {f"ind.{i}.level1": "效益指标", f"ind.{i}.level2": "社会效益指标", f"ind.{i}.name": f"新增指标{i}",
                   f"ind.{i}.target": "≥1次", f"ind.{i}.actual": "1次", f"ind.{i}.weight": 1}
    top, marker = model.main.indicator_block
    return fill(model, values, tmp_path / f"{engine}.xlsx"), top, marker


def scenarios(top: int, marker: int) -> dict[str, list[tuple]]:
    """The edits. Each one gives the 效益 indicator (row 5 of the table) as many points as the rows it adds take,
    so that the officer's weights still add up to 90: 合计 90 and 总分 99 (执行率得分 9) are right, and a range
    that missed a row would show less (or more, for the deleted row)."""
    last, first = marker - 1, top + 1
    two_below = [("insert", marker, 1), ("copy", last, marker), ("insert", marker + 1, 1), ("copy", last, marker + 1),
                 *new_row(marker, "新增指标20"), *new_row(marker + 1, "新增指标21"), ("set", f"G{first + 4}", 4)]
    inside = [("insert", first + 5, 1), ("copy", first + 4, first + 5), *new_row(first + 5, "插入指标"),
              ("set", f"G{first + 4}", 5)]
    above_first = [("insert", first, 1), ("copy", first + 1, first), *new_row(first, "首行上方插入"),
                   ("set", f"G{first + 5}", 5)]
    delete = [("delete", last, 1), ("set", f"G{first + 4}", 7)]  # one 1-point row less, its point to the 效益 row
    return {"two_below_last": two_below, "insert_inside_and_copy": inside, "insert_above_first": above_first,
            "delete_one": delete}


def edit_in_libreoffice(src: Path, out: Path, ops: list[tuple]) -> Path:
    job = {"sheet": SHEET, "ops": []}
    for op in ops:
        if op[0] in ("insert", "delete"):
            job["ops"].append({"op": op[0], "row": op[1], "count": op[2]})
        elif op[0] == "copy":
            job["ops"].append({"op": "copy", "from": op[1], "to": op[2]})
        else:
            job["ops"].append({"op": "set", "cell": op[1], "value": op[2]})
    proc = subprocess.run([UNO, str(RUNNER), str(src), str(out), json.dumps(job)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and out.exists(), proc.stderr
    return out


def edit_in_openpyxl(src: Path, out: Path, ops: list[tuple]) -> Path:
    wb = load_workbook(src)
    ws = wb[SHEET]
    for op in ops:
        if op[0] == "insert":
            insert_rows(ws, op[1], op[2])
        elif op[0] == "delete":
            delete_rows(ws, op[1], op[2])
        elif op[0] == "copy":
            copy_row(ws, op[1], op[2])
        else:
            ws[op[1]] = op[2]
    edited = out.with_name("edited-" + out.name)
    wb.save(edited)
    recalculated = recalc_in_libreoffice([edited], out.parent / "lo")[edited]
    return recalculated.rename(out)


def totals_shown(path: Path) -> dict:
    """合计 and 总分 as LibreOffice computed and saved them, found by their labels."""
    values = sheet_values(path, SHEET)
    rows = {x: int(ref[1:]) for ref, x in values.items() if ref.startswith("A") and ref[1:].isdigit()}
    sum_row = rows["合计"]
    total_row = next(r for x, r in rows.items() if isinstance(x, str) and x.startswith("总分"))
    return {"sum": values.get(f"H{sum_row}"), "total": values.get(f"H{total_row}"),
            "weight": values.get(f"G{sum_row}"), "grade": values.get(f"I{total_row}")}


def check(path: Path):
    res = checker.check_file(str(path), P)
    flagged = [(f.rule, f.cell, f.message) for f in res.findings
               if f.severity == "error" or f.rule.startswith(("formula.", "route.", "weights.", "total", "sum"))
               and f.rule != "formula.no_addin"]
    return res, flagged


@pytest.mark.parametrize("engine", ["native", "udf"])
@pytest.mark.parametrize("scenario", ["two_below_last", "insert_inside_and_copy", "insert_above_first", "delete_one"])
def test_rows_edited_in_libreoffice_keep_totals_right(tmp_path, engine, scenario):
    src, top, marker = filled(tmp_path, engine)
    ops = scenarios(top, marker)[scenario]
    out = edit_in_libreoffice(src, tmp_path / f"{scenario}.xlsx", ops)
    if engine == "native":  # LibreOffice computes the native formulas itself: its own totals must be right
        shown = totals_shown(out)
        assert (shown["sum"], shown["total"], shown["weight"], shown["grade"]) == (90, 99, 90, "优")
    res, flagged = check(out)
    assert res.route == "template" and res.kind == "dept-province"
    assert res.total == 99 and res.grade == "优"
    assert flagged == []


@pytest.mark.parametrize("scenario", ["two_below_last", "delete_one"])
def test_rows_edited_in_openpyxl_keep_totals_right(tmp_path, scenario):
    src, top, marker = filled(tmp_path, "native")
    ops = scenarios(top, marker)[scenario]
    out = edit_in_openpyxl(src, tmp_path / f"{scenario}.xlsx", ops)
    shown = totals_shown(out)
    assert (shown["sum"], shown["total"]) == (90, 99)
    res, flagged = check(out)
    assert res.route == "template" and res.total == 99
    assert flagged == []
