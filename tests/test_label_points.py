"""Issue 15: block points read from the labels that state them, as a class of layout, and the 20-point
execution form that was read as a county rubric.

* A block label states its points in any of the ways forms write them: 产出指标(60分), 产出指标（60分）,
  数量指标15分, or with its enclosing group (项目绩效85分 / 产出指标40分). Without a 分值 column the stated points
  are spread evenly over the block's scored rows; a 二级 label's points weigh its own rows, its 一级 label's
  points (less what the 二级 labels state) the rest. With a 分值 column the labels' points are subtotals,
  checked against the rows (一级 ``weights.first_level``, 二级 ``weights.second_level``).
* A table none of whose rows can be weighed is unread: its 总分 and 等级 are not compared (they count rows
  jixiao did not score).
* A 三级指标 table with a target column under any of its names (年初目标值(A) …) is a form's indicator table,
  never a county rubric: the rubric's 合计 check must not run on a 20-point form's 总分.
"""
from __future__ import annotations

import pytest
from openpyxl import Workbook

from jixiao.checking.checker import check_file
from jixiao.totals import split_label

P = "national-2020"


def _check(tmp_path, rows, name="form.xlsx", profile=P):
    wb = Workbook()
    ws = wb.active
    for r, row in enumerate(rows, start=1):
        for c, x in enumerate(row, start=1):
            if x is not None:
                ws.cell(r, c, x)
    path = tmp_path / name
    wb.save(path)
    return check_file(str(path), profile)


def _at(res, rule, cell=None):
    return [f for f in res.findings if f.rule == rule and (cell is None or f.cell == cell)]


def _errors(res):
    return sorted((f.rule, f.cell) for f in res.findings if f.severity == "error")


@pytest.mark.parametrize(("label", "name", "points"), [
    ("产出指标(50分)", "产出指标", 50.0), ("效益指标（30分）", "效益指标", 30.0), ("产出指标 ( 50 分 )", "产出指标", 50.0),
    ("数量指标15分", "数量指标", 15.0), ("满意度指标10分", "满意度指标", 10.0),
    ("项目绩效85分\n产出指标40分", "产出指标", 40.0), ("项目绩效(85分)\n产出指标(40分)", "产出指标", 40.0),
    ("产出指标", "产出指标", None), ("满意度指标", "满意度指标", None)])
def test_a_label_states_its_own_blocks_points(label, name, points):
    assert split_label(label) == (name, points)


# --- a 20-point execution form whose indicator table has no 分值 column ------------------------------------

def _form(level1=("产出指标", "效益指标", "满意度指标"), level2=("数量指标", "质量指标", "时效指标", "社会效益指标",
                                                             "服务对象满意度指标"),
          scores=(20, 20, 20, 10, 10), total=100, head=("一级指标", "二级指标", "三级指标", "年初目标值(A)",
                                                         "实际完成值(B)", "得分")):
    """The 20-point layout (预算执行情况 20分, 得分(20分*执行率)); 一级 in column B, 二级 in C. Rows: 产出 ×3
    (20 each), 效益 ×1 (10), 满意度 ×1 (10)."""
    rows = [
        ["2022年度项目支出绩效自评表"],
        ["项目名称", "测试项目"],
        ["预算执行情况(万元)\n(20分)", None, None, "预算数(A)", "执行数(B)", "执行率(B/A)", "得分\n(20分*执行率)"],
        [None, "年度财政资金总额", None, 100, 100, "100%", 20],
        ["年度绩效目标\n(80分)", *head],
        [None, level1[0], level2[0], "慰问人数", "≥100人", "100人", scores[0]],
        [None, None, level2[1], "补助经费足额拨付率", "100%", "100%", scores[1]],
        [None, None, level2[2], "走访完成率", "100%", "100%", scores[2]],
        [None, level1[1], level2[3], "群众知晓率", "≥90%", "95%", scores[3]],
        [None, level1[2], level2[4], "满意率", "≥95%", "100%", scores[4]],
    ]
    if total is not None:
        rows.append(["总分(100分)", None, None, None, None, None, total])
    return rows


