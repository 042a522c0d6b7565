"""Excel formula syntax: tokens, a small AST, relative forms and references.

* :func:`parse` reads a formula into a small AST (numbers, strings, references,
  ranges, array constants ``{1,0.8;0.6,0}``, function calls, operators with Excel's precedence);
* :func:`relative_form` writes it with references relative to its own cell
  (R[1]C[-2]), so the same formula filled down a column compares equal in every
  row, and a shared formula can be expanded by :func:`shift_formula`;
* :func:`references` lists the cells and ranges a formula reads, ranges by their
  bounds (:class:`Area`): a whole column ``D:H`` is one rectangle, never a million cells.

Untrusted formulas are bounded: nesting deeper than :data:`MAX_DEPTH` is refused
with ``formula.too_deep`` instead of exhausting Python's stack.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from ..columns import column_index_from_string, get_column_letter

from ..errors import JixiaoError
from ..rules import error_codes

error_codes({
    "formula.unsupported": "不支持的公式",
    "formula.too_deep": "公式嵌套过深",
    "formula.too_long": "公式过长",
})


class FormulaError(JixiaoError):
    code = "formula.unsupported"

    def located(self, sheet: str, cell: str, file: str | None = None) -> "FormulaError":
        """The error naming the cell whose formula it is about (in its message too, as officers read it)."""
        if self.cell is None:
            self.sheet, self.cell = sheet, cell
            self.message = f"工作表“{sheet}”单元格 {cell}：{self.message}"
        if file and not self.file:
            self.file = file
        self.args = (str(self),)
        return self


def parse_cell(formula: str, sheet: str, cell: str, file: str | None = None) -> "Node":
    """:func:`parse` for the formula of a known cell: an error names the file, sheet and cell."""
    try:
        return parse(formula)
    except FormulaError as e:
        raise e.located(sheet, cell, file) from None


MAX_ROWS = 1_048_576  # Excel's sheet: rows and columns a whole-column or whole-row range spans
MAX_COLS = 16_384
MAX_DEPTH = 100  # nesting of parentheses, functions and operators; Excel itself allows 64 levels of functions
MAX_TREE_DEPTH = 250  # the parsed tree, also for long chains such as =A1+A2+…+A300 built without recursion
MAX_FORMULA_CHARS = 65_536  # Excel stores at most 8192 characters; far longer text is not a formula Excel wrote


# ---------------------------------------------------------------------------
# Tokens and AST

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"]|"")*")
  | (?P<err>\#(?:NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|N/A))
  | (?P<ref>(?:(?:'(?:[^']|'')+'|[A-Za-z_\u4e00-\u9fff][\w.\u4e00-\u9fff-]*)!)?
             (?:\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?(?![\w(])
              |\$?[A-Z]{1,3}:\$?[A-Z]{1,3}(?![\w(])
              |\$?\d+:\$?\d+(?![\w(.])))
  | (?P<func>(?:\[\d+\]!)?(?:_xlfn\.|_xlws\.)?[A-Za-z_][\w.]*(?=\())
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<bool>(?:TRUE|FALSE)(?![\w(]))
  | (?P<name>[A-Za-z_\u4e00-\u9fff][\w.\u4e00-\u9fff]*)
  | (?P<op><>|<=|>=|[-+*/^&=<>%(),:{};])
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
    kind: str  # num str bool err ref range func op neg pct empty name array
    value: Any = None  # array: its number of columns; its elements (num str bool err) are args, row by row
    args: tuple = ()

    @property
    def rows(self) -> list[tuple["Node", ...]]:
        """An array constant's elements, row by row."""
        n = self.value
        return [self.args[i:i + n] for i in range(0, len(self.args), n)]


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
    whole = re.fullmatch(r"(\$?)([A-Z]{1,3}):(\$?)([A-Z]{1,3})", text)
    if whole:  # D:H, every row of the columns: kept as its two corners
        c1, c2 = column_index_from_string(whole.group(2)), column_index_from_string(whole.group(4))
        if max(c1, c2) > MAX_COLS:
            raise FormulaError(f"无法识别的单元格引用 {text}")
        return Node("range", (Ref(sheet, c1, 1, bool(whole.group(1)), True),
                              Ref(sheet, c2, MAX_ROWS, bool(whole.group(3)), True)))
    rows = re.fullmatch(r"(\$?)(\d+):(\$?)(\d+)", text)
    if rows:  # 3:5, every column of the rows
        r1, r2 = int(rows.group(2)), int(rows.group(4))
        if not (1 <= r1 <= MAX_ROWS and 1 <= r2 <= MAX_ROWS):
            raise FormulaError(f"无法识别的单元格引用 {text}")
        return Node("range", (Ref(sheet, 1, r1, True, bool(rows.group(1))),
                              Ref(sheet, MAX_COLS, r2, True, bool(rows.group(3)))))
    if ":" in text:
        a, b = text.split(":")
        return Node("range", (_parse_cell(a, sheet), _parse_cell(b, sheet)))
    return Node("ref", _parse_cell(text, sheet))


