"""The API and the pages' rights, against SQLite and a real PostgreSQL (the ``server`` fixture's params)."""
from __future__ import annotations

import re
import hashlib
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from jixiao.checking import batch, report

from .conftest import PASSWORD, csrf_of, login, workbook


def _comparable(findings: list[dict]) -> list[tuple]:
    return sorted((f["file"], f["sheet"], f["cell"], f["rule"], f["severity"], f["message"], str(f["expected"]),
                   str(f["found"])) for f in findings)


@pytest.fixture(scope="module")
def two(server):
    """Unit A submits two workbooks, unit B one; all checked."""
    a1, exp1 = workbook(11, "split")
    a2, exp2 = workbook(12, "wrong_budget", "bureau")
    b1, _ = workbook(13, "sum_row")
    ra = server.upload("unit-a", [("甲-部门自评表.xlsx", a1), ("甲-官方格式.xlsx", a2)])
    rb = server.upload("unit-b", [("乙-自评表.xlsx", b1)])
    assert ra.status_code == 202 and rb.status_code == 202, (ra.text, rb.text)
    ids_a = [s["id"] for s in ra.json()["submissions"]]
    ids_b = [s["id"] for s in rb.json()["submissions"]]
    got_a = server.wait("unit-a", ids_a)
    got_b = server.wait("unit-b", ids_b)
    return {"a": got_a, "b": got_b, "bytes": {"甲-部门自评表.xlsx": a1, "甲-官方格式.xlsx": a2, "乙-自评表.xlsx": b1},
            "expected": {"甲-部门自评表.xlsx": exp1, "甲-官方格式.xlsx": exp2}}


def test_health_and_ready(server):
    assert server.client.get("/healthz").json() == {"status": "ok"}
    r = server.client.get("/readyz")
    assert r.status_code == 200 and r.json() == {"database": "ok", "workers": "ok", "status": "ready"}


def test_anonymous_gets_401_everywhere(server, two):
    c = server.client
    c.cookies.clear()
    sid = two["a"][0]["id"]
    for method, path in [("GET", "/api/v1/submissions"), ("GET", f"/api/v1/submissions/{sid}"),
                         ("GET", "/api/v1/rounds"), ("POST", "/api/v1/submissions"), ("POST", "/api/v1/check")]:
        r = c.request(method, path, files=[("file", ("x.xlsx", b"PK"))] if method == "POST" else None)
        assert r.status_code == 401, (method, path, r.text)
        assert r.json()["detail"] == "未登录或令牌无效"
        assert r.headers["www-authenticate"] == "Bearer"
    r = c.get("/api/v1/submissions", headers={"Authorization": "Bearer jx_not-a-token"})
    assert r.status_code == 401
    for path in ["/rounds", f"/s/{sid}", f"/s/{sid}/file", f"/s/{sid}/marked.xlsx", f"/rounds/{server.round_id}",
                 f"/rounds/{server.round_id}/report.xlsx", "/units", "/audit"]:
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path


def test_findings_are_the_check_json_schema(server, two):
    """The API's findings are what ``jixiao check --json`` says about the same bytes."""
    for sub in two["a"]:
        name = sub["file"]
        data = two["bytes"][name]
        cli = report.to_json(batch.run([batch.Source(name, data=data)]))
        assert _comparable(sub["findings"]) == _comparable(cli["findings"])
        assert set(sub["findings"][0]) == set(cli["findings"][0])
        assert sub["result"]["counts"] == cli["files"][0]["counts"]
        want = {(e["rule"], e["cell"]) for e in two["expected"][name]}
        assert want <= {(f["rule"], f["cell"]) for f in sub["findings"]}
        assert sub["status"] == "checked" and sub["verdict"] == "error"


def test_unit_cannot_see_list_or_download_another_units(server, two):
    c = server.client
    b_id = two["b"][0]["id"]
    r = c.get(f"/api/v1/submissions/{b_id}", headers=server.h("unit-a"))
    missing = c.get("/api/v1/submissions/0123456789abcdef0123", headers=server.h("unit-a"))
    assert r.status_code == missing.status_code == 404
    assert r.json() == missing.json() == {"detail": "没有这个提交"}  # nothing tells that it exists
    listed = c.get("/api/v1/submissions", headers=server.h("unit-a")).json()
    assert {s["unit"] for s in listed["submissions"]} == {"甲单位"}
    assert b_id not in {s["id"] for s in listed["submissions"]}
    assert login(c, "unit-a").status_code == 303
    for path in [f"/s/{b_id}", f"/s/{b_id}/file", f"/s/{b_id}/marked.xlsx"]:
        assert c.get(path).status_code == 404, path
    assert c.get(f"/s/{two['a'][0]['id']}").status_code == 200
    # a unit is not a reviewer
    for path in [f"/rounds/{server.round_id}/report.xlsx", f"/rounds/{server.round_id}/report.html", "/units", "/audit"]:
        assert c.get(path).status_code == 403, path
    assert c.get(f"/rounds/{server.round_id}", follow_redirects=False).headers["location"].endswith("/mine")


