"""Control rates of the department-wide rubric and their scores.

Formulas: 财预〔2013〕53号《预算绩效评价共性指标体系框架》 and seed 002 附件1-1;
points, thresholds and steps come from the profile's ``[control.*]`` tables.
A rate is a fraction (0.92 for 92%). Deduction scores never go below 0.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import JixiaoError, ValueReadError
from .numbers import as_number, clamp
from .profile import ControlRule, Profile, load_profile
from .rules import error_codes

error_codes({
    "control.negative_denominator": "控制率分母为负",
    "control.quarter": "季度无法识别",
    "control.unknown": "未知的控制率",
    "control.zero_denominator": "控制率分母为零",
})


@dataclass(frozen=True)
class RateFormula:
    """How a control rate is computed from its two inputs."""

    name: str
    numerator: str
    denominator: str
    change: bool = False  # (numerator − denominator) / denominator
    absolute: bool = False  # |numerator| / denominator

    def compute(self, numerator: float, denominator: float) -> float:
        """The rate from its two inputs; a zero or negative denominator raises ValueReadError.

        Example:
            >>> RATE_FORMULAS["three_public_change"].compute(1802, 722) > 1
            True
        """
        n = as_number(numerator, self.numerator)
        d = as_number(denominator, self.denominator)
        if d == 0:
            raise ValueReadError(f"{self.denominator}为 0，无法计算{self.name}", code="control.zero_denominator")
        if d < 0:
            raise ValueReadError(f"{self.denominator}为负数 {d:g}", code="control.negative_denominator")
        if self.change:
            return (n - d) / d
        return (abs(n) if self.absolute else n) / d


RATE_FORMULAS: dict[str, RateFormula] = {
    "staff_control": RateFormula("在职人员控制率", "在职人员数", "编制数"),
    "three_public_change": RateFormula("“三公经费”变动率", "本年度“三公经费”预算数",
                                       "上年度“三公经费”预算数", change=True),
    "three_public_control": RateFormula("“三公经费”控制率", "“三公经费”实际支出数", "“三公经费”预算安排数"),
    "public_expense_control": RateFormula("公用经费控制率", "公用经费实际支出数", "公用经费预算安排数"),
    "procurement_exec": RateFormula("政府采购执行率", "实际政府采购金额", "政府采购预算数"),
    "budget_adjust": RateFormula("预算调整率", "预算调整数", "预算数", absolute=True),
    "carryover": RateFormula("结转结余率", "结转结余资金", "预算数"),
    "payment_progress": RateFormula("支付序时进度", "序时执行数", "序时指标下达数"),
    "contract_staff": RateFormula("聘用人员控制率", "聘用人员实际使用数", "聘用人员批复数"),
    "work_completion": RateFormula("实际完成率", "实际完成工作数", "计划工作数"),
    "work_timeliness": RateFormula("完成及时率", "及时完成工作数", "计划工作数"),
    "work_quality": RateFormula("质量达标率", "质量达标工作数", "计划工作数"),
    "key_work_completion": RateFormula("重点工作办结率", "重点工作实际完成数", "重点工作交办数"),
}


def _norm(name: str) -> str:
    return "".join(ch for ch in name if ch not in " \u3000\"'“”‘’「」").lower()


def control_key(kind: str, profile: Profile | None = None) -> str:
    """Accept the ASCII key (``staff_control``) or the Chinese name (在职人员控制率).

    Example:
        >>> control_key("在职人员控制率"), control_key("“三公经费”变动率"), control_key("staff_control")
        ('staff_control', 'three_public_change', 'staff_control')
    """
    k = _norm(kind)
    if k in RATE_FORMULAS or (profile and k in profile.controls):
        return k
    for key, f in RATE_FORMULAS.items():
        if _norm(f.name) == k:
            return key
    if profile:
        for key, rule in profile.controls.items():
            if _norm(rule.name) == k:
                return key
    known = "、".join(f"{k}（{f.name}）" for k, f in RATE_FORMULAS.items())
    raise ValueReadError(f"未知的控制率“{kind}”，可用：{known}", code="control.unknown")


def control_rate(kind: str, numerator: float, denominator: float) -> float:
    """The rate for ``kind`` from its inputs, e.g. ``control_rate("staff_control", 47, 51)`` → 0.9216.

    Example:
        >>> round(control_rate("staff_control", 47, 51), 4)
        0.9216
        >>> round(control_rate("三公经费变动率", 1802, 722), 4)
        1.4958
    """
    return RATE_FORMULAS[control_key(kind)].compute(numerator, denominator)


def _deduction(rule: ControlRule, rate: float, quarter: str | None) -> float:
    """Points deducted from the rule's weight (rules ceiling/floor/target)."""
    if rule.rule == "floor" and rule.thresholds:
        if quarter is None:
            raise ValueReadError(f"{rule.name}需要指明季度（{'/'.join(rule.thresholds)}）", code="control.quarter")
        q = quarter.upper().replace("第", "").replace("季度", "")
        q = {"一": "Q1", "二": "Q2", "三": "Q3", "四": "Q4", "1": "Q1", "2": "Q2", "3": "Q3", "4": "Q4"}.get(q, q)
        if q not in rule.thresholds:
            raise ValueReadError(f"{rule.name}没有季度“{quarter}”的要求", code="control.quarter")
        threshold = rule.thresholds[q]
    else:
        threshold = rule.threshold if rule.threshold is not None else 0.0
    points = round((rate - threshold) * 100, 9)  # percentage points
    if rule.rule == "ceiling":
        return max(points, 0.0) * rule.step
    if rule.rule == "floor":
        return max(-points, 0.0) * rule.step
    return abs(points) * rule.step  # target


