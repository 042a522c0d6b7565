"""工作考核评分表: the bureau's score of each unit's self-evaluation work, filled where the round can know it.

The rows, their points and deductions are data (``data/assessment.toml``). A row is scored automatically when
its basis is known (days late, tables missing, report parts missing or empty, weights by the rules, indicators
broken into 三级), scored 0 by a boilerplate rule (the only problem named is 资金不足, the only proposal 加大资金
投入), or left to the reviewer. A reviewer's score on any row wins and carries its reason.

Example:
    >>> sheet = assess(Facts(days_late=2, missing_tables=0), {})
    >>> [(x.item.name, x.score) for x in sheet.lines if x.item.key in ("on_time", "self_check")]
    [('单位自查', 20.0), ('提交报告', 8.0)]
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet

from ..rules import error_codes
from . import data_file
from .exports import _bytes, _sheet

error_codes({"assessment.invalid": "考核评分有误"})

JUDGED, AUTO = "judged", "auto"


def settings() -> dict[str, Any]:
    """``data/assessment.toml``, read once."""
    return data_file("assessment")


@dataclass(frozen=True)
class Item:
    key: str
    level1: str
    level2: str
    name: str
    points: float
    how: str
    basis: str
    per: float
    criteria: str
    hint: str


def items() -> list[Item]:
    return [Item(str(d["key"]), str(d["level1"]), str(d.get("level2", "")), str(d["name"]), float(d["points"]),
                 str(d["how"]), str(d.get("basis", "")), float(d.get("per", 0)), str(d.get("criteria", "")),
                 str(d.get("hint", ""))) for d in settings()["item"]]


@dataclass(frozen=True)
class Facts:
    """What the round knows of a unit's work (None: not known, the row waits for the reviewer)."""

    days_late: int | None = None
    missing_tables: int | None = None  # required tables (基础数据表, 整体/项目支出自评表) not submitted
    report_missing_body: int | None = None  # report parts the outline requires that are missing or empty
    report_missing_annex: int | None = None  # attachments (the required tables) missing beside the report
    weights_ok: bool | None = None  # the form's weights follow the rules (no weights.* finding)
    broken_down: bool | None = None  # every indicator named at the 三级 level
    quantitative_share: float | None = None  # share of indicators with a quantitative target
    problems: str | None = None  # the report's 存在的问题 text
    proposals: str | None = None  # the report's 改进措施 / 建议 text


@dataclass(frozen=True)
class Judged:
    score: float
    reason: str = ""


@dataclass(frozen=True)
class Line:
    item: Item
    score: float | None  # None: the reviewer's to score
    source: str  # 系统 / 审核人 / 待评
    basis: str  # why, in Chinese
    reason: str = ""  # the reviewer's own reason (basis adds what the round knows)


@dataclass(frozen=True)
class Sheet:
    lines: list[Line]

    @property
    def total(self) -> float | None:
        """The total, or None while a row waits for the reviewer."""
        xs = [x.score for x in self.lines]
        return None if None in xs else round(sum(x for x in xs if x is not None), 2)

    @property
    def known(self) -> float:
        return round(sum(x.score for x in self.lines if x.score is not None), 2)

    @property
    def pending(self) -> list[str]:
        return [x.item.name for x in self.lines if x.score is None]


def parse_points(text: str, item: Item) -> float:
    try:
        x = float(str(text).strip())
    except ValueError:
        raise ValueError(f"“{item.name}”的得分应为数字：{text}") from None
    if x != x or x < 0 or x > item.points + 1e-9:
        raise ValueError(f"“{item.name}”的得分应在 0 到 {item.points:g} 之间：{text}")
    return round(x, 2)


def _deducted(item: Item, count: int, what: str, unit: str) -> tuple[float, str]:
    """The row's points less ``per`` for each of ``count`` (``what`` counted in ``unit``: 迟报 3 天)."""
    score = max(0.0, item.points - item.per * count)
    return score, (f"{what} {count} {unit}，每{unit}扣 {item.per:g} 分" if count else f"无{what}")


