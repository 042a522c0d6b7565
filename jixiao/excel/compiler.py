"""Compile a workbook's formulas to one plain Python function, with Excel's semantics.

:func:`compile_sheets` turns the formulas of a workbook into a function that
computes every formula cell from the constant cells (blank cells, text
coercion, error propagation, lazy IF), calling jixiao's cell functions
directly. The ``formulas`` engine and LibreOffice are the references this
compiled calculation is tested against on every template cell.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openpyxl.utils import get_column_letter

from ..errors import CellError
from ..functions import FUNCTIONS
from ..rules import error_codes
from .semantics import (
    BUILTINS,
    RANGE_ARGS,
    ExcelErr,
    arith,
    compare,
    is_blank,
    num,
    scalar,
    text,
    truth,
    udf_call,
)
from .syntax import FormulaError, Node, Ref, parse, references

error_codes({
    "formula.cycle": "公式循环引用",
})


# ---------------------------------------------------------------------------
# Code generation


class _Gen:
    def __init__(self, sheet: str, consts: list):
        self.sheet = sheet
        self.consts = consts
        self.n = 0

    def const(self, value: Any) -> str:
        self.consts.append(value)
        return f"K[{len(self.consts) - 1}]"

    def key(self, r: Ref) -> str:
        return self.const((r.sheet or self.sheet, f"{get_column_letter(r.col)}{r.row}"))

    def gen(self, node: Node) -> str:
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
            a, b = node.value
            sheet = a.sheet or self.sheet
            keys = [[(sheet, f"{get_column_letter(c)}{r}") for c in range(min(a.col, b.col), max(a.col, b.col) + 1)]
                    for r in range(min(a.row, b.row), max(a.row, b.row) + 1)]
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
            return self.func(node)
        raise FormulaError(f"不支持的公式结构 {k}")

    def scalar(self, node: Node) -> str:
        """Code for a single value: references and literals need no range check."""
        code = self.gen(node)
        return code if node.kind in ("ref", "num", "str", "bool", "empty") else f"S({code})"

    def func(self, node: Node) -> str:
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
        if name in RANGE_ARGS:
            return f"B[{name!r}]({', '.join(self.gen(a) for a in args)})"
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
    """Formula cells in dependency order; a circular reference raises FormulaError naming a cell in it."""
    deps = {key: [r for r in references(n, key[0]) if r in nodes] for key, n in nodes.items()}
    order: list[tuple[str, str]] = []
    state: dict[tuple[str, str], int] = {}
    for start in nodes:
        if state.get(start):
            continue
        stack = [(start, iter(deps[start]))]
        state[start] = 1
        while stack:
            key, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                state[key] = 2
                order.append(key)
            elif state.get(nxt) == 1:
                err = FormulaError(f"公式循环引用：{nxt[0]}!{nxt[1]}", code="formula.cycle")
                err.sheet, err.cell = nxt
                raise err
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(deps[nxt])))
    return order


def compile_sheets(formulas: dict[tuple[str, str], str]) -> Compiled:
    """Compile formulas {(sheet, "A1"): "=…"} into one function over a values dict.

    Cells are evaluated in dependency order; a cycle raises :class:`FormulaError`.
    Each cell's error stays in that cell (as :class:`CellError`) and propagates like Excel's.
    """
    nodes = {key: parse(f) for key, f in formulas.items()}
    order = evaluation_order(nodes)
    consts: list = []
    lines = ["def run(v, pinned=()):", "    g = v.get"]
    for key in order:
        gen = _Gen(key[0], consts)
        expr = gen.gen(nodes[key])
        k = gen.const(key)
        lines += [f"    if {k} not in pinned:",
                  "        try:", f"            r = S({expr})",
                  f"            v[{k}] = 0.0 if r is None else r",  # a formula that reads a blank cell shows 0
                  "        except Err as e:", f"            v[{k}] = e.err"]
    lines.append("    return v")
    source = "\n".join(lines)
    env = {"K": consts, "S": scalar, "num": num, "text": text, "truth": truth, "compare": compare, "arith": arith,
           "is_blank": is_blank,
           "B": BUILTINS, "udf_call": udf_call, "Err": ExcelErr}
    exec(compile(source, "<jixiao-compiled>", "exec"), env)
    return Compiled(order, env["run"], source)