def test_reviewer_sees_all_and_cannot_submit(server, two):
    c = server.client
    listed = c.get("/api/v1/submissions", headers=server.h("reviewer")).json()
    ids = {s["id"] for s in listed["submissions"]}
    assert {s["id"] for s in two["a"] + two["b"]} <= ids
    for s in two["a"] + two["b"]:
        assert c.get(f"/api/v1/submissions/{s['id']}", headers=server.h("reviewer")).status_code == 200
    r = server.upload("reviewer", [("x.xlsx", two["bytes"]["乙-自评表.xlsx"])])
    assert r.status_code == 403 and "填报单位" in r.json()["detail"]
    rounds = c.get("/api/v1/rounds", headers=server.h("reviewer")).json()["rounds"]
    assert rounds[0]["id"] == server.round_id
    filtered = c.get(f"/api/v1/submissions?round={server.round_id}&status=checked&limit=2",
                     headers=server.h("reviewer")).json()
    assert len(filtered["submissions"]) == 2 and filtered["total"] >= 3


def test_stateless_check(server, two):
    data = two["bytes"]["甲-部门自评表.xlsx"]
    r = server.client.post("/api/v1/check", headers=server.h("unit-b"), files=[("file", ("a.xlsx", data))])
    assert r.status_code == 200
    body = r.json()
    cli = report.to_json(batch.run([batch.Source("a.xlsx", data=data)]))
    assert set(body) == set(cli) | {"refused"}
    assert _comparable(body["findings"]) == _comparable(cli["findings"])
    assert body["summary"] == cli["summary"]
    # nothing was stored
    listed = server.client.get("/api/v1/submissions", headers=server.h("unit-b")).json()
    assert "a.xlsx" not in {s["file"] for s in listed["submissions"]}
    r = server.client.post("/api/v1/check", headers=server.h("unit-b"), files=[("file", ("a.xlsx", data))],
                           data={"profile": "/etc/passwd"})
    assert r.status_code == 422 and "规则配置" in r.json()["detail"]


def test_versions_and_what_changed(server, two):
    fixed, _ = workbook(11, None)  # the same unit's workbook, mistake corrected
    r = server.upload("unit-a", [("甲-部门自评表.xlsx", fixed)])
    new = r.json()["submissions"][0]
    assert new["version"] == 2
    got = server.wait("unit-a", [new["id"]])[0]
    assert got["verdict"] in ("pass", "warning")
    c = server.client
    login(c, "unit-a")
    page = c.get(f"/s/{new['id']}").text
    assert "与第 1 版相比" in page and "已改正（1）" in page and "分项之和与合计不符" in page
    assert "改动的单元格" in page
    # the first version is still there, unchanged
    first = two["a"][0]
    assert c.get(f"/s/{first['id']}/file").content == two["bytes"]["甲-部门自评表.xlsx"]


def test_marked_copy_leaves_upload_untouched(server, two):
    c = server.client
    login(c, "unit-a")
    sub = two["a"][0]
    blob = server.ctx.store.path(sub["sha256"])
    before = hashlib.sha256(blob.read_bytes()).hexdigest()
    r = c.get(f"/s/{sub['id']}/marked.xlsx")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[0] == "检查结果"
    for f in sub["findings"]:
        if f["sheet"] and f["cell"]:
            cell = wb[f["sheet"]][f["cell"]]
            assert cell.comment is not None and f["message"] in cell.comment.text
            assert cell.fill.fgColor.rgb.endswith(("F8C4C0", "FCE8B2", "D6E6F5"))
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == before == sub["sha256"]


