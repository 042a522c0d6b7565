"""Worker processes that the batch can stop: one file at a time each, under the file's deadline.

The batch keeps ``QUEUED`` files handed to each worker (the one it checks and
the next, so that it never waits for the batch to collect a result), and waits
for a result, a death, or the deadline of the file a worker is checking —
whichever comes first. A worker checks its files in the order given, so its
first unanswered file is the one it is on (started when the previous result
arrived). A worker past the deadline is terminated and replaced; a worker that
died (killed by the out-of-memory killer, a crash in a C extension) is replaced
too; the file gets a finding either way, the files queued behind it go to the
replacement, and the batch goes on. Uses only :mod:`multiprocessing`, so it
works where SIGALRM does not exist (Windows).

Workers never outlive the batch: each closes the batch's pipe ends it inherits
(so the batch's death is an end of file), asks Linux for SIGTERM when the batch
dies (PR_SET_PDEATHSIG), and on SIGTERM stops its LibreOffice conversion's
process group before leaving. SIGTERM and SIGHUP to the batch unwind it, its
workers and its temporary folder with it (see :func:`stopped_by_signals`).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

from ..profile import Profile
from . import failures
from .deadline import Deadline
from .result import FileResult

if TYPE_CHECKING:
    from .batch import Source

_GRACE = 2.0  # seconds a worker gets past the deadline to report its own timeout finding
QUEUED = 2  # files handed to a worker at once: the one it checks and the next one
_QUEUED_BYTES = 16 * 1024  # a file sent as data is queued behind another only when this small (a larger one
# would block the batch in the pipe until the worker reads it, with its deadline unwatched)


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


_PARENT_ENDS: list[Connection] = []  # the batch's ends of every worker's pipe (a forked child inherits them)


def die_with_parent(parent: int) -> None:
    """Linux: the kernel sends this process SIGTERM when the batch process dies, however it dies (SIGKILL too)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the batch died before the line above
        os._exit(1)


def on_stop(*_: object) -> None:
    """SIGTERM (the batch stopping this worker, or dying): stop a running conversion, leave at once."""
    from . import scratch

    scratch.stop_conversions(tempfile.gettempdir())
    os._exit(1)


def start_worker(parent: int, memory: int | None, folder: str | None) -> None:
    """What every worker process does first: no inherited pipe ends, die with the batch, its memory limit, its
    own temporary folder (under the batch's, which the batch removes)."""
    for end in _PARENT_ENDS:  # holding them would keep every pipe open after the batch is gone
        try:
            end.close()
        except OSError:
            pass
    _PARENT_ENDS.clear()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, on_stop)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the terminal closing is the parent's to handle
    die_with_parent(parent)
    _limit_memory(memory)
    if folder is not None:
        os.makedirs(folder, exist_ok=True)
        tempfile.tempdir = folder


def _worker(conn: Connection, parent: int, profile: Profile | None, seconds: float, memory: int | None,
            folder: str | None) -> None:
    from .runner import guarded

    start_worker(parent, memory, folder)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        index, src = job
        conn.send((index, guarded(src, profile, Deadline(seconds))))


class _Worker:
    def __init__(self, ctx: Any, profile: Profile | None, seconds: float, memory: int | None, folder: str | None):
        self.folder = folder
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child, os.getpid(), profile, seconds, memory, folder),
                                   daemon=True)
        self.process.start()
        child.close()
        _PARENT_ENDS.append(self.conn)
        self.jobs: deque[tuple[int, Source]] = deque()  # handed over, not answered yet; the first is in progress
        self.started = 0.0  # when the first of ``jobs`` started

    def give(self, job: tuple[int, "Source"]) -> None:
        if not self.jobs:
            self.started = time.monotonic()
        self.jobs.append(job)
        try:
            self.conn.send(job)
        except OSError:  # the worker died before it could take the file (at start): the pool reports it
            pass

    def answered(self) -> None:
        """The first file's result arrived: the worker is on the next one from now."""
        self.jobs.popleft()
        self.started = time.monotonic()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()  # SIGTERM: the worker stops its conversion and leaves
            self.process.join(1)
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        if self.conn in _PARENT_ENDS:
            _PARENT_ENDS.remove(self.conn)
        self.conn.close()
        if self.folder is not None:
            from . import scratch

            scratch.clear(self.folder)


def _queueable(src: "Source") -> bool:
    return src.data is None or len(src.data) <= _QUEUED_BYTES


