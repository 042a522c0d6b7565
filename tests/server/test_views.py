"""A small workbook with a huge sheet cannot sink the web process: the comparison between versions and
the marked copy are made by the worker, bounded, and the pages only read what it stored."""
from __future__ import annotations

import io
import re
import time
import zipfile

import httpx
import pytest

from .conftest import PASSWORD, workbook
from .live import MB, Live, add_unit_user

pytest.importorskip("psutil")


def _column(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def with_million_cells(data: bytes) -> bytes:
    """The workbook with one more sheet of 1,000,000 numbers (10,000 rows × 100 columns)."""
    cols = [_column(i) for i in range(100)]
    rows = "".join(f'<row r="{r}">' + "".join(f'<c r="{c}{r}"><v>{r}</v></c>' for c in cols) + "</row>"
                   for r in range(1, 10001))
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f"<sheetData>{rows}</sheetData></worksheet>")
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/workbook.xml":
                body = body.replace(b"</sheets>", b'<sheet name="\xe9\x99\x84\xe8\xa1\xa8" sheetId="999" '
                                    b'r:id="rIdJxBig"/></sheets>')
            elif item.filename == "xl/_rels/workbook.xml.rels":
                body = body.replace(b"</Relationships>", b'<Relationship Id="rIdJxBig" Type="http://schemas.'
                                    b'openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                                    b'Target="worksheets/sheetJxBig.xml"/></Relationships>')
            elif item.filename == "[Content_Types].xml":
                body = body.replace(b"</Types>", b'<Override PartName="/xl/worksheets/sheetJxBig.xml" '
                                    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
                                    b'worksheet+xml"/></Types>')
            z.writestr(item, body)
        z.writestr("xl/worksheets/sheetJxBig.xml", sheet)
    return out.getvalue()


def test_the_million_cell_workbook_pages_answer_quickly_at_bounded_memory(tmp_path):
    from jixiao.server.db import Round, make_engine, sessions

    token = add_unit_user(tmp_path, "u")
    engine = make_engine(f"sqlite:///{tmp_path / 'jixiao.db'}")
    with sessions(engine).begin() as s:
        s.add(Round(name="批次", year=2024, kinds="dept,project"))
    engine.dispose()
    small = workbook(31, "split")[0]
    big = with_million_cells(small)
    assert len(big) < 5 * MB
    h = {"Authorization": f"Bearer {token}"}
    with Live(tmp_path, "--workers", "1") as live:
        ids = []
        for data in (small, big):  # two versions of one file
            r = httpx.post(live.url + "/api/v1/submissions", files=[("file", ("自评表.xlsx", data))], headers=h,
                           timeout=60)
            ids.append(r.json()["submissions"][0]["id"])
        end = time.monotonic() + 150
        while time.monotonic() < end:
            if all(httpx.get(f"{live.url}/api/v1/submissions/{i}", headers=h, timeout=10).json()["status"]
                   == "checked" for i in ids):
                break
            time.sleep(0.5)
        with httpx.Client(base_url=live.url, timeout=60) as c:
            csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
            assert c.post("/login", data={"name": "u", "password": PASSWORD, "csrf": csrf}).status_code == 303
            c.get(f"/s/{ids[0]}")  # the page's code paths warmed once
            base = live.rss()
            for path in (f"/s/{ids[1]}", f"/s/{ids[1]}/marked.xlsx", f"/s/{ids[0]}/marked.xlsx"):
                t0 = time.monotonic()
                r = c.get(path, headers={"Accept": "text/html"})
                took = time.monotonic() - t0
                assert took < 1.0, f"{path} took {took:.1f} s"
                assert r.status_code in (200, 409), (path, r.status_code)
                if path.endswith(f"{ids[1]}/marked.xlsx"):
                    assert r.status_code == 409 and "过大" in r.text  # said, not attempted
                if path == f"/s/{ids[1]}":
                    assert "工作表过大，不逐格比较" in r.text
            assert live.rss() - base < 50 * MB
            # the ordinary version's marked copy was made by the worker and is served as stored
            r = c.get(f"/s/{ids[0]}/marked.xlsx")
            assert r.status_code == 200 and r.content[:2] == b"PK"
