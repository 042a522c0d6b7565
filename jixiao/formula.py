"""Excel formulas: parse, compare, and compile to plain Python.

* :func:`parse` reads a formula into a small AST (numbers, strings, references,
  ranges, function calls, operators with Excel's precedence);
* :func:`relative_form` writes it with references relative to its own cell
  (R[1]C[-2]), so the same formula filled down a column compares equal in every
  row, and a shared formula can be expanded by :func:`shift_formula`;
* :func:`compile_sheets` turns the formulas of a workbook into one Python
  function that computes every formula cell from the constant cells, with
  Excel's semantics (blank cells, text coercion, error propagation, lazy IF),
  calling jixiao's functions directly. The ``formulas`` engine stays the
  reference this compiled calculation is tested against on every template cell.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openpyxl.utils import column_index_from_string, get_column_letter

from .errors import CellError, JixiaoError
from .numbers import round_excel, to_decimal
from .values import parse_plain_number


class FormulaError(JixiaoError):
    code = "formula.unsupported"


# ---------------------------------------------------------------------------
# Tokens and AST

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"]|"")*")
  | (?P<err>\#(?:NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|N/A))
  | (?P<ref>(?:(?:'(?:[^']|'')+'|[A-Za-z_\u4e00-\u9fff][\w.\u4e00-\u9fff-]*)!)?
             \$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?(?![\w(]))
  | (?P<func>(?:\[\d+\]!)?(?:_xlfn\.|_xlws\.)?[A-Za-z_][\w.]*(?=\())
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<bool>(?:TRUE|FALSE)(?![\w(]))
  | (?P<name>[A-Za-z_\u4e00-\u9fff][\w.\u4e00-\u9fff]*)
  | (?P<op><>|<=|>=|[-+*/^&=<>%(),:])
""", re.X)


@dataclass(frozen=True)
class Ref:
    sheet: str | None
    col: int
    row: int
    abs_col: bool
    abs_row: bool


@dataclass(frozen=True)
class Node:
    kind: str  # num str bool err ref range func op neg pct empty name
    value: Any = None
    args: tuple = ()


def _parse_cell(text: str, sheet: str | None) -> Ref:
    m = re.fullmatch(r"(\$?)([A-Z]{1,3})(\$?)(\d+)", text)
    if not m:
        raise FormulaError(f"无法识别的单元格引用 {text}")
    return Ref(sheet, column_index_from_string(m.group(2)), int(m.group(4)), bool(m.group(1)), bool(m.group(3)))


def _ref_node(text: str) -> Node:
    sheet = None
    if "!" in text:
        sheet, text = text.rsplit("!", 1)
        sheet = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
    if ":" in text:
        a, b = text.split(":")
        return Node("range", (_parse_cell(a, sheet), _parse_cell(b, sheet)))
    return Node("ref", _parse_cell(text, sheet))


def tokenize(formula: str) -> list[tuple[str, str]]:
    text = formula[1:] if formula.startswith("=") else formula
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise FormulaError(f"公式无法解析：{formula}（第 {pos + 1} 个字符）")
        pos = m.end()
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group()))
    return out


