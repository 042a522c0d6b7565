"""A unit's storage quota on a running server (SQLite and PostgreSQL): an upload that would take the unit past it
is refused with 413 ``[upload.quota]`` before anything is stored, a .zip counted as what it expands to, and
concurrent uploads of one unit cannot pass together."""
from __future__ import annotations

import hashlib
import io
import os
import random
import threading
import zipfile
from pathlib import Path

import httpx
import pytest

from jixiao.server import quota

from .conftest import csrf_of, fresh_database, login, pg_base, workbook
from .live import MB, Live, add_unit_user

QUOTA_MB = 1
PIECE = 300 * 1024  # a file of about 300 KB: three fit in the quota, four do not


def padded(k: int, pad: bytes) -> bytes:
    """A real workbook with an extra stored part, to reach a known size."""
    src = zipfile.ZipFile(io.BytesIO(workbook(k)[0]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info, src.read(info))
        z.writestr(zipfile.ZipInfo("xl/media/pad.bin"), pad, compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def distinct(n: int, size: int = PIECE) -> list[bytes]:
    """``n`` workbooks of the same size with different bytes (each a blob of its own)."""
    rng = random.Random(n)
    return [padded(1, rng.randbytes(size)) for _ in range(n)]


def stored(data: Path, body: bytes) -> bool:
    sha = hashlib.sha256(body).hexdigest()
    return (data / "blobs" / sha[:2] / sha[2:4] / sha).is_file()


def staged(data: Path) -> list[Path]:
    return [p for p in (data / "tmp").rglob(".up-*")]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request, tmp_path_factory):
    from jixiao.server.db import Round, make_engine, sessions

    data = tmp_path_factory.mktemp(f"quota-{request.param}")
    db, drop = (None, None) if request.param == "sqlite" else fresh_database(pg_base())
    try:
        tokens = {who: add_unit_user(data, who, db) for who in ("full", "race", "zip", "web", "two")}
        engine = make_engine(db or f"sqlite:///{data / 'jixiao.db'}")
        with sessions(engine).begin() as s:
            s.add(Round(name="批次", year=2024, kinds="dept"))
        engine.dispose()
        with Live(data, "--workers", "1", "--unit-quota-mb", str(QUOTA_MB), db=db) as srv:
            srv.tokens = tokens
            yield srv
    finally:
        if drop:
            drop()


def post(live: Live, who: str, files: list[tuple[str, bytes]]) -> httpx.Response:
    return httpx.post(live.url + "/api/v1/submissions", headers={"Authorization": f"Bearer {live.tokens[who]}"},
                      files=[("file", f) for f in files], timeout=60)


def test_uploads_under_the_quota_are_taken_and_the_one_past_it_is_refused(live):
    books = distinct(4)
    for i in range(3):
        r = post(live, "full", [(f"表{i}.xlsx", books[i])])
        assert r.status_code == 202, r.text
    assert all(stored(live.data, b) for b in books[:3])
    r = post(live, "full", [("表3.xlsx", books[3])])
    assert r.status_code == 413
    detail = r.json()["detail"]
    assert detail.endswith("[upload.quota]")
    used = sum(map(len, books[:3]))
    assert f"{QUOTA_MB} MB 的存储上限" in detail and f"已存储 {quota.mb(used)} MB" in detail, detail
    assert f"共 {quota.mb(len(books[3]))} MB" in detail
    assert not stored(live.data, books[3]) and not staged(live.data)  # nothing of it stored
    # the same bytes again are stored already: a new version that adds nothing is taken
    r = post(live, "full", [("表0.xlsx", books[0])])
    assert r.status_code == 202 and r.json()["submissions"][0]["version"] == 2, r.text


def test_the_quota_holds_across_two_servers_on_one_database(live, tmp_path):
    """Each server remembers what a unit stored when it last wrote its uploads, to skip asking the database
    when an upload fits for certain; the other server's uploads make that memory too low, and the upload
    past the quota is refused all the same."""
    if live.db is None:
        pytest.skip("two servers share a PostgreSQL database; SQLite's data folder has one server")
    books = distinct(4)
    for i in range(2):
        assert post(live, "two", [(f"甲{i}.xlsx", books[i])]).status_code == 202
    (tmp_path / "second").mkdir()
    with Live(tmp_path / "second", "--workers", "1", "--unit-quota-mb", str(QUOTA_MB), db=live.db) as other:
        other.tokens = live.tokens
        assert post(other, "two", [("乙.xlsx", books[2])]).status_code == 202  # the first server did not see it
    r = post(live, "two", [("甲3.xlsx", books[3])])
    assert r.status_code == 413, r.text
    detail = r.json()["detail"]
    assert detail.endswith("[upload.quota]") and f"已存储 {quota.mb(sum(map(len, books[:3])))} MB" in detail, detail
    assert not stored(live.data, books[3]) and not staged(live.data)


def test_a_zip_whose_workbooks_expand_past_the_quota_is_refused(live):
    members = [padded(2, bytes([i]) * PIECE) for i in range(5)]  # compress to almost nothing
    archive = _zip(members)
    assert len(archive) < 100 * 1024 and sum(map(len, members)) > QUOTA_MB * MB
    r = post(live, "zip", [("材料.zip", archive)])
    assert r.status_code == 413 and r.json()["detail"].endswith("[upload.quota]"), r.text
    assert f"解压后共 {quota.mb(sum(map(len, members)))} MB" in r.json()["detail"]
    assert not any(stored(live.data, m) for m in members) and not staged(live.data)
    r = post(live, "zip", [("材料.zip", _zip(members[:3]))])  # three of them fit
    assert r.status_code == 202 and len(r.json()["submissions"]) == 3, r.text
    assert [stored(live.data, m) for m in members] == [True] * 3 + [False] * 2


def _zip(members: list[bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i, m in enumerate(members):
            z.writestr(f"项目{i}.xlsx", m)
    return buf.getvalue()


def test_concurrent_uploads_of_one_unit_cannot_pass_together(live):
    books = distinct(10)
    answers: list[httpx.Response] = []
    lock = threading.Lock()
    go = threading.Barrier(len(books))

    def one(i: int) -> None:
        go.wait()
        r = post(live, "race", [(f"并发{i}.xlsx", books[i])])
        with lock:
            answers.append(r)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(books))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    codes = sorted(r.status_code for r in answers)
    assert codes == [202] * 3 + [413] * 7, [(r.status_code, r.text[:200]) for r in answers]
    assert all(r.json()["detail"].endswith("[upload.quota]") for r in answers if r.status_code == 413)
    kept = [b for b in books if stored(live.data, b)]
    assert len(kept) == 3 and sum(map(len, kept)) <= QUOTA_MB * MB
    assert not staged(live.data)
    listed = httpx.get(live.url + "/api/v1/submissions", headers={"Authorization": f"Bearer {live.tokens['race']}"},
                       timeout=30).json()
    assert listed["total"] == 3


def test_the_pages_upload_meets_the_same_quota(live):
    """The unit page's drag-and-drop posts with the session and its CSRF header: the same 413 and message."""
    books = distinct(4)
    with httpx.Client(base_url=live.url, timeout=60) as c:
        assert login(c, "web").status_code == 303
        csrf = csrf_of(c, "/rounds")
        h = {"X-CSRF-Token": csrf, "Accept": "application/json"}
        r = c.post("/api/v1/submissions", headers=h, files=[("file", (f"网页{i}.xlsx", books[i])) for i in range(3)])
        assert r.status_code == 202, r.text
        r = c.post("/api/v1/submissions", headers=h, files=[("file", ("网页3.xlsx", books[3]))])
        assert r.status_code == 413 and "存储上限" in r.json()["detail"] and "[upload.quota]" in r.json()["detail"]
    assert not staged(live.data)
    assert os.path.isdir(live.data / "tmp")
