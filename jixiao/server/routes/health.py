"""Health: is the process answering, and are the database and the workers usable."""
from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from ..deps import Ctx, context
from ..jobs import ping

log = logging.getLogger("jixiao.server")
router = APIRouter(tags=["health"])


@router.get("/healthz", summary="进程是否在应答")
def healthz():
    return {"status": "ok"}


@router.get("/readyz", summary="数据库与检查进程是否可用")
async def readyz(ctx: Ctx = Depends(context)):
    out: dict[str, str] = {}
    ok = True
    try:
        def db_ok() -> None:
            with ctx.engine.connect() as c:
                c.execute(text("SELECT 1"))
        await asyncio.wait_for(run_in_threadpool(db_ok), timeout=10)
        out["database"] = "ok"
    except Exception:  # noqa: BLE001 - the kind of failure is for the log, not for the answer
        log.warning("readyz: database unavailable", exc_info=True)
        ok, out["database"] = False, "unavailable"
    if ctx.backend is None or ctx.dispatcher is None or not ctx.dispatcher.alive():
        ok, out["workers"] = False, "not running"
    else:
        try:
            fut = ctx.backend.submit(ping)
            await asyncio.wait_for(asyncio.wrap_future(fut), timeout=15)
            out["workers"] = "ok"
        except Exception:  # noqa: BLE001
            log.warning("readyz: workers unavailable", exc_info=True)
            ok, out["workers"] = False, "unavailable"
        if ctx.dispatcher.unsaved:  # finished checks waiting for the database
            ok, out["results"] = False, "waiting for the database"
    out["status"] = "ready" if ok else "not ready"
    return JSONResponse(out, status_code=200 if ok else 503)
