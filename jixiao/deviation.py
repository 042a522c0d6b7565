"""Indicator (偏差) scores: each 三级指标 from 年度指标值, 实际完成值 and 分值.

Source: 财预〔2020〕10号 附件1 填表说明 — 定量指标完成指标值的记该指标所赋全部
分值；未完成的按 实际完成值/指标值 × 分值 记分；定性指标按 达成年度指标、部分
达成并具有一定效果、未达成且效果较差 三档，分别按 100%–80%、80%–60%、60%–0%
计分。Reverse (反向) and 等于 misses, over-achievement review and rounding
follow the profile's ``[indicators]`` table (DOMAIN.md §2).

Certain and judged (DOMAIN.md §4): 得分 above 分值 and a missing 偏差原因 under a score the form itself
shows below 分值 are errors; a score that differs from the rule is an error only where the rule is settled
(``[sources.indicators]`` official) and rounding does not explain it. A qualitative 实际完成值 that says
nothing about achievement ("无", a grade that is not the target's, a formula) keeps the officer's score and
is flagged for review; an approximate target (约, 左右, 力争, amounts in 万/亿) exceeded is flagged too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

from . import certainty
from .errors import Finding, Severity
from .numbers import as_number, clamp
from .profile import IndicatorRule, Profile, QualGrade, load_profile
from .rules import rule
from .values import (
    Comparator,
    Measure,
    Qualitative,
    Unreadable,
    Value,
    normalise,
    parse_value,
)

ACTUAL_HAS_COMPARATOR = rule("indicator.actual_has_comparator", "实际值写成了指标值", "actual")
ACTUAL_NOT_NUMBER = rule("indicator.actual_not_number", "实际完成值不是数值", "actual")
ACTUAL_UNREADABLE = rule("indicator.actual_unreadable", "实际完成值无法读取", "actual")
GRADE_UNKNOWN = rule("indicator.grade_unknown", "定性等级无法识别", "grade")
OVER_ACHIEVEMENT = rule("indicator.over_achievement", "超额完成待复核", "actual")
QUALITATIVE_OUT_OF_BAND = rule("indicator.qualitative_out_of_band", "定性得分超出等级区间", "score")
REASON_MISSING = rule("indicator.reason_missing", "缺偏差原因", "reason")
REASON_RECOMMENDED = rule("indicator.reason_recommended", "超额完成宜说明原因", "reason")
SCORE_MISMATCH = rule("indicator.score_mismatch", "指标得分不符", "score")
SCORE_OVER_WEIGHT = rule("indicator.score_over_weight", "得分超过分值", "score")
TARGET_UNREADABLE = rule("indicator.target_unreadable", "指标值无法读取", "target")
QUALITATIVE_UNPROVEN = rule("indicator.qualitative_unproven", "定性指标完成情况未说明", "actual")
APPROX_REVIEW = rule("indicator.approx_over_achievement", "约数指标超出待复核", "actual")
UNIT_MISMATCH = rule("indicator.unit_mismatch", "单位不一致", "actual")
ACTUAL_BOUND = rule("indicator.actual_bound", "实际完成值只写界限，需人工核对", "actual")

Kind = Literal["正向", "反向", "等于", "定性"]
# Words that may stand before a number in 实际完成值 without making it a target.
MEASURED_WORDS = {"", "达", "达到", "约", "大约", "≈", "=", "==", "等于", "左右"}
_EPS = 1e-9


@dataclass
class IndicatorScore:
    """What the rule says about one indicator row."""

    kind: Kind | None
    weight: float
    score: float | None
    target: Value
    actual: Value
    ratio: float | None = None  # actual / target, in base units
    met: bool | None = None
    grade: str | None = None
    grade_source: Literal["given", "inferred"] | None = None
    band: tuple[float, float] | None = None  # allowed points for a qualitative grade
    over_achievement: bool = False
    raw_score: float | None = None  # the rule's score before rounding
    raw_alternatives: dict[str, float] = field(default_factory=dict)  # other plausible miss rules → raw score
    reading_alternatives: dict[str, float] = field(default_factory=dict)  # other readings of the target → raw score
    reason_required: bool = False
    reason_recommended: bool = False
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No error-level finding.

        Example:
            >>> indicator_score("≥95%", "90%", 10).ok, indicator_score("≥95%", "90%", 10, reported=12).ok
            (True, False)
        """
        return not any(f.severity == "error" for f in self.findings)


