"""The rounds API, for bureaus that script their season: list, get one, create, close."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from .. import roundspec
from ..db import Round, User
from ..deps import READER, WRITER, Ctx, context
from ..records import round_or_404

router = APIRouter(tags=["rounds"])

round_body = {"type": "object", "required": ["name", "year", "kinds"], "properties": {
    "name": {"type": "string", "description": "批次名称"},
    "year": {"type": "integer", "description": "年度"},
    "kinds": {"type": "array", "items": {"type": "string", "enum": ["dept", "project"]},
              "description": "dept 部门整体支出绩效自评表，project 项目支出绩效自评表"},
    "profile": {"type": "string", "description": "规则配置名称（不填：按工作簿所注）"},
    "deadline": {"type": "string", "description": "截止时间，ISO 8601；不带时区时按北京时间"},
    "documents": {"type": "array", "items": {"type": "string", "enum": ["dept", "basic", "project", "report"]},
                  "description": "每个单位应交的材料：整体支出自评表、基础数据表、项目支出自评表（每个所列项目一份）、自评报告"},
    "late_policy": {"type": "string", "enum": ["refuse", "accept"],
                    "description": "截止后：refuse 不再接收；accept 仍接收并记录迟报天数（北京时间）"},
    "projects": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                 "description": "各单位应交项目支出自评表的项目：{单位名称: [项目名称]}"}}}


def bureau(user: User) -> None:
    if user.role != "bureau":
        raise HTTPException(403, "只有绩效科可以设立或关闭批次 [round.forbidden]")


@router.get("/api/v1/rounds", summary="批次列表（新的在前）")
def api_rounds(user: User = Depends(READER), ctx: Ctx = Depends(context)):
    with ctx.Session() as db:
        return {"rounds": [roundspec.to_json(r) for r in db.scalars(select(Round).order_by(Round.id.desc()))]}


@router.get("/api/v1/rounds/{rid}", summary="一个批次")
def api_round(rid: int, user: User = Depends(READER), ctx: Ctx = Depends(context)):
    with ctx.Session() as db:
        return roundspec.to_json(round_or_404(db, rid))


@router.post("/api/v1/rounds", status_code=201, summary="设立批次（绩效科）",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": round_body}}}})
def api_create_round(request: Request, body: Any = Body(None), user: User = Depends(WRITER),
                     ctx: Ctx = Depends(context)):
    bureau(user)
    if not isinstance(body, dict):
        raise HTTPException(422, "请求体应为 JSON 对象：name、year、kinds，可选 profile、deadline [round.invalid]")
    f = body_fields(body)
    with ctx.Session.begin() as db:
        out = roundspec.to_json(roundspec.create(db, user, f, request))
    return JSONResponse(out, status_code=201, headers={"Location": f"/api/v1/rounds/{out['id']}"})


def _listed(x: Any) -> list:
    return [x] if isinstance(x, str) else x if isinstance(x, list) else []


def _projects(x: Any) -> dict[str, list[str]] | None:
    if x is None:
        return None
    if not isinstance(x, dict) or not all(isinstance(v, list) for v in x.values()):
        raise HTTPException(422, "projects 应为 {单位名称: [项目名称, …]} [round.invalid]")
    return {str(k): [str(p) for p in v] for k, v in x.items()}


def body_fields(body: dict) -> roundspec.RoundFields:
    try:
        return roundspec.fields(body.get("name"), body.get("year"), _listed(body.get("kinds")), body.get("profile"),
                                body.get("deadline"), _listed(body.get("documents")), body.get("late_policy"),
                                _projects(body.get("projects")))
    except roundspec.RoundError as e:
        raise HTTPException(422, f"{e} [round.invalid]") from e


@router.patch("/api/v1/rounds/{rid}", summary="修改批次（绩效科）：只改所给的字段",
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": round_body}}}})
def api_edit_round(rid: int, request: Request, body: Any = Body(None), user: User = Depends(WRITER),
                   ctx: Ctx = Depends(context)):
    bureau(user)
    if not isinstance(body, dict):
        raise HTTPException(422, "请求体应为 JSON 对象 [round.invalid]")
    with ctx.Session.begin() as db:
        rnd = round_or_404(db, rid)
        now_ = roundspec.to_json(rnd)
        merged = {**now_, **body}
        return roundspec.to_json(roundspec.edit(db, user, rnd, body_fields(merged), request))


@router.post("/api/v1/rounds/{rid}/close", summary="关闭批次（绩效科）：此后不再接收任何提交，包括退回修改的文件")
def api_close_round(rid: int, request: Request, user: User = Depends(WRITER), ctx: Ctx = Depends(context)):
    bureau(user)
    with ctx.Session.begin() as db:
        return roundspec.to_json(roundspec.close(db, user, round_or_404(db, rid), request))
