"""What the pages and the API both do with the rows: find a round or a submission the user may see,
save an upload as new versions, ask for a re-check, and write the audit log."""
from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy import bindparam, func, insert, literal, or_, select, text, true, union_all
from sqlalchemy.exc import IntegrityError

from ..season import lateness
from . import quota
from .db import Audit, Blob, Job, Round, Submission, Unit, User, now, public_id
from .deps import Ctx
from .jobs import recheck
from .pages import utc
from .work import REPORT_SUFFIXES

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


def named_round(raw: Any) -> Any:
    """The condition on ``Round`` that picks the round an upload names (an id), or else the latest one still
    open; a name that cannot be an id picks none."""
    if raw not in (None, ""):
        try:
            rid = int(str(raw))
        except ValueError:
            rid = 0
        return Round.id == (rid if 0 < rid <= MAX_ID else 0)
    latest_open = (select(func.max(Round.id))
                   .where((Round.deadline.is_(None)) | (Round.deadline > now()), Round.closed_at.is_(None)))
    return Round.id == latest_open.scalar_subquery()


def no_round(raw: Any) -> HTTPException:
    """The answer when ``named_round(raw)`` found none."""
    if raw not in (None, ""):
        return HTTPException(404, "没有这个批次")
    return HTTPException(409, "目前没有开放的批次，请等待绩效科设立批次")


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
    """413 now, before a byte is written, when the files would take the unit past its quota; ``write_uploads``
    asks again in the transaction that inserts the rows (the answer that counts). Asked of the database only
    when the files do not fit for certain in what this process last saw the unit store (``Ctx.stored``): a
    hint too low or too old only lets the writer give the refusal instead."""
    limit = ctx.settings.unit_quota_bytes
    if not accepted or limit <= 0 or user.unit_id is None:
        return
    seen = ctx.stored.get((rnd_id, user.unit_id))
    if seen is not None and seen + sum(len(data) for _, data in accepted) <= limit:
        return
    try:
        quota.check(db, limit, rnd_id, user.unit_id,
                    [(hashlib.sha256(data).hexdigest(), len(data)) for _, data in accepted])
    except quota.Exceeded as e:
        raise refused(e) from None


def refused(e: quota.Exceeded) -> HTTPException:
    return HTTPException(413, str(e))


@dataclass
class Upload:
    """One request's accepted files, staged (written beside the store, fsynced), and who sends them where:
    what ``write_uploads`` saves as the next versions of their slots, in the group writer's transaction."""
    staged: list[tuple[str, Any]]
    store: Any
    round_id: int
    unit_id: int
    user_id: int
    user_name: str
    address: str | None
    limit: int  # the unit's quota in the round, bytes (0: none)
    seen: dict[tuple[int, int], int]  # Ctx.stored: told what the unit stores once its upload is admitted

    def files(self) -> list[tuple[str, str, int]]:
        """(name, sha256, size) of each file."""
        return [(name, s.sha, s.size) for name, s in self.staged]

    def publish(self) -> None:
        """The staged files into the store: run just before the commit, once the upload was not refused."""
        for _, s in self.staged:
            self.store.publish(s)

    def discard(self) -> None:
        """Remove what is still staged (published files are gone from the staging folder already)."""
        for _, s in self.staged:
            self.store.discard(s)


class Staging:
    """An upload's accepted files being staged (``BlobStore.stage_soon``) while its round is read: once the
    round has sorted them, those it takes are kept (``keep``) and the others removed; ``drop`` removes them
    all (the upload was refused as a whole)."""

    def __init__(self, store: Any, accepted: list[tuple[str, bytes]]):
        self.store = store
        self.files = [(entry, store.stage_soon(entry[1])) for entry in accepted]

    def keep(self, accepted: list[tuple[str, bytes]]) -> list[tuple[str, Any]]:
        """The staged files of the entries still in ``accepted`` (a part of those staged, the same tuples),
        as (name, staged); the others removed."""
        still = {id(entry) for entry in accepted}
        kept = []
        try:
            for entry, fut in self.files:
                staged = fut.result()
                if id(entry) in still:
                    kept.append((entry[0], staged))
                else:
                    self.store.discard(staged)
        except BaseException:
            self.drop()
            raise
        return kept

    def drop(self) -> None:
        for _, fut in self.files:
            try:
                self.store.discard(fut.result())
            except Exception:  # noqa: BLE001, S110 - a file that failed to stage left nothing behind
                pass


