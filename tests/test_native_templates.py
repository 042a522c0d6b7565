"""Native templates: the official layouts scoring themselves with formulas every spreadsheet has."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from jixiao.cli import main
from jixiao.excel.bridge import functions_in
from jixiao.layouts import native
from jixiao.layouts.fill import fill_model, form_values, write_filled
from jixiao.layouts.model import dept_form
from jixiao.layouts.writer import TEMPLATES, signature, template_model, templates_dir, write_template
from jixiao.profile import load_profile, shipped_profiles
from native_support import recalc_in_libreoffice, seed000_full, sheet_values
from workbooks import SEED000

HAVE_LO = shutil.which("soffice") is not None
if not HAVE_LO and os.environ.get("CI"):
    raise RuntimeError("LibreOffice is required in CI (.ci/run installs it)")
needs_lo = pytest.mark.skipif(not HAVE_LO, reason="LibreOffice (soffice) not installed")

# Functions Excel 2010, WPS, LibreOffice and Gnumeric all have, with the same meaning on scalars
ALLOWED = {"ABS", "AND", "AVERAGE", "CHAR", "CHOOSE", "COUNT", "COUNTIF", "EXACT", "FIND", "IF", "ISERROR",
           "ISNUMBER", "LEFT", "LEN", "MAX", "MID", "MIN", "N", "NOT", "OR", "RIGHT", "ROUND", "ROUNDDOWN",
           "ROUNDUP", "SUBSTITUTE", "SUM", "TEXT", "TRIM", "UPPER", "VALUE"}
ERRORS = ("#NAME?", "#VALUE!", "#DIV/0!", "#REF!", "#N/A", "#NUM!", "#NULL!", "Err:")
VARIANT = str(Path(__file__).parent / "data" / "native-variant.toml")


def _outside_strings(formula: str) -> list[str]:
    return [part for part in re.split(r'("(?:[^"]|"")*")', formula) if not part.startswith('"')]


def _depth(formula: str) -> int:
    depth = most = 0
    for part in _outside_strings(formula):
        for ch in part:
            depth += ch == "("
            depth -= ch == ")"
            most = max(most, depth)
    return most


def _most_arguments(formula: str) -> int:
    """The most arguments any one function call of the formula has."""
    stack: list[int] = []
    most = 0
    for part in _outside_strings(formula):
        for ch in part:
            if ch == "(":
                stack.append(1)
            elif ch == "," and stack:
                stack[-1] += 1
            elif ch == ")" and stack:
                most = max(most, stack.pop())
    return most


def _native_models():
    for profile in [*shipped_profiles(), VARIANT]:
        for kind in sorted(TEMPLATES):
            yield profile, kind, template_model(kind, profile, engine="native")


def test_native_formulas_use_only_portable_idioms_within_excel_limits():
    """Every native formula of every shipped profile (and a custom one): functions all four spreadsheets
    share, scalars only (Gnumeric reads FIND over an array constant as its first element, and INDEX over one
    as #REF!), and Excel 2010's limits on length, nesting and arguments."""
    seen = 0
    for profile, kind, model in _native_models():
        for s in model.sheets:
            for ref, f in s.formulas().items():
                where = (Path(profile).stem, kind, s.name, ref)
                used = functions_in(f)
                assert used <= ALLOWED, (*where, used - ALLOWED)
                assert "JX_" not in f.upper(), where
                assert not any("{" in part for part in _outside_strings(f)), (*where, "array constant")
                assert len(f) <= native.LIMITS["length"], (*where, len(f))
                assert _depth(f) <= native.LIMITS["nesting"], (*where, _depth(f))
                assert _most_arguments(f) <= native.LIMITS["arguments"], (*where, _most_arguments(f))
                seen += 1
    assert seen > 5000


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_committed_native_template_matches_the_model(kind, tmp_path):
    committed = templates_dir("native") / f"{kind}.xlsx"
    assert committed.exists(), f"run: jixiao template {kind} --engine native"
    fresh = write_template(kind, tmp_path / f"{kind}.xlsx", engine="native")
    assert signature(fresh) == signature(committed), "run: jixiao template --engine native"
    assert fresh.read_bytes() == committed.read_bytes(), "run: jixiao template --engine native"


def test_udf_model_is_unchanged_by_default_and_native_is_asked_for():
    assert template_model("dept-province").engine == "udf"
    assert template_model("dept-province", engine="native").engine == "native"
    udf, nat = template_model("dept-province"), template_model("dept-province", engine="native")
    # the same official layout: every field in the same cell
    assert {k: v for k, v in udf.main.fields.items()} == {k: v for k, v in nat.main.fields.items()
                                                          if k in udf.main.fields}
    assert all("JX_" in f for k, f in ((k, udf.main.cells[v].value) for k, v in udf.main.fields.items())
               if k.endswith(".score") and k.startswith("ind."))


def test_formula_text_follows_the_profile(tmp_path):
    """Every number a bureau could change comes from the profile: change it, the formula changes."""
    base = (tmp_path / "base.toml")
    base.write_text('[profile]\nid = "a"\nname = "a"\nextends = "national-2020"\n', encoding="utf-8")
    other = tmp_path / "other.toml"
    other.write_text('[profile]\nid = "b"\nname = "b"\nextends = "national-2020"\n'
                     '[execution]\nweight = 7\nround_mode = "down"\ndecimals = 1\n[weights]\ntotal = 97\n'
                     '[indicators]\nover_achievement_ratio = 1.35\napprox_tolerance = 0.08\n'
                     '[grade]\nbands = [{ min = 88, label = "甲" }, { min = 0, label = "乙" }]\n', encoding="utf-8")
    a = project_formulas(str(base))
    b = project_formulas(str(other))
    assert "ROUNDDOWN(ROUND(" in b["funds.exec_score"] and ",1)" in b["funds.exec_score"]
    assert "IF(G6=\"\",7," in b["funds.exec_score"] and "IF(G6=\"\",10," in a["funds.exec_score"]
    assert "1.35" in b["ind.0.reason_hint"] and "1.2-" in a["ind.0.reason_hint"]
    assert '"甲"' in b["total.grade"] and ">=88" in b["total.grade"] and '"优"' in a["total.grade"]


def project_formulas(profile: str) -> dict[str, str]:
    m = template_model("project", profile, engine="native")
    return {k: m.main.cells[v].value for k, v in m.main.fields.items() if isinstance(m.main.cells[v].value, str)}


def test_fill_types_input_cells_only(tmp_path):
    form = seed000_full()
    out = write_filled("dept-province", form, tmp_path / "filled.xlsx", engine="native")
    model = fill_model("dept-province", form, engine="native")
    ws = load_workbook(out)["自评表"]
    from jixiao.layouts.writer import build_workbook

    blank = build_workbook(model)["自评表"]
    typed = {model.main.fields[k] for k in form_values(form, model)}
    for row in ws.iter_rows():
        for c in row:
            if c.coordinate in typed:
                assert c.protection.locked is False
            else:
                assert c.value == blank[c.coordinate].value, c.coordinate  # formulas and labels stay
    assert ws[model.main.fields["ind.0.target"]].value == "21"
    assert ws[model.main.fields["goals.4.actual"]].value.startswith("以规范管理为支撑")


def test_fill_refuses_a_form_larger_than_the_template(tmp_path):
    form = {"unit": "x", "year": 2024, "funds": {"budget": 1, "executed": 1},
            "indicators": [dict(SEED000["indicators"][0])] * 11}
    assert main(["template", "project", "--engine", "native", "--fill", str(_write(tmp_path, form)),
                 "--out", str(tmp_path)]) == 2


def _write(tmp_path, form):
    import json

    p = tmp_path / "form.json"
    p.write_text(json.dumps(form, ensure_ascii=False), encoding="utf-8")
    return p


def test_values_starting_with_equals_stay_text(tmp_path):
    form = {"unit": "x", "year": 2024, "funds": {"budget": 100, "executed": 90},
            "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "期刊", "target": "=24期",
                            "actual": "24期", "weight": 10}]}
    out = write_filled("project", form, tmp_path / "p.xlsx", engine="native")
    ws = load_workbook(out)["自评表"]
    ref = template_model("project").main.fields["ind.0.target"]
    assert ws[ref].value == "=24期" and ws[ref].data_type == "s"


