"""Signing in and out; the home page sends a signed-in user to the rounds."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from ..db import User
from ..deps import ANYONE, Ctx, context, page_form, session_of, user_by_session
from ..pages import render
from ..records import audit
from ..security import Busy, verify_password

router = APIRouter(include_in_schema=False)


def safe_next(nxt: str | None) -> str:
    """Where to go after signing in: a path of this site only."""
    return nxt if nxt and nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt else "/"


@router.get("/")
def home(user: User = Depends(ANYONE)):
    return RedirectResponse("/rounds", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None, ctx: Ctx = Depends(context)):  # noqa: A002
    session_of(request, ctx)
    return render(request, "login.html", next=safe_next(next), error=None)


@router.post("/login")
async def login(request: Request, form=Depends(page_form), ctx: Ctx = Depends(context)):  # noqa: ANN001
    settings = ctx.settings
    name = str(form.get("name") or "").strip()[:100]
    password = str(form.get("password") or "")[:1000]
    nxt = safe_next(str(form.get("next") or "/"))
    address = request.client.host if request.client else "?"
    # a name is locked only for the address that guessed it: a third party cannot lock a unit out
    by_name, by_address = f"name:{name.casefold()}|addr:{address}", f"addr:{address}"
    wait = ctx.limiter.attempt({by_name: settings.login_attempts, by_address: settings.login_address_attempts})
    if wait:
        with ctx.Session.begin() as db:
            audit(db, None, "login.blocked", name, request=request)
        return render(request, "login.html", status_code=429, next=nxt, error=f"登录尝试过多，请 {wait} 秒后再试")

    def check() -> User | None:
        with ctx.Session() as db:
            user = db.scalar(select(User).where(User.name == name))
            ok = verify_password(user.password_hash if user else None, password)
            return user if ok and user is not None and user.active else None

    try:
        user = await ctx.verifiers.verify(check)
    except Busy:
        return render(request, "login.html", status_code=503, headers={"Retry-After": "5"}, next=nxt,
                      error="登录的人太多，请稍后再试")
    with ctx.Session.begin() as db:
        audit(db, user, "login" if user else "login.failed", name, request=request)
    if user is None:
        return render(request, "login.html", status_code=401, next=nxt, error="用户名或密码不正确")
    ctx.limiter.clear(by_name)
    request.state.new_session = ctx.sessions.fresh(user.id, user.session_epoch)  # and a new CSRF token
    return RedirectResponse(nxt, status_code=303)


@router.post("/logout")
async def logout(request: Request, form=Depends(page_form), ctx: Ctx = Depends(context)):  # noqa: ANN001
    user = user_by_session(request, ctx)
    if user is not None:  # every session of this user ends, not only this browser's cookie
        with ctx.Session.begin() as db:
            db.get(User, user.id).session_epoch = user.session_epoch + 1
            audit(db, user, "logout", user.name, request=request)
    request.state.new_session = {}
    return RedirectResponse("/login", status_code=303)
