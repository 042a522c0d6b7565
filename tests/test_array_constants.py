"""Array constants ({"0","1",…}, {1,0.8,0.6}, {1,2;3,4}): read by the parser, evaluated by the compiled
calculation as Excel evaluates them in an ordinary formula, and judged cell by cell against the ``formulas``
engine and LibreOffice on the same workbook (the idioms older native templates and other tools write)."""
from __future__ import annotations

import shutil
from functools import lru_cache
from pathlib import Path

import pytest
from native_support import recalc_in_libreoffice, sheet_values
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from jixiao.errors import CellError
from jixiao.excel import bridge
from jixiao.excel.compiler import compile_sheets
from jixiao.excel.syntax import FormulaError, parse, relative_form, shift_formula

# ---------------------------------------------------------------------------
# Syntax


def test_array_constants_parse_row_by_row():
    node = parse('=INDEX({1,-0.8,"a,b";TRUE,#N/A,""},2,1)')
    array = node.args[0]
    assert array.kind == "array" and array.value == 3
    assert [[(x.kind, x.value) for x in row] for row in array.rows] == [
        [("num", 1.0), ("num", -0.8), ("str", "a,b")], [("bool", True), ("err", "#N/A"), ("str", "")]]


def test_a_shared_formula_with_an_array_moves_its_references_only():
    assert shift_formula('COUNT(FIND({"0","1"},A1&""))+INDEX({1,0.8;0.6,0},B1)', 2, 1) == \
        '(COUNT(FIND({"0","1"},(B3&"")))+INDEX({1,0.8;0.6,0},C3))'


@pytest.mark.parametrize("formula", ["={1,2;3}", "={A1,2}", "={1+2}", "={1,", '={-"a"}', "={}", "=SUM(1;2)", "=1}"])
def test_malformed_arrays_are_refused_with_a_reason(formula):
    with pytest.raises(FormulaError) as e:
        parse(formula)
    assert e.value.code == "formula.unsupported"


def test_gnumerics_numbers_in_find_are_the_same_formula():
    """Gnumeric re-saves FIND({"0",…},x) as FIND({0,…},x): FIND reads its first argument as text anyway."""
    ours = '=MIN(FIND({"0","1","2"},A20&"012"))+COUNT(FIND("5",A20))'
    gnumeric = '=MIN(FIND({0,1,2},A20&"012"))+COUNT(FIND(5,A20))'
    assert relative_form(gnumeric, "B20") == relative_form(ours, "B20")
    # elsewhere a number is not its text: SUM({1,2}) is not SUM({"1","2"}), INDEX's positions are numbers
    assert relative_form("=SUM({1,2})", "B1") != relative_form('=SUM({"1","2"})', "B1")
    assert relative_form("=INDEX({1,0.8},2)", "B1") != relative_form('=INDEX({"1","0.8"},2)', "B1")


# ---------------------------------------------------------------------------
# Evaluation: the same grid in three calculators

