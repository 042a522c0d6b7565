"""Worker processes that the batch can stop: one file at a time each, under the file's deadline.

The batch sends a worker one file, waits for its result, its death, or the
file's deadline — whichever comes first. A worker past the deadline is
terminated and replaced; a worker that died (killed by the out-of-memory
killer, a crash in a C extension) is replaced too; the file gets a finding
either way and the batch goes on. Uses only :mod:`multiprocessing`, so it
works where SIGALRM does not exist (Windows).
"""
from __future__ import annotations

import multiprocessing as mp
import signal
import sys
import time
from collections import deque
from collections.abc import Iterator
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

from ..errors import Finding
from ..profile import Profile
from ..rules import rule
from .deadline import Deadline
from .result import FileResult

if TYPE_CHECKING:
    from .batch import Source

TIMEOUT = rule("check.timeout", "检查超时")
WORKER_DIED = rule("check.worker_died", "检查进程意外终止")
_GRACE = 2.0  # seconds a worker gets past the deadline to report its own timeout finding


def _limit_memory(limit: int | None) -> None:
    if limit is None:
        return
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the deadline still bounds the file
        return
    for name in ("RLIMIT_DATA", "RLIMIT_AS"):  # DATA counts what Python allocates; AS where DATA is missing
        which = getattr(resource, name, None)
        if which is not None:
            soft, hard = resource.getrlimit(which)
            resource.setrlimit(which, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
            return


def _worker(conn: Connection, profile: Profile | None, seconds: float, memory: int | None) -> None:
    from .batch import _guarded

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _limit_memory(memory)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        index, src = job
        conn.send((index, _guarded(src, profile, Deadline(seconds))))


class _Worker:
    def __init__(self, ctx: Any, profile: Profile | None, seconds: float, memory: int | None):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child, profile, seconds, memory), daemon=True)
        self.process.start()
        child.close()
        self.job: tuple[int, Source] | None = None
        self.started = 0.0

    def give(self, job: tuple[int, "Source"]) -> None:
        self.job, self.started = job, time.monotonic()
        self.conn.send(job)

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class WorkerPool:
    """``jobs`` workers; :meth:`map` yields (index, result) as files finish."""

    def __init__(self, jobs: int, profile: Profile | None, seconds: float, memory: int | None):
        self.ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        self.args = (profile, seconds, memory)
        self.seconds = seconds
        self.workers = [_Worker(self.ctx, *self.args) for _ in range(jobs)]

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc: object) -> None:
        for w in self.workers:
            try:
                if w.process.is_alive() and w.job is None:
                    w.conn.send(None)
            except OSError:
                pass
            w.stop()

    def map(self, jobs: list[tuple[int, "Source"]]) -> Iterator[tuple[int, FileResult]]:
        todo = deque(jobs)
        while todo or any(w.job for w in self.workers):
            for w in self.workers:
                if w.job is None and todo:
                    w.give(todo.popleft())
            busy = [w for w in self.workers if w.job is not None]
            now = time.monotonic()
            timeout = max(0.0, min(w.started + self.seconds + _GRACE - now for w in busy))
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout))
            for w in busy:
                result = self._collect(w, ready)
                if result is not None:
                    yield result

    def _collect(self, w: _Worker, ready: set) -> tuple[int, FileResult] | None:
        """The worker's result when it has one; a finding when it died or ran out of time (then it is replaced)."""
        assert w.job is not None
        index, src = w.job
        if w.conn in ready:
            try:
                got = w.conn.recv()
            except (EOFError, OSError):
                got = None
            if got is not None:
                w.job = None
                return got
        overdue = time.monotonic() - w.started > self.seconds + _GRACE
        if not (overdue or w.process.sentinel in ready or w.conn in ready):
            return None
        if overdue:
            finding = Finding(TIMEOUT, "error", f"检查超过 {self.seconds:g} 秒，已停止检查此文件")
        else:
            w.process.join(1)
            code = w.process.exitcode
            why = "可能内存不足，被系统终止" if code in (-9, 137) else f"退出码 {code}"
            finding = Finding(WORKER_DIED, "error", f"检查此文件的进程意外终止（{why}），其余文件照常检查")
        self._replace(w)
        return index, FileResult.failed(src.label, finding)

    def _replace(self, w: _Worker) -> None:
        w.stop()
        self.workers[self.workers.index(w)] = _Worker(self.ctx, *self.args)
