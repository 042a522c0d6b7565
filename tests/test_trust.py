"""Issue 9: findings a bureau can trust — certain vs judged, the form's own structure, profile choice,
qualitative indicators never full marks by silence, manual rubric scores."""
import json
from importlib import resources

import pytest

from jixiao import DeptForm, indicator_score, score_form
from jixiao.checking import checker
from jixiao.checking.profile_choice import FormFacts, choose_profile
from jixiao.profile import load_profile


def _seed000() -> dict:
    return json.loads((resources.files("jixiao.samples") / "hunan-2024-dept.json").read_text("utf-8"))


def test_profile_keys_carry_source_and_confidence():
    hunan = load_profile("hunan-dept-2024")
    assert not hunan.settled("execution") and "种子 000" in hunan.key_source("execution").note
    assert load_profile("national-2020").settled("indicators")
    assert not load_profile("national-2020").settled("indicators.rounding")  # inherits nothing: own key
    assert load_profile("county-rubric-2022").settled("control")


def test_hunan_execution_score_at_a_higher_rate_is_a_warning_naming_the_rule():
    """Another Hunan department gives 9 of 10 at a higher 执行率: rounding up would give 10."""
    data = _seed000()
    data["funds"]["executed"] = 0.92 * data["funds"]["budget"]
    data["funds"]["spending"] = {}  # the spending split sums to 全年执行数, which this variant changes
    data["funds"]["reported_rate"] = None
    s = score_form(DeptForm.from_dict(data), "hunan-dept-2024")
    f = next(f for f in s.findings if f.rule == "execution.score_mismatch")
    assert f.severity == "warning" and "hunan-dept-2024" in f.message and f.expected == 10
    assert not any(x.severity == "error" for x in s.findings)


def test_sum_row_weight_decides_whether_it_includes_execution():
    """Seed 000 under the default profile: its 合计 分值 90 shows 合计 leaves 执行率 out."""
    data = _seed000() | {"reported_sum_weight": 90}
    s = score_form(DeptForm.from_dict(data), "national-2020")
    assert not any(f.severity == "error" for f in s.findings), [(f.rule, f.message) for f in s.findings]
    assert {f.rule for f in s.findings} >= {"execution.score_mismatch"}  # 9 vs 8.45: judged, a warning


def test_total_is_checked_against_the_sheets_own_scores():
    data = _seed000() | {"reported_sum_weight": 90}
    data["indicators"][0]["actual"] = "18"  # the rule gives 4; the sheet keeps 5 and its 合计 90
    s = score_form(DeptForm.from_dict(data), "hunan-dept-2024")
    sums = [f for f in s.findings if f.rule == "total.sum_row_mismatch"]
    assert sums and all(f.severity != "error" for f in sums)
    data["reported_sum"] = 91  # now the sheet's own arithmetic is wrong
    s = score_form(DeptForm.from_dict(data), "hunan-dept-2024")
    f = next(f for f in s.findings if f.rule == "total.sum_row_mismatch" and f.severity == "error")
    assert f.expected == 90


@pytest.mark.parametrize("actual", ["差", "无", "=B5*2"])
def test_qualitative_never_full_marks_by_silence(actual):
    res = indicator_score("优", actual, 10, "national-2020", reported=7)
    assert [f.rule for f in res.findings] == ["indicator.qualitative_unproven"]
    assert res.findings[0].severity == "warning" and res.score == 7  # the officer's score, kept


def test_qualitative_actual_with_comparator_is_flagged():
    res = indicator_score("显著提升", "≥95%", 10, "national-2020")
    assert "indicator.actual_has_comparator" in [f.rule for f in res.findings]


def test_deadline_targets_are_read_as_dates():
    assert indicator_score("9月前", "7月", 5, "national-2020").score == 5
    late = indicator_score("2023年10月", "2023年12月", 5, "national-2020")
    assert late.grade == "未达成且效果较差"


@pytest.mark.parametrize("target,actual", [("约50亿元", "56亿元"), ("力争100万元", "112万元"),
                                           ("≥11.376万元", "12万元")])
def test_approximate_targets_flagged_for_over_achievement_review(target, actual):
    res = indicator_score(target, actual, 10, "national-2020")
    f = next(f for f in res.findings if f.rule == "indicator.over_achievement")
    assert f.severity == "warning" and res.score == 10


def test_profile_chosen_from_the_form_and_said_why():
    facts = FormFacts.read("dept", 2024, "2024年度部门整体支出绩效自评表", "湖南省机关事务管理局")
    choice, _ = choose_profile(None, None, facts)
    assert choice.profile.id == "hunan-dept-2024" and "湖南" in choice.reason
    other = FormFacts.read("dept", 2023, "2023年度部门整体支出绩效自评表", "衡山县贯塘乡人民政府")
    choice, _ = choose_profile(None, None, other)
    assert choice.profile.id == "national-2020" and "默认" in choice.reason
    code = FormFacts.read("project", 2023, "部门预算项目支出绩效自评表", "青神县发展和改革局", "报表编号:510000_0013zp")
    assert code.province == "四川" and code.level == "县级"


