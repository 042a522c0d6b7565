"""The season's lists for the bureau: the board as .xlsx (units that have not submitted included, with their
contact and what they owe) and the units to remind, as .xlsx and as text to paste into messaging.

Plain data in, bytes or text out: a row is a dict with ``unit`` (name), ``contact``, ``status``, ``review``,
``missing`` (labels), ``docs`` (:class:`~jixiao.season.requirements.DocStatus`), ``errors``, ``warnings``,
``days_late``, ``last`` (text).
"""
from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[Any]], widths: list[int]) -> None:
    ws = wb.active if wb.active.max_row == 1 and wb.active.title == "Sheet" else wb.create_sheet()
    ws.title = title
    ws.append(header)
    for c in ws[1]:
        c.font, c.fill = Font(bold=True), HEADER_FILL
    for r in rows:
        ws.append([_cell(v) for v in r])
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    for row in ws.iter_rows(min_row=2):
        for c in row:
            c.alignment = Alignment(vertical="top", wrap_text=True)
    ws.freeze_panes = "A2"


def _cell(v: Any) -> Any:
    """A value as a cell holds it; text that a spreadsheet would run as a formula is kept as text."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@"):
        return "'" + v
    return v


def board_xlsx(round_name: str, labels: list[str], rows: list[dict[str, Any]]) -> bytes:
    """One row per unit: status, review, each owed document's state (``labels``: the columns), what is missing,
    days late, counts, contact."""
    header = ["单位", "联系人（账号）", "检查状态", "审核", *labels, "缺少的材料", "材料齐全", "迟报天数", "错误", "警告", "最近提交"]
    out = []
    for r in rows:
        states = {d.owed.label: d.state for d in r.get("docs") or []}
        out.append([r["unit"], r.get("contact") or "", r["status"], r.get("review") or "",
                    *[states.get(k, "") for k in labels], "、".join(r.get("missing") or []),
                    "是" if r.get("all_in") else "否", r.get("days_late") or 0, r.get("errors") or 0,
                    r.get("warnings") or 0, r.get("last") or ""])
    wb = Workbook()
    _sheet(wb, "汇总", header, out, [28, 18, 10, 10] + [16] * len(labels) + [36, 10, 10, 8, 8, 18])
    wb.properties.title = f"{round_name} 提交情况"
    return _bytes(wb)


def to_remind(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The units a reviewer reminds: something still missing, or a file returned to them (已退回)."""
    return [r for r in rows if r.get("missing") or r.get("review") == "已退回"]


def _why(r: dict[str, Any]) -> str:
    parts = []
    if r.get("missing"):
        parts.append("尚缺：" + "、".join(r["missing"]))
    if r.get("review") == "已退回":
        parts.append("有退回修改的文件待重新提交")
    return "；".join(parts)


def reminder_xlsx(round_name: str, deadline: str, rows: list[dict[str, Any]]) -> bytes:
    wb = Workbook()
    _sheet(wb, "催报名单", ["单位", "联系人（账号）", "需要补交或修改", "截止时间"],
           [[r["unit"], r.get("contact") or "", _why(r), deadline or "不限"] for r in to_remind(rows)], [28, 18, 60, 18])
    wb.properties.title = f"{round_name} 催报名单"
    return _bytes(wb)


def reminder_text(round_name: str, deadline: str, rows: list[dict[str, Any]], past: bool = False) -> str:
    """A message to paste into the bureau's messaging group: one line per unit (``past``: the deadline has gone)."""
    if deadline and past:
        due = f"截止时间（{deadline}）已过，请尽快"
    elif deadline:
        due = f"请于截止时间 {deadline} 前"
    else:
        due = "请尽快"
    lines = [f"【{round_name}】以下单位材料尚未齐全，{due}在系统中补交或修改："]
    for i, r in enumerate(to_remind(rows), start=1):
        lines.append(f"{i}. {r['unit']}：{_why(r)}")
    if len(lines) == 1:
        lines.append("（目前没有需要催报的单位）")
    return "\n".join(lines) + "\n"


def _bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
