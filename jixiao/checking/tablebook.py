"""A streamed .xlsx of plain tables: the xlsx report's writer, SpreadsheetML written directly.

Each table is a sheet with column widths, a frozen header row, values (text, numbers, true/false), a few fixed
cell styles, links to files, an autofilter and conditional fills. Rows go to temporary files as they come, so a
batch of any size costs no memory; :meth:`TableBook.save` puts the parts together into one zip.

Text is always written as text (an inline string), never as a formula, whatever it starts with. Characters XML
cannot hold are replaced by U+FFFD. The parts follow ECMA-376 Part 1 (§18.3 worksheets, §18.8 styles) and
open in Excel, WPS, LibreOffice, openpyxl and python-calamine (tests/test_tablebook.py reads them back with the
last three).

Example:
    >>> import tempfile, pathlib
    >>> book = TableBook()
    >>> t = book.table("汇总", ["文件", "执行率"], [30, 10])
    >>> t.row(["a.xlsx", 0.95], styles={1: "percent"}, links={0: "a.xlsx"})
    >>> t.filter_all()
    >>> path = book.save(pathlib.Path(tempfile.mkdtemp()) / "r.xlsx", title="报告")
    >>> from openpyxl import load_workbook
    >>> ws = load_workbook(path)["汇总"]
    >>> ws["B2"].value, ws["B2"].number_format, ws["A2"].hyperlink.target
    (0.95, '0.00%', 'a.xlsx')
"""
from __future__ import annotations

import math
import re
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from ..columns import get_column_letter

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_ZIP64_FROM = 1 << 30
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"

# cell styles (cellXfs indices in _STYLES below): the report's header, links, rates, scores, long texts
STYLES = {"head": 1, "link": 2, "percent": 3, "two_places": 4, "wrap": 5}
FILLS = {"red": 0, "yellow": 1, "green": 2}  # conditional fills (dxf indices)
_FILL_RGB = ("FFF8CBAD", "FFFFE699", "FFC6EFCE")

_STYLES = (
    f'<styleSheet xmlns="{_MAIN}">'
    '<fonts count="3"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="宋体"/></font>'
    '<font><u/><sz val="11"/><color rgb="FF0563C1"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill>'
    '</fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1">'
    '<alignment horizontal="center" vertical="center" wrapText="1"/></xf>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    # a conditional solid fill takes its colour from bgColor (§18.8.32); fgColor too, for readers that look there
    f'<dxfs count="{len(_FILL_RGB)}">'
    + "".join(f'<dxf><fill><patternFill patternType="solid"><fgColor rgb="{c}"/><bgColor rgb="{c}"/></patternFill>'
              '</fill></dxf>' for c in _FILL_RGB)
    + '</dxfs></styleSheet>')

# what XML 1.0 cannot hold (controls other than tab/LF/CR, lone surrogates, U+FFFE/U+FFFF)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;",
                               "\r": "&#13;", "\t": "&#9;"})


def _xml_text(text: str) -> str:
    text = text.translate(_TEXT_ESCAPES)
    return _NOT_XML.sub("\ufffd", text) if _NOT_XML.search(text) else text


def _xml_attr(text: str) -> str:
    text = text.translate(_ATTR_ESCAPES)
    return _NOT_XML.sub("\ufffd", text) if _NOT_XML.search(text) else text


def _cell(ref: str, value: Any, style: int) -> str:
    """One ``<c>``: text inline, numbers as numbers, True/False as booleans; nothing for a blank or a number a
    spreadsheet cannot hold (NaN, infinities)."""
    s = f' s="{style}"' if style else ""
    t = type(value)
    if t is str:
        if not value:
            return f'<c r="{ref}"{s}/>' if style else ""
        return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{_xml_text(value)}</t></is></c>'
    if t is bool:
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if t is int:
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    if t is float:
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>' if math.isfinite(value) else (
            f'<c r="{ref}"{s}/>' if style else "")
    if value is None:
        return f'<c r="{ref}"{s}/>' if style else ""
    if isinstance(value, (int, float)):  # numpy and other numbers
        return _cell(ref, float(value), style)
    return _cell(ref, str(value), style)


