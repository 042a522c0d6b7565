"""The database: SQLAlchemy 2 models, the engine (SQLite in WAL mode or PostgreSQL), Alembic migrations."""
from __future__ import annotations

import os
import secrets
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    defer,
    lazyload,
    mapped_column,
    relationship,
    sessionmaker,
)


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)  # stored as naive UTC


def public_id() -> str:
    """Submission ids shown to people and scripts: random, so they reveal nothing about what exists."""
    return secrets.token_hex(10)


class Base(DeclarativeBase):
    pass


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # bureau | unit
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # sessions carry this number; logging out or a new password raises it, ending every session of the user
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    unit: Mapped[Unit | None] = relationship(lazy="joined")


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the token; the token is never stored
    hint: Mapped[str] = mapped_column(String(16))  # first characters, to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class Round(Base):
    __tablename__ = "rounds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    kinds: Mapped[str] = mapped_column(String(200), default="dept,project")  # comma-separated form kinds
    profile: Mapped[str | None] = mapped_column(String(100))
    deadline: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)  # closed: no upload, late or not (migration 0005)
    # migration 0006: the documents each unit owes (comma-separated jixiao.season kinds; None: not tracked),
    # refuse | accept uploads after the deadline, and the projects listed per unit ({unit name: [project]})
    documents: Mapped[str | None] = mapped_column(String(200))
    late_policy: Mapped[str] = mapped_column(String(16), default="refuse", server_default="refuse")
    projects: Mapped[dict | None] = mapped_column(JSON)


class Blob(Base):
    """One stored upload, by content: the file under blobs/ named by its sha256 is never modified."""
    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("round_id", "unit_id", "slot", "version", name="uq_submission_version"),
                      Index("ix_submissions_round_unit", "round_id", "unit_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    slot: Mapped[str] = mapped_column(String(255))  # the file name, folded: a resubmission is a new version of its slot
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    size: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | checking | checked | failed
    verdict: Mapped[str | None] = mapped_column(String(16))  # error | warning | pass
    n_error: Mapped[int] = mapped_column(Integer, default=0)
    n_warning: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict | None] = mapped_column(JSON)  # FileResult.to_dict()
    findings: Mapped[list | None] = mapped_column(JSON)  # report.findings_of([result]): the --json schema
    # computed by the worker with the check: cell changes since the previous version, the marked copy's sha256
    views: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)  # the unit took the file back (migration 0005)
    days_late: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # after the deadline (0006)
    unit: Mapped[Unit] = relationship(lazy="joined")
    round: Mapped[Round] = relationship(lazy="joined")


def without_json() -> tuple:
    """Query options for submissions listed without their check: its JSON (tens of KB a row) is loaded when
    touched, not with every row."""
    return defer(Submission.result), defer(Submission.findings), defer(Submission.views)


def light() -> tuple:
    """Query options for submissions read for their names, versions and states only: the check's JSON and
    the joined unit and round are loaded when touched, not with every row."""
    return (*without_json(), lazyload(Submission.unit), lazyload(Submission.round))


class Job(Base):
    """One check to run. Rows outlive the process: on start, every job not done is queued again.

    A running job holds a lease; when it expires (its worker or its result was lost) the job is queued
    again. ``isolate``: the job was in a chunk whose worker died, so it runs alone in its own process and
    only a crash there counts against it.
    """
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)  # queued | running | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    isolate: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class Audit(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=now, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    user_name: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(64))


class ReviewAction(Base):
    """A reviewer's decision on one version of a file: return (退回修改), approve (审核通过) or reopen (重新打开).

    The rows are the history; a file's review state is read from its latest row (``board.file_review``).
    """
    __tablename__ = "review_actions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # return | approve | reopen
    comment: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    user_name: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime, default=now)


class FindingReview(Base):
    """A reviewer's word on one finding of one version: agree (同意) or reject (不采纳, with a reason)."""
    __tablename__ = "finding_reviews"
    __table_args__ = (UniqueConstraint("submission_id", "rule", "sheet", "cell", name="uq_finding_review"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    rule: Mapped[str] = mapped_column(String(100))
    sheet: Mapped[str] = mapped_column(String(255), default="")  # "" when the finding names none
    cell: Mapped[str] = mapped_column(String(64), default="")
    verdict: Mapped[str] = mapped_column(String(16))  # agree | reject
    reason: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    user_name: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime, default=now)


class Completion(Base):
    """A unit said its submission to a round is complete (提交完毕); a later upload or withdrawal removes it."""
    __tablename__ = "completions"
    __table_args__ = (UniqueConstraint("round_id", "unit_id", name="uq_completion"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=now)


class Sample(Base):
    """A round's 抽查 draw: how it was made (seed, size, weighting), the forms drawn and the reviewer's changes;
    confirmed once, then fixed (migration 0007). Forms are keyed as ``jixiao.season.sampling`` keys them."""
    __tablename__ = "samples"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), unique=True)
    draw: Mapped[dict] = mapped_column(JSON)  # Sample.to_dict()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=now)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    confirmed_by: Mapped[str | None] = mapped_column(String(100))


