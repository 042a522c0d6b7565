"""Units: the bureau's list of units and people, and importing units from a workbook."""
from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from starlette.datastructures import UploadFile

from .. import intake
from ..accounts import AccountError, import_units
from ..db import Unit, User
from ..deps import BUREAU, Ctx, context, page_form
from ..pages import render
from ..records import audit

router = APIRouter(include_in_schema=False)


@router.get("/units")
def units_page(request: Request, message: str | None = None, user: User = Depends(BUREAU),
               ctx: Ctx = Depends(context)):
    with ctx.Session() as db:
        units = db.scalars(select(Unit).order_by(Unit.name)).all()
        people = dict(db.execute(select(User.unit_id, func.count(User.id)).group_by(User.unit_id)).all())
    return render(request, "units.html", units=units, people=people, message=message)


@router.post("/units/import")
async def units_import(request: Request, user: User = Depends(BUREAU), form=Depends(page_form),  # noqa: ANN001
                       ctx: Ctx = Depends(context)):
    f = form.get("file")
    if not isinstance(f, UploadFile):
        raise HTTPException(422, "请选择单位名单（.xlsx）")
    limit = ctx.settings.max_file_bytes
    data = await f.read(limit + 1)
    if len(data) > limit or intake.sniff("units.xlsx", data):
        raise HTTPException(422, "单位名单应为不超过上限的 .xlsx 工作簿")
    try:
        with ctx.Session.begin() as db:
            added, existing = import_units(db, data)
            audit(db, user, "units.import", intake.clean_name(f.filename), f"added {added}", request)
    except AccountError as e:
        raise HTTPException(422, str(e)) from e
    return RedirectResponse(f"/units?message={quote(f'新增 {added} 个单位，已有 {existing} 个')}", status_code=303)
