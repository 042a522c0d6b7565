"""Review (退回修改, 审核通过, 重新打开, a word per finding), a unit's 撤回 and 提交完毕, the accounts page and the
rounds API: against the running application with its workers, on SQLite and on a real PostgreSQL."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from .conftest import PASSWORD, csrf_of, login, workbook


pytestmark = pytest.mark.usefixtures("many_logins")


def new_round(server, **kw) -> dict:
    body = {"name": "复核批次", "year": 2024, "kinds": ["dept", "project"], **kw}
    r = server.client.post("/api/v1/rounds", headers=server.h("reviewer"), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def upload_checked(server, who: str, name: str, data: bytes, rid: int) -> dict:
    r = server.upload(who, [(name, data)], round=str(rid))
    assert r.status_code == 202, r.text
    return server.wait(who, [r.json()["submissions"][0]["id"]])[0]


def decide(server, sid: str, action: str, comment: str | None = None, who: str = "reviewer"):
    return server.client.post(f"/api/v1/submissions/{sid}/review", headers=server.h(who),
                              json={"action": action, **({"comment": comment} if comment else {})})


def set_deadline(server, rid: int, value: str) -> None:
    c = server.client
    login(c, "reviewer")
    r = c.post(f"/rounds/{rid}/deadline", data={"deadline": value, "csrf": csrf_of(c)}, follow_redirects=False)
    assert r.status_code == 303


def board_row(server, rid: int, unit: str) -> str:
    login(server.client, "reviewer")
    page = server.client.get(f"/rounds/{rid}").text
    row = next(tr for tr in page.split("<tr>") if f"<td>{unit}</td>" in tr)
    return row


def actions_logged(server, target: str) -> list[str]:
    from jixiao.server.db import Audit

    with server.ctx.Session() as db:
        return [a.action for a in db.scalars(select(Audit).where(Audit.target == target).order_by(Audit.id))]


def test_return_resubmit_after_the_deadline_approve_lock_and_reopen(server):
    rnd = new_round(server, deadline="2999-01-01T12:00")
    rid = rnd["id"]
    first = upload_checked(server, "unit-a", "甲-整体支出自评表.xlsx", workbook(41, "split")[0], rid)
    sid = first["id"]
    assert first["review"]["state"] == "待审核" and first["counts"]["error"] >= 1
    assert "待审核" in board_row(server, rid, "甲单位")

    # a return needs words for the unit; a unit cannot review
    assert decide(server, sid, "return").status_code == 422
    assert decide(server, sid, "approve", who="unit-a").status_code == 403
    comment = "分项之和与合计不符，请核对后重新提交"
    r = decide(server, sid, "return", comment)
    assert r.status_code == 200 and r.json()["state"] == "已退回", r.text
    assert decide(server, sid, "return", "again").status_code == 409  # already returned

    # the unit sees the comment in the API and on its pages
    seen = server.client.get(f"/api/v1/submissions/{sid}", headers=server.h("unit-a")).json()["review"]
    assert (seen["state"], seen["comment"], seen["by"], seen["late_upload_allowed"]) == ("已退回", comment, "reviewer", True)
    c = server.client
    login(c, "unit-a")
    mine = c.get(f"/rounds/{rid}/mine").text
    assert comment in mine and 'id="returned"' in mine and "已退回" in mine
    assert comment in c.get(f"/s/{sid}").text
    assert "已退回" in board_row(server, rid, "甲单位")
    listed = server.client.get(f"/api/v1/submissions?round={rid}", headers=server.h("unit-a")).json()["submissions"]
    assert [(s["id"], s["review_state"]) for s in listed] == [(sid, "已退回")]

    # past the deadline: only the returned file is taken again
    set_deadline(server, rid, "2000-01-01T12:00")
    r = server.upload("unit-a", [("甲-另一个文件.xlsx", workbook(42)[0]), ("甲-整体支出自评表.xlsx", workbook(41)[0])],
                      round=str(rid))
    assert r.status_code == 202, r.text
    body = r.json()
    assert [s["file"] for s in body["submissions"]] == ["甲-整体支出自评表.xlsx"]
    assert body["submissions"][0]["version"] == 2
    assert [(x["file"], x["code"]) for x in body["refused"]] == [("甲-另一个文件.xlsx", "round.past_deadline")]
    login(c, "unit-a")
    assert 'id="late-returned"' in c.get(f"/rounds/{rid}/mine").text  # the drop zone stays, with why
    v2 = server.wait("unit-a", [body["submissions"][0]["id"]])[0]
    assert v2["review"]["state"] == "待审核" and v2["review"]["late_upload_allowed"]
    assert "待审核" in board_row(server, rid, "甲单位")

    # approved: that version is locked
    assert decide(server, v2["id"], "approve").json()["state"] == "已通过"
    assert decide(server, sid, "approve").status_code == 409  # an earlier version is not reviewed
    assert "已通过" in board_row(server, rid, "甲单位")
    r = server.upload("unit-a", [("甲-整体支出自评表.xlsx", workbook(43)[0])], round=str(rid))
    assert r.status_code == 409 and "[round.past_deadline]" in r.json()["detail"]  # nothing returned any more
    set_deadline(server, rid, "")  # no deadline: the lock alone refuses it
    r = server.upload("unit-a", [("甲-整体支出自评表.xlsx", workbook(43)[0])], round=str(rid))
    assert r.status_code == 422 and r.json()["refused"][0]["code"] == "review.locked", r.text
    assert "重新打开" in r.json()["refused"][0]["reason"]
    r = server.client.post(f"/api/v1/submissions/{v2['id']}/withdraw", headers=server.h("unit-a"))
    assert r.status_code == 409 and "review.locked" in r.json()["detail"]

    # reopened: the unit may upload again
    assert decide(server, v2["id"], "reopen").json()["state"] == "待审核"
    v3 = upload_checked(server, "unit-a", "甲-整体支出自评表.xlsx", workbook(43)[0], rid)
    assert v3["version"] == 3
    assert actions_logged(server, sid) == ["submit", "review.return"]
    assert actions_logged(server, v2["id"]) == ["submit", "review.approve", "review.reopen"]

    # the reviewer's buttons follow the state, on the page
    login(c, "reviewer")
    page = c.get(f"/s/{v3['id']}").text
    assert 'id="review-return"' in page and 'id="review-approve"' in page and 'id="review-reopen"' not in page
    r = c.post(f"/s/{v3['id']}/review", data={"action": "approve", "comment": "", "csrf": "forged"})
    assert r.status_code == 403
    r = c.post(f"/s/{v3['id']}/review", data={"action": "approve", "comment": "", "csrf": csrf_of(c)},
               follow_redirects=False)
    assert r.status_code == 303
    assert 'id="review-reopen"' in c.get(f"/s/{v3['id']}").text


def test_the_reviewers_word_on_a_finding_is_seen_by_the_unit(server):
    rnd = new_round(server, name="逐条意见")
    sub = upload_checked(server, "unit-b", "乙-自评表.xlsx", workbook(44, "sum_row")[0], rnd["id"])
    f = next(x for x in sub["findings"] if x["severity"] == "error" and x["cell"])
    key = {"rule": f["rule"], "sheet": f["sheet"], "cell": f["cell"]}
    url = f"/api/v1/submissions/{sub['id']}/findings"
    r = server.client.post(url, headers=server.h("reviewer"), json={**key, "verdict": "reject"})
    assert r.status_code == 422 and "[review.reason_required]" in r.json()["detail"]
    r = server.client.post(url, headers=server.h("reviewer"), json={**key, "cell": "ZZ999", "verdict": "agree"})
    assert r.status_code == 404 and "[review.no_finding]" in r.json()["detail"]
    assert server.client.post(url, headers=server.h("unit-b"), json={**key, "verdict": "agree"}).status_code == 403
    reason = "该项目年中调整了预算，合计以调整后为准"
    r = server.client.post(url, headers=server.h("reviewer"), json={**key, "verdict": "reject", "reason": reason})
    assert r.status_code == 200, r.text
    words = server.client.get(f"/api/v1/submissions/{sub['id']}", headers=server.h("unit-b")).json()["finding_reviews"]
    assert [(w["rule"], w["cell"], w["verdict"], w["verdict_zh"], w["reason"]) for w in words] == [
        (f["rule"], f["cell"], "reject", "不采纳", reason)]
    c = server.client
    login(c, "unit-b")
    page = c.get(f"/s/{sub['id']}").text
    row = next(tr for tr in page.split("<tr") if f'<td class="cell">{f["cell"]}</td>' in tr)
    assert "不采纳" in row and reason in row and "word-form" not in page  # the unit reads, does not edit
    # the page's form replaces the word (the audit log keeps both)
    login(c, "reviewer")
    r = c.post(f"/s/{sub['id']}/finding", data={**key, "verdict": "agree", "reason": "", "csrf": csrf_of(c)},
               follow_redirects=False)
    assert r.status_code == 303
    words = server.client.get(f"/api/v1/submissions/{sub['id']}", headers=server.h("unit-b")).json()["finding_reviews"]
    assert [(w["verdict"], w["reason"]) for w in words] == [("agree", None)]
    assert actions_logged(server, sub["id"]).count("review.finding") == 2


def test_withdraw_and_complete(server):
    rnd = new_round(server, name="撤回与提交完毕")
    rid = rnd["id"]
    keep = upload_checked(server, "unit-b", "乙-整体.xlsx", workbook(45)[0], rid)
    gone = upload_checked(server, "unit-b", "乙-交错了.xlsx", workbook(46)[0], rid)
    c = server.client
    login(c, "unit-b")
    r = c.post(f"/rounds/{rid}/complete", data={"csrf": csrf_of(c)}, follow_redirects=False)
    assert r.status_code == 303
    assert "提交完毕" in board_row(server, rid, "乙单位")
    # another unit cannot withdraw it; the owner can, from the page
    assert server.client.post(f"/api/v1/submissions/{gone['id']}/withdraw", headers=server.h("unit-a")).status_code == 404
    login(c, "unit-b")
    assert 'id="withdraw"' in c.get(f"/s/{gone['id']}").text
    r = c.post(f"/s/{gone['id']}/withdraw", data={"csrf": csrf_of(c)}, follow_redirects=False)
    assert r.status_code == 303
    assert actions_logged(server, gone["id"]) == ["submit", "submission.withdraw"]
    got = server.client.get(f"/api/v1/submissions/{gone['id']}", headers=server.h("unit-b")).json()
    assert got["withdrawn_at"] is not None
    mine = c.get(f"/rounds/{rid}/mine").text
    latest = mine.split('id="latest"', 1)[1].split("</table>", 1)[0]
    assert "乙-整体.xlsx" in latest and "乙-交错了.xlsx" not in latest
    assert "已撤回" in mine  # in the history
    assert "已撤回" in c.get(f"/s/{gone['id']}").text
    # the withdrawal took back 提交完毕; the board counts one file
    row = board_row(server, rid, "乙单位")
    assert "提交完毕" not in row and '<td class="n">1</td>' in row
    assert server.client.post(f"/api/v1/submissions/{gone['id']}/withdraw",
                              headers=server.h("unit-b")).status_code == 409  # not twice
    assert keep["review"]["state"] == "待审核"
    r = server.client.post(f"/api/v1/rounds/{rid}/complete", headers=server.h("unit-b"))
    assert r.status_code == 200 and "提交完毕" in board_row(server, rid, "乙单位")
    upload_checked(server, "unit-b", "乙-整体.xlsx", workbook(47)[0], rid)  # a new version takes it back
    assert "提交完毕" not in board_row(server, rid, "乙单位")
    # each taking back is in the audit log: the withdrawal's, then the upload's, said by the unit's user
    from jixiao.server.db import Audit

    with server.ctx.Session() as db:
        lines = db.scalars(select(Audit).where(Audit.target == f"round {rid}", Audit.action == "round.incomplete")
                           .order_by(Audit.id)).all()
        assert [(a.user_name, a.detail) for a in lines][-1] == ("unit-b", "upload") and len(lines) == 2
    upload_checked(server, "unit-b", "乙-整体.xlsx", workbook(48)[0], rid)  # nothing to take back: no line
    assert actions_logged(server, f"round {rid}").count("round.incomplete") == 2


def test_a_version_being_checked_lists_no_old_error_as_fixed(server):
    from jixiao.server.db import Submission

    rnd = new_round(server, name="比较")
    v1 = upload_checked(server, "unit-a", "比较.xlsx", workbook(48, "split")[0], rnd["id"])
    v2 = upload_checked(server, "unit-a", "比较.xlsx", workbook(48, "wrong_budget")[0], rnd["id"])
    assert v1["counts"]["error"] and v2["version"] == 2
    c = server.client
    login(c, "unit-a")
    assert "已改正（" in c.get(f"/s/{v2['id']}").text  # checked: the comparison is there
    with server.ctx.Session.begin() as db:  # as the page sees it while the worker has the new version
        s = db.scalar(select(Submission).where(Submission.public_id == v2["id"]))
        status, s.status = s.status, "checking"
    try:
        page = c.get(f"/s/{v2['id']}").text
        assert "已改正（" not in page and "仍存在（" not in page and 'id="compare-pending"' in page
    finally:
        with server.ctx.Session.begin() as db:
            db.scalar(select(Submission).where(Submission.public_id == v2["id"])).status = status


def test_accounts_page_adds_resets_and_deactivates(server):
    from fastapi.testclient import TestClient

    from jixiao.server.accounts import issue_token
    from jixiao.server.db import Audit

    c = server.client
    login(c, "unit-a")
    assert c.get("/accounts").status_code == 403
    login(c, "reviewer")
    page = c.get("/accounts").text
    assert "甲单位" in page and "新增填报单位账号" in page
    r = c.post("/accounts", data={"name": "戊-填报员", "unit": "戊单位", "csrf": "forged"})
    assert r.status_code == 403
    r = c.post("/accounts", data={"name": "戊-填报员", "unit": "戊单位", "csrf": csrf_of(c, "/accounts")})
    assert r.status_code == 200
    first = re.search(r'id="password-once">([^<]+)<', r.text).group(1)
    assert len(first) == 12
    assert first not in c.get("/accounts").text  # shown once
    r = c.post("/accounts", data={"name": "戊-填报员", "unit": "戊单位", "csrf": csrf_of(c, "/accounts")})
    assert r.status_code == 422 and "已存在" in r.text

    unit = TestClient(server.app)
    assert login(unit, "戊-填报员", first).status_code == 303
    assert unit.get("/rounds", follow_redirects=False).status_code == 200
    with server.ctx.Session.begin() as db:
        token = issue_token(db, "戊-填报员")
    h = {"Authorization": f"Bearer {token}"}
    assert server.client.get("/api/v1/rounds", headers=h).status_code == 200  # now in the token cache

    uid = re.search(r'<tr data-name="戊-填报员">.*?action="/accounts/(\d+)/password"', c.get("/accounts").text, re.S).group(1)
    r = c.post(f"/accounts/{uid}/password", data={"csrf": csrf_of(c, "/accounts")})
    second = re.search(r'id="password-once">([^<]+)<', r.text).group(1)
    assert second != first
    assert unit.get("/rounds", follow_redirects=False).status_code == 303  # the old session ended
    assert server.client.get("/api/v1/rounds", headers=h).status_code == 401  # the token too, at once
    assert login(unit, "戊-填报员", first).status_code == 401
    assert login(unit, "戊-填报员", second).status_code == 303

    with server.ctx.Session.begin() as db:
        token = issue_token(db, "戊-填报员")
    h = {"Authorization": f"Bearer {token}"}
    assert server.client.get("/api/v1/rounds", headers=h).status_code == 200
    before = unit.cookies.get("jx_session")
    login(c, "reviewer")
    r = c.post(f"/accounts/{uid}/active", data={"active": "0", "csrf": csrf_of(c, "/accounts")}, follow_redirects=False)
    assert r.status_code == 303
    assert "已停用" in c.get("/accounts").text
    assert unit.get("/rounds", follow_redirects=False).status_code == 303
    assert server.client.get("/api/v1/rounds", headers=h).status_code == 401
    assert login(unit, "戊-填报员", second).status_code == 401
    r = c.post(f"/accounts/{uid}/active", data={"active": "1", "csrf": csrf_of(c, "/accounts")}, follow_redirects=False)
    unit.cookies.set("jx_session", before)
    assert unit.get("/rounds", follow_redirects=False).status_code == 303  # reactivation revives no old session
    assert login(unit, "戊-填报员", second).status_code == 303
    assert server.client.get("/api/v1/rounds", headers=h).status_code == 401  # deactivation's tokens stay dead

    # a reviewer's own account is not managed here
    login(c, "reviewer")
    rid_ = re.search(r'<tr data-name="reviewer">', c.get("/accounts").text)
    assert rid_ and 'action="/accounts/' not in c.get("/accounts").text.split('<tr data-name="reviewer">')[1].split("</tr>")[0]
    with server.ctx.Session() as db:
        rows = db.scalars(select(Audit).where(Audit.target == "戊-填报员")).all()
        assert {a.action for a in rows} >= {"user.add", "user.password", "user.deactivate", "user.activate"}
        assert all(a.user_name == "reviewer" for a in rows if a.action.startswith("user."))
        assert not any(first in (a.detail or "") or second in (a.detail or "") for a in db.scalars(select(Audit)))


def test_rounds_api_create_list_get_close(server):
    c = server.client
    r = c.post("/api/v1/rounds", headers=server.h("unit-a"), json={"name": "x", "year": 2024, "kinds": ["dept"]})
    assert r.status_code == 403
    r = c.post("/api/v1/rounds", headers=server.h("reviewer"), json={"name": "", "year": "20x", "kinds": ["nope"]})
    assert r.status_code == 422 and "年度" in r.json()["detail"] and "[round.invalid]" in r.json()["detail"]
    assert c.post("/api/v1/rounds", headers=server.h("reviewer"), json=[1]).status_code == 422
    made = new_round(server, name="脚本设立的批次", kinds=["project"], profile="national-2020",
                     deadline="2030-01-01T08:00")
    assert made["deadline"] == "2030-01-01T00:00:00+00:00"  # no offset: Beijing time
    assert (made["name"], made["kinds"], made["state"], made["closed_at"]) == ("脚本设立的批次", ["project"], "open", None)
    other = new_round(server, name="带时区", deadline="2030-01-01T08:00:00+00:00")
    assert other["deadline"] == "2030-01-01T08:00:00+00:00"
    listed = c.get("/api/v1/rounds", headers=server.h("unit-a")).json()["rounds"]
    assert [x["id"] for x in listed][:2] == [other["id"], made["id"]]
    assert c.get(f"/api/v1/rounds/{made['id']}", headers=server.h("unit-a")).json() == made
    assert c.get("/api/v1/rounds/999999", headers=server.h("unit-a")).status_code == 404

    assert upload_checked(server, "unit-a", "脚本.xlsx", workbook(49)[0], made["id"])["version"] == 1
    assert c.post(f"/api/v1/rounds/{made['id']}/close", headers=server.h("unit-a")).status_code == 403
    login(c, "reviewer")  # the page's cookie without its CSRF header is refused
    assert c.post(f"/api/v1/rounds/{made['id']}/close").status_code == 403
    c.cookies.clear()
    r = c.post(f"/api/v1/rounds/{made['id']}/close", headers=server.h("reviewer"))
    assert r.status_code == 200 and r.json()["state"] == "closed" and r.json()["closed_at"]
    again = c.post(f"/api/v1/rounds/{made['id']}/close", headers=server.h("reviewer")).json()
    assert again["closed_at"] == r.json()["closed_at"]
    r = server.upload("unit-a", [("脚本.xlsx", workbook(49)[0])], round=str(made["id"]))
    assert r.status_code == 409 and "[round.closed]" in r.json()["detail"]
    assert actions_logged(server, f"{made['id']} 脚本设立的批次") == ["round.create", "round.close"]
    login(c, "reviewer")
    assert "已关闭" in c.get("/rounds").text and 'id="round-closed"' in c.get(f"/rounds/{made['id']}").text
    login(c, "unit-a")
    assert "本批次已关闭" in c.get(f"/rounds/{made['id']}/mine").text
    page = c.get("/docs").text
    for path in ("/api/v1/rounds/{rid}/close", "/api/v1/submissions/{pid}/review", "/api/v1/submissions/{pid}/withdraw"):
        assert path in page, path
    assert PASSWORD  # the fixture's users sign in with it


def test_the_command_line_deactivates_too(tmp_path):
    from jixiao.server.db import ApiToken, User, make_engine, sessions

    from .live import add_unit_user, jixiao

    add_unit_user(tmp_path, "庚")
    r = jixiao("users", "deactivate", "庚", "--data", str(tmp_path))
    assert r.returncode == 0 and "已停用 庚" in r.stdout
    assert "已停用" in jixiao("users", "list", "--data", str(tmp_path)).stdout
    engine = make_engine(f"sqlite:///{tmp_path / 'jixiao.db'}")
    with sessions(engine)() as db:
        user = db.scalar(select(User).where(User.name == "庚"))
        assert not user.active and user.session_epoch == 1
        assert db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all() == []
    engine.dispose()
    assert jixiao("users", "activate", "庚", "--data", str(tmp_path)).returncode == 0
    r = jixiao("users", "deactivate", "没有这个人", "--data", str(tmp_path))
    assert r.returncode == 2 and "没有用户" in r.stderr


def test_deactivation_on_a_real_server_ends_the_token_at_once(tmp_path):
    """A running `jixiao serve` on loopback: the token a script just used stops with the click, not 30 s later."""
    import httpx

    from .live import Live, add_unit_user, jixiao

    token = add_unit_user(tmp_path, "辛")
    r = jixiao("users", "add", "审核", "--role", "bureau", "--password-stdin", "--data", str(tmp_path), stdin=PASSWORD)
    assert r.returncode == 0, r.stderr
    with Live(tmp_path, "--workers", "1") as live, httpx.Client(base_url=live.url) as web:
        h = {"Authorization": f"Bearer {token}"}
        assert httpx.get(live.url + "/api/v1/rounds", headers=h).status_code == 200  # cached by the server now
        csrf = re.search(r'name="csrf" value="([^"]+)"', web.get("/login").text).group(1)
        assert web.post("/login", data={"name": "审核", "password": PASSWORD, "csrf": csrf, "next": "/"}).status_code == 303
        page = web.get("/accounts").text
        uid = re.search(r'<tr data-name="辛">.*?action="/accounts/(\d+)/active"', page, re.S).group(1)
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        assert web.post(f"/accounts/{uid}/active", data={"active": "0", "csrf": csrf}).status_code == 303
        assert httpx.get(live.url + "/api/v1/rounds", headers=h).status_code == 401
        assert "user.deactivate" in web.get("/audit").text
