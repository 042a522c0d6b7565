"""The one writer of jixiao's generated VBA, and the lint every module of the add-in must pass.

VBA has hard limits that Excel enforces when it compiles a module (and a
source-only project is compiled on first open, so a broken line breaks every
function of the module):

* a physical line holds at most 1,023 characters;
* a statement spans at most 25 physical lines (24 line continuations ``" _"``);
* an identifier has at most 255 characters and is not a reserved word;
* the module text is stored in the project's code page (1252 here): jixiao
  keeps it ASCII and builds Chinese text with ``ChrW(&H…)``.

:class:`VbaWriter` writes text that keeps these limits by construction: long
strings are built over several statements (``s = s & …``), never with line
continuations. :func:`lint` checks any module text against the same limits;
the builder runs it on every module it writes, and the tests run it again on
the modules read back from the built .xlam.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LINE = 1023  # characters per physical line
MAX_CONTINUATIONS = 24  # line continuations per statement
MAX_IDENTIFIER = 255
STATEMENT_WIDTH = 400  # where the writer splits a long string expression: far below MAX_LINE

# [MS-VBAL] 3.3.5.2 reserved identifiers: statement and marker keywords, operators, reserved names,
# special forms, type names and literals. None of them may name a variable, parameter or procedure.
RESERVED = frozenset(w.lower() for w in """
    Call Case Close Const Declare DefBool DefByte DefCur DefDate DefDbl DefInt DefLng DefLngLng DefLngPtr DefObj
    DefSng DefStr DefVar Dim Do Else ElseIf End EndIf Enum Erase Event Exit For Friend Function Get Global GoSub
    GoTo If Implements Input Let Lock Loop LSet Next On Open Option Print Private Public Put RaiseEvent ReDim Rem
    Resume Return RSet Seek Select Set Static Stop Sub Type Unlock Wend While With Write
    Any As ByRef ByVal Each In New Shared Until WithEvents Optional ParamArray Preserve Spc Tab Then To
    AddressOf And Eqv Imp Is Like Mod Not Or TypeOf Xor
    Abs CBool CByte CCur CDate CDbl CDec CInt CLng CLngLng CLngPtr CSng CStr CVar CVErr Date Debug DoEvents Fix Int
    Len LenB Me PSet Scale Sgn String
    Array Circle InputB LBound UBound
    Boolean Byte Currency Double Integer Long LongLong LongPtr Single Variant
    True False Nothing Empty Null
""".split())

# Names that compile as identifiers but shadow a VBA statement, function or an object the generated code uses
# (a parameter called Text or Name hides the built-in inside the procedure). jixiao's own names avoid them too.
SHADOWING = frozenset(w.lower() for w in """
    Error Mid MidB Name Width Text Time Val Step Base Compare Explicit Binary Lib Alias Access Append Output Random
    Read Attribute PtrSafe Decimal Object Module Property Err Application Range Workbook Worksheet ActiveWorkbook
    ThisWorkbook XLPy xlErrValue Caller Left Right Format Str Chr ChrW Asc Hex Oct Now Timer Environ Dir Kill
    MsgBox InputBox IsMissing IsError IsEmpty IsNull Trim Replace Split Join Filter Round Sum
""".split())

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_STRING = re.compile(r'"(?:[^"]|"")*"?')


class VbaError(ValueError):
    """Generated VBA that Excel would not compile."""


# ---------------------------------------------------------------------------
# Names and strings


def identifier(name: str) -> str:
    """``name`` if VBA accepts it as jixiao's own identifier; :class:`VbaError` otherwise."""
    if not _IDENT.match(name):
        raise VbaError(f"not a VBA identifier: {name!r}")
    if len(name) > MAX_IDENTIFIER:
        raise VbaError(f"identifier longer than {MAX_IDENTIFIER} characters: {name[:40]}…")
    if name.lower() in RESERVED or name.lower() in SHADOWING:
        raise VbaError(f"reserved or shadowing name: {name}")
    return name


def safe_name(name: str) -> str:
    """A parameter or variable name for ``name``: reserved and shadowing words get a trailing ``_``."""
    low = name.lower()
    return identifier(f"{name}_" if low in RESERVED or low in SHADOWING else name)


def string_pieces(text: str) -> list[str]:
    """VBA expressions whose concatenation is ``text``, ASCII only: literals and ``ChrW(&H…)``."""
    pieces, run = [], ""
    for ch in text:
        code = ord(ch)
        if code > 0xFFFF:
            raise VbaError(f"character outside the BMP cannot be written with ChrW: U+{code:X}")
        if 32 <= code < 127 and ch != '"':
            run += ch
            if len(run) >= 200:
                pieces.append(f'"{run}"')
                run = ""
        else:
            if run:
                pieces.append(f'"{run}"')
                run = ""
            pieces.append(f"ChrW(&H{code:X})")
    if run:
        pieces.append(f'"{run}"')
    return pieces or ['""']


def string_expr(text: str) -> str:
    """One VBA expression for short text (raises when it would not fit one statement)."""
    expr = " & ".join(string_pieces(text))
    if len(expr) > STATEMENT_WIDTH:
        raise VbaError(f"text too long for one expression ({len(expr)} characters): use VbaWriter.assign_text")
    return expr


# ---------------------------------------------------------------------------
# The writer