def indicator_kind(target: object) -> Kind | None:
    """正向 / 反向 / 等于 from the comparator of 年度指标值, 定性 for text, None when unreadable.

    Example:
        >>> indicator_kind("≥95%"), indicator_kind("≤1次"), indicator_kind("=24期"), indicator_kind("显著提升")
        ('正向', '反向', '等于', '定性')
        >>> indicator_kind("95#") is None
        True
    """
    v = target if isinstance(target, (Measure, Qualitative, Unreadable)) else parse_value(target)
    if isinstance(v, Measure):
        return v.direction
    if isinstance(v, Qualitative):
        return "定性"
    return None


def _as_value(x: object) -> Value:
    return x if isinstance(x, (Measure, Qualitative, Unreadable)) else parse_value(x)


def indicator_score(target: object, actual: object, weight: float, profile: str | Profile | None = None, *,
                    grade: str | None = None, reported: float | None = None,
                    reason: str | None = None, name: str | None = None) -> IndicatorScore:
    """Score one indicator row.

    ``grade`` is the officer's 定性 grade (达成/部分达成/未达成 or the full label);
    ``reported`` the 得分 written on the form, checked against the rule;
    ``reason`` the 偏差原因 text (None when unknown), checked when required;
    ``name`` the 三级指标 (a bare rate target of a floor-by-nature indicator such as 满意度 reads as ≥).

    Example:
        >>> res = indicator_score("≥95%", "90%", 10)
        >>> res.score, res.kind, res.met, res.reason_required
        (9.47, '正向', False, True)
        >>> indicator_score("≤1次", "2次", 10).score
        0.0
        >>> indicator_score("=24期", "20期", 10).score
        8.33
        >>> res = indicator_score("显著提升", "部分完成", 10)
        >>> res.kind, res.grade, res.band, res.score
        ('定性', '部分达成并具有一定效果', (6.0, 8.0), 8.0)
        >>> [f.rule for f in indicator_score("≥100篇", "130篇", 10).findings]
        ['indicator.over_achievement']
        >>> [f.rule for f in indicator_score("≥95%", "90%", 10, reported=10, reason="").findings]
        ['indicator.score_mismatch', 'indicator.reason_missing']
    """
    p = load_profile(profile)
    rule = p.indicators
    w = as_number(weight, "分值")
    t, a = _as_value(target), _as_value(actual)
    res = IndicatorScore(kind=None, weight=w, score=None, target=t, actual=a)
    rep = None if reported is None or reported == "" else as_number(reported, "得分")

    t = res.target = _floor_by_nature(t, name, rule)
    if isinstance(t, Unreadable):
        res.findings.append(Finding(TARGET_UNREADABLE, "warning",
                                    f"年度指标值无法读取：{t.reason}，需人工核对", found=t.text))
    elif isinstance(t, Qualitative):
        res.kind = "定性"
        _score_qualitative(res, p, grade, rep)
    else:
        res.kind = t.direction
        _score_quantitative(res, p, t, a)

    if isinstance(t, Measure) and res.kind != "定性" and not res.over_achievement and res.ratio is not None:
        approx = t.comparator is Comparator.APPROX or "力争" in t.comparator_word or t.magnitude in ("万", "亿")
        if approx and res.kind != "反向" and res.ratio > 1 + rule.approx_tolerance + _EPS:
            res.findings.append(Finding(OVER_ACHIEVEMENT, "warning",
                                        f"指标值“{t.text.strip()}”是约数，实际完成值为其 {res.ratio:.0%}，"
                                        "请复核指标值是否设置偏低", expected=t.text.strip(), found=f"{res.ratio:.2%}",
                                        extra={"target": _as_written(t), "actual": _as_written(res.actual)}))
    if res.score is not None:
        res.raw_score = res.score
        res.score = clamp(rule.rounding.apply(res.score), 0.0, w)
        res.reason_required = _below_full(rule, res.score if rep is None or rep > w + _EPS else min(rep, res.score), w)
    res.reason_recommended = res.over_achievement and rule.reason_recommended_over_achievement
    if res.over_achievement:
        res.findings.append(Finding(OVER_ACHIEVEMENT, "warning",
            f"实际完成值为指标值的 {res.ratio:.0%}，超过 {rule.over_achievement_ratio:.0%}，"
            "请复核指标值是否设置偏低并说明原因", expected=f"< {rule.over_achievement_ratio:.0%}",
            found=f"{res.ratio:.2%}", extra={"target": _as_written(res.target), "actual": _as_written(res.actual)}))
    if rep is not None:
        if rep > w + _EPS:
            res.findings.append(Finding(SCORE_OVER_WEIGHT, "error",
                                        f"得分 {rep:g} 超过分值 {w:g}", expected=w, found=rep))
        elif res.score is not None and res.kind != "定性" and abs(rep - res.score) > rule.score_tolerance:
            res.findings.append(_mismatch(res, rep, p))
        elif res.score is None and res.met is False and rep >= w - _EPS and w > 0:
            res.findings.append(Finding(SCORE_MISMATCH, "error",
                                        f"实际完成值“{_text(res.actual)}”表示未达到指标值，不能得满分 {w:g}",
                                        expected=f"< {w:g}", found=rep))
    if reason is not None and not str(reason).strip():
        if res.reason_required:
            shown_below = rep is None or _below_full(rule, rep, w)  # the form's own 得分 is below 分值: certain
            res.findings.append(Finding(REASON_MISSING, "error" if shown_below else "warning",
                                        "得分低于分值，须填写偏差原因分析及改进措施" if shown_below else
                                        "按计分规则得分低于分值，应填写偏差原因分析及改进措施",
                                        expected="偏差原因", found=""))
        elif res.reason_recommended:
            res.findings.append(Finding(REASON_RECOMMENDED, "warning",
                                        "大幅超额完成，宜说明偏差原因", expected="偏差原因", found=""))
    return res


