"""The ribbon's 评分/检查/新建/说明 on real template files through the openpyxl book: same as the core and jixiao check."""
import json
import random

import pytest
from openpyxl import load_workbook

from jixiao.errors import JixiaoError

from jixiao.check import checker
from jixiao.samples import submissions
from jixiao.form import DeptForm, score_form
from jixiao.layouts.model import dept_form
from jixiao_macros import actions
from jixiao_macros.book import OpenpyxlBook
from workbooks import SEED000, fill, seed000_values

P = "hunan-dept-2024"


def test_score_on_filled_template_matches_the_core(tmp_path):
    path = fill(dept_form("province"), seed000_values(), tmp_path / "dept.xlsx")
    cells = {c.field: c for c in actions.score(OpenpyxlBook(path))}
    core = score_form(DeptForm.from_dict(SEED000), P)
    assert cells["funds.exec_score"].value == core.exec_score == 9
    assert cells["sum_row.score"].value == core.sum_row == 90
    assert cells["total.score"].value == core.capped_total == 99 and cells["total.grade"].value == "优"
    assert [cells[f"ind.{i}.score"].value for i in range(16)] == [s.score for s in core.indicators]
    assert not any(c.written for c in cells.values())  # template cells keep their JX_ formulas


def test_score_writes_values_into_a_typed_form(tmp_path):
    form = json.loads(json.dumps(SEED000))
    form["indicators"][0]["actual"] = "18"
    src = tmp_path / "bureau.xlsx"
    src.write_bytes(submissions.bureau_bytes(form, {"exec_score": None, "sum": None}))
    book = OpenpyxlBook(src)
    cells = {c.field: c for c in actions.score(book, P)}
    assert cells["ind.0.score"].written and cells["ind.0.score"].value == 4  # 5 × 18/21 → whole points
    book.save()
    ws = load_workbook(src).active
    assert ws[cells["funds.exec_score"].cell].value == 9
    assert ws[cells["sum_row.score"].cell].value == 89
    res = checker.check_file(str(src), P)
    assert not {"indicator.score_mismatch", "execution.score_mismatch", "total.sum_row_mismatch"} & \
        {f["rule"] for f in res.findings}


def test_check_lists_the_same_findings_as_jixiao_check_and_marks_cells(tmp_path):
    data, expected = submissions.make_submission(random.Random(9), "template", "reason_missing")
    path = tmp_path / "sub.xlsx"
    path.write_bytes(data)
    cli = checker.check_file(str(path), P)
    book = OpenpyxlBook(path)
    res = actions.check(book, P)
    assert {(f["rule"], f["cell"]) for f in res.findings} == {(f["rule"], f["cell"]) for f in cli.findings}
    ws = book.wb["检查结果"]
    assert [c.value for c in ws[1]] == actions.RESULT_HEADER
    reason = expected[0]["cell"]
    row = next(r for r in ws.iter_rows(min_row=2) if r[2].value == reason)
    assert row[0].value == "错误" and row[2].hyperlink.location is None and row[2].hyperlink.target == f"#'自评表'!{reason}"
    target = book.wb["自评表"][reason]
    assert target.fill.fgColor.rgb.endswith("FFC7CE") and target.comment.author == "jixiao"
    assert book.wb["_jixiao_marks"].sheet_state == "hidden"
    # 评分 clears the marks again: the input cell gets back its yellow
    actions.score(book, P)
    assert target.fill.fgColor.rgb.endswith("FFF2CC") and target.comment is None
    assert "_jixiao_marks" not in book.wb.sheetnames


def test_new_form_and_help(tmp_path):
    path = actions.new_form("project", "national-2020", tmp_path)
    ws = load_workbook(path)["自评表"]
    assert ws["K2"].value == "national-2020" and ws["A1"].value == "项目支出绩效自评表"
    path = actions.new_form("dept-city", "hunan-dept-2024", tmp_path)
    assert load_workbook(path)["自评表"]["K2"].value == "hunan-dept-2024"
    text = actions.help_text(OpenpyxlBook(path))
    assert "hunan-dept-2024" in text and "jixiao" in text
    # a profile written for other forms is refused, in Chinese, and no file is written
    before = sorted(tmp_path.iterdir())
    with pytest.raises(JixiaoError, match="不适用于市级部门整体支出绩效自评表") as err:
        actions.new_form("dept-city", "county-rubric-2022", tmp_path)
    assert err.value.code == "macro.profile_mismatch" and sorted(tmp_path.iterdir()) == before


def test_check_on_seed000_template_matches_jixiao_check(tmp_path):
    from jixiao.layouts.writer import template_model

    model = template_model("dept-province")
    values = submissions.template_values(SEED000, model)
    data = submissions.excel_bytes(submissions.fill_bytes(submissions.template_bytes("dept-province"), values),
                                submissions.compute_cached("dept-province", values))
    path = tmp_path / "seed000.xlsx"
    path.write_bytes(data)
    cli = checker.check_file(str(path))
    res = actions.check(OpenpyxlBook(path))
    assert res.total == cli.total == 99 and res.grade == "优"
    assert [(f["rule"], f["cell"]) for f in res.findings] == [(f["rule"], f["cell"]) for f in cli.findings] \
        == [("indicator.actual_has_comparator", "F31")]
