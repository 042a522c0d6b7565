"""Whose form is it: the unit and year a workbook (or report) states, against the submitting account's unit
and the round's year. A unit uploading another unit's form, or last year's, is a finding of its submission."""
from __future__ import annotations

from typing import Any

from ..errors import Finding
from ..rules import rule
from ..values import compact

UNIT = rule("identity.unit", "填报单位与提交账号的单位不一致")
YEAR = rule("identity.year", "表中年度与批次年度不一致")


def same_unit(stated: str, account: str) -> bool:
    """Whether the 填报单位 a form states names the account's unit (one name containing the other: forms add
    本级, 机关 or the county's name)."""
    a, b = compact(stated), compact(account)
    return bool(a and b) and (a in b or b in a)


def stated_units(result: dict[str, Any]) -> list[str]:
    """The units a checked file states: its own row's and each of its forms' (unique, in order)."""
    out: list[str] = []
    for u in [result.get("unit")] + [f.get("unit") for f in result.get("forms") or []]:
        if u and str(u).strip() and str(u) not in out:
            out.append(str(u))
    return out


def findings(result: dict[str, Any], account_unit: str, round_year: int | None) -> list[Finding]:
    """identity.unit for each stated unit that is not the account's; identity.year when the file's year is not
    the round's. Nothing is said about what the file does not state."""
    out = [Finding(UNIT, "error", f"表中填报单位为“{u}”，提交账号属于“{account_unit}”：请确认没有提交其他单位的表",
                   expected=account_unit, found=u)
           for u in stated_units(result) if not same_unit(u, account_unit)]
    year = result.get("year")
    if round_year and year and int(year) != int(round_year):
        out.append(Finding(YEAR, "error", f"表中年度为 {year} 年，本批次为 {round_year} 年度：请确认提交的是本年度的表",
                           expected=round_year, found=year))
    return out
