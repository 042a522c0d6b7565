"""A filled self-evaluation form as data, and scoring it as a whole.

This is the composition of the rules: 执行率 and its score, the fund splits,
every indicator row, the weights, the 合计 row, 总分 and 等级. The workbook
reader produces a :class:`DeptForm`; the samples in ``jixiao/samples`` are
forms written as JSON.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import vocabulary as v
from .deviation import (
    QUALITATIVE_OUT_OF_BAND,
    REASON_MISSING,
    SCORE_MISMATCH,
    SCORE_OVER_WEIGHT,
    IndicatorScore,
    indicator_score,
)
from .errors import Finding, JixiaoError
from .certainty import execution_family, plausible_rule
from .execution import cap_total, exec_rate, exec_score
from .funds import check_split
from .numbers import as_number, round_excel
from .profile import Profile, load_profile
from .values import Measure, Qualitative, compact, parse_value
from .rules import RULES, error_codes, rule
from .totals import TOTAL as WEIGHTS_TOTAL
from .totals import FIRST_LEVEL, SECOND_LEVEL, UNKNOWN_LEVEL
from .totals import (
    IndicatorLine,
    check_weights,
    grade,
    indicators_total,
    legend_bands,
    level_key,
    overall_total,
    split_label,
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
    rate_decimals: int | None = None  # decimals the reported 执行率 is shown with (0 for "60%"); None: two
    parts: list[PartRow] = field(default_factory=list)  # sub-rows with their own 执行率 / 得分 (其中：…)
    total_from_parts: bool = False  # the 年度资金总额 row was empty or zero: budget and executed are its parts' sums
    shown_totals: dict[str, float] = field(default_factory=dict)  # that row's amounts as shown (with total_from_parts)
    points_shown: bool = True  # the funds table has a 分值 or 得分 column or states its points ("20分*执行率")


@dataclass
class PartRow:
    """A split row that shows its own 执行率 or 得分 (项目支出: 其中：本年财政拨款 …; 部门: 基本支出 …)."""

    group: str
    part: str
    budget: float | None
    executed: float | None
    reported_rate: float | None = None
    rate_decimals: int | None = None
    reported_score: float | None = None


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
    criteria: str | None = None  # the row's own 评价标准 when it is scored by criteria, with no target or actual


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
    reported_sum_weight: float | None = None  # the 合计 row's 分值 as the form shows it
    reported_total_weight: float | None = None  # the 总分 row's 分值 as the form shows it
    grade_legend: str | None = None  # a grading legend printed on the form ("90分（含）以上为优；…")

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
                   stated_split_totals=d.get("stated_split_totals", {}),
                   reported_sum_weight=d.get("reported_sum_weight"), reported_total_weight=d.get("reported_total_weight"),
                   grade_legend=d.get("grade_legend"))

    @classmethod
    def load(cls, path: str | Path) -> "DeptForm":
        """Read a form written as JSON (see ``jixiao/samples/hunan-2024-dept.json``): :func:`load_form`'s form.

        Example:
            >>> DeptForm.load("missing.json")  # doctest: +ELLIPSIS
            Traceback (most recent call last):
                ...
            jixiao.errors.JixiaoError: missing.json: 无法读取表单数据：... [form.unreadable]
        """
        return load_form(path)[0]


def _unreadable(message: str, path: str | Path) -> JixiaoError:
    return JixiaoError(message, code="form.unreadable", file=str(path))


def read_form_data(path: str | Path) -> dict[str, Any]:
    """The JSON object of a form file (a form, or a county's 基础数据表 with ``"kind": "county-basic"``); what is
    wrong with the file is said in Chinese (code form.unreadable).

    Example:
        >>> from importlib import resources
        >>> read_form_data(resources.files("jixiao.samples") / "county-2022-basic.json")["kind"]
        'county-basic'
    """
    from .checking.xlsx import reason

    try:
        data = json.loads(Path(str(path)).read_text(encoding="utf-8"))
    except OSError as e:
        where = f"{e.filename}：" if e.filename else ""
        raise _unreadable(f"无法读取表单数据：{where}{reason(e)}", path) from None
    except UnicodeDecodeError:
        raise _unreadable("表单数据不是 UTF-8 文本", path) from None
    except ValueError as e:
        raise _unreadable(f"表单数据不是有效的 JSON（第 {getattr(e, 'lineno', '?')} 行）", path) from None
    if not isinstance(data, dict):
        raise _unreadable("表单数据应为 JSON 对象（{…}）", path)
    return data


def named_profile(data: dict[str, Any]) -> str | None:
    """The profile a form file names (its ``"profile"`` key), else None."""
    named = data.get("profile")
    return str(named) if isinstance(named, str) and named.strip() else None


def form_from_data(data: dict[str, Any], path: str | Path) -> DeptForm:
    """The department form of a file's JSON object; a missing or malformed part is said in Chinese."""
    try:
        return DeptForm.from_dict(data)
    except KeyError as e:
        raise _unreadable(f"表单数据缺少“{e.args[0]}”", path) from None
    except (TypeError, ValueError, AttributeError):
        raise _unreadable("表单数据的结构不对（见 jixiao/samples/hunan-2024-dept.json）", path) from None


def load_form(path: str | Path) -> tuple[DeptForm, str | None]:
    """A form written as JSON and the profile it names (its ``"profile"`` key, else None); what is wrong with
    the file is said in Chinese (code form.unreadable).

    Example:
        >>> from importlib import resources
        >>> form, named = load_form(resources.files("jixiao.samples") / "hunan-2024-dept.json")
        >>> form.unit, named
        ('湖南省机关事务管理局', 'hunan-dept-2024')
    """
    data = read_form_data(path)
    return form_from_data(data, path), named_profile(data)


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
    unscored: tuple[int, ...] = ()  # rows the rules could not score: 总分 and 等级 are then 需核对
    total_note: str | None = None  # why the total is 需核对 (Chinese), None when the total is complete

    @property
    def complete(self) -> bool:
        """Whether every row was scored: only then 总分 and 等级 are numbers a unit may be ranked by."""
        return not self.unscored

    @property
    def shown_total(self) -> float | None:
        """总分 (after any 执行率 cap), or None (需核对) when a row could not be scored."""
        return self.capped_total if self.complete else None

    @property
    def shown_grade(self) -> str | None:
        """等级, or None (需核对) when a row could not be scored."""
        return self.grade if self.complete else None


def _rate_matches(rate: float, reported: float, decimals: int | None = None) -> bool:
    """Whether ``reported`` is ``rate`` as the form shows it: to ``decimals`` places of a percent (two when
    unknown), so "60%" for 59.58% is a correct display; a number typed without its display is allowed
    one unit of the last place."""
    d = 2 if decimals is None else decimals
    slack = 1e-9 if decimals is not None else 10 ** -d * 1.0000001
    return abs(round_excel(rate * 100, d) - round_excel(reported * 100, d)) <= slack


def _truncated(rate: float, reported: float, decimals: int | None) -> bool:
    """The rate cut instead of rounded (97.80% for 97.8086%): the display rule, not the division, differs."""
    d = 2 if decimals is None else decimals
    return abs(round_excel(rate * 100, d, "down") - round_excel(reported * 100, d)) <= 1e-9


def _shown(rate: float, decimals: int | None) -> str:
    return f"{round_excel(rate * 100, 2 if decimals is None else decimals):.{2 if decimals is None else decimals}f}%"


def score_form(form: DeptForm, profile: str | Profile | None = None) -> FormScore:
    """Score every part of ``form`` and collect what disagrees with the rules.

    Each finding names the field it is about (:mod:`jixiao.vocabulary`), so a reader
    that knows where it found each field can point at the cell. Arithmetic inside the
    form (splits, 执行率, totals of the form's own scores) is an error; a score that
    differs from a rule the profile only inferred is a warning naming that rule.

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
    if fu.reported_score is None and fu.weight is None and any(_is_execution_row(r) for r in form.indicators):
        # the form scores 执行率 in its indicator table only (a rubric-style 预算执行率 row): its points are
        # that row's, so the funds block carries none — not added twice, not a separate 10 in the weights
        fu = replace(fu, weight=0.0)
        form = replace(form, funds=fu)
    if fu.reported_score is None and fu.weight is None and not fu.points_shown and form.indicators \
            and abs(sum(as_number(r.weight) for r in form.indicators) - p.weights.total) <= p.weights.tolerance:
        # a funds table with no 分值, no 得分 and no stated points, on a form whose own rows carry the whole
        # total (a rubric-style project form: 项目决策 + 项目管理 + 项目绩效 = 100): 执行率 is shown, not scored
        fu = replace(fu, weight=0.0)
        form = replace(form, funds=fu)
    rate = exec_rate(fu.budget, fu.executed)
    escore = exec_score(rate, p, fu.weight)
    fs = _execution_findings(fu, rate, escore, p) + _split_findings(form, p) + _part_findings(fu, p)
    for_totals = _admitted_exec_score(fu, escore, fs)
    scored, row_findings = _indicator_findings(form.indicators, p, rate, fu.rate_decimals)
    fs += row_findings
    lines = [IndicatorLine(r.level1, r.level2, r.name, as_number(r.weight), s.score)
             for r, s in zip(form.indicators, scored)]
    layout = _layout(form, lines, p)
    if lines:
        fs += _weight_findings(lines, p, fu.weight, form, layout)
    isum = indicators_total(lines)
    sum_row = overall_total(for_totals, isum) if layout.sum_row_includes_execution else round(isum, 10)
    total = overall_total(for_totals, isum)
    capped = cap_total(total, rate, p)
    g = grade(capped, p, legend_bands(form.grade_legend))
    unscored = tuple(i for i, (ln, sc) in enumerate(zip(lines, scored)) if sc.score is None and ln.weight > 0)
    note = (f"需核对：{len(unscored)} 项指标无法按规则计分（" + "、".join(
        form.indicators[i].name or f"第{i + 1}项" for i in unscored[:5]) + ("等" if len(unscored) > 5 else "")
            + "），总分与等级不能按规则给出") if unscored else None
    fs += _total_findings(form, scored, for_totals, sum_row, capped, g, p, layout, fs, complete=not unscored)
    return FormScore(profile=p.id, exec_rate=rate, exec_score=escore, indicators=scored, indicator_sum=isum,
                     sum_row=sum_row, total=total, capped_total=capped, grade=g, findings=fs, unscored=unscored,
                     total_note=note)


@dataclass(frozen=True)
class Layout:
    """What the form itself says about its totals, before any profile (DOMAIN.md §4)."""

    sum_row_includes_execution: bool  # the 合计 row adds the 执行率 score
    total_includes_execution: bool  # the 总分 row adds the 执行率 score
    reason: str = ""  # why (Chinese), when the form decided


def _layout(form: DeptForm, lines: list[IndicatorLine], p: Profile) -> Layout:
    """The 合计/总分 rows' own 分值 decide whether they include 执行率: equal to the indicators' weights → no,
    to the indicators' weights plus the 执行率 分值 → yes; otherwise the profile says."""
    s = round(sum(ln.weight for ln in lines), 10)
    e = as_number(form.funds.weight) if form.funds.weight is not None else p.execution.weight
    tol = p.weights.tolerance

    def decide(w: float | None, default: bool) -> tuple[bool, str]:
        if w is None or not lines:
            return default, ""
        w = as_number(w)
        if abs(w - s) <= tol and e > tol:
            return False, f"分值 {w:g} 等于绩效指标分值之和，不含执行率"
        if abs(w - s - e) <= tol:
            return True, f"分值 {w:g} 等于绩效指标分值之和加执行率分值"
        return default, ""

    inc_sum, why_sum = decide(form.reported_sum_weight, p.weights.sum_row_includes_execution)
    inc_total, why_total = decide(form.reported_total_weight, True)
    return Layout(inc_sum, inc_total, "；".join(x for x in (why_sum, why_total) if x))


def _execution_findings(fu: Funds, rate: float, escore: float, p: Profile) -> list[Finding]:
    """The reported 执行率 against 全年执行数 / 全年预算数 (naming the 年初预算数 mistake), and its score."""
    fs = []
    if fu.reported_rate is not None and not fu.total_from_parts \
            and not _rate_matches(rate, as_number(fu.reported_rate, "执行率"), fu.rate_decimals):
        rep = as_number(fu.reported_rate, "执行率")
        initial = fu.initial_budget
        if initial and _rate_matches(as_number(fu.executed) / as_number(initial), rep, fu.rate_decimals):
            fs.append(Finding(WRONG_BUDGET, "error", "执行率用年初预算数作分母；应为 全年执行数 / 全年预算数",
                              expected=f"{rate:.2%}", found=f"{rep:.2%}", field=v.FUNDS_RATE, context="执行率"))
        else:
            fs.append(_rate_finding(rate, rep, fu.rate_decimals, v.FUNDS_RATE, "执行率"))
    if fu.reported_score is not None and abs(as_number(fu.reported_score) - escore) > p.indicators.score_tolerance:
        fs.append(_exec_score_finding(escore, fu.reported_score, p, v.FUNDS_SCORE, "执行率得分",
                                      rate, _exec_weight(fu, p), fu.rate_decimals))
    return fs


def _admitted_exec_score(fu: Funds, escore: float, found: list[Finding]) -> float:
    """The form's own execution score where a plausible rule gives it (a warning naming that rule): the totals
    follow from it, so 总分 is not a second disagreement; otherwise the profile's rule."""
    admitted = any(f.rule == EXEC_SCORE_MISMATCH and f.field == v.FUNDS_SCORE and "plausible_rule" in f.extra
                   for f in found)
    return as_number(fu.reported_score) if admitted and fu.reported_score is not None else escore


def _exec_weight(fu: Funds, p: Profile) -> float:
    return p.execution.weight if fu.weight is None else as_number(fu.weight, "分值")


def _rate_finding(rate: float, rep: float, decimals: int | None, key: str, context: str) -> Finding:
    if _truncated(rate, rep, decimals):
        return Finding(RATE_MISMATCH, "warning", f"{context}按四舍五入应为 {_shown(rate, decimals)}，表中截尾显示，请复核",
                       expected=_shown(rate, decimals), found=f"{rep:.2%}", field=key, context=context)
    return Finding(RATE_MISMATCH, "error", f"{context}与 执行数 / 预算数 不符", expected=_shown(rate, decimals),
                   found=f"{rep:.2%}", field=key, context=context)


def _exec_score_finding(expected: float, found: float, p: Profile, key: str, context: str,
                        rate: float, weight: float, rate_decimals: int | None) -> Finding:
    """A reported execution score against the family of plausible rules: an error when none gives it (0 at
    100%, more than 分值, a number no rounding gives), a warning naming the rule that does."""
    rep = as_number(found, "得分")
    if rep > weight + p.indicators.score_tolerance:
        return Finding(EXEC_SCORE_MISMATCH, "error", f"{context} {rep:g} 超过分值 {weight:g}",
                       expected=expected, found=found, field=key, context=context)
    shown = round_excel(rate * 100, 2 if rate_decimals is None else rate_decimals) / 100
    match = plausible_rule(rep, execution_family(rate, weight, p, shown), p.indicators.score_tolerance)
    if match is None:
        return Finding(EXEC_SCORE_MISMATCH, "error",
                       "执行率得分与计分规则不符" + ("" if p.settled("execution") else
                                           "，任何合理的计分与取整方法都得不到表中得分"),
                       expected=expected, found=found, field=key, context=context)
    return Finding(EXEC_SCORE_MISMATCH, "warning",
                   f"执行率得分与所配规则不同，但符合“{match.name}”，请复核" + p.assumed("execution"),
                   expected=expected, found=found, field=key, context=context, extra={"plausible_rule": match.name})


def _part_findings(fu: Funds, p: Profile) -> list[Finding]:
    """Sub-rows (其中：本年财政拨款, 基本支出 …) that show their own 执行率 or 得分: the same division and rule."""
    fs = []
    for row in fu.parts:
        if not row.budget or row.budget <= 0 or row.executed is None or row.executed < 0:
            continue
        rate = row.executed / row.budget
        if row.reported_rate is not None and not _rate_matches(rate, row.reported_rate, row.rate_decimals):
            fs.append(_rate_finding(rate, row.reported_rate, row.rate_decimals,
                                    v.part_key(row.group, row.part, "rate"), row.part))
        if row.reported_score is not None:
            want = exec_score(rate, p, fu.weight)
            if abs(row.reported_score - want) > p.indicators.score_tolerance:
                fs.append(_exec_score_finding(want, row.reported_score, p, v.part_key(row.group, row.part, "score"),
                                              row.part, rate, _exec_weight(fu, p), row.rate_decimals))
    return fs


def _split_findings(form: DeptForm, p: Profile) -> list[Finding]:
    """Splits of 年度资金总额 that do not add up, and totals written in labels that disagree.

    A total row left empty or zero under filled parts is the cell that is wrong: the finding points at it,
    with the parts' sum as the expected value. A total written in the group's label (按支出性质分：1925.67)
    that equals its parts but not 年度资金总额 is pointed at in that label.
    """
    fu = form.funds
    fs = []
    totals = {"全年预算数": fu.budget, "全年执行数": fu.executed, "年初预算数": fu.initial_budget}
    if fu.total_from_parts:
        totals = {k: fu.shown_totals.get(k, 0.0) for k in totals}
    for group, split in (("income", fu.income), ("spending", fu.spending)):
        label = v.GROUPS[group]
        stated = form.stated_split_totals.get(group)
        for column, parts in split.items():
            if totals.get(column) is None or not any(x not in (None, "") for x in parts.values()):
                continue
            chk = check_split(totals[column], parts, p)  # type: ignore[arg-type]
            if chk.ok:
                continue
            extra = {"group": group, "column": column, "parts": list(parts)}
            if fu.total_from_parts or abs(chk.total) <= p.funds_tolerance:
                fs.append(Finding(SPLIT_MISMATCH, "error",
                                  f"年度资金总额的{column} {chk.total:.2f} 与其中各项之和 {chk.parts_sum:.2f} 不符",
                                  expected=chk.parts_sum, found=chk.total, field=v.FUND_FIELDS[column],
                                  context=f"年度资金总额/{column}", extra=extra))
                continue
            key = v.subtotal_key(group, column)
            if stated is not None and abs(as_number(stated) - chk.parts_sum) <= p.funds_tolerance \
                    and column == p.label_split_columns.get(group):
                key = v.stated_key(group)
            fs.append(Finding(SPLIT_MISMATCH, "error",
                              f"{label}各项之和 {chk.parts_sum:.2f} 与{column} {chk.total:.2f} 不符",
                              expected=chk.total, found=chk.parts_sum, field=key,
                              context=f"{label}/{column}", extra=extra))
        if stated is not None:
            column = p.label_split_columns[group]
            want = totals.get(column)
            parts_sum = check_split(0, split.get(column, {}), p).parts_sum if split.get(column) else None
            if parts_sum is not None and abs(as_number(stated) - parts_sum) <= p.funds_tolerance:
                continue  # the label's total is its parts' sum: the split finding above says it all
            if want is not None and abs(as_number(stated) - as_number(want)) > p.funds_tolerance:
                fs.append(Finding(SAME_QUANTITY, "error",
                                  f"“{label}”后写的合计 {as_number(stated):.2f} 与{column} {as_number(want):.2f} 不一致",
                                  expected=want, found=stated, field=v.stated_key(group), context=f"{label}合计"))
    return fs


_EXECUTION_ROW = re.compile(r"^(?:指标\d+[:：])?(?:项目)?(?:预算|资金|预算资金)?执行率$")


def _is_execution_row(row: IndicatorRow) -> bool:
    """An indicator row that is the form's 执行率 criterion (项目管理 · 投入管理 · 预算执行率 in a rubric-style
    table): named so, with no measurable target of its own (“—”, blank or words) — its points follow the
    execution rule, not an indicator's. A 预算执行率 row with a target such as “≥90%” is an ordinary indicator."""
    if not _EXECUTION_ROW.match(compact(row.name or "")):
        return False
    return not isinstance(parse_value(row.target), Measure)


def _execution_row_score(row: IndicatorRow, i: int, rate: float | None, decimals: int | None,
                         p: Profile) -> IndicatorScore:
    """A 执行率 row scored by the profile's execution rule with the row's own 分值; the rate is the funds
    table's (全年执行数 / 全年预算数), or the row's 实际完成值 when the form has no amounts."""
    w = as_number(row.weight, "分值")
    a = parse_value(row.actual)
    if rate is None and isinstance(a, Measure) and a.dimension == "ratio":
        rate = a.base_value
    res = IndicatorScore(kind="正向", weight=w, score=None, target=parse_value(row.target), actual=a)
    if rate is None:
        return indicator_score(row.target, row.actual, row.weight, p, reported=row.reported,
                               reason=row.reason, name=row.name)
    expected = exec_score(rate, p, w)
    res.score = res.raw_score = expected
    res.ratio, res.met = rate, expected >= w - 1e-9
    rep = None if row.reported is None or row.reported == "" else as_number(row.reported, "得分")
    if rep is not None and abs(rep - expected) > p.indicators.score_tolerance:
        f = _exec_score_finding(expected, rep, p, v.indicator_key(i, "score"), row.name, rate, w, decimals)
        res.findings.append(f)
        if f.severity == "warning":
            res.score = rep  # a plausible rule gives the form's own points
    shown_below = rep is not None and rep < w - 1e-9
    res.reason_required = shown_below or expected < w - 1e-9
    if row.reason is not None and not str(row.reason).strip() and res.reason_required \
            and p.indicators.reason_required_below_full:
        res.findings.append(Finding(REASON_MISSING, "error" if shown_below else "warning",
                                    "得分低于分值，须填写偏差原因分析及改进措施" if shown_below else
                                    "按计分规则得分低于分值，应填写偏差原因分析及改进措施",
                                    expected="偏差原因", found=""))
    return res


def _is_criteria_row(row: IndicatorRow) -> bool:
    """A row scored by its own 评价标准 (a rubric row: 决策依据, 财务制度 …), with no target and no actual."""
    blank = (None, "")
    return bool(row.criteria and str(row.criteria).strip()) and row.target in blank and row.actual in blank


def _criteria_row_score(row: IndicatorRow) -> IndicatorScore:
    """A criteria row's points are the form's own, within 0 … 分值: only a score above 分值 is certainly wrong;
    which criteria were met is the officer's to judge (rubric.inconsistent says when the criteria cannot reach 分值)."""
    w = as_number(row.weight)
    res = IndicatorScore(kind=None, weight=w, score=None, target=Qualitative(str(row.criteria)), actual=Qualitative(""))
    rep = None if row.reported is None or row.reported == "" else as_number(row.reported, "得分")
    if rep is None:
        return res
    if rep > w + 1e-9:
        res.findings.append(Finding(SCORE_OVER_WEIGHT, "error", f"得分 {rep:g} 超过分值 {w:g}", expected=w, found=rep))
    res.score = min(max(rep, 0.0), w)
    res.met = rep >= w - 1e-9
    return res


def _indicator_findings(rows: list[IndicatorRow], p: Profile, rate: float | None = None,
                        rate_decimals: int | None = None) -> tuple[list[IndicatorScore], list[Finding]]:
    """Every indicator row scored; each finding points at its row's cell that the rule names."""
    scored, fs = [], []
    for i, row in enumerate(rows):
        officer = row.judged if row.judged is not None else row.reported
        if _is_execution_row(row):
            s = _execution_row_score(row, i, rate, rate_decimals, p)
        elif _is_criteria_row(row):
            s = _criteria_row_score(row)
        else:
            s = indicator_score(row.target, row.actual, row.weight, p, grade=row.grade, reported=officer,
                                reason=row.reason, name=row.name)
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


def _weight_findings(lines: list[IndicatorLine], p: Profile, execution_weight: float | None,
                     form: DeptForm | None = None, layout: Layout | None = None) -> list[Finding]:
    """Weights against the form's own 合计/总分 分值 first, then the profile; a first-level finding points at
    that level's first row."""
    fs = []
    own = _own_weight_findings(lines, p, execution_weight, form) if form is not None else None
    if own is not None:  # the form shows its total's 分值: the form's own arithmetic decides first
        fs += own
        by_level = [f for f in check_weights(lines, p, execution_weight) if f.rule != WEIGHTS_TOTAL]
        if not any(f.severity == "error" for f in own):
            for f in by_level:  # weights the form declared and that add up: adjusted, as 财预〔2020〕10号 allows
                f.severity = "info"
                f.message += "；表内分值自洽，按表内分值"
        fs += by_level
    else:
        fs += _form_declares_levels(check_weights(lines, p, execution_weight))
    fs += _declared_level_findings(lines, p)
    for f in fs:
        if f.rule == WEIGHTS_TOTAL:
            f.field = f.field or v.SUM_ROW_WEIGHT
        elif "level1" in f.extra and "level2" not in f.extra:
            row = next((i for i, ln in enumerate(lines) if level_key(ln.level1) == f.extra["level1"]), None)
            f.field = v.indicator_key(row, "weight") if row is not None else None
    return fs


def _form_declares_levels(found: list[Finding]) -> list[Finding]:
    """The form states its own 分值 per first-level indicator: where they add up to the total, they decide the
    weights (财预〔2020〕10号 “原则上”), and the profile's first-level weights only inform."""
    if any(f.rule == WEIGHTS_TOTAL for f in found):
        return found
    for f in found:
        if f.rule in (FIRST_LEVEL, UNKNOWN_LEVEL) and f.severity != "error":
            f.severity = "info"
            f.message += "；表内各一级指标分值之和与总分相符，按表内分值"
    return found


def _declared_level_findings(lines: list[IndicatorLine], p: Profile) -> list[Finding]:
    """A block label that carries its points ("产出指标(50分)", "数量指标15分") against the weights of its rows: 一级
    labels as ``weights.first_level``, 二级 labels (within their 一级 block) as ``weights.second_level``."""
    fs = []
    for rule_id, key_of, label_of, what in (
            (FIRST_LEVEL, lambda ln: level_key(ln.level1), lambda ln: ln.level1, "一级指标"),
            (SECOND_LEVEL, lambda ln: (level_key(ln.level1), split_label(ln.level2)[0]), lambda ln: ln.level2,
             "二级指标")):
        seen: dict[Any, tuple[float, int]] = {}
        for i, ln in enumerate(lines):
            found, declared = key_of(ln), split_label(label_of(ln))[1]
            if declared is not None and found not in seen:
                seen[found] = (declared, i)
        for block, (declared, row) in seen.items():
            got = round(sum(ln.weight for ln in lines if key_of(ln) == block), 10)
            if abs(got - declared) > p.weights.tolerance:
                name = block if isinstance(block, str) else block[1]
                extra: dict[str, Any] = {"level1": block if isinstance(block, str) else block[0], "declared": True}
                if not isinstance(block, str):
                    extra["level2"] = block[1]
                fs.append(Finding(rule_id, "warning", f"{what}“{name}”标注 {declared:g} 分，各行分值之和 {got:g}",
                                  expected=declared, found=got, field=v.indicator_key(row, "weight"), extra=extra))
    return fs


def _own_weight_findings(lines: list[IndicatorLine], p: Profile, execution_weight: float | None,
                         form: DeptForm) -> list[Finding] | None:
    """The 合计/总分 row's 分值 against the weights shown above it (None when the form shows no such 分值).

    Its 分值 is the indicators' weights (合计 without 执行率) or those plus the 执行率 分值; anything else
    is arithmetic that does not add up. A form whose 总分 分值 leaves 执行率 out although the profile's
    total includes it is a warning naming the rule.
    """
    declared = [(k, form.reported_sum_weight) for k in (v.SUM_ROW_WEIGHT,) if form.reported_sum_weight is not None]
    declared += [(k, form.reported_total_weight) for k in (v.TOTAL_WEIGHT,) if form.reported_total_weight is not None]
    if not declared or not lines:
        return None
    tol = p.weights.tolerance
    s = round(sum(ln.weight for ln in lines), 10)
    e = as_number(execution_weight) if execution_weight is not None else p.execution.weight
    fs = []
    for key, w in declared:
        w = as_number(w, "分值")
        is_total = key == v.TOTAL_WEIGHT
        name = "总分" if is_total else "合计"
        if abs(w - s) > tol and abs(w - s - e) > tol:
            want = s + e if (is_total or p.weights.sum_row_includes_execution) else s
            fs.append(Finding(WEIGHTS_TOTAL, "error",
                              f"{name}分值 {w:g} 不等于各项分值之和"
                              f"（绩效指标 {s:g}" + (f" + 执行率 {e:g}" if want != s else "") + f" = {want:g}）",
                              expected=want, found=w, field=key))
        elif not p.weights.execution_separate or abs(s + e - p.weights.total) <= tol:
            continue
        elif abs(w - s) <= tol and is_total:
            fs.append(Finding(WEIGHTS_TOTAL, "warning",
                              f"总分分值 {w:g} 只是绩效指标分值之和；按规则总分含执行率 {e:g} 分，"
                              f"各项分值合计 {s + e:g}，规则总分为 {p.weights.total:g}" + p.assumed("weights"),
                              expected=s + e, found=w, field=key))
        elif abs(w - s) <= tol:
            fs.append(Finding(WEIGHTS_TOTAL, "error" if p.settled("weights") else "warning",
                              f"绩效指标分值合计 {s:g}，应为 {p.weights.total - e:g}（总分 {p.weights.total:g}，"
                              f"执行率 {e:g} 分另计）" + p.assumed("weights"),
                              expected=p.weights.total - e, found=s, field=key))
        else:
            fs.append(Finding(WEIGHTS_TOTAL, "error" if p.settled("weights") else "warning",
                              f"{name}分值 {w:g}，规则配置的总分为 {p.weights.total:g}" + p.assumed("weights"),
                              expected=p.weights.total, found=w, field=key))
        break
    return fs


def _total_findings(form: DeptForm, scored: list[IndicatorScore], escore: float, sum_row: float, total: float,
                    g: str, p: Profile, layout: Layout, behind: list[Finding], complete: bool = True) -> list[Finding]:
    """合计, 总分 and 等级 as the form reports them.

    First against the form's own scores (an error when they do not add up); then 总分 and 等级 under the
    rules, a finding of its own: a warning (the rows behind it carry their own findings), info when those
    rows have none.
    """
    tol = p.indicators.score_tolerance
    fs = []
    fu = form.funds
    own_rows = sum(r.reported if r.reported is not None else (s.score or 0.0)
                   for r, s in zip(form.indicators, scored))
    own_exec = fu.reported_score if fu.reported_score is not None else escore
    own_sum = round(own_rows + (own_exec if layout.sum_row_includes_execution else 0.0), 10)
    own_total = round(own_rows + (own_exec if layout.total_includes_execution else 0.0), 10)
    why = f"（{layout.reason}）" if layout.reason else ""
    if form.reported_sum is not None and abs(as_number(form.reported_sum) - own_sum) > tol:
        fs.append(Finding(TOTAL_SUM_ROW_MISMATCH, "error",
                          "合计与表中各项得分之和不符" + ("（含执行率得分）" if layout.sum_row_includes_execution
                                                 else "（不含执行率得分）") + why,
                          expected=own_sum, found=form.reported_sum, field=v.SUM_ROW_SCORE, context="合计"))
    rows_behind = [f for f in behind if f.rule in (SCORE_MISMATCH, QUALITATIVE_OUT_OF_BAND, EXEC_SCORE_MISMATCH)]
    if complete and form.reported_sum is not None and abs(as_number(form.reported_sum) - own_sum) <= tol \
            and abs(as_number(form.reported_sum) - sum_row) > tol:
        fs.append(Finding(TOTAL_SUM_ROW_MISMATCH, "warning" if rows_behind else "info",
                          f"合计按规则应为 {sum_row:g}（表中各项之和为 {own_sum:g}），请复核各项得分",
                          expected=sum_row, found=form.reported_sum, field=v.SUM_ROW_SCORE, context="合计"))
    if form.reported_total is not None:
        rep = as_number(form.reported_total, "总分")
        if abs(rep - own_total) > tol:
            fs.append(Finding(TOTAL_TOTAL_MISMATCH, "error", "总分与表中执行率得分加各项指标得分之和不符" + why,
                              expected=own_total, found=form.reported_total, field=v.TOTAL_SCORE, context="总分"))
        elif complete and abs(rep - total) > tol:
            assumed = "" if layout.total_includes_execution else "；按规则总分含执行率得分"
            fs.append(Finding(TOTAL_TOTAL_MISMATCH, "warning" if rows_behind or assumed else "info",
                              f"总分按规则应为 {total:g}（表中各项之和为 {own_total:g}{assumed}），请复核各项得分",
                              expected=total, found=form.reported_total, field=v.TOTAL_SCORE, context="总分"))
    if form.reported_grade:
        shown = str(form.reported_grade).strip().removeprefix("等级：").removeprefix("等级:")
        base = own_total if form.reported_total is None or abs(as_number(form.reported_total) - own_total) <= tol \
            else as_number(form.reported_total)
        own_grade = grade(cap_total(base, _rate_or_one(fu), p), p, legend_bands(form.grade_legend))
        if shown != own_grade and shown != g:
            fs.append(Finding(TOTAL_GRADE_MISMATCH, "error", f"等级应为“{own_grade}”（总分 {base:g}）",
                              expected=own_grade, found=form.reported_grade, field=v.TOTAL_GRADE, context="等级"))
        elif shown != g and complete:
            fs.append(Finding(TOTAL_GRADE_MISMATCH, "warning", f"按规则总分 {total:g}，等级应为“{g}”，请复核",
                              expected=g, found=form.reported_grade, field=v.TOTAL_GRADE, context="等级"))
    return fs


def _rate_or_one(fu: Funds) -> float:
    try:
        return exec_rate(fu.budget, fu.executed)
    except JixiaoError:
        return 1.0
