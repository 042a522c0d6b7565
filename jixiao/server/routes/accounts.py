"""Accounts: the reviewers' page of unit accounts: add one, deactivate or reactivate it, reset its password.

A password made here is shown once, on the answer to the form that made it (never in a link or a log).
Deactivating ends the account's sessions and API tokens at once (``accounts.end_access``, and this
process's token cache)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from ...rules import error_codes
from ..accounts import AccountError, add_user, new_password, set_active, set_password
from ..db import Unit, User
from ..deps import BUREAU, Ctx, context, page_form
from ..pages import render
from ..records import audit

error_codes({"account.not_found": "没有这个账号", "account.invalid": "账号信息有误"})

router = APIRouter(include_in_schema=False)


def forget_tokens(ctx: Ctx, user_id: int) -> None:
    """Drop the account's tokens from the cache that spares scripts a database read (30 s)."""
    for key, (_, cached) in list(ctx.tokens.items()):
        if cached is not None and cached.id == user_id:
            ctx.tokens.pop(key, None)


def accounts_page(request: Request, ctx: Ctx, shown: dict | None = None, error: str | None = None,
                  status_code: int = 200):
    with ctx.Session() as db:
        people = db.scalars(select(User).order_by(User.role, User.name)).all()
        units = db.scalars(select(Unit).order_by(Unit.name)).all()
    return render(request, "accounts.html", status_code=status_code, people=people, units=units, shown=shown,
                  error=error)


@router.get("/accounts")
def accounts(request: Request, user: User = Depends(BUREAU), ctx: Ctx = Depends(context)):
    return accounts_page(request, ctx)


@router.post("/accounts")
async def add_account(request: Request, user: User = Depends(BUREAU), form=Depends(page_form),  # noqa: ANN001
                      ctx: Ctx = Depends(context)):
    name = str(form.get("name") or "").strip()
    unit = str(form.get("unit") or "").strip()
    password = new_password()
    try:
        with ctx.Session.begin() as db:
            if not unit:
                raise AccountError("请填写或选择单位名称")
            if len(unit) > 200:
                raise AccountError("单位名称不超过 200 个字符")
            add_user(db, name, "unit", password, unit, by=None)
            audit(db, user, "user.add", name, f"role=unit unit={unit}", request)
    except AccountError as e:
        return accounts_page(request, ctx, error=f"{e} [account.invalid]", status_code=422)
    return accounts_page(request, ctx, shown={"name": name, "password": password, "what": "新账号"})


@router.post("/accounts/{uid}/password")
async def reset_password(request: Request, uid: int, user: User = Depends(BUREAU), form=Depends(page_form),  # noqa: ANN001
                         ctx: Ctx = Depends(context)):
    password = new_password()
    with ctx.Session.begin() as db:
        target = db.get(User, uid) if 0 < uid < 2**31 else None
        if target is None or target.role != "unit":
            raise HTTPException(404, "没有这个填报单位账号 [account.not_found]")
        set_password(db, target.name, password, by=None)
        audit(db, user, "user.password", target.name, "重设密码（网页）", request)
        name = target.name
    forget_tokens(ctx, uid)
    return accounts_page(request, ctx, shown={"name": name, "password": password, "what": "新密码"})


@router.post("/accounts/{uid}/active")
async def activate(request: Request, uid: int, user: User = Depends(BUREAU), form=Depends(page_form),  # noqa: ANN001
                   ctx: Ctx = Depends(context)):
    active = str(form.get("active") or "") == "1"
    try:
        with ctx.Session.begin() as db:
            target = db.get(User, uid) if 0 < uid < 2**31 else None
            if target is None or target.role != "unit":
                raise HTTPException(404, "没有这个填报单位账号 [account.not_found]")
            was = target.active
            set_active(db, target.name, active, by=None)
            if was != active:
                audit(db, user, "user.activate" if active else "user.deactivate", target.name, request=request)
    except AccountError as e:
        raise HTTPException(422, f"{e} [account.invalid]") from e
    forget_tokens(ctx, uid)
    return RedirectResponse("/accounts", status_code=303)
