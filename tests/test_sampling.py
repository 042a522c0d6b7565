"""抽查复核 and 工作考核 without the server: the draw, 复核 lines and report, the 工作考核评分表 from its data."""
from __future__ import annotations

import io
from collections import Counter

import pytest
from openpyxl import load_workbook

import jixiao
from jixiao.season import assessment, recheck, sampling
from jixiao.season.sampling import Candidate


def population(n: int = 40) -> list[Candidate]:
    return [Candidate(f"s{i:03d}", f"单位{i}", "dept" if i % 3 else "project", f"表{i}.xlsx", errors=i % 5,
                      claimed=95.0 if i % 7 == 0 else 88.0, rule=80.0 if i % 7 == 0 else 88.0,
                      exec_rate=0.6 if i % 7 == 0 else 0.95) for i in range(n)]


def test_the_same_seed_draws_the_same_sample_whatever_the_order():
    pop = population()
    a = sampling.draw(pop, seed=2024, size=5)
    b = sampling.draw(list(reversed(pop)), seed=2024, size=5)
    assert a.keys == b.keys and len(a.keys) == 5 and a.population == 40
    assert sampling.draw(pop, seed=2025, size=5).keys != a.keys  # another seed, another sample
    w = sampling.draw(pop, seed=7, share=10, weighted=True)
    assert w.keys == sampling.draw(pop[::2] + pop[1::2], seed=7, share=10, weighted=True).keys
    assert len(w.keys) == 4  # 10% of 40


def test_a_share_is_rounded_up_and_bad_sizes_are_refused_in_chinese():
    pop = population(21)
    assert sampling.draw(pop, seed=1, share=10).size == 3  # 2.1 → 3
    assert sampling.draw(pop, seed=1, size=50).size == 21  # never more than there are
    for kw, said in [({"size": 0}, "正整数"), ({"share": 150}, "0 到 100"), ({}, "二选一"),
                     ({"size": 2, "share": 5}, "二选一")]:
        with pytest.raises(ValueError, match=said):
            sampling.draw(pop, seed=1, **kw)


def test_risk_weights_make_risky_forms_likelier():
    pop = population()
    risky = {c.key for c in pop if c.claimed == 95.0}  # 15 points over the rules, high score with low 执行率
    assert all(sampling.risk(c) > sampling.risk(pop[1]) for c in pop if c.key in risky)
    assert "自评分高于规则分 15 分" in sampling.why(pop[0]) and "执行率 60.00%" in sampling.why(pop[0])
    plain, weighted = Counter(), Counter()
    for seed in range(300):
        plain.update(k in risky for k in sampling.draw(pop, seed=seed, size=5).keys)
        weighted.update(k in risky for k in sampling.draw(pop, seed=seed, size=5, weighted=True).keys)
    assert weighted[True] > 2 * plain[True]


def test_manual_add_and_remove_before_confirming():
    pop = population(10)
    s = sampling.draw(pop, seed=3, size=3)
    out = next(c.key for c in pop if c.key not in s.keys)
    t = s.adjust(add=[out], remove=[s.drawn[0]])
    assert t.keys == s.drawn[1:] + (out,) and t.added == (out,) and t.removed == (s.drawn[0],)
    assert t.adjust(add=[s.drawn[0]]).keys == s.drawn + (out,)  # a removed form added again is back in its place
    assert sampling.Sample.from_dict(t.to_dict()) == t


def test_candidates_are_the_forms_a_checked_workbook_holds(tmp_path):
    from tests.season_forms import unit_form
    path = tmp_path / "部门.xlsx"
    path.write_bytes(unit_form("甲单位", seed=3))
    res = jixiao.check([path]).files[0]
    [c] = sampling.candidates("abc", "甲单位", path.name, res.to_dict(), res.counts()["error"])
    assert (c.key, c.kind, c.rule) == ("abc", "dept", res.total)
    rows = recheck.rows_of(res.to_dict()["forms"][0])
    assert rows[0].name == "预算执行率" and len(rows) > 5 and all(r.weight for r in rows)
    assert abs(sum(r.rule for r in rows) - res.total) < 0.5  # the rows are the rules' whole score (总分 rounded)
    assert all(isinstance(r.claimed, float) for r in rows)  # the unit's own 得分, read from the form


