"""The ``formulas`` bridge: recompute a workbook without Excel, exactly as Excel would.

* jixiao's cell functions (:data:`jixiao.functions.FUNCTIONS`) are registered in ``formulas``,
  so a template computes the same numbers on the server as in Excel;
* formulas that Excel saved with the add-in loaded, ``[1]!JX_EXEC_SCORE(…)`` plus
  an ``xl/externalLinks/externalLink1.xml`` part pointing at the .xlam, are
  translated to plain ``JX_EXEC_SCORE(…)`` in a private copy (the input file is
  never touched);
* formulas that Excel saved as ``_xludf.JX_…`` (a function it did not know at save
  time, e.g. a workbook edited on a PC without the add-in) are read as ``JX_…`` too;
* known differences between ``formulas`` and Excel are corrected with the one
  Excel-semantics module (:mod:`jixiao.excel.semantics`): ROUND on the 15-digit
  value (ROUND(1.005,2) = 1.01), text that looks like a number in arithmetic
  ("84.52%"*1 = 0.8452), VALUE("1,234.5") = 1234.5, SUM ignoring text inside ranges;
* a formula that calls a function nobody registered is reported before any
  result is trusted, instead of silently becoming #NAME?;
* the workbook is untrusted: before ``formulas`` sees it, jixiao's bounded reader
  (:mod:`jixiao.checking.xlsx`) refuses zip bombs and oversized sheets, formulas
  nested too deep are refused (``formula.too_deep``), circular references are
  named, and ranges are measured by their bounds. ``formulas`` expands every
  range into memory, so a workbook with a huge range (``=SUM(D:H)``) is computed
  by jixiao's compiled calculation, which reads only the cells present, or
  refused (``formula.range_too_large``) when that calculation does not know one
  of its functions.
"""
from __future__ import annotations

import functools
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np

from ..errors import CellError, JixiaoError
from ..functions import FUNCTIONS, CellFunction
from ..rules import error_codes
from . import semantics
from .syntax import Area, FormulaError, Node, parse, references

MAX_RANGE_CELLS = 100_000  # one range handed to formulas (it holds about 0.6 KB per cell of a range)
MAX_TOTAL_RANGE_CELLS = 250_000  # all distinct ranges of one workbook handed to formulas
MAX_COMPILED_CELLS = 50_000  # formula cells for jixiao's compiled calculation (about 10 s and 250 MB)
MAX_ENGINE_CELLS = 20_000  # cells with content handed to formulas (400,000 take a minute and 1.6 GB)
MAX_FORMULA_CELLS = 2_000  # formula cells handed to formulas (official forms have under 200; 5,000 take 20 s, 50,000 minutes)

error_codes({
    "formulas.unknown_function": "未注册的函数",
    "formula.too_many": "公式过多，无法完整重算",
})


NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


# ---------------------------------------------------------------------------
# Registering jixiao's functions and the Excel-compatibility fixes

_installed = False


def _excel_text2num(value: Any) -> Any:
    """Excel's coercion of text to number; dates as formulas does."""
    if isinstance(value, str):
        n = semantics.text_number(value)
        if n is not None:
            return n
    assert _ORIGINAL_TEXT2NUM is not None  # set by install() before this replacement is registered
    return _ORIGINAL_TEXT2NUM(value)


def _excel_float(v: Any) -> float:
    if isinstance(v, (bool, np.bool_)):
        return float(v)
    if isinstance(v, str):
        n = semantics.text_number(v)
        if n is None:
            raise ValueError(v)  # becomes #VALUE!, as in Excel
        return n
    return float(v)


def _round_excel_fn(mode: str):
    def fn(x: float, digits: float) -> float:
        return semantics.round_to(x, int(digits), mode)
    return fn


