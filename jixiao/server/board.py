"""The board's rules: which version of a file counts, and a unit's status in a round from those versions.

Plain functions over submissions (anything with the attributes of ``db.Submission``): no database, no HTTP.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# a unit's status on the board, in the order the board shows its cards
NOT_SUBMITTED, CHECKING, ERRORS, WARNINGS, PASSED = "未提交", "检查中", "有错误", "有警告", "通过"
BOARD = [NOT_SUBMITTED, CHECKING, ERRORS, WARNINGS, PASSED]


def latest_of(subs: Iterable[Any]) -> dict[tuple[int, str], Any]:
    """The latest version of each file, keyed by (unit, slot): a file uploaded again replaces its earlier versions."""
    out: dict[tuple[int, str], Any] = {}
    for s in subs:
        k = (s.unit_id, s.slot)
        if k not in out or s.version > out[k].version:
            out[k] = s
    return out


def unit_status(latest: list[Any]) -> str:
    """A unit's status from the latest versions of its files: the worst of them, a check under way first."""
    if not latest:
        return NOT_SUBMITTED
    if any(s.status in ("queued", "checking") for s in latest):
        return CHECKING
    if any(s.n_error for s in latest):
        return ERRORS
    if any(s.n_warning for s in latest):
        return WARNINGS
    return PASSED


def rows(units: Iterable[Any], subs: list[Any]) -> list[dict]:
    """One board row per unit (in the order given), from every submission of the round."""
    by_unit: dict[int, list[Any]] = {}
    for (uid, _), s in latest_of(subs).items():
        by_unit.setdefault(uid, []).append(s)
    out = []
    for unit in units:
        us = sorted(by_unit.get(unit.id, []), key=lambda s: s.filename)
        out.append({"unit": unit, "status": unit_status(us), "files": len(us),
                    "errors": sum(s.n_error for s in us), "warnings": sum(s.n_warning for s in us),
                    "last": max((s.created_at for s in us), default=None),
                    "versions": sum(1 for s in subs if s.unit_id == unit.id)})
    return out


def counts(board_rows: list[dict]) -> dict[str, int]:
    """How many units stand at each status (every status present, zero included)."""
    return {k: sum(1 for r in board_rows if r["status"] == k) for k in BOARD}


def shown(board_rows: list[dict], status: str | None, q: str | None) -> list[dict]:
    """The rows the reviewer's filter keeps: one status, and a unit name containing ``q``."""
    return [r for r in board_rows if (not status or r["status"] == status)
            and (not q or q.strip() in r["unit"].name)]
