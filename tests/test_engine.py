"""The formulas bridge: templates filled with seed numbers recompute without Excel, like Excel."""
import hashlib

import formulas
import pytest
from openpyxl import Workbook
from workbooks import (
    as_saved_by_excel,
    fill,
    project_values,
    seed000_values,
    seed002_values,
)

from jixiao import control_rate, control_score, exec_rate, exec_score
from jixiao.errors import JixiaoError
from jixiao.excel import bridge
from jixiao.layouts.model import dept_form, project_form
from jixiao.layouts.rubric import BASIC, RUBRIC, county_rubric


def one_sheet(tmp_path, cells):
    wb = Workbook()
    ws = wb.active
    ws.title = "S"
    for ref, v in cells.items():
        ws[ref] = v
    path = tmp_path / "t.xlsx"
    wb.save(path)
    return bridge.calculate(path)


def test_excel_differences_are_corrected(tmp_path):
    rc = one_sheet(tmp_path, {"A1": "=ROUND(1.005,2)", "A2": "=ROUND(0.285,2)", "A3": '="84.52%"*1',
                              "A4": '=VALUE("1,234.5")', "B1": "5", "B2": 3, "A5": "=SUM(B1:B2)",
                              "A6": '=SUM("5",3)', "A7": "=ROUNDUP(2.001,2)", "A8": "=ROUNDDOWN(-2.009,2)",
                              "A9": '="abc"*1'})
    assert rc.get("S", "A1") == 1.01
    assert rc.get("S", "A2") == 0.29
    assert rc.get("S", "A3") == pytest.approx(0.8452)
    assert rc.get("S", "A4") == 1234.5
    assert rc.get("S", "A5") == 3      # text "5" inside a range is ignored, as in Excel
    assert rc.get("S", "A6") == 8      # a text literal is converted, as in Excel
    assert rc.get("S", "A7") == 2.01 and rc.get("S", "A8") == -2.0
    assert str(rc.get("S", "A9")) == "#VALUE!"


def test_unregistered_function_is_reported_not_trusted(tmp_path):
    with pytest.raises(JixiaoError) as e:
        one_sheet(tmp_path, {"A1": "=NOSUCHFN(1)+1", "A2": '=IF(1,"NOTCALLED(1)",2)'})
    assert e.value.code == "formulas.unknown_function" and "NOSUCHFN" in e.value.message
    assert "NOTCALLED" not in e.value.message


def test_udfs_compute_in_cells(tmp_path):
    rc = one_sheet(tmp_path, {"A1": 38479.52, "B1": 32521.07, "C1": "=JX_EXEC_RATE(A1,B1)",
                              "D1": '=JX_EXEC_SCORE(C1,"hunan-dept-2024")', "A2": "≥95%", "B2": "90%",
                              "C2": "=JX_IND_SCORE(A2,B2,10)", "D2": "=JX_IND_SCORE(A2,\"96个\",10)",
                              "E2": "=JX_GRADE(99)"})
    assert rc.get("S", "C1") == exec_rate(38479.52, 32521.07)
    assert rc.get("S", "D1") == 9
    assert rc.get("S", "C2") == 9.47
    assert str(rc.get("S", "D2")) == "#VALUE!"  # unit mismatch: an error, never 0
    assert rc.get("S", "E2") == "优"


@pytest.fixture(scope="module")
def seed000_book(tmp_path_factory):
    model = dept_form("province")
    path = fill(model, seed000_values(), tmp_path_factory.mktemp("seed000") / "dept.xlsx")
    return model, path, bridge.calculate(path)


def test_seed000_recomputes_in_formulas(seed000_book):
    model, _, rc = seed000_book
    s = model.main
    val = lambda key: rc.get(s.name, s.fields[key])  # noqa: E731
    assert f"{val('funds.exec_rate'):.2%}" == "84.52%"
    assert val("funds.exec_score") == 9
    assert [val(f"ind.{i}.score") for i in range(16)] == [5, 5, 5, 5, 10, 5, 5, 5, 5, 5, 5, 10, 5, 5, 5, 5]
    assert val("sum_row.score") == 90 and val("sum_row.weight") == 90
    assert val("total.score") == 99 and val("total.grade") == "优"
    assert val("funds.income.subtotal.E") == pytest.approx(38479.52)
    assert val("funds.income.check") == "" and val("funds.spending.check") == ""
    assert val("ind.19.score") == ""  # empty rows stay empty


def test_wrong_split_and_missed_indicator_show_in_cells(tmp_path):
    model = dept_form("province")
    values = seed000_values() | {"funds.income.其他资金.E": 1000, "ind.0.actual": "18"}
    rc = bridge.calculate(fill(model, values, tmp_path / "bad.xlsx"))
    s = model.main
    assert rc.get(s.name, s.fields["funds.income.check"]) == "全年预算数：分项之和 38305.93 ≠ 38479.52"
    assert rc.get(s.name, s.fields["ind.0.score"]) == 4  # 5 × 18/21 = 4.29 → whole points
    assert rc.get(s.name, s.fields["ind.0.reason_hint"]) == "须填写偏差原因"
    assert rc.get(s.name, s.fields["sum_row.score"]) == 89


