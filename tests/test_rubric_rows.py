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
