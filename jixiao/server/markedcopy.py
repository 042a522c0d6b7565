"""A file's marked copy (``/s/{id}/marked.xlsx``): made once by a check worker at its first download, then stored.

Making it reads and writes the whole workbook with openpyxl, several times what the check costs; done for every
upload it held the checks back (issue 17's benchmark), while most copies are never downloaded. The web process
still never opens a submitted workbook: it sends the job to the workers (the local pool, or Dask with the
bytes), stores the copy as a blob and its sha256 in ``submissions.views``, unless the file was checked again
meanwhile. Two first downloads at once make it twice; the blob is the same.
"""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool

from . import work
from .db import Submission
from .deps import Ctx


async def make(ctx: Ctx, sub_id: int, label: str, sha: str, findings: list[dict],
               checked_at: datetime | None) -> dict[str, Any]:
    """The views with the marked copy made: {"marked": sha256 or None, "marked_note": why not}."""
    backend = ctx.backend
    if backend is None:
        raise HTTPException(503, "检查进程未启动，暂时不能生成标注副本")
    seconds = ctx.settings.file_seconds
    if backend.remote:
        data = await run_in_threadpool(ctx.store.get, sha)
        fut = backend.submit(work.marked_from_bytes, label, data, findings, seconds)
    else:
        fut = backend.submit(work.marked_from_path, label, str(ctx.store.path(sha)), findings, seconds)
    try:
        got = await asyncio.wrap_future(fut)
    except Exception:  # noqa: BLE001 - the worker died: nothing recorded, the next download tries again
        raise HTTPException(503, "生成标注副本时检查进程意外退出，请稍后再试") from None
    made = {"marked": None, "marked_note": got["marked_note"], "marked_later": False}
    if got["marked"] is not None:
        made["marked"] = await run_in_threadpool(ctx.store.put, got["marked"])
    await run_in_threadpool(_record, ctx, sub_id, checked_at, made)
    return made


def _record(ctx: Ctx, sub_id: int, checked_at: datetime | None, made: dict[str, Any]) -> None:
    with ctx.Session.begin() as db:
        sub = db.get(Submission, sub_id)
        if sub is not None and sub.checked_at == checked_at:  # not checked again since: the copy is its own
            sub.views = {**(sub.views or {}), **made}
