"""Excel's semantics, written once: how values coerce, how SUM and ROUND behave, how errors travel.

Both calculators use this module: the compiled template calculation
(:mod:`jixiao.excel.compiler`) and the ``formulas`` bridge
(:mod:`jixiao.excel.bridge`), so they cannot drift apart.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from ..errors import CellError, JixiaoError
from ..functions import CellFunction
from ..numbers import round_excel, to_decimal
from ..values import parse_plain_number

# ---------------------------------------------------------------------------
# Excel semantics at run time

VALUE, DIV0, NUM, NA, REF = (CellError(c) for c in ("#VALUE!", "#DIV/0!", "#NUM!", "#N/A", "#REF!"))


class ExcelErr(Exception):
    """An Excel error value (#VALUE! …) on its way out of a calculation."""

    def __init__(self, err: CellError):
        self.err = err


def text_number(v: str) -> float | None:
    """Excel's reading of text as a number: '84.52%', '1,234.5', full-width digits; None when it is not one."""
    return parse_plain_number(v)


def round_to(x: float, digits: int, mode: str = "half_up") -> float:
    """ROUND (half_up), ROUNDUP (away) and ROUNDDOWN (toward) on the 15-digit value, as Excel does."""
    if mode == "half_up":
        return round_excel(x, digits)
    from decimal import ROUND_DOWN, ROUND_UP, Decimal

    q = Decimal(1).scaleb(-digits)
    return float(to_decimal(x).quantize(q, rounding=ROUND_UP if mode == "away" else ROUND_DOWN))


def num(v: Any) -> float:
    """Excel's coercion of a single value to a number (blank → 0, text number → number)."""
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, CellError):
        raise ExcelErr(v)
    if isinstance(v, str):
        if v == "":
            raise ExcelErr(VALUE)
        n = text_number(v)
        if n is None:
            raise ExcelErr(VALUE)
        return n
    raise ExcelErr(VALUE)


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
        raise ExcelErr(v)
    return str(v)


def truth(v: Any) -> bool:
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, CellError):
        raise ExcelErr(v)
    if isinstance(v, str):
        if v.upper() in ("TRUE", "FALSE"):
            return v.upper() == "TRUE"
    raise ExcelErr(VALUE)


def is_blank(v: Any) -> bool:
    """``v=""`` in Excel: true for a blank cell and for empty text; errors propagate."""
    if isinstance(v, CellError):
        raise ExcelErr(v)
    return v is None or v == ""


def _rank(v: Any) -> tuple[int, Any]:
    if isinstance(v, bool):
        return (2, v)
    if isinstance(v, (int, float)):
        return (0, float(v))
    return (1, str(v).upper())


def compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, CellError):
        raise ExcelErr(a)
    if isinstance(b, CellError):
        raise ExcelErr(b)
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
            raise ExcelErr(DIV0)
        return x / y
    try:
        r = x ** y
    except (OverflowError, ZeroDivisionError):
        raise ExcelErr(NUM) from None
    if isinstance(r, complex) or not math.isfinite(r):
        raise ExcelErr(NUM)
    return r


class Array(list):
    """An array value: rows of values, from an array constant ``{1,0.8;0.6,0}`` or computed element by element.

    A range is a plain list of rows; an array is this subclass, because Excel treats the two alike in
    aggregates (SUM, COUNT, MIN … read only their numbers) but evaluates a function that expects one
    value element by element over an array (``FIND({"0","1"},x)`` is the array of both positions).
    """

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), len(self[0]) if self else 0


def as_array(v: Any) -> "Array":
    """A range (rows of values) or a single value as an array."""
    if isinstance(v, Array):
        return v
    if isinstance(v, list):
        return Array(list(row) for row in v)
    return Array([[v]])


def safe(thunk: Callable[[], Any]) -> Any:
    """A value, or the error it raised as a value: an error in one element of an array stays in that element."""
    try:
        return thunk()
    except ExcelErr as e:
        return e.err


