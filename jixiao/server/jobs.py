"""Checks off the request path: jobs are rows; a dispatcher thread hands them to a pool of worker
processes (or a Dask cluster) in small chunks and writes the results back.

On start every job that is not done is queued again, so an upload that was answered with an id is
checked even when the server was killed before (or while) checking it.
"""
from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing as mp
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

from sqlalchemy import select, update

from . import work
from .db import Job, Round, Submission, now

log = logging.getLogger("jixiao.server.jobs")
MAX_ATTEMPTS = 3


def ping() -> str:
    return "pong"


class LocalBackend:
    """A pool of worker processes started by a fork server that has the templates compiled already."""

    remote = False

    def __init__(self, workers: int):
        self.slots = max(1, workers)
        self._new()

    def _new(self) -> None:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["jixiao.server._preload"])
        self.pool = cf.ProcessPoolExecutor(self.slots, mp_context=ctx)

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


class DaskBackend:
    """Checks sent to a Dask distributed scheduler (``tcp://host:8786``); its futures bridged to concurrent ones."""

    remote = True

    def __init__(self, address: str):
        from distributed import Client

        self.client = Client(address, timeout=30)
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

    def restart(self) -> None:
        pass

    def close(self) -> None:
        self.client.close()


def make_backend(workers: int, dask: str | None):
    return DaskBackend(dask) if dask else LocalBackend(workers)


class Dispatcher:
    def __init__(self, Session, store, backend, file_seconds: int):  # noqa: N803
        self.Session, self.store, self.backend, self.seconds = Session, store, backend, file_seconds
        self.wakeup = threading.Event()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.inflight: dict[cf.Future, dict[int, int]] = {}  # future → {job id: submission id}
        self.last_loop = time.monotonic()

    # -- life

    def start(self) -> None:
        with self.Session.begin() as db:
            # whatever was running when the last process stopped is queued again
            db.execute(update(Job).where(Job.state == "running").values(state="queued"))
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
        return self.thread is not None and self.thread.is_alive()

    # -- the loop

    def _loop(self) -> None:
        while not self.stopping.is_set():
            self.last_loop = time.monotonic()
            try:
                claimed = self._claim()
                if self.inflight:
                    done, _ = cf.wait(list(self.inflight), timeout=0.05 if claimed else 0.5,
                                      return_when=cf.FIRST_COMPLETED)
                    if done:
                        self._finish(done)
                elif not claimed:
                    self.wakeup.wait(1.0)
                    self.wakeup.clear()
            except Exception:  # noqa: BLE001 - the loop must go on; the jobs stay in the database
                log.exception("dispatcher")
                time.sleep(1.0)

    def _claim(self) -> int:
        free = self.backend.slots * 2 - len(self.inflight)
        if free <= 0:
            return 0
        with self.Session.begin() as db:
            queued = db.scalar(select(Job.id).where(Job.state == "queued").limit(1))
            if queued is None:
                return 0
            q = (select(Job, Submission, Round.profile).join(Submission, Job.submission_id == Submission.id)
                 .join(Round, Submission.round_id == Round.id).where(Job.state == "queued")
                 .order_by(Job.id).limit(free * 16))
            if db.bind.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True, of=Job)
            rows = db.execute(q).all()
            if not rows:
                return 0
            chunk = max(1, min(16, len(rows) // free))
            t = now()
            for job, sub, _ in rows:
                job.state, job.started_at, job.attempts = "running", t, job.attempts + 1
                sub.status = "checking"
            items = [(job.id, sub.id, sub.filename, sub.sha256, profile) for job, sub, profile in rows]
        for i in range(0, len(items), chunk):
            part = items[i:i + chunk]
            ids = {job_id: sub_id for job_id, sub_id, *_ in part}
            if self.backend.remote:
                args = [(j, name, self.store.get(sha), prof) for j, _, name, sha, prof in part]
                fut = self.backend.submit(work.check_many, args, self.seconds)
            else:
                args = [(j, name, str(self.store.path(sha)), prof) for j, _, name, sha, prof in part]
                fut = self.backend.submit(work.check_paths, args, self.seconds)
            self.inflight[fut] = ids
        return len(items)

    def _finish(self, done: set[cf.Future]) -> None:
        results: list[tuple[int, int, dict | None, str | None]] = []
        broken = False
        for fut in done:
            ids = self.inflight.pop(fut)
            try:
                for job_id, data in fut.result():
                    results.append((job_id, ids[job_id], data, None))
            except Exception as e:  # noqa: BLE001 - a worker died: the chunk's jobs go back to the queue
                broken = broken or isinstance(e, BrokenProcessPool)
                for job_id, sub_id in ids.items():
                    results.append((job_id, sub_id, None, f"{type(e).__name__}: {e}"))
        if broken:
            self.backend.restart()
            for fut, ids in list(self.inflight.items()):  # the old pool's other chunks are lost with it
                self.inflight.pop(fut)
                results.extend((j, s, None, "worker pool restarted") for j, s in ids.items())
        t = now()
        with self.Session.begin() as db:
            jobs = {j.id: j for j in db.scalars(select(Job).where(Job.id.in_([r[0] for r in results])))}
            subs = {s.id: s for s in db.scalars(select(Submission).where(Submission.id.in_([r[1] for r in results])))}
            for job_id, sub_id, data, error in results:
                job, sub = jobs[job_id], subs[sub_id]
                if data is None:
                    job.error = error
                    if job.attempts >= MAX_ATTEMPTS:
                        job.state, job.finished_at = "failed", t
                        data = work._failure(sub.filename, "check.crashed", "检查进程多次意外退出，已放弃此文件")
                    else:
                        job.state, sub.status = "queued", "queued"
                        continue
                else:
                    job.state, job.finished_at = "done", t
                store_result(sub, data, t)


def store_result(sub: Submission, data: dict, t) -> None:  # noqa: ANN001
    counts = data["result"].get("counts") or {}
    sub.result, sub.findings = data["result"], data["findings"]
    sub.n_error, sub.n_warning = counts.get("error", 0), counts.get("warning", 0)
    sub.verdict = "error" if sub.n_error else "warning" if sub.n_warning else "pass"
    sub.status, sub.checked_at = "checked", t