def _as_written(x: Value) -> object:
    """A measure's number as the form writes it (2000 for "≥2000"), for a finding's expected/found."""
    return x.number if isinstance(x, Measure) else getattr(x, "text", None)


def _mismatch(res: IndicatorScore, rep: float, p: Profile) -> Finding:
    """A reported score that differs from the rule: an error where the formula is official (财预〔2020〕10号)
    and rounding does not explain the difference; a warning naming the assumed rule otherwise."""
    raw = res.raw_score if res.raw_score is not None else res.score
    assert res.score is not None and raw is not None
    family = certainty.indicator_family(raw, res.weight, p)
    if not p.settled("indicators"):  # the formula itself is judged: the other miss rules are plausible too
        for name, alt in res.raw_alternatives.items():
            family += certainty.indicator_family(alt, res.weight, p, name)
    for name, alt in res.reading_alternatives.items():  # the target itself reads two ways, whatever the formula
        family += certainty.indicator_family(alt, res.weight, p, name)
    match = certainty.plausible_rule(rep, family, p.indicators.score_tolerance)
    if match is None:
        sev, note = "error", "，计分规则的任何合理取整都得不到表中得分"
    else:
        sev, note = "warning", f"，表中得分符合“{match.name}”" + p.assumed(
            "indicators" if not p.settled("indicators") else "indicators.rounding")
    return Finding(SCORE_MISMATCH, sev, f"得分与计分规则不符：应为 {res.score:g}，表中为 {rep:g}{note}",  # type: ignore[arg-type]
                   expected=res.score, found=rep)


def _below_full(rule: IndicatorRule, score: float, weight: float) -> bool:
    """The profile's rule: a 偏差原因 is required when the score is below the full 分值."""
    return rule.reason_required_below_full and score < weight - _EPS