def _plain_arg(a: Any) -> Any:
    """A ``formulas`` argument as plain values: rows of values for a range, one value otherwise."""
    from formulas.ranges import Ranges

    v = a.value if isinstance(a, Ranges) else a
    if isinstance(v, np.ndarray):
        if v.size == 1 and not isinstance(a, Ranges):
            return _plain_scalar(v.ravel()[0])
        return [[_plain_scalar(x) for x in row] for row in np.atleast_2d(v)]
    return _plain_scalar(v)


def _plain_scalar(v: Any) -> Any:
    """One ``formulas`` value as Python: blank → None, an Excel error → CellError, numpy → Python."""
    import schedula as sh
    from formulas.tokens.operand import XlError

    if v is sh.EMPTY:
        return None
    if isinstance(v, XlError):
        return CellError(str(v))
    if isinstance(v, np.generic):
        return v.item()
    return v


def _as_formulas(v: Any) -> Any:
    from formulas.functions import Error

    return Error.errors[v.code] if isinstance(v, CellError) else v


def _sum_excel(*args: Any) -> Any:
    """SUM through :func:`jixiao.excel.semantics.f_sum`: numbers in ranges count, text in ranges does not."""
    try:
        return semantics.f_sum(*(_plain_arg(a) for a in args))
    except semantics.ExcelErr as e:
        return _as_formulas(e.err)


def _function_adapter(fn: CellFunction) -> Any:
    """A jixiao cell function as ``formulas`` calls it, through :func:`semantics.call_cell_function`."""

    def call(*args: Any) -> Any:
        return _as_formulas(semantics.call_cell_function(fn, [_plain_arg(a) for a in args]))

    call.__name__ = fn.name
    return call


_ORIGINAL_TEXT2NUM: Callable[[Any], Any] | None = None


def _quiet_progress() -> None:
    """formulas draws a tqdm bar while it compiles a workbook; jixiao reports progress itself."""
    import formulas.excel as fx
    import tqdm as real_tqdm

    quiet = functools.partial(real_tqdm.tqdm, disable=True)
    fx.tqdm = type("QuietTqdm", (), {"tqdm": staticmethod(quiet)})


def install() -> dict[str, Any]:
    """Register jixiao's UDFs and the Excel fixes in ``formulas`` (once per process); return its function table."""
    global _installed, _ORIGINAL_TEXT2NUM
    import formulas.functions as ff
    from formulas.functions import operators, wrap_func, wrap_ufunc

    functions = ff.get_functions()
    if _installed:
        return functions
    _quiet_progress()
    _ORIGINAL_TEXT2NUM = ff._text2num
    ff._text2num = _excel_text2num
    ff._text2num_vectorize.cache_clear()
    arith = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
             "/": lambda x, y: (x / y) if y else ff.Error.errors["#DIV/0!"], "^": lambda x, y: x ** y,
             "U-": lambda x: -x, "%": lambda x: x / 100.0}
    for op, f in arith.items():
        operators.OPERATORS[op] = wrap_ufunc(f, input_parser=lambda *a: map(_excel_float, a))
    functions["ROUND"] = wrap_ufunc(_round_excel_fn("half_up"), input_parser=lambda *a: map(_excel_float, a))
    functions["ROUNDUP"] = wrap_ufunc(_round_excel_fn("away"), input_parser=lambda *a: map(_excel_float, a))
    functions["ROUNDDOWN"] = wrap_ufunc(_round_excel_fn("toward"), input_parser=lambda *a: map(_excel_float, a))
    functions["VALUE"] = wrap_ufunc(lambda v: _excel_float(v) if isinstance(v, str) else float(v),
                                    input_parser=lambda *a: a)
    functions["SUM"] = wrap_func(_sum_excel, ranges=True)
    for name, fn in FUNCTIONS.items():
        functions[name] = wrap_func(_function_adapter(fn), ranges=True)
    _installed = True
    return functions


# ---------------------------------------------------------------------------
# Formula text: functions used, add-in references


