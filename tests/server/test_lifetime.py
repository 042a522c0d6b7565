"""A `jixiao serve` killed with SIGKILL (the server process alone, as the out-of-memory killer would) takes its
worker processes with it, and the next start removes the temporary files the dead server's workers left."""
from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from .conftest import workbook
from .live import Live, add_unit_user

psutil = pytest.importorskip("psutil")


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def checked(live: Live, token: str, n: int) -> None:
    """Upload ``n`` workbooks and wait until the workers have checked them."""
    from jixiao.server.db import Round, make_engine, sessions

    engine = make_engine(f"sqlite:///{live.data / 'jixiao.db'}")
    with sessions(engine).begin() as db:
        db.add(Round(name="批次", year=2024, kinds="dept"))
    engine.dispose()
    h = {"Authorization": f"Bearer {token}"}
    r = httpx.post(live.url + "/api/v1/submissions", headers=h, timeout=60,
                   files=[("file", (f"表{k}.xlsx", workbook(k)[0])) for k in range(n)])
    assert r.status_code == 202, r.text
    ids = [s["id"] for s in r.json()["submissions"]]
    end = time.monotonic() + 120
    while ids and time.monotonic() < end:
        ids = [i for i in ids if httpx.get(f"{live.url}/api/v1/submissions/{i}", headers=h,
                                           timeout=30).json()["status"] != "checked"]
        time.sleep(0.2)
    assert not ids


def test_killed_server_leaves_no_worker_and_its_leftovers_are_swept_at_start(tmp_path):
    token = add_unit_user(tmp_path, "u")
    live = Live(tmp_path, "--workers", "2").start()
    try:
        checked(live, token, 4)
        server = live.proc.pid
        family = psutil.Process(server).children(recursive=True)
        assert len(family) >= 2, family  # the fork server and the workers
        folder = tmp_path / "tmp" / f"server-{server}"
        own = sorted(folder.glob("worker-*"))
        assert own, "every worker keeps its temporary files under the server's folder"
        (own[0] / "jixiao-lo-killed").mkdir()  # what a conversion killed with its worker leaves
        (own[0] / "jixiao-lo-killed" / "part.xlsx").write_bytes(b"left behind")
        (folder / "uploads").mkdir(exist_ok=True)
        (folder / "uploads" / ".up-half").write_bytes(b"staged, never published")

        os.kill(server, signal.SIGKILL)
        live.proc.wait(timeout=10)
        end = time.monotonic() + 5
        while time.monotonic() < end and not all(gone(p.pid) for p in family):
            time.sleep(0.1)
        left = [(p.pid, p.name()) for p in family if not gone(p.pid)]
        assert not left, f"worker processes outlived the server: {left}"
        assert folder.exists()  # nobody cleaned up: the server was killed

        live.start()
        assert not folder.exists(), "the dead server's temporary folder survived the restart"
        assert (tmp_path / "tmp" / f"server-{live.proc.pid}").is_dir()
    finally:
        live.stop()
    assert not (tmp_path / "tmp" / f"server-{live.proc.pid}").exists()  # a clean stop removes its own


def test_checks_yield_the_cpu_to_the_process_that_answers_units(tmp_path):
    """The check workers run at a lower priority than the server, so uploads and pages answer first when a
    backlog of checks fills the machine."""
    from jixiao.server.lifetime import WORKER_NICE

    token = add_unit_user(tmp_path, "u")
    with Live(tmp_path, "--workers", "2") as live:
        checked(live, token, 2)
        server = psutil.Process(live.proc.pid)
        workers = [p for p in server.children(recursive=True)
                   if p.parent() is not None and "forkserver" in " ".join(p.parent().cmdline())]
        assert workers, "the pool's workers are children of its fork server"
        assert all(p.nice() >= server.nice() + WORKER_NICE for p in workers), [(p.pid, p.nice()) for p in workers]
        assert server.nice() == psutil.Process().nice()  # the server itself keeps the priority it was started with
