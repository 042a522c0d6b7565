"""Funds block: splits (按收入性质分 / 按支出性质分) must add up to their totals.

Source: 部门整体支出绩效自评表 (DOMAIN.md §1). Which total a split sums to
depends on the layout: seed 000 sums the income split to 全年预算数 and the
spending split to 全年执行数; other forms fill all three columns.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .numbers import as_number
from .profile import Profile, load_profile
from .vocabulary import INCOME_PARTS, SPENDING_PARTS  # noqa: F401  (the parts a split has)


@dataclass(frozen=True)
class SplitCheck:
    """The sum of a split's parts compared with its total (万元)."""

    total: float
    parts_sum: float
    ok: bool

    @property
    def difference(self) -> float:
        """parts_sum − total (万元); negative when the parts fall short.

        Example:
            >>> check_split(100, {"基本支出": 60, "项目支出": 39}).difference
            -1.0
        """
        return self.parts_sum - self.total


def check_split(total: float, parts: Mapping[str, float | None],
                profile: str | Profile | None = None) -> SplitCheck:
    """Sum the parts (blank parts count as 0) and compare with ``total`` within the profile's tolerance.

    Example:
        >>> check_split(38479.52, {"一般公共预算": 36273.98, "其他资金": 2205.54})
        SplitCheck(total=38479.52, parts_sum=38479.52, ok=True)
        >>> c = check_split(100, {"基本支出": 60, "项目支出": 39})
        >>> c.ok, c.difference
        (False, -1.0)
    """
    tol = load_profile(profile).funds_tolerance
    t = as_number(total, "合计")
    s = sum(as_number(v, k) for k, v in parts.items() if v is not None and v != "")
    s = round(s, 6)
    return SplitCheck(t, s, abs(s - t) <= tol + 1e-9)
