"""Text from submissions, made safe for every output: reports, CSV, HTML, JSON and the terminal.

A submitted workbook chooses its unit name, sheet names, member names and cell texts. None of it may
crash a writer (control characters are illegal in XML, a lone surrogate cannot be encoded), steer a
terminal (ESC sequences), become a formula in the spreadsheet that opens a report, or make a report
take minutes (a 4 MB cell). Every writer passes such text through :func:`shown`; CSV cells also
through :func:`inert`; JSON documents through :func:`json_safe`.

Example:
    >>> shown("A\\x1b[2J\\x0bB")
    'A␛[2J␋B'
    >>> inert("=cmd|' /C calc'!A0")
    "'=cmd|' /C calc'!A0"
    >>> inert("－5")
    "'－5"
    >>> json_safe({"rate": float("inf"), "unit": "\\ud800x"})
    {'rate': None, 'unit': '�x'}
"""
from __future__ import annotations

import math
import re
from typing import Any

MAX_TEXT = 2_000  # characters of one text shown in a report cell or on the terminal
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")  # what spreadsheets may read as a formula

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # C0 controls other than tab, LF, CR; DEL
_C1 = re.compile("[\x80-\x9f]")  # C1 controls (a terminal reads \x9b as CSI)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _picture(m: re.Match[str]) -> str:
    c = ord(m.group(0))
    return "␡" if c == 0x7F else chr(0x2400 + c)  # the Control Pictures block: \x1b → ␛


def shown(text: Any, limit: int = MAX_TEXT) -> Any:
    """``text`` with control characters drawn visibly, lone surrogates replaced, and cut at ``limit``.

    Anything that is not a string is returned unchanged.
    """
    if not isinstance(text, str):
        return text
    out = _CONTROL.sub(_picture, text)
    out = _C1.sub("\ufffd", out)
    out = _SURROGATE.sub("\ufffd", out)
    if len(out) > limit:
        out = out[:limit] + f"…（已截断，共 {len(text)} 字）"
    return out


def inert(text: Any) -> Any:
    """A text a spreadsheet will show as text: a leading ' where it could start a formula."""
    if isinstance(text, str) and text.startswith(FORMULA_LEADS):
        return "'" + text
    return text


def cell_text(value: Any) -> Any:
    """What a CSV cell holds: text shown safely and inert; numbers and None unchanged."""
    return inert(shown(value))


def json_safe(obj: Any) -> Any:
    """A JSON-ready copy: NaN and infinities become null, lone surrogates U+FFFD (control characters
    are kept: JSON escapes them)."""
    t = type(obj)  # the exact types a result holds first (a batch's JSON holds hundreds of thousands of values)
    if t is str:
        return obj if obj.isascii() else _SURROGATE.sub("\ufffd", obj)
    if t is dict:
        return {json_safe(k): json_safe(v) for k, v in obj.items()}
    if t is list:
        return [json_safe(v) for v in obj]
    if t is int or t is bool or obj is None:
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, str):
        return _SURROGATE.sub("\ufffd", obj)
    if isinstance(obj, dict):
        return {json_safe(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj
