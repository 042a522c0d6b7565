"""Render form models to print-ready .xlsx templates, and list the shipped ones.

Fonts follow official forms (宋体 for titles and headers, 仿宋 for the body);
A4, landscape where the table is wide, title rows repeated on every page,
scaled to the page width, printed in black and white so that the input
marking does not print. Input cells are unlocked and filled light yellow;
everything else is locked under a sheet protection without password.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.properties import PageSetupProperties

from .model import COVERED, FormModel, SheetModel
from .shipped import ENGINES, TEMPLATES, template_model  # noqa: F401 - the shipped templates, listed there


SONG, FANGSONG = "宋体", "仿宋"
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
HELPER_FILL = PatternFill("solid", fgColor="EDEDED")
_thin = Side(style="thin", color="000000")
BOX = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
UNDERLINE = Border(bottom=_thin)
_FIXED_TIME = dt.datetime(2024, 1, 1)


@dataclass(frozen=True)
class _Look:
    font: Font
    align: Alignment
    border: Border | None
    fill: PatternFill | None
    locked: bool


def _look(style: str) -> _Look:
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    left = Alignment(horizontal="left", vertical="center", wrap_text=True)
    body = Font(name=FANGSONG, size=11)
    return {
        "title": _Look(Font(name=SONG, size=18, bold=True), center, None, None, True),
        "plain": _Look(body, left, None, None, True),
        "plain_right": _Look(body, Alignment(horizontal="right", vertical="center"), None, None, True),
        "header": _Look(Font(name=SONG, size=11, bold=True), center, BOX, None, True),
        "label": _Look(body, center, BOX, None, True),
        "label_left": _Look(body, left, BOX, None, True),
        "blank": _Look(body, center, BOX, None, True),
        "input": _Look(body, Alignment(horizontal="right", vertical="center"), BOX, INPUT_FILL, False),
        "input_text": _Look(body, left, BOX, INPUT_FILL, False),
        "input_long": _Look(body, Alignment(horizontal="left", vertical="top", wrap_text=True), BOX, INPUT_FILL,
                            False),
        "input_plain": _Look(body, left, UNDERLINE, INPUT_FILL, False),
        "formula": _Look(body, Alignment(horizontal="right", vertical="center"), BOX, None, True),
        "formula_text": _Look(Font(name=FANGSONG, size=11, bold=True), center, BOX, None, True),
        "note": _Look(Font(name=FANGSONG, size=9), left, None, None, True),
        "helper_header": _Look(Font(name=SONG, size=9, bold=True, color="595959"), center, None, HELPER_FILL, True),
        "helper": _Look(Font(name=SONG, size=9, color="C00000"), left, None, None, True),
    }[style]


_LOOKS: dict[str, _Look] = {}


def _style_cell(cell, style: str, fmt: str | None) -> None:
    look = _LOOKS.get(style) or _LOOKS.setdefault(style, _look(style))
    cell.font = look.font
    cell.alignment = look.align
    if look.border:
        cell.border = look.border
    if look.fill:
        cell.fill = look.fill
    cell.protection = Protection(locked=look.locked)
    if fmt:
        cell.number_format = fmt


def _text_units(text: str) -> float:
    """Width of text in Excel column units at 11 pt: a CJK character is about two."""
    return sum(2.05 if ord(ch) > 0x2E80 else 1.1 for ch in text)


def wrapped_lines(text: str, width: float) -> int:
    """Lines a wrapped cell needs for ``text`` in a column (or merged span) ``width`` units wide.

    Line breaks in the text start new lines; a CJK character takes about two units, and a line
    holds whole characters only, so each line is filled character by character.
    """
    usable = max(1.0, width - 1.2)  # the cell's inner padding
    lines = 0
    for part in str(text).split("\n"):
        n, used = 1, 0.0
        for ch in part:
            w = _text_units(ch)
            if used + w > usable:
                n, used = n + 1, 0.0
            used += w
        lines += n
    return lines


def _spans(s: SheetModel) -> tuple[dict[str, float], set[str]]:
    """Width of every single-row merge by its top-left cell, and the top-left cells of taller merges."""
    from openpyxl.utils import column_index_from_string, get_column_letter

    span: dict[str, float] = {}
    tall: set[str] = set()
    for rng in s.merges:
        a, b = rng.split(":")
        ca = column_index_from_string("".join(ch for ch in a if ch.isalpha()))
        cb = column_index_from_string("".join(ch for ch in b if ch.isalpha()))
        ra = int("".join(ch for ch in a if ch.isdigit()))
        rb = int("".join(ch for ch in b if ch.isdigit()))
        if ra == rb:
            span[a] = sum(s.widths.get(get_column_letter(c), 8.43) for c in range(ca, cb + 1))
        else:
            tall.add(a)
    return span, tall


LINE_PT = 11 * 1.32  # one line of 11-pt 仿宋, in points
PAD_PT = 6


def fit_heights(ws, s: SheetModel) -> None:
    """Heights of the rows that hold officer text, from the text they hold now (never below the least)."""
    from openpyxl.utils import get_column_letter

    span, _ = _spans(s)
    width = {c: s.widths.get(c, 8.43) for c in s.widths}
    for row, least in s.fit_rows.items():
        lines = 1
        for cell in ws[row]:
            if cell.value is None or (isinstance(cell.value, str) and cell.value.startswith("=")):
                continue
            col = get_column_letter(cell.column)
            if col in s.hidden_cols:
                continue
            w = span.get(f"{col}{row}", width.get(col, 8.43))
            text = cell.value if isinstance(cell.value, str) else format(cell.value, "g")
            lines = max(lines, wrapped_lines(text, w))
        ws.row_dimensions[row].height = round(max(least, lines * LINE_PT + PAD_PT), 1)


def _autofit_heights(s: SheetModel) -> dict[int, float]:
    """Row heights for rows the model leaves open: enough lines for the longest wrapped text."""
    span, tall = _spans(s)  # tall: top-left cells of merges over several rows: their text has room already
    heights: dict[int, float] = {}
    for ref, spec in s.cells.items():
        row = int("".join(ch for ch in ref if ch.isdigit()))
        if (row in s.heights or row in s.fit_rows or ref in tall or not isinstance(spec.value, str)
                or spec.value.startswith("=") or spec.value == COVERED):
            continue
        col = "".join(ch for ch in ref if ch.isalpha())
        width = span.get(ref, s.widths.get(col, 8.43)) - 1
        lines = sum(max(1, -(-int(_text_units(part)) // max(1, int(width)))) for part in spec.value.split("\n"))
        size = 9 if spec.style in ("note", "helper", "helper_header") else 11
        heights[row] = max(heights.get(row, 20), lines * size * 1.35 + 5)
    return heights


def _write_sheet(ws, s: SheetModel) -> None:
    for col, width in s.widths.items():
        ws.column_dimensions[col].width = width
    for col in s.hidden_cols:
        ws.column_dimensions[col].hidden = True
    for ref, spec in s.cells.items():
        cell = ws[ref]
        if spec.value is not None and spec.value != COVERED:
            cell.value = spec.value
        _style_cell(cell, spec.style, spec.fmt)
    for rng in s.merges:
        ws.merge_cells(rng)
    rows = {int("".join(ch for ch in ref if ch.isdigit())) for ref in s.cells}
    heights = {r: 20.0 for r in rows if r not in s.fit_rows} | _autofit_heights(s) | s.heights
    for row, h in sorted(heights.items()):
        ws.row_dimensions[row].height = round(h, 1)
    fit_heights(ws, s)
    for v in s.validations:
        dv = DataValidation(type=v.kind, formula1=v.formula1, formula2=v.formula2, allow_blank=True,
                            operator="between" if v.kind != "list" else None)
        dv.showInputMessage = bool(v.prompt)
        dv.prompt = v.prompt or None
        dv.showErrorMessage = bool(v.error)
        dv.error = v.error or None
        dv.errorTitle = "输入有误" if v.error else None
        for rng in v.ranges:
            dv.add(rng)
        ws.add_data_validation(dv)
    ps = ws.page_setup
    ps.paperSize = ws.PAPERSIZE_A4
    ps.orientation = "landscape" if s.landscape else "portrait"
    ps.fitToWidth, ps.fitToHeight = 1, 0
    ps.blackAndWhite = True
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top, ws.page_margins.bottom = 0.6, 0.7
    ws.page_margins.header, ws.page_margins.footer = 0.3, 0.3  # the footer line has 0.4″ of its own
    ws.print_title_rows = s.title_rows
    for row in s.row_breaks:
        ws.row_breaks.append(Break(id=row))
    ws.print_area = s.print_area
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.oddFooter.center.font = FANGSONG
    ws.sheet_view.zoomScale = 100
    if s.protect:
        prot = ws.protection
        prot.sheet = True
        prot.formatRows = prot.formatColumns = prot.formatCells = False  # allowed: officers resize rows for long text
        prot.selectLockedCells = prot.selectUnlockedCells = False


def _guide_sheet(wb: Workbook, model: FormModel) -> None:
    ws = wb.create_sheet("填表说明")
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 90
    ws["A1"] = f"{model.title} · 填表说明"
    ws.merge_cells("A1:B1")
    _style_cell(ws["A1"], "title", None)
    ws.row_dimensions[1].height = 32
    for i, (head, text) in enumerate(model.guide, start=2):
        ws[f"A{i}"], ws[f"B{i}"] = head, text
        _style_cell(ws[f"A{i}"], "header", None)
        _style_cell(ws[f"B{i}"], "label_left", None)
        ws.row_dimensions[i].height = max(22, 16 * (1 + len(text) // 44))
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.protection.sheet = True


def _defined_names(wb: Workbook, model: FormModel) -> None:
    """Workbook names for the form's single-cell fields (JX_PROFILE, JX_FUNDS_BUDGET …)."""
    for s in model.sheets:
        for key, ref in s.fields.items():
            if not key.isascii() or key.split(".")[0] in ("ind", "goals", "rubric", "projects", "payment"):
                continue
            name = "JX_" + key.upper().replace(".", "_")
            if name in wb.defined_names:
                continue
            col = "".join(ch for ch in ref if ch.isalpha())
            row = "".join(ch for ch in ref if ch.isdigit())
            wb.defined_names[name] = DefinedName(name, attr_text=f"'{s.name}'!${col}${row}")


