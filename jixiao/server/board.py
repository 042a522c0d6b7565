"""The board's rules: which version of a file counts, and a unit's status in a round from those versions.

Plain functions over submissions (anything with the attributes of ``db.Submission``): no database, no HTTP.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..season import requirements

# a unit's status on the board, in the order the board shows its cards
NOT_SUBMITTED, CHECKING, ERRORS, WARNINGS, PASSED = "未提交", "检查中", "有错误", "有警告", "通过"
BOARD = [NOT_SUBMITTED, CHECKING, ERRORS, WARNINGS, PASSED]
# the reviewer's side, per file and per unit: waiting for the reviewer, waiting for the unit, done
PENDING, RETURNED, APPROVED = "待审核", "已退回", "已通过"
REVIEW = [PENDING, RETURNED, APPROVED]


def latest_of(subs: Iterable[Any]) -> dict[tuple[int, str], Any]:
    """The latest version of each file, keyed by (unit, slot): a file uploaded again replaces its earlier versions.

    A file whose latest version the unit withdrew (撤回) is not there at all; uploaded again, it is back."""
    out: dict[tuple[int, str], Any] = {}
    for s in subs:
        k = (s.unit_id, s.slot)
        if k not in out or s.version > out[k].version:
            out[k] = s
    return {k: s for k, s in out.items() if getattr(s, "withdrawn_at", None) is None}


def last_action(actions: Iterable[Any]) -> Any | None:
    """The reviewer's latest decision among ``actions`` (rows with ``action``, ``at``, ``id``), or None."""
    return max(actions, key=lambda a: (a.at, a.id or 0), default=None)


def file_review(latest: Any, actions: Iterable[Any]) -> str:
    """A file's review state from its latest version and the decisions on any of its versions.

    退回 or 通过 stand for the version they were given on; a version uploaded since waits for the reviewer,
    as does a file reopened (重新打开) or never decided on."""
    last = last_action(actions)
    if last is None or last.action == "reopen" or last.submission_id != latest.id:
        return PENDING
    return RETURNED if last.action == "return" else APPROVED


def returned_open(actions: Iterable[Any]) -> bool:
    """Whether the reviewer's last word on a file is 退回修改: the unit may then upload it after the deadline."""
    last = last_action(actions)
    return last is not None and last.action == "return"


def locked(latest: Any | None, actions: Iterable[Any]) -> bool:
    """Whether a file is approved as it stands: no new version, no withdrawal, until a reviewer reopens it."""
    return latest is not None and file_review(latest, actions) == APPROVED


def unit_review(states: list[str]) -> str | None:
    """A unit's review state from its files' states: None before it submits anything; 待审核 while any file
    waits for the reviewer, else 已退回 while any waits for the unit, else 已通过."""
    if not states:
        return None
    for k in (PENDING, RETURNED):
        if k in states:
            return k
    return APPROVED


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


def rows(units: Iterable[Any], subs: list[Any], actions: Iterable[Any] = (),
         complete: dict[int, Any] | None = None,
         owes: Callable[[Any], list[requirements.Owed]] | None = None) -> list[dict]:
    """One board row per unit (in the order given), from every submission of the round, the reviewers'
    decisions on them (``actions``: rows with ``submission_id``) and when each unit said 提交完毕.

    ``owes``: what the round requires of a unit (a round that tracks its documents); each row then has its
    documents' states (``docs``), what is ``missing``, ``all_in`` and the most ``days_late`` of its files."""
    by_unit: dict[int, list[Any]] = {}
    for (uid, _), s in latest_of(subs).items():
        by_unit.setdefault(uid, []).append(s)
    slot_of = {s.id: (s.unit_id, s.slot) for s in subs}
    by_slot: dict[tuple[int, str], list[Any]] = {}
    for a in actions:
        if a.submission_id in slot_of:
            by_slot.setdefault(slot_of[a.submission_id], []).append(a)
    out = []
    for unit in units:
        us = sorted(by_unit.get(unit.id, []), key=lambda s: s.filename)
        review = unit_review([file_review(s, by_slot.get((s.unit_id, s.slot), [])) for s in us])
        out.append({"unit": unit, "status": unit_status(us), "files": len(us), "review": review,
                    "complete": (complete or {}).get(unit.id),
                    "errors": sum(s.n_error for s in us), "warnings": sum(s.n_warning for s in us),
                    "last": max((s.created_at for s in us), default=None),
                    "versions": sum(1 for s in subs if s.unit_id == unit.id),
                    "days_late": max((getattr(s, "days_late", 0) or 0 for s in us), default=0)})
        if owes is not None:
            docs = requirements.unit_documents(owes(unit), us)
            out[-1].update(docs=docs, missing=requirements.missing(docs), all_in=requirements.complete(docs))
    return out


def counts(board_rows: list[dict]) -> dict[str, int]:
    """How many units stand at each status (every status present, zero included)."""
    return {k: sum(1 for r in board_rows if r["status"] == k) for k in BOARD}


def review_counts(board_rows: list[dict]) -> dict[str, int]:
    """How many units stand at each review state (待审核 / 已退回 / 已通过, zeros included)."""
    return {k: sum(1 for r in board_rows if r.get("review") == k) for k in REVIEW}


def shown(board_rows: list[dict], status: str | None, q: str | None, review: str | None = None) -> list[dict]:
    """The rows the reviewer's filter keeps: one status, one review state, and a unit name containing ``q``."""
    return [r for r in board_rows if (not status or r["status"] == status)
            and (not review or r.get("review") == review)
            and (not q or q.strip() in r["unit"].name)]