def test_recheck_lines_default_to_the_rules_and_the_report_gives_both_scores():
    rows = [recheck.Row(0, "预算执行率", "", "预算执行率", 10, 10, 8.5),
            recheck.Row(1, "产出指标", "数量指标", "保洁面积", 20, 20, 20),
            recheck.Row(2, "效益指标", "社会效益", "群众满意度", 10, 10, 10)]
    lines = recheck.lines(rows, {2: recheck.Entered(6, "满意度调查样本不足")})
    assert [(x.recheck, x.difference, x.entered) for x in lines] == [(8.5, -1.5, False), (20, 0, False), (6, -4, True)]
    assert lines[0].reason == "按评分规则计算（未人工复核）" and lines[2].reason == "满意度调查样本不足"
    with pytest.raises(ValueError, match="0 到分值 10"):
        recheck.parse_score("12", 10)
    form = recheck.FormRecheck("甲单位", "自评表.xlsx", lines)
    assert (form.total("claimed"), form.total("rule"), form.total("recheck")) == (40, 38.5, 34.5)
    unscored = recheck.FormRecheck("乙单位", "自评表.xlsx", recheck.lines([recheck.Row(0, "x", "", "x", 10, 9, None)], {}))
    assert unscored.total("rule") is None  # the page shows 需核对, never a sum that counts the row as 0
    data = recheck.report_xlsx("2024年度", [form])
    wb = load_workbook(io.BytesIO(data))
    units = [list(r) for r in wb["按单位"].iter_rows(values_only=True)]
    assert units[1][:6] == ["甲单位", "自评表.xlsx", 40, 34.5, -5.5, 2]
    per = [list(r) for r in wb["按指标"].iter_rows(values_only=True)]
    assert per[3][3:] == ["群众满意度", 10, 10, 10, 6, -4, "满意度调查样本不足"]


def test_assessment_fills_what_the_round_knows_and_leaves_judgement_to_the_reviewer():
    facts = assessment.Facts(days_late=3, missing_tables=2, report_missing_body=1, report_missing_annex=1,
                             weights_ok=False, broken_down=True, quantitative_share=0.8,
                             problems="一、资金不足。二、经费紧张", proposals="1. 完善指标体系；2. 加大资金投入")
    s = assessment.assess(facts, {"notice": assessment.Judged(8, "已印发通知")})
    got = {x.item.key: x.score for x in s.lines}
    assert got == {"notice": 8, "team": None, "self_check": 18, "on_time": 7, "body": 6, "annex": 5,
                   "weights": 0, "breakdown": 3, "meaning": None, "lessons": 0, "proposals": None}
    assert s.total is None and s.known == 47 and s.pending == ["工作小组", "指标内涵明确", "建议"]
    assert sum(it.points for it in assessment.items()) == 100
    meaning = next(x for x in s.lines if x.item.key == "meaning")
    assert meaning.basis == "定量指标占 80%"
    judged = assessment.assess(facts, {"meaning": assessment.Judged(9, "个别指标未量化")})
    meaning = next(x for x in judged.lines if x.item.key == "meaning")
    assert (meaning.score, meaning.basis) == (9, "个别指标未量化；定量指标占 80%")  # the share stays in view
    data = assessment.sheet_xlsx("甲单位", "2024年度", s)
    ws = load_workbook(io.BytesIO(data)).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0][0] == "部门整体支出绩效自评工作考核评分表" and "甲单位" in rows[1][0]
    assert rows[6][2] == "提交报告" and rows[6][5] == 7 and "迟报 3 天，每天扣 1 分" in rows[6][6]
    assert rows[-1][0] == "合计" and rows[-1][3] == 100 and rows[-1][5] == "待评（已得 47）"
    assert int(ws.page_setup.paperSize) == 9 and ws.sheet_properties.pageSetUpPr.fitToPage  # A4


def test_the_boilerplate_rules_are_data():
    only = assessment.settings()["boilerplate"]["problems"]["only"]
    assert assessment.boilerplate("（一）资金不足；（二）经费紧张。", only)
    assert not assessment.boilerplate("（一）资金不足；（二）绩效目标设置不够细化。", only)
    assert not assessment.boilerplate("【待填写：写明存在的问题】", only)  # a placeholder names nothing
    assert not assessment.boilerplate(None, only)