def _mark_checks(ws, s: SheetModel) -> None:
    """Native templates: a 需核对 mark shows in red, so that no one reads it past."""
    from openpyxl.formatting.rule import FormulaRule

    from .native import CHECK

    first = s.print_cols.split(":")[0]
    top_left = f"{first}1"
    ws.conditional_formatting.add(f"{first}1:L{s.last_row}" if s.print_cols == "A:I" else s.print_area,
                                  FormulaRule(formula=[f'{top_left}="{CHECK}"'],
                                              font=Font(color="C00000", bold=True)))


def build_workbook(model: FormModel) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    for s in model.sheets:
        _write_sheet(wb.create_sheet(s.name), s)
        if model.engine == "native":
            _mark_checks(wb[s.name], s)
    _guide_sheet(wb, model)
    _defined_names(wb, model)
    wb.properties.creator = "jixiao"
    wb.properties.title = model.title
    wb.properties.subject = f"{model.kind} · {model.profile}"
    wb.properties.created = wb.properties.modified = _FIXED_TIME
    wb.properties.lastModifiedBy = "jixiao"
    wb.active = 0
    return wb


def atomic_save(wb: Workbook, path: str | Path) -> Path:
    """Save next to the target and rename into place, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=path.suffix, dir=path.parent, prefix=".jixiao-")
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


# ---------------------------------------------------------------------------
# The shipped templates

def write_template(kind: str, out: str | Path, profile: str | None = None, engine: str = "udf") -> Path:
    model = template_model(kind, profile, engine)
    path = atomic_save(build_workbook(model), out)
    _fix_zip_times(path, model)
    return path


_ROW = re.compile(rb'<row r="(\d+)"[^>]*>')


def _release_heights(data: bytes, rows: set[int]) -> bytes:
    """Rows holding officer text keep their estimated height but not as a fixed one (no customHeight):
    Excel grows them as text is typed, LibreOffice fits them when it opens the file."""
    def fix(m: re.Match) -> bytes:
        return m.group(0).replace(b' customHeight="1"', b"") if int(m.group(1)) in rows else m.group(0)

    return _ROW.sub(fix, data)


def _fix_zip_times(path: Path, model: FormModel | None = None) -> None:
    """Give every zip entry the same timestamp, so the same model writes the same bytes; free the rows
    that hold officer text from fixed heights."""
    import zipfile

    fit = {f"xl/worksheets/sheet{i}.xml": set(s.fit_rows) for i, s in enumerate(model.sheets, start=1)} \
        if model else {}
    with zipfile.ZipFile(path) as zin:
        parts = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    tmp = path.with_name(f".{path.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts:
            if fit.get(name):
                data = _release_heights(data, fit[name])
            if name == "docProps/core.xml":  # openpyxl stamps the save time: use the template's fixed date
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2024-01-01T00:00:00Z", data)
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, data)
    os.replace(tmp, path)


def templates_dir(engine: str = "udf") -> Path:
    """The repository's workbook_templates/ folder (where the committed templates live); native ones in native/."""
    root = Path(__file__).resolve().parents[2] / "workbook_templates"
    return root / "native" if engine == "native" else root


