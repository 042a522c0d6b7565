"""Limits a hostile client meets on a running server: every request body is bounded while it is read."""
from __future__ import annotations

import json
import threading

import pytest

from .live import MB, Live, add_unit_user, chunked_flood

pytest.importorskip("psutil")

SPELLINGS = ["Multipart/Form-Data; boundary=jxb", "multipart/form-data; boundary=jxb",
             "MULTIPART/FORM-DATA;boundary=jxb", "application/x-www-form-urlencoded", "text/plain", None]


def _watch_rss(live: Live, stop: threading.Event, peak: list[int]) -> None:
    while not stop.wait(0.05):
        try:
            peak[0] = max(peak[0], live.rss())
        except Exception:  # noqa: BLE001 - the process is gone: the test says so elsewhere
            return


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    data = tmp_path_factory.mktemp("limits")
    token = add_unit_user(data, "flood")
    with Live(data, "--workers", "1", "--max-file-mb", "2", "--max-files", "4") as srv:
        srv.token = token
        yield srv


@pytest.mark.parametrize("ctype", SPELLINGS)
def test_a_400mb_chunked_body_is_refused_within_the_first_mbs(live, ctype):
    base = live.rss()
    peak = [base]
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_rss, args=(live, stop, peak))
    watcher.start()
    try:
        # what the route allows, plus what the loopback's socket buffers hold (several MB)
        token = {"Authorization": f"Bearer {live.token}"}
        multipart = bool(ctype) and ctype.lower().startswith("multipart/")
        targets = [("/login", {}, 4 * MB),  # no session, no CSRF token: a form's worth (64 KB)
                   ("/rounds", {}, 4 * MB),  # not logged in: sent to the login page, the body unread
                   ("/api/v1/submissions", {}, 4 * MB),  # no token
                   ("/api/v1/submissions", token, 17 * MB),  # 4 × 2 MB + 1 MB
                   ("/api/v1/check", token, 17 * MB)]
        for path, headers, bound in targets:
            if ctype:
                headers = {**headers, "Content-Type": ctype}
            status, sent, answer = chunked_flood(live.port, path, {**headers, "Accept": "application/json"},
                                                 400 * MB)
            assert 400 <= status < 500 or status == 303, (path, ctype, sent, answer[:300])
            assert sent < bound, f"{path} read {sent / MB:.1f} MB before refusing"
            if multipart and (path == "/login" or headers.get("Authorization")):
                assert status == 413, (path, ctype, answer[:300])
                detail = json.loads(answer.split(b"\r\n\r\n", 1)[1])["detail"]
                assert "上限" in detail and "[request.too_large]" in detail
    finally:
        stop.set()
        watcher.join()
    assert peak[0] - base < 50 * MB, f"server RSS grew {(peak[0] - base) / MB:.0f} MB"
    assert live.proc.poll() is None


def test_a_declared_length_over_the_limit_is_refused_before_the_body(live):
    import httpx

    r = httpx.post(live.url + "/login", content=b"x" * (2 * MB), headers={"Content-Type": "Multipart/Form-Data"})
    assert r.status_code == 413 and "上限" in r.json()["detail"]
