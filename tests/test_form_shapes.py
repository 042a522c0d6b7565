"""Issue 15: form shapes met in the grown real-form corpus (tests/corpus forms 23–26), each a mechanism
tested from its rule on forms written here, not on the corpus form that showed it.

* the 绩效指标 and funds headers by the other names units give them (参考分值, 指标值(A), 年初目标值(A),
  全年实际值(B), 调整预算数(A), 预算数(A) · 执行数(B), 年度财政资金总额; a 预算执行情况(万元)(20分) title cell);
* a rubric-style 预算执行率 row (no measurable target of its own) scored by the execution rule;
* a bare target without comparator ("12次") read two ways: a score the floor reading gives is plausible;
* a total stated in the form's head (自评得分 98, 自评总分：95) when the form has no 总分 row.
"""
from __future__ import annotations

import pytest
from openpyxl import Workbook

from jixiao.checking.checker import check_file
from jixiao.deviation import indicator_score
from jixiao.form import DeptForm, score_form

P = "national-2020"


def _book(tmp_path, rows, name="form.xlsx"):
    wb = Workbook()
    ws = wb.active
    for r, row in enumerate(rows, start=1):
        for c, x in enumerate(row, start=1):
            if x is not None:
                ws.cell(r, c, x)
    path = tmp_path / name
    wb.save(path)
    return check_file(str(path), P)


def _at(res, rule, cell=None):
    return [f for f in res.findings if f.rule == rule and (cell is None or f.cell == cell)]


def _errors(res):
    return [(f.rule, f.cell) for f in res.findings if f.severity == "error"]


# --- headers by other names ---------------------------------------------------------------------------

def _project(target_h, weight_h, actual_h, budget_h="全年预算数", executed_h="全年执行数", total_label="年度资金总额"):
    return [
        ["项目支出绩效自评表(2023年度)"],
        ["项目名称", "测试项目"],
        ["项目资金(万元)", None, "年初预算数", budget_h, executed_h, "分值", "执行率", "得分"],
        [None, total_label, 100, 100, 90, 10, "90%", 9],
        ["一级指标", "二级指标", "三级指标", weight_h, target_h, actual_h, "得分", "偏差原因分析及改进措施"],
        ["产出指标", "数量指标", "培训人次", 20, "≥100人次", "80人次", 20, None],  # 80 of 100 → 16, not 20
        [None, "质量指标", "验收合格率", 20, "≥95%", "100%", 20, None],
    ]


@pytest.mark.parametrize("target_h", ["年度指标值", "指标值(A)", "年初目标值(A)", "年初指标值", "目标值"])
@pytest.mark.parametrize("weight_h", ["分值", "参考分值", "标准分值"])
@pytest.mark.parametrize("actual_h", ["实际完成值", "全年实际值(B)", "年终完成值"])
def test_indicator_headers_by_other_names_are_read(tmp_path, target_h, weight_h, actual_h):
    res = _book(tmp_path, _project(target_h, weight_h, actual_h))
    assert not _at(res, "form.unrecognized")
    hit = _at(res, "indicator.score_mismatch", "G6")
    assert hit and float(hit[0].expected) == pytest.approx(16)
    assert ("indicator.reason_missing", "H6") not in _errors(res)  # 20 of 20 shown: at most a warning
    assert not _at(res, "indicator.score_mismatch", "G7")


@pytest.mark.parametrize(("budget_h", "executed_h"), [("调整预算数(A)", "全年执行数(B)"), ("预算数(A)", "执行数(B)"),
                                                      ("调整后预算数", "预算执行数")])
@pytest.mark.parametrize("total_label", ["年度资金总额", "年度财政资金总额", "财政资金总额"])
def test_funds_headers_by_other_names_are_read(tmp_path, budget_h, executed_h, total_label):
    rows = _project("年度指标值", "分值", "实际完成值", budget_h, executed_h, total_label)
    rows[3] = [None, total_label, 100, 100, 90, 10, "90%", 10]  # 90% scores 9 of 10, not 10
    res = _book(tmp_path, rows)
    assert not _at(res, "reader.field_missing")
    hit = _at(res, "execution.score_mismatch", "H4")
    assert hit and float(hit[0].expected) == pytest.approx(9)


def test_twenty_point_execution_block_with_its_title_cell(tmp_path):
    """预算执行情况(万元)(20分) is the block's title, not the 执行率 column; 得分(20分*执行率) follows the rate."""
    rows = [
        ["2022年度项目支出绩效自评表"],
        ["项目名称", "测试项目"],
        ["预算执行情况(万元)\n(20分)", None, None, "预算数(A)", "执行数(B)", "执行率(B/A)", "得分\n(20分*执行率)"],
        [None, "年度财政资金总额", None, 278.4449, 30, "10.77%", 20],
    ]
    res = _book(tmp_path, rows)
    assert not _at(res, "execution.rate_mismatch")
    hit = _at(res, "execution.score_mismatch", "G4")
    assert hit and hit[0].severity == "error" and float(hit[0].expected) == pytest.approx(2.15, abs=0.01)
    rows[3][6] = 2.15
    assert not _at(_book(tmp_path, rows, "ok.xlsx"), "execution.score_mismatch")


