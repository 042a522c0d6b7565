"""Compile a workbook's formulas to one plain Python function, with Excel's semantics.

:func:`compile_sheets` turns the formulas of a workbook into a function that
computes every formula cell from the constant cells (blank cells, text
coercion, error propagation, lazy IF), calling jixiao's cell functions
directly. The ``formulas`` engine and LibreOffice are the references this
compiled calculation is tested against on every template cell.

Ranges are handled by their bounds: a range depends on the formula cells inside
its rectangle (found through an index of formula cells, not by enumerating the
rectangle), and SUM over ``D:H`` reads only the cells present in the values.

Array constants (``{"0","1",…}``, ``{1,0.8,0.6}``) are evaluated as Excel evaluates
them in an ordinary (not array-entered) formula: a function or operator that
expects one value and is given an array gives the array of its results, element
by element (``FIND({"0","1"},x)``, ``ISNUMBER(…)``, ``--…``); an aggregate (COUNT,
MIN, SUM, SUMPRODUCT …) reads the array like a range; INDEX picks one element;
an array left in a cell shows its first element. Inside SUMPRODUCT a range is an
array too. Which sub-expressions are arrays is decided at compile time, so a
formula without arrays compiles exactly as before.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..columns import column_index_from_string, get_column_letter

from ..errors import CellError
from ..functions import FUNCTIONS
from ..rules import error_codes
from .semantics import (
    ARRAY_ARGS,
    ARRAY_FIRST,
    BUILTINS,
    ERROR_ARGS,
    RANGE_ARGS,
    Array,
    ExcelErr,
    arith,
    as_array,
    lift,
    lifted_if,
    safe,
    compare,
    is_blank,
    num,
    scalar,
    text,
    truth,
    udf_call,
)
from .syntax import Area, FormulaError, Node, Ref, area_of, parse_cell, references

DENSE_CELLS = 10_000  # a range this small is read cell by cell, as a grid; larger ones only where cells exist
CHUNK_CELLS = 500  # formula cells per compiled function
MAX_EDGES = 2_000_000  # dependencies examined while ordering one workbook's formulas
_A1 = re.compile(r"([A-Z]{1,3})(\d+)")


class CellIndex:
    """Where cells are, per sheet and column, to find the ones inside a rectangle without enumerating it."""

    def __init__(self, keys):
        cols: dict[str, dict[int, list[tuple[int, str]]]] = {}
        for key in keys:
            sheet, ref = key
            m = _A1.fullmatch(ref)
            if m:
                cols.setdefault(sheet, {}).setdefault(column_index_from_string(m.group(1)), []).append(
                    (int(m.group(2)), ref))
        self.cols = {sheet: {c: sorted(v) for c, v in by.items()} for sheet, by in cols.items()}
        self.rows = {sheet: {c: [r for r, _ in v] for c, v in by.items()} for sheet, by in self.cols.items()}

    def inside(self, area: Area) -> Iterator[tuple[str, str]]:
        """Keys inside ``area``, column by column, top to bottom."""
        by = self.cols.get(area.sheet)
        if not by:
            return
        rows = self.rows[area.sheet]
        for c in sorted(c for c in by if area.col1 <= c <= area.col2):
            lo, hi = bisect_left(rows[c], area.row1), bisect_right(rows[c], area.row2)
            for _, ref in by[c][lo:hi]:
                yield area.sheet, ref

error_codes({
    "formula.cycle": "公式循环引用",
    "formula.range_too_large": "引用区域过大",
    "formula.too_complex": "公式依赖过多",
})


# ---------------------------------------------------------------------------
# Code generation


class _Gen:
    def __init__(self, sheet: str, consts: list):
        self.sheet = sheet
        self.consts = consts
        self.n = 0
        self.sparse = False

    def const(self, value: Any) -> str:
        self.consts.append(value)
        return f"K[{len(self.consts) - 1}]"

    def key(self, r: Ref) -> str:
        return self.const((r.sheet or self.sheet, f"{get_column_letter(r.col)}{r.row}"))

    def arrayish(self, node: Node, ctx: bool = False) -> bool:
        """Whether a node's value is an array (decided at compile time): an array constant, a function or
        operator that expects single values given an array, and, inside SUMPRODUCT (``ctx``), a range."""
        k = node.kind
        if k == "array":
            return True
        if k == "range":
            return ctx
        if k in ("op", "neg", "pct"):
            return any(self.arrayish(a, ctx) for a in node.args)
        if k == "func":
            name = node.value
            if name in RANGE_ARGS or name in ARRAY_ARGS or name.startswith("JX_"):
                return False
            args = node.args[1:] if name in ARRAY_FIRST else node.args
            return any(self.arrayish(a, ctx) for a in args)
        return False

    def element(self, node: Node, ctx: bool) -> str:
        """Code for an argument of an element-wise call: an array, or one value whose error is kept as a
        value (an error in a single argument becomes an error in every element, not the whole cell's)."""
        if self.arrayish(node, ctx):
            return self.gen_array(node, ctx)
        code = self.scalar(node)
        return code if node.kind in ("ref", "num", "str", "bool", "empty") else f"safe(lambda: {code})"

    def gen_array(self, node: Node, ctx: bool) -> str:
        """Code for a node whose value is an array (:meth:`arrayish`)."""
        k = node.kind
        if k == "array":
            values = [[CellError(x.value) if x.kind == "err" else x.value for x in row] for row in node.rows]
            return f"Array([list(r) for r in {self.const(values)}])"  # a fresh copy: results never alias the constant
        if k == "range":
            return f"as_array({self.gen(node)})"
        el = lambda a: self.element(a, ctx)  # noqa: E731
        if k == "neg":
            return f"lift(lambda x: -num(x), {el(node.args[0])})"
        if k == "pct":
            return f"lift(lambda x: num(x)/100.0, {el(node.args[0])})"
        if k == "op":
            a, b = (el(x) for x in node.args)
            if node.value in ("=", "<>", "<", ">", "<=", ">="):
                return f"lift(lambda x, y: compare({node.value!r}, x, y), {a}, {b})"
            if node.value == "&":
                return f"lift(lambda x, y: text(x) + text(y), {a}, {b})"
            return f"lift(lambda x, y: arith({node.value!r}, x, y), {a}, {b})"
        name, args = node.value, node.args
        if name == "IF":
            if not 2 <= len(args) <= 3:
                raise FormulaError("IF 参数个数不对")
            yes = "0.0" if args[1].kind == "empty" else el(args[1])
            no = el(args[2]) if len(args) > 2 and args[2].kind != "empty" else ("0.0" if len(args) > 2 else "False")
            return f"lifted_if({el(args[0])}, {yes}, {no})"
        fn = BUILTINS.get(name)
        if fn is None:
            raise FormulaError(f"快速计算不支持函数 {name}")
        if name in ARRAY_FIRST:  # INDEX(array, {1,2}): the array stays whole, the positions are lifted
            rest = ", ".join(el(a) for a in args[1:])
            return f"(lambda a0: lift(lambda *p: B[{name!r}](a0, *p), {rest}))({self.gen(args[0], ctx=ctx)})"
        return f"lift(B[{name!r}], {', '.join(el(a) for a in args)})"

    def gen(self, node: Node, sparse: bool = False, ctx: bool = False) -> str:
        """Code for a node; ``sparse``: a large range may be read as the list of its present cells
        (for SUM-like functions, where blanks do not count); ``ctx``: inside SUMPRODUCT, where ranges are arrays."""
        if node.kind != "range" and self.arrayish(node, ctx):
            return self.gen_array(node, ctx)
        k = node.kind
        if k == "num":
            return repr(float(node.value))
        if k == "str":
            return repr(node.value)
        if k == "bool":
            return repr(node.value)
        if k == "err":
            return self.const(CellError(node.value))
        if k == "empty":
            return "None"
        if k == "name":
            raise FormulaError(f"公式使用了名称 {node.value}，快速计算不支持")
        if k == "ref":
            return f"g({self.key(node.value)})"
        if k == "range":
            area = area_of(node, self.sheet)
            if area.size > DENSE_CELLS:
                if not sparse:
                    raise FormulaError(f"区域 {area} 过大（{area.size} 个单元格），只能用在 SUM、COUNT 等汇总函数中",
                                       code="formula.range_too_large")
                self.sparse = True
                return f"[[g(x) for x in X().inside({self.const(area)})]]"
            sheet = area.sheet
            keys = [[(sheet, f"{get_column_letter(c)}{r}") for c in range(area.col1, area.col2 + 1)]
                    for r in range(area.row1, area.row2 + 1)]
            return f"[[g(x) for x in row] for row in {self.const(keys)}]"
        if k == "neg":
            return f"(-num({self.scalar(node.args[0])}))"
        if k == "pct":
            return f"(num({self.scalar(node.args[0])})/100.0)"
        if k == "op":
            if node.value in ("=", "<>") and any(x.kind == "str" and x.value == "" for x in node.args):
                other = node.args[0] if node.args[1].kind == "str" and node.args[1].value == "" else node.args[1]
                test = f"is_blank({self.scalar(other)})"
                return test if node.value == "=" else f"(not {test})"
            a, b = (self.scalar(x) for x in node.args)
            if node.value in ("=", "<>", "<", ">", "<=", ">="):
                return f"compare({node.value!r}, {a}, {b})"
            if node.value == "&":
                return f"(text({a}) + text({b}))"
            return f"arith({node.value!r}, {a}, {b})"
        if k == "func":
            return self.func(node, ctx)
        raise FormulaError(f"不支持的公式结构 {k}")

    def scalar(self, node: Node) -> str:
        """Code for a single value: references and literals need no range check."""
        code = self.gen(node)
        return code if node.kind in ("ref", "num", "str", "bool", "empty") else f"S({code})"

    def func(self, node: Node, ctx: bool = False) -> str:
        name, args = node.value, node.args
        if name == "IF":
            if not 1 <= len(args) <= 3:
                raise FormulaError("IF 参数个数不对")
            c = args[0]
            cond = self.gen(c) if (c.kind == "op" and c.value in ("=", "<>", "<", ">", "<=", ">=")) \
                else f"truth({self.scalar(c)})"
            yes = self.scalar(args[1]) if len(args) > 1 and args[1].kind != "empty" else "0.0"
            no = self.scalar(args[2]) if len(args) > 2 else "False"
            if len(args) > 2 and args[2].kind == "empty":
                no = "0.0"
            return f"({yes} if {cond} else {no})"
        if name.startswith("JX_"):
            spec = FUNCTIONS.get(name)
            if spec is None:
                raise FormulaError(f"未知的 jixiao 函数 {name}")
            return f"udf_call({self.const(spec)}, {', '.join(self.gen(a) for a in args)})"
        fn = BUILTINS.get(name)
        if fn is None:
            raise FormulaError(f"快速计算不支持函数 {name}")
        if name in RANGE_ARGS:  # a single-cell reference is a 1×1 range there: Excel skips its text
            return f"B[{name!r}]({', '.join(f'[[{self.gen(a)}]]' if a.kind == 'ref' else self.gen(a, sparse=True, ctx=ctx) for a in args)})"
        if name in ARRAY_ARGS:  # every argument an array; ranges inside are arrays of their values
            return f"B[{name!r}]({', '.join(self.element(a, True) for a in args)})"
        if name in ARRAY_FIRST and args:  # the array (or range) whole, then single values
            return f"B[{name!r}]({', '.join([self.gen(args[0], ctx=ctx)] + [self.scalar(a) for a in args[1:]])})"
        if name in ERROR_ARGS:  # ISNUMBER(FIND(…)): an error argument is a value there, not the cell's error
            return f"B[{name!r}]({', '.join(self.element(a, ctx) for a in args)})"
        return f"B[{name!r}]({', '.join(self.scalar(a) for a in args)})"


@dataclass
class Compiled:
    """A compiled calculation: ``run(values, pinned)`` fills in every formula cell of ``values``.

    Cells in ``pinned`` keep the value given in ``values`` (a result already known), and
    the cells that depend on them use it.
    """

    cells: list[tuple[str, str]]  # formula cells in evaluation order
    run: Callable[..., dict]
    source: str


def evaluation_order(nodes: dict[tuple[str, str], Node]) -> list[tuple[str, str]]:
    """Formula cells in dependency order; a circular reference raises FormulaError naming a cell in it.

    A range is one node of the graph, depending on the formula cells inside its rectangle (found by
    :class:`CellIndex`), so ``=SUM(D:H)`` costs what the sheet holds, not a million cells. A workbook whose
    dependencies exceed :data:`MAX_EDGES` is refused (``formula.too_complex``).
    """
    index = CellIndex(nodes)
    refs: dict[Any, list] = {}
    budget = [MAX_EDGES]

    def deps(key: Any) -> list:
        if key in refs:
            return refs[key]
        out: list[Any]
        if isinstance(key, Area):
            out = list(index.inside(key))
        else:
            cells, areas = references(nodes[key], key[0])
            out = [c for c in dict.fromkeys(cells) if c in nodes] + list(dict.fromkeys(areas))
        budget[0] -= len(out) + 1
        if budget[0] < 0:
            raise FormulaError(f"公式之间的引用超过 {MAX_EDGES} 处，不予计算", code="formula.too_complex")
        refs[key] = out
        return out

    order: list[tuple[str, str]] = []
    state: dict[Any, int] = {}
    for start in nodes:
        if state.get(start):
            continue
        stack = [(start, iter(deps(start)))]
        state[start] = 1
        while stack:
            key, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                state[key] = 2
                if not isinstance(key, Area):
                    order.append(key)
            elif state.get(nxt) == 1:
                cell = nxt if not isinstance(nxt, Area) else next(k for k, _ in reversed(stack) if not isinstance(k, Area))
                err = FormulaError(f"公式循环引用：{cell[0]}!{cell[1]}", code="formula.cycle")
                err.sheet, err.cell = cell
                raise err
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(deps(nxt))))
    return order


