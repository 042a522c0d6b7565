"""抽查复核 and 工作考核 in the server, on SQLite and on a real PostgreSQL: a reproducible draw over the round's
checked forms, the reviewer's changes and confirmation, 复核得分 per row and the 复核 report, the 工作考核评分表
filled from what the round holds, and every download opened."""
from __future__ import annotations

import io
import re
import zipfile
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from tests.season_forms import unit_form, unit_report

from .conftest import csrf_of, login
from .test_season import new_round, upload, xlsx_rows


pytestmark = pytest.mark.usefixtures("many_logins")


@pytest.fixture(scope="module")
def season(server, tmp_path_factory):
    """A round with three units' forms checked (乙's with a wrong 合计) and 甲's report."""
    from jixiao.server.accounts import issue_token

    with server.ctx.Session.begin() as db:  # 丙 submits in this round only
        server.tokens.setdefault("unit-c", issue_token(db, "unit-c"))
    rnd = new_round(server, name="抽查", documents=["dept", "report"], deadline="2999-03-31T17:00")
    form_a = unit_form("甲单位", seed=2)
    upload(server, "unit-a", [("甲.xlsx", form_a), ("甲-自评报告.docx", unit_report(form_a, tmp_path_factory.mktemp("r")))],
           rnd["id"])
    upload(server, "unit-b", [("乙.xlsx", unit_form("乙单位", seed=3, wrong_sum=True))], rnd["id"])
    upload(server, "unit-c", [("丙.xlsx", unit_form("丙单位", seed=4))], rnd["id"])
    return rnd


def draw(server, rid: int, **body):
    return server.client.post(f"/api/v1/rounds/{rid}/sample", headers=server.h("reviewer"), json=body)


def test_the_same_seed_draws_the_same_forms_and_the_draw_is_audited(server, season):
    rid = season["id"]
    first = draw(server, rid, size=2, seed=20240331)
    assert first.status_code == 200, first.text
    again = draw(server, rid, size=2, seed=20240331)
    assert again.json()["keys"] == first.json()["keys"] and len(first.json()["keys"]) == 2
    assert first.json()["population"] == 3  # three forms checked; the report is not a form
    other = {tuple(draw(server, rid, size=2, seed=s).json()["keys"]) for s in range(8)}
    assert len(other) > 1
    seen = server.client.get(f"/api/v1/rounds/{rid}/sample", headers=server.h("reviewer")).json()
    assert seen["draw"]["seed"] == 7 and {x["unit"] for x in seen["sample"]} <= {"甲单位", "乙单位", "丙单位"}
    login(server.client, "reviewer")
    assert "seed=20240331" in server.client.get("/audit").text
    assert draw(server, rid, size=0).status_code == 422 and "[sampling.invalid]" in draw(server, rid, size=0).text
    assert draw(server, rid, size=2, seed=-1).status_code == 422
    assert server.client.post(f"/api/v1/rounds/{rid}/sample", headers=server.h("unit-a"), json={"size": 1}).status_code == 403
    assert server.client.get(f"/api/v1/rounds/{rid}/sample", headers=server.h("unit-a")).status_code == 403


def test_weighted_draw_prefers_the_riskiest_form(server, season):
    rid = season["id"]
    draw(server, rid, size=3, seed=1, weighted=True)
    every = server.client.get(f"/api/v1/rounds/{rid}/sample", headers=server.h("reviewer")).json()["sample"]
    riskiest = max(every, key=lambda x: x["risk"])
    assert riskiest["risk"] > min(x["risk"] for x in every) and riskiest["why"]  # its risks are said
    hits = 0
    for seed in range(30):
        assert draw(server, rid, size=1, seed=seed, weighted=True).status_code == 200
        got = server.client.get(f"/api/v1/rounds/{rid}/sample", headers=server.h("reviewer")).json()["sample"]
        hits += got[0]["key"] == riskiest["key"]
    assert hits >= 14  # a uniform draw gives it about 10 of 30


