"""Recalculation by the ``formulas`` engine: the check's full route (:func:`full_recalc`, within the file's
deadline) and ``jixiao recalc`` (:func:`bounded_recalc`, every formula's value within time and memory bounds)."""
from __future__ import annotations

import os
import tempfile
from typing import Any

from ..errors import Finding, JixiaoError
from ..excel.syntax import FormulaError, parse_cell
from ..rules import error_codes, rule
from .deadline import Deadline
from .templates import Key
from .xlsx import Book

CYCLE = rule("formula.cycle", "公式循环引用")
TIMEOUT = rule("formulas.timeout", "重算超时")
FAILED = rule("formulas.failed", "无法重算")
MEMORY = rule("formulas.memory", "重算内存超限")  # raised by `jixiao recalc` past its memory bound
rule("formulas.unknown_function", "未注册的函数")  # raised by the bridge as a JixiaoError
error_codes({"formula.too_deep": "公式嵌套过深"})
MIN_SECONDS = 5.0  # below this much time left, a full recalculation is not started
RECALC_SECONDS = 45  # ``jixiao recalc``: with start-up and reading, a recalc stays under a minute
RECALC_MEMORY = 1024 ** 3  # bytes of data ``jixiao recalc`` may allocate (RLIMIT_DATA, Linux): a form needs far less


def full_recalc(book: Book, deadline: Deadline) -> tuple[dict[Key, Any], list[Finding]]:
    """Recomputed values of every formula cell, and what stopped the recalculation (a cycle, the deadline …)."""
    from ..excel import bridge
    from ..excel.compiler import evaluation_order

    nodes = {}
    unread: FormulaError | None = None  # the first formula jixiao's parser cannot read, named if formulas fails too
    for s in book.sheets.values():
        for ref, f in s.formulas.items():
            try:
                nodes[(s.name, ref)] = parse_cell(f, s.name, ref)
            except FormulaError as e:
                unread = unread or e
                continue  # formulas will judge what jixiao's parser does not know
    try:
        evaluation_order(nodes)
    except FormulaError as e:  # a cycle, or more dependencies than a form can have (formula.too_complex)
        return {}, [Finding(e.code or CYCLE, "error", e.message + "，无法重算").at(e.sheet, e.cell)]
    left = deadline.left()
    if left < MIN_SECONDS:
        return {}, [Finding(TIMEOUT, "error", f"检查时限只剩 {max(left, 0):.0f} 秒，未做完整重算")]
    try:
        with tempfile.TemporaryDirectory(prefix="jixiao-full-") as tmp:
            path = book.path
            if book.raw is not None or not os.path.isfile(path):
                path = os.path.join(tmp, "book.xlsx")
                with open(path, "wb") as fh:
                    fh.write(book.raw or b"")
            rc = bridge.calculate(path)
    except JixiaoError as e:
        return {}, [Finding(e.code, "error", e.message).at(e.sheet, e.cell)]
    except Exception as e:  # noqa: BLE001 - formulas can fail on exotic formulas; the file still gets its other checks
        if unread is not None:
            return {}, [Finding(unread.code, "error", f"formulas 无法重算此工作簿（{type(e).__name__}）；"
                                                      f"{unread.message}").at(unread.sheet, unread.cell)]
        return {}, [Finding(FAILED, "error", f"formulas 无法重算此工作簿：{type(e).__name__}")]
    names = {name.upper(): name for name in book.sheets}
    return {(names.get(sh, sh), cell): x for (sh, cell), x in rc.values.items()}, []


def cell_order(key: tuple[str, str]) -> tuple[str, int, int]:
    """Natural order of cells: A1, A2, A10 (rows as numbers), then columns.

    Example:
        >>> sorted([("S", "A10"), ("S", "B2"), ("S", "A2")], key=cell_order)
        [('S', 'A2'), ('S', 'B2'), ('S', 'A10')]
    """
    sheet, ref = key
    letters = ref.rstrip("0123456789")
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return sheet, int(ref[len(letters):] or 0), col


def caused_by_memory(e: BaseException | None) -> bool:
    """The failure came from the memory bound: a MemoryError behind it, or (libxml2 says "unknown error" when
    malloc fails) this process having grown close to RECALC_MEMORY."""
    try:
        import resource

        if resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 > 0.8 * RECALC_MEMORY:
            return True
    except ImportError:
        pass
    seen = 0
    while e is not None and seen < 20:
        if isinstance(e, MemoryError):
            return True
        e, seen = e.__cause__ or e.__context__, seen + 1
    return False


def recalc_rows(workbook: str) -> dict[str, Any]:
    """Every formula's value of ``workbook`` as plain data: engine, note, translated add-in references,
    cells (sheet, cell, value; natural order), problems and warnings; within RECALC_SECONDS."""
    from ..excel.bridge import CellError, calculate
    from .deadline import time_limit

    try:
        with time_limit(RECALC_SECONDS, "重算"):
            rc = calculate(workbook)
    except (JixiaoError, OSError, KeyboardInterrupt, MemoryError):
        raise
    except RecursionError:
        raise JixiaoError("公式嵌套过深，无法重算", code="formula.too_deep", file=workbook) from None
    except Exception as e:  # noqa: BLE001 - the formulas engine fails in its own ways on exotic formulas
        if caused_by_memory(e):  # a library that turns MemoryError into its own error
            raise MemoryError from None
        raise JixiaoError("formulas 引擎无法重算此工作簿（公式或文件结构不受支持）", code="formulas.failed",
                          file=workbook) from None
    shown = rc.formulas or set(rc.values)  # the formulas' results, not every constant of the sheet
    rows = [{"sheet": sh, "cell": c, "value": str(v) if isinstance(v, CellError) else v}
            for (sh, c), v in sorted(rc.values.items(), key=lambda kv: cell_order(kv[0]))
            if (sh, c) in shown and v not in (None, "")]
    problems = [{"code": e.code, "message": e.message, "sheet": e.sheet, "cell": e.cell} for e in rc.problems]
    warnings = [{"code": f.rule, "message": f.message, "sheet": f.sheet, "cell": f.cell} for f in rc.notes]
    return {"engine": rc.engine, "note": rc.note, "translated": rc.translated, "cells": rows, "problems": problems,
            "warnings": warnings}


def bounded_recalc(workbook: str) -> dict[str, Any]:
    """:func:`recalc_rows` in a child process within RECALC_MEMORY and RECALC_SECONDS, as the check's workers
    are bounded; what stops it is a JixiaoError (formulas.memory, formulas.timeout, formulas.failed)."""
    from .workers import LimitedCallFailed, call_limited

    memory = "重算所需内存超出限制（{:.0f} MB），已放弃".format(RECALC_MEMORY / 2 ** 20)
    try:
        return call_limited(recalc_rows, (workbook,), RECALC_MEMORY, RECALC_SECONDS + 5)
    except MemoryError:
        raise JixiaoError(memory, code=MEMORY, file=workbook) from None
    except LimitedCallFailed as e:
        if e.reason == "timeout":
            raise JixiaoError(f"重算超过 {RECALC_SECONDS:g} 秒，已放弃", code=TIMEOUT, file=workbook) from None
        if e.reason == "memory":
            raise JixiaoError(memory, code=MEMORY, file=workbook) from None
        raise JixiaoError("formulas 引擎无法重算此工作簿（重算进程意外终止）", code=FAILED, file=workbook) from None