def prepare(ctx: Ctx, user: User, rnd_id: int, staged: list[tuple[str, Any]], address: str | None) -> Upload:
    """The upload of the staged files (durable before any id exists) to the round; ``commit`` writes it."""
    assert user.unit_id is not None  # a submitter always has its unit
    return Upload(staged, ctx.store, rnd_id, user.unit_id, user.id, user.name, address,
                  ctx.settings.unit_quota_bytes, ctx.stored)


async def commit(ctx: Ctx, upload: Upload) -> list[dict]:
    """The upload's rows written in the group writer's next transaction; answers once that is committed.

    The event loop awaits the commit itself (no thread waits for it). The staged files are removed once the
    writer is done with them, whatever happened (published ones are in the store by then), also when the
    request is cancelled while the writer holds it."""
    writer = ctx.writer
    assert writer is not None, "the group writer starts with the app"
    if not upload.staged:  # every file refused: nothing to write
        return []
    for attempt in range(5):
        fut = writer.submit(upload, order=upload.unit_id, finish=upload.publish, together=write_uploads)
        try:
            made = await asyncio.wrap_future(fut)
        except IntegrityError:  # a race lost to another server on the same database: count again
            if attempt < 4:
                continue
            upload.discard()
            raise
        except BaseException:  # refused, failed, or cancelled: then the writer may still hold it
            fut.add_done_callback(lambda _: upload.discard())
            raise
        upload.discard()
        return made
    return []


# Built once, run by every upload group (statements built per call cost more than the queries themselves).
# The units' rows locked, in id order, for the rest of the writing transaction (one upload group of a unit at
# a time: its quota and its version numbers), with the rounds' deadlines; SQLite's write transaction holds
# the whole database already, and reads the deadlines alone.
_LOCK = (select(Round.id, Round.deadline, Unit.id).select_from(Round).join(Unit, true())  # rounds × units
         .where(Round.id.in_(bindparam("rs", expanding=True)), Unit.id.in_(bindparam("us", expanding=True)))
         .order_by(Unit.id).with_for_update(of=Unit, key_share=True))  # FOR NO KEY UPDATE: rows that refer to the unit may still be added
_DEADLINES = select(Round.id, Round.deadline).where(Round.id.in_(bindparam("rs", expanding=True)))
# The last version of each slot the group's files go to, and each 自评报告 slot the units have (their
# reports are checked again when a form comes in), as rows (kind, unit, slot, version); with the quota's rows
# in the same statement when there is a quota.
_SLOTS = (select(literal("slot").label("kind"), Submission.unit_id, Submission.slot.label("key"),
                 func.max(Submission.version).label("n"))
          .where(Submission.round_id == bindparam("r"), Submission.unit_id.in_(bindparam("us", expanding=True)),
                 or_(Submission.slot.in_(bindparam("slots", expanding=True)),
                     *(Submission.slot.like(f"%{sfx}") for sfx in REPORT_SUFFIXES)))
          .group_by(Submission.unit_id, Submission.slot))
_SLOTS_AND_QUOTA = union_all(_SLOTS, *quota.PARTS)
_NEW_VERSIONS = insert(Submission).returning(Submission.id, sort_by_parameter_order=True)
_NEW_JOBS = insert(Job)
_NEW_AUDIT = insert(Audit)


@dataclass
class _Round:
    """What the group's writing transaction read of one round, for its uploads there."""
    uploads: list[Upload]
    late: int = 0  # days past the deadline, for a version made now
    last: dict[tuple[int, str], int] = field(default_factory=dict)  # (unit, slot): its last version
    reports: set[int] = field(default_factory=set)  # units with a 自评报告 in the round
    storage: dict[int, quota.Stored] = field(default_factory=dict)