def test_rows_with_officer_text_have_no_fixed_height_and_fit_their_text(tmp_path):
    out = write_filled("dept-province", seed000_full(), tmp_path / "f.xlsx", engine="native")
    import zipfile

    xml = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml").decode()
    model = fill_model("dept-province", seed000_full(), engine="native")
    s = model.main
    goal_row = int(re.sub(r"\D", "", s.fields["goals.0.actual"]))
    ind_row = int(re.sub(r"\D", "", s.fields["ind.0.target"]))
    for r in (goal_row, ind_row):
        tag = re.search(rf'<row r="{r}"[^>]*>', xml).group(0)
        assert "customHeight" not in tag and 'ht="' in tag, tag
    # the longest goal text needs many lines: its row is far taller than a one-line row
    heights = {int(m.group(1)): float(m.group(2)) for m in re.finditer(r'<row r="(\d+)"[^>]*ht="([\d.]+)"', xml)}
    assert heights[goal_row] > 200 and heights[ind_row] < 40


def test_footer_band_holds_its_line():
    wb = load_workbook(templates_dir("native") / "dept-province.xlsx")
    m = wb["自评表"].page_margins
    assert m.bottom >= m.footer + 0.3


def test_rubric_score_column_holds_its_values():
    m = template_model("county-rubric", engine="native")
    assert m.sheets[0].widths["G"] >= 8  # "10.25" in 11-pt type with the cell's padding


