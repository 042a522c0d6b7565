"""jixiao's worksheet functions (UDFs) for Excel, via xlwings.

Every function here is the core's cell function of the same name
(:data:`jixiao.functions.FUNCTIONS`), decorated for xlwings: a cell in Excel,
the ``formulas`` engine on the server and the checker compute the same number
because they call the same code. Names are ASCII (JX_…); descriptions are
Chinese, shown in Excel's function wizard. Called from Python they are plain
functions.
"""
from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

from jixiao.functions import CATEGORY, FUNCTIONS, CellFunction

if sys.platform.startswith("win"):  # xlwings registers UDFs with Excel on Windows only; elsewhere
    import xlwings as xw  # its decorators do nothing, and importing it costs a quarter second
else:
    xw = None


def _decorated(spec: CellFunction) -> Callable[..., Any]:
    """A copy of the core function (same code, same signature) carrying xlwings' UDF decorations.

    The copy keeps xlwings' attributes off the core's own function object.
    """
    core = spec.func
    fn = types.FunctionType(core.__code__, core.__globals__, spec.name, core.__defaults__, core.__closure__)
    fn.__doc__, fn.__kwdefaults__, fn.__qualname__ = core.__doc__, core.__kwdefaults__, spec.name
    fn.__module__ = __name__
    if xw is not None:
        for name, doc in spec.arg_docs.items():
            fn = xw.arg(name, doc=doc, ndim=2)(fn) if name in spec.ranges else xw.arg(name, doc=doc)(fn)
        fn = xw.func(category=CATEGORY)(fn)
    return fn


UDFS: dict[str, Callable[..., Any]] = {name: _decorated(spec) for name, spec in FUNCTIONS.items()}
"""Every worksheet function by name, as xlwings imports them from this module."""

globals().update(UDFS)
__all__ = sorted(UDFS)