class WorkerPool:
    """``jobs`` workers; :meth:`map` yields (index, result) as files finish."""

    def __init__(self, jobs: int, profile: Profile | None, seconds: float, memory: int | None,
                 folder: str | None = None):
        self.ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        self.args = (profile, seconds, memory)
        self.seconds = seconds
        self.folder = folder
        self.made = 0
        self.workers = [self._new() for _ in range(jobs)]

    def _new(self) -> _Worker:
        self.made += 1
        sub = None if self.folder is None else os.path.join(self.folder, f"w{self.made}")
        return _Worker(self.ctx, *self.args, sub)

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc: object) -> None:
        for w in self.workers:
            try:
                if w.process.is_alive() and not w.jobs:
                    w.conn.send(None)
            except OSError:
                pass
        for w in self.workers:
            if not w.jobs:
                w.process.join(2)
            w.stop()

    def map(self, jobs: list[tuple[int, "Source"]]) -> Iterator[tuple[int, FileResult]]:
        todo = deque(jobs)
        while todo or any(w.jobs for w in self.workers):
            for w in self.workers:
                while todo and (not w.jobs or len(w.jobs) < QUEUED and _queueable(todo[0][1])):
                    w.give(todo.popleft())
            busy = [w for w in self.workers if w.jobs]
            now = time.monotonic()
            timeout = max(0.0, min(w.started + self.seconds + _GRACE - now for w in busy))
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout))
            for w in busy:
                yield from self._collect(w, ready, todo)

    def _collect(self, w: _Worker, ready: set, todo: deque) -> Iterator[tuple[int, FileResult]]:
        """The worker's results that have arrived; a finding for its current file when it died or ran out of
        time (then it is replaced and the files queued behind that one go back to the front of ``todo``)."""
        broken = False
        if w.conn in ready:
            while w.jobs:
                try:
                    got = w.conn.recv()
                except (EOFError, OSError):
                    got = None
                if got is None:
                    broken = True
                    break
                w.answered()
                yield got
                if not w.conn.poll():
                    break
        if not w.jobs:
            return
        overdue = time.monotonic() - w.started > self.seconds + _GRACE
        if not (overdue or broken or w.process.sentinel in ready):
            return
        index, src = w.jobs.popleft()
        if overdue:
            failed = failures.timed_out(src.label, self.seconds)
        else:
            w.process.join(1)
            code = w.process.exitcode
            failed = failures.worker_died(src.label, "可能内存不足，被系统终止" if code in (-9, 137) else f"退出码 {code}")
        todo.extendleft(reversed(w.jobs))
        w.jobs.clear()
        self._replace(w)
        yield index, failed

    def _replace(self, w: _Worker) -> None:
        w.stop()
        self.workers[self.workers.index(w)] = self._new()


class BatchStopped(SystemExit):
    """SIGTERM or SIGHUP reached the batch: unwinds it, so that its workers and temporary folder go with it."""


@contextmanager
def stopped_by_signals() -> Iterator[None]:
    """While the batch runs, SIGTERM and SIGHUP end it like an exception (exit status 128 + the signal)."""
    wanted = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        raise BatchStopped(128 + signum)

    old = {s: signal.signal(s, stop) for s in wanted}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


class LimitedCallFailed(Exception):
    """The bounded call's process died (out of memory, killed) or ran past its time: ``reason`` says which."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def _call_child(conn: Connection, parent: int, memory: int | None, fn: Any, args: tuple) -> None:
    start_worker(parent, memory, None)
    try:
        conn.send(("ok", fn(*args)))
    except MemoryError:
        conn.send(("memory", None))
    except BaseException as e:  # noqa: BLE001 - everything goes back to the caller, as plain data
        from ..errors import JixiaoError

        if isinstance(e, JixiaoError):
            conn.send(("jixiao", (e.message, e.code, e.file, e.sheet, e.cell)))
        else:
            conn.send(("crash", f"{type(e).__name__}: {e}"))


def call_limited(fn: Any, args: tuple, memory: int | None, seconds: float) -> Any:
    """``fn(*args)`` in a child process under ``memory`` bytes and ``seconds`` (Linux); elsewhere in this process.

    The result must pickle. A JixiaoError raised in the child is raised here again; MemoryError too; a death or
    the time running out raises LimitedCallFailed ("memory" / "timeout" / "died")."""
    if not sys.platform.startswith("linux"):
        return fn(*args)
    from ..errors import JixiaoError

    ctx = mp.get_context("fork")
    here, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_call_child, args=(child, os.getpid(), memory, fn, args), daemon=True)
    _PARENT_ENDS.append(here)
    try:
        process.start()
        child.close()
        if not here.poll(seconds):
            raise LimitedCallFailed("timeout")
        try:
            kind, value = here.recv()
        except (EOFError, OSError):
            process.join(1)
            raise LimitedCallFailed("memory" if process.exitcode in (-9, 1) else "died") from None
    finally:
        _PARENT_ENDS.remove(here)
        if process.is_alive():
            process.kill()
        process.join(5)
        here.close()
    if kind == "ok":
        return value
    if kind == "memory":
        raise MemoryError
    if kind == "jixiao":
        message, code, file, sheet, cell = value
        raise JixiaoError(message, code=code, file=file, sheet=sheet, cell=cell)
    raise LimitedCallFailed(value)