@needs_lo
def test_done_when_seed000_native_filled_recalculated_by_libreoffice(tmp_path):
    """jixiao template dept-province --engine native --fill hunan-2024-dept.json: no error value in any
    visible cell, 执行率 84.52%, 合计 90, 总分 99, and no JX_ function anywhere."""
    from importlib import resources

    sample = resources.files("jixiao.samples") / "hunan-2024-dept.json"
    assert main(["template", "dept-province", "--engine", "native", "--fill", str(sample),
                 "--out", str(tmp_path / "out")]) == 0
    filled = tmp_path / "out" / "dept-province.xlsx"
    wb = load_workbook(filled)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert not (isinstance(c.value, str) and "JX_" in c.value.upper()), (ws.title, c.coordinate)
    converted = recalc_in_libreoffice([filled], tmp_path / "lo", jobs=1)[filled]
    values = sheet_values(converted, "自评表")
    model = template_model("dept-province", engine="native")
    hidden = set(model.main.hidden_cols)
    visible = {ref: v for ref, v in values.items() if re.sub(r"\d", "", ref) not in hidden}
    errors = {ref: v for ref, v in visible.items() if isinstance(v, str) and v.startswith(ERRORS)}
    assert not errors
    assert native.CHECK not in visible.values()
    f = model.main.fields
    assert round(values[f["funds.exec_rate"]], 4) == 0.8452
    assert values[f["funds.exec_score"]] == 9
    assert values[f["sum_row.score"]] == 90
    assert values[f["total.score"]] == 99
    assert values[f["total.grade"]] == "优"
    assert all(values[f[f"ind.{i}.score"]] == row["weight"] for i, row in enumerate(SEED000["indicators"]))
    with_lo = load_workbook(converted)
    for ws in with_lo.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert not (isinstance(c.value, str) and "JX_" in c.value.upper())


@needs_lo
def test_all_native_templates_open_blank_without_error_values(tmp_path):
    files = [write_template(k, tmp_path / f"{k}.xlsx", engine="native") for k in sorted(TEMPLATES)]
    converted = recalc_in_libreoffice(files, tmp_path / "lo", jobs=2)
    for f in files:
        model = template_model(f.stem, engine="native")
        for s in model.sheets:
            values = sheet_values(converted[f], s.name)
            bad = {r: v for r, v in values.items() if isinstance(v, str) and v.startswith(ERRORS)}
            assert not bad, (f.stem, s.name, bad)


