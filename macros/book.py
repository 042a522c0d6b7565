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


def _is_formula(v: Any) -> bool:
    return isinstance(v, str) and v.startswith("=")


class OpenpyxlBook:
    """A workbook file opened with openpyxl: formulas from the file, shown values from its cached results."""

    def __init__(self, path: str | Path):
        from openpyxl import load_workbook

        self.path = Path(path)
        self.name = self.path.name
        self.wb = load_workbook(self.path)
        self._cached = load_workbook(self.path, data_only=True)

    def sheet_names(self) -> list[str]:
        return [n for n in self.wb.sheetnames if n != MARK_SHEET]

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

    def _marks(self):
        if MARK_SHEET not in self.wb.sheetnames:
            ws = self.wb.create_sheet(MARK_SHEET)
            ws.sheet_state = "hidden"
        return self.wb[MARK_SHEET]

    def mark(self, sheet: str, ref: str, severity: str, note: str) -> None:
        from openpyxl.comments import Comment
        from openpyxl.styles import PatternFill

        c = self.wb[sheet][ref]
        before = c.fill.fgColor.rgb if c.fill and c.fill.fill_type == "solid" else ""
        self._marks().append([sheet, ref, before])
        c.fill = PatternFill("solid", fgColor=FILLS.get(severity, FILLS["info"]))
        c.comment = Comment(note, "jixiao")

    def clear_marks(self) -> int:
        from openpyxl.styles import PatternFill

        if MARK_SHEET not in self.wb.sheetnames:
            return 0
        ws = self.wb[MARK_SHEET]
        n = 0
        for sheet, ref, before in ws.iter_rows(values_only=True):
            if sheet not in self.wb.sheetnames:
                continue
            c = self.wb[sheet][ref]
            c.fill = PatternFill("solid", fgColor=before[-6:]) if before else PatternFill(fill_type=None)
            if c.comment is not None and c.comment.author == "jixiao":
                c.comment = None
            n += 1
        self.wb.remove(ws)
        return n

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


class XlwingsBook:
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

    def _marks(self):
        names = [s.name for s in self.book.sheets]
        if MARK_SHEET not in names:
            ws = self.book.sheets.add(MARK_SHEET, after=self.book.sheets[-1])
            ws.visible = False
        return self.book.sheets[MARK_SHEET]

    def mark(self, sheet: str, ref: str, severity: str, note: str) -> None:
        rng = self.book.sheets[sheet][ref]
        before = rng.color
        marks = self._marks()
        row = (marks.used_range.last_cell.row + 1) if marks["A1"].value is not None else 1
        marks[f"A{row}"].value = [sheet, ref, "" if before is None else "#%02X%02X%02X" % before]
        hexcolor = FILLS.get(severity, FILLS["info"])
        rng.color = tuple(int(hexcolor[i:i + 2], 16) for i in (0, 2, 4))
        try:
            rng.api.ClearComments()
            rng.api.AddComment(note)
        except Exception:  # noqa: BLE001 - notes are a courtesy; the 检查结果 sheet has every finding
            pass

    def clear_marks(self) -> int:
        names = [s.name for s in self.book.sheets]
        if MARK_SHEET not in names:
            return 0
        marks = self.book.sheets[MARK_SHEET]
        rows = marks.used_range.options(ndim=2).value
        n = 0
        for sheet, ref, before in rows:
            if not sheet or sheet not in names:
                continue
            rng = self.book.sheets[sheet][ref]
            rng.color = tuple(int(before[i:i + 2], 16) for i in (1, 3, 5)) if before else None
            try:
                rng.api.ClearComments()
            except Exception:  # noqa: BLE001
                pass
            n += 1
        marks.delete()
        return n

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

