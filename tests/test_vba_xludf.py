"""Formulas that Excel saved as ``_xludf.JX_…`` (a workbook edited on a PC without the add-in) read as JX_ calls."""
import re
import zipfile
from pathlib import Path

from workbooks import fill, seed000_values

from jixiao.checking import checker
from jixiao.excel import bridge
from jixiao.excel.syntax import parse, relative_form
from jixiao.layouts.model import dept_form


def _as_xludf(src: Path, dst: Path) -> int:
    n = 0
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                text, k = re.subn(r"(?<![A-Za-z0-9_.])JX_", "_xludf.JX_", data.decode("utf-8"))
                n += k
                data = text.encode("utf-8")
            zout.writestr(item, data)
    return n


def test_parser_reads_xludf_prefix_as_the_jx_name():
    node = parse("=_xludf.JX_EXEC_SCORE(_xludf.JX_EXEC_RATE(D5,E5),\"hunan-dept-2024\")")
    assert node.value == "JX_EXEC_SCORE" and node.args[0].value == "JX_EXEC_RATE"
    assert relative_form("=_xludf.JX_GRADE(K30)", "K31") == relative_form("=JX_GRADE(K30)", "K31")
    assert bridge.functions_in("=_xludf.JX_GRADE(K30)+SUM(A1)") == {"JX_GRADE", "SUM"}


def test_check_and_recalc_read_a_template_saved_with_xludf(tmp_path):
    plain = fill(dept_form("province"), seed000_values(), tmp_path / "plain.xlsx")
    saved = tmp_path / "xludf.xlsx"
    assert _as_xludf(plain, saved) > 30
    a, b = checker.check_file(str(plain)), checker.check_file(str(saved))
    assert b.route == a.route == "template" and b.total == a.total == 99 and b.grade == "优"
    assert [(f.rule, f.cell) for f in b.findings] == [(f.rule, f.cell) for f in a.findings]
    rc = bridge.calculate(saved)
    assert rc.translated > 30
    assert rc.values == bridge.calculate(plain).values
