"""What the pages and the API both do with the rows: find a round or a submission the user may see,
save an upload as new versions, ask for a re-check, and write the audit log."""
from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy import bindparam, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from ..season import lateness
from . import quota
from .db import Audit, Blob, Job, Round, Submission, User, now, public_id
from .deps import Ctx
from .jobs import recheck
from .pages import utc
from .work import REPORT_SUFFIXES
from .writer import BEFORE_COMMIT

MAX_ID = 2**31 - 1  # the largest id or offset the databases' integer columns hold


def audit(db, user: User | None, action: str, target: str | None = None, detail: str | None = None,
          request: Request | None = None) -> None:
    db.add(Audit(user_id=user.id if user else None, user_name=user.name if user else None, action=action,
                 target=(target or "")[:300], detail=detail,
                 address=request.client.host if request is not None and request.client else None))


def visible_sub(db, user: User, pid: str) -> Submission:
    sub = db.scalar(select(Submission).where(Submission.public_id == pid))
    if sub is None or (user.role != "bureau" and sub.unit_id != user.unit_id):
        raise HTTPException(404, "没有这个提交")  # the same answer whether it exists or not
    return sub


def round_or_404(db, rid: int) -> Round:
    rnd = db.get(Round, rid) if 0 < rid <= MAX_ID else None
    if rnd is None:
        raise HTTPException(404, "没有这个批次")
    return rnd


def pick_round(db, raw: Any) -> Round:
    """The round an upload names, or else the latest one still open."""
    if raw not in (None, ""):
        try:
            rid = int(str(raw))
        except ValueError:
            rid = 0
        return round_or_404(db, rid)
    rnd = db.scalar(select(Round).where((Round.deadline.is_(None)) | (Round.deadline > now()),
                                        Round.closed_at.is_(None))
                    .order_by(Round.id.desc()).limit(1))
    if rnd is None:
        raise HTTPException(409, "目前没有开放的批次，请等待绩效科设立批次")
    return rnd


def sub_json(s: Submission, findings: bool = False) -> dict:
    d = {"id": s.public_id, "file": s.filename, "unit": s.unit.name, "round": s.round_id,
         "version": s.version, "status": s.status, "verdict": s.verdict,
         "counts": {"error": s.n_error, "warning": s.n_warning}, "sha256": s.sha256, "size": s.size,
         "created_at": utc(s.created_at), "checked_at": utc(s.checked_at), "withdrawn_at": utc(s.withdrawn_at),
         "days_late": s.days_late or 0}
    if findings:
        d["result"] = s.result
        d["findings"] = s.findings or []
    return d


def ask_quota(ctx: Ctx, db, user: User, rnd_id: int, accepted: list[tuple[str, bytes]]) -> None:  # noqa: ANN001
    """413 now, before a byte is written, when the files would take the unit past its quota; ``prepare``'s rows
    ask again in the transaction that inserts them (the answer that counts)."""
    limit = ctx.settings.unit_quota_bytes
    if accepted and limit > 0 and user.unit_id is not None:
        admitted(quota.check, db, limit, rnd_id, user.unit_id,
                 [(hashlib.sha256(data).hexdigest(), len(data)) for _, data in accepted])


@dataclass
class Upload:
    """Accepted files staged (written beside the store, fsynced), the function that writes their rows, and the
    one that moves the files into the store (the group writer runs it just before the commit)."""
    staged: list[tuple[str, Any]]
    rows: Callable[[Any], list[dict]]
    publish: Callable[[], None]
    unit_id: int

    def discard(self, store: Any) -> None:
        """Remove what is still staged (published files are gone from the staging folder already)."""
        for _, s in self.staged:
            store.discard(s)


