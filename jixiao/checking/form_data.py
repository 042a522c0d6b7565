"""From what was read to the core's form: :class:`~jixiao.form.DeptForm` from a :class:`FormRead`.

Amounts must be numbers (typed as text is fine: "38,479.52"); a value that is
not one becomes a finding at its cell. ``reported`` values — what the form
claims (执行率, scores, 合计, 总分, 等级) — are taken only from cells the officer
filled; on a jixiao template a cell that still holds its formula is jixiao's
calculation, checked by comparing it with the rules' result instead.
"""
from __future__ import annotations

import re
from collections.abc import Container
from typing import Any

from .. import vocabulary as v
from ..errors import CellError, Finding
from ..form import DeptForm, Funds, IndicatorRow, PartRow
from ..profile import Profile
from ..rules import rule
from .fields import Cell, FormRead, number
from ..values import Measure, normalise, parse_value
from .labels import FIELD_MISSING

NOT_NUMBER = rule("value.not_number", "不是数字")
AMOUNTS_IN_YUAN = rule("funds.amounts_in_yuan", "金额以元填写（表头为万元）")
RATE_AS_FRACTION = rule("execution.rate_as_fraction", "百分数栏填了小数")
MISSING = FIELD_MISSING


def to_dept_form(fr: FormRead, profile: Profile, computed: Container[str] = ()) -> tuple[DeptForm | None, list[Finding]]:
    """The form's values, and what could not be read. ``computed``: field keys whose cell holds jixiao's formula.

    Returns None for the form when 全年预算数 or 全年执行数 cannot be read.
    """
    out: list[Finding] = []

    def amount(key: str, required: bool = False) -> float | None:
        return _amount(fr.cells.get(key), v.field_title(key), out, required)

    def reported(key: str) -> Cell | None:
        return None if key in computed else fr.cells.get(key)

    splits: dict[str, dict[str, dict[str, float | None]]] = {}
    for group in ("income", "spending"):
        columns: dict[str, dict[str, float | None]] = {}
        for column, parts in fr.splits.get(group, {}).items():
            target = profile.label_split_columns[group] if column == "label" else column
            columns.setdefault(target, {}).update({p: _amount(c, p, out) for p, c in parts.items()})
        splits[group] = columns
    shown = {name: amount(key) for name, key in v.FUND_FIELDS.items()}
    budget, executed = shown["全年预算数"], shown["全年执行数"]
    from_parts = False
    if not budget and not executed and fr.kind == "project":
        # a 年度资金总额 row left empty or zero under filled 其中 rows: the parts are the amounts
        income = splits.get("income", {})
        sums = {c: sum(x for x in income.get(c, {}).values() if x) for c in ("全年预算数", "全年执行数")}
        if sums["全年预算数"] > 0:
            budget, executed, from_parts = sums["全年预算数"], sums["全年执行数"], True
    if budget is None or executed is None:
        amount(v.FUNDS_BUDGET, required=True)
        amount(v.FUNDS_EXECUTED, required=True)
        return None, out
    initial = shown["年初预算数"]
    if not from_parts and (f := _amounts_in_yuan(fr, budget)) is not None:  # parts' sums have no one cell
        out.append(f)
    candidates = [executed / d for d in (budget, initial) if d]
    rate_cell = reported(v.FUNDS_RATE)
    if fr.rate_in_percent and (f := _fraction_in_percent_column(rate_cell, candidates)) is not None:
        out.append(f)
    funds = Funds(budget=budget, executed=executed, initial_budget=initial, weight=amount(v.FUNDS_WEIGHT),
                  reported_rate=_reported_rate(rate_cell, candidates), rate_decimals=_decimals(rate_cell),
                  reported_score=_score(reported(v.FUNDS_SCORE)), total_from_parts=from_parts,
                  shown_totals={k: x or 0.0 for k, x in shown.items()} if from_parts else {},
                  points_shown=fr.funds_points_shown)
    funds.income, funds.spending = splits.get("income", {}), splits.get("spending", {})
    for (group, part), own in fr.part_rows.items():
        cols = fr.splits.get(group, {})
        b, e = (number(cols.get(c, {}).get(part)) for c in ("全年预算数", "全年执行数"))
        pb, pe = (cols.get(c, {}).get(part) for c in ("全年预算数", "全年执行数"))
        if pb is None or pe is None:
            continue
        funds.parts.append(PartRow(group, part, b, e,
                                   reported_rate=_reported_rate(own.get("rate"), [e / b] if b and e is not None else []),
                                   rate_decimals=_decimals(own.get("rate")), reported_score=_score(own.get("score"))))
    rows = [_indicator(i, ind, out, reported) for i, ind in enumerate(fr.indicators)]
    stated = {g: c.value for g in v.GROUPS if (c := fr.cells.get(v.stated_key(g))) is not None and c.value is not None}
    form = DeptForm(unit=str(fr.get(v.UNIT) or ""), year=_int(fr.get(v.YEAR)), funds=funds, indicators=rows,
                    reported_sum=_score(reported(v.SUM_ROW_SCORE)), reported_total=_score(reported(v.TOTAL_SCORE)),
                    reported_grade=_text(reported(v.TOTAL_GRADE)), stated_split_totals=stated, kind=fr.kind,
                    reported_sum_weight=_score(reported(v.SUM_ROW_WEIGHT)),
                    reported_total_weight=_score(reported(v.TOTAL_WEIGHT)), grade_legend=fr.grade_legend)
    return form, out


