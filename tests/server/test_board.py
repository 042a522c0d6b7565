"""The board's rules (jixiao/server/board.py) on submissions that never meet a database or a request."""
from __future__ import annotations

from datetime import datetime

from jixiao.server import board
from jixiao.server.db import Submission, Unit

T0 = datetime(2026, 3, 1, 9, 0)


def sub(unit: int, name: str, version: int, status: str = "checked", errors: int = 0, warnings: int = 0,
        minute: int = 0) -> Submission:
    return Submission(unit_id=unit, filename=name, slot=name.casefold(), version=version, status=status,
                      n_error=errors, n_warning=warnings, created_at=T0.replace(minute=minute))


def test_the_latest_version_of_each_file_counts():
    old, new = sub(1, "甲.xlsx", 1, errors=3), sub(1, "甲.xlsx", 2)
    other_unit = sub(2, "甲.xlsx", 1, errors=1)
    latest = board.latest_of([new, other_unit, old])  # order of arrival does not matter
    assert latest == {(1, "甲.xlsx"): new, (2, "甲.xlsx"): other_unit}


def test_a_unit_status_is_the_worst_of_its_latest_files_a_check_under_way_first():
    assert board.unit_status([]) == "未提交"
    assert board.unit_status([sub(1, "a.xlsx", 1)]) == "通过"
    assert board.unit_status([sub(1, "a.xlsx", 1, warnings=2), sub(1, "b.xlsx", 1)]) == "有警告"
    assert board.unit_status([sub(1, "a.xlsx", 1, warnings=2), sub(1, "b.xlsx", 1, errors=1)]) == "有错误"
    for waiting in ("queued", "checking"):
        assert board.unit_status([sub(1, "a.xlsx", 1, errors=5), sub(1, "b.xlsx", 1, status=waiting)]) == "检查中"
    # a check that failed counts by its findings (the failure is an error finding), not as under way
    assert board.unit_status([sub(1, "a.xlsx", 1, status="failed", errors=1)]) == "有错误"


def test_rows_one_per_unit_from_the_latest_versions():
    units = [Unit(id=1, name="甲单位"), Unit(id=2, name="乙单位"), Unit(id=3, name="丙单位")]
    subs = [sub(1, "自评表.xlsx", 1, errors=4, minute=1), sub(1, "自评表.xlsx", 2, warnings=1, minute=5),
            sub(1, "项目.xlsx", 1, minute=3), sub(2, "自评表.xlsx", 1, status="queued", minute=7)]
    rows = board.rows(units, subs)
    assert [r["unit"].name for r in rows] == ["甲单位", "乙单位", "丙单位"]  # the order given
    first, second, third = rows
    # the fixed second version replaced the first's four errors; every version is still counted
    assert (first["status"], first["files"], first["errors"], first["warnings"], first["versions"]) == (
        "有警告", 2, 0, 1, 3)
    assert first["last"] == T0.replace(minute=5)
    assert (second["status"], second["files"], second["versions"]) == ("检查中", 1, 1)
    assert (third["status"], third["files"], third["errors"], third["last"], third["versions"]) == (
        "未提交", 0, 0, None, 0)

    counts = board.counts(rows)
    assert list(counts) == board.BOARD  # every card, in the board's order, zeros included
    assert counts == {"未提交": 1, "检查中": 1, "有错误": 0, "有警告": 1, "通过": 0}
    assert [r["unit"].name for r in board.shown(rows, "检查中", None)] == ["乙单位"]
    assert [r["unit"].name for r in board.shown(rows, None, " 丙 ")] == ["丙单位"]
    assert board.shown(rows, "通过", None) == []
    assert len(board.shown(rows, "", "")) == 3
