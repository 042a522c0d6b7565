"""Issue 15 item 1: values read as units write them, on forms nobody tuned the reader to.

Each test states a rule for a class of values (negations, bare numbers, floor-by-nature rates, units jixiao does
not list, values it cannot read, rows it cannot score) and tries it on several members of the class, through the
core, the CLI and `jixiao check` on a real .xlsx in the bureau's layout.
"""
from __future__ import annotations

import io
import json
import math
import random

import pytest
from openpyxl import load_workbook

from jixiao.checking import checker, report
from jixiao.cli import main
from jixiao.deviation import indicator_score
from jixiao.errors import ValueReadError
from jixiao.numbers import as_number
from jixiao.samples import submissions
from jixiao.values import Measure, Unreadable, cell_number, parse_value

P = "hunan-dept-2024"
NEGATIONS = ["未达到95%", "未达95%", "没有达到95%", "不足95%", "低于95%", "未完成95%", "尚未达到95%"]


@pytest.mark.parametrize("actual", NEGATIONS)
def test_a_negated_actual_is_never_read_as_reaching_the_target(actual):
    res = indicator_score("≥95%", actual, 5, "national-2020")
    assert res.score != 5 and res.met is not True
    assert any("需人工核对" in f.message for f in res.findings)


@pytest.mark.parametrize("actual", NEGATIONS)
def test_full_marks_under_a_negated_actual_is_an_error(actual):
    res = indicator_score("≥95%", actual, 5, "national-2020", reported=5)
    assert [f.severity for f in res.findings if f.rule == "indicator.score_mismatch"] == ["error"]


def test_not_exceeding_is_met_for_a_ceiling_and_unknown_for_a_floor():
    assert indicator_score("≤3次", "未超过3次", 5).score == 5  # at most 3 under "at most 3": met
    assert indicator_score("≥3次", "未超过3次", 5).score is None  # at most 3 under "at least 3": cannot tell


