"""执行率 (budget execution rate) and its score.

Source: the form's own footnote and 财预〔2020〕10号 附件1 — 执行率 = 全年执行数 /
全年预算数 × 100%. How the rate becomes a score differs between places
(proportional with or without cap, bands, rounding, a cap on the whole form's
total): all of it is read from the profile's ``[execution]`` table.
"""
from __future__ import annotations

from .errors import ValueReadError
from .numbers import as_number
from .profile import Profile, load_profile
from .rules import error_codes

error_codes({
    "execution.negative": "金额为负数",
    "execution.no_budget": "全年预算数为零",
})


def exec_rate(budget: float, executed: float) -> float:
    """执行率 = 全年执行数 / 全年预算数, as a fraction (0.8452 for 84.52%).

    ``budget`` is 全年预算数 (the adjusted full-year budget), not 年初预算数.
    Raises :class:`ValueReadError` when the budget is not positive.

    Example:
        >>> round(exec_rate(38479.52, 32521.07), 4)
        0.8452
        >>> exec_rate(0, 100)
        Traceback (most recent call last):
            ...
        jixiao.errors.ValueReadError: 全年预算数为 0，无法计算执行率 [execution.no_budget]
    """
    b = as_number(budget, "全年预算数")
    e = as_number(executed, "全年执行数")
    if b <= 0:
        raise ValueReadError(f"全年预算数为 {b:g}，无法计算执行率", code="execution.no_budget")
    if e < 0:
        raise ValueReadError(f"全年执行数为负数 {e:g}", code="execution.negative")
    return e / b


def exec_score(rate: float, profile: str | Profile | None = None, weight: float | None = None) -> float:
    """The 执行率 score under the profile's rule.

    ``proportional``: rate × 分值, capped at 分值 when ``cap_at_weight``;
    ``bands``: the share of the first band that contains the rate.
    The result is rounded by the profile (``decimals``/``round_mode``) and never below 0.
    ``weight`` overrides the profile's 分值 (a form may print its own).

    Example:
        >>> rate = exec_rate(38479.52, 32521.07)
        >>> exec_score(rate), exec_score(rate, "hunan-dept-2024")
        (8.45, 9.0)
        >>> exec_score(1.05)
        10.0
        >>> exec_score(0.9216, "county-rubric-2022")
        1.5
    """
    p = load_profile(profile)
    rule = p.execution
    r = as_number(rate, "执行率")
    w = rule.weight if weight is None else as_number(weight, "分值")
    if rule.method == "bands":
        share = next((b.share for b in rule.bands if b.contains(r)), 0.0)
        raw = share * w
    else:
        raw = r * w
        if rule.cap_at_weight:
            raw = min(raw, w)
    return max(0.0, rule.rounding.apply(max(raw, 0.0)))


def cap_total(total: float, rate: float, profile: str | Profile | None = None) -> float:
    """Cap the form's total by 执行率 where the profile enables it (e.g. <80% → at most 89).

    Example:
        >>> cap_total(99, 0.75)
        99.0
    """
    p = load_profile(profile)
    t, r = as_number(total, "总分"), as_number(rate, "执行率")
    if not p.execution.total_cap_enabled:
        return t
    for cap in p.execution.total_cap:  # ascending by `below`: the strictest cap that applies wins
        if r < cap.below:
            return min(t, cap.max_total)
    return t


__all__ = ["exec_rate", "exec_score", "cap_total"]
