"""Differential test of the three calculators of template formulas.

Every formula cell of every shipped template, on inputs written the way officers
write them (budgets, rates typed as text, ≥95%, ≤1次, =24期, 显著提升, blanks,
junk, weights), must give the same value in

* the compiled evaluator (:func:`jixiao.excel.compiler.compile_sheets`), which
  the checker uses for template workbooks,
* the ``formulas`` engine with jixiao's cell functions registered
  (:func:`jixiao.excel.bridge.calculate`), used for any other workbook, and
* LibreOffice headless, for every cell whose formula and precedents use only
  built-in functions (LibreOffice has no JX_ functions: there it must show an
  error, never a number of its own).

Numbers agree within 1e-9 relative, texts exactly, errors by their code.
"""
from __future__ import annotations

import math
import random
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.cell.cell import ERROR_CODES

from jixiao.errors import CellError
from jixiao.excel import bridge
from jixiao.excel.compiler import Compiled, compile_sheets
from jixiao.excel.syntax import parse, references
from jixiao.layouts.model import COVERED, FormModel
from jixiao.layouts.writer import TEMPLATES, build_workbook, template_model
from jixiao.profile import shipped_profiles

KINDS = sorted(TEMPLATES)
Key = tuple[str, str]


# ---------------------------------------------------------------------------
# The templates: formulas, constants, and the role of every input a formula reads


@dataclass
class Template:
    kind: str
    model: FormModel
    formulas: dict[Key, str]
    compiled: Compiled
    constants: dict[Key, Any]  # non-formula values the template ships with (labels, weights, profile)
    roles: dict[Key, str]  # input cell read by some formula → what an officer types there
    builtin_only: set[Key]  # formula cells computed without any JX_ function, precedents included
    direct_jx: set[Key]  # formula cells that call a JX_ function themselves
    aggregated: set[Key]  # inputs read by COUNT/AVERAGE, or by SUM/MIN/MAX as a single-cell argument
    ref_args: dict[Key, set[Key]]  # formula cell → its single-cell arguments of SUM/COUNT/AVERAGE/MIN/MAX
    dependents: dict[Key, set[Key]]  # formula cell → formula cells that read it, transitively

    def tainted(self, inputs: dict[Key, Any], computed: dict[Key, Any]) -> set[Key]:
        """Formula cells whose aggregate reads text through a single-cell reference (KNOWN: the compiled
        evaluator converts it), and every cell that depends on them."""
        def value(k: Key) -> Any:
            return computed[k] if k in computed else inputs.get(k, self.constants.get(k))

        hit = {k for k, args in self.ref_args.items() if any(isinstance(value(a), str) for a in args)}
        return hit.union(*(self.dependents[k] for k in hit))


AGGREGATES = {"SUM", "COUNT", "AVERAGE", "MIN", "MAX"}


def _ref_args(node, host: str) -> set[Key]:
    out: set[Key] = set()
    if node.kind == "func" and node.value in AGGREGATES:
        out |= {k for a in node.args if a.kind == "ref" for k in _reads(a, host)}
    for a in node.args:
        out |= _ref_args(a, host)
    return out


def _aggregated(node, host: str) -> set[Key]:
    """Cells whose text the known disagreements (see KNOWN below) would read."""
    out: set[Key] = set()
    if node.kind == "func" and node.value in AGGREGATES:
        for a in node.args:
            if node.value in ("COUNT", "AVERAGE") or a.kind == "ref":
                out |= _reads(a, host)
    for a in node.args:
        out |= _aggregated(a, host)
    return out


def _role(key: str) -> str:
    last = key.rsplit(".", 1)[-1]
    if key == "profile":
        return "profile"
    if key == "year":
        return "year"
    if key.startswith("ind.") and last in ("target", "actual", "weight", "grade", "judged", "reason"):
        return last
    if key == "funds.weight" or (key.startswith("rubric.") and last == "weight"):
        return "weight"
    if (key.startswith("rubric.") and last == "manual") or key.startswith("projects."):
        return "score"
    return "amount"


def _reads(node, sheet: str) -> set[Key]:
    """Every cell a formula reads, its ranges expanded (the templates' ranges are small)."""
    from openpyxl.utils import get_column_letter

    cells, areas = references(node, sheet)
    out = set(cells)
    for a in areas:
        out |= {(a.sheet, f"{get_column_letter(c)}{r}") for r in range(a.row1, a.row2 + 1)
                for c in range(a.col1, a.col2 + 1)}
    return out