def prepare(ctx: Ctx, user: User, rnd_id: int, accepted: list[tuple[str, bytes]], address: str | None,
            also: Callable[[Any], None] | None = None) -> Upload:
    """Stage the accepted files and make the function that saves them as the next versions of their slots,
    each with its check job; ``also(db)`` runs in the same transaction once rows were made (one commit per
    upload, not two). File work: call it off the event loop, then ``commit``.

    The unit's quota is asked in the transaction that inserts the rows, the unit's row locked (callers ask
    ``ask_quota`` first, to refuse before staging); the staged files enter the store only once that answer
    is yes.
    """
    limit = ctx.settings.unit_quota_bytes
    assert user.unit_id is not None  # a submitter always has its unit
    unit_id: int = user.unit_id
    staged = [(name, ctx.store.stage(data)) for name, data in accepted]  # durable before the ids exist
    shas = [(name, s.sha, s.size) for name, s in staged]

    def rows(db) -> list[dict]:  # noqa: ANN001 - run by the group writer inside its transaction
        admitted(quota.admit, db, limit, rnd_id, unit_id, [(sha, size) for _, sha, size in shas])
        late = lateness.days_late(round_deadline(db, rnd_id), now())
        made = insert_versions(db, user, rnd_id, unit_id, shas, late, address)
        if any(not name.lower().endswith(REPORT_SUFFIXES) for name, _, _ in shas):
            recheck_reports(db, rnd_id, unit_id, {str(m["id"]) for m in made})
        if made and also is not None:
            also(db)
        return made

    def publish() -> None:  # just before the commit, once no upload of the group was refused
        for _, s in staged:
            ctx.store.publish(s)

    return Upload(staged, rows, publish, unit_id)


async def commit(ctx: Ctx, upload: Upload) -> list[dict]:
    """The upload's rows written in the group writer's next transaction; answers once that is committed.

    The event loop awaits the commit itself (no thread waits for it). The staged files are removed once the
    writer is done with them, whatever happened (published ones are in the store by then), also when the
    request is cancelled while the writer holds it."""
    writer = ctx.writer
    assert writer is not None, "the group writer starts with the app"
    for attempt in range(5):
        fut = writer.submit(upload.rows, order=upload.unit_id, finish=upload.publish)
        try:
            made = await asyncio.wrap_future(fut)
        except IntegrityError:  # two uploads raced for the same version or blob: count again
            if attempt < 4:
                continue
            upload.discard(ctx.store)
            raise
        except BaseException:  # refused, failed, or cancelled: then the writer may still hold it
            fut.add_done_callback(lambda _: upload.discard(ctx.store))
            raise
        upload.discard(ctx.store)
        return made
    return []


# Built once, run by every upload (statements built per call cost more than the queries themselves).
_DEADLINE = select(Round.deadline).where(Round.id == bindparam("r"))


def round_deadline(db, rnd_id: int):  # noqa: ANN001, ANN201
    """The round's deadline, read once per transaction (a group commit's uploads are mostly of one round)."""
    key = ("deadline", rnd_id)
    if key not in db.info:
        db.info[key] = db.connection().execute(_DEADLINE, {"r": rnd_id}).scalar()
    return db.info[key]


_VERSION_COLUMNS = ("public_id", "round_id", "unit_id", "user_id", "filename", "slot", "sha256", "size", "status",
                    "days_late", "n_error", "n_warning", "created_at")
# the next version of a slot, numbered by the database in the statement that inserts it
_NEW_VERSION = insert(Submission).from_select(
    [*_VERSION_COLUMNS, "version"],
    select(*(bindparam(c, type_=Submission.__table__.c[c].type) for c in _VERSION_COLUMNS),
           func.coalesce(func.max(Submission.version), 0) + 1)
    .where(Submission.round_id == bindparam("round_id"), Submission.unit_id == bindparam("unit_id"),
           Submission.slot == bindparam("slot"))
).returning(Submission.id, Submission.public_id, Submission.version)
_NEW_JOBS = insert(Job)
_NEW_AUDIT = insert(Audit)


def _new_blobs(conn, sizes: dict[str, int], at) -> None:  # noqa: ANN001
    """Blob rows for the files not stored yet; a file already stored (by any unit) is left as it is."""
    from sqlalchemy.dialects import postgresql, sqlite

    rows = [{"sha256": sha, "size": size, "created_at": at} for sha, size in sizes.items()]
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(Blob).on_conflict_do_nothing(index_elements=["sha256"]), rows)
    else:
        conn.execute(sqlite.insert(Blob).on_conflict_do_nothing(index_elements=["sha256"]), rows)


