"""Restart and fault: a server killed with SIGKILL in the middle of a batch of uploads loses nothing it answered."""
from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from .conftest import PASSWORD, make_server, workbook


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jixiao(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jixiao", *args], input=stdin, capture_output=True, text=True,
                          timeout=120)


def start(data: Path, port: int, db: str | None, workers: int = 2) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "jixiao", "serve", "--data", str(data), "--port", str(port), "--workers", str(workers)]
    if db:
        cmd += ["--db", db]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode())
        time.sleep(0.2)
    raise AssertionError("server did not become ready")


def kill_group(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
    try:
        os.killpg(proc.pid, sig)  # the server and its worker processes, as a crash would take them
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def test_users_cli_and_token(tmp_path):
    r = jixiao("users", "add", "审核员", "--role", "bureau", "--password-stdin", "--data", str(tmp_path),
               stdin=PASSWORD + "\n")
    assert r.returncode == 0 and "已添加用户 审核员" in r.stdout
    r = jixiao("users", "add", "x", "--role", "unit", "--password-stdin", "--data", str(tmp_path), stdin=PASSWORD)
    assert r.returncode == 2 and "--unit" in r.stderr
    r = jixiao("users", "add", "y", "--role", "unit", "--unit", "甲", "--password-stdin", "--data", str(tmp_path),
               stdin="short\n")
    assert r.returncode == 2 and "至少 8 个字符" in r.stderr
    r = jixiao("users", "passwd", "审核员", "--password-stdin", "--data", str(tmp_path), stdin="another-password\n")
    assert r.returncode == 0 and "已重设" in r.stdout
    r = jixiao("users", "token", "审核员", "--data", str(tmp_path))
    token = r.stdout.strip()
    assert r.returncode == 0 and token.startswith("jx_") and len(token) > 40
    assert token.encode() not in (tmp_path / "jixiao.db").read_bytes()
    from openpyxl import Workbook
    wb = Workbook()
    wb.active.append(["单位名称"])
    wb.active.append(["甲单位"])
    wb.save(tmp_path / "u.xlsx")
    r = jixiao("users", "import-units", str(tmp_path / "u.xlsx"), "--data", str(tmp_path))
    assert r.returncode == 0 and "新增 1 个单位" in r.stdout
    r = jixiao("users", "list", "--data", str(tmp_path))
    assert "审核员\tbureau" in r.stdout


def test_queued_jobs_survive_a_restart(tmp_path):
    """Jobs accepted while no worker runs are checked by the next process."""
    srv = make_server(tmp_path, None, start_workers=False)
    with srv.client:
        r = srv.upload("unit-a", [("a.xlsx", workbook(1, "split")[0]), ("b.xlsx", workbook(2)[0])])
        ids = [s["id"] for s in r.json()["submissions"]]
        assert srv.client.get("/readyz").status_code == 503
    srv.ctx.engine.dispose()
    from fastapi.testclient import TestClient

    from jixiao.server import Settings, create_app

    app = create_app(Settings(data=tmp_path, workers=1))
    srv2 = type(srv)(app, TestClient(app))
    srv2.tokens = srv.tokens
    with srv2.client:
        got = srv2.wait("unit-a", ids)
    assert [g["status"] for g in got] == ["checked", "checked"]
    assert got[0]["verdict"] == "error"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sigkill_during_uploads_loses_nothing(tmp_path, backend):
    from sqlalchemy import select

    from jixiao.server.db import Blob, Job, Round, Submission, integrity_ok, make_engine, sessions

    from .conftest import fresh_database, pg_base

    db_url, drop = (None, None) if backend == "sqlite" else fresh_database(pg_base())
    extra = ["--db", db_url] if db_url else []
    try:
        assert jixiao("users", "add", "u", "--role", "unit", "--unit", "甲单位", "--password-stdin", "--data",
                      str(tmp_path), *extra, stdin=PASSWORD).returncode == 0
        token = jixiao("users", "token", "u", "--data", str(tmp_path), *extra).stdout.strip()
        url = db_url or f"sqlite:///{tmp_path / 'jixiao.db'}"
        engine = make_engine(url)
        with sessions(engine).begin() as db:
            db.add(Round(name="批次", year=2024, kinds="dept"))
        engine.dispose()
        books = [workbook(k, ("split", "sum_row", None)[k % 3]) for k in range(12)]
        port = free_port()
        proc = start(tmp_path, port, db_url)
        answered: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def client(n: int) -> None:
            k = n
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10,
                              headers={"Authorization": f"Bearer {token}"}) as c:
                while not stop.is_set():
                    data = books[k % len(books)][0]
                    try:
                        r = c.post("/api/v1/submissions", files=[("file", (f"c{n}-{k}.xlsx", data)),
                                                                 ("file", (f"d{n}-{k}.xlsx", data))])
                    except httpx.HTTPError:
                        return  # the server is gone
                    if r.status_code == 202:
                        with lock:
                            answered.extend(s["id"] for s in r.json()["submissions"])
                    k += 8

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        time.sleep(2.5)
        kill_group(proc)  # SIGKILL, mid-batch
        stop.set()
        for t in threads:
            t.join(timeout=30)
        assert len(answered) > 10
        proc = start(tmp_path, port, db_url)
        try:
            h = {"Authorization": f"Bearer {token}"}
            end = time.monotonic() + 180
            pending = set(answered)
            while pending and time.monotonic() < end:
                for sid in list(pending):
                    r = httpx.get(f"http://127.0.0.1:{port}/api/v1/submissions/{sid}", headers=h, timeout=10)
                    assert r.status_code == 200, (sid, r.text)  # every answered upload is there
                    if r.json()["status"] == "checked":
                        pending.discard(sid)
                time.sleep(0.3)
            assert not pending, f"{len(pending)} answered uploads were not checked after the restart"
        finally:
            kill_group(proc, signal.SIGTERM)
        engine = make_engine(url)
        ok, why = integrity_ok(engine)
        assert ok, why
        with sessions(engine)() as db:
            subs = db.scalars(select(Submission)).all()
            assert {s.public_id for s in subs} >= set(answered)
            assert all(j.state == "done" for j in db.scalars(select(Job)))
            store = tmp_path / "blobs"
            for b in db.scalars(select(Blob)):
                p = store / b.sha256[:2] / b.sha256[2:4] / b.sha256
                assert hashlib.sha256(p.read_bytes()).hexdigest() == b.sha256
        engine.dispose()
    finally:
        if drop:
            drop()