class VbaWriter:
    """Lines of one VBA module, written within VBA's limits; :meth:`text` lints before it returns."""

    def __init__(self, module: str, *header: str):
        self.name = identifier(module)
        self.lines: list[str] = [f'Attribute VB_Name = "{module}"', *header]

    def add(self, *lines: str) -> "VbaWriter":
        self.lines.extend(lines)
        return self

    def assign_text(self, var: str, text: str, indent: str = "    ") -> "VbaWriter":
        """``var = text`` over as many statements as needed, each well below the line limit."""
        var = identifier(var) if "(" not in var else var
        first = True
        current: list[str] = []
        width = 0

        def flush() -> None:
            nonlocal first, current, width
            rhs = " & ".join(current)
            self.lines.append(f"{indent}{var} = {rhs}" if first else f"{indent}{var} = {var} & {rhs}")
            first, current, width = False, [], 0

        for piece in string_pieces(text):
            if current and width + len(piece) + 3 > STATEMENT_WIDTH:
                flush()
            current.append(piece)
            width += len(piece) + 3
        flush()
        return self

    def text(self) -> str:
        src = "\r\n".join(self.lines) + "\r\n"
        problems = lint(src, strict=True)
        if problems:
            raise VbaError(f"module {self.name}: " + "; ".join(problems[:5]))
        return src


# ---------------------------------------------------------------------------
# The lint


@dataclass(frozen=True)
class Statement:
    first_line: int  # 1-based physical line where it starts
    continuations: int
    code: str  # the logical line, continuations joined, string literals emptied, comment removed


def _code_part(line: str) -> str:
    """A physical line without string contents and comment."""
    out: list[str] = []
    text = _STRING.sub('""', line)
    for ch in text:
        if ch == "'":
            return "".join(out)
        out.append(ch)
    stripped = "".join(out)
    if re.match(r"^\s*Rem(\s|$)", stripped, re.I):
        return ""
    return stripped


def statements(source: str) -> list[Statement]:
    lines = re.split(r"\r\n|\r|\n", source)
    out, i = [], 0
    while i < len(lines):
        start, parts, n = i, [], 0
        while True:
            code = _code_part(lines[i])
            # a line ending in " _" continues the statement (a comment line too, as in VBA)
            cont = re.search(r"(^|\s)_\s*$", lines[i]) is not None
            parts.append(re.sub(r"(^|\s)_\s*$", " ", code) if cont else code)
            i += 1
            if not cont or i >= len(lines):
                break
            n += 1
        out.append(Statement(start + 1, n, " ".join(parts)))
    return out


_PROC = re.compile(r"^\s*(?:(?:Public|Private|Friend|Static|Global)\s+)*(?:Declare\s+(?:PtrSafe\s+)?)?"
                   r"(?:Sub|Function|Property\s+(?:Get|Let|Set))\s+(\w+)(.*)$", re.I)
_VARS = re.compile(r"^\s*(?:Dim|Static|Const|ReDim(?:\s+Preserve)?|(?:Public|Private|Global)(?:\s+Const)?)\s+(?!Sub\b|"
                   r"Function\b|Declare\b|Type\b|Enum\b|Property\b|Event\b|Const\b)(.*)$", re.I)


def _split_top(text: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return out


def declared_names(code: str) -> list[str]:
    """Names a statement declares: a procedure and its parameters, or variables and constants."""
    m = _PROC.match(code)
    names: list[str] = []
    if m:
        names.append(m.group(1))
        rest = m.group(2)
        rest = re.sub(r'^\s*Lib\s+""(\s+Alias\s+"")?', "", rest, flags=re.I)
        pm = re.match(r"\s*\((.*)\)", rest)
        if pm:
            for p in _split_top(pm.group(1)):
                words = re.sub(r"\b(Optional|ByVal|ByRef|ParamArray)\b", "", p, flags=re.I).split()
                if words:
                    names.append(re.sub(r"\(.*", "", words[0]))
        return names
    m = _VARS.match(code)
    if m:
        for part in _split_top(m.group(1)):
            words = re.sub(r"^\s*WithEvents\b", "", part, flags=re.I).split()
            if words:
                names.append(re.sub(r"[(%&!#@$].*", "", words[0]))
    return [n for n in names if n]


def lint(source: str, strict: bool = False) -> list[str]:
    """Why Excel would not compile ``source`` as given: an empty list when it keeps VBA's limits.

    ``strict`` also refuses names that shadow built-ins (for jixiao's own modules).
    """
    problems = []
    for n, line in enumerate(re.split(r"\r\n|\r|\n", source), start=1):
        if len(line) > MAX_LINE:
            problems.append(f"line {n}: {len(line)} characters (limit {MAX_LINE})")
        bad = next((ch for ch in line if ord(ch) > 127), None)
        if bad is not None:
            problems.append(f"line {n}: non-ASCII character U+{ord(bad):04X}")
    for st in statements(source):
        if st.continuations > MAX_CONTINUATIONS:
            problems.append(f"line {st.first_line}: {st.continuations} line continuations (limit {MAX_CONTINUATIONS})")
        for tok in re.findall(r"[A-Za-z]\w*", st.code):
            if len(tok) > MAX_IDENTIFIER:
                problems.append(f"line {st.first_line}: identifier of {len(tok)} characters")
        for name in declared_names(st.code):
            low = name.lower()
            if low in RESERVED or (strict and low in SHADOWING):
                problems.append(f"line {st.first_line}: reserved name {name!r} declared")
            elif not _IDENT.match(name):
                problems.append(f"line {st.first_line}: {name!r} is not an identifier")
    return problems


__all__ = ["MAX_LINE", "MAX_CONTINUATIONS", "MAX_IDENTIFIER", "RESERVED", "SHADOWING", "VbaError", "VbaWriter",
           "identifier", "safe_name", "string_pieces", "string_expr", "lint", "statements", "declared_names"]
