"""What every page shares: the templates and their words, times as officers read them, downloads' names,
and the one way an error is answered (a page for a browser, JSON for scripts)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates

from ..checking.report import KIND_ZH, SEVERITY_ZH, rule_title
from .accounts import ROLES

HERE = Path(__file__).parent

STATUS_ZH = {"queued": "排队中", "checking": "检查中", "checked": "已检查", "failed": "检查失败"}
VERDICT_ZH = {"error": "有错误", "warning": "有警告", "pass": "通过"}
FORM_KINDS = {"dept": "部门整体支出绩效自评表", "project": "项目支出绩效自评表"}


def utc(dt: datetime | None) -> str | None:
    """Times in the API: ISO 8601 in UTC."""
    return None if dt is None else dt.replace(tzinfo=timezone.utc).isoformat()


def local(dt: datetime | None) -> str:
    """Times on pages: China Standard Time (UTC+8), as officers read them."""
    if dt is None:
        return ""
    return (dt + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")


def china_time(raw: str) -> datetime:
    """A time an officer entered (China time, ISO format) as the UTC the database keeps; ValueError if not one."""
    return datetime.fromisoformat(raw) - timedelta(hours=8)


def attachment(name: str, inline: bool = False) -> str:
    ascii_name = "".join(c if c.isascii() and c.isalnum() or c in "-_." else "_" for c in name) or "download"
    return f"{'inline' if inline else 'attachment'}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(STATUS_ZH=STATUS_ZH, VERDICT_ZH=VERDICT_ZH, SEVERITY_ZH=SEVERITY_ZH,
                             KIND_ZH=KIND_ZH, ROLES=ROLES, rule_title=rule_title, local=local,
                             FORM_KINDS=FORM_KINDS)


def page(request: Request, **kw: Any) -> dict:
    """A template's context: the signed-in user (if any), the session's CSRF token and ``kw``."""
    s = request.state.session
    return {"user": request.state.user, "csrf": s.get("csrf") if s else "", **kw}


def render(request: Request, template: str, status_code: int = 200, headers: dict | None = None,
           **kw: Any) -> Response:
    return templates.TemplateResponse(request, template, page(request, **kw), status_code=status_code,
                                      headers=headers)


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path in ("/healthz", "/readyz")


def error(request: Request, status: int, message: str, headers: dict | None = None) -> Response:
    if is_api(request) or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    return render(request, "error.html", status_code=status, headers=headers, status=status, message=message)
