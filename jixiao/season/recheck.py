"""复核: a reviewer's score per row of a sampled form, against the unit's own score and jixiao's rule score.

A form's rows come from its checked result (``FileResult.forms[i]["rows"]``: the 执行率 row, then each indicator
with 分值, the unit's 得分 and the rules' 得分). The reviewer's 复核得分 defaults to the rules' score; a row
re-scored away from the unit's score carries the reason. The 复核 report gives 自评分 vs 复核分 per unit and
per indicator, with the difference and the reason.

Example:
    >>> rows = [Row(0, "预算执行率", "", "预算执行率", 10, 10, 9)]
    >>> [(x.claimed, x.recheck, x.difference) for x in lines(rows, {})]
    [(10, 9, -1)]
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook

from ..rules import error_codes
from .exports import _bytes, _sheet

error_codes({"recheck.invalid": "复核得分有误", "recheck.not_sampled": "该表不在抽查样本中"})


@dataclass(frozen=True)
class Row:
    index: int
    level1: str
    level2: str
    name: str
    weight: float | None
    claimed: float | None  # the unit's own 得分
    rule: float | None  # jixiao's rule score (None: the rules could not score it)


def rows_of(form: dict[str, Any]) -> list[Row]:
    """A form's rows as the checked result keeps them."""
    return [Row(i, str(r.get("level1") or ""), str(r.get("level2") or ""), str(r.get("name") or ""),
                r.get("weight"), r.get("claimed"), r.get("rule")) for i, r in enumerate(form.get("rows") or [])]


@dataclass(frozen=True)
class Entered:
    """A reviewer's 复核得分 for one row and the reason."""

    score: float
    reason: str = ""


def parse_score(text: str, weight: float | None) -> float:
    """A 复核得分 typed by a reviewer: a number from 0 to the row's 分值 (ValueError, Chinese, otherwise)."""
    try:
        x = float(str(text).strip())
    except ValueError:
        raise ValueError(f"复核得分应为数字：{text}") from None
    if x != x or x < 0 or (weight is not None and x > weight + 1e-9):
        raise ValueError(f"复核得分应在 0 到分值 {weight:g} 之间：{text}" if weight is not None else f"复核得分应不小于 0：{text}")
    return round(x, 2)


@dataclass(frozen=True)
class Line:
    row: Row
    recheck: float | None  # 复核得分: the reviewer's, else the rules' score
    entered: bool  # whether a reviewer entered it (else it is the rules' default)
    reason: str

    @property
    def claimed(self) -> float | None:
        return self.row.claimed

    @property
    def rule(self) -> float | None:
        """规则分: the score the profile's rules give the row (None where the row needs a person)."""
        return self.row.rule

    @property
    def difference(self) -> float | None:
        """复核分 − 自评分 (negative: the unit scored itself higher)."""
        if self.recheck is None or self.row.claimed is None:
            return None
        return round(self.recheck - self.row.claimed, 2)


def lines(rows: Sequence[Row], entered: dict[int, Entered]) -> list[Line]:
    """Each row with its 复核得分: the reviewer's where entered, else the rules' score; the reason is the
    reviewer's, else says the score is the rules' when it differs from the unit's."""
    out = []
    for r in rows:
        e = entered.get(r.index)
        if e is not None:
            out.append(Line(r, e.score, True, e.reason))
            continue
        reason = ""
        if r.rule is not None and r.claimed is not None and abs(r.rule - r.claimed) > 1e-9:
            reason = "按评分规则计算（未人工复核）"
        out.append(Line(r, r.rule, False, reason))
    return out


@dataclass(frozen=True)
class FormRecheck:
    """One sampled form's 复核: whose it is and its lines."""

    unit: str
    label: str
    lines: list[Line]

    def total(self, which: str) -> float | None:
        xs = [getattr(x, which) for x in self.lines]
        return None if not xs or None in xs else round(sum(xs), 2)

    @property
    def done(self) -> bool:
        return all(x.entered for x in self.lines)


def report_xlsx(round_name: str, forms: Sequence[FormRecheck]) -> bytes:
    """The 复核 report: 按单位 (自评总分, 复核总分, difference, rows re-scored) and 按指标 (every row: 分值,
    自评分, 规则分, 复核分, difference, reason)."""
    wb = Workbook()
    units = []
    for f in forms:
        own, rec = f.total("claimed"), f.total("recheck")
        changed = sum(1 for x in f.lines if x.difference not in (None, 0))
        units.append([f.unit, f.label, own, rec, None if own is None or rec is None else round(rec - own, 2),
                      changed, "已复核" if f.done else "部分按规则分"])
    _sheet(wb, "按单位", ["单位", "自评表", "自评总分", "复核总分", "差额（复核−自评）", "调整的指标数", "复核状态"],
           units, [28, 30, 10, 10, 16, 12, 14])
    per_row = [[f.unit, x.row.level1, x.row.level2, x.row.name, x.row.weight, x.claimed, x.row.rule, x.recheck,
                x.difference, x.reason] for f in forms for x in f.lines]
    _sheet(wb, "按指标", ["单位", "一级指标", "二级指标", "三级指标", "分值", "自评分", "规则分", "复核分",
                       "差额（复核−自评）", "理由"], per_row, [24, 12, 14, 36, 8, 8, 8, 8, 14, 40])
    wb.properties.title = f"{round_name} 抽查复核结果"
    return _bytes(wb)
