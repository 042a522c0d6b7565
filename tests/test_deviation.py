"""Indicator (偏差) scores: 正向, 反向, 等于 and 定性 under 财预〔2020〕10号."""
from hypothesis import assume, given
from hypothesis import strategies as st

import jixiao
from jixiao import indicator_score

P = "national-2020"


def rules(res):
    return [f.rule for f in res.findings]


def test_positive_met_and_missed():
    assert indicator_score("≥95%", "96%", 10, P).score == 10
    missed = indicator_score("≥95%", "90%", 10, P)
    assert missed.score == 9.47 and missed.met is False and missed.reason_required


def test_reverse_rule():
    assert indicator_score("≤1次", "0次", 5, P).score == 5
    assert indicator_score("≤10天", "12天", 5, P).score == 4       # 5 × (1 − 2/10)
    assert indicator_score("≤10天", "20天", 5, P).score == 0       # twice the target
    assert indicator_score("≤0次", "1次", 5, P).score == 0


def test_equal_rule():
    assert indicator_score("=24期", "24期", 5, P).score == 5
    assert indicator_score("24期", "20期", 6, P).score == 5         # 6 × (1 − 4/24)


def test_magnitudes_convert():
    assert indicator_score("≥1.2万条", "12000条", 5, P).score == 5
    assert indicator_score("≥1亿元", "5000万元", 5, P).score == 2.5


def test_unit_mismatch_is_a_finding_not_a_guess():
    res = indicator_score("≥95%", "96个", 5, P)  # a bare "96" is in the target's unit (issue 15)
    assert res.score is None and rules(res) == ["indicator.unit_mismatch"]
    assert res.findings[0].severity == "error"
    res = indicator_score("≥10个", "10次", 5, P)
    assert res.score is None and "“个”" in res.findings[0].message


def test_unreadable_values_are_never_scored_zero():
    res = indicator_score("≥95#", "96%", 5, P)  # "x" would be a unit of its own (issue 15)
    assert res.score is None and rules(res) == ["indicator.target_unreadable"]
    res = indicator_score("≥95%", "", 5, P)
    assert res.score is None and rules(res) == ["indicator.actual_unreadable"]
    res = indicator_score("≥95%", "基本完成", 5, P)
    assert res.score is None and rules(res) == ["indicator.actual_not_number"]


def test_over_achievement_flagged_for_review():
    res = indicator_score("≥10个", "13个", 5, P, reason="")
    assert res.score == 5 and res.over_achievement and res.reason_recommended
    assert rules(res) == ["indicator.over_achievement", "indicator.reason_recommended"]
    assert not indicator_score("≥10个", "11个", 5, P).over_achievement


def test_approx_target_exceeded_is_met_and_flagged():
    res = indicator_score("约50亿元", "83亿元", 10, P)
    assert res.score == 10 and res.over_achievement
    assert indicator_score("约50亿元", "48亿元", 10, P).score == 10   # within 5%


def test_missing_reason_when_score_below_weight():
    res = indicator_score("≥95%", "90%", 5, P, reason="  ")
    assert "indicator.reason_missing" in rules(res)
    assert "indicator.reason_missing" not in rules(indicator_score("≥95%", "90%", 5, P, reason="受疫情影响"))


def test_reported_scores_checked_against_rule():
    assert rules(indicator_score("≥95%", "90%", 5, P, reported=5)) == ["indicator.score_mismatch"]
    res = indicator_score("≥95%", "96%", 5, P, reported=6)
    assert rules(res) == ["indicator.score_over_weight"] and res.findings[0].expected == 5


def test_qualitative_grades_and_bands():
    assert indicator_score("显著提升", "显著提升", 10, P).score == 10
    partial = indicator_score("按期完成", "部分完成，年底前补齐", 10, P)
    assert partial.grade == "部分达成并具有一定效果" and partial.score == 8 and partial.grade_source == "inferred"
    failed = indicator_score("按期完成", "未完成", 10, P)
    assert failed.grade == "未达成且效果较差" and failed.score == 6
    given_grade = indicator_score("优化", "有所优化", 10, P, grade="部分达成", reported=7)
    assert given_grade.score == 7 and given_grade.band == (6, 8)
    out = indicator_score("优化", "有所优化", 10, P, grade="部分达成", reported=9)
    assert rules(out) == ["indicator.qualitative_out_of_band"] and out.findings[0].severity == "error"
    assert out.findings[0].expected == "6–8"
    bad = indicator_score("优化", "优化", 10, P, grade="很好")
    assert bad.score is None and rules(bad) == ["indicator.grade_unknown"]


def test_not_overspent_counts_as_met():
    assert indicator_score("不超支", "未超支", 5, P).grade == "达成年度指标"


def test_whole_point_rounding_in_hunan_profile():
    assert indicator_score("≥95%", "90%", 5, "hunan-dept-2024").score == 5   # 4.74 → 5
    assert indicator_score("≥95%", "80%", 5, "hunan-dept-2024").score == 4   # 4.21 → 4


# Numbers as officers type them: fixed-point, up to four decimals.
_pos = st.decimals(min_value="0.01", max_value=10**6, places=4)
_any = st.decimals(min_value=0, max_value=10**7, places=4)


@given(t=_pos, a=_any, w=st.sampled_from([1, 2, 5, 10, 20]),
       cmp=st.sampled_from(["≥", "≤", "=", ">", "<", ""]), profile=st.sampled_from(jixiao.shipped_profiles()))
def test_quantitative_score_between_zero_and_weight(t, a, w, cmp, profile):
    res = indicator_score(f"{cmp}{t}个", f"{a}个", w, profile)
    assert res.score is not None and 0 <= res.score <= w


@given(t=_pos, a=_any, b=_any)
def test_positive_never_falls_as_actual_rises(t, a, b):
    lo, hi = sorted((a, b))
    assert indicator_score(f"≥{t}", f"{lo}", 10, P).score <= indicator_score(f"≥{t}", f"{hi}", 10, P).score


@given(t=_pos, a=_any, b=_any)
def test_reverse_never_rises_as_actual_rises(t, a, b):
    lo, hi = sorted((a, b))
    assert indicator_score(f"≤{t}", f"{hi}", 10, P).score <= indicator_score(f"≤{t}", f"{lo}", 10, P).score


@given(w=st.sampled_from([2, 5, 10]), reported=st.floats(min_value=0, max_value=10),
       grade=st.sampled_from(["达成", "部分达成", "未达成"]))
def test_qualitative_score_between_zero_and_weight(w, reported, grade):
    assume(reported <= w)
    res = indicator_score("显著提升", "有所提升", w, P, grade=grade, reported=reported)
    assert 0 <= res.score <= w
    assert res.band[0] <= res.score <= res.band[1]