_STRING = re.compile(r'"(?:[^"]|"")*"')
_CALL = re.compile(r"(?<![A-Za-z0-9_.\]!])((?:_xlfn\.|_xlws\.)?[A-Za-z][A-Za-z0-9_.]*)\s*\(")
_ADDIN_CALL = re.compile(r"\[(\d+)\]!(?=[A-Za-z_][A-Za-z0-9_.]*\s*\()")
_XLUDF = re.compile(r"(?<![A-Za-z0-9_.\]!])_xludf\.(?=JX_)", re.I)  # Excel's prefix for a function unknown at save


def functions_in(formula: str) -> set[str]:
    """Names of the functions a formula calls (string literals ignored), upper-case."""
    text = _STRING.sub('""', formula)
    text = _XLUDF.sub("", _ADDIN_CALL.sub("", text))
    return {m.group(1).upper() for m in _CALL.finditer(text)}


def unknown_functions(formulas_text: Iterable[str]) -> set[str]:
    """Functions that ``formulas`` (with jixiao's registered) would answer with #NAME?."""
    table = install()
    known = set(table.keys())
    return {name for f in formulas_text for name in functions_in(f)
            if name not in known and name.replace("_XLFN.", "") not in known}


@dataclass
class AddinLinks:
    """External links of a workbook that point at jixiao's add-in, by their [n] index."""

    indices: set[int] = field(default_factory=set)
    others: dict[int, str] = field(default_factory=dict)  # index → target of links to anything else


def _rels(z: zipfile.ZipFile, part: str) -> dict[str | None, tuple[str, str]]:
    p = PurePosixPath(part)
    rels_name = str(p.parent / "_rels" / (p.name + ".rels"))
    if rels_name not in z.namelist():
        return {}
    root = ET.fromstring(z.read(rels_name))
    return {r.get("Id"): (r.get("Type", ""), r.get("Target", "")) for r in root.findall(f"{{{NS_PKG}}}Relationship")}


def addin_links(path: str | Path) -> AddinLinks:
    """Which ``[n]`` external references of the workbook name jixiao's add-in (read from the file, never followed)."""
    from ..checking.links import is_addin
    from ..checking.xlsx import read_book

    out = AddinLinks()
    for i, link in read_book(path, label=str(path)).links.items():
        if is_addin(link):
            out.indices.add(i)
        else:
            out.others[i] = link.target
    return out


def _has_xludf(path: Path) -> bool:
    with zipfile.ZipFile(path) as z:
        return any(_XLUDF.search(z.read(n).decode("utf-8", "replace")) for n in z.namelist()
                   if n.startswith("xl/worksheets/") and n.endswith(".xml"))


_NSP = r"(?:[A-Za-z_][\w.-]*:)?"
_EXT_REFS = re.compile(rf"<{_NSP}externalReferences\b[^>]*?(?:/>|>.*?</{_NSP}externalReferences>)", re.S)
_DEFINED = re.compile(rf"<{_NSP}definedName\b[^>]*>(.*?)</{_NSP}definedName>", re.S)
_CELL = re.compile(rf"<{_NSP}c\b([^>]*?)(?<!/)>(.*?)</{_NSP}c>", re.S)
_CELL_F = re.compile(rf"<{_NSP}f\b[^>]*?(?:/>|>.*?</{_NSP}f>)", re.S)
_CELL_R = re.compile(r'\br="([A-Z]{1,3}\d+)"')
_LINK_REL = re.compile(r'<Relationship\b[^>]*Type="[^"]*/externalLink"[^>]*/>')


def _without_formulas(xml: str, refs: set[str]) -> str:
    """A worksheet part whose cells ``refs`` keep their cached values and lose their formulas."""
    def cell(m: re.Match) -> str:
        r = _CELL_R.search(m.group(1))
        if r is None or r.group(1) not in refs:
            return m.group(0)
        return m.group(0).replace(m.group(2), _CELL_F.sub("", m.group(2)), 1)

    return _CELL.sub(cell, xml)


def _unlinked_workbook(text: str, links: dict) -> str:
    """workbook.xml without its external references and without defined names that read another workbook."""
    from ..checking.links import external_books
    from ..checking.xlsx import _unescape

    text = _EXT_REFS.sub("", text)
    return _DEFINED.sub(lambda m: "" if external_books("=" + _unescape(m.group(1)), links) else m.group(0), text)


