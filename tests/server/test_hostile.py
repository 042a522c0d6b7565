"""Bad input and hostile use: refused or escaped, with a Chinese reason, and the service keeps serving."""
from __future__ import annotations

import io
import zipfile

import pytest

from .conftest import login, make_server, workbook

MB = 1024 * 1024


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A server with small limits (SQLite), so the limits can be hit cheaply."""
    srv = make_server(tmp_path_factory.mktemp("small"), None, max_file_bytes=2 * MB, max_request_bytes=8 * MB,
                      max_files=4, workers=1)
    with srv.client:
        yield srv


def _zip(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _encrypted() -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(workbook(3)[0])).encrypt("secret", out)
    return out.getvalue()


def test_each_bad_file_is_refused_with_a_reason(small):
    good = workbook(5, "split")[0]
    files = [("好的.xlsx", good), ("说明.txt", "这不是工作簿".encode()), ("假的.xlsx", b"not a workbook at all"),
             ("加密.xlsx", _encrypted())]
    r = small.upload("unit-a", files)
    assert r.status_code == 202
    body = r.json()
    assert [s["file"] for s in body["submissions"]] == ["好的.xlsx"]
    reasons = {x["file"]: (x["code"], x["reason"]) for x in body["refused"]}
    assert reasons["说明.txt"][0] == "upload.not_workbook" and "不是工作簿" in reasons["说明.txt"][1]
    assert reasons["假的.xlsx"][0] == "upload.not_workbook"
    assert reasons["加密.xlsx"][0] == "upload.encrypted" and "密码" in reasons["加密.xlsx"][1]
    small.wait("unit-a", [body["submissions"][0]["id"]])


def test_size_limits(small):
    big = b"PK\x03\x04" + b"\0" * (3 * MB)
    r = small.upload("unit-a", [("大.xlsx", big)])
    assert r.status_code == 422 and r.json()["refused"][0]["code"] == "upload.too_large"
    assert "MB" in r.json()["refused"][0]["reason"]
    r = small.upload("unit-a", [(f"{i}.xlsx", big) for i in range(3)])  # 9 MB request
    assert r.status_code == 413 and "上限" in r.json()["detail"]


def test_too_many_files(small):
    wb = workbook(6)[0]
    r = small.upload("unit-a", [(f"{i}.xlsx", wb) for i in range(6)])
    assert r.status_code == 413 and "一次最多上传 4 个" in r.json()["detail"]
    r = small.upload("unit-a", [("多.zip", _zip({f"{i}.xlsx": wb for i in range(6)}))])
    assert r.status_code == 413 and "一次最多上传 4 个" in r.json()["detail"]


def test_zip_bomb_and_traversal(small):
    wb = workbook(7, "sum_row")[0]
    bomb = _zip({"炸弹.xlsx": b"\0" * (40 * MB)})
    assert len(bomb) < 100_000
    evil = _zip({"../../etc/evil.xlsx": wb, "/abs/evil2.xlsx": wb, "子目录/正常.xlsx": wb, "inner.zip": b"PK",
                 "__MACOSX/._x.xlsx": b"junk"})
    r = small.upload("unit-a", [("bomb.zip", bomb), ("evil.zip", evil)])
    assert r.status_code == 202, r.text
    body = r.json()
    assert [s["file"] for s in body["submissions"]] == ["正常.xlsx"]
    codes = {x["file"]: x["code"] for x in body["refused"]}
    assert codes["bomb.zip!炸弹.xlsx"] == "archive.bomb"
    assert codes["evil.zip!../../etc/evil.xlsx"] == "archive.bad_path"
    assert codes["evil.zip!/abs/evil2.xlsx"] == "archive.bad_path"
    assert codes["evil.zip!inner.zip"] == "archive.nested"
    assert all("“../”" in x["reason"] for x in body["refused"] if x["code"] == "archive.bad_path")
    # nothing was written outside the data folder
    assert not (small.ctx.settings.data.parent / "etc").exists()
    small.wait("unit-a", [body["submissions"][0]["id"]])


def test_gbk_names_in_windows_zips(small):
    wb = workbook(8)[0]
    gbk = "财政局自评表.xlsx".encode("gbk")
    placeholder = b"A" * (len(gbk) - 5) + b".xlsx"
    raw = _zip({placeholder.decode(): wb}).replace(placeholder, gbk)  # as Windows' zip writes it: GBK, no UTF-8 flag
    r = small.upload("unit-a", [("单位.zip", raw)])
    assert [s["file"] for s in r.json()["submissions"]] == ["财政局自评表.xlsx"]


def test_markup_in_names_and_findings_is_escaped(small):
    from jixiao.server.db import Submission
    from jixiao.server.jobs import store_result
    from sqlalchemy import select

    name = "<svg onload=alert('x')>自评表.xlsx"
    r = small.upload("unit-a", [(name, workbook(9, "split")[0])])
    sub = r.json()["submissions"][0]
    assert sub["file"] == name  # kept as written, shown escaped
    small.wait("unit-a", [sub["id"]])
    # a finding whose texts come from the workbook and hold markup
    evil = {"file": name, "sheet": "<b>表</b>", "cell": "A1", "rule": "indicator.actual_has_comparator",
            "severity": "error", "message": "实际完成值写成了“<img src=x onerror=alert(1)>”", "expected": "<i>x</i>",
            "found": "<script>alert(2)</script>", "context": None}
    from jixiao.server import views
    with small.ctx.Session.begin() as db:
        s = db.scalar(select(Submission).where(Submission.public_id == sub["id"]))
        shown = views.compute(name, small.ctx.store.get(s.sha256), [evil], None)  # as the worker makes them
        shown["marked"] = small.ctx.store.put(shown["marked"])
        store_result(s, {"result": dict(s.result), "findings": [evil], "views": shown}, s.checked_at)
    c = small.client
    login(c, "unit-a")
    page = c.get(f"/s/{sub['id']}").text
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>表</b>" not in page
    assert "<svg onload" not in page and "&lt;svg onload=alert(&#39;x&#39;)&gt;自评表.xlsx" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    mine = c.get(f"/rounds/{small.round_id}/mine").text
    assert "<svg onload" not in mine
    # the marked copy keeps such text as text
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(c.get(f"/s/{sub['id']}/marked.xlsx").content))
    assert wb["检查结果"]["G2"].value == "<script>alert(2)</script>"
    # content-disposition of a hostile name stays one header value
    d = c.get(f"/s/{sub['id']}/file").headers["content-disposition"]
    assert "\n" not in d and "<" not in d.split("filename*=")[0]


def test_formula_text_stays_inert_in_marked_copy(small):
    from jixiao.server.marked import marked_copy
    from openpyxl import load_workbook

    data = workbook(10)[0]
    out = marked_copy(data, [{"file": "x", "sheet": None, "cell": None, "rule": "r", "severity": "error",
                              "message": "=HYPERLINK(\"http://x\",\"y\")", "expected": "+1", "found": "@SUM(A1)",
                              "context": None}], "x.xlsx")
    ws = load_workbook(io.BytesIO(out))["检查结果"]
    assert ws["E2"].data_type == "s" and ws["F2"].data_type == "s" and ws["G2"].data_type == "s"


def test_service_keeps_serving(small):
    assert small.client.get("/readyz").status_code == 200
    r = small.upload("unit-a", [("还在.xlsx", workbook(12)[0])])
    assert r.status_code == 202
    small.wait("unit-a", [r.json()["submissions"][0]["id"]])


def test_login_next_is_local_only(small):
    c = small.client
    c.cookies.clear()
    import re
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"name": "unit-a", "password": "correct-horse-1", "csrf": csrf,
                               "next": "//evil.example/"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_markup_in_unit_names_is_escaped_on_the_board(small):
    from jixiao.server.accounts import add_user, issue_token

    with small.ctx.Session.begin() as db:
        add_user(db, "evil", "unit", "correct-horse-1", "<script>alert('u')</script>局")
        small.tokens["evil"] = issue_token(db, "evil")
    r = small.upload("evil", [("a.xlsx", workbook(14)[0])])
    small.wait("evil", [r.json()["submissions"][0]["id"]])
    c = small.client
    login(c, "reviewer")
    board = c.get(f"/rounds/{small.round_id}").text
    assert "<script>alert('u')" not in board and "&lt;script&gt;alert(&#39;u&#39;)&lt;/script&gt;局" in board
    html = c.get(f"/rounds/{small.round_id}/report.html").text
    assert "<script>alert('u')" not in html


def test_secure_cookies_behind_https(tmp_path):
    srv = make_server(tmp_path, None, secure_cookies=True, start_workers=False)
    r = srv.client.get("/login")
    assert "Secure" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
    assert r.headers["strict-transport-security"].startswith("max-age=")


def test_path_in_the_multipart_file_name_is_dropped(small):
    r = small.upload("unit-a", [("../../../etc/cron.d/自评表.xlsx", workbook(15)[0]),
                                ("..\\..\\windows\\项目表.xlsx", workbook(16)[0])])
    assert [s["file"] for s in r.json()["submissions"]] == ["自评表.xlsx", "项目表.xlsx"]
    small.wait("unit-a", [s["id"] for s in r.json()["submissions"]])


def test_upload_without_length_and_oversized_fields(small):
    def body():
        yield b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xlsx\"\r\n\r\n"
        yield b"PK" + b"\0" * 1000
        yield b"\r\n--x--\r\n"

    r = small.client.post("/api/v1/submissions", headers={**small.h("unit-a"),
                                                          "Content-Type": "multipart/form-data; boundary=x"},
                          content=body())
    # a chunked body has no length to check up front: it is read, bounded, and judged like any other
    assert r.status_code == 422 and r.json()["refused"][0]["code"] == "upload.not_workbook"
    r = small.client.post("/api/v1/submissions", headers=small.h("unit-a"), data={"round": "1" * 100_000},
                          files=[("file", ("a.xlsx", workbook(17)[0]))])
    assert r.status_code == 413 and r.json()["detail"] == "表单字段过多或过长"
