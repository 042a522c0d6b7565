"""Reading 年度指标值 and 实际完成值 as officers write them.

A value is one of three things:

* :class:`Measure` — a comparator (≥ ≤ > < = 约, or words such as 不少于, 以内),
  a number, an optional magnitude (万, 亿, 千万 …) and a unit (%, 万元, 期 …);
* :class:`Qualitative` — text that is not a single measurement (显著提升, 不超支);
* :class:`Unreadable` — text that looks like a measurement but cannot be read,
  with the reason. Nothing unreadable is ever scored as 0 silently.

Source: 财预〔2020〕10号 附件 (indicator value forms); DOMAIN.md §2.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum
from typing import Literal, Union

from .rules import error_codes
from .textcache import per_text

error_codes({
    "value.missing": "缺少数值",
    "value.not_number": "不是数字",
    "value.comparator_conflict": "比较符前后矛盾",
    "value.no_number": "只有比较符没有数值",
    "value.unit_unknown": "单位无法识别",
    "value.unit_ambiguous": "未写单位，无法判断",
})


Direction = Literal["正向", "反向", "等于"]


class Comparator(str, Enum):
    GE = "≥"
    GT = ">"
    LE = "≤"
    LT = "<"
    EQ = "="
    APPROX = "约"

    @property
    def direction(self) -> Direction:
        """正向/反向/等于 from the comparator; a bare number is 等于.

        Example:
            >>> Comparator.GE.direction, Comparator.LT.direction, Comparator.APPROX.direction
            ('正向', '反向', '等于')
        """
        if self in (Comparator.GE, Comparator.GT):
            return "正向"
        if self in (Comparator.LE, Comparator.LT):
            return "反向"
        return "等于"


# Words written before the number. Longest first, so 不超过 wins over 超过.
PREFIX_WORDS: dict[str, Comparator] = {
    "大于等于": Comparator.GE, "大于或等于": Comparator.GE, "不少于": Comparator.GE,
    "不低于": Comparator.GE, "不小于": Comparator.GE, "至少": Comparator.GE, "达到": Comparator.GE,
    "≥": Comparator.GE, ">=": Comparator.GE, "≧": Comparator.GE, "⩾": Comparator.GE, "达": Comparator.GE,
    "超过": Comparator.GT, "大于": Comparator.GT, "高于": Comparator.GT, "多于": Comparator.GT,
    "超": Comparator.GT, ">": Comparator.GT,
    "小于等于": Comparator.LE, "小于或等于": Comparator.LE, "不超过": Comparator.LE,
    "不高于": Comparator.LE, "不大于": Comparator.LE, "不多于": Comparator.LE, "至多": Comparator.LE,
    "最多": Comparator.LE, "≤": Comparator.LE, "<=": Comparator.LE, "≦": Comparator.LE, "⩽": Comparator.LE,
    "小于": Comparator.LT, "低于": Comparator.LT, "少于": Comparator.LT, "<": Comparator.LT,
    "等于": Comparator.EQ, "=": Comparator.EQ, "==": Comparator.EQ,
    "大约": Comparator.APPROX, "约": Comparator.APPROX, "≈": Comparator.APPROX,
    "力争达到": Comparator.GE, "力争": Comparator.GE,
}
# Negations: the words say the value was NOT reached (or not exceeded). As a target they are a bound
# (不足5% = <5%); as an actual value they say the measurement lies below (or at most at) the number, so it
# can never read as reaching it. Longest first, so 未达到 wins over 达到 and 未超过 over 超过.
NEGATED_WORDS: dict[str, Comparator] = {
    "未达到": Comparator.LT, "未能达到": Comparator.LT, "尚未达到": Comparator.LT, "没有达到": Comparator.LT,
    "没达到": Comparator.LT, "未达": Comparator.LT, "没达": Comparator.LT, "不到": Comparator.LT,
    "不足": Comparator.LT, "未满": Comparator.LT, "未完成": Comparator.LT, "没有完成": Comparator.LT,
    "未超过": Comparator.LE, "没有超过": Comparator.LE, "没超过": Comparator.LE, "未超": Comparator.LE,
    "未高于": Comparator.LE, "未低于": Comparator.GE, "未少于": Comparator.GE,
}
PREFIX_WORDS.update(NEGATED_WORDS)
# Words written after the number (with the unit): 95%以上, 3天以内, 50亿元左右.
SUFFIX_WORDS: dict[str, Comparator] = {
    "及以上": Comparator.GE, "以上": Comparator.GE, "及以下": Comparator.LE, "以下": Comparator.LE,
    "以内": Comparator.LE, "之内": Comparator.LE, "内": Comparator.LE, "左右": Comparator.APPROX,
}
MAGNITUDES: dict[str, float] = {
    "千万": 1e7, "百万": 1e6, "十万": 1e5, "万": 1e4, "亿": 1e8, "千": 1e3, "百": 1e2,
}
# Base units (after any magnitude). % and ‰ are ratios; everything else is a count or amount.
UNITS: tuple[str, ...] = (
    "%", "‰", "元", "条", "期", "次", "个", "篇", "人", "户", "辆", "天", "分", "家", "项", "场",
    "件", "所", "套", "台", "座", "处", "批", "份", "本", "册", "张", "株", "棵", "头", "只", "宗",
    "间", "栋", "部", "名", "吨", "亩", "年", "月", "日", "周", "米", "例", "课时", "学时", "公顷",
    "人次", "户次", "车次", "架次", "场次", "班次", "小时", "分钟", "工作日", "个月", "平方米", "平米",
    "㎡", "立方米", "m³", "公里", "千米", "km", "公斤", "千克", "kg", "千瓦时", "度", "GB", "TB",
    "元/人", "元/平方米", "项次", "所次", "个百分点", "厘米", "毫米", "平方公里", "百分比",
)
RATIO_SCALE = {"%": 0.01, "‰": 0.001, "百分比": 0.01}

_FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_FULLWIDTH.update({0x3000: 0x20, 0xFE6A: ord("%"), 0x2030: ord("‰")})


_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_SPACE = re.compile(r"\s+")


@per_text
def normalise(text: str) -> str:
    """Full-width ASCII to half-width, line breaks to spaces, thousands separators removed.

    Example:
        >>> normalise("３６，２７３.９８")
        '36273.98'
        >>> normalise("1,234,567.5")
        '1234567.5'
    """
    t = text.translate(_FULLWIDTH).replace("\r", " ").replace("\n", " ").strip()
    return _THOUSANDS.sub("", t)


def _alt(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
# A unit jixiao does not list (MWp, 标准箱, 千伏安): Latin letters, or one to three CJK characters that are not
# a comparator word; read as a unit of its own (the same unit on both sides is comparable).
_OTHER_UNIT = (rf"(?:(?![eE][-+]?\d)[A-Za-zμΩ][A-Za-z0-9μΩ·/²³]{{0,7}}"
               rf"|(?:(?!{_alt(SUFFIX_WORDS)})[\u4e00-\u9fff]){{1,3}}(?:/[\u4e00-\u9fff]{{1,2}})?)")
_MEASURE_RE = re.compile(
    rf"^(?P<label>[^\d]*?)\s*(?P<pre>{_alt(PREFIX_WORDS)})?\s*(?P<num>{_NUM})\s*"
    rf"(?P<mag>{_alt(MAGNITUDES)})?\s*(?P<unit>{_alt(UNITS)}|{_OTHER_UNIT})?\s*"
    rf"(?P<post>{_alt(SUFFIX_WORDS)})?\s*[;；。.,，]?\s*$"
)
_PLAIN_RE = re.compile(rf"^\s*(?P<num>{_NUM})\s*(?P<unit>%|‰)?\s*$")
_STARTS_LIKE_MEASURE = re.compile(rf"^\s*(?:{_alt(PREFIX_WORDS)})?\s*{_NUM}")
_ONLY_COMPARATOR = re.compile(rf"\s*(?:{_alt(set(PREFIX_WORDS) - set(NEGATED_WORDS))})\s*[%‰]?\s*")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{3,}")
_DATE_LIKE = re.compile(r"^\s*(?:20\d\d\s*年\s*)?\d{1,2}\s*月(?:份|底|末)?(?:前|以前|之前)?\s*$")


@dataclass(frozen=True)
class Measure:
    """A measurement: comparator (None when bare), number as written, magnitude and unit."""

    comparator: Comparator | None
    number: float
    magnitude: str
    unit: str
    text: str
    number_text: str = ""
    comparator_word: str = ""

    @property
    def negated(self) -> bool:
        """The words deny the number (未达到95%, 不足90%, 未超过3次): as an actual value, a bound, not a measurement.

        Example:
            >>> parse_value("未达到95%").negated, parse_value("达到95%").negated
            (True, False)
        """
        return self.comparator_word in NEGATED_WORDS

    @property
    def unit_known(self) -> bool:
        """Whether jixiao lists the unit (a unit it does not know is still read as a unit).

        Example:
            >>> parse_value("≥8MWp").unit_known, parse_value("≥8个").unit_known
            (False, True)
        """
        return self.unit == "" or self.unit in UNITS

    @property
    def dimension(self) -> str:
        """What the value measures: ``ratio`` for % and ‰, else the base unit ('' when none).

        Example:
            >>> parse_value("≥95%").dimension, parse_value("24期").dimension
            ('ratio', '期')
        """
        return "ratio" if self.unit in RATIO_SCALE else self.unit

    @property
    def base_value(self) -> float:
        """The number in base units: 95% → 0.95, 1.2万条 → 12000, 50亿元 → 5e9.

        Example:
            >>> round(parse_value("95%").base_value, 12), parse_value("50亿元").base_value
            (0.95, 5000000000.0)
        """
        v = self.number * MAGNITUDES.get(self.magnitude, 1.0)
        return v * RATIO_SCALE.get(self.unit, 1.0)

    @property
    def direction(self) -> Direction:
        """正向/反向/等于 from the comparator; a bare number is 等于.

        Example:
            >>> parse_value("≥95%").direction, parse_value("3天以内").direction, parse_value("24期").direction
            ('正向', '反向', '等于')
        """
        return self.comparator.direction if self.comparator else "等于"

    def unit_label(self) -> str:
        """Magnitude and unit as written: 万条, %, 亿元.

        Example:
            >>> parse_value("1.2万条").unit_label(), parse_value("≥95%").unit_label()
            ('万条', '%')
        """
        return f"{self.magnitude}{self.unit}"

    def format(self) -> str:
        """Canonical text; parse(format(m)) gives back the same measure.

        Example:
            >>> parse_value("不少于20个").format()
            '≥20个'
        """
        num = self.number_text or format(self.number, "g")
        cmp = "" if self.comparator is None else (
            "约" if self.comparator is Comparator.APPROX else self.comparator.value)
        return f"{cmp}{num}{self.magnitude}{self.unit}"


@dataclass(frozen=True)
class Qualitative:
    """Text scored by grade (达成/部分达成/未达成), not by number."""

    text: str


@dataclass(frozen=True)
class Unreadable:
    """A value that looks like a measurement but cannot be read; ``reason`` says why (Chinese)."""

    text: str
    reason: str
    code: str = "value.unreadable"


Value = Union[Measure, Qualitative, Unreadable]


def parse_value(raw: object, number_format: str | None = None) -> Value:
    """Read a cell's 年度指标值 / 实际完成值.

    ``raw`` may be text or a number from a cell; ``number_format`` (the cell's
    Excel format) tells whether a number such as 0.95 is shown as 95%.

    Example:
        >>> v = parse_value("≥95%")
        >>> v.comparator.value, v.number, v.unit, v.direction
        ('≥', 95.0, '%', '正向')
        >>> parse_value("≤1次").direction, parse_value("=24期").direction, parse_value("24期").direction
        ('反向', '等于', '等于')
        >>> parse_value("1.2万条").base_value
        12000.0
        >>> parse_value("显著提升")
        Qualitative(text='显著提升')
        >>> parse_value("95#").reason
        '数字后的单位或写法无法识别'
        >>> parse_value(0.95, "0.00%").format()
        '95%'
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return Unreadable("", "未填写", code="value.missing")
    if isinstance(raw, bool):
        return Unreadable(str(raw), "逻辑值不是指标值", code="value.not_number")
    if isinstance(raw, (int, float)):
        if not math.isfinite(raw):
            return Unreadable(str(raw), "不是有限的数值", code="value.not_number")
        if number_format and "%" in number_format:
            num = float(raw) * 100
            return Measure(None, num, "", "%", f"{num:g}%", format(num, "g"))
        return Measure(None, float(raw), "", "", format(float(raw), "g"), format(float(raw), "g"))
    return _parse_text(str(raw))