def test_board_reports_and_audit(server, two):
    c = server.client
    assert login(c, "reviewer").status_code == 303
    board = c.get(f"/rounds/{server.round_id}").text
    assert "丙单位" in board and "未提交" in board and "甲单位" in board
    only = c.get(f"/rounds/{server.round_id}", params={"status": "未提交"}).text
    assert "丙单位" in only and "乙单位" not in only
    assert "乙单位" in c.get(f"/rounds/{server.round_id}", params={"q": "乙"}).text
    import re
    uid = re.search(rf'href="/rounds/{server.round_id}/units/(\d+)">查看</a>', board).group(1)
    unit_page = c.get(f"/rounds/{server.round_id}/units/{uid}").text
    assert "查看问题" in unit_page and 'id="drop"' not in unit_page  # reviewers look, units upload
    assert c.get(f"/rounds/{server.round_id}/units/999999").status_code == 404
    x = c.get(f"/rounds/{server.round_id}/report.xlsx")
    assert x.status_code == 200
    wb = load_workbook(io.BytesIO(x.content))
    sheet = wb.worksheets[0]
    text = " ".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row if v)
    assert "乙单位/乙-自评表.xlsx" in text
    h = c.get(f"/rounds/{server.round_id}/report.html")
    assert h.status_code == 200 and "<svg" in h.text and "乙单位/乙-自评表.xlsx" in h.text
    assert "attachment" in h.headers["content-disposition"]
    # same bytes as the library's writer on the same results (the one `jixiao check --html` calls), bar the clock
    from jixiao.server.app import _local  # noqa: F401
    audit = c.get("/audit").text
    for action in ("submit", "download.report_xlsx", "download.report_html", "login"):
        assert action in audit


def test_reports_equal_the_cli_reports(server, two, tmp_path):
    """The downloads are `jixiao check --report/--html` on the latest versions, named 单位/文件."""
    from jixiao.server import work
    from jixiao.server.db import Submission

    c = server.client
    login(c, "reviewer")
    with server.ctx.Session() as db:
        subs = db.scalars(select(Submission).where(Submission.round_id == server.round_id)).all()
        latest = {}
        for s in subs:
            if (s.unit_id, s.slot) not in latest or s.version > latest[(s.unit_id, s.slot)].version:
                latest[(s.unit_id, s.slot)] = s
        sources = [batch.Source(f"{s.unit.name}/{s.filename}", data=server.ctx.store.get(s.sha256))
                   for s in sorted(latest.values(), key=lambda s: (s.unit.name, s.filename))]
    results = batch.run(sources)
    html_cli = report.render_html(results)
    html_srv = c.get(f"/rounds/{server.round_id}/report.html").text

    def strip(t: str) -> str:
        import re
        return re.sub(r"生成于 [0-9-]+ [0-9:]+", "", t)

    assert strip(html_srv) == strip(html_cli)
    cli_x = load_workbook(report.write_xlsx(results, tmp_path / "r.xlsx"))
    srv_x = load_workbook(io.BytesIO(c.get(f"/rounds/{server.round_id}/report.xlsx").content))
    assert cli_x.sheetnames == srv_x.sheetnames
    for name in cli_x.sheetnames:
        rows_c = [r for r in cli_x[name].iter_rows(values_only=True)]
        rows_s = [r for r in srv_x[name].iter_rows(values_only=True)]
        assert len(rows_c) == len(rows_s)
        skip = {i for i, v in enumerate(rows_c[0] or ()) if v in ("用时（秒）", "秒", "seconds")}
        for a, b in zip(rows_c, rows_s):
            a = tuple(v for i, v in enumerate(a) if i not in skip and not str(v).startswith("jixiao"))
            b = tuple(v for i, v in enumerate(b) if i not in skip and not str(v).startswith("jixiao"))
            assert a == b
    assert work  # imported for the reader


def test_csrf_on_forms_and_cookie_api(server, two):
    c = server.client
    login(c, "reviewer")
    r = c.post("/rounds", data={"name": "x", "year": "2024", "kinds": "dept", "csrf": "forged"})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = c.post("/rounds", data={"name": "x", "year": "2024", "kinds": "dept"})
    assert r.status_code == 403
    c.cookies.clear()
    r = c.post("/login", data={"name": "reviewer", "password": PASSWORD})
    assert r.status_code == 403
    login(c, "unit-a")
    data = two["bytes"]["甲-部门自评表.xlsx"]
    r = c.post("/api/v1/submissions", files=[("file", ("c.xlsx", data))])  # cookie, no X-CSRF-Token
    assert r.status_code == 403
    r = c.post("/api/v1/submissions", files=[("file", ("c.xlsx", data))],
               headers={"X-CSRF-Token": csrf_of(c)}, data={"round": str(server.round_id)})
    assert r.status_code == 202
    r = c.post("/logout", data={"csrf": "forged"})
    assert r.status_code == 403