INPUTS = ["≥95%", "93%", "75篇", "显著提升", None, "1,000", "abc0", "基本完成", "未完成，延期", "Ａ级", 12, "0.5"]
FORMULAS = [  # {x} is the row's input cell
    '=MIN(FIND({"0","1","2","3","4","5","6","7","8","9"},{x}&"0123456789"))',
    '=MIN(FIND({0,1,2,3,4,5,6,7,8,9},{x}&"0123456789"))',  # as Gnumeric re-saves it
    '=COUNT(FIND({"0","1","2","3","4","5","6","7","8","9"},{x}))',
    '=COUNT(FIND({"0,0","1,0","0,1"},{x}&""))>0',
    '=SUMPRODUCT(--ISNUMBER(FIND({"%","篇","级"},{x})))',
    '=IF(COUNT(FIND({"基本完成","部分完成"},{x}))>0,2,IF(COUNT(FIND({"未完成","延期"},{x}))>0,3,1))',
    '=INDEX({1,0.8,0.6},MIN(3,LEN({x})+1))',
    '=INDEX({0.8,0.6,0},2)*10',
    "=INDEX({1;2;3},3)",
    "=INDEX({1,2,3;4,5,6},2,1)",
    "=INDEX({1,0.8,0.6},4)",
    '=ISNUMBER(FIND({"9","5"},{x}))',
    '=NOT(ISNUMBER(FIND("%",{x})))',
    "=SUM({1,2;3,4}*{10,20})",
    "=SUM({1,2;3,4}*{10;20})",
    "=MAX(-{1,2,3})",
    "=SUMPRODUCT({1,2,3},{4,5,6})",
    "=SUMPRODUCT(({1,2,3}>1)*{4,5,6})",
    "=SUMPRODUCT({1,2},{1,2,3})",
    "=AND({TRUE,FALSE})",
    "=SUM(IF({1,0,1},{5,6,7},100))",
    "={10,20,30}",
    '=MIN(FIND({"a","b"},"ab")+{0;10})',
    '=COUNT(FIND({"a","b","c"},{x},2))',
    '=SUM({1,2,3}&"")',
    '=COUNT(FIND({"a","b"},{x}&"a")/0)',
    '=OR(ISNUMBER(FIND({"完成","提升"},{x})))',
    "=SUM({1,-2.5,3})",
    "=COUNT({1,-3,TRUE})",
    "=INDEX({1,-2,3},2)",
    '=COUNTIF($A$1:$A$12,"显著提升")+COUNTIF($A$1:$A$12,"*完成*")*10+COUNTIF($A$1:$A$12,"?级")*100',
    '=COUNTIF($A$1:$A$12,">10")+COUNTIF($A$1:$A$12,"")*10',
    '=COUNTIF($A$1:$A$12,"<>显著提升")',
    '=IF(COUNTIF($A$1:$A$12,"需核对")>0,"需核对",SUM($A$1:$A$12))',
]
OR_OVER_ARRAY = '=OR(ISNUMBER(FIND({"完成","提升"},{x})))'
# Where a reference calculator is known to differ (each checked by hand against Microsoft's documentation):
KNOWN_DIFFERENCES = {
    # formulas gives 0: it does not evaluate ISNUMBER over an array inside SUMPRODUCT element by element
    ("formulas", '=SUMPRODUCT(--ISNUMBER(FIND({"%","篇","级"},{x})))'),
    # formulas gives 4: it skips a negative number of an array constant inside SUM
    ("formulas", "=SUM({1,-2.5,3})"),
    # formulas gives 9: its "<>text" criterion does not count blank cells; Excel's counts every cell not equal
    ("formulas", '=COUNTIF($A$1:$A$12,"<>显著提升")'),
    # formulas gives 12: its ">10" reads the text "1,000" as a number; Excel compares numbers with numbers only
    ("formulas", '=COUNTIF($A$1:$A$12,">10")+COUNTIF($A$1:$A$12,"")*10'),
    # LibreOffice reads only the first element of an array that a function gave OR outside array entry;
    # Excel's OR takes the whole array (OR({FALSE,TRUE}) is TRUE). The native templates do not use it.
    ("libreoffice", OR_OVER_ARRAY),
    # LibreOffice has no logical type: TRUE in an array is the number 1, and COUNT counts it (Excel: 2)
    ("libreoffice", "=COUNT({1,-3,TRUE})"),
    # LibreOffice gives #VALUE! for a position outside the array; Excel gives #REF!
    ("libreoffice", "=INDEX({1,0.8,0.6},4)"),
}


def _grid() -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], object]]:
    formulas, inputs = {}, {}
    for i, value in enumerate(INPUTS, start=1):
        if value is not None:
            inputs[("S", f"A{i}")] = value
        for j, f in enumerate(FORMULAS):
            formulas[("S", f"{get_column_letter(j + 2)}{i}")] = f.replace("{x}", f"A{i}")
    return formulas, inputs


def _which(cell: str) -> str:
    col = "".join(c for c in cell if c.isalpha())
    return FORMULAS[sum((ord(c) - 64) * 26 ** k for k, c in enumerate(reversed(col))) - 2]


def _same(a, b) -> bool:
    a = "" if a is None else a
    b = "" if b is None else b
    if isinstance(a, CellError) or isinstance(b, CellError):
        return str(a) == str(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a))
    return a == b


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    formulas, inputs = _grid()
    wb = Workbook()
    ws = wb.active
    ws.title = "S"
    for (_, ref), value in inputs.items():
        ws[ref] = value
    for (_, ref), f in formulas.items():
        ws[ref] = f
    path = tmp_path_factory.mktemp("arrays") / "arrays.xlsx"
    wb.save(path)
    return path


@lru_cache(maxsize=None)
def compiled() -> dict:
    """The formula cells' values (inputs left out)."""
    formulas, inputs = _grid()
    out = compile_sheets(formulas).run(dict(inputs))
    return {k: out[k] for k in formulas}