def test_excel_saved_workbook_with_addin_links(seed000_book, tmp_path):
    model, path, rc = seed000_book
    saved = as_saved_by_excel(path, tmp_path / "excel-saved.xlsx", rc.values)
    digest = hashlib.sha256(saved.read_bytes()).hexdigest()
    with pytest.raises(formulas.errors.FormulaError):  # formulas alone cannot parse [1]!JX_…
        formulas.ExcelModel().loads(str(saved)).finish()
    assert bridge.addin_links(saved).indices == {1}
    again = bridge.calculate(saved)
    assert again.translated >= 50
    s = model.main
    for key in ("funds.exec_rate", "funds.exec_score", "sum_row.score", "total.score", "total.grade"):
        assert again.get(s.name, s.fields[key]) == rc.get(s.name, s.fields[key]), key
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == digest  # the input is never modified


def test_links_to_other_workbooks_are_not_mistaken_for_the_addin(seed000_book, tmp_path):
    _, path, rc = seed000_book
    other = as_saved_by_excel(path, tmp_path / "other.xlsx", rc.values,
                              addin_path=r"file:///C:\budget\other-book.xlsx")
    links = bridge.addin_links(other)
    # the external book lists only JX_ names, so it is still recognised as the add-in by its functions
    assert links.indices == {1}


def test_seed002_rubric_recomputes_like_the_core(tmp_path):
    model = county_rubric()
    rc = bridge.calculate(fill(model, seed002_values(), tmp_path / "rubric.xlsx"))
    basic = model.sheet(BASIC)
    rubric = model.sheet(RUBRIC)
    b = lambda key: rc.get(BASIC, basic.fields[key])  # noqa: E731
    assert b("three_public.budget") == 1802 and b("three_public.final") == pytest.approx(613.76)
    assert b("three_public.prev_budget") == 722
    expected = {
        "staff_control": control_rate("staff_control", 47, 51),
        "three_public_change": control_rate("three_public_change", 1802, 722),
        "three_public_control": control_rate("three_public_control", 613.76, 1802),
        "public_expense_control": control_rate("public_expense_control", 195.57, 213.94),
        "procurement_exec": control_rate("procurement_exec", 439.27, 240),
        "budget_adjust": control_rate("budget_adjust", 3537.37, 16640.91),
        "budget_completion": exec_rate(16640.91, 12819.60),
    }
    for kind, rate in expected.items():
        assert b(f"rate.{kind}") == pytest.approx(rate), kind
    assert [f"{b('rate.' + k):.2%}" for k in ("three_public_change", "public_expense_control",
                                              "three_public_control")] == ["149.58%", "91.41%", "34.06%"]
    r = lambda i: rc.get(RUBRIC, rubric.fields[f"rubric.{i}.score"])  # noqa: E731
    p = "county-rubric-2022"
    assert r(2) == control_score("staff_control", expected["staff_control"], p) == 2   # 人员控制率 (聘用 blank)
    assert r(3) == control_score("three_public_change", expected["three_public_change"], p) == 0
    assert r(4) == exec_score(expected["budget_completion"], p) == 0    # 77% < 80%
    assert r(5) == 0                                                   # 预算调整率 21.26%
    assert r(7) == 2                                                   # “三公经费”控制率
    assert r(8) == 0                                                   # 政府采购执行率 183%
    assert r(0) == ""                                                  # judged rows wait for 人工评分


def test_rubric_manual_points_are_added_and_capped(tmp_path):
    model = county_rubric()
    values = seed002_values() | {"rubric.0.manual": 2.5, "rubric.8.manual": 5, "contract.approved": 10,
                                 "contract.actual": 9}
    rc = bridge.calculate(fill(model, values, tmp_path / "rubric2.xlsx"))
    rubric = model.sheet(RUBRIC)
    r = lambda i: rc.get(RUBRIC, rubric.fields[f"rubric.{i}.score"])  # noqa: E731
    assert r(0) == 2.5
    assert r(8) == 2          # 0 computed + 5 manual, capped at 分值 2
    assert r(2) == 4          # 在职 2 + 聘用 2


def test_project_form_total_and_grade(tmp_path):
    model = project_form()
    values = project_values()
    rc = bridge.calculate(fill(model, values, tmp_path / "project.xlsx"))
    s = model.main
    v = lambda key: rc.get(s.name, s.fields[key])  # noqa: E731
    assert v("funds.exec_score") == 9.2
    assert v("ind.0.score") == 45
    assert v("total.score") == pytest.approx(94.2) and v("total.grade") == "等级：优"
    assert v("total.weight") == 100
