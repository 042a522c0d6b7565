"""What the pages show of a workbook beyond its findings, computed once by the worker and stored.

The comparison with the previous version and the marked copy read whole workbooks: they run in the
worker, after the check, under its deadline, and only for workbooks whose sheets are of a size a form
has. The web process only reads what is stored.
"""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time
from typing import Any

from ..rules import error_codes
from .marked import cell_changes, marked_copy

error_codes({"view.too_large": "工作表过大，不逐格比较、不生成标注副本"})

MB = 1024 * 1024
# uncompressed worksheet XML the views read; a filled-in form has well under 1 MB
MAX_SHEET_XML = 16 * MB


def _xlsx(label: str) -> bool:
    return label.lower().endswith((".xlsx", ".xlsm"))


def sheets_too_big(data: bytes) -> bool:
    """Whether the workbook's sheets inflate beyond what the views read (decided from the zip directory)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return sum(i.file_size for i in z.infolist() if i.filename.startswith("xl/worksheets/")) > MAX_SHEET_XML
    except (zipfile.BadZipFile, OSError, ValueError):
        return True


def _plain(v: Any) -> Any:
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    if isinstance(v, (datetime, date, time)):
        return v.isoformat()
    return str(v)


def marked(label: str, data: bytes, findings: list[dict]) -> dict[str, Any]:
    """{"marked": the marked copy's bytes or None, "marked_note": why there is none}; never raises."""
    if not _xlsx(label):
        return {"marked": None, "marked_note": "旧版 .xls 文件无法生成标注副本；请另存为 .xlsx 后重新提交"}
    if sheets_too_big(data):
        return {"marked": None, "marked_note": "这个工作簿的工作表过大，不生成标注副本 [view.too_large]"}
    try:
        return {"marked": marked_copy(data, findings, label), "marked_note": ""}
    except Exception:  # noqa: BLE001 - an unreadable workbook: the page says so
        return {"marked": None, "marked_note": "这个工作簿无法读取，不能生成标注副本"}


def compute(label: str, data: bytes, findings: list[dict], prev: tuple[str, bytes] | None,
            make_marked: bool = True) -> dict[str, Any]:
    """{"cells", "cells_note", "marked" (bytes or None), "marked_note", "marked_later"}; never raises.

    ``make_marked=False`` (the check's worker): the marked copy, which costs several times the check, is left
    for a worker to make at its first download (``marked_later``: it can be made)."""
    out: dict[str, Any] = {"cells": None, "cells_note": "", "marked": None, "marked_note": "", "marked_later": False}
    if not _xlsx(label):
        out.update(marked(label, data, findings))
        return out
    big = sheets_too_big(data)
    if big or make_marked:
        out.update(marked(label, data, findings))
    else:
        out["marked_later"] = True
    if prev is not None and _xlsx(prev[0]):
        if big or sheets_too_big(prev[1]):
            out["cells_note"] = "工作表过大，不逐格比较 [view.too_large]"
        else:
            try:
                out["cells"] = [{**c, "old": _plain(c["old"]), "new": _plain(c["new"])}
                                for c in cell_changes(prev[1], data)]
            except Exception:  # noqa: BLE001
                out["cells_note"] = "有一个版本无法读取，不能逐格比较"
    return out
