"""Faults a running server survives: the database stopped and started during uploads, worker processes
killed in the middle of a batch. Every accepted file is checked, and no file is blamed for its neighbours."""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import threading
import time

import httpx
import pytest

from .conftest import workbook
from .live import Live, add_unit_user, free_port

pytest.importorskip("psutil")


def _pg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120)


@pytest.fixture
def own_cluster():
    """A PostgreSQL cluster of this test's own (it is stopped and started; the shared one is left alone)."""
    if not shutil.which("pg_createcluster") or os.geteuid() != 0:
        pytest.skip("needs pg_createcluster and root to run a PostgreSQL cluster of its own")
    name, port = "jx" + secrets.token_hex(4), free_port()
    r = _pg("pg_createcluster", "15", name, "-p", str(port), "--start")
    assert r.returncode == 0, r.stderr
    try:
        for sql in ("CREATE ROLE jixiao LOGIN PASSWORD 'jixiao'", "CREATE DATABASE jxo OWNER jixiao"):
            r = _pg("runuser", "-u", "postgres", "--", "psql", "-p", str(port), "-v", "ON_ERROR_STOP=1", "-c", sql)
            assert r.returncode == 0, r.stderr
        yield name, f"postgresql+psycopg://jixiao:jixiao@127.0.0.1:{port}/jxo"
    finally:
        _pg("pg_dropcluster", "15", name, "--stop")


def _uploader(url: str, token: str, stop: threading.Event, answered: list[str]) -> None:
    books = [workbook(k, ("split", "sum_row", None)[k % 3])[0] for k in range(6)]
    k = 0
    with httpx.Client(base_url=url, timeout=15, headers={"Authorization": f"Bearer {token}"}) as c:
        while not stop.is_set():
            try:
                # six files a request: a backlog, so checks are running when the database stops
                r = c.post("/api/v1/submissions", files=[("file", (f"f{k}-{j}.xlsx", books[j])) for j in range(6)])
                if r.status_code == 202:
                    answered.extend(s["id"] for s in r.json()["submissions"])
            except httpx.HTTPError:
                time.sleep(1.0)
            k += 1
            time.sleep(0.05)


def _unchecked(url: str, token: str, ids: list[str]) -> set[str]:
    h = {"Authorization": f"Bearer {token}"}
    out = set()
    for i in ids:
        r = httpx.get(f"{url}/api/v1/submissions/{i}", headers=h, timeout=10)
        if r.status_code != 200 or r.json()["status"] != "checked":
            out.add(i)
    return out


def test_database_stopped_and_started_during_uploads(tmp_path, own_cluster):
    name, db = own_cluster
    token = add_unit_user(tmp_path, "u", db)
    from jixiao.server.db import Round, make_engine, sessions

    engine = make_engine(db)
    with sessions(engine).begin() as s:
        s.add(Round(name="批次", year=2024, kinds="dept,project"))
    engine.dispose()
    answered: list[str] = []
    stop = threading.Event()
    with Live(tmp_path, "--workers", "2", db=db) as live:
        t = threading.Thread(target=_uploader, args=(live.url, token, stop, answered))
        t.start()
        try:
            time.sleep(3)
            assert _pg("pg_ctlcluster", "15", name, "stop", "-m", "fast").returncode == 0
            time.sleep(4)
            down = httpx.get(live.url + "/readyz", timeout=30)
            assert down.status_code == 503 and down.json()["database"] == "unavailable", down.text
            assert "Error" not in down.text  # no exception class names
            r = httpx.post(live.url + "/api/v1/submissions", headers={"Authorization": f"Bearer {token}"},
                           files=[("file", ("x.xlsx", workbook(1)[0]))], timeout=30)
            assert r.status_code == 503 and "数据库暂时不可用" in r.json()["detail"], r.text[:300]
            assert _pg("pg_ctlcluster", "15", name, "start").returncode == 0
            back = time.monotonic()
            time.sleep(2)
        finally:
            stop.set()
            t.join()
        assert len(answered) > 5
        pending = set(answered)
        while pending and time.monotonic() - back < 60:
            pending = _unchecked(live.url, token, list(pending))
            time.sleep(0.5)
        assert not pending, f"{len(pending)} of {len(answered)} accepted files unchecked a minute after the database returned"
        assert httpx.get(live.url + "/readyz", timeout=30).status_code == 200


def _workers(live: Live) -> list:
    """The pool's worker processes: children of the server's fork server."""
    import psutil

    out = []
    for p in psutil.Process(live.proc.pid).children(recursive=True):
        try:
            parent = p.parent()
            if parent is not None and "forkserver" in " ".join(parent.cmdline()):
                out.append(p)
        except psutil.Error:
            pass
    return out


def test_killed_workers_blame_no_neighbour(tmp_path):
    """A worker killed three times mid-batch: every file is checked in the end and none reported check.crashed
    (each death took a whole chunk, and the pool's other chunks, with it)."""
    token = add_unit_user(tmp_path, "u")
    from jixiao.server.db import Round, make_engine, sessions

    engine = make_engine(f"sqlite:///{tmp_path / 'jixiao.db'}")
    with sessions(engine).begin() as s:
        s.add(Round(name="批次", year=2024, kinds="dept,project"))
    engine.dispose()
    with Live(tmp_path, "--workers", "2") as live:
        # uploads go on until the third kill, so the workers are busy however fast a check is
        ids: list[str] = []
        stop = threading.Event()
        t = threading.Thread(target=_uploader, args=(live.url, token, stop, ids))
        t.start()
        killed = 0
        end = time.monotonic() + 60
        try:
            while killed < 3 and time.monotonic() < end:  # one busy worker at a time, three times, half a second apart
                busy = [p for p in _workers(live) if time.time() - p.create_time() > 0.15]
                if busy and len(ids) > 12:
                    try:
                        busy[0].kill()
                        killed += 1
                    except Exception:  # noqa: BLE001 - already gone
                        pass
                    time.sleep(0.5)
                time.sleep(0.05)
        finally:
            stop.set()
            t.join()
        assert killed >= 3
        end = time.monotonic() + 90
        h = {"Authorization": f"Bearer {token}"}
        results = {}
        while len(results) < len(ids) and time.monotonic() < end:
            for i in ids:
                j = httpx.get(f"{live.url}/api/v1/submissions/{i}", headers=h, timeout=10).json()
                if j["status"] == "checked":
                    results[i] = j
            time.sleep(0.3)
        assert len(results) == len(ids)
        crashed = [j["file"] for j in results.values() if any(f["rule"] == "check.crashed" for f in j["findings"])]
        assert not crashed, f"blamed for a killed worker: {crashed}"