class Recheck(Base):
    """A reviewer's 复核得分 for one row of a sampled form (``form_key``: the sample's key of the form)."""
    __tablename__ = "rechecks"
    __table_args__ = (UniqueConstraint("form_key", "row", name="uq_recheck"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    form_key: Mapped[str] = mapped_column(String(300))
    row: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)
    user_name: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime, default=now)


class AssessmentScore(Base):
    """A reviewer's score of one row of a unit's 工作考核评分表 (``item``: the row's key in assessment.toml)."""
    __tablename__ = "assessment_scores"
    __table_args__ = (UniqueConstraint("round_id", "unit_id", "item", name="uq_assessment_score"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    item: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)
    user_name: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime, default=now)


def _private_file(url: str) -> None:
    """The SQLite file holds password hashes: made readable by its owner only (SQLite's -wal/-shm follow it)."""
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:" and not os.path.exists(path):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _private_file(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=10,
                               max_overflow=20)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # a committed upload survives a process kill and a power cut
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA temp_store=MEMORY")  # a DISTINCT over a unit's versions sorts in memory, not in a file
            cur.execute("PRAGMA mmap_size=268435456")  # pages read from the mapped file, not one pread each
            cur.close()
            dbapi_conn.isolation_level = None  # transactions begin below, not in the driver

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:  # noqa: ANN001
            # a writing transaction takes the write lock at its start (two deferred transactions that both
            # write would deadlock); reading ones stay deferred and, in WAL mode, never wait for writers
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("jx_write") else "BEGIN")

        return engine
    # last in, first out: in steady use the same few connections serve, and only a rested one is pinged
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_use_lifo=True)
    _ping_when_idle(engine)
    return engine


PING_IDLE = 1.0  # seconds a pooled connection may rest before its next use first asks the server is there


def _ping_when_idle(engine: Engine) -> None:
    """A pooled connection that rested more than ``PING_IDLE`` is pinged before it is handed out, and replaced
    when the server is gone (a restarted database); one in steady use is not (a ping is a round trip, and
    under load every session, upload and check would pay one). A connection that fails in use invalidates
    the whole pool, so after an outage no stale connection is handed out twice."""
    from sqlalchemy.exc import DisconnectionError

    @event.listens_for(engine, "checkin")
    def _rest(_dbapi_conn, record) -> None:  # noqa: ANN001
        record.info["jx_rest"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy) -> None:  # noqa: ANN001
        rested = record.info.get("jx_rest")
        if rested is None or time.monotonic() - rested <= PING_IDLE:
            return
        try:
            ok = engine.dialect.do_ping(dbapi_conn)
        except Exception:  # noqa: BLE001 - any failure: the server is not there for this connection
            ok = False
        if not ok:
            raise DisconnectionError("the database closed a resting connection")  # the pool connects anew


def migrate(url: str) -> None:
    """Bring the schema to the newest Alembic revision."""
    if url.startswith("sqlite"):
        _private_file(url)
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "head")


def integrity_ok(engine: Engine) -> tuple[bool, str]:
    """The database's own integrity check (SQLite: PRAGMA integrity_check; PostgreSQL: a full read)."""
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            rows = [r[0] for r in c.execute(text("PRAGMA integrity_check"))]
            fk = list(c.execute(text("PRAGMA foreign_key_check")))
            ok = rows == ["ok"] and not fk
            return ok, "; ".join(rows) + (f"; foreign keys: {fk}" if fk else "")
        for table in Base.metadata.sorted_tables:
            c.execute(text(f"SELECT count(*) FROM {table.name}"))
        return True, "ok"


class Sessions:
    """``Session()`` for reading, ``Session.begin()`` for a transaction that writes.

    A reading session sees each statement's committed rows (on PostgreSQL it holds no transaction); what
    must be read and written together is read in the writing transaction.

    SQLite has one writer at a time; its busy handler makes waiting writers sleep and poll, which under
    load costs more than the writes. Writers of this process queue on a lock instead.
    """

    def __init__(self, engine: Engine):
        # PostgreSQL: reads run each statement on its own (no BEGIN and ROLLBACK: two round trips a request)
        reading = engine if engine.dialect.name == "sqlite" else engine.execution_options(isolation_level="AUTOCOMMIT")
        self.read = sessionmaker(reading, expire_on_commit=False)
        self.write = sessionmaker(engine.execution_options(jx_write=True), expire_on_commit=False)
        self.lock = threading.RLock() if engine.dialect.name == "sqlite" else None

    def __call__(self):
        return self.read()

    @contextmanager
    def begin(self):
        if self.lock is None:
            with self.write.begin() as db:
                yield db
            return
        with self.lock, self.write.begin() as db:
            yield db


def sessions(engine: Engine) -> Sessions:
    return Sessions(engine)
