"""One profile per check, chosen once: the bureau's, else the one the workbook names, else the default.

A workbook made from jixiao's templates names the profile its formulas score
with (the 规则配置 cell). When the bureau checks with another one, the scores
on the form follow other rules: that is one finding naming both profiles,
not a cascade of score errors.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import Finding, JixiaoError
from ..profile import DEFAULT_PROFILE, Profile, load_profile
from ..rules import rule

DIFFERS = rule("profile.differs", "工作簿的规则配置与检查所用不同", "profile")
UNKNOWN_IN_WORKBOOK = rule("profile.unknown_in_workbook", "工作簿中的规则配置不可用", "profile")


@dataclass(frozen=True)
class ProfileChoice:
    profile: Profile
    reason: str  # why it was chosen, as the outputs say it
    stored: str | None = None  # the profile the workbook names, as written
    differs: bool = False  # the workbook's formulas score with another profile


def choose_profile(bureau: Profile | None, stored: str | None) -> tuple[ProfileChoice, list[Finding]]:
    """The profile to check with, why, and what the workbook's own choice says about it.

    Example:
        >>> choice, findings = choose_profile(load_profile("national-2020"), "hunan-dept-2024")
        >>> choice.profile.id, choice.differs, findings[0].rule
        ('national-2020', True, 'profile.differs')
        >>> choose_profile(None, "hunan-dept-2024")[0].reason
        '工作簿指定（hunan-dept-2024）'
    """
    findings: list[Finding] = []
    own: Profile | None = None
    if stored:
        try:
            own = load_profile(stored)
        except JixiaoError as e:
            fallback = bureau.id if bureau else DEFAULT_PROFILE
            findings.append(Finding(UNKNOWN_IN_WORKBOOK, "warning",
                                    f"工作簿指定的规则配置“{stored}”无法使用（{e.message}），改用 {fallback}",
                                    expected=fallback, found=stored, field="profile"))
    if bureau is not None:
        differs = own is not None and own.id != bureau.id
        if differs:
            assert own is not None
            findings.append(Finding(
                DIFFERS, "error",
                f"工作簿按规则配置 {own.id}（{own.name}）计分，本次检查按 {bureau.id}（{bureau.name}）："
                f"表中的得分、合计、总分按 {own.id} 计算，与本次检查的规则不同。"
                f"请在“规则配置”中选择 {bureau.id}，重新计算后再提交", expected=bureau.id, found=own.id, field="profile"))
        return ProfileChoice(bureau, f"检查指定（{bureau.id}）", stored, differs), findings
    if own is not None:
        return ProfileChoice(own, f"工作簿指定（{own.id}）", stored), findings
    return ProfileChoice(load_profile(DEFAULT_PROFILE), f"默认（{DEFAULT_PROFILE}）", stored), findings
