"""A native template, filled and saved by another spreadsheet, is checked on the fast template route."""
import shutil
from pathlib import Path

import pytest

from jixiao.checking import checker
from jixiao.cli import main
from jixiao.libreoffice import convert
from jixiao.samples import workbooks as sample_workbooks

SAMPLE = Path(__file__).resolve().parent.parent / "jixiao" / "samples" / "hunan-2024-dept.json"
needs_lo = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    out = tmp_path_factory.mktemp("native")
    assert main(["template", "dept-province", "--engine", "native", "--fill", str(SAMPLE), "--out", str(out)]) == 0
    [path] = out.glob("*.xlsx")
    return path


@pytest.fixture(scope="module")
def saved_by_libreoffice(filled, tmp_path_factory):
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice not installed")
    return convert(filled, "xlsx", tmp_path_factory.mktemp("lo"))  # LibreOffice computes and caches every score


def test_filled_native_template_takes_the_template_route(filled):
    res = checker.check_file(str(filled))
    assert (res.route, res.profile, res.total, res.grade) == ("template", "hunan-dept-2024", 99, "优")
    assert [f.rule for f in res.findings if f.severity == "error"] == []


@needs_lo
def test_scores_libreoffice_computed_natively_agree_with_the_rules(saved_by_libreoffice):
    res = checker.check_file(str(saved_by_libreoffice))
    assert res.route == "template" and res.total == 99
    assert not any(f.rule in ("formula.stale", "formula.no_cached_values") for f in res.findings), res.findings
    assert [f.rule for f in res.findings if f.severity == "error"] == []


@needs_lo
def test_a_score_typed_over_a_native_formula_is_judged_by_the_rules(saved_by_libreoffice, tmp_path):
    from jixiao.layouts.writer import template_model

    model = template_model("dept-province", engine="native")
    score = model.main.fields["ind.0.score"]
    typed = tmp_path / "typed.xlsx"
    typed.write_bytes(sample_workbooks.fill_bytes(saved_by_libreoffice.read_bytes(), {(model.main.name, score): 1}))
    res = checker.check_file(str(typed))
    at = {(f.rule, f.cell): f for f in res.findings}
    assert res.route == "template"
    assert at[("indicator.score_mismatch", score)].found == 1
    assert at[("formula.overwritten", score)].severity == "warning"


@needs_lo
def test_a_bureau_with_another_profile_gets_one_finding(saved_by_libreoffice):
    res = checker.check_file(str(saved_by_libreoffice), "national-2020")
    assert [f.rule for f in res.findings if f.severity == "error"] == ["profile.differs"]
