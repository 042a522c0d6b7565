"""Issue 15 item 4: seed 002's rubric rows 预算调整率 and 结转结余 read by meaning and scored from the basic data,
and the 楼堂馆所 table's own rates, each from the rule of seed 002 附件1-1 / 附件1-2 (DOMAIN.md §2):

* 预算调整率 = 预算调整数 / 预算数 (the 基础数据表's 项目支出 本年预算数, as ``jixiao control --basic`` reads it):
  <5% 3 分, 5–10%（含）1.5 分, >10% 0;
* 结转结余: 县本级资金无结转计 2 分, 有结转不计分;
* 楼堂馆所控制情况: 规模控制率 = 实际规模 / 批复规模, 投资概算控制率 = 实际投资 / 预算投资.

Workbooks are written with openpyxl in the official layout and read by jixiao.
"""
from __future__ import annotations

import pytest
from workbooks import save_rows

from jixiao.checking.checker import check_file


def _save(tmp_path, name, rows_by_sheet):
    return check_file(save_rows(tmp_path, name, rows_by_sheet))


def _basic(adjustment=3537.37, carryover=None, buildings=None):
    rows = [
        ["2022年度部门整体支出绩效评价基础数据表"],
        ["财政供养人员情况(人)", "编制数", "2022年实际在职人数", "控制率"],
        [None, 51, 47, "92%"],
        ["经费控制情况(万元)", "2021年决算数", "2022年预算数", "2022年决算数"],
        ["三公经费", 719.55, 1802, 613.76],
        ["项目支出:", 14160.1, 16640.91, 12819.6],
        ["公用经费", 204.33, 213.94, 195.57],
        ["政府采购金额", 8368.85, 240, 439.27],
        ["部门整体支出预算调整", "——", adjustment, "——"],
    ]
    if carryover is not None:
        rows.append(["结转结余", None, None, carryover])
    rows.append(["楼堂馆所控制情况(2022年完工项目)", "批复规模(㎡)", "实际规模(㎡)", "规模控制率", "预算投资(万元)",
                 "实际投资(万元)", "投资概算控制率"])
    rows += buildings or [[None, None, None, None, None, None, None]]
    rows.append(["厉行节约保障措施", None])
    return rows


def _rubric(rows):
    return [["一级指标", "二级指标", "三级指标", "分值", "评分标准", "得分"], *rows]


ADJUST = "预算调整率<5%，计3分；5-10%（含），计1.5分；大于10%不得分。"
CARRY = "县本级资金无结转，计2分；有结转，不计分；"


def _scores(res):
    return {f.cell: f for f in res.findings if f.rule == "control.score_mismatch" and f.sheet == "评价指标表"}


@pytest.mark.parametrize(("adjustment", "want"), [(3537.37, 0.0), (1164.86, 1.5), (500, 3.0)])
def test_budget_adjustment_rate_is_scored_from_the_basic_data(tmp_path, adjustment, want):
    """3537.37 / 16640.91 = 21.26% → 0; 1164.86 / 16640.91 = 7.00% → 1.5; 500 / 16640.91 = 3.00% → 3."""
    rubric = _rubric([["过程", "预算执行", "预算调整率", 3, ADJUST, 3]])
    res = _save(tmp_path, "调整.xlsx", {"基础数据表": _basic(adjustment), "评价指标表": rubric})
    found = _scores(res)
    if want == 3:
        assert "F2" not in found
    else:
        assert found["F2"].expected == want and found["F2"].severity == "error"


def test_budget_adjustment_without_its_amount_is_not_scored(tmp_path):
    rubric = _rubric([["过程", "预算执行", "预算调整率", 3, ADJUST, 3]])
    basic = [r for r in _basic() if not (r and r[0] == "部门整体支出预算调整")]
    assert not _scores(_save(tmp_path, "无调整数.xlsx", {"基础数据表": basic, "评价指标表": rubric}))


@pytest.mark.parametrize(("carryover", "claimed", "want"), [(12.5, 2, 0.0), (0, 2, None), (0, 0, 2.0)])
def test_carryover_is_scored_from_the_basic_data(tmp_path, carryover, claimed, want):
    rubric = _rubric([["过程", "预算执行", "结转结余", 2, CARRY, claimed]])
    found = _scores(_save(tmp_path, "结转.xlsx", {"基础数据表": _basic(carryover=carryover), "评价指标表": rubric}))
    if want is None:
        assert "F2" not in found
    else:
        assert found["F2"].expected == want


def test_carryover_without_a_basic_data_row_is_not_scored(tmp_path):
    """Seed 002's own 基础数据表 has no 结转结余 row: the criterion cannot be computed, so nothing is claimed."""
    rubric = _rubric([["过程", "预算执行", "结转结余", 2, CARRY, 2]])
    assert not _scores(_save(tmp_path, "无结转行.xlsx", {"基础数据表": _basic(), "评价指标表": rubric}))