# --- a rubric-style 预算执行率 row --------------------------------------------------------------------

def _rubric_form(target="—", actual="100%", reported=9, executed=64.8, reason=""):
    rows = [
        {"level1": "项目决策", "level2": "项目目标", "name": "目标完整性", "target": "目标明确", "actual": "目标明确",
         "weight": 10, "reported": 10, "reason": ""},
        {"level1": "项目管理", "level2": "投入管理", "name": "预算执行率", "target": target, "actual": actual,
         "weight": 10, "reported": reported, "reason": reason},
        {"level1": "项目产出", "level2": "数量指标", "name": "保障人数", "target": "2370人", "actual": "2370人",
         "weight": 80, "reported": 80, "reason": ""},
    ]
    return DeptForm.from_dict({"unit": "某中学", "year": 2021, "kind": "project",
                               "funds": {"budget": 64.8, "executed": executed}, "indicators": rows})


def test_execution_row_without_target_follows_the_execution_rule():
    res = score_form(_rubric_form(), P)  # 100% executed, 9 of 10
    hit = [f for f in res.findings if f.rule == "execution.score_mismatch"]
    assert [(f.severity, f.expected, f.field) for f in hit] == [("error", 10.0, "ind.1.score")]
    assert [f.field for f in res.findings if f.rule == "indicator.reason_missing"] == ["ind.1.reason"]
    assert not [f for f in res.findings if f.rule.startswith("indicator.qualitative")]


def test_execution_row_scored_right_and_counted_once():
    res = score_form(_rubric_form(reported=10), P)
    assert not [f for f in res.findings if f.severity == "error"]
    assert res.total == pytest.approx(100)  # the rows' 10 + 10 + 80: the execution score is not added twice
    part = score_form(_rubric_form(reported=9, executed=58.32), P)  # 90% → 9 of 10
    assert not [f for f in part.findings if f.rule == "execution.score_mismatch"]


def test_execution_row_with_its_own_target_is_an_ordinary_indicator():
    res = score_form(_rubric_form(target="≥95%", actual="100%", reported=9), P)
    assert not [f for f in res.findings if f.rule == "execution.score_mismatch"]
    assert [f.field for f in res.findings if f.rule == "indicator.score_mismatch"] == ["ind.1.score"]


def test_execution_row_in_a_workbook_points_at_its_cell(tmp_path):
    rows = [
        ["部门项目支出绩效自评表(2021年)"],
        ["项目名称", "公用经费"],
        ["项目资金(万元)", None, "年初预算数", "调整预算数(A)", "全年执行数(B)", "执行率(B/A)"],
        [None, "年度资金总额", 64.8, 64.8, 64.8, "100%"],
        ["一级指标", "二级指标", "三级指标", "参考分值", "指标值(A)", "全年实际值(B)", "得分", "未完成原因分析及改进措施"],
        ["项目管理(25分)", "投入管理", "预算执行率", 10, "—", "100%", 9, None],
        [None, "财务管理", "财务管理制度有效性", 15, "—", "财务制度健全", 15, None],
    ]
    res = _book(tmp_path, rows)
    assert ("execution.score_mismatch", "G6") in _errors(res)
    assert ("indicator.reason_missing", "H6") in _errors(res)


# --- a bare target -------------------------------------------------------------------------------------

def test_bare_count_target_exceeded_is_not_certainly_wrong_at_full_points():
    """"12次" → 96次 scored 1 of 1: read as 等于 the rule gives 0, read as a floor it gives 1 — plausible."""
    res = indicator_score("12次", "96次", 1, P, reported=1)
    mism = [f for f in res.findings if f.rule == "indicator.score_mismatch"]
    assert [f.severity for f in mism] == ["warning"] and "正向" in mism[0].message
    assert [f.rule for f in res.findings if f.rule == "indicator.over_achievement"]


def test_bare_count_target_short_has_one_score_under_both_readings():
    """Below the target both readings give 分值 × 8/12 = 6.67: full points are certainly wrong."""
    assert indicator_score("12次", "8次", 10, P).score == pytest.approx(6.67)
    assert [f.severity for f in indicator_score("12次", "8次", 10, P, reported=10).findings
            if f.rule == "indicator.score_mismatch"] == ["error"]


