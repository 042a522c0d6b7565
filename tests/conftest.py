"""Shared fixtures: the seed forms as test data (text extracted from the real Word/PDF files)."""
from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def seed_indicator_rows(path: Path) -> tuple[list[dict], dict]:
    """Read the 绩效指标 table of seed 000's text: one cell per tab-indented line, rows split by blank lines.

    Empty 一级/二级 cells are merged cells in the original: they carry the value from above.
    Returns the rows and the 合计 row.
    """
    text = path.read_text(encoding="utf-8")
    start = text.index("\t一级指标")
    blocks = text[start:].split("\n\n")[1:]
    rows, total = [], {}
    level1 = level2 = ""
    for block in blocks:
        cells = [c.lstrip("\t") for c in block.strip("\n").split("\n")]
        if cells and cells[0] == "合计":
            total = {"weight": float(cells[1]), "score": float(cells[2])}
            break
        # one leading cell for the merged 绩效指标 column, then 8 cells
        cells = cells[1:]
        if len(cells) < 8:
            continue
        level1 = cells[0] or level1
        level2 = cells[1] or level2
        rows.append({"level1": level1, "level2": level2, "name": cells[2], "target": cells[3],
                     "actual": cells[4], "weight": float(cells[5]), "reported": float(cells[6]),
                     "reason": cells[7]})
    return rows, total


@pytest.fixture(scope="session")
def seed000_rows():
    return seed_indicator_rows(DATA / "seed000_hunan_dept_2024.txt")
