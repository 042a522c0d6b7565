"""工作考核评分表, from the pages: every unit's score of its self-evaluation work, the reviewer's entries for
the rows jixiao cannot know, one filled .xlsx per unit, all of them in a .zip, and the summary."""
from __future__ import annotations

import io
import zipfile

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...season import assessment
from .. import spotcheck
from ..db import Round, Unit, User
from ..deps import BUREAU, Ctx, context, page_form
from ..pages import attachment, render
from ..records import MAX_ID, audit, round_or_404

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _unit(db, uid: int) -> Unit:  # noqa: ANN001
    u = db.get(Unit, uid) if 0 < uid <= MAX_ID else None
    if u is None:
        raise HTTPException(404, "没有这个单位")
    return u


def _file_name(rnd: Round, unit: Unit) -> str:
    return f"{rnd.year}-{unit.name}-工作考核评分表.xlsx"


@router.get("/rounds/{rid}/assessment")
def assessment_page(request: Request, rid: int, user: User = Depends(BUREAU), ctx: Ctx = Depends(context)):
    with ctx.Session() as db:
        rnd = round_or_404(db, rid)
        sheets = spotcheck.round_sheets(db, rnd)
        return render(request, "assessment.html", rnd=rnd, sheets=sheets, items=assessment.items())


@router.get("/rounds/{rid}/assessment/{uid:int}")
def unit_page(request: Request, rid: int, uid: int, user: User = Depends(BUREAU), ctx: Ctx = Depends(context)):
    with ctx.Session() as db:
        rnd = round_or_404(db, rid)
        unit = _unit(db, uid)
        return render(request, "assessment_unit.html", rnd=rnd, unit=unit, sheet=spotcheck.unit_sheet(db, rnd, unit))


def _save(ctx: Ctx, user: User, rid: int, uid: int, scores: dict, reasons: dict, request: Request) -> None:
    with ctx.Session.begin() as db:
        spotcheck.save_assessment(db, user, round_or_404(db, rid), _unit(db, uid), scores, reasons, request)


@router.post("/rounds/{rid}/assessment/{uid:int}")
async def page_save(request: Request, rid: int, uid: int, user: User = Depends(BUREAU), form=Depends(page_form),  # noqa: ANN001
                    ctx: Ctx = Depends(context)):
    keys = {it.key for it in assessment.items()}
    scores = {k[6:]: str(v) for k, v in form.items() if k.startswith("score-") and k[6:] in keys}
    reasons = {k[7:]: str(v) for k, v in form.items() if k.startswith("reason-") and k[7:] in keys}
    await run_in_threadpool(_save, ctx, user, rid, uid, scores, reasons, request)
    return RedirectResponse(f"/rounds/{rid}/assessment/{uid}?saved=1", status_code=303)


@router.get("/rounds/{rid}/assessment/{uid:int}.xlsx")
def unit_xlsx(request: Request, rid: int, uid: int, user: User = Depends(BUREAU), ctx: Ctx = Depends(context)):
    with ctx.Session.begin() as db:
        rnd, unit = round_or_404(db, rid), _unit(db, uid)
        data = assessment.sheet_xlsx(unit.name, rnd.name, spotcheck.unit_sheet(db, rnd, unit))
        audit(db, user, "download.assessment_xlsx", f"round {rid} unit {uid}", None, request)
        name = _file_name(rnd, unit)
    return Response(data, media_type=XLSX, headers={"Content-Disposition": attachment(name)})


def _round_sheets(request: Request, rid: int, user: User, ctx: Ctx, what: str) -> tuple[Round, list]:
    """The round and every unit's 工作考核评分表, the download audited as ``what``."""
    with ctx.Session.begin() as db:
        rnd = round_or_404(db, rid)
        sheets = spotcheck.round_sheets(db, rnd)
        audit(db, user, what, f"round {rid}", f"{len(sheets)} units", request)
        return rnd, sheets


@router.get("/rounds/{rid}/assessment.zip")
def all_xlsx(request: Request, rid: int, user: User = Depends(BUREAU), ctx: Ctx = Depends(context)):
    """Every unit's filled 工作考核评分表 and the summary, in one .zip."""
    rnd, sheets = _round_sheets(request, rid, user, ctx, "download.assessment_zip")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for unit, s in sheets:
            z.writestr(_file_name(rnd, unit), assessment.sheet_xlsx(unit.name, rnd.name, s))
        z.writestr(f"{rnd.year}-{rnd.name}-工作考核汇总.xlsx",
                   assessment.summary_xlsx(rnd.name, [(u.name, s) for u, s in sheets]))
    name = f"{rnd.year}-{rnd.name}-工作考核评分表.zip"
    return Response(buf.getvalue(), media_type="application/zip", headers={"Content-Disposition": attachment(name)})


@router.get("/rounds/{rid}/assessment.xlsx")
def summary_xlsx(request: Request, rid: int, user: User = Depends(BUREAU), ctx: Ctx = Depends(context)):
    rnd, sheets = _round_sheets(request, rid, user, ctx, "download.assessment_summary")
    data = assessment.summary_xlsx(rnd.name, [(u.name, s) for u, s in sheets])
    return Response(data, media_type=XLSX, headers={"Content-Disposition": attachment(f"{rnd.year}-{rnd.name}-工作考核汇总.xlsx")})
