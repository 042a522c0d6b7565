"""Seed 000: Hunan's 2024 部门整体支出绩效自评表, read from the real form's text and scored."""
import json
from importlib import resources

import pytest

import jixiao
from jixiao import DeptForm, indicator_score, score_form


def test_exec_rate_is_8452_percent_of_full_year_budget():
    rate = jixiao.exec_rate(38479.52, 32521.07)
    assert f"{rate:.2%}" == "84.52%"
    # dividing by 年初预算数 gives a very different number: that is the common error
    assert f"{32521.07 / 21716.74:.2%}" == "149.75%"


def test_exec_score_matches_the_form_under_hunan_profile():
    assert jixiao.exec_score(jixiao.exec_rate(38479.52, 32521.07), "hunan-dept-2024") == 9
    # the national default keeps two decimals and would give 8.45
    assert jixiao.exec_score(jixiao.exec_rate(38479.52, 32521.07), "national-2020") == 8.45


def test_income_split_sums_to_full_year_budget_and_spending_split_to_executed():
    income = {"一般公共预算": 36273.98, "政府性基金拨款": None, "纳入专户管理的非税收入拨款": 1031.95,
              "其他资金": 1173.59}
    spending = {"基本支出": 18218.57, "项目支出": 14302.5}
    assert jixiao.check_split(38479.52, income).ok
    assert jixiao.check_split(32521.07, spending).ok
    # the income split does not add up to 全年执行数: which total a split belongs to matters
    wrong = jixiao.check_split(32521.07, income)
    assert not wrong.ok and wrong.difference == pytest.approx(38479.52 - 32521.07)


def test_every_indicator_row_is_read_and_scored(seed000_rows):
    rows, total = seed000_rows
    assert len(rows) == 16
    scores = []
    for r in rows:
        res = indicator_score(r["target"], r["actual"], r["weight"], "hunan-dept-2024", reported=r["reported"])
        assert res.score is not None, r["name"]
        assert res.score == r["reported"], r["name"]
        assert not any(f.severity == "error" for f in res.findings), (r["name"], res.findings)
        scores.append(res.score)
    assert sum(scores) == total["score"] == 90
    assert sum(r["weight"] for r in rows) == total["weight"] == 90


def test_kinds_read_from_the_seed(seed000_rows):
    rows, _ = seed000_rows
    kinds = [jixiao.indicator_kind(r["target"]) for r in rows]
    assert kinds[:4] == ["等于"] * 4            # 21, 100%, 100%, 100%
    assert kinds[4:11] == ["定性"] * 7          # narrative targets, 显著提升, 优化 …
    assert kinds[11] == "正向"                  # ≥99%
    assert kinds[12] == "定性"                  # 不超支
    assert kinds[13:] == ["等于"] * 3           # 0 complaints


def test_satisfaction_actual_written_as_target_is_reported(seed000_rows):
    rows, _ = seed000_rows
    r = rows[11]
    res = indicator_score(r["target"], r["actual"], r["weight"], "hunan-dept-2024")
    assert [f.rule for f in res.findings] == ["indicator.actual_has_comparator"]
    assert res.score == 10


def test_weights_by_first_level_match_hunan_profile(seed000_rows):
    rows, _ = seed000_rows
    lines = [jixiao.totals.IndicatorLine(r["level1"], r["level2"], r["name"], r["weight"], r["reported"])
             for r in rows]
    by_level = jixiao.sum_by_level(lines)["一级"]
    assert {k: v["weight"] for k, v in by_level.items()} == {"产出": 20, "效益": 40, "满意度": 10, "成本": 20}
    assert jixiao.check_weights(lines, "hunan-dept-2024") == []
    # the national default expects 产出 50 / 效益 30 and 100 − 10 = 90 in all: only first-level warnings
    national = jixiao.check_weights(lines, "national-2020")
    assert {f.rule for f in national} == {"weights.first_level", "weights.unknown_level"}
    assert all(f.severity == "warning" for f in national)


def test_whole_form_sample_scores_like_the_paper_form():
    data = json.loads((resources.files("jixiao.samples") / "hunan-2024-dept.json").read_text("utf-8"))
    s = score_form(DeptForm.from_dict(data), "hunan-dept-2024")
    assert (s.exec_score, s.indicator_sum, s.sum_row, s.total, s.grade) == (9, 90, 90, 99, "优")
    assert [f.rule for f in s.findings] == ["indicator.actual_has_comparator"]


def test_whole_form_catches_rate_divided_by_initial_budget():
    data = json.loads((resources.files("jixiao.samples") / "hunan-2024-dept.json").read_text("utf-8"))
    data["funds"]["reported_rate"] = 32521.07 / 21716.74
    data["funds"]["income"]["全年预算数"]["其他资金"] = 1000
    data["reported_sum"] = 91
    s = score_form(DeptForm.from_dict(data), "hunan-dept-2024")
    rules = {f.rule: f for f in s.findings}
    assert rules["execution.wrong_budget"].expected == "84.52%"
    assert rules["execution.wrong_budget"].found == "149.75%"
    assert rules["funds.split_mismatch"].found == pytest.approx(38305.93)
    assert rules["total.sum_row_mismatch"].expected == 90