def reason_requirement(target: object, actual: object, weight: object, score: object,
                       profile: str | Profile | None = None) -> Literal["required", "recommended"] | None:
    """Whether the 偏差原因 column must (``required``) or should (``recommended``) be filled for a row.

    ``score`` is the row's 得分 as the form shows it. Required when it is below 分值 and
    the profile says so (``reason_required_below_full``); recommended for over-achievement
    when the profile says so.

    Example:
        >>> reason_requirement("≥100篇", "80篇", 10, 8)
        'required'
        >>> reason_requirement("≥100篇", "150篇", 10, 10)
        'recommended'
        >>> reason_requirement("≥100篇", "100篇", 10, 10) is None
        True
    """
    p = load_profile(profile)
    w, s = as_number(weight, "分值"), as_number(score, "得分")
    if _below_full(p.indicators, s, w):
        return "required"
    res = indicator_score(target, actual, w, p)
    return "recommended" if res.reason_recommended else None


def _score_quantitative(res: IndicatorScore, p: Profile, t: Measure, a: Value) -> None:
    rule = p.indicators
    w = res.weight
    if isinstance(a, Unreadable) and a.code == "value.missing":
        res.findings.append(Finding(ACTUAL_UNREADABLE, "warning", "实际完成值未填写，无法计算得分",
                                    expected="实际完成值", found=""))
        return
    if isinstance(a, Measure):
        a = res.actual = _in_target_unit(t, a)
    if isinstance(a, Unreadable):
        res.findings.append(Finding(ACTUAL_UNREADABLE, "warning",
                                    f"实际完成值无法读取：{a.reason}，需人工核对", found=a.text))
        return
    if isinstance(a, Qualitative) and t.direction == "反向" and nothing_happened(_text(a)):
        res.met, res.ratio, res.score = True, 0.0, w  # "无上访", "未发生" under "小于5次": none, within the ceiling
        return
    if isinstance(a, Qualitative):
        res.findings.append(Finding(ACTUAL_NOT_NUMBER, "error",
                                    "年度指标值是定量的，实际完成值应填写数值", expected=t.format(), found=a.text))
        return
    if t.dimension != a.dimension:
        known = t.unit_known and a.unit_known
        res.findings.append(Finding(UNIT_MISMATCH, "error" if known else "warning",
            f"单位不一致：指标值为“{t.unit_label() or '无单位'}”，实际完成值为“{a.unit_label() or '无单位'}”"
            + ("" if known else "，需人工核对"), expected=t.unit_label(), found=a.unit_label()))
        return
    if a.comparator is not None and a.comparator_word not in MEASURED_WORDS:
        if _bound_short_of_target(res, t, a):
            return
        res.findings.append(Finding(ACTUAL_HAS_COMPARATOR, "warning",
                                    f"实际完成值“{a.text.strip()}”带比较符，应填写实际测得的数值",
                                    expected="实测数值", found=a.text.strip()))
    tv, av = t.base_value, a.base_value
    direction = t.direction
    if tv != 0:
        res.ratio = av / tv
    if direction == "正向":
        res.met = av >= tv - _EPS * max(1.0, abs(tv))
        if res.met:
            res.score = w
        else:
            res.score = w * av / tv if tv > 0 else 0.0
        res.over_achievement = tv > 0 and res.ratio is not None and res.ratio >= rule.over_achievement_ratio - _EPS
    elif direction == "反向":
        res.met = av <= tv + _EPS * max(1.0, abs(tv))
        if res.met:
            res.score = w
        elif rule.reverse_miss == "zero" or tv <= 0:
            res.score = 0.0
        else:
            res.score = max(0.0, w * (1 - (av - tv) / tv))
        if not res.met and tv > 0:
            res.raw_alternatives = {"反向未达成按相对偏差计分": max(0.0, w * (1 - (av - tv) / tv)),
                                    "反向未达成不得分": 0.0}
    elif t.comparator is Comparator.APPROX and rule.approx_as == "positive":
        # “约50亿元” / “50亿元左右”: reaching the lower edge of the tolerance is met; more is over-achievement.
        floor_v = tv * (1 - rule.approx_tolerance)
        res.met = av >= floor_v - _EPS * max(1.0, abs(tv))
        res.score = w if res.met else (w * av / tv if tv > 0 else 0.0)
        res.over_achievement = tv > 0 and res.ratio is not None and res.ratio >= rule.over_achievement_ratio - _EPS
    else:
        tol = rule.approx_tolerance if t.comparator is Comparator.APPROX else 0.0
        res.met = abs(av - tv) <= tol * abs(tv) + _EPS * max(1.0, abs(tv))
        if res.met:
            res.score = w
        elif rule.equal_miss == "zero" or tv == 0:
            res.score = 0.0
        else:
            res.score = max(0.0, w * (1 - abs(av - tv) / abs(tv)))
        if not res.met and tv != 0:
            res.raw_alternatives = {"等于型未达成按相对偏差计分": max(0.0, w * (1 - abs(av - tv) / abs(tv))),
                                    "等于型未达成按完成比例计分": max(0.0, min(w, w * av / tv)),
                                    "等于型未达成不得分": 0.0}
        res.over_achievement = (tv > 0 and av > tv and res.ratio is not None
                                and res.ratio >= rule.over_achievement_ratio - _EPS)
        if t.comparator is None and not res.met and tv > 0:
            # A bare target ("12次", "2089人") names no comparator: read as 等于 by the rule, but the unit may
            # mean it as a floor (达到即满分) — a score that reading gives is plausible, never certainly wrong.
            res.reading_alternatives = {"指标值未写比较符，按“达到即满分”（正向）": w if av >= tv else max(0.0, w * av / tv)}


