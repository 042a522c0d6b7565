"""``jixiao check --dask``: the batch's runner on a Dask cluster (:class:`~jixiao.checking.runner.Runner`).

Each file goes to a cluster worker with its bytes (read here, through the same byte counters as the local
pool) and is checked there by :func:`~jixiao.checking.runner.check_one`, the guarded check every runner
uses; a 自评报告 is read with its form from this machine's disk, which the cluster does not see, so reports
are checked by the local :class:`~jixiao.checking.runner.Pool` meanwhile.
"""
from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Sequence

from ..checking import batch, runner
from ..checking.kept import InMemory, Kept
from ..checking.result import FileResult
from ..errors import Finding, JixiaoError
from ..profile import Profile, load_profile


def _with_bytes(src: batch.Source) -> batch.Source:
    """The source as a cluster worker can check it: its bytes attached, or what kept them from being read."""
    if src.problem is not None or src.data is not None or src.path is None:
        return src
    try:  # an archive member is read through its byte counter, like any file
        return batch.Source(src.label, data=batch.read_input(src))
    except OSError:
        return src  # the worker reports it unreadable
    except JixiaoError as e:
        return batch.Source(src.label, problem=FileResult.failed(src.label, Finding(e.code, "error", e.message)))


class DaskRunner:
    """Files checked on the Dask scheduler at ``address`` (``tcp://host:8786``), results in input order."""

    def __init__(self, address: str):
        self.address = address

    def run(self, sources: list[batch.Source], profile: str | Profile | None = None,
            progress: runner.Progress | None = None, seconds: float = runner.FILE_SECONDS,
            keep: Kept | None = None) -> Sequence[FileResult]:
        from .jobs import DaskBackend

        if isinstance(profile, str):
            load_profile(profile)  # an unknown name fails before anything is sent
        here = [i for i, src in enumerate(sources) if src.report and src.problem is None]
        out = InMemory(len(sources)) if keep is None else keep
        backend = DaskBackend(self.address)
        try:
            futs = {backend.submit(runner.check_one, _with_bytes(src), profile, seconds): i
                    for i, src in enumerate(sources) if i not in here}
            if here:  # checked by this machine's worker pool while the cluster checks the rest
                for i, r in zip(here, runner.Pool().run([sources[i] for i in here], profile, progress, seconds)):
                    out.put(i, r)
            for fut in cf.as_completed(futs):
                r = fut.result()
                out.put(futs[fut], r)
                if progress:
                    progress(r)
        finally:
            backend.close()
        return out.done()