def test_manual_score_on_a_computed_rubric_row_is_a_finding(tmp_path):
    from workbooks import fill, seed002_values

    from jixiao.layouts.rubric import RUBRIC, county_rubric

    model = county_rubric()
    weights = {f"rubric.{i}.weight": w for i, w in zip(range(15, 22), (7, 6, 6, 6, 6, 6, 5))}
    path = fill(model, seed002_values() | weights | {"rubric.3.manual": 3}, tmp_path / "rubric.xlsx")
    res = checker.check_file(str(path))
    f = next(f for f in res.findings if f.rule == "control.manual_override")
    cell = model.sheet(RUBRIC).fields["rubric.3.manual"]
    assert (f.sheet, f.cell, f.expected) == (RUBRIC, cell, 0)  # “三公经费”变动率 149.58% earns nothing


def _sheet_bytes(rows: dict[str, object]) -> bytes:
    import io

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for ref, x in rows.items():
        ws[ref] = x
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_provincial_export_with_amounts_in_wan_and_whole_percent(tmp_path):
    """调整后预算数 · 预算执行数 · 权重 with "150万", a 60% display for 59.58%, two-row-free 指标值 · 完成值."""
    rows = {"A1": "报表编号:430000_0001zp", "A2": "部门预算项目支出绩效自评表(2024年度)", "A3": "项目名称", "B3": "测试项目",
            "B5": "年度预算数(万元)", "C5": "年初预算", "D5": "调整后预算数", "E5": "预算执行数", "F5": "预算执行率",
            "G5": "权重", "H5": "得分",
            "B6": "总额", "C6": "150万", "D6": "150万", "E6": "89.37万", "F6": "60%", "G6": 10, "H6": 5.96,
            "B7": "其中:财政资金", "C7": 150, "D7": 150, "E7": 89.37, "F7": "60%", "G7": "/", "H7": "/",
            "B9": "一级指标", "C9": "二级指标", "D9": "三级指标", "E9": "指标值", "F9": "完成值", "G9": "权重",
            "H9": "得分", "I9": "未完成原因分析",
            "B10": "产出指标", "C10": "数量指标", "D10": "培训人次", "E10": "≥100人次", "F10": 120, "G10": 90,
            "H10": 90}
    path = tmp_path / "export.xlsx"
    path.write_bytes(_sheet_bytes(rows))
    res = checker.check_file(str(path))
    assert res.kind == "project" and res.exec_rate == pytest.approx(89.37 / 150)
    assert "湖南" in res.profile_reason
    assert not [f for f in res.findings if f.severity == "error"], [(f.rule, f.cell, f.message) for f in res.findings]
    assert not any(f.rule == "reader.field_missing" for f in res.findings)


def test_project_split_rows_are_the_split_of_the_total(tmp_path):
    rows = {"A1": "项目支出绩效自评表", "A2": "(2023年度)", "A3": "项目名称", "B3": "测试项目",
            "D4": "年初预算数", "E4": "全年预算数", "F4": "全年执行数", "G4": "分值", "H4": "执行率", "I4": "得分",
            "B5": "年度资金总额", "D5": 100, "E5": 100, "F5": 90, "G5": 10, "H5": "90.00%", "I5": 9,
            "B6": "其中:本年财政拨款", "D6": 60, "E6": 60, "F6": 50,
            "B7": "上年结转资金", "D7": 40, "E7": 40, "F7": 40, "B8": "其他资金"}
    path = tmp_path / "split.xlsx"
    path.write_bytes(_sheet_bytes(rows))
    res = checker.check_file(str(path))
    assert not [f for f in res.findings if f.severity == "error"], [(f.rule, f.cell, f.message) for f in res.findings]
    rows["F7"] = 30  # 50 + 30 ≠ 90
    path.write_bytes(_sheet_bytes(rows))
    res = checker.check_file(str(path))
    f = next(f for f in res.findings if f.rule == "funds.split_mismatch")
    assert f.severity == "error" and f.expected == 90 and f.found == 80