def translate_addin_refs(path: str | Path, workdir: str | Path, book: Any = None) -> tuple[Path, int]:
    """A private copy of the workbook for ``formulas``: ``[n]!JX_…`` and ``_xludf.JX_…`` calls read ``JX_…``, and
    nothing in it points at another workbook.

    Formulas that read another workbook keep their cached values and lose their formulas (``book``, the workbook as
    :func:`jixiao.checking.xlsx.read_book` read it, says which: read here when not given); external link parts,
    their relationships and defined names that point outside are left out. Returns the copy's path (same file
    name, inside ``workdir``) and how many formulas were rewritten.
    """
    from ..checking.links import external_cells, is_addin
    from ..checking.xlsx import read_book

    src = Path(path)
    dst = Path(workdir) / src.name
    book = book if book is not None else read_book(src, label=str(src))
    addin = {i for i, link in book.links.items() if is_addin(link)}
    sealed: dict[str, set[str]] = {}
    for sheet, ref in external_cells(book):
        sealed.setdefault(book.sheets[sheet].part, set()).add(ref)
    if not book.links and not sealed and not _has_xludf(src):
        shutil.copyfile(src, dst)
        return dst, 0
    alternatives = [_XLUDF.pattern]
    if addin:
        alternatives.insert(0, r"\[(?:" + "|".join(str(i) for i in sorted(addin)) + r")\]!(?=JX_)")
    pattern = re.compile("|".join(alternatives), re.I)
    count = 0
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        wb_rels = _rels(zin, "xl/workbook.xml")
        drop_parts: set[str] = set()
        for typ, target in wb_rels.values():
            if typ.endswith("/externalLink"):
                part = str(PurePosixPath("xl") / target) if not target.startswith("/") else target.lstrip("/")
                drop_parts |= {part, str(PurePosixPath(part).parent / "_rels" / (PurePosixPath(part).name + ".rels"))}
        for item in zin.infolist():
            name = item.filename
            if name in drop_parts or name.startswith("xl/externalLinks/"):
                continue
            data = zin.read(name)
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                text = data.decode("utf-8")
                if name in sealed:
                    text = _without_formulas(text, sealed[name])
                text, n = pattern.subn("", text)
                count += n
                data = text.encode("utf-8")
            elif name == "xl/workbook.xml":
                data = _unlinked_workbook(pattern.sub("", data.decode("utf-8")), book.links).encode("utf-8")
            elif name == "xl/_rels/workbook.xml.rels":
                data = _LINK_REL.sub("", data.decode("utf-8")).encode("utf-8")
            elif name == "[Content_Types].xml":
                data = re.sub(r'<Override [^>]*PartName="/xl/externalLinks/[^"]*"[^>]*/>', "",
                              data.decode("utf-8")).encode("utf-8")
            zout.writestr(item, data)
    return dst, count


@functools.cache
def _one_book_model_class() -> type:
    """A ``formulas`` model that loads exactly one workbook: a reference to any other book is never followed.

    ``formulas`` loads every workbook a formula names (``[1]Sheet1!A1`` through the link's target, or a path written
    in the formula); this model refuses any book but the first, and the reference computes ``#REF!``.
    """
    import formulas

    class OneBookModel(formulas.ExcelModel):
        def add_book(self, book=None, context=None, data_only=False):  # noqa: ANN001, ANN202 - formulas' API
            if self.books and (not isinstance(book, str) or _book_key(book) not in self.books):
                raise OSError("jixiao never opens another workbook")
            return super().add_book(book, context, data_only)

    return OneBookModel


def _book_key(book: str) -> str:
    from formulas.excel import _encode_path

    return _encode_path(book).upper()


# ---------------------------------------------------------------------------
# Recalculation


