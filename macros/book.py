"""The book interface the macros need, with an openpyxl and an xlwings implementation."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

MARK_SHEET = "_jixiao_marks"  # hidden: which cells 检查 marked, and their fill before, so 评分 can clear them
FILLS = {"error": "FFC7CE", "warning": "FFEB9C", "info": "DDEBF7"}
RESULTS_SHEET = "检查结果"


class BookLike(Protocol):
    name: str

    def sheet_names(self) -> list[str]: ...

    def cells(self, sheet: str) -> tuple[dict[str, Any], dict[str, str]]:
        """(values, formulas) of a sheet: values are what the cells show, formulas their text ("=…")."""

    def set_value(self, sheet: str, ref: str, value: Any) -> None: ...

    def mark(self, sheet: str, ref: str, severity: str, note: str) -> None:
        """Fill a cell with the severity's colour and attach a note; remembered for clear_marks."""

    def clear_marks(self) -> int: ...

    def write_results(self, header: list[str], rows: list[list[Any]], links: dict[int, tuple[str, str]]) -> None:
        """Replace the 检查结果 sheet: a header, rows, and for row i a link to (sheet, cell)."""

    def activate(self, sheet: str) -> None: ...


def saved_colour(value: Any) -> str:
    """A fill colour as the marks sheet keeps it, "#RRGGBB", or "" for no fill.

    Tolerant of what a spreadsheet gives back: None or "" for a blank cell (Excel stores "" as an empty
    cell), ARGB "FFRRGGBB" from openpyxl, "RRGGBB" without "#", surrounding spaces.
    """
    if value is None:
        return ""
    text = str(value).strip().lstrip("#")
    if len(text) == 8:
        text = text[2:]
    if len(text) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in text):
        return ""
    return "#" + text.upper()


def mark_rows(raw: Any) -> list[tuple[str, str, str]]:
    """The marks sheet's rows as (sheet, cell, saved colour): short rows padded, blank rows skipped."""
    out = []
    for row in raw or []:
        if not isinstance(row, (list, tuple)):
            row = (row,)
        cells = ["" if v is None else v for v in list(row)[:3]] + [""] * (3 - min(len(row), 3))
        sheet, ref, before = str(cells[0]).strip(), str(cells[1]).strip(), saved_colour(cells[2])
        if sheet and ref:
            out.append((sheet, ref, before))
    return out


class MarksMixin:
    """检查's marks — save a cell's fill, colour it, note it; 评分 restores the fill — written once.

    A book supplies five primitives (``_sheet_exists``, ``_fill``/``_set_fill`` as "#RRGGBB" or "",
    ``_set_note``, and the hidden marks sheet: ``_mark_rows_raw``, ``_append_mark``, ``_drop_marks``);
    :class:`OpenpyxlBook` and :class:`XlwingsBook` use this code unchanged.
    """

    def mark(self, sheet: str, ref: str, severity: str, note: str) -> None:
        self._append_mark([sheet, ref, saved_colour(self._fill(sheet, ref))])
        self._set_fill(sheet, ref, "#" + FILLS.get(severity, FILLS["info"]))
        self._set_note(sheet, ref, note)

    def clear_marks(self) -> int:
        rows = self._mark_rows_raw()
        if rows is None:
            return 0
        n = 0
        # newest first: a cell marked twice gets back the fill it had before the first mark
        for sheet, ref, before in reversed(mark_rows(rows)):
            if not self._sheet_exists(sheet):
                continue
            self._set_fill(sheet, ref, before)
            self._set_note(sheet, ref, None)
            n += 1
        self._drop_marks()
        return n


def _is_formula(v: Any) -> bool:
    return isinstance(v, str) and v.startswith("=")