def _seed002_official(tmp_path, claims: dict[str, object]):
    """Seed 002's 附件1-2 and part of 附件1-1 typed as the unit filed them: numbers as text with full-width
    spaces, merged label cells, the 评分标准 text beside each row."""
    import io

    from openpyxl import Workbook

    wb = Workbook()
    basic = wb.active
    basic.title = "附件1-2"
    rows = [["部门整体支出绩效自评基础数据表"], ["填报单位："],
            ["财政供养人员情况", "编制数", "2022年实际在职人数", "控制率"], [None, "\u300051", "47\u3000", "92%\u3000"],
            ["经费控制情况", "2021年决算数", "2022年预算数", "2022年决算数"],
            ["三公经费", " 719.55\u3000", "1802\u3000", "\u3000613.76"],
            ["   1、公务用车购置和维护经费", "\u3000719.55", "1800\u3000", "\u3000613.76\u3000"],
            ["       其中：公车购置", "\u3000", "\u3000", "\u30000"],
            ["             公车运行维护", "\u3000717.8", "1800\u3000", "612.54\u3000"],
            ["   2、出国经费", "\u3000", "\u3000", "\u30000"], ["   3、公务接待", "\u30001.75", "2\u3000", "\u30001.22"],
            ["公用经费", "\u3000204.33", "213.94\u3000", "195.57\u3000"]]
    for r in rows:
        basic.append(r)
    basic.merge_cells("A3:A4")
    rubric = wb.create_sheet("附件1-1")
    rubric.append(["部门整体支出绩效自评指标表"])
    rubric.append(["一级指标", "二级指标", "三级指标", "分值", "指标解释", "评分标准", "得分"])
    rubric.append(["投入", "预算配置（7分）", "“三公经费”变动率", 3, "…",
                   "“三公经费”变动率≦0，计3分；＞0，每超过一个百分点扣0.5分，扣完为止。", claims.get("change", 0)])
    rubric.append(["过程", "预算执行", "“三公经费”控制率", 2, "…",
                   "“三公经费”控制率100%以下（含）计2分，每超出1%扣0.1分，扣完为止。", claims.get("control", 2)])
    rubric.append([None, None, "公用经费控制率", 2, "…", "100%以下（含）计2分，每超出1%扣0.1分。", claims.get("public", 2)])
    rubric.merge_cells("A3:A4")
    buf = io.BytesIO()
    wb.save(buf)
    path = tmp_path / "seed002.xlsx"
    path.write_bytes(buf.getvalue())
    return checker.check_file(str(path))


def test_official_basic_data_sums_and_control_claims(tmp_path):
    res = _seed002_official(tmp_path, {"change": 0, "control": 2, "public": 2})
    assert res.kind == "county-rubric" and res.profile == "county-rubric-2022" and res.profile_reason
    sums = {(f.sheet, f.cell): f for f in res.findings if f.rule == "basic_data.sum_mismatch"}
    # seed 002 disagrees with itself: 三公 719.55 ≠ 719.55 + 0 + 1.75, 公务用车 719.55 ≠ 0 + 717.8 …
    assert sums[("附件1-2", "B6")].expected == pytest.approx(721.30)
    assert sums[("附件1-2", "B7")].expected == pytest.approx(717.8)
    assert sums[("附件1-2", "D6")].expected == pytest.approx(614.98)
    assert ("附件1-2", "C6") not in sums and ("附件1-2", "C7") not in sums  # 1802 = 1800 + 2
    assert all(f.severity == "error" for f in sums.values())
    assert not any(f.rule == "control.rate_mismatch" for f in res.findings)  # 47/51 = 92.16%, shown 92%
    assert not any(f.rule == "control.score_mismatch" for f in res.findings)


def test_full_marks_claimed_for_a_rising_three_public_budget(tmp_path):
    res = _seed002_official(tmp_path, {"change": 3, "public": 1})
    f = next(f for f in res.findings if f.rule == "control.score_mismatch" and "变动率" in f.message)
    assert (f.sheet, f.cell, f.expected, f.found) == ("附件1-1", "G3", 0, 3)
    assert f.severity == "warning" and "上年决算数" in f.message  # the official 基础数据表 has no 上年预算数
    public = next(f for f in res.findings if f.rule == "control.score_mismatch" and f.cell == "G5")
    assert public.expected == 2 and public.severity == "error"  # 195.57 / 213.94 ≤ 100%: full marks


def test_seed000_as_filed_under_the_default_profile_has_no_error(tmp_path):
    """Its 合计 分值 90 says 合计 leaves 执行率 out; 9 of 10 at 84.52% is a judged execution score."""
    from workbooks import SEED000

    from jixiao.samples import submissions

    data = submissions.bureau_bytes(json.loads(json.dumps(SEED000)), {"exec_score": 9, "sum": 90, "rate": "84.52%"})
    path = tmp_path / "seed000.xlsx"
    path.write_bytes(data)
    res = checker.check_file(str(path), "national-2020")
    assert not [f for f in res.findings if f.severity == "error"], [(f.rule, f.cell) for f in res.findings]
    assert next(f for f in res.findings if f.rule == "execution.score_mismatch").severity == "warning"
    chosen = checker.check_file(str(path))  # no --profile: the form says 湖南, 省级, 2024
    assert chosen.profile == "hunan-dept-2024" and "湖南" in chosen.profile_reason