def _indicator(i: int, ind: dict[str, Cell], out: list[Finding], reported) -> IndicatorRow:
    def val(k: str) -> Any:
        c = ind.get(k)
        return None if c is None or c.blank else c.value

    weight = _amount(ind.get("weight"), "分值", out)
    reason = val("reason")
    actual = val("actual")
    if isinstance(actual, (int, float)) and not isinstance(actual, bool):
        # a number cell under a target with a unit ("≥50个" over 50): the cell has no unit of its own
        t = parse_value(val("target"))
        if isinstance(t, Measure) and (t.unit or t.magnitude):
            actual = f"{actual:g}{t.magnitude}{t.unit}"
    return IndicatorRow(level1=str(val("level1") or ""), level2=str(val("level2") or ""), name=str(val("name") or ""),
                        target=val("target"), actual=actual, weight=weight if weight is not None else 0.0,
                        reported=_score(reported(v.indicator_key(i, "score"))),
                        reason=(str(reason) if reason is not None else "") if "reason" in ind else None,
                        grade=str(val("grade")) if val("grade") is not None else None,
                        judged=_score(ind.get("judged")),
                        criteria=str(val("criteria")) if val("criteria") is not None else None)


_DASHES = {"/", "／", "-", "—", "——", "–", "－", "\\", "无"}
_MAGNITUDE = re.compile(r"^\s*(?P<num>[-+]?[\d,]*\.?\d+)\s*(?P<mag>万|亿)\s*元?\s*$")


def _amount(c: Cell | None, what: str, out: list[Finding], required: bool = False) -> float | None:
    """An amount in 万元: a number, a number typed as text, "150万" (150 万元) or "1.2亿" (12000 万元);
    a dash or "/" is an empty cell."""
    if c is not None and isinstance(c.value, str) and c.value.strip() in _DASHES:
        c = Cell(None, c.sheet, c.ref)
    if c is not None and isinstance(c.value, str) and (m := _MAGNITUDE.match(normalise(c.value))):
        return float(m["num"].replace(",", "")) * (10000.0 if m["mag"] == "亿" else 1.0)
    if c is None or c.blank:
        if required:
            f = Finding(MISSING, "error", f"{what}未填写", expected=what, context=what)
            out.append(f.at(c.sheet, c.ref) if c else f)
        return None
    x = number(c)
    if x is None:
        out.append(Finding(NOT_NUMBER, "error", f"{what}“{c.value}”不是数字", found=c.value, context=what)
                   .at(c.sheet, c.ref))
    return x