def _short(formula: str, n: int = 80) -> str:
    return formula if len(formula) <= n else formula[:n] + "…"


def tokenize(formula: str) -> list[tuple[str, str]]:
    text = formula[1:] if formula.startswith("=") else formula
    if len(text) > MAX_FORMULA_CHARS:
        raise FormulaError(f"公式长达 {len(text)} 个字符，远超 Excel 公式的长度上限，不予计算",
                           code="formula.too_long")
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise FormulaError(f"公式无法解析：{_short(formula)}（第 {pos + 1} 个字符）")
        pos = m.end()
        # every alternative of _TOKEN is a named group, so a match always has a lastgroup
        kind = cast(str, m.lastgroup)
        if kind != "ws":
            out.append((kind, m.group()))
    return out


_BINARY = {"=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1, "&": 2, "+": 3, "-": 3, "*": 4, "/": 4, "^": 5}


class _Parser:
    def __init__(self, formula: str):
        self.formula = formula
        self.toks = tokenize(formula)
        self.i = 0
        self.depth = 0

    def deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError(f"公式嵌套超过 {MAX_DEPTH} 层（括号、函数或运算符），不予计算", code="formula.too_deep")

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        t = self.peek()
        if t is None:
            raise FormulaError(f"公式不完整：{_short(self.formula)}")
        self.i += 1
        return t

    def expr(self, min_prec: int = 0) -> Node:
        self.deeper()
        try:
            return self._expr(min_prec)
        finally:
            self.depth -= 1

    def _expr(self, min_prec: int) -> Node:
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
            self.deeper()
            try:
                inner = self.unary()
            finally:
                self.depth -= 1
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
            name = re.sub(r"^_XLUDF\.(?=JX_)", "", name)  # saved by an Excel that did not know the function
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
                    raise FormulaError(f"函数参数之间缺少逗号：{_short(self.formula)}")
        if (kind, text) == ("op", "{"):
            return self.array()
        if (kind, text) == ("op", "("):
            node = self.expr()
            if self.take() != ("op", ")"):
                raise FormulaError(f"括号不配对：{_short(self.formula)}")
            return node
        raise FormulaError(f"公式无法解析：{_short(self.formula)}（“{text}”）")

    def array(self) -> Node:
        """An array constant after its ``{``: constants separated by ``,`` (columns) and ``;`` (rows), every row
        as long as the first, as Excel requires. Elements are numbers (a leading ``-`` allowed), strings,
        TRUE/FALSE and error literals; references and expressions are not allowed in an array constant."""
        rows: list[list[Node]] = [[]]
        while True:
            kind, text = self.take()
            sign = 1.0
            if (kind, text) in (("op", "-"), ("op", "+")):
                sign = -1.0 if text == "-" else 1.0
                kind, text = self.take()
                if kind != "num":
                    raise FormulaError(f"数组常量中的“{text}”不是数字：{_short(self.formula)}")
            if kind == "num":
                rows[-1].append(Node("num", sign * float(text)))
            elif kind == "str":
                rows[-1].append(Node("str", text[1:-1].replace('""', '"')))
            elif kind == "bool":
                rows[-1].append(Node("bool", text == "TRUE"))
            elif kind == "err":
                rows[-1].append(Node("err", text))
            else:
                raise FormulaError(f"数组常量只能含数字、文字、TRUE/FALSE 与错误值，不能含“{text}”：{_short(self.formula)}")
            kind, text = self.take()
            if (kind, text) == ("op", "}"):
                break
            if (kind, text) == ("op", ";"):
                rows.append([])
            elif (kind, text) != ("op", ","):
                raise FormulaError(f"数组常量的元素之间应为“,”或“;”，而不是“{text}”：{_short(self.formula)}")
        if any(len(r) != len(rows[0]) for r in rows):
            raise FormulaError(f"数组常量各行的元素个数不同：{_short(self.formula)}")
        return Node("array", len(rows[0]), tuple(x for r in rows for x in r))


def tree_depth(node: Node) -> int:
    """Depth of a parsed formula, measured without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((a, d + 1) for a in n.args)
    return deepest


def parse(formula: str) -> Node:
    """The formula's tree; :class:`FormulaError` when it cannot be read or is nested too deep (``formula.too_deep``)."""
    p = _Parser(formula)
    node = p.expr()
    extra = p.peek()
    if extra is not None:
        raise FormulaError(f"公式无法解析：{_short(formula)}（多余的“{extra[1]}”）")
    if tree_depth(node) > MAX_TREE_DEPTH:
        raise FormulaError(f"公式嵌套或连续运算超过 {MAX_TREE_DEPTH} 层，不予计算", code="formula.too_deep")
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
    if k == "array":
        return "{" + ";".join(",".join(w(x) for x in row) for row in node.rows) + "}"
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


_TEXT_FIRST = {"FIND", "FINDB", "SEARCH", "SEARCHB"}  # functions that read their first argument as text


def _number_text(v: float) -> str:
    return repr(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(v)


def _as_text(node: Node) -> Node:
    """A number constant read as text where the function reads text anyway: FIND(0,…) is FIND("0",…)."""
    if node.kind == "num":
        return Node("str", _number_text(node.value))
    if node.kind == "array":
        return Node("array", node.value, tuple(_as_text(x) for x in node.args))
    return node


def _text_constants(node: Node) -> Node:
    """The formula with number constants written as text where only their text counts (the first argument of
    FIND and SEARCH): Gnumeric re-saves ``FIND({"0","1"},x)`` as ``FIND({0,1},x)``, the same formula."""
    if not node.args:
        return node
    args = tuple(_text_constants(a) for a in node.args)
    if node.kind == "func" and node.value in _TEXT_FIRST and args:
        args = (_as_text(args[0]),) + args[1:]
    return Node(node.kind, node.value, args)


def relative_form(formula: str, cell: str) -> str:
    """The formula with references relative to ``cell``: equal for a formula filled down a column, and for
    the same formula as another program writes it (number constants FIND reads as text written as text)."""
    row, col = _host(cell)
    return _write(_text_constants(parse(formula)), row, col, True)


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


@dataclass(frozen=True)
class Area:
    """A rectangle of cells by its bounds: ``D:H`` is five columns of every row, held as four numbers."""

    sheet: str
    row1: int
    col1: int
    row2: int
    col2: int

    @property
    def size(self) -> int:
        return (self.row2 - self.row1 + 1) * (self.col2 - self.col1 + 1)

    def __str__(self) -> str:
        return f"{self.sheet}!{get_column_letter(self.col1)}{self.row1}:{get_column_letter(self.col2)}{self.row2}"


def area_of(node: Node, host_sheet: str) -> Area:
    """The bounds of a range node, whichever corner was written first."""
    a, b = node.value
    return Area(a.sheet or host_sheet, min(a.row, b.row), min(a.col, b.col), max(a.row, b.row), max(a.col, b.col))


def references(node: Node, host_sheet: str) -> tuple[list[tuple[str, str]], list[Area]]:
    """What a formula reads: single cells as (sheet, "A1"), and ranges by their bounds, never expanded."""
    cells: list[tuple[str, str]] = []
    areas: list[Area] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if n.kind == "ref":
            r = n.value
            cells.append((r.sheet or host_sheet, f"{get_column_letter(r.col)}{r.row}"))
        elif n.kind == "range":
            areas.append(area_of(n, host_sheet))
        stack.extend(reversed(n.args))
    return cells, areas
