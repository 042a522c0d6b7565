"""Layouts a bureau receives besides one form per workbook (issue 15, item 4): several forms in one workbook,
rubrics read by their own 分值/得分 columns and row names, blank basic-data sub-rows, a 工作考核评分表.

Workbooks are written with openpyxl from the rules in DOMAIN.md (not from one form) and read by jixiao.
"""
from __future__ import annotations

from pathlib import Path

from workbooks import save_rows

from jixiao.checking.checker import check_file
from tests.metamorphic.transformations import dump, load

CORPUS = Path(__file__).parent / "corpus" / "forms"


def _save(tmp_path: Path, name: str, rows_by_sheet: dict[str, list[list]]) -> str:
    return save_rows(tmp_path, name, rows_by_sheet)


def _at(res, rule):
    return {(f.sheet, f.cell): f for f in res.findings if f.rule == rule}


def test_every_form_of_a_workbook_is_checked(tmp_path):
    """A rubric and two project sheets in one workbook: three forms checked, each finding on its own sheet."""
    rubric = load((CORPUS / "21_anhui_tongling_jiaoqu_gongyi_rubric_2021.xlsx").read_bytes())
    first = load((CORPUS / "07_yunnan_gucheng_weipian_2020.xlsx").read_bytes())
    second = load((CORPUS / "11_yunnan_yongde_minglang_yingyang_2022.xlsx").read_bytes())
    rubric[0].name, first[0].name, second[0].name = "评价指标表", "项目一", "项目二"
    path = tmp_path / "一个单位.xlsx"
    path.write_bytes(dump(rubric + first + second))
    res = check_file(str(path))
    assert [f["sheet"] for f in res.forms] == ["项目一", "项目二"]
    over = _at(res, "indicator.score_over_weight")
    assert ("评价指标表", "G14") in over  # the rubric's score above its 分值
    mismatch = _at(res, "indicator.score_mismatch")
    assert ("项目一", "I13") in mismatch and ("项目二", "I16") in mismatch  # each project's own mistakes


BASIC = [
    ["2023年度部门整体支出绩效评价基础数据表"],
    ["财政供养人员情况(人)", "编制数", "2023年实际在职人数", "控制率"],
    [None, 20, 24, "120.00%"],
    ["经费控制情况(万元)", "2022年决算数", "2023年预算数", "2023年决算数"],
    ["三公经费", 6.5, 6.0, 5.8],
    ["1、公务用车购置和维护经费", None, None, None],
    ["其中:公车购置", None, None, None],
    ["公车运行维护", None, None, None],
    ["2、出国经费", None, None, None],
    ["3、公务接待", None, None, None],
    ["公用经费", 50, 48, 47],
    ["政府采购金额", 0, 100, 183],
]


def _rubric(rows: list[list]) -> list[list]:
    return [["一级指标", "二级指标", "三级指标", "分值", "评分标准", "得分"], *rows]


def test_blank_basic_data_parts_are_not_filled_not_zero(tmp_path):
    res = check_file(_save(tmp_path, "基础数据.xlsx", {"基础数据表": BASIC}))
    assert not [f for f in res.findings if f.rule == "basic_data.sum_mismatch"]
    blank = _at(res, "basic_data.parts_blank")
    assert ("基础数据表", "B5") in blank and blank[("基础数据表", "B5")].severity == "info"
    zeros = [row if row[0] in ("三公经费", "公用经费", "政府采购金额") or not isinstance(row[0], str)
             or row[0].endswith(("数", "(人)", "(万元)", "表")) else [row[0], 0, 0, 0] for row in BASIC]
    res = check_file(_save(tmp_path, "基础数据0.xlsx", {"基础数据表": zeros}))
    assert {(f.cell, f.expected) for f in res.findings if f.rule == "basic_data.sum_mismatch"} >= {("B5", 0.0)}


def test_rubric_rows_matched_by_meaning(tmp_path):
    """Seed 002's own row names: 人员控制率 120% and 政府采购执行率和规范性 183% cannot earn their full points."""
    rubric = _rubric([
        ["过程", "预算执行", "人员控制率", 2, "≤100%得满分，每超过一个百分点扣0.2分", 2],
        [None, None, "政府采购执行率和规范性", 2, "100%得满分，每偏离一个百分点扣0.1分", 2],
    ])
    res = check_file(_save(tmp_path, "评价.xlsx", {"基础数据表": BASIC, "评价指标表": rubric}))
    scores = _at(res, "control.score_mismatch")
    assert scores[("评价指标表", "F2")].expected == 0 and scores[("评价指标表", "F3")].expected == 0


