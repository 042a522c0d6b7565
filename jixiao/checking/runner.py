"""Runners: "check these files within a deadline, never raise", whatever does the work.

``jixiao check`` (and :func:`jixiao.checking.check`) picks one and asks it to :meth:`Runner.run` the
sources :func:`~jixiao.checking.batch.collect` found; a runner returns one FileResult per source, in input
order, each file checked within ``seconds``, and a file that fails (raises, runs out of memory or time, kills
its process) becomes that file's finding (:mod:`.failures`), never an exception for the caller.

- :class:`InProcess`: this process, one file after another (a deadline it cannot enforce by force).
- :class:`Pool`: the batch's worker processes (:class:`~.workers.WorkerPool`), under a memory limit each.
- ``jixiao.server.cluster.DaskRunner``: a Dask cluster (``jixiao check --dask``).

The server's job backends (``jixiao.server.jobs``) run each file through :func:`check_one`, the same guarded
check a Dask worker runs.

Example:
    >>> from jixiao.checking import batch
    >>> [r] = InProcess().run([batch.Source("空.xlsx", data=b"")], None, seconds=30)
    >>> r.error is not None
    True
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..profile import Profile, load_profile
from . import failures
from .deadline import Deadline, Expired, alarm
from .kept import InMemory, Kept
from .result import FileResult

if TYPE_CHECKING:
    from .batch import Source

Progress = Callable[[FileResult], None]
FILE_SECONDS = 60  # one file's deadline
WORKER_MEMORY = 2 * 1024 ** 3  # bytes of data a worker may allocate (RLIMIT_DATA where the OS has it)


class Runner(Protocol):
    def run(self, sources: list[Source], profile: str | Profile | None = None, progress: Progress | None = None,
            seconds: float = FILE_SECONDS, keep: Kept | None = None) -> Sequence[FileResult]:
        """One FileResult per source, in input order; ``progress`` is called with each as it arrives. They are
        put in ``keep`` (:mod:`.kept`; a list by default) and that is returned."""
        ...


def guarded(src: Source, profile: str | Profile | None, deadline: Deadline) -> FileResult:
    """``batch.check_source`` that never raises: what escapes becomes the file's finding."""
    from . import batch  # looked up on the module each time (tests replace check_source)

    try:
        return batch.check_source(src, profile, deadline)
    except MemoryError:
        return failures.out_of_memory(src.label)
    except Exception as e:  # noqa: BLE001 - one workbook never stops a batch
        return failures.crashed(src.label, failures.cause(e))


def check_one(src: Source, profile: str | Profile | None, seconds: float) -> FileResult:
    """One file within ``seconds`` in this process, never raising: the deadline every slow step asks, and an
    alarm as the backstop for a step that does not ask (main thread only). What a server or Dask worker runs."""
    try:
        with alarm(seconds):
            return guarded(src, profile, Deadline(seconds))
    except Expired:
        return failures.timed_out(src.label, seconds)


def _loaded(profile: str | Profile | None) -> Profile | None:
    """A profile name loaded once, before any worker starts (an unknown name fails here)."""
    return load_profile(profile) if isinstance(profile, (str, Path)) else profile


class InProcess:
    """Every file in this process, one after another (no worker to stop a file that overruns by force)."""

    def run(self, sources: list[Source], profile: str | Profile | None = None, progress: Progress | None = None,
            seconds: float = FILE_SECONDS, keep: Kept | None = None) -> Sequence[FileResult]:
        prof = _loaded(profile)
        out = InMemory(len(sources)) if keep is None else keep
        for i, src in enumerate(sources):
            r = guarded(src, prof, Deadline(seconds))
            out.put(i, r)
            if progress:
                progress(r)
        return out.done()


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the OS says)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class Pool:
    """``jobs`` worker processes (never more than files or CPUs), each within ``memory`` bytes; a worker past
    its file's deadline is stopped and one that dies is replaced. Their temporary files live in one folder for
    the batch, removed when it ends, however it ends (SIGTERM and SIGHUP too; after SIGKILL, at the next start).
    """

    def __init__(self, jobs: int = 1, memory: int | None = WORKER_MEMORY):
        self.jobs, self.memory = jobs, memory

    def run(self, sources: list[Source], profile: str | Profile | None = None, progress: Progress | None = None,
            seconds: float = FILE_SECONDS, keep: Kept | None = None) -> Sequence[FileResult]:
        from . import batch, scratch
        from .workers import WorkerPool, stopped_by_signals

        prof = _loaded(profile)
        batch.warm_up()
        results = InMemory(len(sources)) if keep is None else keep
        work = []
        for i, src in enumerate(sources):
            if src.problem is not None:  # known to be unreadable: no worker needed
                results.put(i, src.problem)
                if progress:
                    progress(src.problem)
            else:
                work.append((i, src))
        if work:
            jobs = max(1, min(self.jobs, len(work), usable_cpus()))
            with stopped_by_signals(), scratch.batch_folder() as folder, \
                    WorkerPool(jobs, prof, seconds, self.memory, folder) as pool:
                for i, r in pool.map(work):
                    results.put(i, r)
                    if progress:
                        progress(r)
        return results.done()