_BINARY = {"=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1, "&": 2, "+": 3, "-": 3, "*": 4, "/": 4, "^": 5}


class _Parser:
    def __init__(self, formula: str):
        self.formula = formula
        self.toks = tokenize(formula)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        t = self.peek()
        if t is None:
            raise FormulaError(f"公式不完整：{self.formula}")
        self.i += 1
        return t

    def expr(self, min_prec: int = 0) -> Node:
        left = self.unary()
        while True:
            t = self.peek()
            if not t or t[0] != "op" or t[1] not in _BINARY or _BINARY[t[1]] < min_prec:
                return left
            op = self.take()[1]
            prec = _BINARY[op]
            right = self.expr(prec + (0 if op == "^" else 1)) if op != "^" else self.expr(prec + 1)
            left = Node("op", op, (left, right))

    def unary(self) -> Node:
        t = self.peek()
        if t and t[0] == "op" and t[1] in "+-":
            self.take()
            inner = self.unary()
            return inner if t[1] == "+" else Node("neg", None, (inner,))
        node = self.primary()
        while self.peek() == ("op", "%"):
            self.take()
            node = Node("pct", None, (node,))
        return node

    def primary(self) -> Node:
        kind, text = self.take()
        if kind == "num":
            return Node("num", float(text))
        if kind == "str":
            return Node("str", text[1:-1].replace('""', '"'))
        if kind == "bool":
            return Node("bool", text == "TRUE")
        if kind == "err":
            return Node("err", text)
        if kind == "ref":
            return _ref_node(text)
        if kind == "name":
            return Node("name", text)
        if kind == "func":
            name = re.sub(r"^\[\d+\]!", "", text).upper().replace("_XLFN.", "").replace("_XLWS.", "")
            self.take()  # (
            args: list[Node] = []
            if self.peek() == ("op", ")"):
                self.take()
                return Node("func", name, ())
            while True:
                t = self.peek()
                if t in (("op", ","), ("op", ")")):
                    args.append(Node("empty"))
                else:
                    args.append(self.expr())
                t = self.take()
                if t == ("op", ")"):
                    return Node("func", name, tuple(args))
                if t != ("op", ","):
                    raise FormulaError(f"函数参数之间缺少逗号：{self.formula}")
        if (kind, text) == ("op", "("):
            node = self.expr()
            if self.take() != ("op", ")"):
                raise FormulaError(f"括号不配对：{self.formula}")
            return node
        raise FormulaError(f"公式无法解析：{self.formula}（“{text}”）")


def parse(formula: str) -> Node:
    p = _Parser(formula)
    node = p.expr()
    if p.peek() is not None:
        raise FormulaError(f"公式无法解析：{formula}（多余的“{p.peek()[1]}”）")
    return node


# ---------------------------------------------------------------------------
# Relative form and shifting


def _ref_text(r: Ref, host_row: int, host_col: int, relative: bool) -> str:
    sheet = "" if r.sheet is None else f"'{r.sheet}'!"
    if relative:
        rr = f"R{r.row}" if r.abs_row else f"R[{r.row - host_row}]"
        cc = f"C{r.col}" if r.abs_col else f"C[{r.col - host_col}]"
        return sheet + rr + cc
    return sheet + ("$" if r.abs_col else "") + get_column_letter(r.col) + ("$" if r.abs_row else "") + str(r.row)


def _write(node: Node, host_row: int, host_col: int, relative: bool) -> str:
    w = lambda n: _write(n, host_row, host_col, relative)  # noqa: E731
    k = node.kind
    if k == "num":
        v = node.value
        return repr(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(v)
    if k == "str":
        return '"' + node.value.replace('"', '""') + '"'
    if k == "bool":
        return "TRUE" if node.value else "FALSE"
    if k in ("err", "name"):
        return node.value
    if k == "ref":
        return _ref_text(node.value, host_row, host_col, relative)
    if k == "range":
        a, b = node.value
        text = _ref_text(a, host_row, host_col, relative) + ":" + _ref_text(Ref(None, b.col, b.row, b.abs_col, b.abs_row),
                                                                            host_row, host_col, relative)
        return text
    if k == "func":
        return f"{node.value}({','.join(w(a) for a in node.args)})"
    if k == "empty":
        return ""
    if k == "neg":
        return f"-{w(node.args[0])}"
    if k == "pct":
        return f"{w(node.args[0])}%"
    return f"({w(node.args[0])}{node.value}{w(node.args[1])})"


def _host(cell: str) -> tuple[int, int]:
    m = re.fullmatch(r"([A-Z]{1,3})(\d+)", cell)
    if not m:
        raise FormulaError(f"无法识别的单元格 {cell}")
    return int(m.group(2)), column_index_from_string(m.group(1))


def relative_form(formula: str, cell: str) -> str:
    """The formula with references relative to ``cell``: equal for a formula filled down a column."""
    row, col = _host(cell)
    return _write(parse(formula), row, col, True)


def _shift_node(node: Node, dr: int, dc: int) -> Node:
    def mv(r: Ref) -> Ref:
        return Ref(r.sheet, r.col + (0 if r.abs_col else dc), r.row + (0 if r.abs_row else dr), r.abs_col, r.abs_row)

    if node.kind == "ref":
        return Node("ref", mv(node.value))
    if node.kind == "range":
        return Node("range", (mv(node.value[0]), mv(node.value[1])))
    if node.args:
        return Node(node.kind, node.value, tuple(_shift_node(a, dr, dc) for a in node.args))
    return node


def shift_formula(formula: str, dr: int, dc: int) -> str:
    """A formula moved by (dr, dc), as Excel expands a shared formula (text without the leading '=')."""
    return _write(_shift_node(parse(formula), dr, dc), 0, 0, False)


def references(node: Node, host_sheet: str) -> list[tuple[str, str]]:
    """Every cell a formula reads, as (sheet, "A1"); ranges expanded."""
    out: list[tuple[str, str]] = []
    if node.kind == "ref":
        r = node.value
        out.append((r.sheet or host_sheet, f"{get_column_letter(r.col)}{r.row}"))
    elif node.kind == "range":
        a, b = node.value
        for row in range(min(a.row, b.row), max(a.row, b.row) + 1):
            for col in range(min(a.col, b.col), max(a.col, b.col) + 1):
                out.append((a.sheet or host_sheet, f"{get_column_letter(col)}{row}"))
    for arg in node.args:
        out.extend(references(arg, host_sheet))
    return out




# ---------------------------------------------------------------------------
# Excel semantics at run time

VALUE, DIV0, NUM = (CellError(c) for c in ("#VALUE!", "#DIV/0!", "#NUM!"))


class _Err(Exception):
    def __init__(self, err: CellError):
        self.err = err


def num(v: Any) -> float:
    """Excel's coercion of a single value to a number (blank → 0, text number → number)."""
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, CellError):
        raise _Err(v)
    if isinstance(v, str):
        if v == "":
            raise _Err(VALUE)
        n = parse_plain_number(v)
        if n is None:
            raise _Err(VALUE)
        return n
    raise _Err(VALUE)


def text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return format(float(to_decimal(v)), "f").rstrip("0").rstrip(".") if abs(v) >= 1e-9 else "0"
    if isinstance(v, CellError):
        raise _Err(v)
    return str(v)


def truth(v: Any) -> bool:
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, CellError):
        raise _Err(v)
    if isinstance(v, str):
        if v.upper() in ("TRUE", "FALSE"):
            return v.upper() == "TRUE"
    raise _Err(VALUE)


