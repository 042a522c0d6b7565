"""Templates in workbook_templates/ are generated from the form model and print like official forms."""
import pytest
from openpyxl import load_workbook

from jixiao.excel import bridge
from jixiao.layouts.model import dept_form
from jixiao.layouts.writer import (
    TEMPLATES,
    signature,
    template_model,
    templates_dir,
    write_template,
)


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_committed_template_matches_the_model(kind, tmp_path):
    committed = templates_dir() / f"{kind}.xlsx"
    assert committed.exists(), f"run: jixiao template {kind}"
    fresh = write_template(kind, tmp_path / f"{kind}.xlsx")
    assert signature(fresh) == signature(committed), "template drifted from the model: run `jixiao template`"


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_regeneration_is_byte_for_byte_stable(kind, tmp_path):
    a = write_template(kind, tmp_path / "a.xlsx")
    b = write_template(kind, tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() == (templates_dir() / f"{kind}.xlsx").read_bytes(), "run: jixiao template"


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_inputs_unlocked_formulas_locked_sheets_protected(kind):
    model = template_model(kind)
    wb = load_workbook(templates_dir() / f"{kind}.xlsx")
    for s in model.sheets:
        ws = wb[s.name]
        assert ws.protection.sheet, s.name
        assert int(ws.page_setup.paperSize) == 9  # A4
        assert ws.page_setup.orientation == ("landscape" if s.landscape else "portrait")
        assert ws.print_title_rows and ws.print_area
        for ref in s.inputs():
            assert ws[ref].protection.locked is False, (s.name, ref)
            assert ws[ref].fill.fgColor.rgb.endswith("FFF2CC"), (s.name, ref)
        for ref, formula in s.formulas().items():
            assert ws[ref].value == formula and ws[ref].protection.locked, (s.name, ref)
    assert "填表说明" in wb.sheetnames


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_every_function_a_template_uses_is_registered(kind):
    formulas_text = bridge.workbook_formulas(templates_dir() / f"{kind}.xlsx").values()
    assert formulas_text
    assert bridge.unknown_functions(formulas_text) == set()


def test_profile_is_visible_and_named():
    wb = load_workbook(templates_dir() / "dept-province.xlsx")
    dest = wb.defined_names["JX_PROFILE"].attr_text
    assert dest == "'自评表'!$K$2"
    assert wb["自评表"]["K2"].value == "hunan-dept-2024"
    assert all("$K$2" in f for f in dept_form().main.formulas().values() if "JX_IND_SCORE" in f)


def test_choices_have_data_validation():
    wb = load_workbook(templates_dir() / "dept-province.xlsx")
    lists = {str(dv.sqref): dv.formula1 for dv in wb["自评表"].data_validations.dataValidation if dv.type == "list"}
    level1 = next(v for k, v in lists.items() if k.startswith("B"))
    assert "产出指标" in level1 and "成本指标" in level1
    grades = next(v for k, v in lists.items() if k.startswith("J"))
    assert "部分达成并具有一定效果" in grades
    assert any("national-2020" in v for v in lists.values())


def test_level_variants_differ_only_in_header():
    city, county = template_model("dept-city"), template_model("dept-county")
    assert city.main.cells["A3"].value == "市级预算部门名称"
    assert county.main.cells["A3"].value == "县级预算部门名称"
    assert city.main.formulas() == county.main.formulas()


def test_fonts_and_number_formats():
    wb = load_workbook(templates_dir() / "dept-province.xlsx")
    ws = wb["自评表"]
    assert ws["A1"].font.name == "宋体" and ws["A1"].font.b
    assert ws["D5"].font.name == "仿宋"
    assert ws["E5"].number_format == "#,##0.00" and ws["H5"].number_format == "0.00%"
