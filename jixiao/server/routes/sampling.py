"""抽查复核, from the pages and the API: a round's draw (size or share, seed, weighting), the reviewer's changes
and confirmation, the sample as .xlsx, 复核得分 per row of a sampled form and the 复核 report. The rules are in
``jixiao.season``; the rows and the audit log in ``spotcheck``."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...season import recheck, sampling
from .. import spotcheck
from ..db import User
from ..deps import BUREAU, READER, WRITER, Ctx, context, page_form
from ..pages import attachment, local, render
from ..records import audit, round_or_404

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

draw_body = {"type": "object", "properties": {
    "size": {"type": "integer", "description": "抽查份数（与 share 二选一）"},
    "share": {"type": "number", "description": "抽查比例，百分数（与 size 二选一）"},
    "seed": {"type": "integer", "description": "随机种子；不填则随机生成并记录"},
    "weighted": {"type": "boolean", "description": "按风险加权（错误数、自评分高于规则分、高自评分低执行率）"}}}


def _int(x: Any, what: str) -> int | None:
    if x in (None, ""):
        return None
    try:
        v = int(str(x).strip())
    except ValueError:
        raise spotcheck.refuse(422, f"{what}应为整数：{x}", "sampling.invalid") from None
    if not 0 <= v < 2**31:
        raise spotcheck.refuse(422, f"{what}超出范围：{x}", "sampling.invalid")
    return v


def _float(x: Any, what: str) -> float | None:
    if x in (None, ""):
        return None
    try:
        return float(str(x).strip())
    except ValueError:
        raise spotcheck.refuse(422, f"{what}应为数字：{x}", "sampling.invalid") from None


def _draw(ctx: Ctx, user: User, rid: int, f: dict, request: Request) -> dict:
    with ctx.Session.begin() as db:
        rnd = round_or_404(db, rid)
        got = spotcheck.draw(db, user, rnd, _int(f.get("size"), "抽查份数"), _float(f.get("share"), "抽查比例"),
                             _int(f.get("seed"), "随机种子"), bool(f.get("weighted")), request)
        return got.to_dict() | {"keys": list(got.keys)}


def _view(ctx: Ctx, rid: int) -> dict:
    with ctx.Session() as db:
        rnd = round_or_404(db, rid)
        row, rows, pop = spotcheck.sample_rows(db, rnd)
        return {"round": rid, "population": len(pop.candidates),
                "draw": None if row is None else row.draw, "confirmed_at": local(row.confirmed_at) if row else None,
                "sample": [{"key": r.candidate.key, "unit": r.candidate.unit, "file": r.candidate.label,
                            "kind": r.candidate.kind, "how": r.how, "risk": r.risk, "why": r.why} for r in rows]}


# ------------------------------------------------------------------------------------------------- API


@router.post("/api/v1/rounds/{rid}/sample", tags=["sampling"], summary="抽取抽查样本（绩效科）：份数或比例，随机种子，可按风险加权",
             openapi_extra={"requestBody": {"content": {"application/json": {"schema": draw_body}}}})
async def api_draw(rid: int, request: Request, body: Any = Body(None), user: User = Depends(WRITER),
                   ctx: Ctx = Depends(context)):
    if user.role != "bureau":
        raise spotcheck.refuse(403, "只有绩效科可以抽查", "sampling.forbidden")
    return await run_in_threadpool(_draw, ctx, user, rid, body if isinstance(body, dict) else {}, request)


@router.get("/api/v1/rounds/{rid}/sample", tags=["sampling"], summary="本批次的抽查样本（绩效科）")
async def api_sample(rid: int, user: User = Depends(READER), ctx: Ctx = Depends(context)):
    if user.role != "bureau":
        raise spotcheck.refuse(403, "只有绩效科可以查看抽查样本", "sampling.forbidden")
    return await run_in_threadpool(_view, ctx, rid)


# ----------------------------------------------------------------------------------------------- pages


@router.get("/rounds/{rid}/sampling", include_in_schema=False)
def sampling_page(request: Request, rid: int, user: User = Depends(BUREAU), ctx: Ctx = Depends(context)):
    with ctx.Session() as db:
        rnd = round_or_404(db, rid)
        row, rows, pop = spotcheck.sample_rows(db, rnd)
        chosen = {r.candidate.key for r in rows}
        others = [c for c in pop.candidates if c.key not in chosen]
        done = {r.candidate.key: spotcheck.form_recheck(db, rnd, r.candidate.key).done for r in rows}
        return render(request, "sampling.html", rnd=rnd, sample=row, rows=rows, others=others,
                      population=len(pop.candidates), done=done, KIND_LABELS=sampling.KIND_LABELS,
                      drawn=None if row is None else sampling.Sample.from_dict(row.draw))


@router.post("/rounds/{rid}/sampling/draw", include_in_schema=False)
async def page_draw(request: Request, rid: int, user: User = Depends(BUREAU), form=Depends(page_form),  # noqa: ANN001
                    ctx: Ctx = Depends(context)):
    by = str(form.get("by") or "size")
    f = {"size": form.get("amount") if by == "size" else None, "share": form.get("amount") if by == "share" else None,
         "seed": form.get("seed"), "weighted": form.get("weighted") == "1"}
    await run_in_threadpool(_draw, ctx, user, rid, f, request)
    return RedirectResponse(f"/rounds/{rid}/sampling", status_code=303)


def _adjust(ctx: Ctx, user: User, rid: int, add: list[str], remove: list[str], request: Request) -> None:
    with ctx.Session.begin() as db:
        spotcheck.adjust(db, user, round_or_404(db, rid), add, remove, request)


@router.post("/rounds/{rid}/sampling/adjust", include_in_schema=False)
async def page_adjust(request: Request, rid: int, user: User = Depends(BUREAU), form=Depends(page_form),  # noqa: ANN001
                      ctx: Ctx = Depends(context)):
    add = [str(form.get("add"))] if form.get("add") else []
    remove = [str(form.get("remove"))] if form.get("remove") else []
    await run_in_threadpool(_adjust, ctx, user, rid, add, remove, request)
    return RedirectResponse(f"/rounds/{rid}/sampling", status_code=303)


def _confirm(ctx: Ctx, user: User, rid: int, request: Request) -> None:
    with ctx.Session.begin() as db:
        spotcheck.confirm(db, user, round_or_404(db, rid), request)


@router.post("/rounds/{rid}/sampling/confirm", include_in_schema=False)
async def page_confirm(request: Request, rid: int, user: User = Depends(BUREAU), form=Depends(page_form),  # noqa: ANN001
                       ctx: Ctx = Depends(context)):
    await run_in_threadpool(_confirm, ctx, user, rid, request)
    return RedirectResponse(f"/rounds/{rid}/sampling", status_code=303)


@router.get("/rounds/{rid}/sampling.xlsx", include_in_schema=False)
def sample_xlsx(request: Request, rid: int, user: User = Depends(BUREAU), ctx: Ctx = Depends(context)):
    """The sample as .xlsx: how it was drawn (seed, size, weighting) and each form with its risk."""
    with ctx.Session.begin() as db:
        rnd = round_or_404(db, rid)
        row, rows, pop = spotcheck.sample_rows(db, rnd)
        if row is None:
            raise spotcheck.refuse(409, "尚未抽取样本", "sampling.none")
        d = sampling.Sample.from_dict(row.draw)
        audit(db, user, "download.sample_xlsx", f"round {rid}", f"seed={d.seed}", request)
        confirmed = f"{row.confirmed_by}，{local(row.confirmed_at)}" if row.confirmed_at else None
        data = sampling.sample_xlsx(rnd.name, d, rows, confirmed)
        name = f"{rnd.year}-{rnd.name}-抽查样本.xlsx"
    return Response(data, media_type=XLSX, headers={"Content-Disposition": attachment(name)})


@router.get("/rounds/{rid}/recheck/{key}", include_in_schema=False)
def recheck_page(request: Request, rid: int, key: str, user: User = Depends(BUREAU), ctx: Ctx = Depends(context)):
    with ctx.Session() as db:
        rnd = round_or_404(db, rid)
        fr = spotcheck.form_recheck(db, rnd, key)
        return render(request, "recheck.html", rnd=rnd, key=key, fr=fr)


def _save(ctx: Ctx, user: User, rid: int, key: str, scores: dict, reasons: dict, request: Request) -> None:
    with ctx.Session.begin() as db:
        spotcheck.save_recheck(db, user, round_or_404(db, rid), key, scores, reasons, request)


@router.post("/rounds/{rid}/recheck/{key}", include_in_schema=False)
async def page_recheck(request: Request, rid: int, key: str, user: User = Depends(BUREAU),
                       form=Depends(page_form), ctx: Ctx = Depends(context)):  # noqa: ANN001
    scores, reasons = {}, {}
    for k, v in form.items():
        if k.startswith("score-") and k[6:].isdigit():
            scores[int(k[6:])] = str(v)
        elif k.startswith("reason-") and k[7:].isdigit():
            reasons[int(k[7:])] = str(v)
    await run_in_threadpool(_save, ctx, user, rid, key, scores, reasons, request)
    return RedirectResponse(f"/rounds/{rid}/recheck/{key}?saved=1", status_code=303)


@router.get("/rounds/{rid}/recheck.xlsx", include_in_schema=False)
def recheck_xlsx(request: Request, rid: int, user: User = Depends(BUREAU), ctx: Ctx = Depends(context)):
    """自评分 vs 复核分, per unit and per indicator, with the difference and the reason."""
    with ctx.Session.begin() as db:
        rnd = round_or_404(db, rid)
        forms = spotcheck.round_rechecks(db, rnd)
        audit(db, user, "download.recheck_xlsx", f"round {rid}", f"{len(forms)} forms", request)
        data = recheck.report_xlsx(rnd.name, forms)
        name = f"{rnd.year}-{rnd.name}-抽查复核结果.xlsx"
    return Response(data, media_type=XLSX, headers={"Content-Disposition": attachment(name)})