class OpenpyxlBook(MarksMixin):
    """A workbook file opened with openpyxl: formulas from the file, shown values from its cached results."""

    def __init__(self, path: str | Path):
        from openpyxl import load_workbook

        self.path = Path(path)
        self.name = self.path.name
        self.wb = load_workbook(self.path)
        self._cached = load_workbook(self.path, data_only=True)

    def sheet_names(self) -> list[str]:
        return [n for n in self.wb.sheetnames if n != MARK_SHEET]

    def links(self) -> dict[int, Any]:
        """The workbook's external links by [n], as openpyxl read them from the file: targets as text, never opened."""
        from jixiao.checking.xlsx import ExternalLink

        out = {}
        for i, el in enumerate(getattr(self.wb, "_external_links", []), start=1):
            target = getattr(getattr(el, "file_link", None), "Target", None) or ""
            names = tuple(n.name for n in (getattr(el.externalBook, "definedNames", None) or []))
            out[i] = ExternalLink(i, target, names)
        return out

    def cells(self, sheet: str) -> tuple[dict[str, Any], dict[str, str]]:
        ws, cached = self.wb[sheet], self._cached[sheet]
        values, formulas = {}, {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None:
                    continue
                if _is_formula(c.value) and c.data_type == "f":
                    formulas[c.coordinate] = c.value
                    shown = cached[c.coordinate].value
                    if shown is not None:
                        values[c.coordinate] = shown
                else:
                    values[c.coordinate] = c.value
        return values, formulas

    def set_value(self, sheet: str, ref: str, value: Any) -> None:
        self.wb[sheet][ref] = value
        self._cached[sheet][ref] = value

    # primitives of MarksMixin

    def _sheet_exists(self, sheet: str) -> bool:
        return sheet in self.wb.sheetnames

    def _fill(self, sheet: str, ref: str) -> str:
        c = self.wb[sheet][ref]
        rgb = c.fill.fgColor.rgb if c.fill is not None and c.fill.fill_type == "solid" else ""
        return rgb if isinstance(rgb, str) else ""  # a theme colour has no rgb

    def _set_fill(self, sheet: str, ref: str, colour: str) -> None:
        from openpyxl.styles import PatternFill

        c = self.wb[sheet][ref]
        c.fill = PatternFill("solid", fgColor=colour.lstrip("#")) if colour else PatternFill(fill_type=None)

    def _set_note(self, sheet: str, ref: str, note: str | None) -> None:
        from openpyxl.comments import Comment

        c = self.wb[sheet][ref]
        if note is not None:
            c.comment = Comment(note, "jixiao")
        elif c.comment is not None and c.comment.author == "jixiao":
            c.comment = None

    def _mark_rows_raw(self) -> list[tuple] | None:
        if MARK_SHEET not in self.wb.sheetnames:
            return None
        return list(self.wb[MARK_SHEET].iter_rows(values_only=True))

    def _append_mark(self, row: list[str]) -> None:
        if MARK_SHEET not in self.wb.sheetnames:
            ws = self.wb.create_sheet(MARK_SHEET)
            ws.sheet_state = "hidden"
        self.wb[MARK_SHEET].append(row)

    def _drop_marks(self) -> None:
        self.wb.remove(self.wb[MARK_SHEET])

    def write_results(self, header: list[str], rows: list[list[Any]], links: dict[int, tuple[str, str]]) -> None:
        from openpyxl.styles import Font

        if RESULTS_SHEET in self.wb.sheetnames:
            self.wb.remove(self.wb[RESULTS_SHEET])
        ws = self.wb.create_sheet(RESULTS_SHEET, 0)
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for i, row in enumerate(rows, start=2):
            ws.append(row)
            if i - 2 in links:
                sheet, ref = links[i - 2]
                target = ws.cell(i, 3)
                target.hyperlink = f"#'{sheet}'!{ref}"
                target.font = Font(color="0563C1", underline="single")
        for col, width in zip("ABCDEFG", (6, 14, 8, 60, 16, 16, 30)):
            ws.column_dimensions[col].width = width

    def activate(self, sheet: str) -> None:
        self.wb.active = self.wb.sheetnames.index(sheet)

    def save(self, path: str | Path | None = None) -> Path:
        target = Path(path) if path else self.path
        self.wb.save(target)
        return target


class XlwingsBook(MarksMixin):
    """The workbook open in Excel (``xlwings.Book``), seen through the same interface. Thin: runs in Excel only."""

    def __init__(self, book):
        self.book = book
        self.name = book.name

    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets if s.name != MARK_SHEET]

    def cells(self, sheet: str) -> tuple[dict[str, Any], dict[str, str]]:
        from openpyxl.utils import get_column_letter

        rng = self.book.sheets[sheet].used_range
        values = rng.options(ndim=2).value
        formulas = rng.formula
        if not isinstance(formulas, (list, tuple)):
            formulas = ((formulas,),)
        elif formulas and not isinstance(formulas[0], (list, tuple)):
            formulas = (formulas,)
        r0, c0 = rng.row, rng.column
        vals, forms = {}, {}
        for i, row in enumerate(values):
            for j, v in enumerate(row):
                ref = f"{get_column_letter(c0 + j)}{r0 + i}"
                f = formulas[i][j]
                if _is_formula(f):
                    forms[ref] = f
                if v is not None and v != "":
                    vals[ref] = v
        return vals, forms

    def set_value(self, sheet: str, ref: str, value: Any) -> None:
        self.book.sheets[sheet][ref].value = value

    # primitives of MarksMixin

    def _sheet_exists(self, sheet: str) -> bool:
        return sheet in [s.name for s in self.book.sheets]

    def _fill(self, sheet: str, ref: str) -> str:
        rgb = self.book.sheets[sheet][ref].color
        return "" if rgb is None else "#%02X%02X%02X" % tuple(rgb)[:3]

    def _set_fill(self, sheet: str, ref: str, colour: str) -> None:
        c = colour.lstrip("#")
        self.book.sheets[sheet][ref].color = tuple(int(c[i:i + 2], 16) for i in (0, 2, 4)) if c else None

    def _set_note(self, sheet: str, ref: str, note: str | None) -> None:
        rng = self.book.sheets[sheet][ref]
        try:
            rng.api.ClearComments()
            if note is not None:
                rng.api.AddComment(note)
        except Exception:  # noqa: BLE001 - notes are a courtesy; the 检查结果 sheet has every finding
            pass

    def _mark_rows_raw(self) -> list | None:
        if not self._sheet_exists(MARK_SHEET):
            return None
        return self.book.sheets[MARK_SHEET].used_range.options(ndim=2).value

    def _append_mark(self, row: list[str]) -> None:
        if not self._sheet_exists(MARK_SHEET):
            ws = self.book.sheets.add(MARK_SHEET, after=self.book.sheets[-1])
            ws.visible = False
        marks = self.book.sheets[MARK_SHEET]
        at = (marks.used_range.last_cell.row + 1) if marks["A1"].value is not None else 1
        marks[f"A{at}"].value = row

    def _drop_marks(self) -> None:
        self.book.sheets[MARK_SHEET].delete()

    def write_results(self, header: list[str], rows: list[list[Any]], links: dict[int, tuple[str, str]]) -> None:
        names = [s.name for s in self.book.sheets]
        if RESULTS_SHEET in names:
            self.book.sheets[RESULTS_SHEET].delete()
        ws = self.book.sheets.add(RESULTS_SHEET, before=self.book.sheets[0])
        ws["A1"].value = [header] + rows
        for i, (sheet, ref) in links.items():
            ws[f"C{i + 2}"].add_hyperlink(f"#'{sheet}'!{ref}", ref)
        ws["A1"].expand("right").font.bold = True
        ws.autofit()

    def activate(self, sheet: str) -> None:
        self.book.sheets[sheet].activate()