@per_text
def _parse_text(text: str) -> Value:
    """:func:`parse_value` of a text (each distinct text read once: forms repeat their values)."""
    t = normalise(text)
    if _DATE_LIKE.match(t):
        return Qualitative(text.strip())  # a deadline or a month: "9月前", "2023年12月"
    m = _MEASURE_RE.match(t)
    if m and not (m["label"] and not m["pre"]):
        pre = PREFIX_WORDS.get(m["pre"]) if m["pre"] else None
        post = SUFFIX_WORDS.get(m["post"]) if m["post"] else None
        if pre and post and pre is not post and Comparator.APPROX not in (pre, post):
            return Unreadable(text, f"比较符矛盾：“{m['pre']}”与“{m['post']}”", code="value.comparator_conflict")
        cmp = pre if pre and pre is not Comparator.APPROX else (post or pre)
        num_text = m["num"].lstrip("+")
        word = (m["pre"] or "") + (m["post"] or "")
        mag, unit = m["mag"] or "", m["unit"] or ""
        if mag and mag + unit in UNITS:  # 千米, 千克: a unit that begins like a magnitude
            mag, unit = "", mag + unit
        return Measure(cmp, float(num_text), mag, unit, text, num_text, word)
    if _STARTS_LIKE_MEASURE.match(t) and len(t) <= 16 and not _CJK_RUN.search(t):
        return Unreadable(text, "数字后的单位或写法无法识别", code="value.unit_unknown")
    if m is None and _ONLY_COMPARATOR.fullmatch(t):
        return Unreadable(text, "只有比较符，没有数值", code="value.no_number")
    return Qualitative(text.strip())


def parse_plain_number(text: str) -> float | None:
    """A bare number as typed in an amount or rate cell: '36,273.98', '84.52%', '３６２７３.９８'.

    Example:
        >>> parse_plain_number("36,273.98"), parse_plain_number("84.52%")
        (36273.98, 0.8452)
        >>> parse_plain_number("约5") is None
        True
    """
    m = _PLAIN_RE.match(normalise(text))
    if not m:
        return None
    return float(m["num"]) * RATIO_SCALE.get(m["unit"] or "", 1.0)


def cell_number(v: object) -> float | None:
    """A cell's value as a number, or None: numbers as they are, text through :func:`parse_plain_number`.

    Example:
        >>> cell_number("38,479.52"), cell_number(9), cell_number("84.52%"), cell_number("九")
        (38479.52, 9.0, 0.8452, None)
    """
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, str):
        return parse_plain_number(v)
    return None


def compact(text: object) -> str:
    """Text as labels are compared: half-width, no spaces or line breaks of any width.

    Example:
        >>> compact(" 三级\\u3000指标\\n")
        '三级指标'
    """
    return "" if text is None else _compact(text if isinstance(text, str) else str(text))


@per_text
def _compact(text: str) -> str:
    return _SPACE.sub("", normalise(text))