@lru_cache(maxsize=None)
def template(kind: str) -> Template:
    model = template_model(kind)
    formulas = {(s.name, ref): f for s in model.sheets for ref, f in s.formulas().items()}
    constants = {(s.name, ref): c.value for s in model.sheets for ref, c in s.cells.items()
                 if c.value is not None and c.value != COVERED and (s.name, ref) not in formulas}
    field_of = {(s.name, ref): key for s in model.sheets for key, ref in s.fields.items()}
    inputs = {(s.name, r) for s in model.sheets for r in s.inputs()}
    nodes = {key: parse(f) for key, f in formulas.items()}
    precedents = {key: _reads(n, key[0]) for key, n in nodes.items()}
    read = set().union(*precedents.values())
    roles = {k: _role(field_of[k]) for k in sorted(read & inputs)}
    direct_jx = {k for k, f in formulas.items() if "JX_" in f.upper()}
    builtin: dict[Key, bool] = {}

    def pure(k: Key) -> bool:
        if k not in builtin:
            builtin[k] = False  # templates have no cycles; guards recursion anyway
            builtin[k] = k not in direct_jx and all(pure(p) for p in precedents[k] if p in formulas)
        return builtin[k]

    aggregated = set().union(*(_aggregated(n, key[0]) for key, n in nodes.items())) & set(roles)
    ref_args = {key: a for key, n in nodes.items() if (a := _ref_args(n, key[0]))}
    readers: dict[Key, set[Key]] = {}
    for key, ps in precedents.items():
        for p in ps & set(formulas):
            readers.setdefault(p, set()).add(key)
    dependents: dict[Key, set[Key]] = {}
    for key in formulas:
        seen: set[Key] = set()
        todo = [key]
        while todo:
            for r in readers.get(todo.pop(), ()):
                if r not in seen:
                    seen.add(r)
                    todo.append(r)
        dependents[key] = seen
    return Template(kind, model, formulas, compile_sheets(formulas), constants, roles,
                    {k for k in formulas if pure(k)}, direct_jx, aggregated, ref_args, dependents)


# ---------------------------------------------------------------------------
# What officers type, by role. Hypothesis draws from these; the LibreOffice batch uses the same pools.

PROFILES = [*shipped_profiles(), "", "no-such-profile"]
TARGETS = ["≥95%", "≥ 95%", "≤1次", "<1次", "=24期", "24期", "≥100篇", "≤100%", "不少于20个", "95%以上", "3天以内",
           "约50亿元", "50亿元左右", "1.2万条", "≥90%", "显著提升", "不超支", "无重大差错", "按规定时限办结", "优化",
           "≥", "95", 0.95, 24, "≥95%以下", "95斤", "",
           None, "  ", "１００％", "≥1,200人"]
ACTUALS = ["90%", "95%", "100%", "120%", "0次", "2次", "1次", "24期", "20期", "80篇", "150篇", "18个", "5天", "2天",
           "48亿元", "60亿元", "1.1万条", "显著提升", "部分完成", "未完成", "按时办结", "≥99%", "96", 0.9, 1,
           "无", "", None, "９０％", "1,100人"]
GRADES = [None, None, None, "达成年度指标", "部分达成并具有一定效果", "未达成且效果较差", "达成", "部分达成", "未达成",
          "优秀"]
JUNK = ["无", "—", "abc", "TRUE", "#N/A", "0.5.5", " "]
LO_JUNK = [j for j in JUNK if j != "TRUE"]  # LibreOffice reads the text TRUE as 1 (see LO_DIFFERS)
TEXT_NUMBERS = ["1,234.50", "84.52%", "３６２７３.９８", " 12 ", "1e3", "-5", "0"]
LO_TEXT_NUMBERS = [t for t in TEXT_NUMBERS if t != "1e3"]  # KNOWN: jixiao does not read '1e3' as Excel does


def _money_st() -> st.SearchStrategy:
    money = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False).map(float)
    return st.one_of(st.none(), money, st.integers(-100, 10**5), st.just(0))


def _amount_st() -> st.SearchStrategy:
    return st.one_of(_money_st(), st.sampled_from(TEXT_NUMBERS), st.sampled_from(JUNK))


def _weight_st() -> st.SearchStrategy:
    return st.one_of(st.none(), st.sampled_from([10, 5, 2, 20, 0, 2.5, 30]), st.integers(0, 50),
                     st.sampled_from(["10", "十分", ""]))


