"""执行率 score rules and the rounding that makes them agree with Excel."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

import jixiao
from jixiao.numbers import round_excel


@pytest.mark.parametrize("x,d,want", [(1.005, 2, 1.01), (0.285, 2, 0.29), (2.5, 0, 3), (8.452, 0, 8),
                                      (84.515, 2, 84.52), (-1.005, 2, -1.01)])
def test_round_half_up_like_excel(x, d, want):
    assert round_excel(x, d) == want


def test_round_modes():
    assert round_excel(8.452, 0, "up") == 9
    assert round_excel(8.952, 0, "down") == 8
    assert round_excel(8.452, None) == 8.452


def test_proportional_capped_at_weight():
    assert jixiao.exec_score(1.2, "national-2020") == 10
    assert jixiao.exec_score(0.8452, "national-2020") == 8.45
    assert jixiao.exec_score(0.8452, "national-2020", weight=20) == 16.9


def test_bad_budget_is_an_explicit_error():
    with pytest.raises(jixiao.ValueReadError, match="全年预算数为 0"):
        jixiao.exec_rate(0, 10)
    with pytest.raises(jixiao.ValueReadError, match="不是数字"):
        jixiao.exec_rate("三万", 10)


def test_amounts_typed_as_text_are_read():
    assert jixiao.exec_rate("38,479.52", "３２５２１.０７") == pytest.approx(0.8451526942)


def test_total_cap_by_exec_rate(tmp_path):
    prof = tmp_path / "capped.toml"
    prof.write_text('[profile]\nid = "capped"\nname = "封顶"\nextends = "national-2020"\n'
                    '[execution.total_cap]\nenabled = true\n', encoding="utf-8")
    assert jixiao.cap_total(95, 0.75, str(prof)) == 89
    assert jixiao.cap_total(95, 0.65, str(prof)) == 79
    assert jixiao.cap_total(95, 0.45, str(prof)) == 59
    assert jixiao.cap_total(95, 0.85, str(prof)) == 95
    assert jixiao.cap_total(95, 0.45, "national-2020") == 95  # not enabled by default


@given(rate=st.floats(min_value=0, max_value=3), profile=st.sampled_from(jixiao.shipped_profiles()))
def test_exec_score_between_zero_and_weight(rate, profile):
    p = jixiao.load_profile(profile)
    assert 0 <= jixiao.exec_score(rate, p) <= p.execution.weight


@given(st.floats(min_value=0, max_value=2), st.floats(min_value=0, max_value=2),
       st.sampled_from(jixiao.shipped_profiles()))
def test_exec_score_never_falls_as_rate_rises(a, b, profile):
    lo, hi = sorted((a, b))
    assert jixiao.exec_score(lo, profile) <= jixiao.exec_score(hi, profile)
