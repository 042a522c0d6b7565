"""The xlsx report's own writer (jixiao/checking/tablebook.py), read back by readers jixiao did not write:
openpyxl, python-calamine and LibreOffice. What a bureau sees in the report must survive each of them."""
from __future__ import annotations

import shutil
import zipfile

import pytest
from openpyxl import load_workbook

from jixiao.checking.tablebook import TableBook

HOSTILE = ['=HYPERLINK("http://example.invalid","点我")', "+1", "-1", "@SUM(A1)", "a & b < c > d",
           "控制\x0b字符\x1b尾", "孤\ud800字", "  前后空格  ", "换\n行", "<t>不是标签</t>", "&amp;已转义"]


def _book(tmp_path, rows):
    book = TableBook()
    t = book.table("汇总", ["文本", "数", "链接"], [30, 10, 20])
    for values, styles, links in rows:
        t.row(values, styles=styles, links=links)
    t.filter_all()
    t.fill_when(f"B2:B{t.last_row}", "red", "greaterThan", "0")
    t.fill_when(f"A2:A{t.last_row}", "yellow", formula="LEN(A2)>0")
    book.table("空表", ["只有表头"], [12])
    return book.save(tmp_path / "书.xlsx", title="标题", creator="jixiao 9", keywords="jixiao-report")


def _rows():
    rows = [([text, i, "链"], None, {2: f"../in/单位 {i}&'x'.xlsx#'附件2'!F25"}) for i, text in enumerate(HOSTILE)]
    rows.append((["数", 0.9565, None], {1: "percent"}, None))
    rows.append((["分", 99.5, True], {1: "two_places"}, None))
    rows.append((["无穷", float("inf"), float("nan")], None, None))
    rows.append((["大数", 12345678901234567890, -0.0], None, None))
    return rows


def test_openpyxl_reads_text_as_text_numbers_styles_and_links(tmp_path):
    wb = load_workbook(_book(tmp_path, _rows()))
    assert wb.sheetnames == ["汇总", "空表"]
    ws = wb["汇总"]
    texts = [ws.cell(r, 1).value for r in range(2, 2 + len(HOSTILE))]
    assert all(ws.cell(r, 1).data_type == "s" for r in range(2, 2 + len(HOSTILE)))  # never a formula
    assert texts[0] == HOSTILE[0] and texts[4] == "a & b < c > d" and texts[7] == "  前后空格  "
    assert texts[8] == "换\n行" and texts[9] == "<t>不是标签</t>" and texts[10] == "&amp;已转义"
    assert "\x0b" not in texts[5] and "\x1b" not in texts[5] and texts[5].startswith("控制")
    assert texts[6] == "孤\ufffd字"
    assert ws["C2"].hyperlink.target == "../in/单位 0&'x'.xlsx#'附件2'!F25"
    n = 2 + len(HOSTILE)
    assert ws.cell(n, 2).value == 0.9565 and ws.cell(n, 2).number_format == "0.00%"
    assert ws.cell(n + 1, 2).number_format == "0.00" and ws.cell(n + 1, 3).value is True
    assert ws.cell(n + 2, 2).value is None and ws.cell(n + 2, 3).value is None  # no number a sheet cannot hold
    assert ws.cell(n + 3, 2).value == 12345678901234567890
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:C{n + 3}"
    assert ws.column_dimensions["A"].width == 30
    assert ws["A1"].font.b and ws["A1"].fill.fgColor.rgb.endswith("DDEBF7")
    assert [r.type for cf in ws.conditional_formatting for r in cf.rules] == ["cellIs", "expression"]
    assert wb["空表"]["A1"].value == "只有表头" and wb["空表"].max_row == 1
    assert wb.properties.keywords == "jixiao-report" and wb.properties.creator == "jixiao 9"


def test_calamine_reads_the_same_values(tmp_path):
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(_book(tmp_path, _rows())))
    rows = wb.get_sheet_by_name("汇总").to_python()
    assert rows[0] == ["文本", "数", "链接"] and rows[1][0] == HOSTILE[0] and rows[5][0] == "a & b < c > d"
    assert [r[1] for r in rows[1:1 + len(HOSTILE)]] == list(range(len(HOSTILE)))
    assert rows[1 + len(HOSTILE)][1] == 0.9565


def test_a_batch_report_is_one_jixiao_report(tmp_path):
    """jixiao recognises its own report by the marker and the sheets, and skips it in a re-checked folder."""
    from jixiao.checking import batch, report
    from jixiao.checking.result import FileResult

    path = report.write_xlsx([FileResult("a.xlsx")], tmp_path / "报告.xlsx")
    assert batch.is_own_report(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        assert all(not i.extra for i in z.infolist())  # plain zip records (no zip64) for a report of this size


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed")
def test_libreoffice_reads_values_styles_and_filters(tmp_path):
    from jixiao.libreoffice import convert

    src = _book(tmp_path, _rows())
    out = tmp_path / "lo"
    out.mkdir()
    convert(src, "xlsx", out)  # what LibreOffice understood, written again by LibreOffice
    wb = load_workbook(out / src.name)
    ws = wb["汇总"]
    assert ws["A2"].value == HOSTILE[0] and ws["A2"].data_type == "s"
    assert ws["A6"].value == "a & b < c > d"
    n = 2 + len(HOSTILE)
    assert ws.cell(n, 2).value == pytest.approx(0.9565) and "%" in ws.cell(n, 2).number_format
    link = ws["C2"].hyperlink  # LibreOffice splits the file from the cell it points at
    assert "单位" in link.target and link.location == "'附件2'!F25"
    assert ws.auto_filter.ref == f"A1:C{n + 3}"  # (headless, LibreOffice keeps no view: no frozen pane to read)
    assert len(list(ws.conditional_formatting)) == 2