def test_a_dying_worker_is_retried_then_reported(tmp_path):
    """A chunk whose worker process dies goes back to the queue, its files alone; a file whose own process
    dies three times gets a finding."""
    import concurrent.futures as cf
    from concurrent.futures.process import BrokenProcessPool

    from jixiao.server.jobs import Dispatcher

    srv = make_server(tmp_path, None, start_workers=False)
    with srv.client:
        sid = srv.upload("unit-a", [("a.xlsx", workbook(1)[0])]).json()["submissions"][0]["id"]

    class Dying:
        remote, slots, restarts = False, 1, 0

        def submit(self, fn, *args):
            f = cf.Future()
            f.set_exception(BrokenProcessPool("worker killed"))
            return f

        def restart(self):
            self.restarts += 1

    backend = Dying()
    d = Dispatcher(srv.ctx.Session, srv.ctx.store, backend, 5)
    d.start()
    try:
        end = time.monotonic() + 30
        while time.monotonic() < end:
            got = srv.client.get(f"/api/v1/submissions/{sid}", headers=srv.h("unit-a")).json()
            if got["status"] == "checked":
                break
            time.sleep(0.1)
    finally:
        d.stop()
    assert got["status"] == "checked" and got["findings"][0]["rule"] == "check.crashed"
    assert "多次意外退出" in got["findings"][0]["message"]
    assert backend.restarts == 1  # the shared pool once; the file's own processes after that
