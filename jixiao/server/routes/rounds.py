"""Rounds: the list, a new round and its deadline, the board of a round's units, and its reports."""
from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from ...checking import report
from ...profile import shipped_profiles
from .. import board as rules
from .. import review as reviews
from .. import roundspec, work
from ..db import Round, Submission, Unit, User, now
from ..deps import ANYONE, BUREAU, Ctx, context, page_form
from ..pages import attachment, china_time, local, render
from ..records import audit, round_or_404

router = APIRouter(include_in_schema=False)


@router.get("/rounds")
def rounds_page(request: Request, user: User = Depends(ANYONE), ctx: Ctx = Depends(context)):
    with ctx.Session() as db:
        rounds = db.scalars(select(Round).order_by(Round.id.desc())).all()
        counts = dict(db.execute(select(Submission.round_id, func.count(func.distinct(Submission.unit_id)))
                                 .group_by(Submission.round_id)).all())
        n_units = db.scalar(select(func.count(Unit.id)))
        mine = {}
        if user.role == "unit":
            for rnd in rounds:
                subs = db.scalars(select(Submission).where(Submission.round_id == rnd.id,
                                                           Submission.unit_id == user.unit_id)).all()
                mine[rnd.id] = rules.unit_status(list(rules.latest_of(subs).values()))
    return render(request, "rounds.html", rounds=rounds, counts=counts, n_units=n_units, mine=mine,
                  profiles=shipped_profiles(), now=now(), this_year=datetime.now().year - 1)


@router.post("/rounds")
async def create_round(request: Request, user: User = Depends(BUREAU), form=Depends(page_form),  # noqa: ANN001
                       ctx: Ctx = Depends(context)):
    try:  # the one check of a round's fields, the API's too; a deadline typed on the page is Beijing time
        f = roundspec.fields(form.get("name"), form.get("year"), form.getlist("kinds"), form.get("profile"),
                             form.get("deadline"))
    except roundspec.RoundError as e:
        raise HTTPException(422, str(e)) from e
    with ctx.Session.begin() as db:
        rid = roundspec.create(db, user, f, request).id
    return RedirectResponse(f"/rounds/{rid}", status_code=303)


@router.post("/rounds/{rid}/close")
async def close_round(request: Request, rid: int, user: User = Depends(BUREAU), form=Depends(page_form),  # noqa: ANN001
                      ctx: Ctx = Depends(context)):
    with ctx.Session.begin() as db:
        roundspec.close(db, user, round_or_404(db, rid), request)
    return RedirectResponse(f"/rounds/{rid}", status_code=303)


@router.post("/rounds/{rid}/deadline")
async def change_deadline(request: Request, rid: int, user: User = Depends(BUREAU),
                          form=Depends(page_form), ctx: Ctx = Depends(context)):  # noqa: ANN001
    """A reviewer moves (or removes) a round's deadline; the change is in the audit log."""
    raw = str(form.get("deadline") or "").strip()
    try:
        deadline = china_time(raw) if raw else None
    except ValueError:
        raise HTTPException(422, "截止时间格式不对") from None
    with ctx.Session.begin() as db:
        rnd = round_or_404(db, rid)
        old = local(rnd.deadline) or "不限"
        rnd.deadline = deadline
        audit(db, user, "round.deadline", f"{rid} {rnd.name}", f"{old} → {local(deadline) or '不限'}", request)
    return RedirectResponse(f"/rounds/{rid}", status_code=303)


@router.get("/rounds/{rid}")
def board(request: Request, rid: int, status: str | None = None, q: str | None = None, review: str | None = None,
          user: User = Depends(ANYONE), ctx: Ctx = Depends(context)):
    if user.role != "bureau":
        return RedirectResponse(f"/rounds/{rid}/mine", status_code=303)
    with ctx.Session() as db:
        rnd = round_or_404(db, rid)
        subs = db.scalars(select(Submission).where(Submission.round_id == rnd.id)).all()
        rows = rules.rows(db.scalars(select(Unit).order_by(Unit.name)).all(), subs,
                          reviews.round_actions(db, rnd.id), reviews.completions(db, rnd.id))
    return render(request, "board.html", rnd=rnd, rows=rules.shown(rows, status, q, review), counts=rules.counts(rows),
                  total=len(rows), status=status or "", q=q or "", board=rules.BOARD, review=review or "",
                  review_counts=rules.review_counts(rows), review_board=rules.REVIEW)


def round_results(db, rnd: Round) -> list:
    """The latest checked version of every file of the round, as results named 单位/文件."""
    subs = db.scalars(select(Submission).where(Submission.round_id == rnd.id,
                                               Submission.status == "checked")).all()
    latest = sorted(rules.latest_of(subs).values(), key=lambda s: (s.unit.name, s.filename))
    out = []
    for s in latest:
        r = work.to_result({"result": s.result, "findings": s.findings or []})
        r.file = f"{s.unit.name}/{s.filename}"
        out.append(r)
    return out


@router.get("/rounds/{rid}/report.xlsx")
def report_xlsx(request: Request, rid: int, user: User = Depends(BUREAU), ctx: Ctx = Depends(context)):
    with ctx.Session.begin() as db:
        rnd = round_or_404(db, rid)
        results = round_results(db, rnd)
        audit(db, user, "download.report_xlsx", f"round {rid}", f"{len(results)} files", request)
        name = f"{rnd.year}-{rnd.name}-检查报告.xlsx"
    with tempfile.TemporaryDirectory() as tmp:
        path = report.write_xlsx(results, Path(tmp) / "report.xlsx")
        data = Path(path).read_bytes()
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": attachment(name)})


@router.get("/rounds/{rid}/report.html")
def report_html(request: Request, rid: int, inline: int = 0, user: User = Depends(BUREAU),
                ctx: Ctx = Depends(context)):
    with ctx.Session.begin() as db:
        rnd = round_or_404(db, rid)
        results = round_results(db, rnd)
        if not inline:
            audit(db, user, "download.report_html", f"round {rid}", f"{len(results)} files", request)
        name = f"{rnd.year}-{rnd.name}-检查报告.html"
    with tempfile.TemporaryDirectory() as tmp:
        path = report.write_html(results, Path(tmp) / "report.html")
        body = Path(path).read_text(encoding="utf-8")
    return HTMLResponse(body, headers={"Content-Disposition": attachment(name, inline=bool(inline))})