def lift(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn`` element by element over its array arguments, as Excel evaluates a function that expects single
    values when it is given arrays. Arrays of different sizes: a one-row (one-column) array is repeated down
    (across), a single value everywhere; beyond the smaller array's size the element is #N/A."""
    arrays = [a for a in args if isinstance(a, Array)]
    if not arrays:
        return fn(*args)
    rows = max(len(a) for a in arrays)
    cols = max(len(a[0]) for a in arrays)

    def at(a: Any, r: int, c: int) -> Any:
        if not isinstance(a, Array):
            return a
        h, w = a.shape
        rr, cc = (0 if h == 1 else r), (0 if w == 1 else c)
        return a[rr][cc] if rr < h and cc < w else NA

    def element(r: int, c: int) -> Callable[[], Any]:
        return lambda: fn(*(at(a, r, c) for a in args))

    return Array([[safe(element(r, c)) for c in range(cols)] for r in range(rows)])


def lifted_if(cond: Any, yes: Any, no: Any) -> Any:
    """IF over an array condition: each element chooses its branch (both branches already computed)."""
    def pick(c: Any, y: Any, n: Any) -> Any:
        return y if truth(c) else n

    return lift(pick, cond, yes, no)


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
                    raise ExcelErr(v)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    yield float(v)
        elif a is not None:
            if isinstance(a, CellError):
                raise ExcelErr(a)
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
        elif isinstance(a, str) and text_number(a) is not None:
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
        raise ExcelErr(DIV0)
    return sum(vals) / len(vals)


def f_n(v: Any) -> float:
    if isinstance(v, list):
        v = v[0][0]
    if isinstance(v, CellError):
        raise ExcelErr(v)
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    return float(v) if isinstance(v, (int, float)) else 0.0


def f_isnumber(v: Any) -> bool:
    if isinstance(v, list):
        v = v[0][0]
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def f_not(v: Any) -> bool:
    return not truth(v)


def _utf16(s: str) -> str:
    """The text as Excel counts its characters: UTF-16 code units (a character outside the BMP counts two)."""
    if all(ord(c) < 0x10000 for c in s):
        return s
    return "".join(c if ord(c) < 0x10000 else chr(0xD800 + ((ord(c) - 0x10000) >> 10)) + chr(0xDC00 + ((ord(c) - 0x10000) & 0x3FF))
                   for c in s)


def f_find(find_text: Any, within_text: Any, start: Any = None) -> float:
    """FIND: the position of ``find_text`` in ``within_text`` (case-sensitive, from ``start``); #VALUE! when absent."""
    needle, hay = _utf16(text(find_text)), _utf16(text(within_text))
    n = 1 if start is None else int(num(start))
    if n < 1 or n > len(hay) + 1:
        raise ExcelErr(VALUE)
    i = hay.find(needle, n - 1)
    if i < 0:
        raise ExcelErr(VALUE)
    return float(i + 1)


def f_len(v: Any) -> float:
    return float(len(_utf16(text(v))))


def f_index(array: Any, row: Any = None, col: Any = None) -> Any:
    """INDEX(array, n) of a one-row or one-column array or range, INDEX(array, row, column) of any.
    Positions start at 1; a position outside the array is #REF!."""
    rows = as_array(array)
    h, w = rows.shape
    r = 0 if row is None else int(num(row))
    c = 0 if col is None else int(num(col))
    if r < 0 or c < 0:
        raise ExcelErr(VALUE)
    if col is None and h == 1 and w > 1:  # INDEX({1,0.8,0.6}, n): a single row is indexed by its columns
        r, c = 1, r
    if r == 0 or c == 0:
        if (r == 0 and h > 1) or (c == 0 and w > 1):
            raise ExcelErr(VALUE)  # a whole row or column of the array: not one value
        r, c = r or 1, c or 1
    if r > h or c > w:
        raise ExcelErr(REF)
    v = rows[r - 1][c - 1]
    if isinstance(v, CellError):
        raise ExcelErr(v)
    return v


_CRITERION = re.compile(r"^(<=|>=|<>|=|<|>)?(.*)$", re.S)


def _wildcard(pattern: str) -> re.Pattern:
    """Excel's wildcards: * any run, ? one character, ~ escapes the next."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "~" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.S | re.I)


def _criterion(crit: Any) -> Callable[[Any], bool]:
    """COUNTIF's test for one cell: a number (or text reading as one) compares numbers; other text is matched
    case-insensitively with wildcards; an operator (= <> < > <= >=) may lead; "" and "=" match blank cells."""
    if isinstance(crit, CellError):
        raise ExcelErr(crit)
    rest: Any
    if isinstance(crit, bool) or isinstance(crit, (int, float)) or crit is None:
        op, rest = "=", crit if crit is not None else 0.0
    else:
        m = _CRITERION.match(str(crit))
        assert m is not None  # the pattern matches any text
        op, rest = m.group(1) or "=", m.group(2)
    number = rest if isinstance(rest, (int, float)) and not isinstance(rest, bool) else (
        text_number(rest) if isinstance(rest, str) and rest != "" else None)
    if isinstance(rest, bool):
        return lambda v: (v is rest) if op == "=" else (v is not rest) if op == "<>" else False
    if number is not None:
        def by_number(v: Any) -> bool:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                return op == "<>"
            return {"=": v == number, "<>": v != number, "<": v < number, ">": v > number,
                    "<=": v <= number, ">=": v >= number}[op]
        return by_number
    if rest == "":
        if op == "=":
            return lambda v: v is None or (isinstance(crit, str) and crit == "" and v == "")
        if op == "<>":
            return lambda v: v is not None and v != ""
    pattern = _wildcard(str(rest))

    def by_text(v: Any) -> bool:
        if op in ("=", "<>"):
            hit = isinstance(v, str) and pattern.fullmatch(v) is not None
            return hit if op == "=" else not hit
        if not isinstance(v, str) or isinstance(v, bool):
            return False
        a, b = v.upper(), str(rest).upper()
        return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
    return by_text


def f_countif(cells: Any, crit: Any) -> float:
    """COUNTIF(range, criterion): the cells of the range the criterion matches (errors in the range never do)."""
    test = _criterion(crit)
    return float(sum(1 for v in _flat(as_array(cells)) if not isinstance(v, CellError) and test(v)))


def f_sumproduct(*arrays: Any) -> float:
    """SUMPRODUCT: the sum of the element-wise products of equally sized arrays; text and blanks count 0."""
    if not arrays:
        raise ExcelErr(VALUE)
    arrs = [as_array(a) for a in arrays]
    if any(a.shape != arrs[0].shape for a in arrs):
        raise ExcelErr(VALUE)
    total = 0.0
    for r in range(arrs[0].shape[0]):
        for c in range(arrs[0].shape[1]):
            prod = 1.0
            for a in arrs:
                v = a[r][c]
                if isinstance(v, CellError):
                    raise ExcelErr(v)
                prod *= float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0
            total += prod
    return total


def f_and(*args: Any) -> bool:
    vals = [truth(v) for a in args for v in _flat(a) if not (isinstance(a, list) and (v is None or isinstance(v, str)))]
    if not vals:
        raise ExcelErr(VALUE)
    return all(vals)


def f_or(*args: Any) -> bool:
    vals = [truth(v) for a in args for v in _flat(a) if not (isinstance(a, list) and (v is None or isinstance(v, str)))]
    if not vals:
        raise ExcelErr(VALUE)
    return any(vals)


def f_abs(v: Any) -> float:
    return abs(num(v))


def f_round(v: Any, d: Any = 0) -> float:
    return round_to(num(v), int(num(d)))


def f_roundup(v: Any, d: Any = 0) -> float:
    return round_to(num(v), int(num(d)), "away")


def f_rounddown(v: Any, d: Any = 0) -> float:
    return round_to(num(v), int(num(d)), "toward")


def f_text(v: Any, fmt: Any) -> str:
    x = num(v)
    f = text(fmt)
    m = re.fullmatch(r"0(?:\.(0+))?(%?)", f)
    if not m:
        raise ExcelErr(VALUE)
    digits = len(m.group(1) or "")
    if m.group(2):
        return f"{round_excel(x * 100, digits):.{digits}f}%"
    return f"{round_excel(x, digits):.{digits}f}"


BUILTINS: dict[str, Callable[..., Any]] = {
    "SUM": f_sum, "COUNT": f_count, "MIN": f_min, "MAX": f_max, "AVERAGE": f_average, "N": f_n,
    "ISNUMBER": f_isnumber, "AND": f_and, "OR": f_or, "ABS": f_abs, "ROUND": f_round, "ROUNDUP": f_roundup,
    "ROUNDDOWN": f_rounddown, "TEXT": f_text, "NOT": f_not, "FIND": f_find, "INDEX": f_index,
    "LEN": f_len,     "SUMPRODUCT": f_sumproduct, "COUNTIF": f_countif,
}
RANGE_ARGS = {"SUM", "COUNT", "MIN", "MAX", "AVERAGE", "AND", "OR"}
"""Functions that read a reference as a range (its text skipped); every argument may be an array."""
ARRAY_ARGS = {"SUMPRODUCT"}
"""Functions that evaluate their arguments as arrays: a range inside them is an array of its values."""
ERROR_ARGS = {"ISNUMBER"}
"""Functions that take an error as a value (ISNUMBER(#VALUE!) is FALSE, not #VALUE!)."""
ARRAY_FIRST = {"INDEX", "COUNTIF"}
"""Functions whose first argument is an array (or range) taken whole; their other arguments are single values."""


def call_cell_function(fn: CellFunction, args: list[Any]) -> Any:
    """Call a jixiao cell function with plain values (None for a blank cell, rows for a range).

    Returns the value, or the :class:`CellError` Excel would show: an error argument
    travels on, a value the rules cannot read is #VALUE!, a result that is not a
    finite number is #NUM!.
    """
    vals = []
    for name, a in zip(fn.params, args):
        if name in fn.ranges:
            rows = a if isinstance(a, list) else [[a]]
            for v in _flat(rows):
                if isinstance(v, CellError):
                    return v
            vals.append(rows)
            continue
        if isinstance(a, list):
            if len(a) != 1 or len(a[0]) != 1:
                return VALUE
            a = a[0][0]
        if isinstance(a, CellError):
            return a
        vals.append(a)
    try:
        out = fn.func(*vals)
    except (JixiaoError, ValueError, TypeError, ArithmeticError):
        return VALUE
    if isinstance(out, float) and not math.isfinite(out):
        return NUM
    return out


def udf_call(fn: CellFunction, *args: Any) -> Any:
    """:func:`call_cell_function` for the compiled calculation: an error result is raised."""
    out = call_cell_function(fn, list(args))
    if isinstance(out, CellError):
        raise ExcelErr(out)
    return out


def scalar(v: Any) -> Any:
    """One value: a range must be a single cell (else #VALUE!); an array in a cell shows its first element."""
    if isinstance(v, Array):
        return v[0][0] if v and v[0] else VALUE
    if isinstance(v, list):
        if len(v) == 1 and len(v[0]) == 1:
            return v[0][0]
        raise ExcelErr(VALUE)
    return v