def compile_sheets(formulas: dict[tuple[str, str], str]) -> Compiled:
    """Compile formulas {(sheet, "A1"): "=…"} into one function over a values dict.

    Cells are evaluated in dependency order; a cycle raises :class:`FormulaError`, and so does a formula
    that cannot be read or uses what the compiler does not know, naming its sheet and cell.
    Each cell's error stays in that cell (as :class:`CellError`) and propagates like Excel's.
    """
    nodes = {key: parse_cell(f, *key) for key, f in formulas.items()}
    order = evaluation_order(nodes)
    consts: list = []
    chunks: list[list[str]] = []
    for i, key in enumerate(order):
        if i % CHUNK_CELLS == 0:
            chunks.append(["def part(v, g, X, P):"])
        gen = _Gen(key[0], consts)
        try:
            expr = gen.gen(nodes[key])
        except FormulaError as e:
            raise e.located(*key) from None
        k = gen.const(key)
        chunks[-1] += [f"    if {k} not in P:",  # a pinned cell keeps the value it was given
                       "        try:", f"            r = S({expr})",
                       f"            v[{k}] = 0.0 if r is None else r",  # a formula that reads a blank cell shows 0
                       "        except Err as e:", f"            v[{k}] = e.err"]
    formula_keys = list(order)

    def lazy(values: dict) -> Callable[[], CellIndex]:
        """The index of present cells (constants and formula cells), built on first use by a large range."""
        built: list[CellIndex] = []

        def get() -> CellIndex:
            if not built:
                built.append(CellIndex(dict.fromkeys([*values, *formula_keys])))
            return built[0]
        return get

    env: dict[str, Any] = {"K": consts, "S": scalar, "num": num, "text": text, "truth": truth, "compare": compare,
                           "arith": arith, "is_blank": is_blank, "B": BUILTINS, "udf_call": udf_call, "Err": ExcelErr,
                           "Array": Array, "as_array": as_array, "lift": lift, "lifted_if": lifted_if, "safe": safe}
    parts = []
    for lines in chunks:  # compiled in pieces: one function of 50,000 cells would take Python's compiler gigabytes
        source_part = "\n".join(lines)
        exec(compile(source_part, "<jixiao-compiled>", "exec"), env)
        parts.append(env.pop("part"))

    def run(v: dict, pinned=()) -> dict:
        g, x = v.get, lazy(v)
        for part in parts:
            part(v, g, x, pinned)
        return v

    source = "\n\n".join("\n".join(lines) for lines in chunks)
    return Compiled(order, run, source)