@dataclass
class Recalc:
    """Computed values of one workbook: ``values[(sheet, "A1")]``."""

    path: Path
    values: dict[tuple[str, str], Any]
    translated: int  # formulas rewritten from [n]!JX_… to JX_…
    engine: str = "formulas"  # or "compiled": jixiao's own calculation, for ranges too large for formulas
    note: str = ""  # why the compiled calculation was used (Chinese)
    formulas: set[tuple[str, str]] = field(default_factory=set)  # the formula cells, keyed as ``values``
    problems: list[JixiaoError] = field(default_factory=list)  # e.g. a circular reference (formula.cycle)
    notes: list[Any] = field(default_factory=list)  # findings that do not stop it: formula.external_link

    def get(self, sheet: str, cell: str) -> Any:
        return self.values.get((sheet.upper(), cell.upper()))


_KEY = re.compile(r"^'?\[(?P<book>[^\]]+)\](?P<sheet>.+?)'?!(?P<cell>[A-Z]+\d+)$")


def _plain(v: Any) -> Any:
    """A computed cell's value as Python (its first element for an array)."""
    if isinstance(v, np.ndarray):
        v = v.ravel()[0] if v.size else None
    return _plain_scalar(v)


def workbook_formulas(path: str | Path) -> dict[tuple[str, str], str]:
    """Every formula of a workbook, by (sheet, cell), as stored in the file."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    out = {}
    try:
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    # a formula by its type: text that starts with "=" ('=24期 typed in Excel) is text
                    if getattr(c, "data_type", None) == "f" and isinstance(c.value, str):
                        out[(ws.title, c.coordinate)] = c.value
    finally:
        wb.close()
    return out


def _inspect(book: Any, label: str) -> tuple[dict[tuple[str, str], Node], list[JixiaoError], list[Area]]:
    """Parse a workbook's formulas with jixiao's bounded parser.

    Returns the parsed formulas, the problems that do not stop a calculation (a circular reference),
    and the ranges too large for ``formulas``. Raises for a formula nested too deep or too long.
    """
    nodes: dict[tuple[str, str], Node] = {}
    for s in book.sheets.values():
        for ref, f in s.formulas.items():
            try:
                nodes[(s.name, ref)] = parse(_ADDIN_CALL.sub("", f))
            except FormulaError as e:
                if e.code in ("formula.too_deep", "formula.too_long"):
                    raise JixiaoError(e.message, code=e.code, file=label, sheet=s.name, cell=ref) from None
                # syntax jixiao does not read (names, arrays …): formulas judges it
    problems: list[JixiaoError] = []
    from .compiler import evaluation_order

    try:
        evaluation_order(nodes)
    except FormulaError as e:
        if e.code != "formula.cycle":
            raise JixiaoError(e.message, code=e.code, file=label) from None
        problems.append(JixiaoError(e.message + "，这些单元格无法计算", code="formula.cycle", file=label,
                                    sheet=e.sheet, cell=e.cell))
    areas = {a for key, n in nodes.items() for a in references(n, key[0])[1]}
    for name, target in book.names.items():  # a defined name over D:H is expanded by formulas as well
        try:
            node = parse("=" + target)
        except FormulaError:
            continue
        if node.kind == "range" and node.value[0].sheet:
            areas |= set(references(node, node.value[0].sheet)[1])
    total = sum(a.size for a in areas)
    big = sorted((a for a in areas if a.size > MAX_RANGE_CELLS), key=lambda a: -a.size)
    if not big and total > MAX_TOTAL_RANGE_CELLS:
        big = sorted(areas, key=lambda a: -a.size)
    return nodes, problems, big


def _compiled_calculation(book: Any, nodes: dict[tuple[str, str], Node], why: str, code: str, label: str
                          ) -> dict[tuple[str, str], Any]:
    """jixiao's compiled calculation over the values read: ranges by their bounds, any number of cells."""
    from .compiler import compile_sheets

    if len(nodes) > MAX_COMPILED_CELLS:
        raise JixiaoError(f"工作簿有 {len(nodes)} 个公式单元格，远超自评表的规模（上限 {MAX_COMPILED_CELLS}），拒绝重算",
                          code="formula.too_many", file=label)
    if len(nodes) < sum(len(s.formulas) for s in book.sheets.values()):
        raise JixiaoError(f"{why}，完整重算会耗尽时间或内存；而其中有 jixiao 的快速计算读不懂的公式，拒绝重算",
                          code=code, file=label)
    texts = {key: "=" + _ADDIN_CALL.sub("", book.sheets[key[0]].formulas[key[1]]).lstrip("=") for key in nodes}
    try:
        calc = compile_sheets(texts)
    except FormulaError as e:
        raise JixiaoError(f"{why}，完整重算会耗尽时间或内存；而 jixiao 的快速计算不支持此工作簿的公式"
                          f"（{e.message}），拒绝重算", code=code, file=label) from None
    values = {(s.name, ref): v for s in book.sheets.values() for ref, v in s.values.items()
              if ref not in s.formulas}
    return calc.run(values)