NOTHING_HAPPENED = ("无", "未发生", "没有发生", "零")
"""How an actual saying that none happened begins ("无上访", "未发生"): under a ceiling ("小于5次") it is met."""
NOT_NOTHING = ("无法",)
"""Beginnings that look like :data:`NOTHING_HAPPENED` and say something else ("无法统计")."""


def nothing_happened(text: str) -> bool:
    """True when the text (spaces ignored) says none happened.

    Example:
        >>> nothing_happened("无 上访"), nothing_happened("无法统计"), nothing_happened("发生2次")
        (True, False, False)
    """
    s = text.replace(" ", "")
    return s.startswith(NOTHING_HAPPENED) and not s.startswith(NOT_NOTHING)


def _text(x: Value) -> str:
    return getattr(x, "text", "").strip()


def _floor_by_nature(t: Value, name: str | None, rule: IndicatorRule) -> Value:
    """A rate target without comparator ("90%") of an indicator that is by nature a floor (满意度, 合格率 …,
    the profile's ``floor_names``) reads as "≥90%": reaching more is met, not a deviation."""
    if not (isinstance(t, Measure) and t.comparator is None and t.dimension == "ratio" and name):
        return t
    key = normalise(str(name)).replace(" ", "")
    if any(word in key for word in rule.floor_names):
        return replace(t, comparator=Comparator.GE)
    return t


def _in_target_unit(t: Measure, a: Measure) -> Value:
    """A bare number under a target with a unit ("≥50个" / 50) is in the target's unit. A bare fraction under
    a percentage target (0.92 under "≥90%") could be 92% or 0.92%: the checker cannot tell, 需人工核对."""
    if a.unit or a.magnitude or not (t.unit or t.magnitude):
        return a
    if t.dimension == "ratio" and 0 < abs(a.number) <= 1 < abs(t.number):
        return Unreadable(a.text, f"“{a.text.strip()}”未写单位，可能是 {a.number:.0%}，也可能是 {a.number:g}{t.unit}",
                          code="value.unit_ambiguous")
    return replace(a, magnitude=t.magnitude, unit=t.unit)


