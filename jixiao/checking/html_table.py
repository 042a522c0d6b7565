"""A web page's table saved as a workbook: many reporting systems "export to Excel" by writing an HTML
table with the .xls extension, which Excel and WPS open as a sheet. Each <table> becomes a sheet,
rowspan/colspan become merged cells, a number shown as text ("874.20") becomes a number with the number
format that shows it so; a rate stays the text it shows ("84.52%").

Read with lxml's HTML parser (no network, no scripts, no entities from outside), within the same limits
as an .xlsx: the file's size and the number of cells.
"""
from __future__ import annotations

import re
from typing import IO, Any

from ..columns import get_column_letter

from .xlsx import MAX_CELLS, MAX_PART_BYTES, Book, Sheet, WorkbookError

_SNIFF = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|meta|table|body)\b",
                    re.I | re.S)
_NUMBER = re.compile(r"^-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$")
MAX_SPAN = 200  # a rowspan/colspan above this is not a form's layout


def is_html(head: bytes) -> bool:
    """Whether a file's first bytes are an HTML page (however it is named)."""
    return _SNIFF.match(head[:4096]) is not None


def read_html_book(source: str | IO[bytes], label: str) -> Book:
    data = _read(source, label)
    from lxml import etree, html

    try:
        root = html.fromstring(data, parser=html.HTMLParser(no_network=True, remove_comments=True,
                                                            huge_tree=False, encoding=_charset(data)))
    except (etree.ParserError, ValueError) as e:
        raise WorkbookError(f"网页表格无法解析：{e}", code="workbook.corrupt", file=label) from None
    book = Book(label, {}, {}, html=True)
    cells = 0
    for i, table in enumerate(root.iter("table")):
        if table.getparent() is not None and any(a.tag == "table" for a in table.iterancestors()):
            continue  # a table inside a table's cell is that cell's text
        sheet = _sheet(table, f"Sheet{i + 1}" if i else "Sheet1", label)
        cells += len(sheet.values)
        if cells > MAX_CELLS:
            raise WorkbookError(f"网页表格单元格超过 {MAX_CELLS} 个，不是自评表，拒绝读取", code="workbook.too_large",
                                file=label)
        if sheet.values:
            book.sheets[sheet.name] = sheet
    if not book.sheets:
        raise WorkbookError("网页文件中没有表格", code="workbook.empty", file=label)
    return book


def _read(source: str | IO[bytes], label: str) -> bytes:
    if isinstance(source, str):
        with open(source, "rb") as fh:
            data = fh.read(MAX_PART_BYTES + 1)
    else:
        data = source.read(MAX_PART_BYTES + 1)
    if len(data) > MAX_PART_BYTES:
        raise WorkbookError("网页表格文件过大，拒绝读取", code="workbook.too_large", file=label)
    return data


def _charset(data: bytes) -> str:
    m = re.search(rb"charset\s*=\s*[\"']?([\w-]+)", data[:4096], re.I)
    name = m.group(1).decode("ascii").lower() if m else "utf-8"
    if name in ("gb2312", "gbk"):
        return "gb18030"  # WPS and old systems write GBK and call it gb2312
    try:
        "".encode(name)
    except LookupError:
        return "utf-8"
    return name


def _text(td) -> str:
    parts = []
    for node in td.iter():
        if node.tag == "br":
            parts.append("\n")
        if node.text and node.tag not in ("script", "style"):
            parts.append(node.text)
        if node is not td and node.tail:
            parts.append(node.tail)
    return re.sub(r"[ \t\r\f\v]+", " ", "".join(parts)).strip(" ")


def _value(text: str) -> tuple[Any, str | None]:
    t = text.strip()
    m = _NUMBER.match(t)
    if not m:
        return (text if t else None), None
    x = float(t.replace(",", ""))
    places = len(m.group(1) or "")
    return (int(x) if not places else x), ("0." + "0" * places if places else None)


def _sheet(table, name: str, label: str) -> Sheet:
    s = Sheet(name)
    taken: set[tuple[int, int]] = set()
    rows = [tr for tr in table.iter("tr") if next(tr.iterancestors("table")) is table]
    for r, tr in enumerate(rows, start=1):
        c = 1
        for td in tr:
            if td.tag not in ("td", "th"):
                continue
            while (r, c) in taken:
                c += 1
            rs, cs = _span(td.get("rowspan")), _span(td.get("colspan"))
            if len(taken) + rs * cs > MAX_CELLS:
                raise WorkbookError(f"网页表格单元格超过 {MAX_CELLS} 个，不是自评表，拒绝读取",
                                    code="workbook.too_large", file=label)
            for dr in range(rs):
                for dc in range(cs):
                    taken.add((r + dr, c + dc))
            ref = f"{get_column_letter(c)}{r}"
            value, fmt = _value(_text(td))
            if value is not None:
                s.values[ref] = value
                if fmt:
                    s.formats[ref] = fmt
            if rs > 1 or cs > 1:
                s.merges.append(f"{ref}:{get_column_letter(c + cs - 1)}{r + rs - 1}")
            s.max_row = max(s.max_row, r + rs - 1)
            s.max_col = max(s.max_col, c + cs - 1)
            c += cs
    return s


def _span(x: str | None) -> int:
    try:
        return min(max(int(x or 1), 1), MAX_SPAN)
    except ValueError:
        return 1