def test_cli_indicator_does_not_give_full_marks_for_a_negation(capsys):
    main(["indicator", "≥95%", "未达到95%", "5", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["score"] != 5 and out["findings"]


@pytest.mark.parametrize("target,actual,score", [("≥50个", "50", 5.0), ("≥100%", "100", 5.0), ("≤90万元", "90", 5.0),
                                                 ("≥50个", "40", 4.0), ("≤90万元", "99", 4.5), ("=24期", "24", 5.0)])
def test_a_bare_number_is_in_the_targets_unit(target, actual, score):
    res = indicator_score(target, actual, 5, "national-2020")
    assert res.score == score and not [f for f in res.findings if f.severity == "error"]


def test_a_bare_fraction_under_a_percentage_is_for_review_not_a_guess():
    res = indicator_score("≥95%", "0.96", 5)
    assert res.score is None and [f.severity for f in res.findings] == ["warning"]


@pytest.mark.parametrize("name", ["服务对象满意度", "群众满意度", "工程验收合格率", "任务完成率", "水质达标率", "政策知晓率",
                                  "信息报送及时率", "数据准确率", "宣传覆盖率"])
def test_a_rate_target_without_comparator_is_a_floor_for_floor_indicators(name):
    res = indicator_score("90%", "92%", 10, "national-2020", name=name, reason="")
    assert res.score == 10 and res.met and not res.findings


def test_the_floor_class_is_profile_data(tmp_path):
    prof = tmp_path / "no-floors.toml"
    prof.write_text('[profile]\nid = "no-floors"\nextends = "national-2020"\nname = "无下限类"\n'
                    '[indicators]\nfloor_names = []\n', encoding="utf-8")
    assert indicator_score("90%", "92%", 10, str(prof), name="服务对象满意度").score < 10  # 等于 without the class
    assert indicator_score("90%", "92%", 10, "national-2020", name="办件数量").score < 10  # not in the class


@pytest.mark.parametrize("unit", ["MWp", "标准箱", "千伏安", "TEU", "万千瓦"])
def test_a_unit_jixiao_does_not_list_is_a_unit(unit):
    t, a = parse_value(f"≥8{unit}"), parse_value(f"6{unit}")
    assert isinstance(t, Measure) and isinstance(a, Measure) and t.unit_label() == a.unit_label()
    assert indicator_score(f"≥8{unit}", f"9{unit}", 8).score == 8
    assert indicator_score(f"≥8{unit}", f"6{unit}", 8).score == 6


def test_what_the_checker_cannot_read_is_a_warning_never_an_error():
    for target, actual in [("≥8MWp", "8个"), ("≥95%", "9.5.3%"), ("≥95#", "96%"), ("≥30个", "约30个以下")]:
        res = indicator_score(target, actual, 5)
        assert res.score is None and res.findings, (target, actual)
        assert all(f.severity == "warning" for f in res.findings), (target, actual, res.findings)


@pytest.mark.parametrize("text", ["inf", "Infinity", "-inf", "nan", "NaN"])
def test_inf_and_nan_are_not_numbers(text):
    assert cell_number(text) is None
    assert not isinstance(parse_value(text), Measure)
    with pytest.raises(ValueReadError):
        as_number(text)
    with pytest.raises(ValueReadError):
        as_number(float(text))
    assert isinstance(parse_value(float(text)), Unreadable)
    assert cell_number(float(text)) is None


# --------------------------------------------------------------------------- a real workbook, the bureau's layout


def _bureau(tmp_path, edits: dict[str, object], name="book.xlsx"):
    data, _ = submissions.make_submission(random.Random(1), "bureau", None)
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    for ref, value in edits.items():
        ws[ref] = value
    buf = io.BytesIO()
    wb.save(buf)
    path = tmp_path / name
    path.write_bytes(buf.getvalue())
    return checker.check_file(str(path), P)


def _at(res, cell):
    return [(f.rule, f.severity) for f in res.findings if f.cell == cell]


def test_check_a_clean_form_has_a_numeric_total(tmp_path):
    res = _bureau(tmp_path, {})
    assert isinstance(res.total, float) and res.grade and res.total_note is None


def test_check_negated_actual_with_full_marks_is_an_error_and_the_total_is_to_review(tmp_path):
    res = _bureau(tmp_path, {"F14": "未达到30个"})
    assert ("indicator.score_mismatch", "error") in _at(res, "H14")
    assert res.total is None and res.grade is None and "需核对" in res.total_note
    assert res.total_text == "需核对"


def test_check_bare_numbers_and_floor_rates_pass_on_a_correct_form(tmp_path):
    res = _bureau(tmp_path, {"F14": 30, "F15": "98", "E22": "90%", "F22": "92%"})
    for cell in ("F14", "F15", "H14", "H15", "F22", "H22", "I22"):
        assert not [x for x in _at(res, cell) if x[1] != "info"], (cell, _at(res, cell))
    assert isinstance(res.total, float)


def test_check_inf_text_is_not_read_as_a_number(tmp_path):
    res = _bureau(tmp_path, {"F14": "inf"})
    assert _at(res, "F14") and res.total is None


def test_writers_show_to_review_not_a_total_counting_the_row_as_zero(tmp_path):
    res = _bureau(tmp_path, {"F14": "9.5.3个"})
    assert res.total is None and res.total_note
    html = report.render_html([res])
    assert "需核对" in html
    out = report.write_xlsx([res], tmp_path / "report.xlsx")
    ws = load_workbook(out).worksheets[0]
    assert "需核对" in [c.value for row in ws.iter_rows() for c in row]
    assert report.summary([res])["mean_total"] is None  # not ranked by a total the form does not show


def test_cli_score_says_to_review_when_a_row_cannot_be_scored(tmp_path, capsys):
    from importlib import resources
    data = json.loads((resources.files("jixiao.samples") / "hunan-2024-dept.json").read_text(encoding="utf-8"))
    data["indicators"][0]["actual"] = "9.5.3"
    path = tmp_path / "form.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    main(["score", str(path), "--profile", P, "--json"])
    out = json.loads(capsys.readouterr().out)
    form = out if "total" in out else out["forms"][0] if "forms" in out else out[0]
    assert form["total"] is None and form["grade"] is None and "需核对" in form["total_note"]
    assert not math.isnan(form["exec_rate"])
