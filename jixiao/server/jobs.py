"""Checks off the request path: jobs are rows; a dispatcher thread hands them to a pool of worker
processes (or a Dask cluster) in small chunks and writes the results back.

On start every job that is not done is queued again, so an upload that was answered with an id is
checked even when the server was killed before (or while) checking it. While running, a job holds a
lease; a job whose lease expired and whose result is not on its way is queued again on the next tick.
Results whose commit failed (the database was down) are kept and written again until they are in.

A worker that dies takes its chunk with it: the chunk's files are then checked again one per process,
so only the file that kills its own process is blamed (after ``MAX_ATTEMPTS`` such deaths).
"""
from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing as mp
import os
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import bindparam, select, update

from ..errors import JixiaoError
from ..rules import error_codes
from . import board, lifetime, work
from .db import Job, Round, Submission, Unit, now

error_codes({"cluster.unreachable": "连不上 Dask 调度器"})

log = logging.getLogger("jixiao.server.jobs")
MAX_ATTEMPTS = 3  # deaths of a file's own process before it is reported check.crashed
LEASE_MARGIN = 60  # seconds a lease outlasts the deadlines of its chunk
SWEEP_SECONDS = 5  # how often expired leases are looked for


def ping() -> str:
    return "pong"


class LocalBackend:
    """A pool of worker processes started by a fork server that has the templates compiled already."""

    remote = False

    def __init__(self, workers: int, folder: Path):
        self.slots = max(1, workers)
        self.folder = folder  # the server's temporary folder: each worker's own is under it
        self._new()

    def _pool(self, n: int) -> cf.ProcessPoolExecutor:
        """Workers that die with this process (``lifetime.start_worker``)."""
        return cf.ProcessPoolExecutor(n, mp_context=self.ctx, initializer=lifetime.start_worker,
                                      initargs=(os.getpid(), str(self.folder)))

    def _new(self) -> None:
        self.ctx = mp.get_context("forkserver")
        self.ctx.set_forkserver_preload(["jixiao.server._preload"])
        self.pool = self._pool(self.slots)

    def isolated(self, fn: Callable, *args: Any) -> cf.Future:
        """Run in a process of its own, so that its death is its own and breaks no other check."""
        pool = self._pool(1)
        fut = pool.submit(fn, *args)
        fut.add_done_callback(lambda _: threading.Thread(target=pool.shutdown, daemon=True).start())
        return fut

    def submit(self, fn: Callable, *args: Any) -> cf.Future:
        try:
            return self.pool.submit(fn, *args)
        except BrokenProcessPool:
            self.restart()
            return self.pool.submit(fn, *args)

    def restart(self) -> None:
        log.warning("worker pool broken: starting a new one")
        try:
            self.pool.shutdown(wait=False, cancel_futures=True)
        except Exception:  # noqa: BLE001
            pass
        self._new()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


CONNECT_SECONDS = 30  # how long --dask waits for the scheduler


class DaskBackend:
    """Checks sent to a Dask distributed scheduler (``tcp://host:8786``); its futures bridged to concurrent ones."""

    remote = True

    def __init__(self, address: str):
        from distributed import Client

        try:
            self.client = Client(address, timeout=CONNECT_SECONDS)
        except (OSError, ValueError, TypeError) as e:  # a refused connection, a timeout, an address without a port
            raise JixiaoError(f"无法连接 Dask 调度器 {address}（等待 {CONNECT_SECONDS} 秒）：{e}。地址应形如 "
                              "tcp://主机:8786，且调度器已启动（dask scheduler）", code="cluster.unreachable") from e
        self.slots = max(1, sum(self.client.ncores().values()))

    def submit(self, fn: Callable, *args: Any) -> cf.Future:
        out: cf.Future = cf.Future()
        fut = self.client.submit(fn, *args, pure=False)

        def done(f) -> None:  # noqa: ANN001
            try:
                out.set_result(f.result())
            except BaseException as e:  # noqa: BLE001 - carried to the waiter
                out.set_exception(e)

        fut.add_done_callback(done)
        out._dask = fut  # type: ignore[attr-defined]  # keep the dask future alive
        return out

    def isolated(self, fn: Callable, *args: Any) -> cf.Future:
        return self.submit(fn, *args)  # a Dask task's worker death fails that task only

    def restart(self) -> None:
        pass

    def close(self) -> None:
        self.client.close()


def make_backend(workers: int, dask: str | None, folder: Path):
    return DaskBackend(dask) if dask else LocalBackend(workers, folder)


