"""Issue 15 item 2: certainty is a property of the found value.

A score is an error when no rule of the profile's declared family of plausible rules gives it, and a warning
naming the rule when one does; a settled (official) key narrows the family to the profile's own rule.
"""
from __future__ import annotations

import pytest

from jixiao.certainty import execution_family, plausible_rule
from jixiao.deviation import indicator_score
from jixiao.form import DeptForm, score_form
from jixiao.profile import load_profile

HUNAN, NATIONAL = "hunan-dept-2024", "national-2020"


def _form(budget, executed, reported_score, weight=10, rate=None):
    return DeptForm.from_dict({
        "unit": "某单位", "year": 2024,
        "funds": {"budget": budget, "executed": executed, "weight": weight, "reported_score": reported_score,
                  "reported_rate": rate},
        "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "办件量", "target": "≥100件",
                        "actual": "100件", "weight": 90, "reported": 90}]})


def _exec(res):
    return [f for f in res.findings if f.rule == "execution.score_mismatch" and f.field == "funds.exec_score"]


@pytest.mark.parametrize("profile", [HUNAN, NATIONAL])
def test_zero_points_at_full_execution_is_an_error(profile):
    found = _exec(score_form(_form(100, 100, 0), profile))
    assert [f.severity for f in found] == ["error"]


@pytest.mark.parametrize("profile", [HUNAN, NATIONAL])
def test_more_points_than_the_cells_weight_is_an_error(profile):
    found = _exec(score_form(_form(100, 95, 11), profile))
    assert [f.severity for f in found] == ["error"] and "超过分值" in found[0].message


@pytest.mark.parametrize("reported", [7, 8.1, 9.3, 6])
def test_a_score_no_rounding_of_any_rule_gives_is_an_error(reported):
    # 执行率 84.52%: the plausible scores are 8, 9, 8.45 (and 8.46 rounded up): 7, 8.1, 9.3, 6 are none of them
    found = _exec(score_form(_form(38479.52, 32521.07, reported), HUNAN))
    assert [f.severity for f in found] == ["error"]


@pytest.mark.parametrize("reported,rule_words", [(8, "四舍五入"), (8.45, "两位小数"), (9, "向上取整")])
def test_a_score_some_plausible_rule_gives_is_a_warning_naming_it(reported, rule_words):
    res = score_form(_form(38479.52, 32521.07, reported), NATIONAL)
    found = _exec(res)
    if reported == 8.45:  # national's own rule: no finding at all
        assert found == []
        return
    assert [f.severity for f in found] == ["warning"] and rule_words in found[0].message


def test_the_rate_as_displayed_is_part_of_the_family():
    # 84.52% shown as "85%" (a form showing whole percents): 8.5 comes only from the displayed rate
    p = load_profile(NATIONAL)
    assert 8.5 not in {r.value for r in execution_family(0.8452, 10, p)}
    assert 8.5 in {r.value for r in execution_family(0.8452, 10, p, shown_rate=0.85)}


def test_a_settled_key_narrows_the_family_to_one_rule(tmp_path):
    prof = tmp_path / "settled.toml"
    prof.write_text('[profile]\nid = "settled"\nextends = "national-2020"\nname = "已定规则"\n'
                    '[sources.execution]\nconfidence = "official"\nsource = "某省通知：按比例，保留两位小数"\n',
                    encoding="utf-8")
    assert {r.value for r in execution_family(0.8452, 10, load_profile(str(prof)))} == {8.45}
    found = _exec(score_form(_form(38479.52, 32521.07, 9), str(prof)))
    assert [f.severity for f in found] == ["error"]  # 9 would be rounding up: not the settled rule


def test_each_profile_declares_its_family_with_a_source():
    for name in (HUNAN, NATIONAL):
        fam = load_profile(name).execution.family
        assert fam.methods and fam.round_modes and fam.decimals and fam.source


def test_an_indicator_score_outside_every_rounding_is_an_error_inside_one_a_warning():
    # ≥95% / 90% of 10 points: the formula gives 9.4737; 9 and 9.5 are roundings of it, 8 and 9.2 are not
    for reported, severity in [(9, "warning"), (9.5, "warning"), (8, "error"), (9.2, "error")]:
        res = indicator_score("≥95%", "90%", 10, NATIONAL, reported=reported)
        assert [f.severity for f in res.findings if f.rule == "indicator.score_mismatch"] == [severity], reported


def test_plausible_rule_is_none_when_nothing_gives_the_value():
    fam = execution_family(1.0, 10, load_profile(HUNAN))
    assert plausible_rule(0, fam) is None and plausible_rule(10, fam) is not None


def test_where_the_indicator_formula_itself_is_judged_other_miss_rules_are_plausible(tmp_path):
    prof = tmp_path / "judged.toml"
    prof.write_text('[profile]\nid = "judged"\nextends = "national-2020"\nname = "公式推定"\n'
                    '[sources.indicators]\nconfidence = "inferred"\nsource = "由表格推定"\n', encoding="utf-8")
    # ≤1次 / 2次: the profile's relative rule gives 0 as well; =24期 / 20期: relative 8.33, proportional 8.33,
    # zero 0 — all plausible where the formula is judged; 5 is none of them
    res = indicator_score("=24期", "20期", 10, str(prof), reported=0)
    assert [f.severity for f in res.findings if f.rule == "indicator.score_mismatch"] == ["warning"]
    assert "不得分" in res.findings[0].message
    res = indicator_score("=24期", "20期", 10, str(prof), reported=5)
    assert [f.severity for f in res.findings if f.rule == "indicator.score_mismatch"] == ["error"]
    res = indicator_score("=24期", "20期", 10, NATIONAL, reported=0)  # official formula: 0 is no rounding of 8.33
    assert [f.severity for f in res.findings if f.rule == "indicator.score_mismatch"] == ["error"]
