"""A unit's workbook as a new file with the problem cells coloured and commented, plus a 检查结果 sheet.

The stored upload is read, never written: the copy is made in memory from its bytes.
"""
from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.cell import range_boundaries

from ..checking.report import SEVERITY_ZH, rule_title

FILL = {"error": PatternFill("solid", fgColor="F8C4C0"), "warning": PatternFill("solid", fgColor="FCE8B2"),
        "info": PatternFill("solid", fgColor="D6E6F5")}
RANK = {"error": 0, "warning": 1, "info": 2}


def _text(v: Any) -> str:
    return "" if v is None else str(v)


def _inert(cell, value: Any) -> None:  # noqa: ANN001
    """Text from the workbook stays text in the copy: never a formula."""
    cell.value = value
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        cell.data_type = "s"


def _anchor(ws, ref: str):  # noqa: ANN001
    """The cell a finding points at; the top-left cell of a merged range or of a range reference."""
    try:
        c1, r1, _, _ = range_boundaries(ref.replace("$", ""))
    except (ValueError, TypeError):
        return None
    if c1 is None or r1 is None:
        return None
    for rng in ws.merged_cells.ranges:
        if rng.min_col <= c1 <= rng.max_col and rng.min_row <= r1 <= rng.max_row:
            c1, r1 = rng.min_col, rng.min_row
            break
    return ws.cell(row=r1, column=c1)


def _unlink(wb, data: bytes, filename: str) -> None:  # noqa: ANN001
    """Formulas that read another workbook become the values Excel saved for them, names pointing outside go:
    the copy (opened by bureau staff) links to nothing, as jixiao never followed the links."""
    from ..checking.links import external_cells, external_names
    from ..checking.xlsx import read_book

    book = read_book(io.BytesIO(data), label=filename)
    for sheet, ref in external_cells(book):
        if sheet in wb.sheetnames:
            _inert(wb[sheet][ref], book.sheets[sheet].values.get(ref))
    outside = external_names(book)
    for name in [n for n in wb.defined_names if n.upper() in outside]:
        del wb.defined_names[name]


def marked_copy(data: bytes, findings: list[dict[str, Any]], filename: str) -> bytes:
    keep_vba = filename.lower().endswith(".xlsm")
    # keep_links=False: the copy carries no external link parts (openpyxl reads them from the file, never opens them)
    wb = load_workbook(io.BytesIO(data), keep_vba=keep_vba, rich_text=False, keep_links=False)
    _unlink(wb, data, filename)
    by_cell: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for f in findings:
        if f.get("sheet") and f.get("cell") and f["sheet"] in wb.sheetnames:
            by_cell[(f["sheet"], f["cell"])].append(f)
    for (sheet, ref), fs in by_cell.items():
        cell = _anchor(wb[sheet], ref)
        if cell is None:
            continue
        worst = min(fs, key=lambda f: RANK.get(f["severity"], 3))["severity"]
        cell.fill = FILL.get(worst, FILL["info"])
        lines = []
        for f in sorted(fs, key=lambda f: RANK.get(f["severity"], 3)):
            line = f"【{SEVERITY_ZH.get(f['severity'], f['severity'])}】{rule_title(f['rule'])}：{f['message']}"
            if f.get("expected") is not None:
                line += f"\n应为：{_text(f['expected'])}"
            if f.get("found") is not None:
                line += f"\n实际：{_text(f['found'])}"
            lines.append(line)
        old = cell.comment.text + "\n\n" if cell.comment else ""
        comment = Comment(old + "\n\n".join(lines), "jixiao")
        comment.width, comment.height = 320, 40 + 60 * len(lines)
        cell.comment = comment
    name = "检查结果"
    while name in wb.sheetnames:
        name += "_"
    ws = wb.create_sheet(name, 0)
    headers = ["级别", "工作表", "单元格", "问题", "说明", "应为", "实际", "规则"]
    ws.append(headers)
    for c in ws[1]:
        c.font = Font(bold=True)
    for i, f in enumerate(sorted(findings, key=lambda f: RANK.get(f["severity"], 3)), start=2):
        row = [SEVERITY_ZH.get(f["severity"], f["severity"]), f.get("sheet") or "", f.get("cell") or "",
               rule_title(f["rule"]), f["message"], _text(f.get("expected")), _text(f.get("found")), f["rule"]]
        for j, v in enumerate(row, start=1):
            _inert(ws.cell(row=i, column=j), v)
        if f.get("sheet") in wb.sheetnames and f.get("cell"):
            target = f["sheet"].replace("'", "''")
            ws.cell(row=i, column=3).hyperlink = f"#'{target}'!{f['cell'].split(':')[0]}"
        ws.cell(row=i, column=1).fill = FILL.get(f["severity"], FILL["info"])
    for col, w in zip("ABCDEFGH", (6, 12, 8, 22, 60, 14, 14, 28)):
        ws.column_dimensions[col].width = w
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def cell_changes(old: bytes, new: bytes, limit: int = 200) -> list[dict[str, Any]]:
    """Cells whose shown value differs between two versions (formulas compared as written)."""
    def values(data: bytes) -> dict[tuple[str, str], Any]:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
        out = {}
        try:
            for ws in wb.worksheets:
                for row in ws.iter_rows():
                    for c in row:
                        if c.value not in (None, "") and hasattr(c, "coordinate"):
                            out[(ws.title, c.coordinate)] = c.value
        finally:
            wb.close()
        return out

    a, b = values(old), values(new)
    changes = []
    for key in sorted(set(a) | set(b), key=lambda k: (k[0], len(k[1]), k[1])):
        if a.get(key) != b.get(key):
            changes.append({"sheet": key[0], "cell": key[1], "old": a.get(key), "new": b.get(key)})
            if len(changes) >= limit:
                break
    return changes


def finding_changes(old: list[dict], new: list[dict]) -> dict[str, list[dict]]:
    def key(f: dict) -> tuple:
        return f["rule"], f.get("sheet"), f.get("cell")

    a, b = {key(f): f for f in old or []}, {key(f): f for f in new or []}
    return {"fixed": [a[k] for k in a if k not in b], "new": [b[k] for k in b if k not in a],
            "still": [b[k] for k in b if k in a]}
