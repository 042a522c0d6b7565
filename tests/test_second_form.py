"""Issue 15 item 3: a profile against a second form of the same province, year, level and kind.

Another Hunan provincial department's 2024 form (DOMAIN.md §4): 全年预算数 32909.2, 全年执行数 31092.65, 执行率
94.48%, 执行率得分 9 of 10; 产出 50 (its 成本 indicators inside 产出), 效益 30, 满意度 10; 总分 99. Seed 000: 84.52% → 9,
weights 20/40/10/20. `hunan-dept-2024` must admit both; a grading legend printed on a form decides its grade words.
"""
from __future__ import annotations

import io
import random
from importlib import resources

from openpyxl import load_workbook

from jixiao.checking import checker
from jixiao.form import DeptForm, score_form
from jixiao.samples import submissions
from jixiao.totals import legend_bands

P = "hunan-dept-2024"
CITY_LEGEND = "90（含）—100分为优；80（含）—90分为良；60（含）—80分为较差；60分以下为差"


def _row(level1, level2, name, target, actual, weight):
    return {"level1": level1, "level2": level2, "name": name, "target": target, "actual": actual,
            "weight": weight, "reported": weight, "reason": ""}


def second_hunan_form(**over) -> DeptForm:
    rows = [
        _row("产出指标", "数量指标", "保障会议场次", "≥200场", "236场", 10),
        _row("产出指标", "质量指标", "资产账实相符率", "≥98%", "99%", 10),
        _row("产出指标", "时效指标", "维修项目按期完成率", "≥95%", "100%", 10),
        _row("产出指标", "成本指标", "公用经费控制率", "≤100%", "98.88%", 10),
        _row("产出指标", "成本指标", "“三公经费”控制率", "≤100%", "85.4%", 10),
        _row("效益指标", "社会效益指标", "机关运行保障水平", "有效提升", "有效提升", 15),
        _row("效益指标", "可持续影响指标", "节约型机关建设", "持续推进", "持续推进", 15),
        _row("满意度指标", "服务对象满意度指标", "服务对象满意度", "≥90%", "95%", 10),
    ]
    d = {"unit": "湖南省某厅", "year": 2024,
         "funds": {"budget": 32909.2, "executed": 31092.65, "weight": 10, "reported_rate": 0.9448,
                   "reported_score": 9},
         "indicators": rows, "reported_sum": 90, "reported_total": 99, "reported_sum_weight": 90}
    d.update(over)
    return DeptForm.from_dict(d)


def _not_info(res):
    return [(f.rule, f.severity) for f in res.findings if f.severity != "info"]


def test_second_hunan_form_execution_score_is_admitted_as_a_plausible_rule():
    res = score_form(second_hunan_form(), P)
    exec_findings = [f for f in res.findings if f.rule == "execution.score_mismatch"]
    assert [f.severity for f in exec_findings] == ["warning"]
    assert "向下取整" in exec_findings[0].message or "四舍五入" in exec_findings[0].message
    assert not [f for f in res.findings if f.severity == "error"]


def test_seed000_execution_score_is_still_admitted():
    form = DeptForm.load(resources.files("jixiao.samples") / "hunan-2024-dept.json")
    res = score_form(form, P)
    assert res.exec_score == 9 and not [f for f in res.findings if f.rule == "execution.score_mismatch"]


def test_form_declared_first_level_weights_decide_and_total_99_is_accepted():
    res = score_form(second_hunan_form(), P)
    assert not [f for f in res.findings if f.rule.startswith("weights.") and f.severity != "info"]
    assert not [f for f in res.findings if f.rule.startswith("total.") and f.severity != "info"]
    assert _not_info(res) == [("execution.score_mismatch", "warning")]


def test_form_declared_weights_decide_even_without_a_sum_row_weight():
    res = score_form(second_hunan_form(reported_sum_weight=None), P)
    assert not [f for f in res.findings if f.rule.startswith("weights.") and f.severity != "info"]


def test_weights_that_do_not_add_up_are_still_found():
    form = second_hunan_form(reported_sum_weight=None)
    form.indicators[0].weight = 15  # 95 points of indicators: the form's own weights do not add up
    res = score_form(form, P)
    assert [f.severity for f in res.findings if f.rule == "weights.total"] == ["error"]


def test_legend_bands_read_the_forms_cut_offs_and_words():
    bands = legend_bands(CITY_LEGEND)
    assert [(b.min, b.label) for b in bands] == [(90, "优"), (80, "良"), (60, "较差"), (0, "差")]
    bands = legend_bands("评价等级：85分（含）以上为优秀，70（含）~85分为良好，60（含）~70分为合格，60分以下为不合格。")
    assert [(b.min, b.label) for b in bands] == [(85, "优秀"), (70, "良好"), (60, "合格"), (0, "不合格")]


def test_a_printed_legend_decides_the_grade_word_for_that_form():
    form = second_hunan_form(reported_sum=62, reported_total=71, reported_grade="较差")
    for row in form.indicators[5:7]:  # two qualitative rows not achieved: 1 point each, in the lowest band
        row.actual, row.reported, row.reason = "未完成", 1, "受项目调整影响"
    without = score_form(form, P)
    assert without.capped_total == 71
    assert [f.severity for f in without.findings if f.rule == "total.grade_mismatch"] == ["error"]  # 中, not 较差
    form.grade_legend = CITY_LEGEND
    with_legend = score_form(form, P)
    assert with_legend.grade == "较差"
    assert not [f for f in with_legend.findings if f.rule == "total.grade_mismatch"]


def test_check_reads_the_legend_printed_on_the_sheet(tmp_path):
    data, _ = submissions.make_submission(random.Random(1), "bureau", None)
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    ws["B27"], ws["G27"], ws["H27"], ws["I27"] = "总分", 100, 100, "等级：优秀"
    ws["B30"] = "评价等级：90分（含）以上为优秀；80（含）—90分为良好；60（含）—80分为合格；60分以下为不合格"
    out = []
    for name, keep_legend in (("with.xlsx", True), ("without.xlsx", False)):
        if not keep_legend:
            ws["B30"] = None
        buf = io.BytesIO()
        wb.save(buf)
        (tmp_path / name).write_bytes(buf.getvalue())
        res = checker.check_file(str(tmp_path / name), P)
        out.append([(f.rule, f.severity) for f in res.findings if f.rule == "total.grade_mismatch"])
        if keep_legend:
            assert res.grade == "优秀"
    assert out[0] == [] and out[1] == [("total.grade_mismatch", "error")]