class Table:
    """One sheet of a :class:`TableBook`, written a row at a time."""

    def __init__(self, name: str, headers: list[str], widths: list[float]):
        self.name, self.columns, self.widths = name, len(headers), widths
        self.letters = [get_column_letter(i) for i in range(1, max(len(headers), len(widths)) + 1)]
        self.rows: IO[bytes] = tempfile.TemporaryFile()
        self.links: IO[bytes] = tempfile.TemporaryFile()  # "ref\ttarget\n" lines (target XML-escaped), one per link
        self.last_row = 0
        self.autofilter: str | None = None
        self.conditions: list[tuple[str, str]] = []  # (sqref, cfRule without its priority)
        self.row(headers, styles=dict.fromkeys(range(len(headers)), "head"))

    def row(self, values: Iterable[Any], styles: Mapping[int, str] | None = None,
            links: Mapping[int, str] | None = None) -> None:
        """The next row: ``styles`` by column (from 0, names of :data:`STYLES`), ``links`` by column (a file's
        path, relative to the report, with ``#'sheet'!A1`` for a cell)."""
        self.last_row = r = self.last_row + 1
        letters = self.letters
        cells = []
        for i, v in enumerate(values):
            if i >= len(letters):
                letters.append(get_column_letter(i + 1))
            cells.append(_cell(f"{letters[i]}{r}", v, STYLES[styles[i]] if styles and i in styles else 0))
        self.rows.write(f'<row r="{r}">{"".join(cells)}</row>'.encode("utf-8"))
        if links:
            for i, target in links.items():
                self.links.write(f"{letters[i]}{r}\t{_xml_attr(target)}\n".encode("utf-8"))

    def filter_all(self) -> None:
        """An autofilter over the header and every row written."""
        self.autofilter = f"A1:{self.letters[self.columns - 1]}{self.last_row}"

    def fill_when(self, sqref: str, fill: str, operator: str | None = None, formula: str = "") -> None:
        """A conditional fill on ``sqref``: when the cell compares by ``operator`` (greaterThan, lessThan,
        greaterThanOrEqual, equal …) with ``formula``, or, with no operator, when ``formula`` is true."""
        body = f"<formula>{_xml_text(formula)}</formula>"
        if operator:
            rule = f'type="cellIs" dxfId="{FILLS[fill]}" operator="{operator}"'
        else:
            rule = f'type="expression" dxfId="{FILLS[fill]}"'
        self.conditions.append((sqref, f"{rule}>{body}"))

    # -- putting the part together

    def _head(self) -> str:
        cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                       for i, w in enumerate(self.widths, start=1))
        cols = f"<cols>{cols}</cols>" if cols else ""  # <cols> must hold at least one <col>
        return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN}" '
                f'xmlns:r="{_R}"><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
                f'</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>{cols}<sheetData>')

    def _links(self) -> Iterable[tuple[str, str]]:
        self.links.seek(0)
        for line in self.links:
            ref, _, target = line.decode("utf-8").rstrip("\n").partition("\t")
            yield ref, target

    def write_part(self, out: IO[bytes]) -> bool:
        """The sheet's XML into ``out``; True when it has links (and so a relationships part)."""
        out.write(self._head().encode("utf-8"))
        self.rows.seek(0)
        while chunk := self.rows.read(1 << 20):
            out.write(chunk)
        tail = ["</sheetData>"]
        if self.autofilter:
            tail.append(f'<autoFilter ref="{self.autofilter}"/>')
        for priority, (sqref, rule) in enumerate(self.conditions, start=1):
            tail.append(f'<conditionalFormatting sqref="{sqref}"><cfRule priority="{priority}" {rule}</cfRule>'
                        '</conditionalFormatting>')
        out.write("".join(tail).encode("utf-8"))
        linked = False
        for n, (ref, _target) in enumerate(self._links(), start=1):
            out.write(((b"<hyperlinks>" if n == 1 else b"") + f'<hyperlink ref="{ref}" r:id="rId{n}"/>'.encode()))
            linked = True
        out.write((b"</hyperlinks>" if linked else b"") + b'<pageMargins left="0.7" right="0.7" top="0.75" '
                  b'bottom="0.75" header="0.3" footer="0.3"/></worksheet>')
        return linked

    def write_rels(self, out: IO[bytes]) -> None:
        out.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG_RELS}">'
                  .encode())
        for n, (_ref, target) in enumerate(self._links(), start=1):
            out.write(f'<Relationship Id="rId{n}" Type="{_R}/hyperlink" Target="{target}" '
                      'TargetMode="External"/>'.encode("utf-8"))
        out.write(b"</Relationships>")

    def size(self) -> int:
        """Bytes written so far (rows and links): what the sheet's part will be, nearly."""
        return self.rows.seek(0, 2) + 2 * self.links.seek(0, 2)

    def close(self) -> None:
        self.rows.close()
        self.links.close()