FIRST_LEVEL_POINTS = ("产出指标(60分)", "效益指标(10分)", "满意度指标(10分)")
FIRST_LEVEL_POINTS_WIDE = ("产出指标（60分）", "效益指标10分", "满意度指标 (10分)")
SECOND_LEVEL_POINTS = ("数量指标20分", "质量指标20分", "时效指标20分", "社会效益指标10分", "服务对象满意度指标10分")


@pytest.mark.parametrize(("level1", "level2"), [
    (FIRST_LEVEL_POINTS, None), (FIRST_LEVEL_POINTS_WIDE, None), (("产出指标", "效益指标", "满意度指标"), SECOND_LEVEL_POINTS),
    (("项目绩效80分\n产出指标60分", "效益指标(10分)", "满意度指标(10分)"), SECOND_LEVEL_POINTS)],
    ids=["first-level", "first-level-other-writings", "second-level", "nested-and-second-level"])
@pytest.mark.parametrize("with_total", [True, False], ids=["total-row", "no-total-row"])
def test_points_stated_in_labels_weigh_the_rows(tmp_path, level1, level2, with_total):
    kw = {"level1": level1, "total": 100 if with_total else None}
    if level2:
        kw["level2"] = level2
    res = _check(tmp_path, _form(**kw))
    assert not _at(res, "reader.field_missing") and _errors(res) == []
    assert not _at(res, "weights.second_level") and not [f for f in _at(res, "weights.first_level")
                                                         if "标注" in f.message]
    bad = _check(tmp_path, _form(**kw, scores=(25, 20, 15, 10, 10)), "bad.xlsx")
    assert ("indicator.score_over_weight", "G6") in _errors(bad)  # 25 on a row worth 20
    assert [float(f.expected) for f in _at(bad, "indicator.score_mismatch", "G8")] == [20.0]  # met, 15 of 20
    if with_total:  # 20 + 25 + 20 + 15 + 10 + 10 = 100: the 总分 matches the row scores; nothing else to say
        assert not [f for f in _at(bad, "total.total_mismatch") if f.severity == "error"]


def test_second_level_points_take_precedence_and_the_rest_of_the_first_level_points_spread(tmp_path):
    """产出指标(60分) with 数量指标30分 stated and 质量/时效 not: those two share the remaining 30 (15 each)."""
    level2 = ("数量指标30分", "质量指标", "时效指标", "社会效益指标", "服务对象满意度指标")
    res = _check(tmp_path, _form(level1=FIRST_LEVEL_POINTS, level2=level2, scores=(30, 15, 15, 10, 10)))
    assert _errors(res) == []
    over = _check(tmp_path, _form(level1=FIRST_LEVEL_POINTS, level2=level2, scores=(30, 20, 15, 10, 10)), "o.xlsx")
    assert ("indicator.score_over_weight", "G7") in _errors(over)


def test_second_level_points_that_do_not_add_up_to_the_first_level_are_said(tmp_path):
    level2 = ("数量指标20分", "质量指标20分", "时效指标10分", "社会效益指标10分", "服务对象满意度指标10分")
    res = _check(tmp_path, _form(level1=FIRST_LEVEL_POINTS, level2=level2, scores=(20, 20, 10, 10, 10), total=90))
    hit = [f for f in _at(res, "weights.first_level") if "标注" in f.message]
    assert [(f.severity, float(f.expected), float(f.found)) for f in hit] == [("warning", 60.0, 50.0)]


def test_a_table_whose_rows_cannot_be_weighed_leaves_the_total_unchecked(tmp_path):
    """No 分值 column and no stated points: the rows are not scored, so a 总分 over them is not compared
    (before, the 总分 was compared with the execution score alone: an error on a correct form)."""
    res = _check(tmp_path, _form())
    assert _at(res, "reader.field_missing") and "总分、等级未核对" in _at(res, "reader.field_missing")[0].message
    assert _errors(res) == []


