"""Rounds: the list, a new round and its deadline, the board of a round's units, and its reports."""
from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from starlette.datastructures import UploadFile

from ...checking import report
from ...errors import JixiaoError
from ...profile import shipped_profiles
from ...season import exports, lateness, requirements
from .. import board as rules
from .. import intake, roundspec, standing, work
from .. import review as reviews
from ..db import Round, Submission, Unit, User, now
from ..deps import ANYONE, BUREAU, Ctx, context, page_form
from ..pages import FORM_KINDS
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
                  profiles=shipped_profiles(), now=now(), this_year=datetime.now().year - 1,
                  documents=requirements.labels(), policies=lateness.policies())


async def project_list(form, ctx: Ctx) -> dict[str, list[str]] | None:  # noqa: ANN001
    """The project list uploaded with a round's form (.xlsx, read by its header labels), or None."""
    f = form.get("projects")
    if not isinstance(f, UploadFile) or not f.filename:
        return None
    data = await f.read(ctx.settings.max_file_bytes + 1)
    if len(data) > ctx.settings.max_file_bytes or intake.sniff("projects.xlsx", data):
        raise HTTPException(422, "项目清单应为不超过上限的 .xlsx 工作簿 [season.project_list]")
    try:
        return requirements.read_project_list(data)
    except JixiaoError as e:
        raise HTTPException(422, f"{e.message} [{e.code}]") from e


def page_fields(form, projects: dict[str, list[str]] | None) -> roundspec.RoundFields:  # noqa: ANN001
    try:  # the one check of a round's fields, the API's too; a deadline typed on the page is Beijing time
        return roundspec.fields(form.get("name"), form.get("year"), form.getlist("kinds"), form.get("profile"),
                                form.get("deadline"), form.getlist("documents"), form.get("late_policy"), projects)
    except roundspec.RoundError as e:
        raise HTTPException(422, str(e)) from e


@router.post("/rounds")
async def create_round(request: Request, user: User = Depends(BUREAU), form=Depends(page_form),  # noqa: ANN001
                       ctx: Ctx = Depends(context)):
    f = page_fields(form, await project_list(form, ctx))
    with ctx.Session.begin() as db:
        rid = roundspec.create(db, user, f, request).id
    return RedirectResponse(f"/rounds/{rid}", status_code=303)


@router.post("/rounds/{rid}/edit")
async def edit_round(request: Request, rid: int, user: User = Depends(BUREAU), form=Depends(page_form),  # noqa: ANN001
                     ctx: Ctx = Depends(context)):
    """A reviewer changes the round's fields; a project list not uploaded again stays as it was."""
    projects = await project_list(form, ctx)
    with ctx.Session.begin() as db:
        rnd = round_or_404(db, rid)
        f = page_fields(form, projects if projects is not None else rnd.projects)
        roundspec.edit(db, user, rnd, f, request)
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
        rows = standing.board_rows(db, rnd)
    return render(request, "board.html", rnd=rnd, rows=rules.shown(rows, status, q, review), counts=rules.counts(rows),
                  total=len(rows), status=status or "", q=q or "", board=rules.BOARD, review=review or "",
                  review_counts=rules.review_counts(rows), review_board=rules.REVIEW,
                  doc_labels=standing.labels(rnd, rows), round_docs=roundspec.documents(rnd),
                  all_in=sum(1 for r in rows if r.get("all_in")), documents=requirements.labels(),
                  policies=lateness.policies(), profiles=shipped_profiles(), FORM_KINDS=FORM_KINDS)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _standing(request: Request, rid: int, user: User, ctx: Ctx, what: str) -> tuple[Round, list[dict]]:
    with ctx.Session.begin() as db:
        rnd = round_or_404(db, rid)
        rows = standing.board_rows(db, rnd)
        audit(db, user, f"download.{what}", f"round {rid}", f"{len(rows)} units", request)
        return rnd, rows


@router.get("/rounds/{rid}/board.xlsx")
def board_xlsx(request: Request, rid: int, user: User = Depends(BUREAU), ctx: Ctx = Depends(context)):
    """The board as .xlsx: every unit, those that have not submitted included, with contact and what they owe."""
    rnd, rows = _standing(request, rid, user, ctx, "board_xlsx")
    data = exports.board_xlsx(rnd.name, standing.labels(rnd, rows), standing.plain(rows))
    return Response(data, media_type=XLSX, headers={"Content-Disposition": attachment(f"{rnd.year}-{rnd.name}-提交情况.xlsx")})


@router.get("/rounds/{rid}/reminders.xlsx")
def reminders_xlsx(request: Request, rid: int, user: User = Depends(BUREAU), ctx: Ctx = Depends(context)):
    rnd, rows = _standing(request, rid, user, ctx, "reminders_xlsx")
    data = exports.reminder_xlsx(rnd.name, local(rnd.deadline), standing.plain(rows))
    return Response(data, media_type=XLSX, headers={"Content-Disposition": attachment(f"{rnd.year}-{rnd.name}-催报名单.xlsx")})


@router.get("/rounds/{rid}/reminders.txt")
def reminders_txt(request: Request, rid: int, inline: int = 0, user: User = Depends(BUREAU),
                  ctx: Ctx = Depends(context)):
    """The reminder as text to paste into the bureau's messaging."""
    rnd, rows = _standing(request, rid, user, ctx, "reminders_txt")
    text = exports.reminder_text(rnd.name, local(rnd.deadline), standing.plain(rows), reviews.past_deadline(rnd))
    return Response(text, media_type="text/plain; charset=utf-8",
                    headers={"Content-Disposition": attachment(f"{rnd.year}-{rnd.name}-催报.txt", inline=bool(inline))})


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
    with tempfile.TemporaryDirectory() as tmp:  # file names resolve in an empty folder: no links to this machine
        path = report.write_xlsx(results, Path(tmp) / "report.xlsx", base=tmp)
        data = Path(path).read_bytes()
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": attachment(name)})


@router.get("/rounds/{rid}/package.zip")
def report_package(request: Request, rid: int, user: User = Depends(BUREAU), ctx: Ctx = Depends(context)):
    """The xlsx report with every file it lists, in one .zip: unpacked anywhere (the reviewer's own PC), each
    link opens the file and cell it names — the links are relative (单位/文件名), never this server's folders."""
    with ctx.Session.begin() as db:
        rnd = round_or_404(db, rid)
        subs = db.scalars(select(Submission).where(Submission.round_id == rnd.id,
                                                   Submission.status == "checked")).all()
        shas = {f"{s.unit.name}/{s.filename}": s.sha256 for s in rules.latest_of(subs).values()}
        results = round_results(db, rnd)
        audit(db, user, "download.report_package", f"round {rid}", f"{len(results)} files", request)
        stem = f"{rnd.year}-{rnd.name}-检查报告"
    return Response(work_package(ctx, results, shas, stem), media_type="application/zip",
                    headers={"Content-Disposition": attachment(stem + ".zip")})


def work_package(ctx: Ctx, results: list, shas: dict[str, str], stem: str) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for label, sha in shas.items():
            unit, name = label.split("/", 1)
            target = Path(tmp, intake.clean_name(unit), intake.clean_name(name))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(ctx.store.get(sha))
            z.write(target, f"{intake.clean_name(unit)}/{intake.clean_name(name)}")
        path = report.write_xlsx(results, Path(tmp) / f"{stem}.xlsx", base=tmp)
        z.write(path, f"{stem}.xlsx")
    return buf.getvalue()


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
