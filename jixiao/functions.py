"""The table of cell functions: jixiao's worksheet functions (JX_…), written once in the core.

Each entry names a function, its parameters (which of them take a whole
range), its Chinese descriptions (shown in Excel's function wizard) and the
Python callable that computes it from cell values by calling the rules. Every
adapter reads this table: the xlwings UDFs in ``udfs/`` decorate these
callables, the ``formulas`` bridge and the template compiler call them, and
the add-in builder writes its VBA wrappers from it.

Errors: a value that cannot be read raises :class:`~jixiao.errors.JixiaoError`;
each calculator turns that into #VALUE! in the cell, so every SUM that
depends on it shows the error instead of silently scoring 0.

Example:
    >>> FUNCTIONS["JX_EXEC_RATE"].params
    ('budget', 'executed')
    >>> round(FUNCTIONS["JX_EXEC_RATE"].func(38479.52, 32521.07), 4)
    0.8452

    Each function as a cell computes it (arguments are cell values; a blank cell is None):

    >>> JX_EXEC_SCORE(0.8452, "hunan-dept-2024")
    9.0
    >>> JX_IND_SCORE("≥95%", "90%", 10), JX_IND_KIND("≤1次"), JX_IND_REASON("≥95%", "90%", 10, 9.47)
    (9.47, '反向', '须填写')
    >>> JX_IND_SCORE("≥95%", "96", 10)
    10.0
    >>> JX_IND_SCORE("≥95%", "96个", 10)
    Traceback (most recent call last):
        ...
    jixiao.errors.ValueReadError: 单位不一致：指标值为“%”，实际完成值为“个” [indicator.unscorable]
    >>> round(JX_CONTROL_RATE("在职人员控制率", 47, 51), 4), JX_CONTROL_SCORE("在职人员控制率", 0.9216, "county-rubric-2022")
    (0.9216, 2.0)
    >>> JX_PAYMENT_SCORE(0.2, 0.45, 0.78), JX_GRADE(99), JX_TOTAL_CAP(99, 0.75), JX_VALUE("1.2万条")
    (0.6, '优', 99.0, 12000.0)
    >>> JX_SUM_ROW(9, 90, "hunan-dept-2024"), JX_SUM_ROW(9, 90)
    (90, 99.0)
    >>> JX_SPLIT_CHECK([[None, 100, None]], [[None, 60, None], [None, 39, None]])
    '全年预算数：分项之和 99.00 ≠ 100.00'
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from . import totals
from .control import control_rate, control_score, payment_progress_score
from .deviation import indicator_kind, indicator_score, reason_requirement
from .errors import ValueReadError
from .execution import cap_total, exec_rate, exec_score
from .funds import check_split
from .rules import error_codes
from .values import Measure, parse_value

error_codes({
    "value.unreadable": "数值无法读取",
    "indicator.unscorable": "指标无法计分",
    "value.missing": "缺少数值",
    "value.not_number": "不是数字",
})


CATEGORY = "绩效自评"


@dataclass(frozen=True)
class CellFunction:
    """What every calculator and the add-in need to know of one worksheet function."""

    name: str
    params: tuple[str, ...]
    required: int
    description: str
    arg_docs: dict[str, str]
    func: Callable[..., Any]
    ranges: frozenset[str] = frozenset()  # parameters that take a whole range (2-D list of rows)


FUNCTIONS: dict[str, CellFunction] = {}


def cell_function(ranges: tuple[str, ...] = (), **arg_docs: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Enter a function in :data:`FUNCTIONS`; every parameter needs a Chinese description.

    Parameters named in ``ranges`` receive a range as a list of rows; all others a single value.

    Example:
        >>> spec = FUNCTIONS["JX_IND_SCORE"]
        >>> spec.params, spec.required
        (('target', 'actual', 'weight', 'profile', 'grade', 'reported'), 3)
        >>> sorted(FUNCTIONS["JX_SPLIT_CHECK"].ranges)
        ['parts', 'totals']
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(fn)
        missing = set(sig.parameters) - set(arg_docs)
        if missing:
            raise TypeError(f"{fn.__name__}: no description for {sorted(missing)}")
        required = sum(p.default is inspect.Parameter.empty for p in sig.parameters.values())
        FUNCTIONS[fn.__name__] = CellFunction(fn.__name__, tuple(sig.parameters), required,
                                              inspect.getdoc(fn) or "", dict(arg_docs), fn, frozenset(ranges))
        return fn

    return register


_PROFILE_DOC = "规则配置名称或文件路径，如 national-2020、hunan-dept-2024；省略时用 national-2020"


def _profile(profile: object) -> str | None:
    """A blank profile cell means the default profile."""
    text = "" if profile is None else str(profile).strip()
    return text or None


def _blank(x: object) -> bool:
    return x is None or (isinstance(x, str) and not x.strip())


@cell_function(budget="全年预算数（万元）",
     executed="全年执行数（万元）")
def JX_EXEC_RATE(budget, executed):
    """执行率 = 全年执行数 / 全年预算数（返回小数，单元格设为百分比格式）。"""
    return exec_rate(budget, executed)


@cell_function(rate="执行率（小数，如 0.8452）",
     profile=_PROFILE_DOC,
     weight="分值；省略时用规则配置中的执行率分值")
def JX_EXEC_SCORE(rate, profile=None, weight=None):
    """执行率得分：按规则配置的计分方法（按比例或分档）、封顶与取整。"""
    return exec_score(rate, _profile(profile), None if _blank(weight) else weight)


@lru_cache(maxsize=4096)
def _indicator(target, actual, weight, profile, grade, reported):
    """One indicator's (score, reason_recommended, error text), cached: a row's cells ask several times."""
    res = indicator_score(target, actual, weight, profile, grade=grade, reported=reported)
    errors = "；".join(f.message for f in res.findings if f.severity == "error")
    if res.score is None and not errors:  # what the checker could not read: 需人工核对, said in the cell
        errors = "；".join(f.message for f in res.findings if f.severity == "warning")
    return res.score, res.reason_recommended, errors


@cell_function(target="年度指标值，如 ≥95%、≤1次、=24期、显著提升",
     actual="实际完成值",
     weight="分值",
     profile=_PROFILE_DOC,
     grade="定性指标等级（达成/部分达成/未达成），可省略",
     reported="定性指标已评得分，可省略；在等级区间内时采用")
def JX_IND_SCORE(target, actual, weight, profile=None, grade=None, reported=None):
    """绩效指标得分：定量指标按完成比例（正向、反向、等于），定性指标按等级区间。"""
    if _blank(weight):
        raise ValueReadError("分值为空", code="value.missing")
    score, _, errors = _indicator(target, actual, weight, _profile(profile),
                                  None if _blank(grade) else str(grade), None if _blank(reported) else reported)
    if score is None:
        raise ValueReadError(errors or "无法计分", code="indicator.unscorable")
    return score


@cell_function(target="年度指标值")
def JX_IND_KIND(target):
    """指标类型：正向、反向、等于或定性（无法读取时报错）。"""
    kind = indicator_kind(target)
    if kind is None:
        v = parse_value(target)
        raise ValueReadError(getattr(v, "reason", "无法读取"), code="value.unreadable")
    return kind


@cell_function(target="年度指标值",
     actual="实际完成值",
     weight="分值",
     score="得分",
     profile=_PROFILE_DOC)
def JX_IND_REASON(target, actual, weight, score, profile=None):
    """是否须填写偏差原因：返回“须填写”“宜说明”或空。"""
    if _blank(score) or _blank(weight):
        return ""
    need = reason_requirement(target, actual, weight, score, _profile(profile))
    return {"required": "须填写", "recommended": "宜说明"}.get(need or "", "")


@cell_function(kind="控制率名称：在职人员控制率、“三公经费”变动率、“三公经费”控制率、公用经费控制率、"
                    "政府采购执行率、预算调整率、支付序时进度（或英文键）",
     numerator="分子（变动率为本年数）",
     denominator="分母（变动率为上年数）")
def JX_CONTROL_RATE(kind, numerator, denominator):
    """控制率：按名称计算，变动率 =（本年 − 上年）/ 上年，其余为 分子 / 分母。"""
    return control_rate(str(kind), numerator, denominator)


@cell_function(kind="控制率名称或英文键",
     rate="控制率（小数）",
     profile=_PROFILE_DOC,
     quarter="支付序时进度的季度（Q1/Q2/Q3），其他控制率省略",
     weight="分值；省略时用规则配置中的分值")
def JX_CONTROL_SCORE(kind, rate, profile=None, quarter=None, weight=None):
    """控制率得分：按规则配置的满分、阈值、每百分点扣分或分档，最低 0 分。"""
    return control_score(str(kind), rate, _profile(profile), None if _blank(quarter) else str(quarter),
                                None if _blank(weight) else weight)


@cell_function(q1="一季度末支付序时进度",
     q2="二季度末支付序时进度",
     q3="三季度末支付序时进度",
     profile=_PROFILE_DOC)
def JX_PAYMENT_SCORE(q1, q2, q3, profile=None):
    """支付序时进度得分：三个季度的扣分合计，最低 0 分。"""
    rates = {q: r for q, r in (("Q1", q1), ("Q2", q2), ("Q3", q3)) if not _blank(r)}
    return payment_progress_score(rates, _profile(profile))


@cell_function(total="总分",
     profile=_PROFILE_DOC)
def JX_GRADE(total, profile=None):
    """等级：按规则配置的分档（默认 优≥90、良≥80、中≥60、差）。"""
    return totals.grade(total, _profile(profile))


@cell_function(total="总分",
     rate="执行率（小数）",
     profile=_PROFILE_DOC)
def JX_TOTAL_CAP(total, rate, profile=None):
    """按执行率封顶后的总分（规则配置未启用封顶时原样返回）。"""
    return cap_total(total, rate, _profile(profile))


@cell_function(text="指标值文字")
def JX_VALUE(text):
    """读出指标值中的数值（基本单位：95% → 0.95，1.2万条 → 12000）；定性文字报错。"""
    v = parse_value(text)
    if not isinstance(v, Measure):
        raise ValueReadError(getattr(v, "reason", "不是数值型指标值"), code="value.not_number")
    return v.base_value


@cell_function(ranges=("totals", "parts"),
     totals="合计行：年初预算数、全年预算数、全年执行数三格",
     parts="分项各行（与合计行同列）",
     profile=_PROFILE_DOC)
def JX_SPLIT_CHECK(totals, parts, profile=None):
    """分项校验：各列分项之和与合计不符时返回说明，相符或未填时返回空。"""
    columns = ("年初预算数", "全年预算数", "全年执行数")
    head = totals[0] if totals else []
    problems = []
    for j, total in enumerate(head):
        column = [row[j] for row in parts if j < len(row) and not _blank(row[j])]
        if not column or _blank(total):
            continue
        chk = check_split(total, {str(i): v for i, v in enumerate(column)}, _profile(profile))
        if not chk.ok:
            name = columns[j] if j < len(columns) else f"第{j + 1}列"
            problems.append(f"{name}：分项之和 {chk.parts_sum:.2f} ≠ {chk.total:.2f}")
    return "；".join(problems)


@cell_function(exec_score="执行率得分",
     indicator_sum="绩效指标得分之和",
     profile=_PROFILE_DOC)
def JX_SUM_ROW(exec_score, indicator_sum, profile=None):
    """合计行：按规则配置决定是否包含执行率得分。"""
    return totals.sum_row_value(exec_score, indicator_sum, _profile(profile))