class TableBook:
    """Tables written as they come and saved once as an .xlsx (see the module's example)."""

    def __init__(self) -> None:
        self.tables: list[Table] = []

    def table(self, name: str, headers: list[str], widths: list[float]) -> Table:
        t = Table(name, headers, widths)
        self.tables.append(t)
        return t

    def save(self, path: str | Path, *, title: str = "", creator: str = "jixiao", keywords: str = "") -> Path:
        """Write the book to ``path`` (the caller makes that atomic) and free the tables' temporary files."""
        path = Path(path)
        try:
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
                self._write(z, title, creator, keywords)
        finally:
            for t in self.tables:
                t.close()
        return path

    def _write(self, z: zipfile.ZipFile, title: str, creator: str, keywords: str) -> None:
        head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        n = len(self.tables)
        sheets_ct = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.worksheet+xml"/>'
                            for i in range(1, n + 1))
        z.writestr("[Content_Types].xml", head + (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>{sheets_ct}'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>'))
        z.writestr("_rels/.rels", head + (
            f'<Relationships xmlns="{_PKG_RELS}">'
            f'<Relationship Id="rId1" Type="{_R}/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{_PKG_RELS}/metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_R}/extended-properties" Target="docProps/app.xml"/></Relationships>'))
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        z.writestr("docProps/core.xml", head + (
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dc:creator>{_xml_text(creator)}</dc:creator><dc:title>{_xml_text(title)}</dc:title>'
            f'<cp:keywords>{_xml_text(keywords)}</cp:keywords>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified></cp:coreProperties>'))
        z.writestr("docProps/app.xml", head + (
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            f'<Application>{_xml_text(creator)}</Application></Properties>'))
        sheets = "".join(f'<sheet name="{_xml_attr(t.name)}" sheetId="{i}" r:id="rId{i}"/>'
                         for i, t in enumerate(self.tables, start=1))
        filters = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"{_xml_text(_quoted(t.name))}!{_absolute(t.autofilter)}</definedName>"
            for i, t in enumerate(self.tables) if t.autofilter)
        z.writestr("xl/workbook.xml", head + (
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_R}"><bookViews><workbookView activeTab="0"/></bookViews>'
            f'<sheets>{sheets}</sheets>' + (f"<definedNames>{filters}</definedNames>" if filters else "")
            + '<calcPr calcId="191029"/></workbook>'))
        rels = "".join(f'<Relationship Id="rId{i}" Type="{_R}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                       for i in range(1, n + 1))
        z.writestr("xl/_rels/workbook.xml.rels", head + (
            f'<Relationships xmlns="{_PKG_RELS}">{rels}'
            f'<Relationship Id="rId{n + 1}" Type="{_R}/styles" Target="styles.xml"/></Relationships>'))
        z.writestr("xl/styles.xml", head + _STYLES)
        for i, t in enumerate(self.tables, start=1):
            big = t.size() > _ZIP64_FROM  # zip64 records only where a part could pass 4 GiB
            with z.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=big) as out:
                linked = t.write_part(out)
            if linked:
                with z.open(f"xl/worksheets/_rels/sheet{i}.xml.rels", "w", force_zip64=big) as out:
                    t.write_rels(out)


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _absolute(ref: str | None) -> str:
    a, _, b = (ref or "").partition(":")
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", x) for x in (a, b) if x)