def calculate(path: str | Path, *, allow_unknown: bool = False) -> Recalc:
    """Recompute every formula of a workbook with ``formulas`` and jixiao's functions.

    Raises :class:`JixiaoError` (``formulas.unknown_function``) when a formula calls a function
    that is registered nowhere, unless ``allow_unknown``; the bounded reader's errors
    (``workbook.too_large`` …) and ``formula.too_deep`` / ``formula.range_too_large`` likewise.
    A circular reference does not stop the calculation: it is in ``problems``.
    """
    from ..checking.links import findings as link_findings
    from ..checking.links import sealed
    from ..checking.xlsx import read_book

    install()
    src = Path(path)
    raw_book = read_book(src, label=str(src))
    notes = link_findings(raw_book)
    book = sealed(raw_book)  # a formula reading another workbook keeps its cached value: never followed
    nodes, problems, big = _inspect(book, str(src))
    missing = unknown_functions(f for s in book.sheets.values() for f in s.formulas.values())
    if missing and not allow_unknown:
        raise JixiaoError(f"公式使用了未注册的函数：{'、'.join(sorted(missing))}，计算结果不可信",
                          code="formulas.unknown_function", file=str(src))
    many = sum(len(s.formulas) for s in book.sheets.values())
    cells = sum(len(s.values) for s in book.sheets.values())
    formula_keys = {(s.name.upper(), ref) for s in raw_book.sheets.values() for ref in s.formulas}
    if big or many > MAX_FORMULA_CELLS or cells > MAX_ENGINE_CELLS:
        if big:
            a = big[0]
            why, code = f"公式引用的区域 {a} 有 {a.size} 个单元格", "formula.range_too_large"
        elif many > MAX_FORMULA_CELLS:
            why, code = f"工作簿有 {many} 个公式单元格，远超自评表的规模", "formula.too_many"
        else:
            why, code = f"工作簿有 {cells} 个非空单元格，远超自评表的规模", "formula.too_many"
        if problems:  # a circular reference: the compiled calculation cannot order the cells
            raise JixiaoError(f"{why}，且有循环引用，拒绝重算", code=code, file=str(src))
        computed = _compiled_calculation(book, nodes, why, code, str(src))
        values = {(sheet.upper(), ref): v for (sheet, ref), v in computed.items()}
        return Recalc(src, values, 0, engine="compiled", note=why, formulas=formula_keys, problems=problems,
                      notes=notes)
    with tempfile.TemporaryDirectory(prefix="jixiao-calc-") as tmp:
        copy, translated = translate_addin_refs(src, tmp, raw_book)
        model = _one_book_model_class()().loads(str(copy)).finish()
        solution = model.calculate()
    values = {}
    for key, val in solution.items():
        m = _KEY.match(key)
        if m:
            values[(m["sheet"].upper(), m["cell"])] = _plain(val.value if hasattr(val, "value") else val)
    return Recalc(src, values, translated, formulas=formula_keys, problems=problems, notes=notes)