def _bound_short_of_target(res: IndicatorScore, t: Measure, a: Measure) -> bool:
    """An actual value written as a bound (未达到95%, 低于90%, 超过3次 under ≤2次): where the bound does not
    prove the target met, the score cannot be computed — 需人工核对, and never full marks when the bound
    proves a miss. Returns True when the row is left unscored."""
    upper = a.comparator in (Comparator.LT, Comparator.LE)
    lower = a.comparator in (Comparator.GT, Comparator.GE)
    tv, av = t.base_value, a.base_value
    if t.direction == "正向" and lower and av >= tv - _EPS * max(1.0, abs(tv)):
        return False  # "超过95%" under "≥95%": met whatever the measurement
    if t.direction == "反向" and upper and av <= tv + _EPS * max(1.0, abs(tv)):
        return False  # "低于1次" under "≤1次": met
    if not a.negated and t.direction != "等于" and (lower if t.direction == "正向" else upper):
        return False  # a bound on the good side, below the target: scored on the number as before
    if t.direction == "正向" and upper:
        res.met = False if (av < tv or (a.comparator is Comparator.LT and av <= tv)) else None
    elif t.direction == "反向" and lower:
        res.met = False if (av > tv or (a.comparator is Comparator.GT and av >= tv)) else None
    else:
        res.met = False if a.negated and abs(av - tv) <= _EPS * max(1.0, abs(tv)) else None
    miss = "，表示未达到指标值" if res.met is False else ""
    res.findings.append(Finding(ACTUAL_BOUND, "warning",
                                f"实际完成值“{a.text.strip()}”只给出界限{miss}，无法计算得分，需人工核对",
                                expected="实测数值", found=a.text.strip()))
    return True


def infer_grade(target: str, actual: str, profile: str | Profile | None = None) -> QualGrade | None:
    """Guess the 定性 grade from the texts: the same text, or no word of failure, means 达成.

    Words of partial or failed achievement come from the profile
    (``partly_met_words``, ``not_met_words``). Returns None when ``actual`` is blank.

    Example:
        >>> infer_grade("按时完成", "部分完成").label
        '部分达成并具有一定效果'
        >>> infer_grade("无重大差错", "无重大差错").label
        '达成年度指标'
        >>> infer_grade("显著提升", "未达到预期").label
        '未达成且效果较差'
    """
    rule = load_profile(profile).indicators
    t, a = normalise(target).replace(" ", ""), normalise(actual).replace(" ", "")
    if not a:
        return None
    grades = rule.grades
    if a == t or a == t.replace("不", "未"):
        return grades[0]
    if any(word in a for word in rule.not_met_words):
        return grades[-1]
    if any(word in a for word in rule.partly_met_words):
        return grades[min(1, len(grades) - 1)]
    return grades[0]


MET_WORDS = ("达成", "完成", "达到", "实现", "符合", "合规", "及时", "规范", "有效", "明显", "显著", "提升", "提高",
             "改善", "满意", "良好", "按时", "按期", "优化", "到位", "落实", "健全", "保障", "正常", "稳定", "增强",
             "增加", "促进", "较好", "已", "达", "建成", "累计", "增强", "延长")
"""Words that show achievement in a qualitative 实际完成值 (the profile's ``met_words`` replace them)."""
_FORMULA_LIKE = re.compile(r"^\s*[=＝+@]|^[A-Z]{1,3}\d+$|[A-Z]{1,3}\d+\s*[-+*/]|\b(?:SUM|IF|ROUND|JX_\w+)\s*\(", re.I)
_DATE = re.compile(r"^(?:(?P<y>20\d\d)\s*年)?\s*(?P<m>\d{1,2})\s*月(?:份|底|末)?(?P<before>前|以前|之前)?$")


def _date(text: str) -> tuple[int, int] | None:
    m = _DATE.match(normalise(text).replace(" ", ""))
    return (int(m["y"] or 0), int(m["m"])) if m else None


def shows_achievement(target: str, actual: str, profile: str | Profile | None = None) -> bool:
    """Whether a qualitative 实际完成值 says anything about achievement: the target's own text, a word of
    achievement, partial achievement or failure, or a date no later than the target's. "无", a grade word
    that is not the target's ("差" for "优"), a formula-like text or a blank say nothing.

    Example:
        >>> shows_achievement("显著提升", "显著提升"), shows_achievement("优", "差"), shows_achievement("优化", "无")
        (True, False, False)
    """
    rule = load_profile(profile).indicators
    t, a = normalise(str(target)).replace(" ", ""), normalise(str(actual)).replace(" ", "")
    if a in ("无", "0", "零") and t.startswith(("无", "零", "不发生", "未发生", "杜绝", "没有")):
        return True  # "无重大安全事故" → "无": nothing happened, which is the target
    if not a or a in ("无", "/", "-", "—", "0") or _FORMULA_LIKE.search(a):
        return False
    if a == t or a == t.replace("不", "未"):
        return True
    if _date(t) and _date(a):
        return True
    if len(a) >= 8 and re.search(r"\d", a) and not _FORMULA_LIKE.search(a):
        return True  # a description of what was done, with its numbers
    words = rule.met_words or MET_WORDS
    return any(w in a for w in tuple(words) + rule.not_met_words + rule.partly_met_words)


