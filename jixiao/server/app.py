"""The web application: Chinese pages for units and reviewers, and the JSON API for scripts.

Pages authenticate with a signed, HttpOnly session cookie and carry a CSRF token in every form;
the API takes ``Authorization: Bearer <token>`` (or the page's cookie plus an ``X-CSRF-Token`` header).
"""
from __future__ import annotations

import asyncio
import errno
import gc
import logging
import tempfile
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from ..checking import report
from ..checking.report import KIND_ZH, SEVERITY_ZH, rule_title
from ..profile import shipped_profiles
from ..rules import error_codes
from . import intake, work
from .accounts import ROLES, AccountError, import_units
from .bodylimit import BodyLimit
from .config import Settings, body_limits
from .db import (
    ApiToken,
    Audit,
    Blob,
    Job,
    Round,
    Submission,
    Unit,
    User,
    make_engine,
    migrate,
    now,
    sessions,
)
from .jobs import Dispatcher, make_backend, ping, recheck
from .marked import finding_changes
from .security import (
    SESSION_COOKIE,
    Busy,
    RateLimit,
    Sessions,
    same,
    token_hash,
    Verifiers,
    verify_password,
)
from .storage import BlobStore
from .writer import GroupWriter

log = logging.getLogger("jixiao.server")
error_codes({"server.database": "数据库暂时不可用", "server.disk_full": "服务器磁盘已满", "server.error": "服务器内部出错"})
HERE = Path(__file__).parent

STATUS_ZH = {"queued": "排队中", "checking": "检查中", "checked": "已检查", "failed": "检查失败"}
VERDICT_ZH = {"error": "有错误", "warning": "有警告", "pass": "通过"}
BOARD = ["未提交", "检查中", "有错误", "有警告", "通过"]
FORM_KINDS = {"dept": "部门整体支出绩效自评表", "project": "项目支出绩效自评表"}

MAX_ID = 2**31 - 1  # the largest id or offset the databases' integer columns hold

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")


class LoginRequired(Exception):
    pass


@dataclass
class Ctx:
    """Everything a request handler needs; one per application."""
    settings: Settings
    engine: Any
    Session: Any
    store: BlobStore
    sessions: Sessions
    limiter: RateLimit
    verifiers: Verifiers
    writer: GroupWriter | None = None
    backend: Any = None
    dispatcher: Dispatcher | None = None


def _utc(dt: datetime | None) -> str | None:
    return None if dt is None else dt.replace(tzinfo=timezone.utc).isoformat()


