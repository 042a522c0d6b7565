"""The request's dependencies: the application's context, who is asking, and the checked form.

Routes name them in their signatures (``user: User = Depends(BUREAU)``); FastAPI resolves them in the
order they are written, so the user is known (or the login page asked for) before a form is read.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy import select
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from .config import Settings
from .db import ApiToken, User
from .security import RateLimit, Sessions, Verifiers, same, token_hash
from .storage import BlobStore
from .writer import GroupWriter

if TYPE_CHECKING:
    from .jobs import Dispatcher


class LoginRequired(Exception):
    """A page asked for without a session: answered by a redirect to the login page."""


@dataclass
class Ctx:
    """Everything a request handler needs; one per application."""
    settings: Settings
    engine: Any
    Session: Any
    folder: Path  # the server's temporary folder (``lifetime.server_folder``)
    store: BlobStore
    sessions: Sessions
    limiter: RateLimit
    verifiers: Verifiers
    writer: GroupWriter | None = None
    backend: Any = None
    dispatcher: Dispatcher | None = None
    tokens: dict[str, tuple[float, User | None]] = field(default_factory=dict)  # token hash → (until, user)
    # (round, unit) → the bytes the unit's files took when this process last wrote its uploads: lets the quota's
    # early answer skip the database when an upload fits for certain (the writing transaction asks anyway)
    stored: dict[tuple[int, int], int] = field(default_factory=dict)


async def context(request: Request) -> Ctx:
    return request.app.state.ctx


def session_of(request: Request, ctx: Ctx) -> dict:
    """The request's session, made (anonymous, with a CSRF token) when there is none."""
    s = request.state.session
    if s is None:
        s = ctx.sessions.fresh()
        request.state.session = s
        request.state.new_session = s
    return s


def user_by_token(ctx: Ctx, token: str) -> User | None:
    """The token's user; remembered for 30 s so scripts' calls cost no database read each."""
    key = token_hash(token)
    hit = ctx.tokens.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    with ctx.Session() as db:
        row = db.execute(select(ApiToken, User).join(User, ApiToken.user_id == User.id)
                         .where(ApiToken.token_hash == key)).first()
        user = row[1] if row is not None and row[1].active else None
    if user is not None:  # unknown tokens are not remembered: guessing fills no memory
        if len(ctx.tokens) > 10000:
            ctx.tokens.clear()
        ctx.tokens[key] = (time.monotonic() + 30, user)
    return user


def user_by_session(request: Request, ctx: Ctx) -> User | None:
    s = request.state.session
    if not s or not s.get("uid"):
        return None
    with ctx.Session() as db:
        user = db.get(User, s["uid"])
        ok = user is not None and user.active and s.get("ep", 0) == user.session_epoch
        return user if ok else None


class PageUser:
    """The signed-in user of a page (of ``role``, when given); without a session, the login page."""

    def __init__(self, role: str | None = None):
        self.role = role

    def __call__(self, request: Request, ctx: Ctx = Depends(context)) -> User:
        user = user_by_session(request, ctx)
        if user is None:
            raise LoginRequired
        if self.role and user.role != self.role:
            raise HTTPException(403, "没有权限查看此页面")
        request.state.user = user
        return user


class ApiUser:
    """The caller of the API: a Bearer token, or the page's session (then, to ``write``, its CSRF header)."""

    def __init__(self, write: bool = False):
        self.write = write

    def __call__(self, request: Request, ctx: Ctx = Depends(context)) -> User:
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            user = user_by_token(ctx, auth[7:].strip())
        else:
            user = user_by_session(request, ctx)
            if user is not None and self.write and not same(request.headers.get("x-csrf-token"),
                                                             request.state.session.get("csrf")):
                raise HTTPException(403, "CSRF 校验失败：请刷新页面后重试")
        if user is None:
            raise HTTPException(401, "未登录或令牌无效", headers={"WWW-Authenticate": "Bearer"})
        request.state.user = user
        return user


ANYONE, BUREAU, UNIT = PageUser(), PageUser("bureau"), PageUser("unit")
READER, WRITER = ApiUser(), ApiUser(write=True)


async def form_of(request: Request, settings: Settings):
    """The request's multipart form, within the limits of files, fields and part sizes."""
    try:
        return await request.form(max_files=settings.max_files + 1, max_fields=50, max_part_size=64 * 1024)
    except (MultiPartException, StarletteHTTPException) as e:
        why = str(getattr(e, "detail", None) or getattr(e, "message", None) or e)
        if "Too many files" in why:
            raise HTTPException(413, f"一次最多上传 {settings.max_files} 个工作簿") from e
        if "Too many fields" in why or "exceeded maximum size" in why:
            raise HTTPException(413, "表单字段过多或过长") from e
        raise HTTPException(400, "上传内容无法解析") from e


async def api_form(request: Request, ctx: Ctx = Depends(context)):
    """The form of an API call (no CSRF field: the caller's credentials were checked by ApiUser)."""
    return await form_of(request, ctx.settings)


async def page_form(request: Request, ctx: Ctx = Depends(context)):
    """The form of a page, refused unless it carries the session's CSRF token."""
    f = await form_of(request, ctx.settings)
    s = request.state.session
    if not s or not same(f.get("csrf"), s.get("csrf")):
        raise HTTPException(403, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试")
    return f