def insert_versions(db, user: User, rnd_id: int, unit_id: int, files: list[tuple[str, str, int]], late: int,
                    address: str | None) -> list[dict]:  # noqa: ANN001
    """Each file (name, sha256, size) as the next version of its slot, with its check job and audit line;
    written with the database's own inserts (no unit of work: an upload is a handful of statements). The
    jobs and audit lines of all the uploads a group commit holds are inserted together before its commit
    (``writer.BEFORE_COMMIT``)."""
    conn = db.connection()
    at = now()
    if files:
        _new_blobs(conn, {sha: size for _, sha, size in files}, at)
    made, jobs, lines = [], [], []
    for name, sha, size in files:
        slot = name.casefold()
        sid, pid, version = conn.execute(_NEW_VERSION, {
            "public_id": public_id(), "round_id": rnd_id, "unit_id": unit_id, "user_id": user.id, "filename": name,
            "slot": slot, "sha256": sha, "size": size, "status": "queued", "days_late": late,
            "n_error": 0, "n_warning": 0, "created_at": at}).one()
        jobs.append({"submission_id": sid, "state": "queued", "attempts": 0, "isolate": False, "created_at": at})
        lines.append({"at": at, "user_id": user.id, "user_name": user.name, "action": "submit", "target": pid,
                      "detail": f"{name} v{version} sha256={sha[:12]}", "address": address})
        made.append({"id": pid, "file": name, "version": version, "status": "queued", "days_late": late})
    if jobs:
        pending = db.info.get(_PENDING)
        if pending is None:  # the group's first upload: its jobs and audit lines are written at the end
            pending = db.info[_PENDING] = ([], [])
            db.info.setdefault(BEFORE_COMMIT, {})[_PENDING] = _write_pending
        pending[0].extend(jobs)
        pending[1].extend(lines)
    return made


_PENDING = "jx_new_jobs_and_audit"


def _write_pending(db) -> None:  # noqa: ANN001
    """The check jobs and audit lines of a group's uploads, in two statements for the whole group."""
    jobs, lines = db.info.pop(_PENDING)
    conn = db.connection()
    conn.execute(_NEW_JOBS, jobs)
    conn.execute(_NEW_AUDIT, lines)


def admitted(ask, *args) -> None:  # noqa: ANN001
    """``quota.check`` or ``quota.admit``; over the quota: 413 with the Chinese message and its code."""
    try:
        ask(*args)
    except quota.Exceeded as e:
        raise HTTPException(413, str(e)) from None


_REPORTS = (select(Submission.id, Submission.public_id, Submission.unit_id, Submission.slot, Submission.version,
                   Submission.filename, Submission.status, Submission.withdrawn_at)
            .where(Submission.round_id == bindparam("r"), Submission.unit_id == bindparam("u"),
                   or_(*(func.lower(Submission.filename).like(f"%{sfx}") for sfx in REPORT_SUFFIXES))))


def recheck_reports(db, rnd_id: int, unit_id: int | None, fresh: set[str]) -> None:  # noqa: ANN001
    """A unit's form changed: its 自评报告 (latest versions, not uploaded just now) is checked again against it."""
    from .board import latest_of

    # a slot's versions share its suffix, so latest_of over the reports' rows alone holds
    rows = db.connection().execute(_REPORTS, {"r": rnd_id, "u": unit_id}).all()
    for s in latest_of(rows).values():
        if s.filename.lower().endswith(REPORT_SUFFIXES) and s.public_id not in fresh and s.status == "checked":
            recheck(db, db.get(Submission, s.id))


def recheck_sub(ctx: Ctx, user: User, pid: str, request: Request) -> None:
    """A reviewer asks for a submission to be checked again."""
    if user.role != "bureau":
        raise HTTPException(403, "只有绩效科可以要求重新检查")
    with ctx.Session.begin() as db:
        sub = visible_sub(db, user, pid)
        recheck(db, sub)
        audit(db, user, "recheck", pid, sub.filename, request)
    if ctx.dispatcher:
        ctx.dispatcher.wake()