def test_rubric_total_is_the_sum_of_its_rows(tmp_path):
    rubric = _rubric([
        ["投入", "目标设定", "绩效目标合理性", 40, "……", 40],
        ["过程", "预算执行", "预算执行率", 30, "……", 30],
        ["产出", "职责履行", "重点工作完成率", 30, "……", 30],
        ["合计", None, None, 100, None, 99],
    ])
    res = check_file(_save(tmp_path, "合计.xlsx", {"评价指标表": rubric}))
    total = _at(res, "rubric.sum_mismatch")
    assert total[("评价指标表", "F5")].expected == 100 and total[("评价指标表", "F5")].severity == "error"
    assert ("评价指标表", "D5") not in total  # the 分值 column adds up


def test_work_assessment_sheet_is_a_known_non_form(tmp_path):
    sheet = [["2023年度部门绩效自评工作考核评分表"],
             ["考核内容", "分值", "评分标准", "得分"],
             ["布置工作", 10, "印发自评通知2分……", 10],
             ["实施评价", 30, "单位自查20分……", 28]]
    res = check_file(_save(tmp_path, "工作考核.xlsx", {"Sheet1": sheet}))
    assert [f.severity for f in res.findings] == ["info"]
    assert res.findings[0].rule == "form.known_non_form"


def test_execution_block_worth_twenty_points_stated_in_its_formula(tmp_path):
    """No 分值 column: the block's 得分 header says 20分*执行率, so 90% earns 18 (the form's own rule)."""
    sheet = [["2023年度项目支出绩效自评表"],
             ["项目名称", "某项目"],
             ["项目资金（万元）", "年初预算数", "全年预算数", "全年执行数", "执行率", "得分（20分*执行率）"],
             ["年度资金总额", 100, 100, 90, "90.00%", 20],
             ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分"],
             ["产出指标", "数量指标", "培训人数", "≥100人", "100人", 80, 80]]
    res = check_file(_save(tmp_path, "二十分.xlsx", {"Sheet1": sheet}))
    score = [f for f in res.findings if f.rule.startswith("execution.score") or f.rule == "indicator.score_over_weight"]
    assert [(f.cell, f.expected) for f in score] == [("F4", 18.0)]


def test_fraction_typed_in_a_percent_column(tmp_path):
    """Under "执行率（%）" the numbers are percents: 0.9 there shows 0.9%, although 90/100 = 90%."""
    def form(rate):
        return [["2023年度项目支出绩效自评表"],
                ["项目资金（万元）", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率（%）", "得分"],
                ["年度资金总额", 100, 100, 90, 10, rate, 9]]
    res = check_file(_save(tmp_path, "小数.xlsx", {"Sheet1": form(0.9)}))
    found = [f for f in res.findings if f.rule == "execution.rate_as_fraction"]
    assert [(f.cell, f.expected) for f in found] == [("F3", 90.0)]
    res = check_file(_save(tmp_path, "百分数.xlsx", {"Sheet1": form(90)}))
    assert not [f for f in res.findings if f.rule.startswith("execution.rate")]


def test_rubric_row_worth_more_than_its_criteria_give(tmp_path):
    """Seed 002's 预算执行率 row is worth 6 while its two criteria give at most 2 + 2: said once, on its 分值."""
    standard = ("①全年预算执行率95%以上计2分，95-90%（含），计1.5分，90-80%（含），计1分，小于80%不得分；"
                "②一、二、三季度末支付序时进度分别达到20%、50%、80%（含）以上计2分，每低1个百分点扣0.2分，扣完为止。")
    rubric = _rubric([["过程", "预算执行", "预算执行率", 6, standard, 4],
                      [None, None, "预算调整率", 2, "预算调整率<5%计2分，5%-10%计1分，>10%不得分", 2]])
    res = check_file(_save(tmp_path, "矛盾.xlsx", {"评价指标表": rubric}))
    found = [(f.cell, f.expected, f.found) for f in res.findings if f.rule == "rubric.inconsistent"]
    assert found == [("D2", 4.0, 6.0)]


def test_amounts_in_yuan_under_a_wanyuan_header(tmp_path):
    """The goal says 90万元; the funds row holds 900000 under 项目资金（万元）: found from the magnitudes."""
    def form(budget, executed):
        return [["2023年度项目支出绩效自评表"],
                ["项目资金（万元）", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
                ["年度资金总额", budget, budget, executed, 10, "100.00%", 10],
                ["年度总体目标", "本项目共申请预算资金90万元，用于村级组织运转。"],
                ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分"],
                ["产出指标", "成本指标", "项目总成本", "≤90万元", "90万元", 90, 90]]
    res = check_file(_save(tmp_path, "元.xlsx", {"Sheet1": form(900000, 900000)}))
    found = [(f.cell, f.expected) for f in res.findings if f.rule == "funds.amounts_in_yuan"]
    assert found == [("C3", 90.0)]
    res = check_file(_save(tmp_path, "万元.xlsx", {"Sheet1": form(90, 90)}))
    assert not [f for f in res.findings if f.rule == "funds.amounts_in_yuan"]
