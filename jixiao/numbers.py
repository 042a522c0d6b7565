"""Rounding and number helpers shared by every rule.

Excel rounds half away from zero on the value shown with 15 significant
digits, so ROUND(1.005, 2) is 1.01 although the binary double is slightly
below 1.005. Officers compare jixiao's numbers with Excel's, so jixiao rounds
the same way everywhere.
"""
from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Literal

from .rules import error_codes

error_codes({
    "value.missing": "缺少数值",
    "value.not_number": "不是数字",
})


RoundMode = Literal["half_up", "up", "down"]
_MODES = {"half_up": ROUND_HALF_UP, "up": ROUND_CEILING, "down": ROUND_FLOOR}


def to_decimal(x: float) -> Decimal:
    """The decimal Excel would display for ``x`` (15 significant digits).

    Example:
        >>> to_decimal(1.005)
        Decimal('1.005')
    """
    return Decimal(format(x, ".15g"))


def round_excel(x: float, decimals: int | None = 2, mode: RoundMode = "half_up") -> float:
    """Round like Excel's ROUND (``half_up``), ROUNDUP-to-ceiling (``up``) or floor (``down``).

    ``decimals=None`` means no rounding. ``up``/``down`` round towards +∞/−∞,
    which for the non-negative scores jixiao deals with is ROUNDUP/ROUNDDOWN.

    Example:
        >>> round(1.005, 2), round_excel(1.005, 2)
        (1.0, 1.01)
        >>> round_excel(8.452, 0), round_excel(8.452, 0, "up")
        (8.0, 9.0)
        >>> round_excel(8.452, None)
        8.452
    """
    if decimals is None or math.isnan(x) or math.isinf(x):
        return x
    q = Decimal(1).scaleb(-decimals)
    return float(to_decimal(x).quantize(q, rounding=_MODES[mode]))


def clamp(x: float, lo: float, hi: float) -> float:
    """``x`` limited to the interval [lo, hi].

    Example:
        >>> clamp(11.5, 0, 10), clamp(-1, 0, 10)
        (10, 0)
    """
    return max(lo, min(hi, x))


def as_number(x: object, what: str = "数值") -> float:
    """Accept int/float/Decimal or a numeric string (with %, full-width digits, thousands commas).

    Example:
        >>> as_number("84.52%"), as_number("３６２７３.９８"), as_number(10)
        (0.8452, 36273.98, 10.0)
        >>> as_number("无", "全年预算数")
        Traceback (most recent call last):
            ...
        jixiao.errors.ValueReadError: 全年预算数“无”不是数字 [value.not_number]
    """
    from .errors import ValueReadError

    if isinstance(x, bool):
        raise ValueReadError(f"{what}应为数字，实际为布尔值 {x!r}", code="value.not_number")
    if isinstance(x, (int, float, Decimal)):
        v = float(x)
        if not math.isfinite(v):  # nan, inf: not a number a form can show
            raise ValueReadError(f"{what}为空或不是数字", code="value.not_number")
        return v
    if isinstance(x, str):
        from .values import parse_plain_number

        parsed = parse_plain_number(x)
        if parsed is None:
            raise ValueReadError(f"{what}“{x}”不是数字", code="value.not_number")
        return parsed
    if x is None:
        raise ValueReadError(f"{what}为空", code="value.missing")
    raise ValueReadError(f"{what}应为数字，实际为 {type(x).__name__}", code="value.not_number")
