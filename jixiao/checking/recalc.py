"""The full route's recalculation: every formula of a workbook by the ``formulas`` engine, within the deadline."""
from __future__ import annotations

import os
import tempfile
from typing import Any

from ..errors import Finding, JixiaoError
from ..excel.syntax import FormulaError, parse_cell
from ..rules import rule
from .deadline import Deadline
from .templates import Key
from .xlsx import Book

CYCLE = rule("formula.cycle", "公式循环引用")
TIMEOUT = rule("formulas.timeout", "重算超时")
FAILED = rule("formulas.failed", "无法重算")
MEMORY = rule("formulas.memory", "重算内存超限")  # raised by `jixiao recalc` past its memory bound
rule("formulas.unknown_function", "未注册的函数")  # raised by the bridge as a JixiaoError
MIN_SECONDS = 5.0  # below this much time left, a full recalculation is not started


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
