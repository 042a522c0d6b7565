"""The form vocabulary: the names of a form's fields, parts and columns, written once.

Every wing speaks of a form's cells by *field keys*: the layouts name their
cells with them, the readers return values under them, the rules point their
findings at them, the sample generator and the macros fill cells by them.
A key is a dotted path:

* single fields — ``unit``, ``year``, ``funds.budget``, ``sum_row.score`` …;
* a fund split — ``funds.<group>.<part>.<column code>``, e.g.
  ``funds.income.一般公共预算.E`` (amount of a part of 年度资金总额 in the
  全年预算数 column); ``funds.<group>.subtotal.<code>`` is the sum a layout
  shows, ``funds.<group>.stated`` the total written inside a label
  ("按收入性质分：38479.52");
* an indicator row — ``ind.<row>.<column>``, e.g. ``ind.3.score``.

Example:
    >>> indicator_key(3, "score")
    'ind.3.score'
    >>> split_key("income", "一般公共预算", "全年预算数")
    'funds.income.一般公共预算.E'
    >>> parse_indicator_key("ind.12.reason")
    (12, 'reason')
"""
from __future__ import annotations

import re
from typing import Final, Literal

# -- single fields ----------------------------------------------------------
TITLE: Final = "title"
UNIT: Final = "unit"
YEAR: Final = "year"
DEPT_NAME: Final = "dept_name"
PROJECT_NAME: Final = "project_name"
DEPARTMENT: Final = "department"
PROFILE: Final = "profile"
REPORT_NO: Final = "report_no"  # 报表编号 of a provincial system's export (its first digits are the division code)

FUNDS_INITIAL: Final = "funds.initial_budget"
FUNDS_BUDGET: Final = "funds.budget"
FUNDS_EXECUTED: Final = "funds.executed"
FUNDS_WEIGHT: Final = "funds.weight"
FUNDS_RATE: Final = "funds.exec_rate"
FUNDS_SCORE: Final = "funds.exec_score"

SUM_ROW_WEIGHT: Final = "sum_row.weight"  # 合计 row
SUM_ROW_SCORE: Final = "sum_row.score"
TOTAL_WEIGHT: Final = "total.weight"  # 总分 row
TOTAL_SCORE: Final = "total.score"
TOTAL_GRADE: Final = "total.grade"

FIELD_TITLES: Final[dict[str, str]] = {
    TITLE: "表名", UNIT: "填报单位", YEAR: "年度", DEPT_NAME: "预算部门名称", PROJECT_NAME: "项目名称",
    DEPARTMENT: "主管部门", PROFILE: "规则配置", REPORT_NO: "报表编号",
    FUNDS_INITIAL: "年初预算数", FUNDS_BUDGET: "全年预算数", FUNDS_EXECUTED: "全年执行数", FUNDS_WEIGHT: "执行率分值",
    FUNDS_RATE: "执行率", FUNDS_SCORE: "执行率得分",
    SUM_ROW_WEIGHT: "合计分值", SUM_ROW_SCORE: "合计", TOTAL_WEIGHT: "总分分值", TOTAL_SCORE: "总分", TOTAL_GRADE: "等级",
}

FALLBACK: Final[dict[str, str]] = {SUM_ROW_WEIGHT: TOTAL_WEIGHT, SUM_ROW_SCORE: TOTAL_SCORE}
"""Where a finding about a field points when the form has no such cell (a form with only a 总分 row)."""

# -- funds: columns and splits ------------------------------------------------
FUND_COLUMNS: Final = ("年初预算数", "全年预算数", "全年执行数")
FUND_FIELDS: Final[dict[str, str]] = {"年初预算数": FUNDS_INITIAL, "全年预算数": FUNDS_BUDGET,
                                      "全年执行数": FUNDS_EXECUTED}
COLUMN_CODE: Final[dict[str, str]] = {"年初预算数": "D", "全年预算数": "E", "全年执行数": "F"}
"""Column code of each funds column in split keys: the column the official form gives it."""

Group = Literal["income", "spending"]
GROUPS: Final[dict[str, str]] = {"income": "按收入性质分", "spending": "按支出性质分"}
INCOME_PARTS: Final = ("一般公共预算", "政府性基金拨款", "纳入专户管理的非税收入拨款", "其他资金")
SPENDING_PARTS: Final = ("基本支出", "项目支出")
PROJECT_PARTS: Final = ("本年财政拨款", "上年结转资金", "其他资金")
"""Parts of a 项目支出 form's 年度资金总额 (the project form's only split, kept under group ``income``)."""


def split_key(group: str, part: str, column: str) -> str:
    """The key of one part's amount in a funds column (column by its Chinese name)."""
    return f"funds.{group}.{part}.{COLUMN_CODE[column]}"


def subtotal_key(group: str, column: str) -> str:
    return f"funds.{group}.subtotal.{COLUMN_CODE[column]}"


def stated_key(group: str) -> str:
    """The total written inside the group's label ("按收入性质分：38479.52")."""
    return f"funds.{group}.stated"


# -- indicator rows -------------------------------------------------------------
INDICATOR_COLUMNS: Final = ("level1", "level2", "name", "target", "actual", "weight", "score", "reason", "grade",
                            "judged")
INDICATOR_TITLES: Final[dict[str, str]] = {
    "level1": "一级指标", "level2": "二级指标", "name": "三级指标", "target": "年度指标值", "actual": "实际完成值",
    "weight": "分值", "score": "得分", "reason": "偏差原因分析及改进措施", "grade": "定性等级", "judged": "定性得分",
}
_IND = re.compile(r"^ind\.(\d+)\.(\w+)$")


def indicator_key(row: int, column: str) -> str:
    return f"ind.{row}.{column}"


def parse_indicator_key(key: str) -> tuple[int, str] | None:
    m = _IND.match(key)
    return (int(m.group(1)), m.group(2)) if m else None


def field_title(key: str) -> str:
    """The Chinese name of a field key, for messages and reports."""
    if key in FIELD_TITLES:
        return FIELD_TITLES[key]
    ind = parse_indicator_key(key)
    if ind:
        return f"第{ind[0] + 1}行{INDICATOR_TITLES.get(ind[1], ind[1])}"
    parts = key.split(".")
    if len(parts) >= 3 and parts[0] == "funds" and parts[1] in GROUPS:
        return GROUPS[parts[1]] + ("" if parts[2] in ("subtotal", "stated", "check") else f"·{parts[2]}")
    return key


# -- form kinds and levels ---------------------------------------------------------
LEVELS: Final[dict[str, str]] = {"province": "省级", "city": "市级", "county": "县级"}
REPORT_SUFFIXES: Final = (".docx", ".pdf")  # a 自评报告 file, checked against its unit's form (jixiao.reports)

FORM_KINDS: Final[dict[str, str]] = {
    "dept": "部门整体支出", "project": "项目支出", "dept-province": "部门整体支出（省级）",
    "dept-city": "部门整体支出（市级）", "dept-county": "部门整体支出（县级）", "county-rubric": "县级评分表",
    "project-summary": "项目评分汇总表",
}


def part_key(group: str, part: str, what: str) -> str:
    """A split row's own cell that is not an amount: ``rate`` (执行率) or ``score`` (得分)."""
    return f"funds.{group}.{part}.{what}"
