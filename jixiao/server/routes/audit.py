"""The audit log: who did what, from where, newest first."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from ..db import Audit, User
from ..deps import BUREAU, Ctx, context
from ..pages import render

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def audit_page(request: Request, user: User = Depends(BUREAU), ctx: Ctx = Depends(context)):
    with ctx.Session() as db:
        rows = db.scalars(select(Audit).order_by(Audit.id.desc()).limit(500)).all()
    return render(request, "audit.html", rows=rows)
