"""A filled self-evaluation form as data, and scoring it as a whole.

This is the composition of the rules: 执行率 and its score, the fund splits,
every indicator row, the weights, the 合计 row, 总分 and 等级. The workbook
reader produces a :class:`DeptForm`; the samples in ``jixiao/samples`` are
forms written as JSON.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import vocabulary as v
from .deviation import (
    QUALITATIVE_OUT_OF_BAND,
    SCORE_MISMATCH,
    IndicatorScore,
    indicator_score,
)
from .errors import Finding, JixiaoError
from .execution import cap_total, exec_rate, exec_score
from .funds import check_split
from .numbers import as_number, round_excel
from .profile import Profile, load_profile
from .rules import RULES, error_codes, rule
from .totals import TOTAL as WEIGHTS_TOTAL
from .totals import (
    IndicatorLine,
    check_weights,
    grade,
    indicators_total,
    level_key,
    overall_total,
    sum_row_value,
)

error_codes({
    "form.unreadable": "表单数据无法读取",
})


RATE_MISMATCH = rule("execution.rate_mismatch", "执行率算错", v.FUNDS_RATE)
EXEC_SCORE_MISMATCH = rule("execution.score_mismatch", "执行率得分不符", "funds.exec_score")
WRONG_BUDGET = rule("execution.wrong_budget", "执行率用年初预算数作分母", "funds.exec_rate")
SAME_QUANTITY = rule("funds.same_quantity", "同一金额前后不一致")
SPLIT_MISMATCH = rule("funds.split_mismatch", "分项之和与合计不符")
TOTAL_GRADE_MISMATCH = rule("total.grade_mismatch", "等级不符", "total.grade")
TOTAL_SUM_ROW_MISMATCH = rule("total.sum_row_mismatch", "合计不等于各项之和", "sum_row.score")
TOTAL_TOTAL_MISMATCH = rule("total.total_mismatch", "总分不符", "total.score")


@dataclass
class Funds:
    """年度资金总额 (万元) and its splits. Splits map a column (全年预算数 …) to parts."""

    budget: float
    executed: float
    initial_budget: float | None = None
    weight: float | None = None
    reported_rate: float | None = None
    reported_score: float | None = None
    income: dict[str, dict[str, float | None]] = field(default_factory=dict)
    spending: dict[str, dict[str, float | None]] = field(default_factory=dict)


@dataclass
class IndicatorRow:
    level1: str
    level2: str
    name: str
    target: Any
    actual: Any
    weight: float
    reported: float | None = None
    reason: str | None = None
    grade: str | None = None
    judged: float | None = None  # the officer's own point score for a qualitative indicator (template column K)


@dataclass
class DeptForm:
    unit: str
    year: int | None
    funds: Funds
    indicators: list[IndicatorRow]
    reported_sum: float | None = None
    kind: str = "dept"
    reported_total: float | None = None
    reported_grade: str | None = None
    stated_split_totals: dict[str, float] = field(default_factory=dict)  # "按收入性质分：38479.52"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DeptForm":
        """A form from its JSON data (the layout of ``jixiao/samples/hunan-2024-dept.json``).

        Example:
            >>> form = DeptForm.from_dict({"unit": "某单位", "year": 2024, "funds": {"budget": 100, "executed": 92},
            ...                            "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "保洁面积",
            ...                                            "target": "≥10万平方米", "actual": "9万平方米", "weight": 50}]})
            >>> res = score_form(form)
            >>> res.exec_score, res.indicators[0].score
            (9.2, 45.0)
        """
        f = d["funds"]
        funds = Funds(**{k: f.get(k) for k in Funds.__dataclass_fields__ if k in f})
        rows = [IndicatorRow(**r) for r in d.get("indicators", [])]
        return cls(unit=d.get("unit", ""), year=d.get("year"), funds=funds, indicators=rows,
                   reported_sum=d.get("reported_sum"), kind=d.get("kind", "dept"),
                   reported_total=d.get("reported_total"), reported_grade=d.get("reported_grade"),
                   stated_split_totals=d.get("stated_split_totals", {}))

    @classmethod
    def load(cls, path: str | Path) -> "DeptForm":
        """Read a form written as JSON (see ``jixiao/samples/hunan-2024-dept.json``).

        Example:
            >>> DeptForm.load("missing.json")  # doctest: +ELLIPSIS
            Traceback (most recent call last):
                ...
            jixiao.errors.JixiaoError: missing.json: 无法读取表单数据：... [form.unreadable]
        """
        p = Path(path)
        try:
            return cls.from_dict(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise JixiaoError(f"无法读取表单数据：{e}", code="form.unreadable", file=str(p)) from None


@dataclass
class FormScore:
    profile: str
    exec_rate: float
    exec_score: float
    indicators: list[IndicatorScore]
    indicator_sum: float
    sum_row: float
    total: float
    capped_total: float
    grade: str
    findings: list[Finding]


def _rate_matches(rate: float, reported: float) -> bool:
    return abs(round_excel(rate * 100, 2) - round_excel(reported * 100, 2)) <= 0.0100001


def score_form(form: DeptForm, profile: str | Profile | None = None) -> FormScore:
    """Score every part of ``form`` and collect what disagrees with the rules.

    Each finding names the field it is about (:mod:`jixiao.vocabulary`), so a reader
    that knows where it found each field can point at the cell.

    Example:
        >>> from importlib import resources
        >>> form = DeptForm.load(resources.files("jixiao.samples") / "hunan-2024-dept.json")
        >>> form.unit, form.year, len(form.indicators)
        ('湖南省机关事务管理局', 2024, 16)
        >>> res = score_form(form, "hunan-dept-2024")
        >>> round(res.exec_rate, 4), res.exec_score, res.sum_row, res.total, res.grade
        (0.8452, 9.0, 90.0, 99.0, '优')
        >>> [f.rule for f in res.findings]
        ['indicator.actual_has_comparator']
        >>> [f.rule for f in score_form(form, "national-2020").findings][:2]
        ['execution.score_mismatch', 'indicator.actual_has_comparator']
    """
    p = load_profile(profile)
    fu = form.funds
    rate = exec_rate(fu.budget, fu.executed)
    escore = exec_score(rate, p, fu.weight)
    fs = _execution_findings(fu, rate, escore, p) + _split_findings(form, p)
    scored, row_findings = _indicator_findings(form.indicators, p)
    fs += row_findings
    lines = [IndicatorLine(r.level1, r.level2, r.name, as_number(r.weight), s.score)
             for r, s in zip(form.indicators, scored)]
    fs += _weight_findings(lines, p, fu.weight)
    isum = indicators_total(lines)
    sum_row = sum_row_value(escore, isum, p)
    total = overall_total(escore, isum)
    capped = cap_total(total, rate, p)
    g = grade(capped, p)
    fs += _total_findings(form, sum_row, capped, g, p)
    return FormScore(profile=p.id, exec_rate=rate, exec_score=escore, indicators=scored, indicator_sum=isum,
                     sum_row=sum_row, total=total, capped_total=capped, grade=g, findings=fs)


def _execution_findings(fu: Funds, rate: float, escore: float, p: Profile) -> list[Finding]:
    """The reported 执行率 against 全年执行数 / 全年预算数 (naming the 年初预算数 mistake), and its score."""
    fs = []
    if fu.reported_rate is not None and not _rate_matches(rate, as_number(fu.reported_rate, "执行率")):
        rep = as_number(fu.reported_rate, "执行率")
        initial = fu.initial_budget
        if initial and _rate_matches(as_number(fu.executed) / as_number(initial), rep):
            fs.append(Finding(WRONG_BUDGET, "error", "执行率用年初预算数作分母；应为 全年执行数 / 全年预算数",
                              expected=f"{rate:.2%}", found=f"{rep:.2%}", field=v.FUNDS_RATE, context="执行率"))
        else:
            fs.append(Finding(RATE_MISMATCH, "error", "执行率与 全年执行数 / 全年预算数 不符",
                              expected=f"{rate:.2%}", found=f"{rep:.2%}", field=v.FUNDS_RATE, context="执行率"))
    if fu.reported_score is not None and abs(as_number(fu.reported_score) - escore) > p.indicators.score_tolerance:
        fs.append(Finding(EXEC_SCORE_MISMATCH, "error", "执行率得分与计分规则不符", expected=escore,
                          found=fu.reported_score, field=v.FUNDS_SCORE, context="执行率得分"))
    return fs


def _split_findings(form: DeptForm, p: Profile) -> list[Finding]:
    """Splits of 年度资金总额 that do not add up, and totals written in labels that disagree."""
    fu = form.funds
    fs = []
    totals = {"全年预算数": fu.budget, "全年执行数": fu.executed, "年初预算数": fu.initial_budget}
    for group, split in (("income", fu.income), ("spending", fu.spending)):
        label = v.GROUPS[group]
        for column, parts in split.items():
            if totals.get(column) is None or not any(x not in (None, "") for x in parts.values()):
                continue
            chk = check_split(totals[column], parts, p)  # type: ignore[arg-type]
            if not chk.ok:
                fs.append(Finding(SPLIT_MISMATCH, "error",
                                  f"{label}各项之和 {chk.parts_sum:.2f} 与{column} {chk.total:.2f} 不符",
                                  expected=chk.total, found=chk.parts_sum, field=v.subtotal_key(group, column),
                                  context=f"{label}/{column}",
                                  extra={"group": group, "column": column, "parts": list(parts)}))
        stated = form.stated_split_totals.get(group)
        if stated is not None:
            column = p.label_split_columns[group]
            want = totals.get(column)
            if want is not None and abs(as_number(stated) - as_number(want)) > p.funds_tolerance:
                fs.append(Finding(SAME_QUANTITY, "error",
                                  f"“{label}”后写的合计 {as_number(stated):.2f} 与{column} {as_number(want):.2f} 不一致",
                                  expected=want, found=stated, field=v.stated_key(group), context=f"{label}合计"))
    return fs


def _indicator_findings(rows: list[IndicatorRow], p: Profile) -> tuple[list[IndicatorScore], list[Finding]]:
    """Every indicator row scored; each finding points at its row's cell that the rule names."""
    scored, fs = [], []
    for i, row in enumerate(rows):
        officer = row.judged if row.judged is not None else row.reported
        s = indicator_score(row.target, row.actual, row.weight, p, grade=row.grade, reported=officer,
                            reason=row.reason)
        if (s.kind == "定性" and row.judged is not None and row.reported is not None and s.score is not None
                and abs(as_number(row.reported, "得分") - s.score) > p.indicators.score_tolerance):
            s.findings.append(Finding(SCORE_MISMATCH, "error",
                                      f"得分与计分规则不符：应为 {s.score:g}，表中为 {as_number(row.reported):g}",
                                      expected=s.score, found=row.reported))
        for f in s.findings:
            column = RULES[f.rule].points_at or "score"
            if f.rule == QUALITATIVE_OUT_OF_BAND and row.judged is not None:
                column = "judged"  # the officer's own points, in the helper column
            f.field = f.field or v.indicator_key(i, column)
            f.context = f.context or row.name
            f.extra.setdefault("row", i)
        fs.extend(s.findings)
        scored.append(s)
    return scored, fs


