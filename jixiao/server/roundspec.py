"""A round's fields, checked once for the page that sets a round up and for the API; closing a round;
a round as the API shows it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from ..profile import shipped_profiles
from ..rules import error_codes
from ..season import lateness, requirements
from .db import Round, User, now
from .pages import FORM_KINDS, china_time, utc
from .records import audit

error_codes({"round.invalid": "批次信息有误", "round.forbidden": "只有绩效科可以设立或关闭批次"})


class RoundError(ValueError):
    """The Chinese reasons a round's fields are refused, joined by ；."""


@dataclass
class RoundFields:
    name: str
    year: int
    kinds: list[str]
    profile: str | None
    deadline: datetime | None  # naive UTC, as the database keeps it
    documents: list[str] = field(default_factory=list)  # what each unit owes (jixiao.season.requirements)
    late_policy: str = lateness.REFUSE
    projects: dict[str, list[str]] | None = None  # projects listed per unit


def deadline_of(raw: Any) -> datetime | None:
    """A deadline: ISO 8601; with an offset it is that moment, without one it is Beijing time (as officers write it)."""
    text = str(raw or "").strip()
    if not text:
        return None
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    t = datetime.fromisoformat(text)
    if t.tzinfo is None:
        return china_time(text)
    return t.astimezone(timezone.utc).replace(tzinfo=None)


def fields(name: Any, year: Any, kinds: list[Any], profile: Any, deadline: Any, documents: list[Any] | None = None,
           late_policy: Any = None, projects: dict[str, list[str]] | None = None) -> RoundFields:
    """The fields of a new round, or RoundError with every reason they are refused."""
    problems = []
    docs: list[str] = []
    policy = lateness.REFUSE
    try:
        docs = requirements.documents_of(documents or [])
    except ValueError as e:
        problems.append(str(e))
    try:
        policy = lateness.policy_of(late_policy)
    except ValueError as e:
        problems.append(str(e))
    name = str(name or "").strip()[:200]
    kinds = [str(k) for k in kinds if str(k) in FORM_KINDS]
    profile = str(profile or "") or None
    try:
        y = int(str(year if year is not None else ""))
        if not 2000 <= y <= 2100:
            raise ValueError
    except ValueError:
        y = 0
        problems.append("年度应为四位数字")
    if not name:
        problems.append("请填写批次名称")
    if not kinds:
        problems.append("请至少选择一种表格")
    if profile and profile not in shipped_profiles():
        problems.append("没有这个规则配置")
    d = None
    try:
        d = deadline_of(deadline)
    except (ValueError, TypeError):
        problems.append("截止时间格式不对")
    if problems:
        raise RoundError("；".join(problems))
    return RoundFields(name, y, kinds, profile, d, docs, policy, projects or None)


def create(db: Session, user: User, f: RoundFields, request: Any = None) -> Round:
    rnd = Round(name=f.name, year=f.year, kinds=",".join(f.kinds), profile=f.profile, deadline=f.deadline,
                created_by=user.id, documents=",".join(f.documents) or None, late_policy=f.late_policy,
                projects=f.projects)
    db.add(rnd)
    db.flush()
    audit(db, user, "round.create", f"{rnd.id} {f.name}", request=request)
    return rnd


def close(db: Session, user: User, rnd: Round, request: Any = None) -> Round:
    """A round closed takes no upload at all, not even a returned file's; closing twice changes nothing."""
    if rnd.closed_at is None:
        rnd.closed_at = now()
        audit(db, user, "round.close", f"{rnd.id} {rnd.name}", request=request)
    return rnd


def state(rnd: Round, at: datetime | None = None) -> str:
    """open | past_deadline | closed."""
    if rnd.closed_at is not None:
        return "closed"
    if rnd.deadline is not None and (at or now()) > rnd.deadline:
        return "past_deadline"
    return "open"


def to_json(rnd: Round) -> dict[str, Any]:
    return {"id": rnd.id, "name": rnd.name, "year": rnd.year, "kinds": rnd.kinds.split(","), "profile": rnd.profile,
            "deadline": utc(rnd.deadline), "closed_at": utc(rnd.closed_at), "state": state(rnd),
            "created_at": utc(rnd.created_at), "documents": documents(rnd), "late_policy": rnd.late_policy,
            "projects": rnd.projects or {}}


def documents(rnd: Round) -> list[str]:
    """The document kinds the round requires of each unit ([]: the round does not track them)."""
    return [k for k in (rnd.documents or "").split(",") if k]


def edit(db: Session, user: User, rnd: Round, f: RoundFields, request: Any = None) -> Round:
    """A reviewer changes a round's fields (the same checks as a new round's); audited."""
    rnd.name, rnd.year, rnd.kinds, rnd.profile, rnd.deadline = f.name, f.year, ",".join(f.kinds), f.profile, f.deadline
    rnd.documents, rnd.late_policy, rnd.projects = ",".join(f.documents) or None, f.late_policy, f.projects
    audit(db, user, "round.edit", f"{rnd.id} {f.name}",
          f"documents={rnd.documents or ''} late_policy={f.late_policy} projects={len(f.projects or {})}", request)
    return rnd


