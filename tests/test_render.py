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


def _page_texts(pdf) -> list[str]:
    pages = page_orientations(pdf)
    return [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True,
                           text=True).stdout for i in range(1, len(pages) + 1)]


@pytest.mark.parametrize("engine", ["udf", "native"])
def test_every_page_of_the_indicator_table_shows_its_header(tmp_path, engine):
    """The filled department template prints the indicator table from page 2 on, its header on every page,
    so 分值 and 得分 can be told apart on each sheet of paper; the table starts a page of its own."""
    from importlib import resources

    from jixiao.layouts.fill import load_form, write_filled

    form = load_form(resources.files("jixiao.samples") / "hunan-2024-dept.json")
    book = write_filled("dept-province", form, tmp_path / "dept.xlsx", engine=engine)
    texts = _page_texts(convert(book, "pdf", tmp_path))
    main = [t for t in texts if "填表说明" not in t]
    assert len(main) >= 3
    header = ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施")
    for page, text in enumerate(main[1:3], start=2):
        assert all(h in text for h in header), f"page {page} lacks the indicator header"
    assert "一级指标" not in main[0] and "年度资金总额" in main[0]  # page 1: funds and goals only
    assert "合计" in main[-1] and "总分" in main[-1]


def test_every_page_of_the_rubric_names_its_levels(tmp_path):
    """County rubric: the header row on every page, and each row's 一级/二级指标 with their points."""
    texts = _page_texts(convert(templates_dir() / "county-rubric.xlsx", "pdf", tmp_path))
    rubric = [t for t in texts if "评分要点" in t]
    assert len(rubric) >= 2
    assert "过程" in rubric[0] and "过程" in rubric[1]  # 过程 runs over the page break, named on both pages
    for text in rubric:
        assert "（8分" not in text or "目标设定\n（8分）" in text or "（8分）" in text
        assert not any(line.strip() == "）" for line in text.splitlines())  # no closing bracket left alone
