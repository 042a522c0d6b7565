"""Issue 15 item 1 in the native formulas: computed by LibreOffice, they read values as the core does.

A negated actual (未达到21个) shows 需核对, never full marks; a bare number under a target with a unit is in the
target's unit; a rate target without comparator of a floor-by-nature indicator (…达标率 80%) is a floor.
"""
import json
import shutil
from pathlib import Path

import pytest

from jixiao.cli import main
from jixiao.form import DeptForm, score_form
from jixiao.layouts.writer import template_model
from jixiao.libreoffice import convert
from native_support import CHECK, sheet_values

SAMPLE = Path(__file__).resolve().parent.parent / "jixiao" / "samples" / "hunan-2024-dept.json"
EDITS = {0: ("≥21个", "未达到21个"), 1: ("80%", "98%"), 2: ("≥50个", "40"), 3: ("≥100%", "100")}

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    out = tmp_path_factory.mktemp("native-values")
    data = json.loads(SAMPLE.read_text(encoding="utf-8"))
    for i, (target, actual) in EDITS.items():
        data["indicators"][i]["target"], data["indicators"][i]["actual"] = target, actual
    form_json = out / "form.json"
    form_json.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main(["template", "dept-province", "--engine", "native", "--fill", str(form_json), "--out",
                 str(out / "t")]) == 0
    [path] = (out / "t").glob("*.xlsx")
    lo = convert(path, "xlsx", out / "lo")  # LibreOffice computes every score
    model = template_model("dept-province", engine="native")
    values = sheet_values(lo, model.main.name)
    cells = {i: model.main.fields[f"ind.{i}.score"] for i in EDITS}
    return {i: values.get(ref) for i, ref in cells.items()}, score_form(DeptForm.from_dict(data), "hunan-dept-2024")


def test_native_negated_actual_is_to_review_not_full_marks(computed):
    native, core = computed
    assert native[0] == CHECK and core.indicators[0].score is None


@pytest.mark.parametrize("row", [1, 2, 3])
def test_native_bare_numbers_and_floor_rates_agree_with_the_core(computed, row):
    native, core = computed
    assert isinstance(native[row], (int, float)) and abs(native[row] - core.indicators[row].score) < 0.005
    assert core.indicators[row].score == {1: 5, 2: 4, 3: 5}[row]
