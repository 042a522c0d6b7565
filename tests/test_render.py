"""LibreOffice headless as an independent spreadsheet client: it opens, prints and recomputes the templates."""
import os
import shutil
import subprocess

import pytest
from openpyxl import load_workbook
from workbooks import as_saved_by_excel, fill, seed000_values, seed002_values

from jixiao.excel import bridge
from jixiao.layouts.model import dept_form
from jixiao.layouts.rubric import BASIC, county_rubric
from jixiao.layouts.writer import templates_dir
from jixiao.libreoffice import convert, pdf_to_png
from jixiao.samples import submissions

HAVE_LO = shutil.which("soffice") is not None
if not HAVE_LO and os.environ.get("CI"):
    raise RuntimeError("LibreOffice is required in CI (.ci/run installs it)")
pytestmark = pytest.mark.skipif(not HAVE_LO, reason="LibreOffice (soffice) not installed")

LANDSCAPE, PORTRAIT = "landscape", "portrait"
# pages per template: the form's sheets, then the one-page 填表说明
EXPECTED = {
    "dept-province": [LANDSCAPE, LANDSCAPE, PORTRAIT],
    "dept-city": [LANDSCAPE, LANDSCAPE, PORTRAIT],
    "dept-county": [LANDSCAPE, LANDSCAPE, PORTRAIT],
    "project": [LANDSCAPE, PORTRAIT],
    "county-rubric": [LANDSCAPE, LANDSCAPE, PORTRAIT, PORTRAIT],
    "project-summary": [PORTRAIT, PORTRAIT],
}


def page_orientations(pdf):
    out = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", str(pdf)], capture_output=True, text=True).stdout
    sizes = [line.split(":")[1].split("pts")[0].split("x") for line in out.splitlines()
             if line.startswith("Page") and "size" in line]
    return [LANDSCAPE if float(w) > float(h) else PORTRAIT for w, h in sizes]


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_template_prints_on_a4_with_expected_pages(kind, tmp_path):
    pdf = convert(templates_dir() / f"{kind}.xlsx", "pdf", tmp_path)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "(A4)" in info
    assert page_orientations(pdf) == EXPECTED[kind]
    pngs = pdf_to_png(pdf, tmp_path, dpi=30, first_page_only=True)
    assert len(pngs) == 1 and pngs[0].stat().st_size > 2000


def test_libreoffice_recomputes_the_standard_formulas_like_formulas(tmp_path):
    """The sums of the basic-data table, recomputed by LibreOffice and by the formulas bridge, agree."""
    model = county_rubric()
    filled = fill(model, seed002_values(), tmp_path / "rubric.xlsx")
    ours = bridge.calculate(filled)
    lo = load_workbook(convert(filled, "xlsx", tmp_path / "lo"), data_only=True)[BASIC]
    basic = model.sheet(BASIC)
    for key in ("three_public.budget", "three_public.final", "three_public.vehicle.final", "project.budget",
                "project.final", "three_public.prev_budget"):
        ref = basic.fields[key]
        assert lo[ref].value == pytest.approx(ours.get(BASIC, ref)), key
    # LibreOffice has no jixiao functions: it says so with #NAME? rather than inventing a number
    assert lo[basic.fields["rate.staff_control"]].value == "#NAME?"


def test_libreoffice_opens_a_workbook_saved_by_excel_with_the_addin(tmp_path):
    model = dept_form("province")
    filled = fill(model, seed000_values(), tmp_path / "dept.xlsx")
    saved = as_saved_by_excel(filled, tmp_path / "saved.xlsx", bridge.calculate(filled).values)
    pdf = convert(saved, "pdf", tmp_path / "out")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "2024年度部门整体支出绩效自评表" in text and "84.52%" in text


def test_workbook_saved_by_libreoffice_is_checked_like_the_original(tmp_path):
    """An officer opened the filled template in LibreOffice (no jixiao functions there) and saved it."""
    import random

    from jixiao.checking import checker

    data, expected = submissions.make_submission(random.Random(4), "template", "reason_missing")
    original = tmp_path / "excel.xlsx"
    original.write_bytes(data)
    saved = convert(original, "xlsx", tmp_path / "lo")
    a = checker.check_file(str(original), "hunan-dept-2024")
    b = checker.check_file(str(saved), "hunan-dept-2024")
    assert b.route == "template" and b.total == a.total
    rules = lambda r: {(f.rule, f.cell) for f in r.findings if f.rule != "formula.no_addin"}  # noqa: E731
    assert rules(b) == rules(a)
    assert (expected[0]["rule"], expected[0]["cell"]) in rules(b)
    assert [f.severity for f in b.findings if f.rule == "formula.no_addin"] == ["warning"]


def test_xls_is_converted_and_says_so(tmp_path):
    import json as _json

    from workbooks import SEED000

    from jixiao.checking import batch

    src = tmp_path / "seed.xlsx"
    src.write_bytes(submissions.bureau_bytes(_json.loads(_json.dumps(SEED000)), {"exec_score": 9, "sum": 90}))
    xls = convert(src, "xls", tmp_path / "old")
    [res] = batch.run(batch.collect([xls]), "hunan-dept-2024")
    assert res.findings[0].rule == "xls.converted"
    assert res.total == 99 and res.unit == "湖南省机关事务管理局"