def _reported_rate(c: Cell | None, candidates: list[float]) -> float | None:
    """The reported 执行率 as a fraction. A plain 84.52 typed for 84.52% is read as 0.8452 when that is
    what one of the ``candidates`` (the right rate, or the rate over 年初预算数) makes of it."""
    if c is None or c.blank or isinstance(c.value, CellError):
        return None
    x = number(c)
    if x is None or (isinstance(c.value, str) and "%" in c.value) or not candidates:
        return x
    near = min(abs(x - y) for y in candidates)
    near_pct = min(abs(x / 100 - y) for y in candidates)
    return x / 100 if near_pct < near else x


def _amounts_in_yuan(fr: FormRead, budget: float) -> Finding | None:
    """Amounts typed in 元 under a 万元 header: the form's own texts state the budget in 万元 at one
    ten-thousandth of the number in the cell (and nowhere at the cell's number)."""
    if fr.amount_unit != "万元" or not budget or not fr.stated_amounts:
        return None
    if any(abs(budget / a - 1) <= 0.01 for a in fr.stated_amounts if a):
        return None
    hit = next((a for a in fr.stated_amounts if a and abs(budget / a / 10000 - 1) <= 0.01), None)
    if hit is None:
        return None
    c = fr.cells.get(v.FUNDS_BUDGET)
    f = Finding(AMOUNTS_IN_YUAN, "warning",
                f"表头单位为万元，全年预算数 {budget:g} 却是表中文字所写 {hit:g} 万元的一万倍：金额似以元填写，请核对",
                expected=round(budget / 10000, 6), found=budget, context="全年预算数")
    return f.at(c.sheet, c.ref) if c is not None else f


def _fraction_in_percent_column(c: Cell | None, candidates: list[float]) -> Finding | None:
    """A fraction (0.8452) typed under a "执行率（%）" header without a percent format: the sheet shows 0.85,
    which the header makes 0.85%. Found from the magnitude: the number is the rate as a fraction."""
    if c is None or not isinstance(c.value, (int, float)) or isinstance(c.value, bool) or not candidates:
        return None
    if (c.fmt and "%" in c.fmt) or not 0 < c.value <= 1.5:
        return None
    if min(abs(c.value - y) for y in candidates) > 0.0051:
        return None
    return Finding(RATE_AS_FRACTION, "warning",
                   f"执行率栏以百分数填写（表头为“%”），此处填的是小数 {c.value:g}，表上显示为 {c.value:g}%；应填 "
                   f"{c.value * 100:.2f}", expected=round(c.value * 100, 2), found=c.value, context="执行率"
                   ).at(c.sheet, c.ref)


def _score(c: Cell | None) -> float | None:
    if c is None or c.blank or isinstance(c.value, CellError):
        return None
    if isinstance(c.value, str) and c.value.strip() in _DASHES:
        return None
    return number(c)


def _decimals(c: Cell | None) -> int | None:
    """How many decimals of a percent a rate shows: typed as text ("60%" → 0, "97.80%" → 2), or a number
    shown by its number format (0.978 as "0.00%" → 2, 97.8 as "0.00" → 2); None for a number in General."""
    if c is not None and isinstance(c.value, (int, float)) and c.fmt:
        return _format_decimals(c.fmt, fraction=c.value <= 1.5)
    if c is None or not isinstance(c.value, str):
        return None
    m = re.search(r"\d(?:\.(\d+))?\s*%", normalise(c.value))
    return len(m.group(1) or "") if m else None


def _format_decimals(fmt: str, fraction: bool) -> int | None:
    """Decimals of a percent shown by a number format: "0.00%" → 2; "0.0" for a rate typed in percent → 1;
    a fraction in a format without "%" ("0.00" for 0.9781) shows two more places of the percent."""
    section = re.sub(r'"[^"]*"|\[[^]]*\]', "", fmt.split(";")[0])
    m = re.search(r"0(?:\.(0+))?", section)
    if m is None:
        return None
    places = len(m.group(1) or "")
    if "%" in section or not fraction:
        return places
    return max(places - 2, 0)


def _text(c: Cell | None) -> str | None:
    if c is None or c.blank or isinstance(c.value, CellError):
        return None
    return str(c.value)


def _int(x: Any) -> int | None:
    n = number(Cell(x, "", None))
    return int(n) if n is not None else None