def test_recheck_confirm_and_the_reports(server, season):
    rid, c = season["id"], server.client
    keys = draw(server, rid, size=2, seed=11).json()["keys"]
    login(c, "reviewer")
    page = c.get(f"/rounds/{rid}/sampling").text
    assert 'id="draw-seed">11<' in page and page.count("recheck-link") == 2
    # a form not drawn is added by hand, one drawn is removed
    added = page.split('<option value="')[1].split('"')[0]  # the form the draw left out
    r = c.post(f"/rounds/{rid}/sampling/adjust", data={"csrf": csrf_of(c, f"/rounds/{rid}/sampling"), "add": added}, follow_redirects=False)
    assert r.status_code == 303
    r = c.post(f"/rounds/{rid}/sampling/adjust", data={"csrf": csrf_of(c, f"/rounds/{rid}/sampling"), "remove": keys[0]}, follow_redirects=False)
    assert r.status_code == 303
    now = server.client.get(f"/api/v1/rounds/{rid}/sample", headers=server.h("reviewer")).json()
    assert [x["key"] for x in now["sample"]] == [keys[1], added] and now["sample"][1]["how"] == "人工增加"
    # 复核得分 on the added form: the first row (执行率) re-scored with a reason
    target = added
    form = c.get(f"/rounds/{rid}/recheck/{quote(target)}").text
    assert "预算执行率" in form and 'id="score-0"' in form
    assert re.search(r'id="rule-total">(\d+(\.\d+)?|需核对)<', form)  # the 规则分 column has its 合计 too
    bad = c.post(f"/rounds/{rid}/recheck/{quote(target)}", data={"csrf": csrf_of(c, f"/rounds/{rid}/sampling"), "score-0": "99"}, follow_redirects=False)
    assert bad.status_code == 422 and "0 到分值" in bad.text
    ok = c.post(f"/rounds/{rid}/recheck/{quote(target)}", data={"csrf": csrf_of(c, f"/rounds/{rid}/sampling"),
                                                          "score-0": "6", "reason-0": "结转资金未计入"}, follow_redirects=False)
    assert ok.status_code == 303
    assert c.get(f"/rounds/{rid}/recheck/{keys[0]}").status_code == 404  # removed: no longer sampled
    r = c.post(f"/rounds/{rid}/sampling/confirm", data={"csrf": csrf_of(c, f"/rounds/{rid}/sampling")}, follow_redirects=False)
    assert r.status_code == 303
    assert draw(server, rid, size=1, seed=1).status_code == 409  # a confirmed sample stays
    sample = load_workbook(io.BytesIO(c.get(f"/rounds/{rid}/sampling.xlsx").content))
    about = {r[0]: r[1] for r in sample["抽取说明"].iter_rows(min_row=2, values_only=True)}
    assert about["随机种子"] == 11 and about["人工增加"] == 1 and about["人工移除"] == 1 and "reviewer" in about["确认"]
    assert [r[1] for r in sample["抽查样本"].iter_rows(min_row=2, values_only=True)] == [x["unit"] for x in now["sample"]]
    rep = load_workbook(io.BytesIO(c.get(f"/rounds/{rid}/recheck.xlsx").content))
    per = [r for r in rep["按指标"].iter_rows(min_row=2, values_only=True) if r[-1] == "结转资金未计入"]
    assert len(per) == 1 and per[0][0] == now["sample"][1]["unit"] and per[0][7] == 6 and per[0][8] == 6 - per[0][5]
    units = {r[0]: r for r in rep["按单位"].iter_rows(min_row=2, values_only=True)}
    assert set(units) == {x["unit"] for x in now["sample"]}


def test_assessment_is_filled_from_the_round_and_the_reviewers_entries(server, season):
    rid, c = season["id"], server.client
    login(c, "reviewer")
    page = c.get(f"/rounds/{rid}/assessment").text
    assert "工作考核评分" in page and "甲单位" in page and "待评" in page
    uid = int(page.split("<td>乙单位</td>")[1].split(f"/rounds/{rid}/assessment/")[1].split('"')[0])
    r = c.post(f"/rounds/{rid}/assessment/{uid}", data={"csrf": csrf_of(c, f"/rounds/{rid}/assessment"),
                                                       "score-notice": "8", "score-team": "2", "score-meaning": "9",
                                                       "reason-meaning": "个别指标未量化", "score-lessons": "12",
                                                       "score-proposals": "13"}, follow_redirects=False)
    assert r.status_code == 303
    bad = c.post(f"/rounds/{rid}/assessment/{uid}", data={"csrf": csrf_of(c, f"/rounds/{rid}/assessment"), "score-team": "5"}, follow_redirects=False)
    assert bad.status_code == 422 and "0 到 2" in bad.text
    ws = load_workbook(io.BytesIO(c.get(f"/rounds/{rid}/assessment/{uid}.xlsx").content)).active
    rows = {r[2]: r for r in ws.iter_rows(min_row=4, values_only=True) if r[2]}
    assert rows["自评通知"][5] == 8 and rows["指标内涵明确"][5] == 9 and "个别指标未量化" in rows["指标内涵明确"][6]
    assert rows["提交报告"][5] == 10  # on time
    assert rows["单位自查"][5] == 20  # its one required table is in
    assert rows["正文"][5] == "待评" and rows["附件"][5] == "待评"  # 乙 sent no report: nothing to read
    z = zipfile.ZipFile(io.BytesIO(c.get(f"/rounds/{rid}/assessment.zip").content))
    names = z.namelist()
    assert any(n.endswith("乙单位-工作考核评分表.xlsx") for n in names) and any(n.endswith("工作考核汇总.xlsx") for n in names)
    summary = xlsx_rows(z.read(next(n for n in names if n.endswith("工作考核汇总.xlsx"))))
    head, body = summary[0], {r[0]: dict(zip(summary[0], r)) for r in summary[1:]}
    assert "合计" in head and body["乙单位"]["自评通知（8）"] == 8 and body["丙单位"]["待评项目"]
    assert c.get(f"/rounds/{rid}/assessment/999999.xlsx").status_code == 404
