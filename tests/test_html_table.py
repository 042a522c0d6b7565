"""An "Excel export" that is an HTML table named .xls (issue 15, item 4): read as a sheet, never through
LibreOffice; bounded on hostile pages."""
from __future__ import annotations

import time

from jixiao.checking.batch import Source, check_source

FORM = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>
<table border=1>
<tr><td colspan=7>2023年度项目支出绩效自评表</td></tr>
<tr><td rowspan=2>项目资金（万元）</td><td></td><td>年初预算数</td><td>全年预算数</td><td>全年执行数</td><td>分值</td>
<td>执行率</td><td>得分</td></tr>
<tr><td>年度资金总额</td><td>100.00</td><td>100.00</td><td>80.00</td><td>10</td><td>90.00%</td><td>8</td></tr>
</table></body></html>"""


def test_html_table_saved_as_xls_is_read_as_a_sheet(tmp_path):
    path = tmp_path / "系统导出.xls"
    path.write_bytes(FORM.encode("gb18030"))
    res = check_source(Source(str(path), path=str(path)), None)
    rules = {f.rule: f for f in res.findings}
    assert "html.read" in rules and "xls.convert_failed" not in rules
    # 执行率 80/100 = 80%, shown 90% in G3 (the rowspan above moves the row's cells right by one column)
    assert rules["execution.rate_mismatch"].cell == "G3"
    assert rules["execution.rate_mismatch"].expected == "80.00%"


def test_hostile_html_spans_are_bounded(tmp_path):
    cells = '<td rowspan="100000" colspan="100000">x</td>' * 2000
    path = tmp_path / "巨大.xls"
    data = f"<html><body><table><tr>{cells}</tr></table></body></html>".encode()
    path.write_bytes(data)
    t0 = time.perf_counter()
    res = check_source(Source(str(path), path=str(path)), None)
    assert time.perf_counter() - t0 < 10
    assert res.findings[0].rule == "workbook.too_large" and "网页表格" in res.findings[0].message
    assert path.read_bytes() == data