def test_the_compiled_calculation_gives_excels_values():
    """Values Excel gives (Microsoft's function reference: an array argument of SUM/COUNT counts its numbers
    only; a function that expects one value is evaluated element by element over an array constant)."""
    v = compiled()
    row = {x: i for i, x in enumerate(INPUTS, start=1)}
    at = lambda formula, x: v[("S", f"{get_column_letter(FORMULAS.index(formula) + 2)}{row[x]}")]  # noqa: E731
    assert at(FORMULAS[0], "≥95%") == 2 and at(FORMULAS[0], "显著提升") == 5  # the first digit's position
    assert at(FORMULAS[2], "93%") == 2 and at(FORMULAS[2], "显著提升") == 0
    assert at(FORMULAS[4], "75篇") == 1
    assert at(FORMULAS[5], "基本完成") == 2 and at(FORMULAS[5], "未完成，延期") == 3 and at(FORMULAS[5], "93%") == 1
    assert at(FORMULAS[7], "93%") == 6 and at("=INDEX({1,0.8,0.6},4)", "93%") == CellError("#REF!")
    assert at("=SUM({1,2;3,4}*{10,20})", 12) == 160 and at("=SUM({1,2;3,4}*{10;20})", 12) == 170
    assert at("={10,20,30}", 12) == 10  # an array left in a cell shows its first element
    assert at("=SUMPRODUCT({1,2},{1,2,3})", 12) == CellError("#VALUE!")
    assert at('=COUNT(FIND({"a","b"},{x}&"a")/0)', "abc0") == 0  # COUNT skips the #DIV/0! elements
    assert at(OR_OVER_ARRAY, "显著提升") is True
    assert at("=SUM({1,-2.5,3})", 12) == 1.5 and at("=COUNT({1,-3,TRUE})", 12) == 2
    assert at("=INDEX({1,-2,3},2)", 12) == -2
    assert at(FORMULAS[-4], 12) == 121 and at(FORMULAS[-3], 12) == 11 and at(FORMULAS[-2], 12) == 11


def test_the_compiled_calculation_agrees_with_formulas_cell_by_cell(book):
    rc = bridge.calculate(book)
    bad = [(ref, _which(ref), ours, rc.get(s, ref)) for (s, ref), ours in compiled().items()
           if ("formulas", _which(ref)) not in KNOWN_DIFFERENCES and not _same(ours, rc.get(s, ref))]
    assert not bad, bad[:10]
    for calc, formula in KNOWN_DIFFERENCES:  # each known difference is real (else it should leave the list)
        if calc == "formulas":
            assert any(not _same(ours, rc.get(s, ref)) for (s, ref), ours in compiled().items() if _which(ref) == formula)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_the_compiled_calculation_agrees_with_libreoffice_cell_by_cell(book, tmp_path):
    lo = sheet_values(recalc_in_libreoffice([book], tmp_path)[book], "S")

    def theirs(ref: str):
        x = lo.get(ref)
        return CellError(x) if isinstance(x, str) and x.startswith("#") else x

    bad = [(ref, _which(ref), ours, theirs(ref)) for (s, ref), ours in compiled().items()
           if ("libreoffice", _which(ref)) not in KNOWN_DIFFERENCES and not _same(ours, theirs(ref))]
    assert not bad, bad[:10]
    for calc, formula in KNOWN_DIFFERENCES:
        if calc == "libreoffice":
            assert any(not _same(ours, theirs(ref)) for (s, ref), ours in compiled().items() if _which(ref) == formula)


def test_formulas_without_arrays_compile_as_before():
    """The array machinery is decided at compile time: a plain formula's code has no element-wise call."""
    c = compile_sheets({("S", "B1"): "=IF(A1>1,ROUND(A1*2,1),SUM(A1:A3))", ("S", "B2"): '=ISNUMBER(FIND("%",A1))'})
    assert "lift(" not in c.source and "Array(" not in c.source
    assert c.run({("S", "A1"): 2.26})[("S", "B1")] == 4.5


def test_a_formula_that_cannot_be_read_names_its_sheet_and_cell():
    for formula in ("=SUM({1,2;3})", "=NOSUCHFN(1)"):
        with pytest.raises(FormulaError) as e:
            compile_sheets({("自评表", "B2"): "=1", ("自评表", "H20"): formula})
        assert (e.value.sheet, e.value.cell) == ("自评表", "H20")
        assert "工作表“自评表”单元格 H20" in e.value.message
