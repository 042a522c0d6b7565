"""Control rates from seed 002's basic-data table (附件1-2) and the rubric's points (附件1-1)."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

import jixiao
from jixiao import control_rate, control_score, payment_progress_score

P = "county-rubric-2022"


@pytest.mark.parametrize("kind,num,den,shown,score", [
    ("staff_control", 47, 51, "92%", 2),                 # ≤100% → 2
    ("three_public_change", 1802, 722, "149.58%", 0),     # 149.58 points over 0 × 0.5 → all 3 gone
    ("public_expense_control", 195.57, 213.94, "91.41%", 2),
    ("three_public_control", 613.76, 1802, "34.06%", 2),
    ("procurement_exec", 439.27, 240, "183%", 0),         # 83 points off 100% × 0.1 → 0
])
def test_seed002_rates_and_rubric_scores(kind, num, den, shown, score):
    rate = control_rate(kind, num, den)
    decimals = 0 if shown.count(".") == 0 else 2
    assert f"{rate:.{decimals}%}" == shown
    assert control_score(kind, rate, P) == score


def test_budget_completion_77_percent_scores_nothing_in_the_rubric():
    rate = jixiao.exec_rate(16640.91, 12819.60)
    assert f"{rate:.0%}" == "77%"
    assert jixiao.exec_score(rate, P) == 0
    # the report divides by the budget before the 3821.31 cut; against the adjusted budget it is 100%
    adjusted = jixiao.exec_rate(16640.91 - 3821.31, 12819.60)
    assert adjusted == pytest.approx(1.0) and jixiao.exec_score(adjusted, P) == 2


@pytest.mark.parametrize("rate,score", [(0.96, 2), (0.95, 2), (0.9499, 1.5), (0.90, 1.5), (0.85, 1), (0.80, 1),
                                        (0.7999, 0)])
def test_rubric_execution_bands(rate, score):
    assert jixiao.exec_score(rate, P) == score


def test_three_public_change_uses_previous_budget_not_previous_final():
    # the basic-data table only gives 2021 决算 719.55; the report uses 2021 预算 722
    assert f"{control_rate('three_public_change', 1802, 719.55):.2%}" == "150.43%"
    assert f"{control_rate('three_public_change', 1802, 722):.2%}" == "149.58%"


@pytest.mark.parametrize("rate,score", [(0.04, 3), (0.05, 1.5), (0.10, 1.5), (0.1001, 0), (0.2126, 0)])
def test_budget_adjust_bands(rate, score):
    assert control_score("budget_adjust", rate, P) == score


def test_seed002_budget_adjust_rate():
    rate = control_rate("budget_adjust", 3537.37, 16640.91)
    assert f"{rate:.2%}" == "21.26%" and control_score("预算调整率", rate, P) == 0


def test_small_overruns_deduct_per_percentage_point():
    assert control_score("staff_control", 1.05, P) == 1.0          # 5 points × 0.2
    assert control_score("three_public_change", 0.02, P) == 2.0    # 2 points × 0.5
    assert control_score("three_public_control", 1.03, P) == 1.7   # 3 points × 0.1
    assert control_score("procurement_exec", 0.95, P) == 0.5       # 5 points under × 0.1
    assert control_score("procurement_exec", 1.0, P) == 1.0


def test_payment_progress_by_quarter():
    assert control_score("payment_progress", 0.18, P, quarter="Q1") == 1.6
    assert control_score("支付序时进度", 0.55, P, quarter="二季度") == 2.0
    assert payment_progress_score({"Q1": 0.18, "Q2": 0.45, "Q3": 0.80}, P) == 0.6  # (2 + 5) × 0.2 off
    with pytest.raises(jixiao.ValueReadError, match="季度"):
        control_score("payment_progress", 0.5, P)


def test_chinese_names_and_unknown_kinds():
    assert control_rate("在职人员控制率", 47, 51) == control_rate("staff_control", 47, 51)
    assert control_rate("“三公经费”控制率", 613.76, 1802) == control_rate("three_public_control", 613.76, 1802)
    with pytest.raises(jixiao.ValueReadError, match="未知的控制率"):
        control_rate("午餐率", 1, 2)
    with pytest.raises(jixiao.ValueReadError, match="编制数为 0"):
        control_rate("staff_control", 3, 0)


@given(kind=st.sampled_from(["staff_control", "three_public_change", "three_public_control",
                             "public_expense_control", "procurement_exec", "budget_adjust"]),
       rate=st.floats(min_value=-5, max_value=50, allow_nan=False))
def test_control_score_between_zero_and_weight(kind, rate):
    p = jixiao.load_profile(P)
    s = control_score(kind, rate, p)
    assert 0 <= s <= p.control(kind).weight


@given(st.floats(min_value=0, max_value=5), st.floats(min_value=0, max_value=5))
def test_ceiling_rules_never_reward_a_higher_rate(a, b):
    lo, hi = sorted((a, b))
    assert control_score("staff_control", hi, P) <= control_score("staff_control", lo, P)