def is_blank(v: Any) -> bool:
    """``v=""`` in Excel: true for a blank cell and for empty text; errors propagate."""
    if isinstance(v, CellError):
        raise _Err(v)
    return v is None or v == ""


def _rank(v: Any) -> tuple[int, Any]:
    if isinstance(v, bool):
        return (2, v)
    if isinstance(v, (int, float)):
        return (0, float(v))
    return (1, str(v).upper())


def compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, CellError):
        raise _Err(a)
    if isinstance(b, CellError):
        raise _Err(b)
    if a is None:
        a = "" if isinstance(b, str) else (False if isinstance(b, bool) else 0.0)
    if b is None:
        b = "" if isinstance(a, str) else (False if isinstance(a, bool) else 0.0)
    x, y = _rank(a), _rank(b)
    return {"=": x == y, "<>": x != y, "<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]


def arith(op: str, a: Any, b: Any) -> float:
    x, y = num(a), num(b)
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "/":
        if y == 0:
            raise _Err(DIV0)
        return x / y
    try:
        r = x ** y
    except (OverflowError, ZeroDivisionError):
        raise _Err(NUM) from None
    if isinstance(r, complex) or not math.isfinite(r):
        raise _Err(NUM)
    return r


def _flat(v: Any):
    if isinstance(v, list):
        for row in v:
            yield from row
    else:
        yield v


def _numbers(args: tuple, literal_text: bool = True):
    """Numbers of SUM-like arguments: in ranges only real numbers count; literals are coerced."""
    for a in args:
        if isinstance(a, list):
            for v in _flat(a):
                if isinstance(v, CellError):
                    raise _Err(v)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    yield float(v)
        elif a is not None:
            if isinstance(a, CellError):
                raise _Err(a)
            yield num(a) if literal_text else float(a)


def f_sum(*args: Any) -> float:
    return sum(_numbers(args))


def f_count(*args: Any) -> float:
    n = 0
    for a in args:
        if isinstance(a, list):
            n += sum(1 for v in _flat(a) if isinstance(v, (int, float)) and not isinstance(v, bool))
        elif isinstance(a, (int, float)) and not isinstance(a, bool):
            n += 1
        elif isinstance(a, str) and parse_plain_number(a) is not None:
            n += 1
    return float(n)


def f_min(*args: Any) -> float:
    vals = list(_numbers(args))
    return min(vals) if vals else 0.0


def f_max(*args: Any) -> float:
    vals = list(_numbers(args))
    return max(vals) if vals else 0.0


def f_average(*args: Any) -> float:
    vals = list(_numbers(args))
    if not vals:
        raise _Err(DIV0)
    return sum(vals) / len(vals)


def f_n(v: Any) -> float:
    if isinstance(v, list):
        v = v[0][0]
    if isinstance(v, CellError):
        raise _Err(v)
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    return float(v) if isinstance(v, (int, float)) else 0.0


def f_isnumber(v: Any) -> bool:
    if isinstance(v, list):
        v = v[0][0]
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def f_and(*args: Any) -> bool:
    vals = [truth(v) for a in args for v in _flat(a) if not (isinstance(a, list) and (v is None or isinstance(v, str)))]
    if not vals:
        raise _Err(VALUE)
    return all(vals)


def f_or(*args: Any) -> bool:
    vals = [truth(v) for a in args for v in _flat(a) if not (isinstance(a, list) and (v is None or isinstance(v, str)))]
    if not vals:
        raise _Err(VALUE)
    return any(vals)


def f_abs(v: Any) -> float:
    return abs(num(v))


def f_round(v: Any, d: Any = 0) -> float:
    return round_excel(num(v), int(num(d)))


def f_text(v: Any, fmt: Any) -> str:
    x = num(v)
    f = text(fmt)
    m = re.fullmatch(r"0(?:\.(0+))?(%?)", f)
    if not m:
        raise _Err(VALUE)
    digits = len(m.group(1) or "")
    if m.group(2):
        return f"{round_excel(x * 100, digits):.{digits}f}%"
    return f"{round_excel(x, digits):.{digits}f}"


BUILTINS: dict[str, Callable[..., Any]] = {
    "SUM": f_sum, "COUNT": f_count, "MIN": f_min, "MAX": f_max, "AVERAGE": f_average, "N": f_n,
    "ISNUMBER": f_isnumber, "AND": f_and, "OR": f_or, "ABS": f_abs, "ROUND": f_round, "TEXT": f_text,
}
_RANGE_ARGS = {"SUM", "COUNT", "MIN", "MAX", "AVERAGE", "AND", "OR"}


def udf_call(spec, *args: Any) -> Any:
    """Call a jixiao worksheet function with Excel-like values; errors become #VALUE!."""
    vals = []
    for name, a in zip(spec.params, args):
        if name in spec.ranges:
            rows = a if isinstance(a, list) else [[a]]
            for v in _flat(rows):
                if isinstance(v, CellError):
                    raise _Err(v)
            vals.append(rows)
            continue
        if isinstance(a, list):
            if len(a) != 1 or len(a[0]) != 1:
                raise _Err(VALUE)
            a = a[0][0]
        if isinstance(a, CellError):
            raise _Err(a)
        vals.append(a)
    try:
        out = spec.func(*vals)
    except JixiaoError:
        raise _Err(VALUE) from None
    except (ValueError, TypeError, ArithmeticError):
        raise _Err(VALUE) from None
    if isinstance(out, float) and not math.isfinite(out):
        raise _Err(NUM)
    return out


def _scalar(v: Any) -> Any:
    if isinstance(v, list):
        if len(v) == 1 and len(v[0]) == 1:
            return v[0][0]
        raise _Err(VALUE)
    return v


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
            from jixiao_udfs import SPECS

            spec = SPECS.get(name)
            if spec is None:
                raise FormulaError(f"未知的 jixiao 函数 {name}")
            return f"udf_call({self.const(spec)}, {', '.join(self.gen(a) for a in args)})"
        fn = BUILTINS.get(name)
        if fn is None:
            raise FormulaError(f"快速计算不支持函数 {name}")
        if name in _RANGE_ARGS:
            return f"B[{name!r}]({', '.join(self.gen(a) for a in args)})"
        return f"B[{name!r}]({', '.join(self.scalar(a) for a in args)})"


@dataclass
class Compiled:
    """A compiled calculation: ``run(values)`` fills in every formula cell of ``values``."""

    cells: list[tuple[str, str]]  # formula cells in evaluation order
    run: Callable[[dict], dict]
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
    lines = ["def run(v):", "    g = v.get"]
    for key in order:
        gen = _Gen(key[0], consts)
        expr = gen.gen(nodes[key])
        k = gen.const(key)
        lines += ["    try:", f"        r = S({expr})", f"        v[{k}] = 0.0 if r is None else r",  # a formula that reads a blank cell shows 0
                  "    except Err as e:", f"        v[{k}] = e.err"]
    lines.append("    return v")
    source = "\n".join(lines)
    env = {"K": consts, "S": _scalar, "num": num, "text": text, "truth": truth, "compare": compare, "arith": arith,
           "is_blank": is_blank,
           "B": BUILTINS, "udf_call": udf_call, "Err": _Err}
    exec(compile(source, "<jixiao-compiled>", "exec"), env)
    return Compiled(order, env["run"], source)