def _score_st() -> st.SearchStrategy:
    return st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=2).map(float),
                     st.sampled_from([9, 8.5, 0, 100, 101, -1, "9", "九分", ""]))


STRATEGIES: dict[str, st.SearchStrategy] = {
    "profile": st.sampled_from(PROFILES),
    "year": st.sampled_from([2024, 2022, None, "2024年", "二〇二四"]),
    "target": st.sampled_from(TARGETS),
    "actual": st.sampled_from(ACTUALS),
    "weight": _weight_st(),
    "grade": st.sampled_from(GRADES),
    "judged": _score_st(),
    "reason": st.sampled_from([None, None, "", "疫情影响，进度滞后", "超额完成"]),
    "score": _score_st(),
    "amount": _amount_st(),
}


def _rand_value(rng: random.Random, role: str) -> Any:
    """One value for ``role`` from the same pools, without hypothesis (for the LibreOffice batch)."""
    pools = {"profile": PROFILES, "year": [2024, None, "2024年"], "target": TARGETS, "actual": ACTUALS,
             "grade": GRADES, "reason": [None, "", "原因"]}
    if role in pools:
        return rng.choice(pools[role])
    if role == "weight":
        return rng.choice([None, 10, 5, 2, 0, 2.5, rng.randint(0, 50), "10", "十分"])
    if role in ("judged", "score"):
        return rng.choice([None, round(rng.uniform(0, 100), 2), 9, 0, 101, "9", "九分"])
    money = [None, round(rng.uniform(0, 10**6), 2), rng.randint(-100, 10**5), 0]
    return rng.choice(money if role == "money" else money + [rng.choice(LO_TEXT_NUMBERS), rng.choice(LO_JUNK)])


@st.composite
def filled(draw: st.DrawFn, kind: str) -> dict[Key, Any]:
    """Inputs for one template: a random share of the input cells filled, each by its role."""
    t = template(kind)
    keys = list(t.roles)
    share = draw(st.sampled_from([0.2, 0.6, 1.0]))
    out: dict[Key, Any] = {}
    for k in keys:
        if draw(st.floats(0, 1)) <= share:
            # text in cells that SUM/COUNT/AVERAGE/MIN/MAX read hits the KNOWN disagreements, tested below
            out[k] = draw(_money_st() if k in t.aggregated else STRATEGIES[t.roles[k]])
    return out


def random_filled(rng: random.Random, kind: str) -> dict[Key, Any]:
    t = template(kind)
    share = rng.choice([0.3, 0.7, 1.0])
    return {k: _rand_value(rng, "money" if k in t.aggregated else role)
            for k, role in t.roles.items() if rng.random() <= share}


# ---------------------------------------------------------------------------
# Running the calculators


def write(kind: str, values: dict[Key, Any], path: Path) -> Path:
    """The template with ``values`` typed into its input cells (None clears a cell)."""
    t = template(kind)
    wb = build_workbook(t.model)
    for (sheet, ref), v in values.items():
        cell = wb[sheet][ref]
        cell.value = v
        if isinstance(v, str) and v.startswith("="):
            cell.data_type = "s"  # typed as text ('=24期), not a formula
    wb.save(path)
    return path


def compiled_values(kind: str, values: dict[Key, Any]) -> dict[Key, Any]:
    t = template(kind)
    inputs = dict(t.constants)
    for k, v in values.items():
        if v is None:
            inputs.pop(k, None)
        elif isinstance(v, str) and v in ERROR_CODES:
            inputs[k] = CellError(v)  # typed into a cell, '#N/A' is the error value, not text
        else:
            inputs[k] = v
    out = t.compiled.run(inputs)
    return {k: out[k] for k in t.formulas}


def formulas_values(kind: str, path: Path) -> dict[Key, Any]:
    t = template(kind)
    rc = bridge.calculate(path)
    return {k: rc.get(*k) for k in t.formulas}