def _weight_findings(lines: list[IndicatorLine], p: Profile, execution_weight: float | None) -> list[Finding]:
    """Weights against the profile; a first-level finding points at that level's first row."""
    fs = check_weights(lines, p, execution_weight)
    for f in fs:
        if f.rule == WEIGHTS_TOTAL:
            f.field = v.SUM_ROW_WEIGHT
        elif "level1" in f.extra:
            row = next((i for i, ln in enumerate(lines) if level_key(ln.level1) == f.extra["level1"]), None)
            f.field = v.indicator_key(row, "weight") if row is not None else None
    return fs


def _total_findings(form: DeptForm, sum_row: float, total: float, g: str, p: Profile) -> list[Finding]:
    """合计, 总分 and 等级 as the form reports them, against the rules' values."""
    tol = p.indicators.score_tolerance
    fs = []
    if form.reported_sum is not None and abs(as_number(form.reported_sum) - sum_row) > tol:
        fs.append(Finding(TOTAL_SUM_ROW_MISMATCH, "error", "合计与各项得分之和不符", expected=sum_row,
                          found=form.reported_sum, field=v.SUM_ROW_SCORE, context="合计"))
    if form.reported_total is not None and abs(as_number(form.reported_total, "总分") - total) > tol:
        fs.append(Finding(TOTAL_TOTAL_MISMATCH, "error", "总分与执行率得分加各项指标得分之和不符", expected=total,
                          found=form.reported_total, field=v.TOTAL_SCORE, context="总分"))
    if form.reported_grade and str(form.reported_grade).strip().removeprefix("等级：") != g:
        fs.append(Finding(TOTAL_GRADE_MISMATCH, "error", f"等级应为“{g}”（总分 {total:g}）", expected=g,
                          found=form.reported_grade, field=v.TOTAL_GRADE, context="等级"))
    return fs
