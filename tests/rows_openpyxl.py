"""Insert, delete and copy whole rows in openpyxl the way a spreadsheet does it for the officer.

openpyxl's own ``insert_rows``/``delete_rows`` move the cells only; a spreadsheet also moves every reference to
the rows below (a range whose last row moves down grows over the inserted rows, one whose rows are deleted
shrinks), the merges, the data validations, the row heights, the print area and the page breaks. This module
does that part, so that a second program besides LibreOffice edits the rows (the tests then let LibreOffice
recalculate the result). One sheet's references to itself and the workbook's names are moved; that is all a
template holds.
"""
from __future__ import annotations

import copy
import re

from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.formula.translate import Translator
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange

_REF = re.compile(r"(\$?)([A-Z]{1,3})(\$?)(\d+)")


def _move_row(row: int, at: int, n: int, end: bool | None) -> int | None:
    """Row ``row`` after inserting ``n`` rows above row ``at`` (n > 0) or deleting rows at..at-n-1 (n < 0).

    ``end``: True for the last row of a range, False for its first, None for a single cell (gone when deleted).
    """
    if n > 0:
        return row + n if row >= at else row
    gone = -n
    if row < at:
        return row
    if row >= at + gone:
        return row - gone
    if end is None:
        return None
    return at - 1 if end else at


def _move_ref(text: str, at: int, n: int) -> str:
    sheet, _, body = text.rpartition("!")
    parts = body.split(":")
    out = []
    for i, part in enumerate(parts):
        m = _REF.fullmatch(part)
        if m is None:
            return text
        end = None if len(parts) == 1 else i == len(parts) - 1
        row = _move_row(int(m.group(4)), at, n, end)
        if row is None:
            return (sheet + "!" if sheet else "") + "#REF!"
        out.append(f"{m.group(1)}{m.group(2)}{m.group(3)}{row}")
    return (sheet + "!" if sheet else "") + ":".join(out)


def move_formula(formula: str, at: int, n: int, sheet: str) -> str:
    """The formula with its references to ``sheet`` moved as a spreadsheet moves them."""
    tok = Tokenizer(formula)
    for t in tok.items:
        if t.type == Token.OPERAND and t.subtype == Token.RANGE:
            own = "!" not in t.value or t.value.rpartition("!")[0].strip("'") == sheet
            if own:
                t.value = _move_ref(t.value, at, n)
    return "=" + "".join(t.value for t in tok.items)


def _move_range(rng: str, at: int, n: int) -> str | None:
    r = CellRange(rng)
    lo, hi = _move_row(r.min_row, at, n, False), _move_row(r.max_row, at, n, True)
    if lo is None or hi is None or hi < lo:
        return None
    return CellRange(min_col=r.min_col, min_row=lo, max_col=r.max_col, max_row=hi).coord


def _shift(ws, at: int, n: int) -> None:
    """Everything but the cells themselves, after cells moved by ``n`` rows at row ``at``."""
    wb = ws.parent
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and c.value.startswith("="):
                c.value = move_formula(c.value, at, n, ws.title)
    merges = [str(m) for m in ws.merged_cells.ranges]
    ws.merged_cells = MultiCellRange()
    for m in merges:
        moved = _move_range(m, at, n)
        if moved and CellRange(moved).size != {"columns": 1, "rows": 1}:
            ws.merge_cells(moved)
    for dv in ws.data_validations.dataValidation:
        ranges = [x for x in (_move_range(str(r), at, n) for r in dv.sqref.ranges) if x]
        dv.sqref = " ".join(ranges)
    heights = {r: d.height for r, d in ws.row_dimensions.items() if d.height}
    for r in list(ws.row_dimensions):
        ws.row_dimensions[r].height = None
    for r, h in heights.items():
        moved = _move_row(r, at, n, None)
        if moved:
            ws.row_dimensions[moved].height = h
    if ws.print_area:
        area = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
        ws.print_area = _move_range(area.split("!")[-1].replace("$", ""), at, n)
    if ws.print_title_rows:
        a, b = ws.print_title_rows.replace("$", "").split(":")
        ws.print_title_rows = f"{_move_row(int(a), at, n, False)}:{_move_row(int(b), at, n, True)}"
    for brk in ws.row_breaks.brk:
        brk.id = _move_row(brk.id, at, n, True) or brk.id
    for name, dn in list(wb.defined_names.items()):
        if dn.attr_text and "!" in dn.attr_text:
            dn.attr_text = _move_ref(dn.attr_text, at, n)


def insert_rows(ws, at: int, n: int = 1) -> None:
    """Insert ``n`` blank rows above row ``at``, taking the format of the row above (as Excel does)."""
    ws.insert_rows(at, n)
    _shift(ws, at, n)
    for r in range(at, at + n):
        for c in ws[at - 1]:
            target = ws.cell(r, c.column)
            target._style = copy.copy(c._style)


def delete_rows(ws, at: int, n: int = 1) -> None:
    ws.delete_rows(at, n)
    _shift(ws, at, -n)


def copy_row(ws, source: int, target: int) -> None:
    """Copy row ``source`` onto row ``target`` (values, formulas moved by the offset, formats)."""
    for c in ws[source]:
        t = ws.cell(target, c.column)
        t._style = copy.copy(c._style)
        if isinstance(c.value, str) and c.value.startswith("="):
            t.value = Translator(c.value, origin=c.coordinate).translate_formula(t.coordinate)
        else:
            t.value = c.value
    if ws.row_dimensions[source].height:
        ws.row_dimensions[target].height = ws.row_dimensions[source].height
