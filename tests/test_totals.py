"""Totals by level, weight checks and grades."""
import pytest

import jixiao
from jixiao.totals import IndicatorLine, level_key, split_label


@pytest.mark.parametrize("label,name,weight", [("产出指标 (50分)", "产出指标", 50), ("效益指标（30 分）", "效益指标", 30),
                                               ("满意度\n指标", "满意度指标", None), ("　成本指标　", "成本指标", None)])
def test_labels_with_weights_and_spaces(label, name, weight):
    assert split_label(label) == (name, weight)


def test_level_keys_compare_short_and_long_names():
    assert level_key("产出指标（50分）") == level_key("产出") == "产出"


@pytest.mark.parametrize("total,label", [(99, "优"), (90, "优"), (89.99, "良"), (80, "良"), (79.5, "中"),
                                         (60, "中"), (59.99, "差"), (0, "差")])
def test_default_grades(total, label):
    assert jixiao.grade(total) == label


def test_grade_labels_from_profile(tmp_path):
    prof = tmp_path / "p.toml"
    prof.write_text('[profile]\nid = "x"\nname = "x"\nextends = "national-2020"\n'
                    '[grade]\nbands = [{min = 85, label = "好"}, {min = 0, label = "较差"}]\n', encoding="utf-8")
    assert jixiao.grade(86, str(prof)) == "好" and jixiao.grade(84, str(prof)) == "较差"


def test_weight_total_must_match_profile():
    lines = [IndicatorLine("产出指标", "数量指标", "a", 50, 50), IndicatorLine("效益指标", "社会效益指标", "b", 30, 30),
             IndicatorLine("满意度指标", "服务对象满意度指标", "c", 5, 5)]
    findings = jixiao.check_weights(lines, "national-2020")
    total = [f for f in findings if f.rule == "weights.total"][0]
    assert total.severity == "error" and (total.expected, total.found) == (90, 85)
    level = [f for f in findings if f.rule == "weights.first_level"][0]
    assert level.extra["level1"] == "满意度" and (level.expected, level.found) == (10, 5)