def _local(dt: datetime | None) -> str:
    """Times on pages: China Standard Time (UTC+8), as officers read them."""
    if dt is None:
        return ""
    return (dt + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")


def attachment(name: str, inline: bool = False) -> str:
    ascii_name = "".join(c if c.isascii() and c.isalnum() or c in "-_." else "_" for c in name) or "download"
    return f"{'inline' if inline else 'attachment'}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def create_app(settings: Settings) -> FastAPI:
    settings.data.mkdir(parents=True, exist_ok=True)
    migrate(settings.url)
    engine = make_engine(settings.url)
    ctx = Ctx(settings=settings, engine=engine, Session=sessions(engine), store=BlobStore(settings.blobs),
              sessions=Sessions(settings.secret, settings.session_hours * 3600),
              limiter=RateLimit(settings.login_attempts, settings.login_window),
              verifiers=Verifiers(settings.login_verifiers, settings.login_queue))
    writer = ctx.writer = GroupWriter(ctx.Session)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.start_workers:
            ctx.backend = await run_in_threadpool(make_backend, settings.workers, settings.dask)
            ctx.dispatcher = Dispatcher(ctx.Session, ctx.store, ctx.backend, settings.file_seconds)
            ctx.dispatcher.start()
        gc.freeze()  # what start-up made lives as long as the process: keep it out of every later collection
        try:
            yield
        finally:
            if ctx.dispatcher:
                await run_in_threadpool(ctx.dispatcher.stop)
            if ctx.backend:
                await run_in_threadpool(ctx.backend.close)
            engine.dispose()

    app = FastAPI(title="jixiao 绩效自评提交服务", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="填报单位提交自评表，jixiao 检查，绩效科查看各单位状态。接口用 Bearer 令牌认证"
                              "（`jixiao users token NAME`）。")
    app.state.ctx = ctx
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(STATUS_ZH=STATUS_ZH, VERDICT_ZH=VERDICT_ZH, SEVERITY_ZH=SEVERITY_ZH,
                                 KIND_ZH=KIND_ZH, ROLES=ROLES, rule_title=rule_title, local=_local,
                                 FORM_KINDS=FORM_KINDS)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    # ------------------------------------------------------------------ plumbing

    @app.middleware("http")
    async def envelope(request: Request, call_next):
        started = time.perf_counter()
        request.state.session = ctx.sessions.load(request.cookies.get(SESSION_COOKIE))
        request.state.new_session = None
        request.state.user = None
        response = await call_next(request)
        if request.state.new_session is not None:
            if request.state.new_session:
                response.set_cookie(SESSION_COOKIE, ctx.sessions.dump(request.state.new_session),
                                    max_age=settings.session_hours * 3600, httponly=True, samesite="lax",
                                    secure=settings.secure_cookies, path="/")
            else:
                response.delete_cookie(SESSION_COOKIE, path="/")
        h = response.headers
        h["Content-Security-Policy"] = CSP
        h["X-Content-Type-Options"] = "nosniff"
        h["X-Frame-Options"] = "SAMEORIGIN"
        h["Referrer-Policy"] = "same-origin"
        h.setdefault("Cache-Control", "no-store")
        h["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        if settings.secure_cookies:
            h["Strict-Transport-Security"] = "max-age=31536000"
        return response

    # added last, so outermost: no handler (nor the envelope) sees more of a body than its route allows
    app.add_middleware(BodyLimit, limits=body_limits(settings))

    def _is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/") or request.url.path in ("/healthz", "/readyz")

    def _error(request: Request, status: int, message: str, headers: dict | None = None) -> Response:
        if _is_api(request) or "text/html" not in request.headers.get("accept", ""):
            return JSONResponse({"detail": message}, status_code=status, headers=headers)
        return templates.TemplateResponse(request, "error.html", page(request, status=status, message=message),
                                          status_code=status, headers=headers)

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, exc: HTTPException):
        msg = exc.detail if isinstance(exc.detail, str) else "请求无效"
        if exc.status_code == 404 and msg == "Not Found":
            msg = "没有这个页面或记录"
        if exc.status_code == 405:
            msg = "不支持这种请求方式"
        return _error(request, exc.status_code, msg, getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def on_database_down(request: Request, exc: OperationalError):
        log.error("database unavailable: %s", exc)
        return _error(request, 503, "数据库暂时不可用，请稍后再试；已提交并拿到编号的文件不会丢失 [server.database]",
                      {"Retry-After": "10"})

    @app.exception_handler(OSError)
    async def on_disk(request: Request, exc: OSError):
        log.exception("storage")
        if exc.errno == errno.ENOSPC:
            return _error(request, 507, "服务器磁盘已满，暂时不能保存文件；请联系绩效科 [server.disk_full]")
        return _error(request, 500, "服务器读写文件出错，请稍后再试；如果一直出错，请联系绩效科 [server.error]")

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception):
        return _error(request, 500, "服务器内部出错，请稍后再试；如果一直出错，请联系绩效科 [server.error]")

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError):
        return _error(request, 422, "请求参数无效：" + "；".join(
            f"{'.'.join(str(x) for x in e.get('loc', ()))}" for e in exc.errors()))

    @app.exception_handler(LoginRequired)
    async def on_login(request: Request, exc: LoginRequired):
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(nxt)}", status_code=303)

    def audit(db, user: User | None, action: str, target: str | None = None, detail: str | None = None,
              request: Request | None = None) -> None:
        db.add(Audit(user_id=user.id if user else None, user_name=user.name if user else None, action=action,
                     target=(target or "")[:300], detail=detail,
                     address=request.client.host if request is not None and request.client else None))

    def session_of(request: Request) -> dict:
        """The request's session, made (anonymous, with a CSRF token) when there is none."""
        s = request.state.session
        if s is None:
            s = ctx.sessions.fresh()
            request.state.session = s
            request.state.new_session = s
        return s

    token_cache: dict[str, tuple[float, User | None]] = {}

    def user_by_token(token: str) -> User | None:
        """The token's user; remembered for 30 s so scripts' calls cost no database read each."""
        key = token_hash(token)
        hit = token_cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        with ctx.Session() as db:
            row = db.execute(select(ApiToken, User).join(User, ApiToken.user_id == User.id)
                             .where(ApiToken.token_hash == key)).first()
            user = row[1] if row is not None and row[1].active else None
        if user is not None:  # unknown tokens are not remembered: guessing fills no memory
            if len(token_cache) > 10000:
                token_cache.clear()
            token_cache[key] = (time.monotonic() + 30, user)
        return user

    def user_by_session(request: Request) -> User | None:
        s = request.state.session
        if not s or not s.get("uid"):
            return None
        with ctx.Session() as db:
            user = db.get(User, s["uid"])
            ok = user is not None and user.active and s.get("ep", 0) == user.session_epoch
            return user if ok else None

    def api_user(request: Request, write: bool = False) -> User:
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            user = user_by_token(auth[7:].strip())
        else:
            user = user_by_session(request)
            if user is not None and write and not same(request.headers.get("x-csrf-token"),
                                                        request.state.session.get("csrf")):
                raise HTTPException(403, "CSRF 校验失败：请刷新页面后重试")
        if user is None:
            raise HTTPException(401, "未登录或令牌无效", headers={"WWW-Authenticate": "Bearer"})
        request.state.user = user
        return user

    def page_user(request: Request, role: str | None = None) -> User:
        user = user_by_session(request)
        if user is None:
            raise LoginRequired
        if role and user.role != role:
            raise HTTPException(403, "没有权限查看此页面")
        request.state.user = user
        return user

    def page(request: Request, **kw: Any) -> dict:
        s = request.state.session
        return {"user": request.state.user, "csrf": s.get("csrf") if s else "", **kw}

    async def form_of(request: Request, max_files: int | None = None):
        try:
            return await request.form(max_files=(max_files or settings.max_files) + 1, max_fields=50,
                                      max_part_size=64 * 1024)
        except (MultiPartException, StarletteHTTPException) as e:
            why = str(getattr(e, "detail", None) or getattr(e, "message", None) or e)
            if "Too many files" in why:
                raise HTTPException(413, f"一次最多上传 {settings.max_files} 个工作簿") from e
            if "Too many fields" in why or "exceeded maximum size" in why:
                raise HTTPException(413, "表单字段过多或过长") from e
            raise HTTPException(400, "上传内容无法解析") from e

    def check_csrf(request: Request, form) -> None:  # noqa: ANN001
        s = request.state.session
        if not s or not same(form.get("csrf"), s.get("csrf")):
            raise HTTPException(403, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试")

    def visible_sub(db, user: User, pid: str) -> Submission:
        sub = db.scalar(select(Submission).where(Submission.public_id == pid))
        if sub is None or (user.role != "bureau" and sub.unit_id != user.unit_id):
            raise HTTPException(404, "没有这个提交")  # the same answer whether it exists or not
        return sub

    def round_or_404(db, rid: int) -> Round:
        rnd = db.get(Round, rid) if 0 < rid <= MAX_ID else None
        if rnd is None:
            raise HTTPException(404, "没有这个批次")
        return rnd

    def sub_json(s: Submission, findings: bool = False) -> dict:
        d = {"id": s.public_id, "file": s.filename, "unit": s.unit.name, "round": s.round_id,
             "version": s.version, "status": s.status, "verdict": s.verdict,
             "counts": {"error": s.n_error, "warning": s.n_warning}, "sha256": s.sha256, "size": s.size,
             "created_at": _utc(s.created_at), "checked_at": _utc(s.checked_at)}
        if findings:
            d["result"] = s.result
            d["findings"] = s.findings or []
        return d

    # ------------------------------------------------------------------ health

    @app.get("/healthz", tags=["health"], summary="进程是否在应答")
    def healthz():
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="数据库与检查进程是否可用")
    async def readyz():
        out: dict[str, str] = {}
        ok = True
        try:
            def db_ok() -> None:
                with ctx.engine.connect() as c:
                    c.execute(text("SELECT 1"))
            await asyncio.wait_for(run_in_threadpool(db_ok), timeout=10)
            out["database"] = "ok"
        except Exception:  # noqa: BLE001 - the kind of failure is for the log, not for the answer
            log.warning("readyz: database unavailable", exc_info=True)
            ok, out["database"] = False, "unavailable"
        if ctx.backend is None or ctx.dispatcher is None or not ctx.dispatcher.alive():
            ok, out["workers"] = False, "not running"
        else:
            try:
                fut = ctx.backend.submit(ping)
                await asyncio.wait_for(asyncio.wrap_future(fut), timeout=15)
                out["workers"] = "ok"
            except Exception:  # noqa: BLE001
                log.warning("readyz: workers unavailable", exc_info=True)
                ok, out["workers"] = False, "unavailable"
            if ctx.dispatcher.unsaved:  # finished checks waiting for the database
                ok, out["results"] = False, "waiting for the database"
        out["status"] = "ready" if ok else "not ready"
        return JSONResponse(out, status_code=200 if ok else 503)

    # ------------------------------------------------------------------ API

    upload_body = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {
            "file": {"type": "array", "items": {"type": "string", "format": "binary"},
                     "description": "一个或多个工作簿（.xlsx/.xlsm/.xls）或 .zip"},
            "round": {"type": "integer", "description": "批次编号（默认：最近一个未截止的批次）"}}}}}}}
    check_body = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {
            "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
            "profile": {"type": "string", "description": "规则配置名称（默认 national-2020）"}}}}}}}

    def pick_round(db, raw: Any, user: User) -> Round:
        if raw not in (None, ""):
            try:
                rid = int(str(raw))
            except ValueError:
                rid = 0
            rnd = db.get(Round, rid) if 0 < rid <= MAX_ID else None
            if rnd is None:
                raise HTTPException(404, "没有这个批次")
            return rnd
        t = now()
        rnd = db.scalar(select(Round).where((Round.deadline.is_(None)) | (Round.deadline > t))
                        .order_by(Round.id.desc()).limit(1))
        if rnd is None:
            raise HTTPException(409, "目前没有开放的批次，请等待绩效科设立批次")
        return rnd

    async def read_files(form) -> list[tuple[str | None, bytes]]:  # noqa: ANN001
        out = []
        for f in form.getlist("file"):
            if isinstance(f, UploadFile):
                out.append((f.filename, await f.read(settings.max_file_bytes * 20 + 1)))
        if not out:
            raise HTTPException(422, "没有收到文件（表单字段 file）")
        return out

    def save(user: User, rnd_id: int, accepted: list[tuple[str, bytes]], address: str | None) -> list[dict]:
        shas = [(name, ctx.store.put(data), len(data)) for name, data in accepted]  # durable before the ids exist

        def rows(db) -> list[dict]:  # noqa: ANN001 - run by the group writer inside its transaction
            made = []
            for name, sha, size in shas:
                if db.get(Blob, sha) is None:
                    db.add(Blob(sha256=sha, size=size))
                    db.flush()
                slot = name.casefold()
                last = db.scalar(select(func.max(Submission.version)).where(
                    Submission.round_id == rnd_id, Submission.unit_id == user.unit_id,
                    Submission.slot == slot)) or 0
                sub = Submission(round_id=rnd_id, unit_id=user.unit_id, user_id=user.id, filename=name,
                                 slot=slot, version=last + 1, sha256=sha, size=size, status="queued")
                db.add(sub)
                db.flush()
                db.add(Job(submission_id=sub.id))
                db.add(Audit(user_id=user.id, user_name=user.name, action="submit", target=sub.public_id,
                             detail=f"{name} v{sub.version} sha256={sha[:12]}", address=address))
                made.append({"id": sub.public_id, "file": name, "version": sub.version, "status": "queued"})
            db.flush()
            return made

        for attempt in range(5):
            try:
                return writer.submit(rows).result()
            except IntegrityError:  # two uploads raced for the same version or blob: count again
                if attempt == 4:
                    raise
        return []

    @app.post("/api/v1/submissions", tags=["submissions"], status_code=202, openapi_extra=upload_body,
              summary="提交一个或多个工作簿（或 .zip）；立即返回每个提交的 id 与状态，检查在后台进行")
    async def api_submit(request: Request):
        user = api_user(request, write=True)
        if user.role != "unit" or user.unit_id is None:
            raise HTTPException(403, "只有填报单位的账号可以提交工作簿")
        form = await form_of(request)
        files = await read_files(form)
        def which() -> tuple[int, datetime | None]:
            with ctx.Session() as db:
                rnd = pick_round(db, form.get("round"), user)
                return rnd.id, rnd.deadline

        rid, deadline = await run_in_threadpool(which)
        if deadline is not None and now() > deadline:
            raise HTTPException(409, f"已过截止时间（{_local(deadline)}），不能再提交；请联系绩效科")
        try:
            taken = intake.take(files, settings)
        except intake.TooMany:
            raise HTTPException(413, f"一次最多上传 {settings.max_files} 个工作簿") from None
        made = await run_in_threadpool(save, user, rid, taken.accepted,
                                       request.client.host if request.client else None)
        if ctx.dispatcher:
            ctx.dispatcher.wake()
        body = {"round": rid, "submissions": made, "refused": taken.refused}
        return JSONResponse(body, status_code=202 if made else 422)

    @app.get("/api/v1/submissions/{pid}", tags=["submissions"],
             summary="一个提交的状态与检查结果（findings 与 jixiao check --json 相同）")
    def api_get(pid: str, request: Request):
        user = api_user(request)
        with ctx.Session() as db:
            return sub_json(visible_sub(db, user, pid), findings=True)

    def recheck_sub(user: User, pid: str, request: Request) -> None:
        if user.role != "bureau":
            raise HTTPException(403, "只有绩效科可以要求重新检查")
        with ctx.Session.begin() as db:
            sub = visible_sub(db, user, pid)
            recheck(db, sub)
            audit(db, user, "recheck", pid, sub.filename, request)
        if ctx.dispatcher:
            ctx.dispatcher.wake()

    @app.post("/api/v1/submissions/{pid}/recheck", tags=["submissions"], status_code=202,
              summary="重新检查一个提交（绩效科）；检查在后台进行")
    def api_recheck(pid: str, request: Request):
        user = api_user(request, write=True)
        recheck_sub(user, pid, request)
        return JSONResponse({"id": pid, "status": "queued"}, status_code=202)

    @app.get("/api/v1/submissions", tags=["submissions"], summary="列出调用者可以看到的提交")
    def api_list(request: Request, round: int | None = None, status: str | None = None,  # noqa: A002
                 latest: bool = False, limit: int = 100, offset: int = 0):
        user = api_user(request)
        limit = max(1, min(limit, 1000))
        if not 0 <= offset <= MAX_ID or (round is not None and not 0 < round <= MAX_ID):
            raise HTTPException(400, "offset 或 round 超出范围")
        with ctx.Session() as db:
            q = select(Submission)
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
            return {"total": total, "submissions": [sub_json(s) for s in subs]}

    @app.get("/api/v1/rounds", tags=["rounds"], summary="批次列表")
    def api_rounds(request: Request):
        api_user(request)
        with ctx.Session() as db:
            return {"rounds": [{"id": r.id, "name": r.name, "year": r.year, "kinds": r.kinds.split(","),
                                "profile": r.profile, "deadline": _utc(r.deadline)}
                               for r in db.scalars(select(Round).order_by(Round.id.desc()))]}

    @app.post("/api/v1/check", tags=["check"], openapi_extra=check_body,
              summary="只检查、不保存：返回与 jixiao check --json 相同的结果")
    async def api_check(request: Request):
        api_user(request, write=True)
        form = await form_of(request)
        files = await read_files(form)
        profile = form.get("profile") or None
        if profile is not None and profile not in shipped_profiles():
            raise HTTPException(422, f"没有这个规则配置：{profile}")
        try:
            taken = intake.take(files, settings)
        except intake.TooMany:
            raise HTTPException(413, f"一次最多上传 {settings.max_files} 个工作簿") from None
        if ctx.backend is None:
            raise HTTPException(503, "检查进程未启动")
        futs = [asyncio.wrap_future(ctx.backend.submit(work.check_bytes, name, data, profile, settings.file_seconds))
                for name, data in taken.accepted]
        results = [work.to_result(d) for d in await asyncio.gather(*futs)]
        body = report.to_json(results)
        body["refused"] = taken.refused
        return JSONResponse(body, status_code=200 if results or not taken.refused else 422)

    # ------------------------------------------------------------------ pages: login

    @app.get("/", include_in_schema=False)
    def home(request: Request):
        page_user(request)
        return RedirectResponse("/rounds", status_code=303)

    def safe_next(nxt: str | None) -> str:
        return nxt if nxt and nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt else "/"

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request, next: str | None = None):  # noqa: A002
        session_of(request)
        return templates.TemplateResponse(request, "login.html", page(request, next=safe_next(next), error=None))

    @app.post("/login", include_in_schema=False)
    async def login(request: Request):
        form = await form_of(request)
        check_csrf(request, form)
        name = str(form.get("name") or "").strip()[:100]
        password = str(form.get("password") or "")[:1000]
        nxt = safe_next(str(form.get("next") or "/"))
        address = request.client.host if request.client else "?"
        # a name is locked only for the address that guessed it: a third party cannot lock a unit out
        by_name, by_address = f"name:{name.casefold()}|addr:{address}", f"addr:{address}"
        wait = ctx.limiter.attempt({by_name: settings.login_attempts, by_address: settings.login_address_attempts})
        if wait:
            with ctx.Session.begin() as db:
                audit(db, None, "login.blocked", name, request=request)
            return templates.TemplateResponse(request, "login.html", page(
                request, next=nxt, error=f"登录尝试过多，请 {wait} 秒后再试"), status_code=429)

        def check() -> User | None:
            with ctx.Session() as db:
                user = db.scalar(select(User).where(User.name == name))
                ok = verify_password(user.password_hash if user else None, password)
                return user if ok and user is not None and user.active else None

        try:
            user = await ctx.verifiers.verify(check)
        except Busy:
            return templates.TemplateResponse(request, "login.html", page(
                request, next=nxt, error="登录的人太多，请稍后再试"), status_code=503, headers={"Retry-After": "5"})
        with ctx.Session.begin() as db:
            audit(db, user, "login" if user else "login.failed", name, request=request)
        if user is None:
            return templates.TemplateResponse(request, "login.html", page(
                request, next=nxt, error="用户名或密码不正确"), status_code=401)
        ctx.limiter.clear(by_name)
        request.state.new_session = ctx.sessions.fresh(user.id, user.session_epoch)  # and a new CSRF token
        return RedirectResponse(nxt, status_code=303)

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request):
        form = await form_of(request)
        check_csrf(request, form)
        user = user_by_session(request)
        if user is not None:  # every session of this user ends, not only this browser's cookie
            with ctx.Session.begin() as db:
                db.get(User, user.id).session_epoch = user.session_epoch + 1
                audit(db, user, "logout", user.name, request=request)
        request.state.new_session = {}
        return RedirectResponse("/login", status_code=303)

    # ------------------------------------------------------------------ pages: rounds and the board

    def unit_status(subs: list[Submission]) -> str:
        if not subs:
            return "未提交"
        if any(s.status in ("queued", "checking") for s in subs):
            return "检查中"
        if any(s.n_error for s in subs):
            return "有错误"
        if any(s.n_warning for s in subs):
            return "有警告"
        return "通过"

    def latest_of(subs) -> dict[tuple[int, str], Submission]:
        out: dict[tuple[int, str], Submission] = {}
        for s in subs:
            k = (s.unit_id, s.slot)
            if k not in out or s.version > out[k].version:
                out[k] = s
        return out

    @app.get("/rounds", include_in_schema=False)
    def rounds_page(request: Request):
        user = page_user(request)
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
                    mine[rnd.id] = unit_status(list(latest_of(subs).values()))
        return templates.TemplateResponse(request, "rounds.html", page(
            request, rounds=rounds, counts=counts, n_units=n_units, mine=mine, profiles=shipped_profiles(),
            now=now(), this_year=datetime.now().year - 1))

    @app.post("/rounds", include_in_schema=False)
    async def create_round(request: Request):
        user = page_user(request, "bureau")
        form = await form_of(request)
        check_csrf(request, form)
        name = str(form.get("name") or "").strip()[:200]
        kinds = [k for k in form.getlist("kinds") if k in FORM_KINDS]
        profile = str(form.get("profile") or "") or None
        problems = []
        try:
            year = int(str(form.get("year") or ""))
            if not 2000 <= year <= 2100:
                raise ValueError
        except ValueError:
            year = 0
            problems.append("年度应为四位数字")
        if not name:
            problems.append("请填写批次名称")
        if not kinds:
            problems.append("请至少选择一种表格")
        if profile and profile not in shipped_profiles():
            problems.append("没有这个规则配置")
        deadline = None
        raw = str(form.get("deadline") or "").strip()
        if raw:
            try:
                deadline = datetime.fromisoformat(raw) - timedelta(hours=8)  # entered in China time
            except ValueError:
                problems.append("截止时间格式不对")
        if problems:
            raise HTTPException(422, "；".join(problems))
        with ctx.Session.begin() as db:
            rnd = Round(name=name, year=year, kinds=",".join(kinds), profile=profile, deadline=deadline,
                        created_by=user.id)
            db.add(rnd)
            db.flush()
            audit(db, user, "round.create", f"{rnd.id} {name}", request=request)
            rid = rnd.id
        return RedirectResponse(f"/rounds/{rid}", status_code=303)

    @app.post("/rounds/{rid}/deadline", include_in_schema=False)
    async def change_deadline(request: Request, rid: int):
        """A reviewer moves (or removes) a round's deadline; the change is in the audit log."""
        user = page_user(request, "bureau")
        form = await form_of(request)
        check_csrf(request, form)
        raw = str(form.get("deadline") or "").strip()
        try:
            deadline = datetime.fromisoformat(raw) - timedelta(hours=8) if raw else None
        except ValueError:
            raise HTTPException(422, "截止时间格式不对") from None
        with ctx.Session.begin() as db:
            rnd = round_or_404(db, rid)
            old = _local(rnd.deadline) or "不限"
            rnd.deadline = deadline
            audit(db, user, "round.deadline", f"{rid} {rnd.name}", f"{old} → {_local(deadline) or '不限'}", request)
        return RedirectResponse(f"/rounds/{rid}", status_code=303)

    def board_rows(db, rnd: Round) -> list[dict]:
        subs = db.scalars(select(Submission).where(Submission.round_id == rnd.id)).all()
        latest = latest_of(subs)
        by_unit: dict[int, list[Submission]] = {}
        for (uid, _), s in latest.items():
            by_unit.setdefault(uid, []).append(s)
        rows = []
        for unit in db.scalars(select(Unit).order_by(Unit.name)).all():
            us = sorted(by_unit.get(unit.id, []), key=lambda s: s.filename)
            rows.append({"unit": unit, "status": unit_status(us), "files": len(us),
                         "errors": sum(s.n_error for s in us), "warnings": sum(s.n_warning for s in us),
                         "last": max((s.created_at for s in us), default=None),
                         "versions": sum(1 for s in subs if s.unit_id == unit.id)})
        return rows

    @app.get("/rounds/{rid}", include_in_schema=False)
    def board(request: Request, rid: int, status: str | None = None, q: str | None = None):
        user = page_user(request)
        if user.role != "bureau":
            return RedirectResponse(f"/rounds/{rid}/mine", status_code=303)
        with ctx.Session() as db:
            rnd = round_or_404(db, rid)
            rows = board_rows(db, rnd)
        counts = {k: sum(1 for r in rows if r["status"] == k) for k in BOARD}
        shown = [r for r in rows if (not status or r["status"] == status)
                 and (not q or q.strip() in r["unit"].name)]
        return templates.TemplateResponse(request, "board.html", page(
            request, rnd=rnd, rows=shown, counts=counts, total=len(rows), status=status or "", q=q or "",
            board=BOARD))

    def round_results(db, rnd: Round):
        subs = db.scalars(select(Submission).where(Submission.round_id == rnd.id,
                                                   Submission.status == "checked")).all()
        latest = sorted(latest_of(subs).values(), key=lambda s: (s.unit.name, s.filename))
        out = []
        for s in latest:
            r = work.to_result({"result": s.result, "findings": s.findings or []})
            r.file = f"{s.unit.name}/{s.filename}"
            out.append(r)
        return out

    @app.get("/rounds/{rid}/report.xlsx", include_in_schema=False)
    def report_xlsx(request: Request, rid: int):
        user = page_user(request, "bureau")
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

    @app.get("/rounds/{rid}/report.html", include_in_schema=False)
    def report_html(request: Request, rid: int, inline: int = 0):
        user = page_user(request, "bureau")
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

    # ------------------------------------------------------------------ pages: a unit's submissions

    def unit_page(request: Request, user: User, rnd: Round, unit: Unit) -> Response:
        with ctx.Session() as db:
            subs = db.scalars(select(Submission).where(Submission.round_id == rnd.id,
                                                       Submission.unit_id == unit.id)
                              .order_by(Submission.id.desc())).all()
        latest = sorted(latest_of(subs).values(), key=lambda s: s.filename)
        open_ = rnd.deadline is None or now() <= rnd.deadline
        return templates.TemplateResponse(request, "unit.html", page(
            request, rnd=rnd, unit=unit, latest=latest, history=subs, status=unit_status(latest),
            can_upload=user.role == "unit" and open_, open_=open_, max_files=settings.max_files,
            max_mb=settings.max_file_bytes // (1024 * 1024)))

    @app.get("/rounds/{rid}/mine", include_in_schema=False)
    def mine(request: Request, rid: int):
        user = page_user(request, "unit")
        with ctx.Session() as db:
            rnd = round_or_404(db, rid)
            unit = db.get(Unit, user.unit_id)
        return unit_page(request, user, rnd, unit)

    @app.get("/rounds/{rid}/units/{uid}", include_in_schema=False)
    def unit_of_round(request: Request, rid: int, uid: int):
        user = page_user(request, "bureau")
        with ctx.Session() as db:
            rnd = round_or_404(db, rid)
            unit = db.get(Unit, uid)
            if unit is None:
                raise HTTPException(404, "没有这个单位")
        return unit_page(request, user, rnd, unit)

    @app.get("/s/{pid}", include_in_schema=False)
    def submission_page(request: Request, pid: str, compare: str | None = None):
        user = page_user(request)
        with ctx.Session() as db:
            sub = visible_sub(db, user, pid)
            versions = db.scalars(select(Submission).where(
                Submission.round_id == sub.round_id, Submission.unit_id == sub.unit_id,
                Submission.slot == sub.slot).order_by(Submission.version.desc())).all()
        prev = next((v for v in versions if v.version == sub.version - 1), None)
        views = sub.views or {}  # computed by the worker; the page never opens a workbook
        changes = finding_changes(prev.findings or [], sub.findings or []) if prev is not None else None
        cells = views.get("cells") if prev is not None else None
        cells_note = views.get("cells_note", "") if prev is not None else ""
        findings = sorted(sub.findings or [], key=lambda f: ({"error": 0, "warning": 1}.get(f["severity"], 2)))
        kind = (sub.result or {}).get("kind") or ""
        family = "project" if kind.startswith("project") else "dept" if kind else ""
        wanted = [k for k in sub.round.kinds.split(",") if k]
        kind_note = (f"本批次收取{'、'.join(FORM_KINDS.get(k, k) for k in wanted)}；这个文件识别为"
                     f"{KIND_ZH.get(kind, kind)}，请确认是否交错了表") if family and family not in wanted else ""
        return templates.TemplateResponse(request, "submission.html", page(
            request, sub=sub, findings=findings, versions=versions, prev=prev, changes=changes, cells=cells,
            cells_note=cells_note, result=sub.result or {}, kind_note=kind_note))

    @app.post("/s/{pid}/recheck", include_in_schema=False)
    async def recheck_page(request: Request, pid: str):
        user = page_user(request, "bureau")
        form = await form_of(request)
        check_csrf(request, form)
        await run_in_threadpool(recheck_sub, user, pid, request)
        return RedirectResponse(f"/s/{pid}", status_code=303)

    @app.get("/s/{pid}/file", include_in_schema=False)
    def original(request: Request, pid: str):
        user = page_user(request)
        with ctx.Session.begin() as db:
            sub = visible_sub(db, user, pid)
            audit(db, user, "download.original", pid, sub.filename, request)
            name, sha = sub.filename, sub.sha256
        return Response(ctx.store.get(sha), media_type="application/octet-stream",
                        headers={"Content-Disposition": attachment(name)})

    @app.get("/s/{pid}/marked.xlsx", include_in_schema=False)
    async def marked(request: Request, pid: str):
        user = page_user(request)
        with ctx.Session.begin() as db:
            sub = visible_sub(db, user, pid)
            name, views, status = sub.filename, sub.views or {}, sub.status
            if views.get("marked"):
                audit(db, user, "download.marked", pid, sub.filename, request)
        if not views.get("marked"):  # made by the worker with the check; never here
            if status in ("queued", "checking"):
                raise HTTPException(409, "检查完成后才能下载标注副本")
            raise HTTPException(409, views.get("marked_note") or "这个文件还没有标注副本；请绩效科重新检查后再下载")
        data = await run_in_threadpool(ctx.store.get, views["marked"])
        stem = name.rsplit(".", 1)[0]
        ext = ".xlsm" if name.lower().endswith(".xlsm") else ".xlsx"
        return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": attachment(f"{stem}-标注{ext}")})

    # ------------------------------------------------------------------ pages: units, audit, API docs

    @app.get("/units", include_in_schema=False)
    def units_page(request: Request, message: str | None = None):
        page_user(request, "bureau")
        with ctx.Session() as db:
            units = db.scalars(select(Unit).order_by(Unit.name)).all()
            people = dict(db.execute(select(User.unit_id, func.count(User.id)).group_by(User.unit_id)).all())
        return templates.TemplateResponse(request, "units.html", page(request, units=units, people=people,
                                                                      message=message))

    @app.post("/units/import", include_in_schema=False)
    async def units_import(request: Request):
        user = page_user(request, "bureau")
        form = await form_of(request)
        check_csrf(request, form)
        f = form.get("file")
        if not isinstance(f, UploadFile):
            raise HTTPException(422, "请选择单位名单（.xlsx）")
        data = await f.read(settings.max_file_bytes + 1)
        if len(data) > settings.max_file_bytes or intake.sniff("units.xlsx", data):
            raise HTTPException(422, "单位名单应为不超过上限的 .xlsx 工作簿")
        try:
            with ctx.Session.begin() as db:
                added, existing = import_units(db, data)
                audit(db, user, "units.import", intake.clean_name(f.filename), f"added {added}", request)
        except AccountError as e:
            raise HTTPException(422, str(e)) from e
        return RedirectResponse(f"/units?message={quote(f'新增 {added} 个单位，已有 {existing} 个')}", status_code=303)

    @app.get("/audit", include_in_schema=False)
    def audit_page(request: Request):
        page_user(request, "bureau")
        with ctx.Session() as db:
            rows = db.scalars(select(Audit).order_by(Audit.id.desc()).limit(500)).all()
        return templates.TemplateResponse(request, "audit.html", page(request, rows=rows))

    @app.get("/docs", include_in_schema=False)
    def api_docs(request: Request):
        request.state.user = user_by_session(request)
        spec = app.openapi()
        ops = []
        for path, methods in spec["paths"].items():
            for method, op in methods.items():
                params = [p["name"] for p in op.get("parameters", [])]
                body = op.get("requestBody", {}).get("content", {}).get("multipart/form-data", {})
                fields = list(body.get("schema", {}).get("properties", {}))
                ops.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                            "params": params, "fields": fields, "tag": (op.get("tags") or [""])[0]})
        return templates.TemplateResponse(request, "docs.html", page(request, ops=ops, spec=spec))

    return app