# ---------------------------------------------------------------------------
# Content signature: what "the same template" means


def signature(path: str | Path) -> dict:
    """Everything a template promises, independent of zip timestamps: cells, formulas, styles,
    merges, validations, protection, print settings and defined names."""
    wb = load_workbook(path)
    out: dict = {"names": sorted((n, d.attr_text) for n, d in wb.defined_names.items()), "sheets": {}}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and not c.has_style:
                    continue
                cells[c.coordinate] = [c.value, c.number_format, c.font.name, c.font.sz, bool(c.font.b),
                                       c.fill.fgColor.rgb if c.fill.fill_type else None, bool(c.protection.locked),
                                       c.alignment.horizontal, bool(c.alignment.wrap_text),
                                       bool(c.border.left and c.border.left.style),
                                       bool(c.border.bottom and c.border.bottom.style)]
        out["sheets"][ws.title] = {
            "cells": cells, "merges": sorted(str(m) for m in ws.merged_cells.ranges),
            "validations": sorted([dv.type, dv.formula1, dv.formula2, str(dv.sqref)]
                                  for dv in ws.data_validations.dataValidation),
            "widths": {k: v.width for k, v in sorted(ws.column_dimensions.items())},
            "heights": {k: v.height for k, v in sorted(ws.row_dimensions.items()) if v.height},
            "print": [ws.page_setup.orientation, ws.page_setup.paperSize, ws.page_setup.fitToWidth,
                      ws.print_title_rows, ws.print_area, [b.id for b in ws.row_breaks.brk]],
            "protected": bool(ws.protection.sheet),
        }
    return json.loads(json.dumps(out, default=str))
