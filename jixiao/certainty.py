"""Certain and judged: the family of plausible scoring rules, and whether a found score is one of theirs.

Where a scoring rule is not settled by an official document, a score that differs from the profile's rule
is not necessarily wrong: some other plausible rule (proportional or banded; rounded half-up, up or down;
whole points or two decimals; the rate as the form displays it) may give it. Certainty is a property of the
found value (DOMAIN.md §4): a score that no rule of the profile's declared family gives is an error; one that
some rule gives is a warning naming that rule. A settled (official) key narrows the family to the profile's
own rule. The family is profile data (``[execution.family]``, ``[indicators.family]``).
"""
from __future__ import annotations

from dataclasses import dataclass

from .numbers import round_excel
from .profile import Band, Family, Profile

ROUND_NAMES = {"half_up": "四舍五入", "up": "向上取整", "down": "向下取整"}


@dataclass(frozen=True)
class PlausibleRule:
    """One rule of the family and the score it gives."""

    value: float
    name: str  # Chinese: 按比例（封顶）、向上取整、整数分


def _places(d: int) -> str:
    return "整数分" if d == 0 else f"保留{d}位小数"


def _roundings(raw: float, family: Family, settled_mode: str | None, settled_dec: int | None,
               what: str) -> list[PlausibleRule]:
    modes = (settled_mode,) if settled_mode else family.round_modes
    decs = (settled_dec,) if settled_mode else family.decimals
    out = []
    for d in decs:
        for m in modes:
            v = round_excel(raw, d, m) if d is not None else raw  # type: ignore[arg-type]
            out.append(PlausibleRule(max(0.0, v), f"{what}、{ROUND_NAMES.get(m or '', m)}、"
                                                  f"{_places(d) if d is not None else '不取整'}"))
    return out


def _band_share(bands: tuple[Band, ...], rate: float) -> float:
    return next((b.share for b in bands if b.contains(rate)), 0.0)


def execution_family(rate: float, weight: float, p: Profile, shown_rate: float | None = None) -> list[PlausibleRule]:
    """Every score the plausible execution rules give at ``rate`` (and at ``shown_rate``, the rate as the form
    displays it). A settled ``execution`` key leaves only the profile's own rule.

    Example:
        >>> from jixiao.profile import load_profile
        >>> p = load_profile("hunan-dept-2024")
        >>> sorted({r.value for r in execution_family(0.9448, 10, p)})
        [9.0, 9.44, 9.45, 10.0]
        >>> 0.0 in {r.value for r in execution_family(1.0, 10, p)}
        False
    """
    rule = p.execution
    settled = p.settled("execution")
    fam = rule.family
    methods = (rule.method,) if settled else tuple(dict.fromkeys(fam.methods + (rule.method,)))
    rates = [rate] + ([shown_rate] if shown_rate is not None and (fam.rate_as_displayed or settled) else [])
    out: list[PlausibleRule] = []
    for r in rates:
        for m in methods:
            if m == "bands":
                if not rule.bands:
                    continue
                raw, what = _band_share(rule.bands, r) * weight, "按分档"
            else:
                raw, what = min(r * weight, weight) if rule.cap_at_weight or not settled else r * weight, \
                    "按比例（执行率×分值，封顶）"
            if r is not rate:
                what += f"、按表中显示的执行率 {r:.2%}"
            out += _roundings(max(raw, 0.0), fam,
                              rule.rounding.mode if settled else None, rule.rounding.decimals if settled else None,
                              what)
    return out


def indicator_family(raw: float, weight: float, p: Profile, what: str = "按财预〔2020〕10号公式") -> list[PlausibleRule]:
    """Every rounding of the indicator formula's unrounded score ``raw`` that the family allows (only the
    profile's rounding when ``indicators.rounding`` is settled), clamped to [0, 分值].

    Example:
        >>> from jixiao.profile import load_profile
        >>> sorted({r.value for r in indicator_family(9.47368, 10, load_profile("national-2020"))})
        [9.0, 9.4, 9.47, 9.48, 9.5, 10.0]
    """
    rule = p.indicators
    settled = p.settled("indicators.rounding")
    out = _roundings(raw, rule.family, rule.rounding.mode if settled else None,
                     rule.rounding.decimals if settled else None, what)
    return [PlausibleRule(min(max(r.value, 0.0), weight), r.name) for r in out]


def plausible_rule(found: float, family: list[PlausibleRule], tolerance: float = 0.005) -> PlausibleRule | None:
    """The first rule of ``family`` that gives ``found`` (within ``tolerance``), or None: then the found value is
    certainly wrong.

    Example:
        >>> plausible_rule(9, [PlausibleRule(10.0, "向上取整"), PlausibleRule(9.0, "向下取整")]).name
        '向下取整'
        >>> plausible_rule(0, [PlausibleRule(10.0, "向上取整")]) is None
        True
    """
    return next((r for r in family if abs(found - r.value) <= tolerance), None)


__all__ = ["PlausibleRule", "execution_family", "indicator_family", "plausible_rule"]