def test_create_round_through_the_page(server, two):
    c = server.client
    login(c, "reviewer")
    token = csrf_of(c)
    r = c.post("/rounds", data={"name": "<script>alert(1)</script>项目自评", "year": "2025", "kinds": ["project"],
                                "profile": "national-2020", "deadline": "2000-01-01T12:00", "csrf": token},
               follow_redirects=False)
    assert r.status_code == 303
    rid = int(r.headers["location"].rsplit("/", 1)[1])
    page = c.get("/rounds").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;项目自评" in page and "<script>alert(1)" not in page
    # past its deadline: units cannot submit to it
    r = server.upload("unit-a", [("late.xlsx", workbook(1)[0])], round=str(rid))
    assert r.status_code == 409 and "截止" in r.json()["detail"]
    # a department form in a round of project forms is pointed out
    from jixiao.server.db import Round
    with server.ctx.Session.begin() as db:
        db.get(Round, server.round_id).kinds = "project"
    login(c, "unit-a")
    sid = two["a"][0]["id"]
    assert "请确认是否交错了表" in c.get(f"/s/{sid}").text
    with server.ctx.Session.begin() as db:
        db.get(Round, server.round_id).kinds = "dept,project"
    login(c, "reviewer")
    # the reviewer moves the deadline: the unit can submit again
    r = c.post(f"/rounds/{rid}/deadline", data={"deadline": "2999-01-01T12:00", "csrf": csrf_of(c)},
               follow_redirects=False)
    assert r.status_code == 303
    r = server.upload("unit-a", [("late.xlsx", workbook(1)[0])], round=str(rid))
    assert r.status_code == 202
    assert "round.deadline" in c.get("/audit").text and "2999-01-01 12:00" in c.get("/rounds").text
    login(c, "unit-a")
    assert c.post(f"/rounds/{rid}/deadline", data={"deadline": "", "csrf": csrf_of(c)}).status_code == 403
    login(c, "reviewer")
    r = c.post("/rounds", data={"name": "", "year": "20x", "csrf": csrf_of(c)})
    assert r.status_code == 422 and "年度" in r.json()["detail"]


def test_login_rate_limit(server):
    c = server.client
    for _ in range(5):
        assert login(c, "unit-b", "wrong-password").status_code == 401
    r = login(c, "unit-b")  # the right password, too late
    assert r.status_code == 429 and "登录尝试过多" in r.text
    server.ctx.limiter.clear("addr:testclient", "name:unit-b|addr:testclient")


def test_secrets_are_stored_hashed(server):
    from jixiao.server.db import ApiToken, User

    with server.ctx.Session() as db:
        hashes = [t.token_hash for t in db.scalars(select(ApiToken))]
        users = db.scalars(select(User)).all()
    assert all(len(h) == 64 for h in hashes)
    assert not set(server.tokens.values()) & set(hashes)
    assert all(u.password_hash.startswith("$argon2id$") for u in users)


def test_security_headers_and_cookie(server):
    c = server.client
    c.cookies.clear()
    r = c.get("/login")
    h = r.headers
    assert "frame-ancestors 'self'" in h["content-security-policy"] and "script-src 'self'" in h["content-security-policy"]
    assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "SAMEORIGIN"
    cookie = h["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    r = login(c, "reviewer")
    assert "jx_session" in r.headers["set-cookie"]
    # a tampered cookie is no session
    value = c.cookies.get("jx_session")
    c.cookies.set("jx_session", value[:-3] + "abc")
    assert c.get("/rounds", follow_redirects=False).status_code == 303


def test_units_import_from_xlsx(server):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["序号", "单位名称", "单位编码"])
    ws.append([1, "丁单位", "101"])
    ws.append([2, "甲单位", "102"])
    ws.append([3, "<img src=x onerror=alert(1)>局", "103"])
    buf = io.BytesIO()
    wb.save(buf)
    c = server.client
    login(c, "reviewer")
    r = c.post("/units/import", data={"csrf": csrf_of(c, "/units")},
               files=[("file", ("单位.xlsx", buf.getvalue()))])
    assert r.status_code == 200 and "新增 2 个单位，已有 1 个" in r.text
    assert "&lt;img src=x onerror=alert(1)&gt;局" in r.text and "<img src=x" not in r.text
    assert "丁单位" in c.get(f"/rounds/{server.round_id}").text