def write_uploads(db, uploads: list[Upload]) -> list[list[dict] | HTTPException]:  # noqa: ANN001
    """A group's uploads as the next versions of their files' slots, each with its check job and audit line;
    each upload's outcome: its new versions, or the 413 it is refused with (over its unit's quota, counting
    the group's uploads before it). A handful of statements for the whole group, whatever its size: the
    units locked (with the deadlines), their slots and storage read, then the blobs, the versions, the jobs,
    the units' 提交完毕 they take back and the audit lines (``_insert_versions``); their 自评报告, where they
    have any, queued to be checked again."""
    rounds, at = _read_rounds(db, uploads)
    outcomes: list[list[dict] | HTTPException] = []
    kept: dict[int, list[dict]] = {}  # id(upload): its new versions, for the uploads not refused
    for up in uploads:
        try:
            if up.limit > 0:
                unit = rounds[up.round_id].storage[up.unit_id]
                unit.admit(up.limit, [(sha, n) for _, sha, n in up.files()])
                up.seen[(up.round_id, up.unit_id)] = unit.used
        except quota.Exceeded as e:
            outcomes.append(refused(e))
            continue
        outcomes.append(kept.setdefault(id(up), []))
    fresh = [up for up in uploads if id(up) in kept and up.staged]
    if not fresh:
        return outcomes
    rows, lines = _version_rows(fresh, rounds, at)
    for up, row in rows:
        kept[id(up)].append({"id": row["public_id"], "file": row["filename"], "version": row["version"],
                             "status": "queued", "days_late": row["days_late"]})
    _insert_versions(db, [row for _, row in rows], lines, _takers(fresh), at)
    new_ids = {row["public_id"] for _, row in rows}
    for rid, rnd in rounds.items():
        forms = {up.unit_id for up in fresh if up.round_id == rid
                 and any(not n.lower().endswith(REPORT_SUFFIXES) for n, _, _ in up.files())}
        recheck_reports(db, rid, sorted(forms & rnd.reports), new_ids)
    return outcomes


def _read_rounds(db, uploads: list[Upload]) -> tuple[dict[int, _Round], datetime]:  # noqa: ANN001
    """The group's units locked, then for each round: its lateness now, the last versions of the slots the
    files go to, the units that have a 自评报告, and (when there is a quota) the units' storage; and the time
    the group's rows are made at (once the locks are held: a group that waited on another comes after it)."""
    conn = db.connection()
    rounds: dict[int, _Round] = {}
    for up in uploads:
        rounds.setdefault(up.round_id, _Round([])).uploads.append(up)
    rs = sorted(rounds)
    if conn.dialect.name == "sqlite":
        deadlines = dict(conn.execute(_DEADLINES, {"rs": rs}).all())
    else:
        deadlines = {rid: deadline for rid, deadline, _ in conn.execute(_LOCK, {"rs": rs, "us": _units(uploads)})}
    at = now()
    for rid, rnd in rounds.items():
        rnd.late = lateness.days_late(deadlines.get(rid), at)
        units = _units(rnd.uploads)
        slots = sorted({name.casefold() for up in rnd.uploads for name, _, _ in up.files()})
        with_quota = any(up.limit > 0 for up in rnd.uploads)
        shas = [sha for up in rnd.uploads for _, sha, _ in up.files()]
        rows = conn.execute(_SLOTS_AND_QUOTA if with_quota else _SLOTS,
                            {**quota.params(rid, units, shas), "slots": slots or [""]}).all()
        for kind, unit_id, slot, version in rows:
            if kind != "slot":
                continue
            rnd.last[(unit_id, slot)] = int(version)
            if slot.endswith(REPORT_SUFFIXES):
                rnd.reports.add(unit_id)
        if with_quota:
            rnd.storage = quota.stored_from(rows, units)
    return rounds, at


def _units(uploads: list[Upload]) -> list[int]:
    return sorted({u.unit_id for u in uploads})