def _auto(item: Item, f: Facts) -> tuple[float, str] | None:
    """The row's score from the facts, or None when they do not tell it."""
    b = item.basis
    if b == "days_late" and f.days_late is not None:
        return _deducted(item, f.days_late, "迟报", "天") if f.days_late else (item.points, "按时提交")
    if b == "missing_tables" and f.missing_tables is not None:
        return _deducted(item, f.missing_tables, "未提交的表", "张")
    if b == "report_missing_body" and f.report_missing_body is not None:
        return _deducted(item, f.report_missing_body, "缺少或为空的正文部分", "处")
    if b == "report_missing_annex" and f.report_missing_annex is not None:
        return _deducted(item, f.report_missing_annex, "缺少的附件", "项")
    if b == "weights_ok" and f.weights_ok is not None:
        return (item.points, "各级指标分值与规则相符") if f.weights_ok else (0.0, "指标分值与规则不符（见检查结果 weights.*）")
    if b == "broken_down" and f.broken_down is not None:
        return (item.points, "指标均细化到三级指标") if f.broken_down else (0.0, "有指标未细化到三级指标")
    return None


def _points_of(text: str) -> list[str]:
    """The points a section names: its numbered items or sentences, without the numbering."""
    parts = re.split(r"[。；;\n]|(?:^|\s)(?:[（(]?[一二三四五六七八九十\d]+[)）、.．])", text)
    return [re.sub(r"\s+", "", p) for p in parts if p and re.sub(r"\s+", "", p)]


def boilerplate(text: str | None, only: Sequence[str]) -> bool:
    """Whether every point a section names is one of ``only`` (资金不足 …) and it names at least one: a section
    that says nothing else. Placeholders left by the draft (【待填写…】) do not count as points."""
    if not text:
        return False
    pts = [p for p in _points_of(text) if "待填写" not in p]
    return bool(pts) and all(any(o in p for o in only) for p in pts)


def _boilerplate_line(item: Item, f: Facts) -> tuple[float, str] | None:
    rules = settings().get("boilerplate", {})
    if item.basis not in rules:
        return None
    text = getattr(f, item.basis)
    if boilerplate(text, rules[item.basis]["only"]):
        said = "资金不足" if item.basis == "problems" else "加大资金投入"
        return 0.0, f"报告所列仅为“{said}”一类，按评分标准不得分"
    return None


def assess(facts: Facts, judged: dict[str, Judged]) -> Sheet:
    """The 工作考核评分表 of one unit: each row scored by the reviewer, by the facts, by a boilerplate rule, or
    left for the reviewer."""
    out = []
    for it in items():
        j = judged.get(it.key)
        hint = _hint(it, facts)
        if j is not None:
            out.append(Line(it, j.score, "审核人", "；".join(x for x in (j.reason, hint) if x), j.reason))
            continue
        got = _auto(it, facts) if it.how == AUTO else _boilerplate_line(it, facts)
        if got is not None:
            out.append(Line(it, got[0], "系统", got[1]))
        else:
            out.append(Line(it, None, "待评", hint))
    return Sheet(out)


def _hint(it: Item, facts: Facts) -> str:
    """What the round knows that helps the reviewer judge a row (kept beside the reviewer's score)."""
    if it.hint == "quantitative_share" and facts.quantitative_share is not None:
        return f"定量指标占 {facts.quantitative_share:.0%}"
    return ""


