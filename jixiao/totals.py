"""Totals by level, the weight check and the grade.

Source: 财预〔2020〕10号 (一级指标 weights “原则上” 执行率10、产出50、效益30、
满意度10); 等级 bands 优 ≥90, 良 [80,90), 中 [60,80), 差 <60. Which levels a
form has, whether its 合计 row includes the 执行率 score, and the grade
labels and cut-offs are profile data.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from . import vocabulary
from .errors import Finding
from .numbers import as_number
from .profile import GradeBand, Profile, load_profile
from .rules import rule
from .textcache import per_text

FIRST_LEVEL = rule("weights.first_level", "一级指标分值与规则不同", "weight")
TOTAL = rule("weights.total", "分值合计不符", vocabulary.SUM_ROW_WEIGHT)
UNKNOWN_LEVEL = rule("weights.unknown_level", "一级指标不在规则中", "weight")
SECOND_LEVEL = rule("weights.second_level", "二级指标标注的分值与各行之和不符", "weight")

_WEIGHT_IN_LABEL = re.compile(r"[（(]\s*(\d+(?:\.\d+)?)\s*分?\s*[)）]|(?<=[^\d.（(])(\d+(?:\.\d+)?)分(?![^（(]*[)）])")


@dataclass(frozen=True)
class IndicatorLine:
    """One scored indicator row, reduced to what totals need."""

    level1: str
    level2: str
    name: str
    weight: float
    score: float | None


def split_label(label: str) -> tuple[str, float | None]:
    """A block label's own name and the points it states for its block, in each way forms write them:
    '产出指标 (50分)', '效益指标（30分）', '数量指标15分', '决策(10)'; a label naming an enclosing group as well states its own
    block last ('项目绩效85分 / 产出指标40分' → ('产出指标', 40.0)).

    Example:
        >>> split_label("产出指标 (50分)"), split_label("效益指标（30分）"), split_label("满意度指标")
        (('产出指标', 50.0), ('效益指标', 30.0), ('满意度指标', None))
        >>> split_label("数量指标15分"), split_label("项目绩效85分\\n产出指标40分"), split_label("决策(10)")
        (('数量指标', 15.0), ('产出指标', 40.0), ('决策', 10.0))
        >>> split_label("产出指标(2023)")
        ('产出指标(2023)', None)
    """
    return _split_label(str(label or ""))


_SPACE = re.compile(r"\s+")


@per_text
def _split_label(label: str) -> tuple[str, float | None]:
    text = _SPACE.sub("", label)
    found = [m for m in _WEIGHT_IN_LABEL.finditer(text)  # a bare "(2023)" is a year, not points
             if "分" in m.group(0) or float(m.group(1) or m.group(2)) <= 100]
    if not found:
        return text, None
    last = found[-1]
    name = text[found[-2].end():last.start()] if len(found) > 1 else text[:last.start()] + text[last.end():]
    return (name or text), float(last.group(1) or last.group(2))


def level_key(label: str) -> str:
    """A name to compare first-level labels by: '产出指标（50分）', '产出' and ' 产出指标' all give '产出'.

    Example:
        >>> level_key("产出指标（50分）"), level_key(" 产出指标"), level_key("产出")
        ('产出', '产出', '产出')
    """
    name, _ = split_label(label)
    return name[:-2] if name.endswith("指标") and len(name) > 2 else name


def sum_by_level(lines: Iterable[IndicatorLine]) -> dict[str, dict]:
    """Weights and scores summed per 一级 and per (一级, 二级). Unscored rows add weight only.

    Example:
        >>> lines = [IndicatorLine("产出指标", "数量指标", "办件量", 30, 30.0),
        ...          IndicatorLine("产出指标", "质量指标", "差错率", 20, 15.0)]
        >>> sum_by_level(lines)["一级"]
        {'产出': {'weight': 50.0, 'score': 45.0}}
    """
    first: dict[str, dict[str, float]] = {}
    second: dict[tuple[str, str], dict[str, float]] = {}
    for ln in lines:
        k1, k2 = level_key(ln.level1), split_label(ln.level2)[0]
        for bucket, key in ((first, k1), (second, (k1, k2))):
            b = bucket.setdefault(key, {"weight": 0.0, "score": 0.0})  # type: ignore[arg-type]
            b["weight"] += ln.weight
            b["score"] += ln.score or 0.0
    return {"一级": first, "二级": second}


def indicators_total(lines: Iterable[IndicatorLine]) -> float:
    """Sum of indicator scores, rounded to 10 decimals against float noise.

    Example:
        >>> indicators_total([IndicatorLine("产出指标", "数量指标", "办件量", 50, 45.0),
        ...                   IndicatorLine("满意度指标", "服务对象满意度指标", "满意度", 10, 9.47)])
        54.47
    """
    return round(sum(ln.score or 0.0 for ln in lines), 10)


def check_weights(lines: Iterable[IndicatorLine], profile: str | Profile | None = None,
                  execution_weight: float | None = None) -> list[Finding]:
    """Indicator weights against the profile: their total, and each first level's sum.

    Example:
        >>> lines = [IndicatorLine("产出指标", "数量指标", "办件量", 50, 50.0),
        ...          IndicatorLine("效益指标", "社会效益指标", "群众满意", 30, 30.0),
        ...          IndicatorLine("满意度指标", "服务对象满意度指标", "满意度", 10, 9.47)]
        >>> check_weights(lines)
        []
        >>> [(f.rule, f.expected, f.found) for f in check_weights(lines[:2])]
        [('weights.total', 90.0, 80), ('weights.first_level', 10.0, 0.0)]
    """
    p = load_profile(profile)
    lines = list(lines)
    rule = p.weights
    ew = p.execution.weight if execution_weight is None else as_number(execution_weight, "执行率分值")
    findings = []
    have = round(sum(ln.weight for ln in lines), 10)
    want = rule.total - (ew if rule.execution_separate else 0.0)
    if abs(have - want) > rule.tolerance:
        findings.append(Finding(TOTAL, "error",
                                f"绩效指标分值合计 {have:g}，应为 {want:g}（总分 {rule.total:g}"
                                + (f"，执行率 {ew:g} 分另计" if rule.execution_separate else "") + "）",
                                expected=want, found=have))
    if rule.first_level:
        sums = sum_by_level(lines)["一级"]
        expected = {level_key(k): v for k, v in rule.first_level.items()}
        for key, wanted in expected.items():
            got = sums.get(key, {"weight": 0.0})["weight"]
            if abs(got - wanted) > rule.tolerance:
                findings.append(Finding(FIRST_LEVEL, rule.first_level_severity,  # type: ignore[arg-type]
                                        f"一级指标“{key}”分值合计 {got:g}，规则配置为 {wanted:g}",
                                        expected=wanted, found=got, extra={"level1": key}))
        for key in sums:
            if key not in expected:
                findings.append(Finding(UNKNOWN_LEVEL, "warning",
                                        f"一级指标“{key}”不在规则配置中（{'、'.join(expected)}）",
                                        expected=list(expected), found=key, extra={"level1": key}))
    return findings


def overall_total(execution_score: float, indicator_sum: float) -> float:
    """总分 = 执行率得分 + 绩效指标得分之和.

    Example:
        >>> overall_total(9, 90)
        99.0
    """
    return round(as_number(execution_score, "执行率得分") + as_number(indicator_sum, "指标得分"), 10)


def sum_row_value(execution_score: float, indicator_sum: float, profile: str | Profile | None = None) -> float:
    """What the form's 合计 row should show: with or without the 执行率 score, by profile.

    Example:
        >>> sum_row_value(9, 90), sum_row_value(9, 90, "hunan-dept-2024")
        (99.0, 90)
    """
    p = load_profile(profile)
    return overall_total(execution_score, indicator_sum) if p.weights.sum_row_includes_execution \
        else round(indicator_sum, 10)


def grade(total: float, profile: str | Profile | None = None,
          bands: tuple[GradeBand, ...] | None = None) -> str:
    """等级 for a total under the profile's bands (default 优/良/中/差 at 90/80/60), or under ``bands``
    (a grading legend printed on the form, :func:`legend_bands`), which decide for that form.

    Example:
        >>> grade(99), grade(89.99), grade(60), grade(59.5)
        ('优', '良', '中', '差')
        >>> grade(75, bands=legend_bands("90（含）—100分为优；80（含）—90分为良；60（含）—80分为较差；60分以下为差"))
        '较差'
    """
    table = bands or load_profile(profile).grade
    t = as_number(total, "总分")
    for band in table:  # sorted high to low
        if t >= band.min - 1e-9:
            return band.label
    return table[-1].label


_NUM = r"(\d+(?:\.\d+)?)"
_INCL = r"(?:[（(]\s*(含|不含)\s*[^)）]{0,4}[)）])?"
_BAND_FROM = re.compile(rf"{_NUM}\s*分?\s*{_INCL}\s*(?:分?\s*(?:及)?以上|[—\-–~～至到]+\s*{_NUM}\s*分?\s*{_INCL})\s*"
                        r"(?:分)?\s*(?:的)?\s*(?:为|评为|定为|属于|是)\s*[“\"「]?([\u4e00-\u9fff]{1,3})")
_BAND_BELOW = re.compile(rf"{_NUM}\s*分?\s*(?:以下|以内)\s*{_INCL}\s*(?:的)?\s*(?:为|评为|定为|属于|是)\s*"
                         r"[“\"「]?([\u4e00-\u9fff]{1,3})")


def legend_bands(text: object) -> tuple[GradeBand, ...] | None:
    """The grade bands of a grading legend printed on a form ("90分（含）以上为优；80（含）—90分为良；
    60（含）—80分为较差；60分以下为差"), high to low; None when the text states fewer than two bands.
    A lower bound marked （不含） starts just above its number.

    Example:
        >>> [(b.min, b.label) for b in legend_bands("90分（含）以上为优，80（含）-90分为良，60（含）-80分为较差，60分以下为差")]
        [(90.0, '优'), (80.0, '良'), (60.0, '较差'), (0.0, '差')]
        >>> legend_bands("单位负责人：") is None
        True
    """
    if not isinstance(text, str) or "为" not in text and "是" not in text:
        return None
    t = re.sub(r"\s+", "", text.translate({0xFF0D: "-", 0xFF5E: "~"}))
    bands: dict[str, float] = {}
    for seg in re.split(r"[；;，,。、\n]", t):
        m = _BAND_FROM.search(seg)
        if m:
            lo = float(m.group(1)) + (1e-6 if m.group(2) == "不含" else 0.0)
            bands.setdefault(m.group(5), lo)
            continue
        m = _BAND_BELOW.search(seg)
        if m:
            bands.setdefault(m.group(3), 0.0)
    if len(bands) < 2:
        return None
    return tuple(sorted((GradeBand(v, k) for k, v in bands.items()), key=lambda b: b.min, reverse=True))
