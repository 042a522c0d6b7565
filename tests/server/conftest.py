"""Fixtures for the submission server: a database per test module (SQLite and a real PostgreSQL), users,
a round, and generated workbooks with known mistakes.

PostgreSQL: ``JIXIAO_TEST_PG`` names a server where the role may create databases (``.ci/run`` starts one
and sets it). Without it the local default is tried; the PostgreSQL tests are skipped only when no
PostgreSQL is installed on this machine, and never in CI.
"""
from __future__ import annotations

import glob
import os
import random
import re
import secrets
import shutil
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from jixiao.samples import submissions  # noqa: E402

PG_DEFAULT = "postgresql+psycopg://jixiao:jixiao@127.0.0.1:5432/jixiao_test"
PASSWORD = "correct-horse-1"


def pg_installed() -> bool:
    return bool(shutil.which("postgres") or shutil.which("pg_ctlcluster") or glob.glob("/usr/lib/postgresql/*/bin/postgres"))


def pg_base() -> str | None:
    """A PostgreSQL URL we may create databases on, or None (and a skip) when PostgreSQL is not installed."""
    import psycopg

    url = os.environ.get("JIXIAO_TEST_PG") or PG_DEFAULT
    try:
        psycopg.connect(url.replace("+psycopg", ""), connect_timeout=3).close()
        return url
    except psycopg.OperationalError as e:
        if os.environ.get("CI") or os.environ.get("JIXIAO_TEST_PG") or pg_installed():
            pytest.fail(f"PostgreSQL is installed but not reachable at {url} ({e}); start it as .ci/run does")
        pytest.skip("PostgreSQL is not installed on this machine")


def fresh_database(base: str) -> tuple[str, callable]:
    import psycopg

    name = "jx_" + secrets.token_hex(6)
    admin = base.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + "/" + name

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


@pytest.fixture(scope="module")
def cluster():
    """A Dask LocalCluster of two worker processes (for the modules that need ``distributed``)."""
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as c:
        yield c


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db_url(request):
    if request.param == "sqlite":
        yield None
        return
    url, drop = fresh_database(pg_base())
    yield url
    drop()


def workbook(k: int, injection: str | None = None, layout: str = "template") -> tuple[bytes, list[dict]]:
    return submissions.make_submission(random.Random(k), layout, injection)


class Server:
    """The app in a TestClient, with a reviewer, two units (one user each) and their API tokens."""

    def __init__(self, app, client):
        self.app, self.client, self.ctx = app, client, app.state.ctx
        self.tokens: dict[str, str] = {}
        self.round_id = 0

    def h(self, who: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def upload(self, who: str, files: list[tuple[str, bytes]], **data):
        return self.client.post("/api/v1/submissions", headers=self.h(who),
                                files=[("file", (n, b)) for n, b in files], data=data)

    def wait(self, who: str, ids: list[str], timeout: float = 60) -> list[dict]:
        end = time.monotonic() + timeout
        out = {}
        while time.monotonic() < end:
            for i in ids:
                if i not in out:
                    j = self.client.get(f"/api/v1/submissions/{i}", headers=self.h(who)).json()
                    if j["status"] in ("checked", "failed"):
                        out[i] = j
            if len(out) == len(ids):
                return [out[i] for i in ids]
            time.sleep(0.1)
        raise AssertionError(f"not checked in {timeout}s: {set(ids) - set(out)}")


def login(client, name: str, password: str = PASSWORD):
    client.cookies.clear()
    r = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    return client.post("/login", data={"name": name, "password": password, "csrf": csrf, "next": "/"},
                       follow_redirects=False)


def csrf_of(client, path: str = "/rounds") -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).text).group(1)


def make_server(data: Path, db_url: str | None, **kw):
    from fastapi.testclient import TestClient

    from jixiao.server import Settings, create_app
    from jixiao.server.accounts import add_user, issue_token
    from jixiao.server.db import Round

    app = create_app(Settings(data=data, db_url=db_url, workers=kw.pop("workers", 2), **kw))
    client = TestClient(app)
    srv = Server(app, client)
    with srv.ctx.Session.begin() as db:
        add_user(db, "reviewer", "bureau", PASSWORD)
        add_user(db, "unit-a", "unit", PASSWORD, "甲单位")
        add_user(db, "unit-b", "unit", PASSWORD, "乙单位")
        add_user(db, "unit-c", "unit", PASSWORD, "丙单位")  # never submits
        for who in ("reviewer", "unit-a", "unit-b"):
            srv.tokens[who] = issue_token(db, who)
        rnd = Round(name="2024年度部门整体支出绩效自评", year=2024, kinds="dept,project")
        db.add(rnd)
        db.flush()
        srv.round_id = rnd.id
    return srv


@pytest.fixture(scope="module")
def server(db_url, tmp_path_factory):
    srv = make_server(tmp_path_factory.mktemp("srv"), db_url)
    with srv.client:
        yield srv


@pytest.fixture
def many_logins(request):
    """Tests that sign in and out often from one address: the login rate limit is not what they test
    (modules use it with ``pytestmark = pytest.mark.usefixtures("many_logins")``)."""
    if "server" in request.fixturenames:
        server = request.getfixturevalue("server")
        server.ctx.limiter.hits.clear()
        server.ctx.settings.login_address_attempts = 10000