def test_openapi_and_docs_page(server):
    spec = server.client.get("/openapi.json").json()
    for path in ("/healthz", "/readyz", "/api/v1/submissions", "/api/v1/submissions/{pid}", "/api/v1/check"):
        assert path in spec["paths"], path
    body = spec["paths"]["/api/v1/submissions"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert "file" in body["schema"]["properties"]
    page = server.client.get("/docs").text
    assert "/api/v1/check" in page and "Bearer" in page


def test_round_choice_and_missing_file(server, two):
    r = server.client.post("/api/v1/submissions", headers=server.h("unit-a"), data={"round": "999999"},
                           files=[("file", ("a.xlsx", two["bytes"]["甲-部门自评表.xlsx"]))])
    assert r.status_code == 404 and r.json()["detail"] == "没有这个批次"
    r = server.client.post("/api/v1/submissions", headers=server.h("unit-a"), data={"round": "1"})
    assert r.status_code in (400, 422)


def test_logout_ends_every_session_of_the_user(server):
    from fastapi.testclient import TestClient

    first, second = server.client, TestClient(server.app)
    login(first, "unit-b")
    login(second, "unit-b")
    stolen = second.cookies.get("jx_session")
    assert first.get("/rounds", follow_redirects=False).status_code == 200
    r = first.post("/logout", data={"csrf": csrf_of(first)}, follow_redirects=False)
    assert r.status_code == 303
    second.cookies.set("jx_session", stolen)
    assert second.get("/rounds", follow_redirects=False).status_code == 303  # the copied cookie is dead too
    assert login(first, "unit-b").status_code == 303
    assert first.get("/rounds", follow_redirects=False).status_code == 200


def test_a_reviewer_rechecks_a_file(server):
    sid = server.upload("unit-a", [("重查.xlsx", workbook(21, "split")[0])]).json()["submissions"][0]["id"]
    first = server.wait("unit-a", [sid])[0]
    assert server.client.post(f"/api/v1/submissions/{sid}/recheck", headers=server.h("unit-a")).status_code == 403
    r = server.client.post(f"/api/v1/submissions/{sid}/recheck", headers=server.h("reviewer"))
    assert r.status_code == 202 and r.json()["status"] == "queued"
    again = server.wait("reviewer", [sid])[0]
    assert again["checked_at"] > first["checked_at"] and again["findings"] == first["findings"]
    c = server.client
    login(c, "reviewer")
    page = c.get(f"/s/{sid}").text
    assert 'id="recheck"' in page and "重新检查" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert c.post(f"/s/{sid}/recheck", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    server.wait("reviewer", [sid])
    with server.ctx.Session() as db:
        from sqlalchemy import select

        from jixiao.server.db import Audit
        assert len(db.scalars(select(Audit).where(Audit.action == "recheck", Audit.target == sid)).all()) == 2


def test_numbers_beyond_64_bit_are_refused_not_crashed(server):
    huge = str(2**70)
    for q in (f"offset={huge}", f"round={huge}", "offset=-1"):
        r = server.client.get(f"/api/v1/submissions?{q}", headers=server.h("reviewer"))
        assert r.status_code == 400 and "超出范围" in r.json()["detail"], (q, r.status_code)
    r = server.upload("unit-a", [("a.xlsx", workbook(1)[0])], round=huge)
    assert r.status_code == 404 and "批次" in r.json()["detail"]
    login(server.client, "reviewer")
    assert server.client.get(f"/rounds/{huge}").status_code == 404


def test_the_sqlite_file_is_readable_by_its_owner_only(tmp_path):
    import stat

    from jixiao.server.db import make_engine, migrate

    url = f"sqlite:///{tmp_path / 'jixiao.db'}"
    migrate(url)
    make_engine(url).dispose()
    assert stat.S_IMODE((tmp_path / "jixiao.db").stat().st_mode) == 0o600


def test_tokens_end_with_a_new_password_and_can_be_revoked(tmp_path):
    from jixiao.server.accounts import issue_token, revoke_tokens, set_password

    from .conftest import make_server

    srv = make_server(tmp_path, None, start_workers=False)
    with srv.client:
        with srv.ctx.Session.begin() as db:
            old = issue_token(db, "unit-b")
            set_password(db, "unit-b", "another-password-2")
            kept = issue_token(db, "unit-b")
        h = {"Authorization": f"Bearer {old}"}
        assert srv.client.get("/api/v1/rounds", headers=h).status_code == 401
        assert srv.client.get("/api/v1/rounds", headers={"Authorization": f"Bearer {kept}"}).status_code == 200
        with srv.ctx.Session.begin() as db:
            assert revoke_tokens(db, "unit-a") == 1
        assert srv.client.get("/api/v1/rounds", headers=srv.h("unit-a")).status_code == 401
