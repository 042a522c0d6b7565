"""A unit's submissions: its files in a round, one submission's findings and versions, its downloads."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from ...checking.report import KIND_ZH
from .. import board as rules
from .. import markedcopy, review, standing, work
from ...season import requirements
from ..db import Round, Submission, Unit, User, now
from ..deps import ANYONE, BUREAU, UNIT, Ctx, context, page_form
from ..marked import finding_changes
from ..pages import FORM_KINDS, attachment, render
from ..records import audit, recheck_sub, round_or_404, visible_sub

router = APIRouter(include_in_schema=False)


def unit_page(request: Request, ctx: Ctx, user: User, rnd: Round, unit: Unit) -> Response:
    with ctx.Session() as db:
        subs = db.scalars(select(Submission).where(Submission.round_id == rnd.id,
                                                   Submission.unit_id == unit.id)
                          .order_by(Submission.id.desc())).all()
        latest = sorted(rules.latest_of(subs).values(), key=lambda s: s.filename)
        rv = review.unit_context(db, user, rnd, unit.id, latest)
    open_ = rnd.closed_at is None and (rnd.deadline is None or now() <= rnd.deadline)
    settings = ctx.settings
    owes = standing.owes_of(rnd)
    docs = requirements.unit_documents(owes(unit), latest) if owes is not None else []
    return render(request, "unit.html", rnd=rnd, unit=unit, latest=latest, history=subs, docs=docs,
                  status=rules.unit_status(latest), can_upload=user.role == "unit" and rv["may_upload"],
                  open_=open_, max_files=settings.max_files, max_mb=settings.max_file_bytes // (1024 * 1024), **rv)


@router.get("/rounds/{rid}/mine")
def mine(request: Request, rid: int, user: User = Depends(UNIT), ctx: Ctx = Depends(context)):
    with ctx.Session() as db:
        rnd = round_or_404(db, rid)
        unit = db.get(Unit, user.unit_id)
    return unit_page(request, ctx, user, rnd, unit)


@router.get("/rounds/{rid}/units/{uid}")
def unit_of_round(request: Request, rid: int, uid: int, user: User = Depends(BUREAU), ctx: Ctx = Depends(context)):
    with ctx.Session() as db:
        rnd = round_or_404(db, rid)
        unit = db.get(Unit, uid)
        if unit is None:
            raise HTTPException(404, "没有这个单位")
    return unit_page(request, ctx, user, rnd, unit)


def companions_of(db, sub: Submission) -> list[Submission]:  # noqa: ANN001
    """What the reviewer reads beside a file: for a form, the latest version of the unit's 自评报告 in the round;
    for a report, the latest forms (a report's findings are read with its form's, issue 18)."""
    subs = db.scalars(select(Submission).where(Submission.round_id == sub.round_id,
                                               Submission.unit_id == sub.unit_id)).all()
    is_report = sub.filename.lower().endswith(work.REPORT_SUFFIXES)
    return sorted((s for s in rules.latest_of(subs).values() if s.slot != sub.slot
                   and s.filename.lower().endswith(work.REPORT_SUFFIXES) != is_report), key=lambda s: s.filename)


@router.get("/s/{pid}")
def submission_page(request: Request, pid: str, compare: str | None = None, user: User = Depends(ANYONE),
                    ctx: Ctx = Depends(context)):
    with ctx.Session() as db:
        sub = visible_sub(db, user, pid)
        versions = db.scalars(select(Submission).where(
            Submission.round_id == sub.round_id, Submission.unit_id == sub.unit_id,
            Submission.slot == sub.slot).order_by(Submission.version.desc())).all()
        rv = review.page_context(db, user, sub)
        companions = companions_of(db, sub)
    prev = next((v for v in versions if v.version == sub.version - 1), None)
    views = sub.views or {}  # computed by the worker; the page never opens a workbook
    # while this version is checked its findings are not known yet: the old ones are not "fixed"
    checked = sub.status not in ("queued", "checking")
    changes = finding_changes(prev.findings or [], sub.findings or []) if prev is not None and checked else None
    cells = views.get("cells") if prev is not None else None
    cells_note = views.get("cells_note", "") if prev is not None else ""
    findings = sorted(sub.findings or [], key=lambda f: ({"error": 0, "warning": 1}.get(f["severity"], 2)))
    kind = (sub.result or {}).get("kind") or ""
    family = "project" if kind.startswith("project") else "dept" if kind and kind != "report" else ""
    wanted = [k for k in sub.round.kinds.split(",") if k]
    kind_note = (f"本批次收取{'、'.join(FORM_KINDS.get(k, k) for k in wanted)}；这个文件识别为"
                 f"{KIND_ZH.get(kind, kind)}，请确认是否交错了表") if family and family not in wanted else ""
    return render(request, "submission.html", sub=sub, findings=findings, versions=versions, prev=prev,
                  companions=companions,
                  changes=changes, cells=cells, cells_note=cells_note, result=sub.result or {},
                  kind_note=kind_note, **rv)


@router.post("/s/{pid}/recheck")
async def recheck_page(request: Request, pid: str, user: User = Depends(BUREAU), form=Depends(page_form),  # noqa: ANN001
                       ctx: Ctx = Depends(context)):
    await run_in_threadpool(recheck_sub, ctx, user, pid, request)
    return RedirectResponse(f"/s/{pid}", status_code=303)


@router.get("/s/{pid}/file")
def original(request: Request, pid: str, user: User = Depends(ANYONE), ctx: Ctx = Depends(context)):
    with ctx.Session.begin() as db:
        sub = visible_sub(db, user, pid)
        audit(db, user, "download.original", pid, sub.filename, request)
        name, sha = sub.filename, sub.sha256
    return Response(ctx.store.get(sha), media_type="application/octet-stream",
                    headers={"Content-Disposition": attachment(name)})


@router.get("/s/{pid}/marked.xlsx")
async def marked(request: Request, pid: str, user: User = Depends(ANYONE), ctx: Ctx = Depends(context)):
    def read() -> tuple:
        with ctx.Session() as db:
            sub = visible_sub(db, user, pid)
            return sub.id, sub.filename, sub.views or {}, sub.status, sub.sha256, sub.findings or [], sub.checked_at

    sid, name, views, status, sha, findings, checked_at = await run_in_threadpool(read)
    if status in ("queued", "checking"):
        raise HTTPException(409, "检查完成后才能下载标注副本")
    if not views.get("marked") and views.get("marked_later"):  # made by a worker now, once; never here
        views = await markedcopy.make(ctx, sid, name, sha, findings, checked_at)
    if not views.get("marked"):
        raise HTTPException(409, views.get("marked_note") or "这个文件还没有标注副本；请绩效科重新检查后再下载")

    def served() -> bytes:
        with ctx.Session.begin() as db:
            audit(db, user, "download.marked", pid, name, request)
        return ctx.store.get(views["marked"])

    data = await run_in_threadpool(served)
    stem = name.rsplit(".", 1)[0]
    ext = ".xlsm" if name.lower().endswith(".xlsm") else ".xlsx"
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": attachment(f"{stem}-标注{ext}")})