def same(a: Any, b: Any) -> bool:
    """Numbers within 1e-9 relative, texts equal, errors equal by code."""
    if isinstance(a, CellError) or isinstance(b, CellError):
        return str(a) == str(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def disagreements(ours: dict[Key, Any], theirs: dict[Key, Any], cells) -> list[tuple[Key, Any, Any]]:
    return [(k, ours[k], theirs[k]) for k in sorted(cells) if not same(ours[k], theirs[k])]


# ---------------------------------------------------------------------------
# Compiled evaluator against formulas


# 25 examples per template, one formulas recalculation each (~0.3 s). No shrinking: it would recalculate
# hundreds of times; a failure prints the inputs as drawn. derandomize: CI sees the same examples every run.
@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=25, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_compiled_evaluator_agrees_with_formulas(kind, data):
    values = data.draw(filled(kind), label="inputs")
    with tempfile.TemporaryDirectory(prefix="jixiao-diff-") as tmp:
        path = write(kind, values, Path(tmp) / f"{kind}.xlsx")
        theirs = formulas_values(kind, path)
    ours = compiled_values(kind, values)
    t = template(kind)
    bad = disagreements(ours, theirs, set(t.formulas) - t.tainted(values, ours))
    assert not bad, "\n".join(f"{s}!{r} {template(kind).formulas[(s, r)]}: compiled {a!r}, formulas {b!r}"
                              for (s, r), a, b in bad[:10])


# ---------------------------------------------------------------------------
# Excel's documented semantics where the calculators disagreed. Each case is what Excel gives
# (Microsoft's function reference: "If an argument is an array or reference, only numbers in that
# array or reference are counted/used. Empty cells, logical values, or text in the array or reference
# are ignored."; text typed as a direct argument is converted). The random test above keeps text out
# of the cells these functions read; these cases pin the behaviour down, one calculator at a time.
# LibreOffice is run on the same cells below and agrees with Excel on every one of them.

SEMANTICS_INPUTS = {"A1": 5, "A2": "7", "A3": "abc", "A4": " 12 ", "A5": "1e3", "A6": "TRUE"}
KNOWN = {  # cell: (formula, Excel's value)
    "B1": ("=SUM(A1,A2)", 5.0),
    "B2": ("=SUM(A1,A3)", 5.0),
    "B3": ("=COUNT(A1,A2)", 1.0),
    "B4": ("=COUNT(A1:A3)", 1.0),
    "B5": ("=AVERAGE(A1:A3)", 5.0),
    "B6": ("=AVERAGE(A1,A2)", 5.0),
    "B7": ("=MIN(A1,A2)", 5.0),
    "B8": ("=MAX(A1,A3)", 5.0),
    "B9": ("=SUM(A1:A3)", 5.0),
    "B10": ('=SUM(5,"7")', 12.0),
    "B11": ("=A4*1", 12.0),
    "B12": ("=A5*1", 1000.0),
    "B13": ("=A6*1", CellError("#VALUE!")),  # the text TRUE is not a number in Excel's arithmetic
}
# Where LibreOffice itself differs from Excel: SUM(5,"7") is #VALUE! (its default text-to-number
# conversion refuses text arguments) and the text "TRUE" counts as 1 in arithmetic.
LO_DIFFERS = {"B10": CellError("#VALUE!"), "B13": 1}
_XFAIL = {
    ("formulas", "B3"): "COUNT counts text that looks like a number in a reference; Excel does not",
    ("formulas", "B4"): "COUNT counts text that looks like a number inside a range; Excel does not",
    ("formulas", "B5"): "AVERAGE over a range with text gives #VALUE!; Excel ignores the text",
    ("formulas", "B6"): "AVERAGE with a reference to text gives #VALUE!; Excel ignores the text",
    ("formulas", "B7"): "MIN with a reference to text gives #VALUE!; Excel ignores the text",
    ("compiled", "B12"): "text '1e3' is not read as a number (Excel reads scientific notation: '1e3'*1 = 1000)",
    ("formulas", "B12"): "text '1e3' is not read as a number (Excel reads scientific notation: '1e3'*1 = 1000)",
}


def _known_params():
    for calc in ("compiled", "formulas"):
        for cell in KNOWN:
            reason = _XFAIL.get((calc, cell))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(calc, cell, marks=marks, id=f"{calc}-{KNOWN[cell][0]}")


def _semantics_book(path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "S"
    for ref, v in SEMANTICS_INPUTS.items():
        ws[ref] = v
    for ref, (f, _) in KNOWN.items():
        ws[ref] = f
    wb.save(path)
    return path


@lru_cache(maxsize=None)
def _semantics_results() -> dict[str, dict[str, Any]]:
    compiled = compile_sheets({("S", r): f for r, (f, _) in KNOWN.items()}).run(
        {("S", r): v for r, v in SEMANTICS_INPUTS.items()})
    with tempfile.TemporaryDirectory(prefix="jixiao-diff-") as tmp:
        rc = bridge.calculate(_semantics_book(Path(tmp) / "semantics.xlsx"))
    return {"compiled": {r: compiled[("S", r)] for r in KNOWN}, "formulas": {r: rc.get("S", r) for r in KNOWN}}


@pytest.mark.parametrize("calc, cell", list(_known_params()))
def test_excel_semantics_of_text_in_aggregates(calc, cell):
    assert same(_semantics_results()[calc][cell], KNOWN[cell][1])


# ---------------------------------------------------------------------------
# LibreOffice: one soffice call for the whole batch

LO_FILES_PER_KIND = 15
ERROR_TEXT = re.compile(r"^#(NAME\?|VALUE!|REF!|DIV/0!|NUM!|N/A|NULL!|Err:\d+)$")

_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def libreoffice_recalc(paths: list[Path], outdir: Path) -> dict[Path, Path]:
    """Open every file in one LibreOffice run, recalculate all formulas on load, save as .xlsx into ``outdir``.

    LibreOffice keeps the cached results of an .xlsx unless told otherwise; the private user profile
    sets ``OOXMLRecalcMode`` to 0 (“always recalculate”), so every formula is computed by LibreOffice.
    """
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jixiao-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_RECALC_ALWAYS, encoding="utf-8")
        cmd = [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--convert-to", "xlsx", "--outdir", str(outdir), *map(str, paths)]
        subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True)
    return {p: outdir / p.name for p in paths}


def lo_value(v: Any) -> Any:
    """A value as openpyxl reads it from LibreOffice's file: error texts become CellError, '' stays ''."""
    if isinstance(v, str) and ERROR_TEXT.match(v):
        return CellError(v)
    return "" if v is None else v


def _stale_book(path: Path) -> Path:
    """B1 = A1+1 = 3, saved with the stale cached result 99 (as after editing A1 without recalculating)."""
    import zipfile

    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"], wb.active["B1"] = 2, "=A1+1"
    plain = path.with_suffix(".plain.xlsx")
    wb.save(plain)
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<f>A1\+1</f>(<v>[^<]*</v>|<v/>)?", b"<f>A1+1</f><v>99</v>", data)
            zout.writestr(item, data)
    plain.unlink()
    return path


@pytest.fixture(scope="module")
def libreoffice_batch(tmp_path_factory):
    if not (shutil.which("soffice") or shutil.which("libreoffice")):
        pytest.skip("LibreOffice (soffice) is not installed")
    root = tmp_path_factory.mktemp("lo")
    rng = random.Random(20260127)
    (root / "in").mkdir()
    cases = []
    for kind in KINDS:
        for i in range(LO_FILES_PER_KIND):
            values = random_filled(rng, kind)
            cases.append((kind, values, write(kind, values, root / "in" / f"{kind}-{i}.xlsx")))
    semantics = _semantics_book(root / "in" / "semantics.xlsx")
    stale = _stale_book(root / "in" / "stale.xlsx")
    out = libreoffice_recalc([c[2] for c in cases] + [semantics, stale], root / "out")
    ws = load_workbook(out[semantics], data_only=True)["S"]
    results = [("semantics", None, semantics, {r: lo_value(ws[r].value) for r in KNOWN}),
               ("stale", None, stale, {"B1": load_workbook(out[stale], data_only=True).active["B1"].value})]
    for kind, values, path in cases:
        wb = load_workbook(out[path], data_only=True)
        lo = {k: lo_value(wb[k[0]][k[1]].value) for k in template(kind).formulas}
        results.append((kind, values, path, lo))
    return results


def _no_blank_result(ours: Any) -> Any:
    return "" if ours is None else ours


@pytest.mark.parametrize("kind", KINDS)
def test_libreoffice_agrees_on_builtin_formulas(kind, libreoffice_batch):
    t = template(kind)
    for _, values, path, lo in (r for r in libreoffice_batch if r[0] == kind):
        ours = compiled_values(kind, values)
        bad = disagreements({k: _no_blank_result(v) for k, v in ours.items()}, lo,
                            t.builtin_only - t.tainted(values, ours))
        assert not bad, path.name + "\n" + "\n".join(
            f"{s}!{r} {t.formulas[(s, r)]}: compiled {a!r}, LibreOffice {b!r}" for (s, r), a, b in bad[:10])


@lru_cache(maxsize=None)
def without_jx(kind: str) -> Compiled:
    """The template compiled as a spreadsheet without jixiao's functions sees it: every JX_ call is #NAME?."""
    import dataclasses

    from jixiao.excel import compiler

    unknown = {name: dataclasses.replace(fn, func=lambda *a: CellError("#NAME?"))
               for name, fn in compiler.FUNCTIONS.items()}
    real = compiler.FUNCTIONS
    compiler.FUNCTIONS = unknown  # read at compile time only; restored at once
    try:
        return compile_sheets(template(kind).formulas)
    finally:
        compiler.FUNCTIONS = real


@pytest.mark.parametrize("kind", KINDS)
def test_libreoffice_shows_an_error_for_jx_functions(kind, libreoffice_batch):
    """LibreOffice has no JX_ functions: it must show an error wherever one is reached, never a number
    of its own. Every JX_ cell must equal our calculation with each JX_ call made #NAME? (an IF that
    does not reach its JX_ branch still gives its other branch); any error code counts as an error."""
    t = template(kind)
    errors = 0
    for _, values, path, lo in (r for r in libreoffice_batch if r[0] == kind):
        inputs = {**t.constants, **{k: CellError(v) if v in ERROR_CODES else v
                                    for k, v in values.items() if v is not None}}
        sim = without_jx(kind).run(inputs)
        for k in t.direct_jx - t.tainted(values, sim):
            v, want = lo[k], _no_blank_result(sim[k])
            if isinstance(v, CellError):
                errors += 1
                assert isinstance(want, CellError), f"{path.name} {k}: LibreOffice {v}, expected {want!r}"
            else:
                assert same(want, v), f"{path.name} {k}: LibreOffice {v!r}, expected {want!r}"
    assert errors, "no JX_ cell showed an error in LibreOffice"


def test_libreoffice_recalculates_instead_of_reading_cached_results(libreoffice_batch):
    """Without OOXMLRecalcMode = 0 LibreOffice would show the cached 99 (its default keeps cached results)."""
    [(_, _, _, lo)] = [r for r in libreoffice_batch if r[0] == "stale"]
    assert lo["B1"] == 3


def test_libreoffice_follows_excel_on_text_in_aggregates(libreoffice_batch):
    """The oracle for the KNOWN cases: LibreOffice gives Excel's documented value on each."""
    [(_, _, _, lo)] = [r for r in libreoffice_batch if r[0] == "semantics"]
    wrong = {cell: lo[cell] for cell, (_, want) in KNOWN.items() if not same(lo[cell], LO_DIFFERS.get(cell, want))}
    assert not wrong, {KNOWN[c][0]: v for c, v in wrong.items()}


# ---------------------------------------------------------------------------
# What the KNOWN compiled-evaluator case does to a real template

def _no_vehicle_values() -> dict[Key, Any]:
    """附件1-2: no 公务用车 (the 购置/运行 rows left blank, so 公务用车小计 shows ""), 出国 and 接待 filled."""
    t = template("county-rubric")
    sheet = t.model.sheet("附件1-2 基础数据表")
    field = lambda key: (sheet.name, sheet.fields[key])  # noqa: E731
    return {field("three_public.abroad.prev_budget"): 3, field("three_public.reception.prev_budget"): 2,
            field("three_public.abroad.budget"): 2, field("three_public.reception.budget"): 2,
            field("three_public.abroad.final"): 1.5, field("three_public.reception.final"): 1.22}


@pytest.mark.parametrize("calc", ["compiled", "formulas"])
def test_three_public_totals_without_vehicles(calc):
    """“三公经费”合计 = 公务用车小计 + 出国 + 接待: with no vehicles the 小计 is "" and Excel's SUM skips it."""
    values = _no_vehicle_values()
    if calc == "compiled":
        got = compiled_values("county-rubric", values)
    else:
        with tempfile.TemporaryDirectory(prefix="jixiao-diff-") as tmp:
            got = formulas_values("county-rubric", write("county-rubric", values, Path(tmp) / "r.xlsx"))
    sheet = template("county-rubric").model.sheet("附件1-2 基础数据表")
    budget = got[(sheet.name, sheet.fields["three_public.budget"])]
    prev = got[(sheet.name, sheet.fields["three_public.prev_budget"])]
    assert same(budget, 4.0) and same(prev, 5.0)
    assert same(got[(sheet.name, sheet.fields["rate.three_public_change"])], -0.2)
