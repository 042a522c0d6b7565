"""The JSON API for scripts (``Authorization: Bearer <token>``), and the page that documents it."""
from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ...checking import report
from ...profile import shipped_profiles
from .. import intake, review, work
from ..db import Submission, User, without_json
from ..deps import READER, WRITER, Ctx, api_form, context, user_by_session
from ..pages import render
from ..records import MAX_ID, Staging, Upload, ask_quota, commit, prepare, recheck_sub, sub_json, visible_sub

router = APIRouter()

upload_body = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "array", "items": {"type": "string", "format": "binary"},
                 "description": "一个或多个工作簿（.xlsx/.xlsm/.xls）或 .zip"},
        "round": {"type": "integer", "description": "批次编号（默认：最近一个未截止的批次）"}}}}}}}
check_body = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
        "profile": {"type": "string", "description": "规则配置名称（默认 national-2020）"}}}}}}}


def submitter(user: User = Depends(WRITER)) -> User:
    """Only a unit's account submits workbooks (asked before the body is read)."""
    if user.role != "unit" or user.unit_id is None:
        raise HTTPException(403, "只有填报单位的账号可以提交工作簿")
    return user


async def read_files(form, settings) -> list[tuple[str | None, bytes]]:  # noqa: ANN001
    out = []
    for f in form.getlist("file"):
        if isinstance(f, UploadFile):
            out.append((f.filename, await f.read(settings.max_file_bytes * 20 + 1)))
    if not out:
        raise HTTPException(422, "没有收到文件（表单字段 file）")
    return out


def take(files, settings) -> intake.Intake:  # noqa: ANN001
    try:
        return intake.take(files, settings)
    except intake.TooMany:
        raise HTTPException(413, f"一次最多上传 {settings.max_files} 个工作簿") from None


@router.post("/api/v1/submissions", tags=["submissions"], status_code=202, openapi_extra=upload_body,
             summary="提交一个或多个工作簿（或 .zip）；立即返回每个提交的 id 与状态，检查在后台进行")
async def api_submit(request: Request, user: User = Depends(submitter), form=Depends(api_form),  # noqa: ANN001
                     ctx: Ctx = Depends(context)):
    files = await read_files(form, ctx.settings)

    def store() -> tuple[int, intake.Intake, Upload]:
        """The files sorted (sniffing, opening archives) and staged while the round and its gate are read:
        work done off the event loop, in one hop, while it answers other requests."""
        assert user.unit_id is not None  # a submitter always has its unit
        taken = take(files, ctx.settings)
        staging = Staging(ctx.store, taken.accepted)
        try:
            with ctx.Session() as db:
                rnd, gate = review.upload_gate(db, form.get("round"), user.unit_id)
                gate.before()  # closed, or past the deadline with no file returned to the unit: 409
                gate.sort(taken)  # approved files, and after the deadline those not returned, are refused one by one
                ask_quota(ctx, db, user, rnd.id, taken.accepted)
        except BaseException:
            staging.drop()
            raise
        staged = staging.keep(taken.accepted)
        return rnd.id, taken, prepare(ctx, user, rnd.id, staged, request.client.host if request.client else None)

    rid, taken, upload = await run_in_threadpool(store)
    made = await commit(ctx, upload)
    if ctx.dispatcher:
        ctx.dispatcher.wake()
    body = {"round": rid, "submissions": made, "refused": taken.refused}
    return JSONResponse(body, status_code=202 if made else 422)


@router.get("/api/v1/submissions/{pid}", tags=["submissions"],
            summary="一个提交的状态与检查结果（findings 与 jixiao check --json 相同）")
def api_get(pid: str, user: User = Depends(READER), ctx: Ctx = Depends(context)):
    with ctx.Session() as db:
        sub = visible_sub(db, user, pid)
        return {**sub_json(sub, findings=True), **review.api_view(db, sub)}


@router.post("/api/v1/submissions/{pid}/recheck", tags=["submissions"], status_code=202,
             summary="重新检查一个提交（绩效科）；检查在后台进行")
def api_recheck(pid: str, request: Request, user: User = Depends(WRITER), ctx: Ctx = Depends(context)):
    recheck_sub(ctx, user, pid, request)
    return JSONResponse({"id": pid, "status": "queued"}, status_code=202)


@router.get("/api/v1/submissions", tags=["submissions"], summary="列出调用者可以看到的提交")
def api_list(round: int | None = None, status: str | None = None,  # noqa: A002
             latest: bool = False, limit: int = 100, offset: int = 0,
             user: User = Depends(READER), ctx: Ctx = Depends(context)):
    limit = max(1, min(limit, 1000))
    if not 0 <= offset <= MAX_ID or (round is not None and not 0 < round <= MAX_ID):
        raise HTTPException(400, "offset 或 round 超出范围")
    with ctx.Session() as db:
        q = select(Submission).options(*without_json())  # the list shows no findings
        if user.role != "bureau":
            q = q.where(Submission.unit_id == user.unit_id)
        if round is not None:
            q = q.where(Submission.round_id == round)
        if status:
            q = q.where(Submission.status == status)
        total = db.scalar(select(func.count()).select_from(q.subquery()))
        subs = db.scalars(q.order_by(Submission.id.desc()).limit(limit).offset(offset)).all()
        if latest:
            seen, keep = set(), []
            for s in subs:
                if (s.round_id, s.unit_id, s.slot) not in seen:
                    seen.add((s.round_id, s.unit_id, s.slot))
                    keep.append(s)
            subs = keep
        rv = review.states(db, list(subs))
        return {"total": total, "submissions": [{**sub_json(s), "review_state": rv.get(s.id)} for s in subs]}


@router.post("/api/v1/check", tags=["check"], openapi_extra=check_body,
             summary="只检查、不保存：返回与 jixiao check --json 相同的结果")
async def api_check(user: User = Depends(WRITER), form=Depends(api_form), ctx: Ctx = Depends(context)):  # noqa: ANN001
    files = await read_files(form, ctx.settings)
    profile = form.get("profile") or None
    if profile is not None and profile not in shipped_profiles():
        raise HTTPException(422, f"没有这个规则配置：{profile}")
    taken = take(files, ctx.settings)
    if ctx.backend is None:
        raise HTTPException(503, "检查进程未启动")
    futs = [asyncio.wrap_future(ctx.backend.submit(work.check_bytes, name, data, profile, ctx.settings.file_seconds))
            for name, data in taken.accepted]
    results = [work.to_result(d) for d in await asyncio.gather(*futs)]
    body = report.to_json(results)
    body["refused"] = taken.refused
    return JSONResponse(body, status_code=200 if results or not taken.refused else 422)


@router.get("/docs", include_in_schema=False)
def api_docs(request: Request, ctx: Ctx = Depends(context)):
    request.state.user = user_by_session(request, ctx)
    spec = request.app.openapi()
    ops = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            params = [p["name"] for p in op.get("parameters", [])]
            content = op.get("requestBody", {}).get("content", {})
            body = content.get("multipart/form-data") or content.get("application/json") or {}
            fields = list(body.get("schema", {}).get("properties", {}))
            ops.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                        "params": params, "fields": fields, "tag": (op.get("tags") or [""])[0]})
    return render(request, "docs.html", ops=ops, spec=spec)
