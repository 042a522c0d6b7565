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
        return self.parts_sum - self.total


def check_split(total: float, parts: Mapping[str, float | None],
                profile: str | Profile | None = None) -> SplitCheck:
    """Sum the parts (blank parts count as 0) and compare with ``total`` within the profile's tolerance."""
    tol = load_profile(profile).funds_tolerance
    t = as_number(total, "合计")
    s = sum(as_number(v, k) for k, v in parts.items() if v is not None and v != "")
    s = round(s, 6)
    return SplitCheck(t, s, abs(s - t) <= tol + 1e-9)