def control_score(kind: str, rate: float, profile: str | Profile | None = None,
                  quarter: str | None = None, weight: float | None = None) -> float:
    """The score of one control rate under the profile, between 0 and the weight.

    ``weight`` overrides the profile's points where the form sets them (the rubric's
    职责履行 rows leave them to the department).

    Example:
        >>> control_score("在职人员控制率", control_rate("在职人员控制率", 47, 51), "county-rubric-2022")
        2.0
        >>> control_score("staff_control", 1.05)
        1.0
        >>> control_score("budget_adjust", 0.07)
        1.5
        >>> control_score("payment_progress", 0.45, quarter="Q2")
        1.0
    """
    p = load_profile(profile)
    return score_with_rule(p.control(control_key(kind, p)), rate, weight, quarter)


def score_with_rule(rule: ControlRule, rate: float, weight: float | None = None, quarter: str | None = None) -> float:
    """The score of a control rate under one rule (the profile's, or one a form's own standard adjusts)."""
    r = as_number(rate, rule.name)
    w = rule.weight if weight is None else as_number(weight, "分值")
    if rule.rule == "bands":
        raw = next((b.share for b in rule.bands if b.contains(r)), 0.0) * w
    elif rule.rule == "proportional":
        raw = w * min(max(r, 0.0), 1.0)
    else:
        raw = w - _deduction(rule, r, quarter)  # steps are points per percentage point, whatever the weight
    return clamp(rule.rounding.apply(clamp(raw, 0.0, w)), 0.0, w)


def payment_progress_score(rates: Mapping[str, float], profile: str | Profile | None = None) -> float:
    """支付序时进度 over several quarters: one weight, deductions for every quarter added up.

    Example:
        >>> payment_progress_score({"Q1": 0.2, "Q2": 0.45, "Q3": 0.78})
        0.6
    """
    p = load_profile(profile)
    rule = p.control("payment_progress")
    total = sum(_deduction(rule, as_number(r, rule.name), q) for q, r in rates.items())
    return clamp(rule.rounding.apply(rule.weight - total), 0.0, rule.weight)


BASIC_KIND = "county-basic"  # the "kind" of a 基础数据表 written as JSON
BASIC_PROFILE = "county-rubric-2022"  # the profile a 基础数据表 is scored by unless it or the user names one


def county_rates(basic: Mapping[str, Any], profile: str | Profile | None = None
                 ) -> list[tuple[str, str, float, float, float]]:
    """The 控制率 of a county's 基础数据表 and its 预算执行率: (key, name, rate, score, weight) each, scored by
    ``profile`` (the layout of ``jixiao/samples/county-2022-basic.json``).

    Example:
        >>> import json
        >>> from importlib import resources
        >>> basic = json.loads((resources.files("jixiao.samples") / "county-2022-basic.json").read_text("utf-8"))
        >>> [key for key, *_ in county_rates(basic)][:2]
        ['staff_control', 'three_public_change']
    """
    p = load_profile(profile or BASIC_PROFILE) if not isinstance(profile, Profile) else profile
    try:
        return _county_rates(basic, p)
    except KeyError as e:
        raise JixiaoError(f"基础数据表缺少“{e.args[0]}”（见 jixiao/samples/county-2022-basic.json）",
                          code="form.unreadable") from None
    except (TypeError, AttributeError):
        raise JixiaoError("基础数据表的结构不对（见 jixiao/samples/county-2022-basic.json）",
                          code="form.unreadable") from None


def _county_rates(b: Mapping[str, Any], p: Profile) -> list[tuple[str, str, float, float, float]]:
    from .execution import exec_rate, exec_score

    inputs = {
        "staff_control": (b["staff"], b["authorized_staff"]),
        "three_public_change": (b["three_public"]["budget"], b["three_public"]["prev_budget"]),
        "public_expense_control": (b["public_expense"]["final"], b["public_expense"]["budget"]),
        "three_public_control": (b["three_public"]["final"], b["three_public"]["budget"]),
        "procurement_exec": (b["procurement"]["final"], b["procurement"]["budget"]),
        "budget_adjust": (b["budget_adjustment"], b["project_spending"]["budget"]),
    }
    rows = []
    for key, (n, d) in inputs.items():
        r = control_rate(key, n, d)
        rows.append((key, p.control(key).name, r, control_score(key, r, p), p.control(key).weight))
    r = exec_rate(b["project_spending"]["budget"], b["project_spending"]["final"])
    rows.append(("budget_completion", "预算执行率（预算完成率）", r, exec_score(r, p), p.execution.weight))
    return rows