def _score_qualitative(res: IndicatorScore, p: Profile, grade: str | None, reported: float | None) -> None:
    a = res.actual
    if not grade and isinstance(a, Measure) and a.comparator is not None and a.comparator_word not in MEASURED_WORDS:
        res.findings.append(Finding(ACTUAL_HAS_COMPARATOR, "warning",
                                    f"实际完成值“{a.text.strip()}”带比较符，应写明实际完成情况",
                                    expected="实际完成情况", found=a.text.strip()))
    if not grade and not isinstance(a, Unreadable) and not shows_achievement(res.target.text, a.text, p):
        res.kind = "定性"
        res.findings.append(Finding(QUALITATIVE_UNPROVEN, "warning",
                                    f"实际完成值“{a.text.strip()}”未说明是否达成“{res.target.text.strip()}”，"
                                    "保留填报得分，请复核", expected="达成情况", found=a.text.strip()))
        if reported is not None and reported <= res.weight + _EPS:
            res.score = max(0.0, reported)
        return
    if not grade and isinstance(a, Unreadable) and a.code == "value.missing":
        res.findings.append(Finding(ACTUAL_UNREADABLE, "warning", "实际完成值未填写，无法判断达成情况",
                                    expected="实际完成情况", found=""))
        if reported is not None and reported <= res.weight + _EPS:
            res.score = max(0.0, reported)
        return
    _score_graded(res, p, grade, reported)


def _score_graded(res: IndicatorScore, p: Profile, grade: str | None, reported: float | None) -> None:
    rule = p.indicators
    w = res.weight
    g: QualGrade | None = None
    if grade:
        g = rule.grade(grade)
        if g is None:
            labels = "、".join(x.label for x in rule.grades)
            res.findings.append(Finding(GRADE_UNKNOWN, "error",
                                        f"定性等级“{grade}”无法识别，应为：{labels}", found=grade))
            return
        res.grade_source = "given"
    else:
        a = res.actual
        if isinstance(a, Unreadable):
            res.findings.append(Finding(ACTUAL_UNREADABLE, "error",
                                        f"实际完成值无法读取：{a.reason}", found=a.text))
            return
        a_text = a.text if isinstance(a, Qualitative) else a.text
        g = infer_grade(res.target.text, a_text, p)
        td, ad = _date(res.target.text), _date(a_text)
        if td and ad:  # a deadline: met when done no later than the target's month
            g = rule.grades[0] if (ad[0] or td[0], ad[1]) <= (td[0] or ad[0], td[1]) else rule.grades[-1]
        res.grade_source = "inferred"
    assert g is not None
    res.grade = g.label
    lo, hi = g.min * w, g.max * w
    res.band = (lo, hi)
    res.met = g is rule.grades[0]
    if reported is not None and reported <= w + _EPS:
        if lo - _EPS <= reported <= hi + _EPS:
            res.score = reported
        else:
            sev: Severity = "error" if res.grade_source == "given" else "warning"
            how = "所填等级" if res.grade_source == "given" else "按完成情况判断的等级"
            res.score = clamp(reported, lo, hi)
            res.findings.append(Finding(QUALITATIVE_OUT_OF_BAND, sev,
                f"定性指标得分 {reported:g} 不在{how}“{g.label}”的区间 {lo:g}–{hi:g} 分内",
                expected=f"{lo:g}–{hi:g}", found=reported))
    else:
        res.score = hi if rule.qualitative_default == "upper" else lo
