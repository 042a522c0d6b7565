"""The web application: Chinese pages for units and reviewers, and the JSON API for scripts.

Pages authenticate with a signed, HttpOnly session cookie and carry a CSRF token in every form;
the API takes ``Authorization: Bearer <token>`` (or the page's cookie plus an ``X-CSRF-Token`` header).
``create_app`` builds the context (``deps.Ctx``), the envelope every answer passes through, the error
answers, and includes the routers of ``routes/``, one per noun.
"""
from __future__ import annotations

import errno
import gc
import logging
import time
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders

from ..rules import error_codes
from .bodylimit import BodyLimit
from .config import Settings, body_limits
from .db import make_engine, migrate, sessions
from .deps import Ctx, LoginRequired
from .jobs import Dispatcher, make_backend
from .lifetime import remove, server_folder
from .pages import HERE, error
from .pages import local as _local  # noqa: F401 - the name the tests import
from .routes import ROUTERS
from .security import SESSION_COOKIE, RateLimit, Sessions, Verifiers
from .storage import BlobStore
from .writer import GroupWriter

log = logging.getLogger("jixiao.server")
error_codes({"server.database": "数据库暂时不可用", "server.disk_full": "服务器磁盘已满", "server.error": "服务器内部出错"})

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")


def create_app(settings: Settings) -> FastAPI:
    settings.data.mkdir(parents=True, exist_ok=True)
    migrate(settings.url)
    engine = make_engine(settings.url)
    folder = server_folder(settings.data)  # dead servers' leftovers swept
    ctx = Ctx(settings=settings, engine=engine, Session=sessions(engine), folder=folder,
              store=BlobStore(settings.blobs, staging=folder / "uploads"),
              sessions=Sessions(settings.secret, settings.session_hours * 3600),
              limiter=RateLimit(settings.login_attempts, settings.login_window),
              verifiers=Verifiers(settings.login_verifiers, settings.login_queue))
    ctx.writer = GroupWriter(ctx.Session, threads=1 if ctx.Session.lock is not None else WRITERS)

    app = FastAPI(title="jixiao 绩效自评提交服务", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="填报单位提交自评表，jixiao 检查，绩效科查看各单位状态。接口用 Bearer 令牌认证"
                              "（`jixiao users token NAME`）。")
    app.state.ctx = ctx
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(Envelope)
    # added last, so outermost: no handler (nor the envelope) sees more of a body than its route allows
    app.add_middleware(BodyLimit, limits=body_limits(settings))
    for exc, handler in ERROR_ANSWERS.items():
        app.add_exception_handler(exc, handler)
    for router in ROUTERS:
        app.include_router(router)
    return app


@asynccontextmanager
async def lifespan(app: FastAPI):
    """The checks' workers and dispatcher run while the application serves."""
    ctx: Ctx = app.state.ctx
    settings = ctx.settings
    if settings.start_workers:
        ctx.backend = await run_in_threadpool(make_backend, settings.workers, settings.dask, ctx.folder)
        ctx.dispatcher = Dispatcher(ctx.Session, ctx.store, ctx.backend, settings.file_seconds)
        ctx.dispatcher.start()
    gc.freeze()  # what start-up made lives as long as the process: keep it out of every later collection
    try:
        yield
    finally:
        if ctx.dispatcher:
            await run_in_threadpool(ctx.dispatcher.stop)
        if ctx.backend:
            await run_in_threadpool(ctx.backend.close)
        ctx.engine.dispose()
        remove(ctx.folder)


WRITERS = 2  # group writers on PostgreSQL (SQLite writes one transaction at a time: one writer)
SECURITY_HEADERS = {"content-security-policy": CSP, "x-content-type-options": "nosniff",
                    "x-frame-options": "SAMEORIGIN", "referrer-policy": "same-origin"}


class Envelope:
    """Every answer: the session read before and its cookie written after, the security headers, the time.

    A plain ASGI middleware: the answer passes through as it is sent, with no task or stream of its own."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ctx: Ctx = scope["app"].state.ctx
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        state["session"] = ctx.sessions.load(Request(scope).cookies.get(SESSION_COOKIE))
        state["new_session"] = None
        state["user"] = None

        async def answer(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in cookie_headers(ctx, state.get("new_session")):
                    headers.append(name, value)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                headers.setdefault("cache-control", "no-store")
                headers["server-timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
                if ctx.settings.secure_cookies:
                    headers["strict-transport-security"] = "max-age=31536000"
            await send(message)

        await self.app(scope, receive, answer)


def cookie_headers(ctx: Ctx, new_session: dict | None) -> list[tuple[str, str]]:
    """The Set-Cookie header a request's session change needs: a new session written, or an ended one removed."""
    if new_session is None:
        return []
    settings, r = ctx.settings, Response()
    if new_session:
        r.set_cookie(SESSION_COOKIE, ctx.sessions.dump(new_session), max_age=settings.session_hours * 3600,
                     httponly=True, samesite="lax", secure=settings.secure_cookies, path="/")
    else:
        r.delete_cookie(SESSION_COOKIE, path="/")
    return [(k.decode(), v.decode()) for k, v in r.raw_headers if k == b"set-cookie"]


# ---------------------------------------------------------------------- error answers, in Chinese


async def on_http(request: Request, exc: HTTPException):
    msg = exc.detail if isinstance(exc.detail, str) else "请求无效"
    if exc.status_code == 404 and msg == "Not Found":
        msg = "没有这个页面或记录"
    if exc.status_code == 405:
        msg = "不支持这种请求方式"
    return error(request, exc.status_code, msg, getattr(exc, "headers", None))


async def on_database_down(request: Request, exc: OperationalError):
    log.error("database unavailable: %s", exc)
    return error(request, 503, "数据库暂时不可用，请稍后再试；已提交并拿到编号的文件不会丢失 [server.database]",
                 {"Retry-After": "10"})


async def on_disk(request: Request, exc: OSError):
    log.exception("storage")
    if exc.errno == errno.ENOSPC:
        return error(request, 507, "服务器磁盘已满，暂时不能保存文件；请联系绩效科 [server.disk_full]")
    return error(request, 500, "服务器读写文件出错，请稍后再试；如果一直出错，请联系绩效科 [server.error]")


async def on_crash(request: Request, exc: Exception):
    return error(request, 500, "服务器内部出错，请稍后再试；如果一直出错，请联系绩效科 [server.error]")


async def on_invalid(request: Request, exc: RequestValidationError):
    return error(request, 422, "请求参数无效：" + "；".join(
        f"{'.'.join(str(x) for x in e.get('loc', ()))}" for e in exc.errors()))


async def on_login(request: Request, exc: LoginRequired):
    nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(nxt)}", status_code=303)


ERROR_ANSWERS: dict[type[Exception], Any] = {HTTPException: on_http, OperationalError: on_database_down, OSError: on_disk,
                 Exception: on_crash, RequestValidationError: on_invalid, LoginRequired: on_login}
