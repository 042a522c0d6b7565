"""Reading 年度指标值 / 实际完成值 as officers type them."""
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from jixiao.values import (
    MAGNITUDES,
    PREFIX_WORDS,
    SUFFIX_WORDS,
    UNITS,
    Comparator,
    Measure,
    Qualitative,
    Unreadable,
    parse_plain_number,
    parse_value,
)


@pytest.mark.parametrize("text,cmp,base,unit", [
    ("≥95%", Comparator.GE, 0.95, "%"),
    ("＞10", Comparator.GT, 10, ""),
    ("≤1次", Comparator.LE, 1, "次"),
    ("<1", Comparator.LT, 1, ""),
    ("=24期", Comparator.EQ, 24, "期"),
    ("24期", None, 24, "期"),
    ("不少于1.2万条", Comparator.GE, 12000, "条"),
    ("不低于 98 %", Comparator.GE, 0.98, "%"),
    ("不超过5000万元", Comparator.LE, 5e7, "元"),
    ("不高于3‰", Comparator.LE, 0.003, "‰"),
    ("95%以上", Comparator.GE, 0.95, "%"),
    ("3天以内", Comparator.LE, 3, "天"),
    ("超100人", Comparator.GT, 100, "人"),
    ("约50亿元", Comparator.APPROX, 5e9, "元"),
    ("50亿元左右", Comparator.APPROX, 5e9, "元"),
    ("达90.74%", Comparator.GE, 0.9074, "%"),
    ("≧１，２３４．５元", Comparator.GE, 1234.5, "元"),
    ("1,234,567元", None, 1234567, "元"),
    ("≤2千万元", Comparator.LE, 2e7, "元"),
    ("≥12篇", Comparator.GE, 12, "篇"),
    ("≥300人次", Comparator.GE, 300, "人次"),
    ("满意度≥90%", Comparator.GE, 0.9, "%"),
])
def test_measures(text, cmp, base, unit):
    v = parse_value(text)
    assert isinstance(v, Measure), v
    assert v.comparator == cmp
    assert v.base_value == pytest.approx(base)
    assert v.unit == unit


@pytest.mark.parametrize("text", ["显著提升", "不超支", "无重大差错", "按规定时限办结", "优化",
                                  "力争盘活国有资产50亿元左右；变现20亿元", "干部职工垃圾分类意识增强"])
def test_qualitative(text):
    assert isinstance(parse_value(text), Qualitative)


@pytest.mark.parametrize("text,code", [("", "value.missing"), ("   ", "value.missing"), (None, "value.missing"),
                                       ("≥95#", "value.unit_unknown"), ("≥%", "value.no_number"),
                                       ("95%%", "value.unit_unknown"), ("≤95%以上", "value.comparator_conflict")])
def test_unreadable_says_why(text, code):
    v = parse_value(text)
    assert isinstance(v, Unreadable) and v.code == code and v.reason


def test_cell_numbers_use_the_number_format():
    assert parse_value(0.95, "0.00%").base_value == pytest.approx(0.95)
    assert parse_value(0.95, "0.00%").unit == "%"
    assert parse_value(21).unit == "" and parse_value(21).base_value == 21


def test_units_that_begin_like_magnitudes():
    v = parse_value("≤5千米")
    assert (v.magnitude, v.unit, v.base_value) == ("", "千米", 5)


def test_plain_numbers():
    assert parse_plain_number("84.52%") == pytest.approx(0.8452)
    assert parse_plain_number("36,273.98") == 36273.98
    assert parse_plain_number("一般公共预算：36273.98") is None


_numbers = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)


@given(word=st.sampled_from(sorted(PREFIX_WORDS)), num=_numbers,
       mag=st.sampled_from([""] + sorted(MAGNITUDES)), unit=st.sampled_from(UNITS))
def test_prefix_round_trip(word, num, mag, unit):
    assume(mag + unit not in UNITS)  # 千+米 is the unit 千米, not a magnitude
    text = f"{word}{num}{mag}{unit}"
    v = parse_value(text)
    assert isinstance(v, Measure), text
    assert v.comparator == PREFIX_WORDS[word]
    assert v.number == pytest.approx(float(num))
    assert (v.magnitude, v.unit) == (mag, unit)
    again = parse_value(v.format())
    assert (again.comparator, again.number, again.magnitude, again.unit) == \
        (v.comparator, v.number, v.magnitude, v.unit)


@given(word=st.sampled_from(sorted(SUFFIX_WORDS)), num=_numbers, unit=st.sampled_from(UNITS))
def test_suffix_round_trip(word, num, unit):
    v = parse_value(f"{num}{unit}{word}")
    assert isinstance(v, Measure)
    assert v.comparator == SUFFIX_WORDS[word] and v.unit == unit
    assert v.number == pytest.approx(float(num))


@given(num=_numbers, unit=st.sampled_from(UNITS))
def test_full_width_and_thousands_separators(num, unit):
    plain = f"≥{num:,}{unit}"
    full = plain.translate({i: i + 0xFEE0 for i in range(0x21, 0x7F)})
    a, b = parse_value(plain), parse_value(full)
    assert isinstance(a, Measure) and isinstance(b, Measure)
    assert a.number == b.number == pytest.approx(float(num))
