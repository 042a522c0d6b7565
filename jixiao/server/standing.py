"""A round's standing, unit by unit: the board's rows with each owed document's state, what is missing,
days late and whom to contact — what the board page, its .xlsx and the reminder list show."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..season import requirements
from . import board as rules
from . import review as reviews
from .db import Round, Submission, Unit, User
from .pages import local
from .roundspec import documents


def owes_of(rnd: Round) -> Callable[[Any], list[requirements.Owed]] | None:
    """What the round requires of a unit (its projects from the round's list); None when it tracks nothing."""
    docs = documents(rnd)
    if not docs:
        return None
    listed = rnd.projects or {}
    return lambda unit: requirements.owed(docs, requirements.projects_of(listed, unit.name))


def labels(rnd: Round, rows: list[dict]) -> list[str]:
    """The document columns of the round's board: every owed document's label, in the order first owed."""
    out: list[str] = []
    for r in rows:
        for d in r.get("docs") or []:
            if d.owed.label not in out:
                out.append(d.owed.label)
    return out


def contacts(db: Session) -> dict[int, str]:
    """Each unit's active accounts, the people the bureau reminds."""
    out: dict[int, list[str]] = {}
    for u in db.scalars(select(User).where(User.role == "unit", User.active.is_(True)).order_by(User.name)):
        if u.unit_id is not None:
            out.setdefault(u.unit_id, []).append(u.name)
    return {k: "、".join(v) for k, v in out.items()}


def board_rows(db: Session, rnd: Round) -> list[dict]:
    subs = db.scalars(select(Submission).where(Submission.round_id == rnd.id)).all()
    rows = rules.rows(db.scalars(select(Unit).order_by(Unit.name)).all(), list(subs),
                      reviews.round_actions(db, rnd.id), reviews.completions(db, rnd.id), owes_of(rnd))
    who = contacts(db)
    for r in rows:
        r["contact"] = who.get(r["unit"].id, "")
    return rows


def plain(rows: list[dict]) -> list[dict]:
    """The rows as the exports take them (names and text, no database objects)."""
    return [{**r, "unit": r["unit"].name, "last": local(r["last"])} for r in rows]
