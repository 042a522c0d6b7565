"""The season in the server: a round's documents and late policy, reports beside the forms, whose form it is,
the board per document, its exports and the report package — on SQLite and on a real PostgreSQL."""
from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.season_forms import unit_form, unit_report

from .conftest import csrf_of, login

ALL = ["dept", "basic", "project", "report"]


pytestmark = pytest.mark.usefixtures("many_logins")


def new_round(server, **kw) -> dict:
    body = {"name": "2024年度绩效自评", "year": 2024, "kinds": ["dept", "project"], **kw}
    r = server.client.post("/api/v1/rounds", headers=server.h("reviewer"), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def upload(server, who: str, files: list[tuple[str, bytes]], rid: int) -> list[dict]:
    r = server.upload(who, files, round=str(rid))
    assert r.status_code == 202, r.text
    return server.wait(who, [s["id"] for s in r.json()["submissions"]])


def xlsx_rows(data: bytes, sheet: int = 0) -> list[list]:
    ws = load_workbook(io.BytesIO(data)).worksheets[sheet]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_rounds_api_takes_documents_late_policy_and_projects(server):
    rnd = new_round(server, documents=["report", "dept"], late_policy="accept",
                    projects={"甲单位": ["农村公路养护"]})
    assert (rnd["documents"], rnd["late_policy"], rnd["projects"]) == (["dept", "report"], "accept",
                                                                      {"甲单位": ["农村公路养护"]})
    r = server.client.patch(f"/api/v1/rounds/{rnd['id']}", headers=server.h("reviewer"),
                            json={"late_policy": "refuse", "documents": ALL})
    assert r.status_code == 200, r.text
    assert (r.json()["late_policy"], r.json()["documents"], r.json()["name"]) == ("refuse", ALL, "2024年度绩效自评")
    bad = server.client.post("/api/v1/rounds", headers=server.h("reviewer"),
                             json={"name": "x", "year": 2024, "kinds": ["dept"], "documents": ["budget"],
                                   "late_policy": "sometimes"})
    assert bad.status_code == 422 and "没有这种材料" in bad.text and "截止政策" in bad.text and "[round.invalid]" in bad.text
    assert server.client.patch(f"/api/v1/rounds/{rnd['id']}", headers=server.h("unit-a"),
                               json={"late_policy": "accept"}).status_code == 403


def test_late_uploads_counted_or_refused_by_the_rounds_policy(server):
    accept = new_round(server, name="迟报照收", deadline="2020-01-01T17:00", late_policy="accept", documents=["dept"])
    refuse = new_round(server, name="迟报不收", deadline="2020-01-01T17:00", late_policy="refuse", documents=["dept"])
    got = upload(server, "unit-a", [("甲-整体.xlsx", unit_form("甲单位"))], accept["id"])[0]
    assert got["days_late"] > 2000  # years after the deadline, in days
    r = server.upload("unit-a", [("甲-整体.xlsx", unit_form("甲单位"))], round=str(refuse["id"]))
    assert r.status_code == 409 and "[round.past_deadline]" in r.text
    login(server.client, "reviewer")
    row = next(tr for tr in server.client.get(f"/rounds/{accept['id']}").text.split("<tr>") if "甲单位" in tr)
    assert f'<td class="n late">{got["days_late"]}</td>' in row


def test_a_report_is_checked_against_the_units_form_and_the_board_counts_documents(server, tmp_path: Path):
    rnd = new_round(server, name="报告", documents=["dept", "report"])
    form = unit_form("甲单位", seed=5)
    f, rep = upload(server, "unit-a", [("甲-整体支出自评表.xlsx", form),
                                       ("甲-自评报告.docx", unit_report(form, tmp_path))], rnd["id"])
    assert f["counts"]["error"] == 0 and not [x for x in f["findings"] if x["rule"].startswith("identity.")]
    assert rep["result"]["kind"] == "report" and "对应自评表：甲-整体支出自评表.xlsx" in rep["result"]["profile_reason"]
    assert not [x for x in rep["findings"] if x["rule"] == "report.mismatch"]
    # a report whose result line says 95 while the form says otherwise: found, against the form
    bad = unit_report(form, tmp_path / "bad")
    import docx

    d = docx.Document(io.BytesIO(bad))
    total = next(p for p in d.paragraphs if "自评得分" in p.text and "等级" in p.text)
    for run in total.runs:
        run.text = run.text.replace("100", "95")
    buf = io.BytesIO()
    d.save(buf)
    upload(server, "unit-b", [("乙-整体.xlsx", unit_form("乙单位", seed=5))], rnd["id"])
    rep_b = upload(server, "unit-b", [("乙-报告.docx", buf.getvalue())], rnd["id"])[0]
    assert rep_b["result"]["kind"] == "report"
    assert [x for x in rep_b["findings"] if x["rule"] == "report.mismatch"], rep_b["findings"]

    login(server.client, "reviewer")
    page = server.client.get(f"/rounds/{rnd['id']}").text
    row_a = next(tr for tr in page.split("<tr>") if "<td>甲单位</td>" in tr)
    row_c = next(tr for tr in page.split("<tr>") if "<td>丙单位</td>" in tr)
    assert "整体支出自评表：通过" in row_a or "整体支出自评表：有警告" in row_a
    assert "自评报告：" in row_a and "材料齐全" in row_a
    assert "整体支出自评表：未提交" in row_c and "自评报告：未提交" in row_c and "材料齐全" not in row_c
    # the reviewer sees the report's findings on its page, and beside the form on the form's page
    import html

    mismatch = next(x for x in rep_b["findings"] if x["rule"] == "report.mismatch")["message"]
    form_b = server.client.get(f"/api/v1/submissions?round={rnd['id']}&latest=true", headers=server.h("reviewer")).json()
    form_id = next(x["id"] for x in form_b["submissions"] if x["file"] == "乙-整体.xlsx")
    assert html.escape(mismatch, quote=False) in server.client.get(f"/s/{rep_b['id']}").text
    beside = server.client.get(f"/s/{form_id}").text
    assert 'id="companions"' in beside and html.escape(mismatch, quote=False) in beside


def test_another_units_or_years_form_is_a_finding_of_the_submission(server):
    rnd = new_round(server, name="身份", documents=["dept"])
    got = upload(server, "unit-a", [("别人的.xlsx", unit_form("乙单位", year=2023))], rnd["id"])[0]
    ids = {x["rule"]: x for x in got["findings"] if x["rule"].startswith("identity.")}
    assert set(ids) == {"identity.unit", "identity.year"}
    assert ids["identity.unit"]["severity"] == "error" and "乙单位" in ids["identity.unit"]["message"]
    assert got["counts"]["error"] >= 2


def test_board_and_reminder_exports_list_every_unit(server):
    rnd = new_round(server, name="导出", documents=["dept", "report"], deadline="2999-03-31T17:00")
    upload(server, "unit-a", [("甲.xlsx", unit_form("甲单位", seed=9))], rnd["id"])
    c = server.client
    login(c, "reviewer")
    r = c.get(f"/rounds/{rnd['id']}/board.xlsx")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    rows = xlsx_rows(r.content)
    head = rows[0]
    by_unit = {row[0]: dict(zip(head, row)) for row in rows[1:]}
    assert set(by_unit) >= {"甲单位", "乙单位", "丙单位"}
    assert by_unit["丙单位"]["联系人（账号）"] == "unit-c" and by_unit["丙单位"]["检查状态"] == "未提交"
    assert by_unit["丙单位"]["缺少的材料"] == "整体支出自评表、自评报告" and by_unit["丙单位"]["材料齐全"] == "否"
    assert by_unit["甲单位"]["缺少的材料"] == "自评报告" and by_unit["甲单位"]["整体支出自评表"] in ("通过", "有警告")

    rem = xlsx_rows(c.get(f"/rounds/{rnd['id']}/reminders.xlsx").content)
    assert rem[0] == ["单位", "联系人（账号）", "需要补交或修改", "截止时间"]
    listed = {row[0]: row for row in rem[1:]}
    assert listed["丙单位"][2] == "尚缺：整体支出自评表、自评报告" and listed["甲单位"][2] == "尚缺：自评报告"
    assert listed["丙单位"][3] == "2999-03-31 17:00"
    text = c.get(f"/rounds/{rnd['id']}/reminders.txt").text
    assert "丙单位：尚缺：整体支出自评表、自评报告" in text and "截止时间 2999-03-31 17:00" in text
    login(c, "unit-a")
    assert c.get(f"/rounds/{rnd['id']}/board.xlsx").status_code in (303, 403)


def test_the_report_package_links_to_its_own_files(server):
    rnd = new_round(server, name="打包")
    upload(server, "unit-a", [("甲-有错.xlsx", unit_form("甲单位", seed=11, wrong_sum=True))], rnd["id"])
    c = server.client
    login(c, "reviewer")
    z = zipfile.ZipFile(io.BytesIO(c.get(f"/rounds/{rnd['id']}/package.zip").content))
    names = z.namelist()
    assert "甲单位/甲-有错.xlsx" in names
    report_name = next(n for n in names if n.endswith("检查报告.xlsx"))
    wb = load_workbook(io.BytesIO(z.read(report_name)))
    links = [c.hyperlink.target for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.hyperlink]
    assert links and all(t.split("#")[0] == "甲单位/甲-有错.xlsx" for t in links), links
    assert any("#'" in t for t in links)  # a finding's link names its sheet and cell
    plain = load_workbook(io.BytesIO(c.get(f"/rounds/{rnd['id']}/report.xlsx").content))
    assert not [c for ws in plain.worksheets for row in ws.iter_rows() for c in row if c.hyperlink]


def test_round_page_sets_documents_policy_and_project_list(server, tmp_path: Path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["单位名称", "项目名称"])
    wb.active.append(["甲单位", "农村公路养护"])
    wb.save(tmp_path / "p.xlsx")
    c = server.client
    login(c, "reviewer")
    r = c.post("/rounds", data={"csrf": csrf_of(c), "name": "页面批次", "year": "2024", "kinds": ["dept", "project"],
                                "documents": ["dept", "project"], "late_policy": "accept", "deadline": ""},
               files={"projects": ("p.xlsx", (tmp_path / "p.xlsx").read_bytes())}, follow_redirects=False)
    assert r.status_code == 303, r.text
    rid = int(r.headers["location"].rsplit("/", 1)[1])
    got = c.get(f"/api/v1/rounds/{rid}", headers=server.h("reviewer")).json()
    assert (got["documents"], got["late_policy"], got["projects"]) == (["dept", "project"], "accept",
                                                                      {"甲单位": ["农村公路养护"]})
    page = c.get(f"/rounds/{rid}").text
    assert "项目支出自评表（农村公路养护）：未提交" in page
    r = c.post(f"/rounds/{rid}/edit", data={"csrf": csrf_of(c), "name": "页面批次", "year": "2024", "kinds": ["dept"],
                                            "documents": ["dept", "report"], "late_policy": "refuse"},
               follow_redirects=False)
    assert r.status_code == 303
    got = c.get(f"/api/v1/rounds/{rid}", headers=server.h("reviewer")).json()
    assert (got["documents"], got["late_policy"], got["projects"]) == (["dept", "report"], "refuse",
                                                                      {"甲单位": ["农村公路养护"]})


def test_a_report_sent_before_its_form_is_checked_again_when_the_form_comes(server, tmp_path: Path):
    rnd = new_round(server, name="先交报告", documents=["dept", "report"])
    form = unit_form("乙单位", seed=13)
    rep = upload(server, "unit-b", [("乙-自评报告.docx", unit_report(form, tmp_path))], rnd["id"])[0]
    assert "对应自评表" not in (rep["result"]["profile_reason"] or "")  # nothing to pair with yet
    upload(server, "unit-b", [("乙-整体.xlsx", form)], rnd["id"])
    again = server.wait("unit-b", [rep["id"]])[0]
    end = time.monotonic() + 60
    while "对应自评表" not in (again["result"]["profile_reason"] or "") and time.monotonic() < end:
        time.sleep(0.2)
        again = server.wait("unit-b", [rep["id"]])[0]
    assert again["result"]["profile_reason"] == "对应自评表：乙-整体.xlsx"
