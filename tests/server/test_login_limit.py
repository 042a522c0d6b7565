"""The login limit on a running server: concurrent guesses are counted before they are verified."""
from __future__ import annotations

import re
import sqlite3
import threading

import httpx
import pytest

from .conftest import PASSWORD
from .live import MB, Live, add_unit_user

pytest.importorskip("psutil")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    data = tmp_path_factory.mktemp("login")
    add_unit_user(data, "officer")
    with Live(data, "--workers", "1") as srv:
        yield srv


def _form(client: httpx.Client) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)


def _verified(live: Live, name: str) -> int:
    """Verifications the server ran for ``name``: each leaves one login or login.failed row in the audit log."""
    with sqlite3.connect(live.data / "jixiao.db") as c:
        return c.execute("SELECT count(*) FROM audit_log WHERE target = ? AND action IN ('login', 'login.failed')",
                         (name,)).fetchone()[0]


def _storm(live: Live, names: list[str], address: str = "127.0.0.1") -> list[int]:
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=live.url, transport=transport, timeout=120) as c:
        csrf = _form(c)
        statuses: list[int] = []
        lock = threading.Lock()
        go = threading.Barrier(len(names))

        def guess(name: str) -> None:
            go.wait()
            r = c.post("/login", data={"name": name, "password": "wrong-password", "csrf": csrf})
            with lock:
                statuses.append(r.status_code)

        threads = [threading.Thread(target=guess, args=(n,)) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return statuses


def test_100_concurrent_wrong_passwords_verify_at_most_the_limit(live):
    base = live.rss()
    statuses = _storm(live, ["officer"] * 100)
    assert _verified(live, "officer") <= 5  # login_attempts
    assert statuses.count(401) <= 5 and statuses.count(429) >= 95
    assert live.rss() - base < 200 * MB


def test_concurrent_verifications_are_bounded_in_memory(live):
    """100 guesses at different names from another address: at most the address limit verified, two at a time."""
    import psutil

    peak, stop = [live.rss()], threading.Event()
    base = peak[0]

    def watch() -> None:
        while not stop.wait(0.02):
            peak[0] = max(peak[0], psutil.Process(live.proc.pid).memory_info().rss)

    w = threading.Thread(target=watch)
    w.start()
    try:
        statuses = _storm(live, [f"nobody-{i}" for i in range(100)], address="127.0.0.3")
    finally:
        stop.set()
        w.join()
    assert statuses.count(401) <= 20 and statuses.count(429) >= 80
    # two Argon2 verifications at 64 MiB each, not twenty
    assert peak[0] - base < 250 * MB, f"RSS grew {(peak[0] - base) / MB:.0f} MB"


def test_a_third_party_cannot_lock_a_named_account_out(live):
    statuses = _storm(live, ["officer"] * 10, address="127.0.0.2")  # someone else, guessing
    assert 429 in statuses
    own = httpx.HTTPTransport(local_address="127.0.0.4")
    with httpx.Client(base_url=live.url, transport=own, timeout=30) as c:  # the officer, from their own address
        r = c.post("/login", data={"name": "officer", "password": PASSWORD, "csrf": _form(c)}, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
