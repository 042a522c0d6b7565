"""Transformations that units really perform on a form, for the metamorphic harness.

Each transformation takes a workbook as a list of :class:`Grid` (one per sheet: cell values, number
formats, merged ranges) and returns the transformed grids with a map that says where each original
cell went. The office-suite round trips (LibreOffice, Gnumeric) are done by the harness itself, in
batches; here are the edits a unit makes by hand: moving the table, inserting rows and columns,
swapping columns, retyping amounts and rates, relabelling, splitting merged cells, putting two
forms in one workbook, exporting an HTML table saved with ``.xls``.

Every transformation is written from what units do, never from one form: it finds its target
cells by the labels a unit would see (全年预算数, 执行率, 单位：万元 …).
"""
from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter, range_boundaries

Pos = tuple[int, int]  # (row, col), 1-based


@dataclass
class Grid:
    name: str
    values: dict[Pos, Any]
    formats: dict[Pos, str] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # (r1, c1, r2, c2)


@dataclass
class Result:
    grids: list[Grid]
    where: Callable[[str, str], tuple[str, str]]  # (sheet, cell) → (sheet, cell) in the transformed book
    scale: float = 1.0  # amounts multiplied by this
    suffix: str = ".xlsx"
    data: bytes | None = None  # the file itself when it is not an .xlsx written from grids


class NotApplicable(Exception):
    """The form has nothing this transformation changes (no funds block, no rate cell …)."""


