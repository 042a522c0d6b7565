"""One profile per check, chosen once: the bureau's, else the one the workbook names, else the one the form's
own title and unit point to (province, level, year, kind), else the default.

A workbook made from jixiao's templates names the profile its formulas score
with (the 规则配置 cell). When the bureau checks with another one, the scores
on the form follow other rules: that is one finding naming both profiles,
not a cascade of score errors.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import Finding, JixiaoError
from ..profile import DEFAULT_PROFILE, Profile, load_profile, shipped_profiles
from ..rules import rule

DIFFERS = rule("profile.differs", "工作簿的规则配置与检查所用不同", "profile")
UNKNOWN_IN_WORKBOOK = rule("profile.unknown_in_workbook", "工作簿中的规则配置不可用", "profile")


@dataclass(frozen=True)
class ProfileChoice:
    profile: Profile
    reason: str  # why it was chosen, as the outputs say it
    stored: str | None = None  # the profile the workbook names, as written
    differs: bool = False  # the workbook's formulas score with another profile


PROVINCES = ("北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽", "福建",
             "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州", "云南", "西藏", "陕西",
             "甘肃", "青海", "宁夏", "新疆")


DIVISION_CODES = {"11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古", "21": "辽宁", "22": "吉林",
                  "23": "黑龙江", "31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西",
                  "37": "山东", "41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南",
                  "50": "重庆", "51": "四川", "52": "贵州", "53": "云南", "54": "西藏", "61": "陕西", "62": "甘肃",
                  "63": "青海", "64": "宁夏", "65": "新疆"}
"""First two digits of the national administrative division code (GB/T 2260) → province."""


@dataclass(frozen=True)
class FormFacts:
    """What a form says about itself: its kind, and the province, level and year its title and unit show."""

    kind: str = "dept"  # dept | project | county-rubric
    province: str | None = None
    level: str | None = None  # 省级 | 市级 | 县级 | 乡镇
    year: int | None = None

    @classmethod
    def read(cls, kind: str, year: int | None, *texts: object) -> "FormFacts":
        """Facts from the heading texts (title, 填报单位, 主管部门 …): a province named in them, and the level
        of the unit's name (…省… 省级, …市… 市级, …县/区… 县级, …乡/镇… 乡镇)."""
        text = " ".join(str(t) for t in texts if t)
        province = next((p for p in PROVINCES if p in text), None)
        if province is None:  # a division code: 报表编号 510000_…, a project code 51000021R…
            m = re.search(r"(?<!\d)([1-6]\d)\d{4}(?:_|\d{2}[A-Z])", text)
            province = DIVISION_CODES.get(m.group(1)) if m else None
        unit = str(texts[1]) if len(texts) > 1 and texts[1] else text
        unit = re.sub(r"自治区|特别行政区|地区", "省", unit)  # 广西壮族自治区…: a province, not a 区 (district)
        level = None
        if re.search(r"[乡镇]人民政府|[乡镇](?:$|\W)|街道", unit):
            level = "乡镇"
        elif re.search(r"[县区旗]", unit):
            level = "县级"
        elif "市" in unit:
            level = "市级"
        elif re.search(r"省|自治区", unit):
            level = "省级"
        return cls(kind, province, level, year)

    def describe(self) -> str:
        kinds = {"dept": "部门整体支出", "project": "项目支出", "county-rubric": "部门整体评分表"}
        parts = [self.province or "省份不详", self.level or "级次不详", kinds.get(self.kind, self.kind),
                 f"{self.year}年度" if self.year else "年度不详"]
        return "·".join(parts)


def infer_profile(facts: FormFacts) -> tuple[Profile, str]:
    """The shipped profile written for a form like this one, and why (Chinese).

    A profile that names provinces, levels or years applies only there; among those that fit, the most
    specific wins; a county rubric takes a rubric profile; anything else the default.
    """
    best: tuple[int, Profile] | None = None
    for name in shipped_profiles():
        p = load_profile(name)
        kind = "county-rubric" if facts.kind == "county-rubric" else facts.kind
        if facts.kind == "county-rubric":
            if "county-rubric" not in p.forms:
                continue
        elif not p.fits(kind) or (p.forms and "county-rubric" in p.forms and kind != "county-rubric"):
            continue
        score = 0
        for want, have in ((p.provinces, facts.province), (p.levels, facts.level), (p.years, facts.year)):
            if want:
                if have not in want:
                    score = -1
                    break
                score += 1
        if score < 0:
            continue
        if best is None or score > best[0]:
            best = (score, p)
    if best is None or (best[0] == 0 and facts.kind != "county-rubric"):
        p = load_profile(DEFAULT_PROFILE)
        return p, f"按表格推断：{facts.describe()}，无专门配置，用默认 {p.id}（{p.name}）"
    p = best[1]
    return p, f"按表格推断：{facts.describe()} → {p.id}（{p.name}）"


def choose_profile(bureau: Profile | None, stored: str | None,
                   facts: FormFacts | None = None) -> tuple[ProfileChoice, list[Finding]]:
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
    if facts is not None:
        p, why = infer_profile(facts)
        return ProfileChoice(p, why, stored), findings
    return ProfileChoice(load_profile(DEFAULT_PROFILE), f"默认（{DEFAULT_PROFILE}）", stored), findings
