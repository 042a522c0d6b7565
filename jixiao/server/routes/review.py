"""Review, from the pages and the API: a reviewer's decision on a file and word on a finding; a unit's
撤回 and 提交完毕. The rules are in ``review.py``; every action is in the audit log."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from .. import review
from ..db import User
from ..deps import BUREAU, UNIT, WRITER, Ctx, context, page_form
from ..records import round_or_404, visible_sub

router = APIRouter()

decision_body = {"type": "object", "required": ["action"], "properties": {
    "action": {"type": "string", "enum": list(review.ACTIONS), "description": "return 退回修改（须附 comment）、approve 审核通过、reopen 重新打开"},
    "comment": {"type": "string", "description": "意见（填报单位可见）"}}}
finding_body = {"type": "object", "required": ["rule", "verdict"], "properties": {
    "rule": {"type": "string"}, "sheet": {"type": "string"}, "cell": {"type": "string"},
    "verdict": {"type": "string", "enum": list(review.VERDICTS), "description": "agree 同意、reject 不采纳（须附 reason）"},
    "reason": {"type": "string"}}}


def _text(body: Any, key: str) -> str | None:
    v = body.get(key) if isinstance(body, dict) else None
    return None if v is None else str(v)


def _decide(ctx: Ctx, user: User, pid: str, action: str, comment: str | None, request: Request) -> dict:
    with ctx.Session.begin() as db:
        sub = visible_sub(db, user, pid)
        review.decide(db, user, sub, action, comment, request)
        return review.api_view(db, sub, findings=False)["review"]


def _finding(ctx: Ctx, user: User, pid: str, f: dict, request: Request) -> None:
    with ctx.Session.begin() as db:
        sub = visible_sub(db, user, pid)
        review.comment_finding(db, user, sub, f.get("rule") or "", f.get("sheet"), f.get("cell"),
                               f.get("verdict") or "", f.get("reason"), request)


def _withdraw(ctx: Ctx, user: User, pid: str, request: Request) -> None:
    with ctx.Session.begin() as db:
        review.withdraw(db, user, visible_sub(db, user, pid), request)


def _complete(ctx: Ctx, user: User, rid: int, request: Request) -> None:
    with ctx.Session.begin() as db:
        review.mark_complete(db, user, round_or_404(db, rid), request)


# ------------------------------------------------------------------------------------------------- API


@router.post("/api/v1/submissions/{pid}/review", tags=["review"],
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": decision_body}}}},
             summary="审核一个文件的最新版本（绩效科）：退回修改、审核通过或重新打开")
async def api_review(pid: str, request: Request, body: Any = Body(None), user: User = Depends(WRITER),
                     ctx: Ctx = Depends(context)):
    if user.role != "bureau":
        raise review.refuse(403, "只有绩效科可以审核", "review.forbidden")
    return await run_in_threadpool(_decide, ctx, user, pid, _text(body, "action") or "", _text(body, "comment"), request)


@router.post("/api/v1/submissions/{pid}/findings", tags=["review"],
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": finding_body}}}},
             summary="对一条问题的意见（绩效科）：同意或不采纳（附理由）；填报单位在问题旁看到")
async def api_finding(pid: str, request: Request, body: Any = Body(None), user: User = Depends(WRITER),
                      ctx: Ctx = Depends(context)):
    if user.role != "bureau":
        raise review.refuse(403, "只有绩效科可以审核", "review.forbidden")
    f = {k: _text(body, k) for k in ("rule", "sheet", "cell", "verdict", "reason")}
    await run_in_threadpool(_finding, ctx, user, pid, f, request)
    return {"id": pid, "saved": True}


@router.post("/api/v1/submissions/{pid}/withdraw", tags=["review"],
             summary="撤回一个文件（填报单位）：最新版本不再计入本批次，原文件仍保留")
async def api_withdraw(pid: str, request: Request, user: User = Depends(WRITER), ctx: Ctx = Depends(context)):
    await run_in_threadpool(_withdraw, ctx, user, pid, request)
    return {"id": pid, "withdrawn": True}


@router.post("/api/v1/rounds/{rid}/complete", tags=["review"], summary="标记本单位在该批次提交完毕（填报单位）")
async def api_complete(rid: int, request: Request, user: User = Depends(WRITER), ctx: Ctx = Depends(context)):
    await run_in_threadpool(_complete, ctx, user, rid, request)
    return {"round": rid, "complete": True}


# ----------------------------------------------------------------------------------------------- pages


@router.post("/s/{pid}/review", include_in_schema=False)
async def page_review(request: Request, pid: str, user: User = Depends(BUREAU), form=Depends(page_form),  # noqa: ANN001
                      ctx: Ctx = Depends(context)):
    await run_in_threadpool(_decide, ctx, user, pid, str(form.get("action") or ""),
                            str(form.get("comment") or ""), request)
    return RedirectResponse(f"/s/{pid}#review", status_code=303)


@router.post("/s/{pid}/finding", include_in_schema=False)
async def page_finding(request: Request, pid: str, user: User = Depends(BUREAU), form=Depends(page_form),  # noqa: ANN001
                       ctx: Ctx = Depends(context)):
    f = {k: str(form.get(k) or "") for k in ("rule", "sheet", "cell", "verdict", "reason")}
    await run_in_threadpool(_finding, ctx, user, pid, f, request)
    return RedirectResponse(f"/s/{pid}#findings", status_code=303)


@router.post("/s/{pid}/withdraw", include_in_schema=False)
async def page_withdraw(request: Request, pid: str, user: User = Depends(UNIT), form=Depends(page_form),  # noqa: ANN001
                        ctx: Ctx = Depends(context)):
    await run_in_threadpool(_withdraw, ctx, user, pid, request)
    with ctx.Session() as db:
        rid = visible_sub(db, user, pid).round_id
    return RedirectResponse(f"/rounds/{rid}/mine", status_code=303)


@router.post("/rounds/{rid}/complete", include_in_schema=False)
async def page_complete(request: Request, rid: int, user: User = Depends(UNIT), form=Depends(page_form),  # noqa: ANN001
                        ctx: Ctx = Depends(context)):
    await run_in_threadpool(_complete, ctx, user, rid, request)
    return RedirectResponse(f"/rounds/{rid}/mine", status_code=303)
