"""The xlsx reader reads a sheet in one pass when its cells are written the plain way (as Excel, WPS,
LibreOffice and openpyxl write them) and a cell at a time otherwise. Whatever way a writer spells the same
cells, the sheet read must be the same: the spellings below are all valid SpreadsheetML."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from jixiao.checking import xlsx

ROOT = Path(__file__).resolve().parent.parent
SHEETS = sorted((ROOT / "workbook_templates").glob("*.xlsx"))[:3] + sorted((ROOT / "tests" / "corpus").rglob("*.xlsx"))[:6]


def _sheets():
    for path in SHEETS:
        with zipfile.ZipFile(path) as z:
            shared = []
            if "xl/sharedStrings.xml" in z.namelist():
                shared = [xlsx._text(m.group(1)) for m in xlsx._SI.finditer(z.read("xl/sharedStrings.xml").decode())]
            for name in z.namelist():
                if name.startswith("xl/worksheets/sheet") and name.endswith(".xml"):
                    yield pytest.param(z.read(name).decode(), shared, id=f"{path.name}:{name.rsplit('/', 1)[1]}")


def _t_before_s(xml: str) -> str:
    return re.sub(r'<c r="(\w+)" s="(\d+)" t="(\w+)"', r'<c r="\1" t="\3" s="\2"', xml)


def _spaced(xml: str) -> str:
    return xml.replace("<v>", "\n  <v>").replace("</c>", "\n</c>").replace("<is>", " <is>")


def _prefixed(xml: str) -> str:
    xml = re.sub(r"<(/?)(c|f|v|is|t|row|sheetData|mergeCell|mergeCells)\b", r"<\1x:\2", xml)
    return xml.replace("<worksheet ", '<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ', 1)


def _extra_attribute(xml: str) -> str:
    return re.sub(r'<c r="(\w+)"', r'<c r="\1" cm="0"', xml)


def _read(xml: str, shared: list[str]) -> tuple:
    s = xlsx._read_sheet(xml, "表", shared, "f.xlsx", ["0.00%"] * 400)
    return s.values, s.formulas, s.formats, s.merges, s.max_row


@pytest.mark.parametrize("spell", [_t_before_s, _spaced, _prefixed, _extra_attribute])
@pytest.mark.parametrize("xml,shared", list(_sheets()))
def test_every_spelling_of_a_sheet_reads_the_same(xml, shared, spell):
    plain = _read(xml, shared)
    assert plain[0], "the sheet has values"
    assert xlsx._plain_cells(xml) is not None  # jixiao's own files take the one-pass path
    other = spell(xml)
    assert other != xml
    assert _read(other, shared) == plain


def test_a_cell_the_plain_pattern_cannot_read_sends_the_sheet_to_the_general_path():
    xml = ('<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>甲</t></is></c>'
           '<c r="B1"><v>2</v><extLst/></c><c r="C1" s="0"><v>3</v></c></row></sheetData></worksheet>')
    assert xlsx._plain_cells(xml) is None
    values = _read(xml, [])[0]
    assert values["A1"] == "甲" and values["C1"] == 3 and "B1" in values


def test_a_sheet_too_large_to_hold_at_once_is_read_a_cell_at_a_time():
    n = xlsx.PLAIN_MOST + 10
    xml = "<worksheet><sheetData>" + "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>'
                                               for r in range(1, n + 1)) + "</sheetData></worksheet>"
    assert xlsx._plain_cells(xml) is None
    values, _, _, _, max_row = _read(xml, [])
    assert len(values) == n and values[f"A{n}"] == n and max_row == n