def test_building_rates_are_the_basic_datas_own_arithmetic(tmp_path):
    rows = [["办公楼维修", 1000, 1100, "100.00%", 500, 450, "90.00%"]]
    res = _save(tmp_path, "楼堂馆所.xlsx", {"基础数据表": _basic(buildings=rows)})
    rates = {f.cell: f for f in res.findings if f.rule == "control.rate_mismatch"}
    assert rates["D11"].expected == "110.00%" and rates["D11"].severity == "error"
    assert "G11" not in rates  # 450 / 500 = 90.00%, as shown
    empty = _save(tmp_path, "空表.xlsx", {"基础数据表": _basic()})
    assert not [f for f in empty.findings if f.rule == "control.rate_mismatch"]


# --- a rubric read by its own 分值 and 得分 columns: 一级/二级 subtotals, 合计 and 等级 -------------------------

def _layout(points_in="column", l1=(16, 84), drop_total=False, grade_word="优", score_2=8):
    """A county rubric in the three ways rubrics state their block points: a column beside each level label
    (一级指标 · 分值 · 二级指标 · 分值 · 三级指标 · 分值 · 评分标准 · 得分), the label itself ("投入(16分)", "投入16分"),
    or a bare number in brackets ("投入(16)")."""
    a, b = l1
    if points_in == "column":
        head = ["一级指标", "分值", "二级指标", "分值", "三级指标", "分值", "评分标准", "得分"]
        rows = [["投入", a, "预算配置", 16, "在职人员控制率", 8, "≤100%计8分", 8],
                [None, None, None, None, "三公经费变动率", 8, "≤0计8分", score_2],
                ["过程", b, "预算执行", 84, "预算完成率", 84, "100%计满分", 76]]
        total = ["合计", None, None, None, None, a + b, None, 84 + score_2]
        grade = ["等级", None, None, None, None, None, None, grade_word]
    else:
        label = {"label": "{}({}分)", "label-bare": "{}{}分", "brackets": "{}({})"}[points_in]
        head = ["一级指标", "二级指标", "三级指标", "分值", "评分标准", "得分"]
        rows = [[label.format("投入", a), "预算配置", "在职人员控制率", 8, "≤100%计8分", 8],
                [None, None, "三公经费变动率", 8, "≤0计8分", score_2],
                [label.format("过程", b), "预算执行", "预算完成率", 84, "100%计满分", 76]]
        total = ["合计", None, None, a + b, None, 84 + score_2]
        grade = ["等级", None, None, None, None, grade_word]
    out = [["部门整体支出绩效评价指标表"], head, *rows]
    if not drop_total:
        out += [total, grade]
    return out


@pytest.mark.parametrize("points_in", ["column", "label", "label-bare", "brackets"])
def test_rubric_block_points_are_checked_against_their_rows(tmp_path, points_in):
    ok = _save(tmp_path, "ok.xlsx", {"评价指标表": _layout(points_in)})
    assert not [f for f in ok.findings if f.severity == "error"], ok.findings
    bad = _save(tmp_path, "bad.xlsx", {"评价指标表": _layout(points_in, l1=(18, 84))})  # 投入's rows add to 16
    hit = [f for f in bad.findings if f.rule == "rubric.sum_mismatch" and f.cell in ("A3", "B3")]
    assert [(f.severity, float(f.expected), float(f.found)) for f in hit] == [("error", 16.0, 18.0)]


@pytest.mark.parametrize("points_in", ["column", "label"])
def test_the_last_block_of_a_rubric_cut_off_before_its_total_is_not_judged(tmp_path, points_in):
    """Without a 合计 row the last block (过程 70, one row of 84 typed) may continue past the cut: not judged; a
    block that another block follows is complete and still checked."""
    res = _save(tmp_path, "cut.xlsx", {"评价指标表": _layout(points_in, l1=(16, 70), drop_total=True)})
    assert not [f for f in res.findings if f.rule == "rubric.sum_mismatch"]
    res = _save(tmp_path, "cut2.xlsx", {"评价指标表": _layout(points_in, l1=(20, 70), drop_total=True)})
    assert [f.found for f in res.findings if f.rule == "rubric.sum_mismatch"] == [20]


def test_a_subtotal_column_holding_the_blocks_score_is_not_a_mistake(tmp_path):
    """A header reading 得分 over a level's column: the number may be the block's score (8 + 0 = 8)."""
    res = _save(tmp_path, "score.xlsx", {"评价指标表": _layout("column", l1=(8, 84), score_2=0, grade_word="良")})
    assert not [f for f in res.findings if f.rule == "rubric.sum_mismatch" and f.cell == "B3"]


@pytest.mark.parametrize(("points_in", "cell"), [("column", "H7"), ("label", "F7")])
@pytest.mark.parametrize(("score_2", "word", "want"), [(8, "优", None), (8, "良", "优"), (0, "中", "良"), (0, "良", None)])
def test_rubric_grade_follows_its_total(tmp_path, points_in, cell, score_2, word, want):
    """合计得分 8 + score_2 + 76 (92 or 84 of 100) under the profile's bands (优 ≥ 90, 良 ≥ 80)."""
    res = _save(tmp_path, "g.xlsx", {"评价指标表": _layout(points_in, score_2=score_2, grade_word=word)})
    hit = [(f.severity, f.expected, f.cell) for f in res.findings if f.rule == "rubric.grade_mismatch"]
    assert hit == ([] if want is None else [("error", want, cell)])