def facts_from(results: Sequence[dict[str, Any]], findings: Sequence[dict[str, Any]], days_late: int | None,
               missing: Sequence[str], annexes: Sequence[str]) -> Facts:
    """The facts of one unit from its latest checked files: ``results`` their ``FileResult.to_dict()``s,
    ``findings`` their findings, ``missing`` the labels of required tables not in, ``annexes`` those of them a
    report's 附件 are (基础数据表, 自评表)."""
    forms = [f for r in results for f in (r.get("forms") or []) if f.get("kind") in ("dept", "project")]
    reports = [f for r in results for f in (r.get("forms") or []) if f.get("kind") == "report"]
    rows = [x for f in forms for x in (f.get("rows") or [])[1:]]  # the 执行率 row is not an indicator
    sections = reports[0].get("sections") or {} if reports else {}
    rules = settings().get("boilerplate", {})

    def section(which: str) -> str | None:
        if not reports:
            return None
        heads = rules.get(which, {}).get("section", [])
        return "\n".join(t for h, t in sections.items() if any(k in h for k in heads)) or None

    body = None
    if reports:
        body = sum(1 for x in findings if x.get("rule") in ("report.section_missing", "report.section_empty"))
    return Facts(
        days_late=days_late,
        missing_tables=len(missing),
        report_missing_body=body,
        report_missing_annex=len([m for m in missing if m in annexes]) if reports else None,
        weights_ok=(not any(str(x.get("rule", "")).startswith("weights.") for x in findings)) if forms else None,
        broken_down=(bool(rows) and all(str(x.get("name") or "").strip() and x.get("name") != x.get("level2")
                                        for x in rows)) if forms else None,
        quantitative_share=(sum(1 for x in rows if x.get("kind") not in (None, "定性")) / len(rows)) if rows else None,
        problems=section("problems"),
        proposals=section("proposals"),
    )


_THIN = Side(style="thin", color="000000")


def sheet_xlsx(unit: str, round_name: str, sheet: Sheet) -> bytes:
    """One unit's filled 工作考核评分表, print-ready (A4 portrait, borders, title, fitted to one page wide)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "工作考核评分表"
    _table(ws, unit, round_name, sheet)
    return _bytes(wb)


def _table(ws: Worksheet, unit: str, round_name: str, sheet: Sheet) -> None:
    ws.merge_cells("A1:G1")
    ws["A1"] = settings()["title"]
    ws["A1"].font = Font(size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A2:G2")
    ws["A2"] = f"被考核单位：{unit}　　批次：{round_name}"
    header = ["一级指标", "二级指标", "三级指标", "分值", "评分标准", "得分", "评分依据"]
    ws.append(header)
    for ln in sheet.lines:
        ws.append([ln.item.level1, ln.item.level2, ln.item.name, ln.item.points, ln.item.criteria,
                   ln.score if ln.score is not None else "待评", f"{ln.source}：{ln.basis}" if ln.basis else ln.source])
    ws.append(["合计", "", "", sum(x.item.points for x in sheet.lines), "",
               sheet.total if sheet.total is not None else f"待评（已得 {sheet.known:g}）", ""])
    widths = dict(zip("ABCDEFG", (9, 9, 12, 5, 34, 7, 20)))
    for row in ws.iter_rows(min_row=3, max_row=ws.max_row):
        for c in row:
            c.border = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
            c.alignment = Alignment(vertical="center", wrap_text=True)
            c.font = Font(size=10, bold=c.row == 3)
        ws.row_dimensions[row[0].row].height = 14 * max(_lines(c.value, widths[c.column_letter]) for c in row) + 4
    for col, w in widths.items():
        ws.column_dimensions[col].width = w
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.print_options.horizontalCentered = True
    ws.print_title_rows = "3:3"


def _lines(value: object, width: float) -> int:
    """How many lines a wrapped cell takes in a column ``width`` characters wide (a Chinese character is two):
    spreadsheets do not grow a row for wrapped text they did not lay out themselves."""
    text = "" if value is None else str(value)
    units = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return max(1, -(-units // max(1, int(width * 1.15) - 1)))


def summary_xlsx(round_name: str, sheets: Sequence[tuple[str, Sheet]]) -> bytes:
    """Every unit's 工作考核 score: one row per unit, a column per row of the table, and the total."""
    its = items()
    rows = [[unit, *[next((x.score for x in s.lines if x.item.key == it.key), None) for it in its],
             s.total if s.total is not None else "待评", "、".join(s.pending)] for unit, s in sheets]
    wb = Workbook()
    _sheet(wb, "汇总", ["单位", *[f"{it.name}（{it.points:g}）" for it in its], "合计", "待评项目"], rows,
           [28] + [10] * len(its) + [10, 30])
    wb.properties.title = f"{round_name} 工作考核评分汇总"
    return _bytes(wb)