def load(data: bytes) -> list[Grid]:
    wb = load_workbook(io.BytesIO(data))
    grids = []
    for ws in wb.worksheets:
        values, formats = {}, {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    values[(c.row, c.column)] = c.value
                    if c.number_format and c.number_format != "General":
                        formats[(c.row, c.column)] = c.number_format
        merges = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
        grids.append(Grid(ws.title, values, formats, merges))
    return grids


def dump(grids: list[Grid]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for g in grids:
        ws = wb.create_sheet(g.name)
        for (r, c), v in sorted(g.values.items()):
            cell = ws.cell(r, c, v)
            if isinstance(v, str) and v.startswith("="):
                cell.data_type = "s"  # typed text such as "=24期", never a formula
            if (r, c) in g.formats:
                cell.number_format = g.formats[(r, c)]
        for r1, c1, r2, c2 in g.merges:
            ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def ref(r: int, c: int) -> str:
    return f"{get_column_letter(c)}{r}"


def pos(cell: str) -> Pos:
    c1, r1, _, _ = range_boundaries(cell)
    return r1, c1


def same(sheet: str, cell: str) -> tuple[str, str]:
    return sheet, cell


def _norm(x: Any) -> str:
    return re.sub(r"[\s\u3000]", "", str(x)) if isinstance(x, str) else ""


# ---------------------------------------------------------------------------
# Moving cells


def _moved(grids: list[Grid], row_at: Callable[[int], int], col_at: Callable[[int], int]) -> list[Grid]:
    out = []
    for g in grids:
        out.append(Grid(g.name, {(row_at(r), col_at(c)): v for (r, c), v in g.values.items()},
                        {(row_at(r), col_at(c)): f for (r, c), f in g.formats.items()},
                        [(row_at(a), col_at(b), row_at(c), col_at(d)) for a, b, c, d in g.merges]))
    return out


def _shift_map(row_at: Callable[[int], int], col_at: Callable[[int], int]):
    def where(sheet: str, cell: str) -> tuple[str, str]:
        r, c = pos(cell)
        return sheet, ref(row_at(r), col_at(c))
    return where


def cover_block(grids: list[Grid]) -> Result:
    """The table moved under a cover block: 4 rows of title and notes above it, 2 columns of margin left of it."""
    dr, dc = 4, 2
    moved = _moved(grids, lambda r: r + dr, lambda c: c + dc)
    for g in moved:
        g.values[(1, 1)] = "附件3"
        g.values[(2, 1)] = "绩效自评材料（请于规定时间前报送）"
        g.values[(3, 1)] = "报送说明：本表由单位财务人员填写，经单位负责人审核后报送。"
    return Result(moved, _shift_map(lambda r: r + dr, lambda c: c + dc))


def _inserted(at: list[int]) -> Callable[[int], int]:
    """Index map after inserting one blank line before each index in ``at``."""
    return lambda i: i + sum(1 for a in at if i >= a)


def _body_rows(g: Grid) -> list[int]:
    rows = sorted({r for r, _ in g.values})
    return rows


def blank_rows(grids: list[Grid]) -> Result:
    """Blank rows inserted: one after the title, one in the middle of the table, one before the last row.

    Inserted between merged ranges only (a row inserted inside a merge would widen it, as in Excel)."""
    plans = {}
    for g in grids:
        rows = _body_rows(g)
        if len(rows) < 4:
            plans[g.name] = []
            continue
        candidates = [rows[1], rows[len(rows) // 2], rows[-1]]
        inside = {r for r1, _, r2, _ in g.merges for r in range(r1 + 1, r2 + 1)}
        plans[g.name] = sorted({r for r in candidates if r not in inside})
    out = [_moved([g], _inserted(plans[g.name]), lambda c: c)[0] for g in grids]

    def where(sheet: str, cell: str) -> tuple[str, str]:
        r, c = pos(cell)
        return sheet, ref(_inserted(plans.get(sheet, []))(r), c)
    return Result(out, where)


def blank_columns(grids: list[Grid]) -> Result:
    """A blank column inserted left of the table and one after its second column (outside merges)."""
    plans = {}
    for g in grids:
        inside = {c for _, c1, _, c2 in g.merges for c in range(c1 + 1, c2 + 1)}
        plans[g.name] = [1] + ([3] if 3 not in inside else [])
    out = [_moved([g], lambda r: r, _inserted(plans[g.name]))[0] for g in grids]

    def where(sheet: str, cell: str) -> tuple[str, str]:
        r, c = pos(cell)
        return sheet, ref(r, _inserted(plans.get(sheet, []))(c))
    return Result(out, where)


# ---------------------------------------------------------------------------
# The funds block, found by its labels

# 预算数(A) (the 20-point layout) and a sources table's 合计(万元) column are budgets too
_BUDGET = re.compile(r"全年预算|调整后预算|预算数(?:[(（][A-Z][)）])?$|年度预算数?$|全年预算数|^合计(?:[(（]万元[)）])?$")
_EXECUTED = re.compile(r"执行数|实际支出|全年执行|实际执行|支出数")
_RATE = re.compile(r"执行率")
_OPENING = re.compile(r"年初")
_BLOCK_END = re.compile(r"总体目标|一级指标|绩效指标|年度目标")


@dataclass
class Funds:
    sheet: Grid
    header: int
    budget: int
    executed: int
    rate: int | None
    opening: int | None
    rows: list[int]  # the block's data rows
    end: int  # the block's last row (rows of split labels included)


def funds_blocks(grids: list[Grid]) -> list[Funds]:
    found = []
    for g in grids:
        by_row: dict[int, dict[int, str]] = {}
        for (r, c), v in g.values.items():
            if isinstance(v, str):
                by_row.setdefault(r, {})[c] = _norm(v)
        for r in sorted(by_row):
            cols = by_row[r]
            budget = [c for c, t in cols.items() if _BUDGET.search(t) and not _OPENING.search(t) and not _RATE.search(t)
                      and len(t) <= 12]
            executed = [c for c, t in cols.items() if _EXECUTED.search(t) and not _RATE.search(t) and len(t) <= 12]
            if len(budget) != 1 or len(executed) != 1 or budget == executed:
                continue
            rate = [c for c, t in cols.items() if _RATE.search(t) and len(t) <= 12]
            opening = [c for c, t in cols.items() if _OPENING.search(t) and len(t) <= 12]
            rows, end = [], r
            for r2 in range(r + 1, r + 12):
                texts = by_row.get(r2, {})
                if any(_BLOCK_END.search(t) for t in texts.values()):
                    break
                end = r2
                if isinstance(g.values.get((r2, budget[0])), (int, float)) or isinstance(
                        g.values.get((r2, executed[0])), (int, float)):
                    rows.append(r2)
            if rows:
                found.append(Funds(g, r, budget[0], executed[0], rate[0] if rate else None,
                                   opening[0] if opening else None, rows, end))
                break
    return found


def _merged_in(g: Grid, rows: range, cols: set[int]) -> bool:
    return any(r1 <= rows.stop - 1 and r2 >= rows.start and any(c1 <= c <= c2 for c in cols) and (c1 != c2 or r1 != r2)
               for r1, c1, r2, c2 in g.merges)


def swap_budget_executed(grids: list[Grid]) -> Result:
    """The 全年预算数 and 全年执行数 columns swapped inside the funds block (header labels move with them)."""
    blocks = funds_blocks(grids)
    if not blocks:
        raise NotApplicable("no funds block with a budget and an executed column")
    grids = [replace(g, values=dict(g.values), formats=dict(g.formats)) for g in grids]
    by_name = {g.name: g for g in grids}
    swaps: dict[str, tuple[range, int, int]] = {}
    for b in blocks:
        g = by_name[b.sheet.name]
        span = range(b.header, b.rows[-1] + 1)
        if _merged_in(g, span, {b.budget, b.executed}):
            raise NotApplicable("a merged cell crosses the budget or executed column")
        for r in span:
            for d in (g.values, g.formats):
                x, y = d.pop((r, b.budget), None), d.pop((r, b.executed), None)
                if y is not None:
                    d[(r, b.budget)] = y
                if x is not None:
                    d[(r, b.executed)] = x
        swaps[g.name] = (span, b.budget, b.executed)

    def where(sheet: str, cell: str) -> tuple[str, str]:
        r, c = pos(cell)
        if sheet in swaps:
            span, cb, ce = swaps[sheet]
            if r in span and c in (cb, ce):
                c = ce if c == cb else cb
        return sheet, ref(r, c)
    return Result(grids, where)


_AMOUNT_IN_LABEL = re.compile(r"([：:]\s*)(\d+(?:\.\d+)?)")
_WAN = re.compile(r"万元")


def _retyped(grids: list[Grid], factor: float, header: Callable[[str], str]) -> list[Grid]:
    blocks = funds_blocks(grids)
    if not blocks:
        raise NotApplicable("no funds block")
    grids = [replace(g, values=dict(g.values), formats=dict(g.formats)) for g in grids]
    by_name = {g.name: g for g in grids}
    for b in blocks:
        g = by_name[b.sheet.name]
        cols = [c for c in (b.opening, b.budget, b.executed) if c]
        for r in b.rows:
            for c in cols:
                v = g.values.get((r, c))
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    g.values[(r, c)] = round(v * factor, 6)
                    if factor > 1:
                        g.formats[(r, c)] = "0.00"
        for (rr, cc), v in list(g.values.items()):  # amounts written inside labels (一般公共预算：36273.98)
            if b.header < rr <= b.end and isinstance(v, str) and _AMOUNT_IN_LABEL.search(v):
                g.values[(rr, cc)] = _AMOUNT_IN_LABEL.sub(
                    lambda m: m.group(1) + f"{float(m.group(2)) * factor:.2f}", v)
        for (r, c), v in list(g.values.items()):
            if isinstance(v, str) and r <= b.header and _WAN.search(v):
                g.values[(r, c)] = header(v)
    return grids


def amounts_in_yuan(grids: list[Grid]) -> Result:
    """Amounts retyped in 元 (×10000) and every 万元 header above them changed to 元."""
    return Result(_retyped(grids, 10000, lambda t: t.replace("万元", "元")), same, scale=10000)


def amounts_in_yuan_under_wanyuan(grids: list[Grid]) -> Result:
    """Amounts retyped in 元 (×10000) under a header that still says 万元: the unit's slip."""
    return Result(_retyped(grids, 10000, lambda t: t), same, scale=10000)


def amounts_in_wanyuan_from_yuan(grids: list[Grid]) -> Result:
    """The reverse: a form kept in 元 (header 元) retyped in 万元 (÷10000) under its 元 header."""
    first = _retyped(grids, 10000, lambda t: t.replace("万元", "元"))
    return Result(_retyped(first, 1 / 10000, lambda t: t), same)


# ---------------------------------------------------------------------------
# Rates


_PERCENT_TEXT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[%％]\s*$")


def _rate_cells(grids: list[Grid]) -> list[tuple[Grid, Pos, float, int]]:
    """The 执行率 cells of each funds block: (grid, position, rate in percent, decimals shown)."""
    out = []
    for b in funds_blocks(grids):
        if b.rate is None:
            continue
        for r in b.rows:
            v = b.sheet.values.get((r, b.rate))
            fmt = b.sheet.formats.get((r, b.rate), "")
            if isinstance(v, str) and (m := _PERCENT_TEXT.match(v)):
                out.append((b.sheet, (r, b.rate), float(m.group(1)), len(m.group(1).partition(".")[2])))
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                pct = v * 100 if "%" in fmt else v
                decimals = len(fmt.partition(".")[2].rstrip("%")) if "." in fmt else 0
                out.append((b.sheet, (r, b.rate), float(pct), decimals))
    if not out:
        raise NotApplicable("no 执行率 cell")
    return out


def _rates(grids: list[Grid], write: Callable[[float, int], tuple[Any, str | None]]) -> Result:
    cells = _rate_cells(grids)
    grids_out = [replace(g, values=dict(g.values), formats=dict(g.formats)) for g in grids]
    by_name = {g.name: g for g in grids_out}
    for g, p, pct, decimals in cells:
        value, fmt = write(pct, decimals)
        target = by_name[g.name]
        target.values[p] = value
        target.formats.pop(p, None)
        if fmt:
            target.formats[p] = fmt
    return Result(grids_out, same)


def rates_as_text(grids: list[Grid]) -> Result:
    """执行率 typed as the text "84.52%"."""
    return _rates(grids, lambda pct, d: (f"{pct:.{d}f}%", None))


def rates_as_percent_number(grids: list[Grid]) -> Result:
    """执行率 typed as the number 84.52 (the header says %)."""
    return _rates(grids, lambda pct, d: (round(pct, d), "0." + "0" * d if d else "0"))


def rates_as_fraction(grids: list[Grid]) -> Result:
    """执行率 typed as the number 0.8452 shown with a percent format."""
    return _rates(grids, lambda pct, d: (round(pct / 100, d + 2), ("0." + "0" * d if d else "0") + "%"))


# ---------------------------------------------------------------------------
# Labels

_LABEL_MAX = 14
_FULL = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


def _is_label(v: Any) -> bool:
    return isinstance(v, str) and 2 <= len(v.strip()) <= _LABEL_MAX and not re.search(r"[0-9%％]", v)


_HEADER_WORD = re.compile(r"预算|执行|分值|得分|指标|权重|完成|偏差|原因|项目|单位|资金")


def _label_cells(g: Grid) -> set[Pos]:
    """Cells a unit reads as labels: the texts of header rows (two or more header words, no numbers) and the
    row labels of the first three columns. Values (units such as 人次, words such as 达标) are left alone."""
    by_row: dict[int, list[Pos]] = {}
    for p, v in g.values.items():
        if isinstance(v, str):
            by_row.setdefault(p[0], []).append(p)
    first = sorted({c for _, c in g.values})[:3]
    numbers = {r for (r, _), v in g.values.items() if isinstance(v, (int, float))}
    out = set()
    for r, cells in by_row.items():
        header = r not in numbers and sum(1 for p in cells if _HEADER_WORD.search(g.values[p])) >= 2
        out.update(p for p in cells if header or p[1] in first)
    return out


def _labels(grids: list[Grid], edit: Callable[[str], str]) -> Result:
    out = []
    changed = 0
    for g in grids:
        values = {}
        labels = _label_cells(g)
        for p, v in g.values.items():
            if p in labels and _is_label(v):
                new = edit(v)
                changed += new != v
                values[p] = new
            else:
                values[p] = v
        out.append(replace(g, values=values))
    if not changed:
        raise NotApplicable("no label changed")
    return Result(out, same)


def _middle(t: str, sep: str) -> str:
    t = t.strip()
    k = len(t) // 2
    return t[:k] + sep + t[k:]


def labels_with_spaces(grids: list[Grid]) -> Result:
    """Labels typed with spaces: a leading and a trailing space, and a full-width space in the middle."""
    return _labels(grids, lambda t: " " + _middle(t, "\u3000") + " ")


def labels_with_line_breaks(grids: list[Grid]) -> Result:
    """Labels wrapped by hand (Alt+Enter): a line break in the middle."""
    return _labels(grids, lambda t: _middle(t, "\n"))


def labels_full_width(grids: list[Grid]) -> Result:
    """Labels typed with a Chinese input method: ASCII letters and punctuation as full-width characters,
    and the full-width brackets and colons of the form as ASCII where it had them full-width."""
    swap = {"（": "(", "）": ")", "：": ":"}

    def edit(t: str) -> str:
        if any(ch in _FULL for ch in t):
            return "".join(_FULL.get(ch, ch) for ch in t)
        return "".join(swap.get(ch, ch) for ch in t)
    return _labels(grids, edit)


# ---------------------------------------------------------------------------
# Structure


def merges_split(grids: list[Grid]) -> Result:
    """Every merged cell split (the value stays in the top-left cell, as Excel leaves it)."""
    if not any(g.merges for g in grids):
        raise NotApplicable("no merged cell")
    return Result([replace(g, merges=[]) for g in grids], same)


def two_forms(grids: list[Grid]) -> Result:
    """Two forms in one workbook: every sheet of the form, then a copy of it named as a second unit's
    sheet. Every finding of the form must be found on both (the harness checks the copy's)."""
    copies = [replace(g, name=_copy_name(g.name), values=dict(g.values), formats=dict(g.formats),
                      merges=list(g.merges)) for g in grids]
    return Result(grids + copies, lambda sheet, cell: (_copy_name(sheet), cell))


def _copy_name(name: str) -> str:
    return (name + "（二）")[:31]


def html_table_as_xls(grids: list[Grid]) -> Result:
    """The sheet exported as an HTML table (as web systems export) and saved with the .xls extension."""
    if len(grids) != 1:
        raise NotApplicable("an HTML export holds one table")
    g = grids[0]
    covered: dict[Pos, tuple[int, int] | None] = {}
    for r1, c1, r2, c2 in g.merges:
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                covered[(r, c)] = None
        covered[(r1, c1)] = (r2 - r1 + 1, c2 - c1 + 1)
    rows = max((r for r, _ in g.values), default=1)
    cols = max((c for _, c in g.values), default=1)
    for r1, c1, r2, c2 in g.merges:
        rows, cols = max(rows, r2), max(cols, c2)
    parts = ['<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>',
             '<table border="1">']
    for r in range(1, rows + 1):
        parts.append("<tr>")
        for c in range(1, cols + 1):
            span = covered.get((r, c), (1, 1)) if (r, c) in covered else (1, 1)
            if span is None:
                continue
            attrs = (f' rowspan="{span[0]}"' if span[0] > 1 else "") + (f' colspan="{span[1]}"' if span[1] > 1 else "")
            parts.append(f"<td{attrs}>{_html_text(g.values.get((r, c)), g.formats.get((r, c)))}</td>")
        parts.append("</tr>")
    parts.append("</table></body></html>")
    data = "".join(parts).encode("utf-8")
    return Result(grids, lambda sheet, cell: ("*", cell), suffix=".xls", data=data)


def _html_text(v: Any, fmt: str | None) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and fmt and re.fullmatch(r"0\.0+", fmt):
        v = f"{v:.{len(fmt) - 2}f}"
    elif isinstance(v, float) and fmt and re.fullmatch(r"0(\.0+)?%", fmt):
        d = len(fmt) - 3 if "." in fmt else 0
        v = f"{v * 100:.{d}f}%"
    return html.escape(str(v)).replace("\n", "<br>")


EDITS: dict[str, Callable[[list[Grid]], Result]] = {
    "cover_block": cover_block,
    "blank_rows": blank_rows,
    "blank_columns": blank_columns,
    "swap_budget_executed": swap_budget_executed,
    "amounts_in_yuan": amounts_in_yuan,
    "amounts_in_yuan_under_wanyuan": amounts_in_yuan_under_wanyuan,
    "amounts_back_to_wanyuan": amounts_in_wanyuan_from_yuan,
    "rates_as_text": rates_as_text,
    "rates_as_percent_number": rates_as_percent_number,
    "rates_as_fraction": rates_as_fraction,
    "labels_with_spaces": labels_with_spaces,
    "labels_with_line_breaks": labels_with_line_breaks,
    "labels_full_width": labels_full_width,
    "merges_split": merges_split,
    "two_forms": two_forms,
    "html_table_as_xls": html_table_as_xls,
}