def _version_rows(uploads: list[Upload], rounds: dict[int, _Round],
                  at) -> tuple[list[tuple[Upload, dict]], list[dict]]:  # noqa: ANN001
    """The new versions' rows (each with its upload), numbered after the last version of each slot (two files
    of one slot in the group follow each other), and their audit lines."""
    rows, lines = [], []
    for up in uploads:
        rnd = rounds[up.round_id]
        for name, sha, size in up.files():
            key = (up.unit_id, name.casefold())
            version = rnd.last[key] = rnd.last.get(key, 0) + 1
            pid = public_id()
            rows.append((up, {"public_id": pid, "round_id": up.round_id, "unit_id": up.unit_id,
                              "user_id": up.user_id, "filename": name, "slot": key[1], "version": version,
                              "sha256": sha, "size": size, "status": "queued", "days_late": rnd.late,
                              "n_error": 0, "n_warning": 0, "created_at": at}))
            lines.append(_line(up, at, "submit", pid, f"{name} v{version} sha256={sha[:12]}"))
    return rows, lines


def _takers(uploads: list[Upload]) -> dict[tuple[int, int], Upload]:
    """(round, unit) → the group's first upload there: who takes back the unit's 提交完毕 in the round, if it
    said one (new versions came in)."""
    first: dict[tuple[int, int], Upload] = {}
    for up in uploads:
        first.setdefault((up.round_id, up.unit_id), up)
    return first


def _insert_versions(db, rows: list[dict], lines: list[dict], takers: dict[tuple[int, int], Upload],
                     at) -> None:  # noqa: ANN001
    """The versions' rows, their blobs (the files not stored yet: one already stored, by any unit, is left as
    it is), a check job each, the units' 提交完毕 taken back, and the audit lines (one for each 提交完毕 that
    was there). PostgreSQL: one statement for them all; SQLite (in the process, no round trips to save): a
    statement each."""
    from . import review  # review writes its decisions with this module's audit()

    conn = db.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(_PG_INSERT, {**_pg_arrays(rows, lines, takers, at), "incomplete": review.INCOMPLETE})
        return
    from sqlalchemy.dialects import sqlite

    for rid in sorted({r for r, _ in takers}):
        units = sorted(u for r, u in takers if r == rid)
        lines += [_line(takers[(rid, u)], at, review.INCOMPLETE, f"round {rid}", "upload")
                  for u in review.uncomplete(db, rid, units)]
    blobs = sorted({r["sha256"]: r["size"] for r in rows}.items())
    conn.execute(sqlite.insert(Blob).on_conflict_do_nothing(index_elements=["sha256"]),
                 [{"sha256": sha, "size": size, "created_at": at} for sha, size in blobs])
    ids = conn.execute(_NEW_VERSIONS, rows).scalars()
    conn.execute(_NEW_JOBS, [{"submission_id": sid, "state": "queued", "attempts": 0, "isolate": False,
                              "created_at": at} for sid in ids])
    conn.execute(_NEW_AUDIT, lines)


def _line(up: Upload, at, action: str, target: str, detail: str) -> dict:  # noqa: ANN001
    """An audit line of the upload's user."""
    return {"at": at, "user_id": up.user_id, "user_name": up.user_name, "action": action, "target": target,
            "detail": detail, "address": up.address}