def test_points_in_a_weight_column_with_second_level_subtotals_in_the_labels(tmp_path):
    """A 分值 column and 二级 labels stating points: the labels are subtotals, checked against the rows."""
    rows = [
        ["项目支出绩效自评表(2023年度)"],
        ["项目名称", "测试项目"],
        ["项目资金(万元)", None, "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        [None, "年度资金总额", 100, 100, 100, 10, "100%", 10],
        ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"],
        ["产出指标(50分)", "数量指标(30分)", "培训人次", "≥100人次", "100人次", 20, 20, None],
        [None, None, "培训场次", "≥10场", "10场", 10, 10, None],
        [None, "质量指标(20分)", "合格率", "≥95%", "100%", 15, 15, None],  # 15 under a label of 20
        ["效益指标(30分)", "社会效益指标(30分)", "知晓率", "≥90%", "95%", 35, 30, None],
        ["满意度指标(10分)", "满意度指标(10分)", "满意度", "≥90%", "95%", 10, 10, None],
        ["总分", None, None, None, None, 100, 100],
    ]
    res = _check(tmp_path, rows)
    second = sorted((float(f.expected), float(f.found)) for f in _at(res, "weights.second_level"))
    assert second == [(20.0, 15.0), (30.0, 35.0)]
    assert sorted(f.cell for f in _at(res, "weights.second_level")) == ["F8", "F9"]
    assert not [f for f in _at(res, "weights.second_level") if f.severity == "error"]


# --- headers and funds tables of the rubric-style project form (湖北 广水 layout) --------------------------

def _rubric_style(score=15, mileage="300公里"):
    return [
        ["某市财政预算支出项目绩效目标自评表"],
        ["填报日期:2022年8月10日", None, None, None, None, "自评总分:", 95],
        ["项目名称", "乡村道路建设养护项目", None, "项目主管单位", "某市交通运输局"],
        ["项目资金\n来源", "中央\n(万元)", "省、地\n(万元)", "本级\n(万元)", "其他\n(万元)", "合计\n(万元)",
         "执行数\n(万元)", "执行率"],
        [None, None, None, None, None, 309, 309, "100%"],
        ["一级指标", "二级指标", "指标名称\n(三级指标)", "年初指标值", "年终完成值", "自评分", "复核分", "评价标准"],
        ["项目绩效85分\n产出指标40分", "数量指标15分", "乡村道路建设养护里程", "300公里", mileage, score, None, "…"],
        [None, "质量指标15分", "验收合格率", "100%", "100%", 15, None, "…"],
    ]


def test_a_rubric_style_project_form_is_read_by_its_labels(tmp_path):
    res = _check(tmp_path, _rubric_style())
    assert not _at(res, "form.unrecognized") and res.kind == "project"
    assert not _at(res, "reader.field_missing")
    assert not _at(res, "execution.rate_mismatch")
    bad = _check(tmp_path, _rubric_style(score=18), "bad.xlsx")
    assert ("indicator.score_over_weight", "F7") in _errors(bad)  # 18 on a block of 15 points
    short = _check(tmp_path, _rubric_style(mileage="240公里"), "short.xlsx")
    assert [float(f.expected) for f in _at(short, "indicator.score_mismatch", "F7")] == [12.0]  # 15 × 240/300


def test_the_sum_column_of_a_sources_table_is_the_budget(tmp_path):
    rows = _rubric_style()
    rows[4] = [None, 100, 50, 159, None, 309, 250, "100%"]  # 250 / 309 = 80.91%, shown as 100%
    res = _check(tmp_path, rows)
    hit = _at(res, "execution.rate_mismatch", "H5")
    assert hit and hit[0].severity == "error"


# --- item 4: a 20-point form with a 分值 column is not a county rubric ------------------------------------

def _twenty_with_weights(total_weight=100, total_score=100):
    return [
        ["2022年度项目支出绩效自评表"],
        ["项目名称", "测试项目"],
        ["预算执行情况(万元)\n(20分)", None, None, "预算数(A)", "执行数(B)", "执行率(B/A)", "得分\n(20分*执行率)"],
        [None, "年度财政资金总额", None, 100, 100, "100%", 20],
        ["年度绩效目标\n(80分)", "一级指标", "二级指标", "三级指标", "年初目标值(A)", "实际完成值(B)", "分值", "得分"],
        [None, "产出指标", "数量指标", "慰问人数", "≥100人", "100人", 20, 20],
        [None, None, "质量指标", "补助经费足额拨付率", "100%", "100%", 20, 20],
        [None, None, "时效指标", "走访完成率", "100%", "100%", 20, 20],
        [None, "效益指标", "社会效益指标", "群众知晓率", "≥90%", "95%", 10, 10],
        [None, "满意度指标", "服务对象满意度指标", "满意率", "≥95%", "100%", 10, 10],
        ["总分", None, None, None, None, None, total_weight, total_score],
    ]


@pytest.mark.parametrize("target_h", ["年初目标值(A)", "年度目标值", "目标值", "年初指标值"])
def test_a_twenty_point_form_with_a_weight_column_is_not_read_as_a_rubric(tmp_path, target_h):
    rows = _twenty_with_weights()
    rows[4][5] = target_h
    res = _check(tmp_path, rows)
    assert res.kind == "project"
    assert not _at(res, "rubric.sum_mismatch")  # 总分 100 = 20 (execution) + 80 (rows): not the rubric's 合计
    assert _errors(res) == []
    wrong = _twenty_with_weights(total_score=90)
    wrong[4][5] = target_h
    hit = _at(_check(tmp_path, wrong, "wrong.xlsx"), "total.total_mismatch", "H11")
    assert hit and hit[0].severity == "error" and float(hit[0].expected) == pytest.approx(100)


def test_a_rubric_without_a_target_column_still_has_its_sum_checked(tmp_path):
    """The same check stays on for a real 评价指标表 (no target column): 合计 99 against rows adding to 100."""
    rows = [
        ["部门整体支出绩效评价指标表"],
        ["一级指标", "二级指标", "三级指标", "分值", "评分标准", "得分"],
        ["投入", "预算配置", "在职人员控制率", 50, "≤100%计满分", 50],
        [None, None, "重点支出安排率", 50, "≥90%计满分", 50],
        ["合计", None, None, 100, None, 99],
    ]
    res = _check(tmp_path, rows, profile=None)
    assert res.kind == "county-rubric"
    assert [float(f.expected) for f in _at(res, "rubric.sum_mismatch", "F5")] == [100.0]


# --- a rubric-style project form read whole: its rubric part as rows scored by their criteria ---------------

def _whole_rubric_style(decision=2, total=95, fin=3):
    """项目决策 2 + 项目管理 13 + 项目绩效 85 (产出 40: 数量 15, 质量 15, 时效 10; 效益 30; 满意度 15) = 100; the
    funds table shows 执行率 only (no 分值, no 得分)."""
    return [
        ["某市财政预算支出项目绩效目标自评表"],
        ["填报日期:2022年8月10日", None, None, None, None, "自评总分:", total],
        ["项目名称", "乡村道路建设养护项目", None, "项目主管单位", "某市交通运输局"],
        ["项目资金\n来源", "中央\n(万元)", "省、地\n(万元)", "本级\n(万元)", "其他\n(万元)", "合计\n(万元)",
         "执行数\n(万元)", "执行率"],
        [None, None, None, None, None, 309, 309, "100%"],
        ["项目年度目标", "完成乡村道路建设养护里程300公里"],
        ["项目权重", "评价内容", "分值", "自评分", "复核分", "评价标准及依据"],
        ["项目决策2分", "决策依据", 2, decision, None, "有项目年度工作计划或有上级文件或审批报告计2分,没有不得分。"],
        ["项目管理13分", "财务制度", 3, fin, None, "1、单位财务管理制度1分;2、项目管理制度1分;3、有制度执行佐证资料1分。"],
        [None, "组织机构", 2, 2, None, "有明确的绩效管理机构或专人负责2分。"],
        [None, "运行监管", 4, 4, None, "1、运行监管记录3分;2、填报《项目支出绩效监控表》1分。"],
        [None, "目标申报", 4, 4, None, "1、绩效目标全申报1分;2、绩效目标规范1分;3、按时申报2分。"],
        ["项目年度目标1:乡村道路建设养护项目"],
        ["一级指标", "二级指标", "指标名称\n(三级指标)", "年初指标值", "年终完成值", "自评分", "复核分", "评价标准"],
        ["项目绩效85分\n产出指标40分", "数量指标15分", "乡村道路建设养护里程", "300公里", "300公里", 15, None, "…"],
        [None, "质量指标15分", "验收合格率", "100%", "100%", 15, None, "…"],
        [None, "时效指标10分", "按时完工率", "100%", "100%", 10, None, "…"],
        ["效益指标30分", "社会效益指标30分", "群众出行条件改善", "明显改善", "明显改善", 30, None, "…"],
        ["满意度指标15分", "服务对象满意度指标15分", "群众满意度", "≥90%", "85%", 10, None, "…"],
    ]


def test_a_whole_rubric_style_project_form_is_weighed_by_its_own_points(tmp_path):
    """2 + 13 + 85 = 100 on the form's own rows: 执行率 is shown, not scored; 满意度 85% of 90% → 15 × 85/90 =
    14.17, scored 10 (a judged mismatch); 自评总分 95 = 2 + 13 + 70 + 10 = 95 adds up."""
    res = _check(tmp_path, _whole_rubric_style())
    assert not _at(res, "weights.total"), res.findings
    assert not [f for f in _at(res, "total.total_mismatch") if f.severity == "error"]
    assert not _at(res, "indicator.target_unreadable")  # criteria rows have no target to read
    assert [float(f.expected) for f in _at(res, "indicator.score_mismatch", "F19")] == [pytest.approx(14.17)]


def test_a_criteria_row_above_its_points_is_an_error_and_the_total_follows_the_rows(tmp_path):
    res = _check(tmp_path, _whole_rubric_style(decision=3, total=96))
    assert ("indicator.score_over_weight", "D8") in _errors(res)
    wrong = _check(tmp_path, _whole_rubric_style(fin=2), "wrong.xlsx")  # rows give 94, the head says 95
    hit = _at(wrong, "total.total_mismatch", "G2")
    assert hit and hit[0].severity == "error" and float(hit[0].expected) == pytest.approx(94)


def test_a_funds_table_without_points_on_a_ninety_point_form_keeps_the_execution_points(tmp_path):
    """The same funds table on a form whose rows carry 90: the execution's 10 come from the profile as before."""
    rows = [
        ["项目支出绩效自评表(2023年度)"],
        ["项目名称", "测试项目"],
        ["项目资金(万元)", None, "年初预算数", "全年预算数", "全年执行数", "执行率"],
        [None, "年度资金总额", 100, 100, 100, "100%"],
        ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"],
        ["产出指标", "数量指标", "培训人次", "≥100人次", "100人次", 50, 50, None],
        ["效益指标", "社会效益指标", "知晓率", "≥90%", "95%", 30, 30, None],
        ["满意度指标", "满意度指标", "满意度", "≥90%", "95%", 10, 10, None],
    ]
    res = _check(tmp_path, rows)
    assert not _at(res, "weights.total") and _errors(res) == []
