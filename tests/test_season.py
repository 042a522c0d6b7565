"""The season without HTTP: documents owed and in, days late as the bureau counts them, whose form it is."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import Workbook

from jixiao.checking.checker import check_file
from jixiao.errors import JixiaoError
from jixiao.season import exports, identity, lateness, requirements

from tests.season_forms import unit_form


def sub(filename: str, result: dict | None, status: str = "checked", n_error: int = 0, n_warning: int = 0):
    return SimpleNamespace(filename=filename, result=result, status=status, n_error=n_error, n_warning=n_warning)


def test_project_list_read_by_its_header_labels_with_merged_unit_cells(tmp_path: Path):
    wb = Workbook()
    ws = wb.active
    ws.append(["2024年度项目支出绩效自评项目清单"])
    ws.append(["序号", "项目名称", "资金（万元）", " 单位名称 "])  # columns in another order, a label with spaces
    ws.append([1, "农村公路养护", 120, "交通运输局"])
    ws.append([2, "客运站改造", 80, None])  # the merged unit cell above
    ws.append([3, "义务教育营养餐", 300, "教育局"])
    ws.append([4, "农村公路养护", 120, "交通运输局"])  # listed twice: once
    wb.save(tmp_path / "清单.xlsx")
    got = requirements.read_project_list(tmp_path / "清单.xlsx")
    assert got == {"交通运输局": ["农村公路养护", "客运站改造"], "教育局": ["义务教育营养餐"]}
    assert requirements.projects_of(got, "交通运输局 ") == ["农村公路养护", "客运站改造"]

    bad = Workbook()
    bad.active.append(["单位", "金额"])
    bad.save(tmp_path / "bad.xlsx")
    with pytest.raises(JixiaoError) as e:
        requirements.read_project_list(tmp_path / "bad.xlsx")
    assert e.value.code == "season.project_list" and "项目名称" in e.value.message


def test_what_a_unit_owes_and_what_is_missing_by_what_the_checker_read(tmp_path: Path):
    form = tmp_path / "随便起的名字.xlsx"
    form.write_bytes(unit_form("交通运输局", seed=3))
    read = check_file(str(form)).to_dict()
    assert requirements.classify(form.name, read) == ("dept", [])  # known by its contents, not its name

    owes = requirements.owed(["dept", "basic", "project", "report"], ["农村公路养护", "客运站改造"])
    assert [o.label for o in owes] == ["整体支出自评表", "基础数据表", "项目支出自评表（农村公路养护）",
                                       "项目支出自评表（客运站改造）", "自评报告"]
    project = {"kind": "project", "forms": [{"kind": "project", "project": "客运站改造"}]}
    docs = requirements.unit_documents(owes, [
        sub(form.name, read, n_error=2),
        sub("客运站.xlsx", project, n_warning=1),
        sub("报告.docx", None, status="checking"),
    ])
    states = {d.owed.label: d.state for d in docs}
    assert states == {"整体支出自评表": "有错误", "基础数据表": "未提交", "项目支出自评表（农村公路养护）": "未提交",
                      "项目支出自评表（客运站改造）": "有警告", "自评报告": "检查中"}
    assert requirements.missing(docs) == ["基础数据表", "项目支出自评表（农村公路养护）"]
    assert not requirements.complete(docs)

    more = requirements.unit_documents(owes, [sub(form.name, read), sub("客运站.xlsx", project), sub("报告.pdf", {}),
                                              sub("某单位基础数据表.xlsx", {"kind": "non-form"}),
                                              sub("另一个项目.xlsx", {"kind": "project", "forms": [{"kind": "project"}]})])
    assert requirements.complete(more)  # a project form naming no listed project fills the one still missing
    with pytest.raises(ValueError, match="没有这种材料"):
        requirements.documents_of(["dept", "budget"])


def test_days_late_counted_on_beijing_dates():
    deadline = datetime(2025, 3, 31, 9, 0)  # 17:00 on 31 March, Beijing time (naive UTC)
    assert lateness.days_late(deadline, datetime(2025, 3, 31, 8, 59)) == 0
    assert lateness.days_late(None, datetime(2030, 1, 1)) == 0
    assert lateness.days_late(deadline, datetime(2025, 3, 31, 15, 59)) == 1  # 23:59 the same day: one day
    assert lateness.days_late(deadline, datetime(2025, 3, 31, 16, 1)) == 1  # 00:01 on 1 April
    assert lateness.days_late(deadline, datetime(2025, 4, 2, 1, 0)) == 2  # 09:00 on 2 April
    assert lateness.policy_of("") == "refuse" and lateness.takes_late(lateness.policy_of("accept"))
    with pytest.raises(ValueError, match="截止政策"):
        lateness.policy_of("maybe")


def test_identity_findings_for_another_units_or_another_years_form(tmp_path: Path):
    p = tmp_path / "f.xlsx"
    p.write_bytes(unit_form("乙单位", year=2023))
    read = check_file(str(p)).to_dict()
    found = identity.findings(read, "甲单位", 2024)
    assert [(f.rule, f.found, f.expected) for f in found] == [("identity.unit", "乙单位", "甲单位"),
                                                              ("identity.year", 2023, 2024)]
    assert "乙单位" in found[0].message and "2023" in found[1].message
    assert identity.findings(read, "乙单位", 2023) == []
    assert identity.same_unit("乙单位本级", "乙单位")


def test_reminders_list_units_missing_something_or_returned():
    rows = [{"unit": "甲", "contact": "unit-a", "status": "通过", "review": "已通过", "missing": [], "all_in": True},
            {"unit": "乙", "contact": "unit-b", "status": "有错误", "review": "已退回", "missing": [], "all_in": True},
            {"unit": "丙", "contact": "", "status": "未提交", "review": None, "missing": ["自评报告"], "all_in": False}]
    text = exports.reminder_text("2024年度自评", "2025-03-31 17:00", rows)
    assert text.splitlines()[1:] == ["1. 乙：有退回修改的文件待重新提交", "2. 丙：尚缺：自评报告"]
    assert "2025-03-31 17:00" in text.splitlines()[0]