# PostgreSQL: a group's blobs, versions, jobs, 提交完毕 taken back and audit lines in one statement (each
# column passed as an array); the foreign keys are checked at its end, once every row is in.
_PG_INSERT = text("""
WITH blobs_in AS (
    INSERT INTO blobs (sha256, size, created_at)
    SELECT DISTINCT sha256, size, :at FROM unnest(CAST(:sha256 AS varchar[]), CAST(:size AS bigint[])) AS f(sha256, size)
    ORDER BY sha256
    ON CONFLICT (sha256) DO NOTHING),
versions AS (
    INSERT INTO submissions (public_id, round_id, unit_id, user_id, filename, slot, version, sha256, size, status,
                             days_late, n_error, n_warning, created_at)
    SELECT public_id, round_id, unit_id, user_id, filename, slot, version, sha256, size, 'queued', days_late, 0, 0, :at
    FROM unnest(CAST(:public_id AS varchar[]), CAST(:round_id AS integer[]), CAST(:unit_id AS integer[]),
                CAST(:user_id AS integer[]), CAST(:filename AS varchar[]), CAST(:slot AS varchar[]),
                CAST(:version AS integer[]), CAST(:sha256 AS varchar[]), CAST(:size AS bigint[]),
                CAST(:days_late AS integer[]))
         AS v(public_id, round_id, unit_id, user_id, filename, slot, version, sha256, size, days_late)
    RETURNING id),
jobs_in AS (
    INSERT INTO jobs (submission_id, state, attempts, isolate, created_at)
    SELECT id, 'queued', 0, false, :at FROM versions),
taken_back AS (
    DELETE FROM completions c
    USING unnest(CAST(:t_round_id AS integer[]), CAST(:t_unit_id AS integer[]), CAST(:t_user_id AS integer[]),
                 CAST(:t_user_name AS varchar[]), CAST(:t_address AS varchar[]))
          AS t(round_id, unit_id, user_id, user_name, address)
    WHERE c.round_id = t.round_id AND c.unit_id = t.unit_id
    RETURNING t.round_id, t.user_id, t.user_name, t.address)
INSERT INTO audit_log (at, user_id, user_name, action, target, detail, address)
SELECT :at, user_id, user_name, action, target, detail, address
FROM unnest(CAST(:a_user_id AS integer[]), CAST(:a_user_name AS varchar[]), CAST(:a_action AS varchar[]),
            CAST(:a_target AS varchar[]), CAST(:a_detail AS text[]), CAST(:a_address AS varchar[]))
     AS a(user_id, user_name, action, target, detail, address)
UNION ALL
SELECT :at, user_id, user_name, CAST(:incomplete AS varchar), 'round ' || round_id, 'upload', address FROM taken_back
""")
_PG_VERSION_COLUMNS = ("public_id", "round_id", "unit_id", "user_id", "filename", "slot", "version", "sha256", "size",
                       "days_late")


def _pg_arrays(rows: list[dict], lines: list[dict], takers: dict[tuple[int, int], Upload],
               at) -> dict:  # noqa: ANN001
    """``_PG_INSERT``'s parameters: each column's values as one array (``t_``: the units' 提交完毕 to take
    back, with who takes each back)."""
    out: dict = {c: [r[c] for r in rows] for c in _PG_VERSION_COLUMNS}
    out.update({f"a_{c}": [line[c] for line in lines]
                for c in ("user_id", "user_name", "action", "target", "detail", "address")})
    keys = sorted(takers)
    out.update({"t_round_id": [r for r, _ in keys], "t_unit_id": [u for _, u in keys],
                "t_user_id": [takers[k].user_id for k in keys], "t_user_name": [takers[k].user_name for k in keys],
                "t_address": [takers[k].address for k in keys]})
    out["at"] = at
    return out


_REPORTS = (select(Submission.id, Submission.public_id, Submission.unit_id, Submission.slot, Submission.version,
                   Submission.filename, Submission.status, Submission.withdrawn_at)
            .where(Submission.round_id == bindparam("r"), Submission.unit_id.in_(bindparam("us", expanding=True)),
                   or_(*(func.lower(Submission.filename).like(f"%{sfx}") for sfx in REPORT_SUFFIXES))))


def recheck_reports(db, rnd_id: int, unit_ids: list[int], fresh: set[str]) -> None:  # noqa: ANN001
    """The units' forms changed: their 自评报告 (latest versions, not uploaded just now) are checked again
    against them (one statement for all the units)."""
    from .board import latest_of

    if not unit_ids:
        return
    # a slot's versions share its suffix, so latest_of over the reports' rows alone holds
    rows = db.connection().execute(_REPORTS, {"r": rnd_id, "us": unit_ids}).all()
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