class Dispatcher:
    def __init__(self, Session, store, backend, file_seconds: int):  # noqa: N803
        self.Session, self.store, self.backend, self.seconds = Session, store, backend, file_seconds
        self.wakeup = threading.Event()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.inflight: dict[cf.Future, tuple[dict[int, int], bool]] = {}  # future → ({job id: sub id}, alone)
        self.unsaved: list[Outcome] = []  # results whose commit failed: written again on the next tick
        self.last_loop = time.monotonic()
        self.last_sweep = 0.0
        self.busy = False  # the last claim took all it could

    # -- life

    def start(self) -> None:
        with self.Session.begin() as db:
            # whatever was running when the last process stopped is queued again
            db.execute(update(Job).where(Job.state == "running").values(state="queued", lease_until=None))
            db.execute(update(Submission).where(Submission.status == "checking").values(status="queued"))
        self.thread = threading.Thread(target=self._loop, name="jixiao-dispatcher", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wakeup.set()
        if self.thread:
            self.thread.join(timeout=30)

    def wake(self) -> None:
        self.wakeup.set()

    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive() and time.monotonic() - self.last_loop < 60

    def healthy(self) -> bool:
        """The loop turns and every result it has is in the database."""
        return self.alive() and not self.unsaved

    # -- the loop

    def _loop(self) -> None:
        while not self.stopping.is_set():
            self.last_loop = time.monotonic()
            try:
                self._tick()
            except Exception:  # noqa: BLE001 - the loop must go on; the jobs stay in the database
                log.exception("dispatcher")
                self.wakeup.wait(1.0)
                self.wakeup.clear()

    def _tick(self) -> None:
        if self.inflight:  # results first: a database outage must not hold finished checks in the pool
            done, _ = cf.wait(list(self.inflight), timeout=0.05, return_when=cf.FIRST_COMPLETED)
            if done:
                self._collect(done)
        if self.unsaved:
            self._save()
        if time.monotonic() - self.last_sweep > SWEEP_SECONDS:
            self._sweep()
        claimed = self._claim()
        if self.inflight and not claimed:
            done, _ = cf.wait(list(self.inflight), timeout=0.5, return_when=cf.FIRST_COMPLETED)
            if done:
                self._collect(done)
        elif not self.inflight and not claimed:
            self.wakeup.wait(1.0)
            self.wakeup.clear()

    def _sweep(self) -> None:
        """Queue again every running job whose lease expired and whose result this process does not hold."""
        mine = {j for ids, _ in self.inflight.values() for j in ids} | {o.job_id for o in self.unsaved}
        with self.Session.begin() as db:
            stale = select(Job.id, Job.submission_id).where(
                Job.state == "running", (Job.lease_until.is_(None)) | (Job.lease_until < now()))
            rows = [r for r in db.execute(stale).all() if r[0] not in mine]
            if rows:
                log.warning("%d jobs with expired leases queued again", len(rows))
                db.execute(update(Job).where(Job.id.in_([r[0] for r in rows])).values(state="queued", lease_until=None))
                db.execute(update(Submission).where(Submission.id.in_([r[1] for r in rows]),
                                                    Submission.status == "checking").values(status="queued"))
        self.last_sweep = time.monotonic()

    def _claim(self) -> int:
        free = self.backend.slots * 2 - len(self.inflight)
        if free <= 0:
            return 0
        if not self.busy:  # a read first: an idle tick takes no write lock (and no commit)
            with self.Session() as db:
                if db.scalar(select(Job.id).where(Job.state == "queued").limit(1)) is None:
                    return 0
        with self.Session.begin() as db:
            conn = db.connection()
            q = _QUEUED.limit(free * 16)
            if conn.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True, of=Job)
            rows = conn.execute(q).all()
            self.busy = len(rows) == free * 16  # more are waiting: the next tick claims without asking first
            if not rows:
                return 0
            alone = [r for r in rows if r.isolate][:free]
            together = [r for r in rows if not r.isolate]
            chunk = max(1, min(16, len(together) // free))
            t = now()
            conn.execute(_RUN, [{"job": r.job_id, "t": t, "tries": r.attempts + (1 if r.isolate else 0),
                                 "lease": t + timedelta(seconds=self.seconds * (1 if r.isolate else chunk) + LEASE_MARGIN)}
                                for r in alone + together])  # only a death in its own process counts against a file
            conn.execute(_CHECKING, {"ids": [r.id for r in alone + together]})
            items = [(r.job_id, r.id, r.filename, r.sha256, r.profile, _previous(db, r), _form_of(db, r))
                     for r in together]
            solo = [(r.job_id, r.id, r.filename, r.sha256, r.profile, _previous(db, r), _form_of(db, r))
                    for r in alone]
        for part in [[x] for x in solo]:
            self._send(part, alone=True)
        for i in range(0, len(items), chunk):
            self._send(items[i:i + chunk], alone=False)
        return len(items) + len(solo)

    def _send(self, part: list[tuple], alone: bool) -> None:
        ids = {job_id: sub_id for job_id, sub_id, *_ in part}
        submit = getattr(self.backend, "isolated", self.backend.submit) if alone else self.backend.submit
        if self.backend.remote:
            args = [(j, name, self.store.get(sha), prof, prev and (prev[0], self.store.get(prev[1])),
                     form and (form[0], self.store.get(form[1])))
                    for j, _, name, sha, prof, prev, form in part]
            fut = submit(work.check_many, args, self.seconds)
        else:
            args = [(j, name, str(self.store.path(sha)), prof, prev and (prev[0], str(self.store.path(prev[1]))),
                     form and (form[0], str(self.store.path(form[1]))))
                    for j, _, name, sha, prof, prev, form in part]
            fut = submit(work.check_paths, args, self.seconds)
        self.inflight[fut] = (ids, alone)

    def _collect(self, done: set[cf.Future]) -> None:
        broken = False
        for fut in done:
            ids, alone = self.inflight.pop(fut)
            try:
                for job_id, data in fut.result():
                    self._keep_marked(data)
                    self.unsaved.append(Outcome(job_id, ids[job_id], data, None, alone))
            except Exception as e:  # noqa: BLE001 - a worker died: the chunk's jobs are checked again, alone
                broken = broken or (isinstance(e, BrokenProcessPool) and not alone)
                self.unsaved.extend(Outcome(j, s, None, f"{type(e).__name__}: {e}", alone) for j, s in ids.items())
        if broken:
            self.backend.restart()
            for fut, (ids, alone) in list(self.inflight.items()):  # the old pool's other chunks are lost with it
                if not alone:
                    self.inflight.pop(fut)
                    self.unsaved.extend(Outcome(j, s, None, "worker pool restarted", False) for j, s in ids.items())
        self._save()

    def _keep_marked(self, data: dict) -> None:
        """The marked copy the worker made goes to the blob store; the database keeps its sha256."""
        views = data.get("views")
        if views and isinstance(views.get("marked"), bytes):
            views["marked"] = self.store.put(views["marked"])

    def _save(self) -> None:
        """Write the results held; when the commit fails they stay held and the next tick tries again."""
        outcomes, t = list(self.unsaved), now()
        with self.Session.begin() as db:
            checked = [o for o in outcomes if o.data is not None]
            if checked:
                save_checked(db, checked, t)
            lost = [o for o in outcomes if o.data is None]
            if lost:
                jobs = {j.id: j for j in db.scalars(select(Job).where(Job.id.in_([o.job_id for o in lost])))}
                subs = {s.id: s for s in db.scalars(select(Submission).where(
                    Submission.id.in_([o.sub_id for o in lost])))}
                for o in lost:
                    job, sub = jobs.get(o.job_id), subs.get(o.sub_id)
                    if job is not None and sub is not None:
                        settle(job, sub, o, t)
        del self.unsaved[:len(outcomes)]


# Built once: the dispatcher runs them for every chunk of files.
_QUEUED = (select(Job.id.label("job_id"), Job.isolate, Job.attempts, Submission.id, Submission.filename,
                  Submission.sha256, Submission.round_id, Submission.unit_id, Submission.slot, Submission.version,
                  Round.profile)
           .join(Submission, Job.submission_id == Submission.id).join(Round, Submission.round_id == Round.id)
           .where(Job.state == "queued").order_by(Job.id))
_RUN = (update(Job).where(Job.id == bindparam("job"))
        .values(state="running", started_at=bindparam("t"), lease_until=bindparam("lease"),
                attempts=bindparam("tries")))
_CHECKING = update(Submission).where(Submission.id.in_(bindparam("ids", expanding=True))).values(status="checking")
_IDENTITY = (select(Submission.id, Round.documents, Round.year, Unit.name)
             .join(Round, Submission.round_id == Round.id).join(Unit, Submission.unit_id == Unit.id)
             .where(Submission.id.in_(bindparam("ids", expanding=True))))
_DONE = (update(Job).where(Job.id == bindparam("job"))
         .values(state="done", finished_at=bindparam("t"), lease_until=None))
_CHECKED = (update(Submission).where(Submission.id == bindparam("sub"))
            .values(**{c: bindparam("new_" + c, type_=Submission.__table__.c[c].type) for c in
                       ("result", "findings", "views", "n_error", "n_warning", "verdict")},
                    status="checked", checked_at=bindparam("t")))


def save_checked(db, outcomes: list[Outcome], t) -> None:  # noqa: ANN001
    """Checked files' results, in two statements for the whole chunk (``store_result`` for each, as data)."""
    conn = db.connection()
    who = {r.id: r for r in conn.execute(_IDENTITY, {"ids": [o.sub_id for o in outcomes]})}
    subs = []
    for o in outcomes:
        r = who.get(o.sub_id)
        if r is None or o.data is None:  # the submission is gone (or nothing came back: not saved here)
            continue
        columns = result_columns(with_identity_of(r.documents, r.name, r.year, o.data))
        subs.append({"sub": o.sub_id, "t": t, **{"new_" + c: v for c, v in columns.items()}})
    conn.execute(_DONE, [{"job": o.job_id, "t": t} for o in outcomes])
    if subs:
        conn.execute(_CHECKED, subs)


class Outcome:
    """What came back for one job: its result data, or why there is none (the worker died)."""
    __slots__ = ("job_id", "sub_id", "data", "error", "alone")

    def __init__(self, job_id: int, sub_id: int, data: dict | None, error: str | None, alone: bool):
        self.job_id, self.sub_id, self.data, self.error, self.alone = job_id, sub_id, data, error, alone


def settle(job: Job, sub: Submission, o: Outcome, t) -> None:  # noqa: ANN001
    """A job's state after its outcome: done, queued again (alone), or failed for good."""
    job.lease_until = None
    if o.data is not None:
        job.state, job.finished_at = "done", t
        store_result(sub, o.data, t)
        return
    job.error = o.error
    if o.alone and job.attempts >= MAX_ATTEMPTS:
        job.state, job.finished_at = "failed", t
        store_result(sub, work.crashed_again(sub.filename), t)
        return
    job.state, job.isolate, sub.status = "queued", True, "queued"


_PREVIOUS = select(Submission.filename, Submission.sha256).where(
    Submission.round_id == bindparam("r"), Submission.unit_id == bindparam("u"), Submission.slot == bindparam("slot"),
    Submission.version == bindparam("v"))  # built once: every claimed file runs it


def _previous(db, sub: Submission) -> tuple[str, str] | None:  # noqa: ANN001
    """(file name, sha256) of the version before ``sub`` in its slot, for the comparison."""
    if sub.version <= 1:
        return None
    row = db.connection().execute(_PREVIOUS, {"r": sub.round_id, "u": sub.unit_id, "slot": sub.slot,
                                              "v": sub.version - 1}).first()
    return (row[0], row[1]) if row else None


def _form_of(db, sub: Submission) -> tuple[str, str] | None:  # noqa: ANN001
    """For a 自评报告: (file name, sha256) of the unit's form in the round it is checked against — the latest
    version of its 整体支出自评表 (else of any workbook read as a form); None for a workbook, or none there."""
    from ..season.requirements import DEPT, PROJECT, classify

    if not sub.filename.lower().endswith(work.REPORT_SUFFIXES):
        return None
    subs = db.scalars(select(Submission).where(Submission.round_id == sub.round_id,
                                               Submission.unit_id == sub.unit_id)).all()
    latest = [s for s in board.latest_of(subs).values() if not s.filename.lower().endswith(work.REPORT_SUFFIXES)]
    kinds = {s.id: classify(s.filename, s.result)[0] for s in latest}
    for want in (DEPT, PROJECT, None):
        for s in sorted(latest, key=lambda s: s.id, reverse=True):
            if want is None or kinds[s.id] == want:
                return s.filename, s.sha256
    return None


def recheck(db, sub: Submission) -> None:  # noqa: ANN001
    """A reviewer asks for a file to be checked again: its job is queued afresh."""
    job = db.scalar(select(Job).where(Job.submission_id == sub.id))
    if job is None:
        db.add(Job(submission_id=sub.id))
    else:
        job.state, job.attempts, job.isolate, job.error, job.lease_until = "queued", 0, False, None, None
    sub.status = "queued"


def result_columns(data: dict) -> dict:
    """A check's data as the submission's columns (without its status and time)."""
    counts = data["result"].get("counts") or {}
    n_error, n_warning = counts.get("error", 0), counts.get("warning", 0)
    return {"result": data["result"], "findings": data["findings"], "views": data.get("views"),
            "n_error": n_error, "n_warning": n_warning,
            "verdict": "error" if n_error else "warning" if n_warning else "pass"}


def store_result(sub: Submission, data: dict, t) -> None:  # noqa: ANN001
    for name, value in result_columns(with_identity(sub, data)).items():
        setattr(sub, name, value)
    sub.status, sub.checked_at = "checked", t


def with_identity(sub: Submission, data: dict) -> dict:
    """``with_identity_of`` the submission's round and unit."""
    return with_identity_of(sub.round.documents, sub.unit.name, sub.round.year, data)


def with_identity_of(documents: str | None, unit: str, year: int, data: dict) -> dict:
    """In a round that tracks its documents, a file stating another unit or another year than the submitting
    account's and the round's gets identity.unit / identity.year findings among its own."""
    from ..season import identity

    if not documents:
        return data
    found = identity.findings(data["result"], unit, year)
    if not found:
        return data
    r = work.to_result(data)
    r.findings += found
    return {**data, **work.result_data(r)}
