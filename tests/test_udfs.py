"""The worksheet functions return the core's numbers and fail loudly on unreadable input."""
import jixiao_udfs as u
import pytest

import jixiao
from jixiao.functions import FUNCTIONS


def test_every_documented_udf_is_exposed():
    assert {"JX_EXEC_RATE", "JX_EXEC_SCORE", "JX_IND_SCORE", "JX_CONTROL_SCORE", "JX_GRADE"} <= set(u.UDFS)
    assert set(u.UDFS) == set(FUNCTIONS)
    for name, spec in FUNCTIONS.items():
        assert u.UDFS[name].__code__ is spec.func.__code__, name  # the core's code, decorated: no arithmetic of its own
        assert name.isascii() and name.startswith("JX_")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in spec.description), name  # Chinese description
        assert set(spec.arg_docs) == set(spec.params) and all(spec.arg_docs.values())


def test_udfs_equal_core():
    rate = u.JX_EXEC_RATE(38479.52, 32521.07)
    assert rate == jixiao.exec_rate(38479.52, 32521.07)
    assert u.JX_EXEC_SCORE(rate, "hunan-dept-2024") == 9
    assert u.JX_EXEC_SCORE(rate) == jixiao.exec_score(rate) == 8.45
    assert u.JX_EXEC_SCORE(rate, "", 20) == 16.9
    assert u.JX_IND_SCORE("≥95%", "90%", 10) == jixiao.indicator_score("≥95%", "90%", 10).score == 9.47
    assert u.JX_IND_SCORE("优化", "有所优化", 10, None, "部分达成", 7) == 7
    assert u.JX_CONTROL_SCORE("在职人员控制率", u.JX_CONTROL_RATE("在职人员控制率", 47, 51), "county-rubric-2022") == 2
    assert u.JX_PAYMENT_SCORE(0.18, 0.45, 0.8, "county-rubric-2022") == 0.6
    assert u.JX_GRADE(99) == "优" and u.JX_GRADE(79.9, "national-2020") == "中"
    assert u.JX_IND_KIND("≤1次") == "反向"
    assert u.JX_IND_REASON("≥95%", "90%", 10, 9.47) == "须填写"
    assert u.JX_IND_REASON("≥10个", "13个", 10, 10) == "宜说明"
    assert u.JX_VALUE("1.2万条") == 12000


def test_unreadable_values_raise_instead_of_scoring_zero():
    with pytest.raises(jixiao.ValueReadError, match="单位不一致"):
        u.JX_IND_SCORE("≥95%", "96个", 10)  # a bare 96 is 96% (issue 15)
    with pytest.raises(jixiao.ValueReadError):
        u.JX_IND_KIND("≥%")


def test_reason_rule_comes_from_the_profile(tmp_path):
    """A bureau that does not require 偏差原因 below full marks: the UDF and the core say the same."""
    prof = tmp_path / "no-reason.toml"
    prof.write_text('[profile]\nid = "no-reason"\nextends = "national-2020"\nname = "不要求偏差原因"\nsource = "测试"\n[indicators]\nreason_required_below_full = false\n',
                    encoding="utf-8")
    core = jixiao.indicator_score("≥95%", "90%", 10, str(prof), reason="")
    assert core.reason_required is False
    assert not any(f.rule == "indicator.reason_missing" for f in core.findings)
    assert u.JX_IND_REASON("≥95%", "90%", 10, core.score, str(prof)) == ""
    assert u.JX_IND_REASON("≥95%", "90%", 10, core.score) == "须填写"  # the default profile requires it