@needs_lo
def test_native_rubric_scores_like_the_core(tmp_path):
    """The county rubric's automatic scores, native formulas in LibreOffice against jixiao.control."""
    from jixiao.control import control_rate, control_score, payment_progress_score
    from jixiao.execution import exec_rate, exec_score
    from jixiao.layouts.rubric import BASIC, RUBRIC
    from workbooks import seed002_values

    model = template_model("county-rubric", engine="native")
    p = load_profile("county-rubric-2022")
    values = seed002_values() | {"payment.Q1.executed": 15, "payment.Q1.issued": 100, "payment.Q2.executed": 45,
                                 "payment.Q2.issued": 100, "payment.Q3.executed": 85, "payment.Q3.issued": 100,
                                 "contract.approved": 10, "contract.actual": 12, "work.planned": 40,
                                 "work.completed": 36, "work.timely": 30, "work.quality": 38,
                                 "work.key_assigned": 5, "work.key_done": 5}
    wb = model_workbook(model, values)
    path = tmp_path / "rubric.xlsx"
    wb.save(path)
    lo = recalc_in_libreoffice([path], tmp_path / "lo", jobs=1)[path]
    basic, rubric = sheet_values(lo, BASIC), sheet_values(lo, RUBRIC)
    r = {k: control_rate(k, *args) for k, args in {
        "staff_control": (values["staff.actual"], values["staff.authorized"]),
        "contract_staff": (12, 10)}.items()}
    bf = model.sheet(BASIC).fields
    assert basic[bf["rate.staff_control"]] == pytest.approx(r["staff_control"])
    rf = model.sheet(RUBRIC).fields
    sheet = model.sheet(RUBRIC)
    names = [sheet.cells["C" + re.sub(r"\D", "", sheet.fields[f"rubric.{i}.weight"])].value
             for i in range(len([k for k in rf if k.endswith(".weight") and k.startswith("rubric.")]))]
    i_staff = names.index("人员控制率")
    want = control_score("staff_control", r["staff_control"], p) + control_score("contract_staff", 1.2, p)
    assert rubric[rf[f"rubric.{i_staff}.auto"]] == pytest.approx(want, abs=0.005)
    i_exec = names.index("预算执行率")
    rate = exec_rate(values["dept_spending.budget"], values["dept_spending.final"])
    want = exec_score(rate, p) + payment_progress_score({"Q1": 0.15, "Q2": 0.45, "Q3": 0.85}, p)
    assert rubric[rf[f"rubric.{i_exec}.auto"]] == pytest.approx(want, abs=0.005)
    i_adj = names.index("预算调整率")
    adj = control_rate("budget_adjust", values["budget_adjustment"], values["dept_spending.budget"])
    assert rubric[rf[f"rubric.{i_adj}.auto"]] == pytest.approx(control_score("budget_adjust", adj, p), abs=0.005)
    i_done = names.index("实际完成率")
    assert rubric[rf[f"rubric.{i_done}.auto"]] == 0  # its points are set by the department: none yet


def model_workbook(model, values):
    from jixiao.layouts.writer import build_workbook

    wb = build_workbook(model)
    for key, v in values.items():
        sheet, ref = model.field(key)
        wb[sheet][ref] = v
    return wb


@needs_lo
def test_libreoffice_prints_seed000_native_filled_on_a4(tmp_path):
    from jixiao.libreoffice import convert

    out = write_filled("dept-province", seed000_full(), tmp_path / "seed.xlsx", engine="native")
    pdf = convert(out, "pdf", tmp_path)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "(A4)" in info
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages <= 7  # six of the form (as long as its texts make it), one 填表说明
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "第 1 页，共" in text and "84.52%" in text and "99" in text
    # the last words of the longest texts are printed: nothing cut at the bottom of a tall row
    for goal in seed000_full()["goals"]:
        tail = re.sub(r"\s", "", goal["actual"])[-6:]
        assert tail in re.sub(r"\s", "", text), tail


def test_fill_adds_goal_rows_for_a_form_with_more_goals():
    n = len(seed000_full()["goals"])
    assert sum(1 for k in dept_form().main.fields if k.startswith("goals.") and k.endswith(".target")) < n
    model = fill_model("dept-province", seed000_full(), engine="native")
    assert sum(1 for k in model.main.fields if k.startswith("goals.") and k.endswith(".target")) == n