def test_explicit_equal_target_keeps_its_reading():
    res = indicator_score("=12次", "96次", 1, P, reported=1)
    assert [f.severity for f in res.findings if f.rule == "indicator.score_mismatch"] == ["error"]


# --- a total stated in the head -----------------------------------------------------------------------

def _head_total_rows(label_cells, total_row=None):
    rows = [
        ["项目支出绩效自评表(2021年度)"],
        ["项目名称", "测试项目", None, *label_cells],
        ["项目资金(万元)", None, "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        [None, "年度资金总额", 100, 100, 100, 10, "100%", 10],
        ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"],
        ["产出指标", "数量指标", "培训人次", "≥100人次", "100人次", 50, 50, None],
        ["效益指标", "社会效益指标", "知晓率", "≥90%", "95%", 30, 30, None],
        ["满意度指标", "满意度指标", "满意度", "≥90%", "95%", 10, 10, None],
    ]
    if total_row:
        rows.append(total_row)
    return rows


@pytest.mark.parametrize("label_cells", [["自评得分", 98], ["自评总分:", 98], ["自评总分：98"], ["项目总得分98分"]])
def test_total_stated_in_the_head_is_checked(tmp_path, label_cells):
    res = _book(tmp_path, _head_total_rows(label_cells))
    hit = _at(res, "total.total_mismatch")
    assert hit and hit[0].severity == "error" and float(hit[0].expected) == pytest.approx(100)
    assert hit[0].cell in ("E2", "D2")
    ok = _book(tmp_path, _head_total_rows([label_cells[0].replace("98", "100"), 100][:len(label_cells)]), "ok.xlsx")
    assert not _at(ok, "total.total_mismatch")


def test_total_row_wins_over_the_head(tmp_path):
    rows = _head_total_rows(["自评得分", 98], ["总分", None, None, None, None, 100, 100])
    assert not _at(_book(tmp_path, rows), "total.total_mismatch")


# --- an indicator table without a 分值 column ------------------------------------------------------------

def _blocks_form(scores=(20, 20, 20, 10, 10), social_actual="无上访"):
    return [
        ["2022年度项目支出绩效自评表"],
        ["项目名称", "测试项目"],
        ["预算执行情况(万元)\n(20分)", None, None, "预算数(A)", "执行数(B)", "执行率(B/A)", "得分\n(20分*执行率)"],
        [None, "年度财政资金总额", None, 34.64, 34.64, "100%", 20],
        ["年度绩效目标\n(80分)", "一级指标", "二级指标", "三级指标", "年初目标值(A)", "实际完成值(B)", "得分"],
        [None, "产出指标(60分)", "数量指标", "慰问人数", "≥100人", "100人", scores[0]],
        [None, None, "质量指标", "补助经费足额拨付率", "100%", "100%", scores[1]],
        [None, None, "时效指标", "走访完成率", "100%", "100%", scores[2]],
        [None, "效益指标(10分)", "社会效益指标", "群体性事件", "小于5次", social_actual, scores[3]],
        [None, "满意度指标(10分)", "服务对象满意度指标", "满意率", "≥95%", "100%", scores[4]],
    ]


def test_block_points_are_spread_over_the_block_rows_without_a_weight_column(tmp_path):
    """产出指标(60分) over three rows: 20 each; a row scored 25 is above its points, a met row at 15 is short."""
    res = _book(tmp_path, _blocks_form())
    assert not _at(res, "reader.field_missing") and not _errors(res)
    bad = _book(tmp_path, _blocks_form(scores=(25, 20, 15, 10, 10)), "bad.xlsx")
    assert ("indicator.score_over_weight", "G6") in _errors(bad)
    assert [float(f.expected) for f in _at(bad, "indicator.score_mismatch", "G8")] == [20.0]


def test_nothing_happened_under_a_ceiling_is_met():
    """"无上访" under "小于5次": no event, within the ceiling — met, full points; "无法统计" says nothing."""
    res = indicator_score("小于5次", "无上访", 10, P, reported=10)
    assert res.met and res.score == 10 and not res.findings
    assert [f.rule for f in indicator_score("小于5次", "无法统计", 10, P, reported=10).findings
            if f.severity == "error"] == ["indicator.actual_not_number"]
    assert [f.rule for f in indicator_score("≥5次", "无", 10, P, reported=10).findings
            if f.severity == "error"] == ["indicator.actual_not_number"]  # under a floor, "无" is a miss to review


def test_a_table_without_weights_or_block_points_is_still_unread(tmp_path):
    rows = _blocks_form()
    for r in rows[5:]:
        r[1] = r[1].split("(")[0] if isinstance(r[1], str) else r[1]
    res = _book(tmp_path, rows)
    assert _at(res, "reader.field_missing")
