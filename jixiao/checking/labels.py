"""The label reader: a 部门整体/项目支出 form found by its labels in any official-layout sheet.

Submitted workbooks are not all made from jixiao's templates. This reader finds
the form in any sheet: the heading fields (title, 填报单位, 年度, 规则配置), the
funds table by its column headers (年初预算数 · 全年预算数 · 全年执行数 · 分值 ·
执行率 · 得分), the splits by their part names (amounts in their own cells or
inside the label text, "一般公共预算：36273.98"), and the 绩效指标 table by its
header row, indicator rows until 合计/总分, merged 一级/二级 cells carried
down. Labels may carry spaces, line breaks, full-width characters or weights
("产出指标 (50分)"). Every value keeps the cell it came from.

The layouts provinces, cities, counties and townships publish are read the same way: one- and two-row
indicator headers (年度指标值 over 指标性质 · 指标值 · 度量单位, joined into one target), the provincial
systems' exports (调整后预算数 · 预算执行数 · 权重 in the funds table, 指标值 · 完成值 · 权重 in the
indicator table, a 报表编号 in the heading), a project's 其中 rows (本年/当年财政拨款, 上年结转资金, 其他资金)
as the split of 年度资金总额 with their own 执行率/得分 cells, and forms cut off after either table.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..columns import column_index_from_string, get_column_letter

from .. import vocabulary as v
from ..errors import Finding
from ..rules import rule
from ..textcache import per_text
from ..totals import legend_bands, split_label
from ..values import cell_number, compact, normalise, parse_plain_number
from .fields import Cell, FormRead
from .xlsx import Book, Sheet

FIELD_MISSING = rule("reader.field_missing", "找不到栏目")

Rows = dict[int, dict[int, object]]
CellAt = Callable[[int, int], Cell]

PART_SYNONYMS = ("当年财政拨款", "财政拨款", "财政资金", "中央财政资金", "地方资金", "地方财政资金", "财政专户管理资金",
                 "单位资金", "其他")
"""Part names that official layouts use besides the vocabulary's (项目资金's 其中 rows, provincial exports)."""
_PART_RE = re.compile(r"^(?:其中)?[:：]?(?P<part>"
                      + "|".join(sorted(set(v.INCOME_PARTS + v.SPENDING_PARTS + v.PROJECT_PARTS + PART_SYNONYMS),
                                        key=len, reverse=True))
                      + r")[:：]?(?P<amount>[-\d,.]+)?$")
_TOTAL_ROW_RE = re.compile(r"^(?:年度(?:财政)?资金总额|(?:财政)?资金总额|总额)[:：]?$")
_DASHES = {"/", "／", "-", "—", "——", "–", "－", "\\"}
_SPLIT_RE = re.compile(r"^(?P<group>按收入性质分|按支出性质分)[:：]?(?P<amount>[-\d,.]+)?$")
_YEAR_RE = re.compile(r"(20\d\d)\s*年度")
_INDICATOR_HEADERS = {"一级指标": "level1", "二级指标": "level2", "三级指标": "name", "年度指标值": "target",
                      "实际完成值": "actual", "分值": "weight", "得分": "score"}


def find_form_sheet(book: Book) -> tuple[Sheet, str] | None:
    """The sheet holding a 部门整体/项目支出 self-evaluation form, and its kind.

    A sheet is such a form when it has the 绩效指标 table's header (三级指标 and 年度指标值/指标值) or the
    funds table's (全年执行数/预算执行数 beside 全年预算数/调整后预算数/年初预算数, and a 年度资金总额 row):
    partial forms and the provincial systems' exports have only one of them.
    """
    found = find_form_sheets(book)
    return found[0] if found else None


def find_form_sheets(book: Book) -> list[tuple[Sheet, str]]:
    """Every sheet holding a 部门整体/项目支出 form (see :func:`find_form_sheet`), in workbook order: a unit's
    workbook may hold its 整体 form and one sheet per project, each checked."""
    out = []
    for sheet in book.sheets.values():
        texts = [compact(x) for x in sheet.values.values() if isinstance(x, str)]
        has_indicators = any(is_name_header(t) for t in texts) and any(is_target_header(t) for t in texts)
        rows = _rows(sheet)
        has_funds = _funds_header(rows, sorted(rows)) is not None and any(
            _TOTAL_ROW_RE.match(_label(t)) for t in texts)
        if has_indicators or has_funds:
            out.append((sheet, form_kind(texts)))
    return out


def form_kind(texts: list[str]) -> str:
    """``project`` or ``dept`` from the title and heading labels (a form that names neither is a project's)."""
    titles = "".join(t for t in texts if "自评表" in t or "评价表" in t or "绩效" in t and "表" in t)
    if "部门整体" in titles:
        return "dept"
    if "项目" in titles or any(t.startswith(("项目名称", "转移支付")) for t in texts):
        return "project"
    if any(t in _UNIT_LABELS or t.endswith("预算部门名称") for t in texts):
        return "dept"
    return "project"


_UNIT_LABELS = ("部门", "部门名称", "部门(单位)名称", "预算部门、单位名称", "预算单位", "单位名称")


def is_target_header(t: str) -> bool:
    """年度指标值, 指标值, and the other names forms give the target column (指标值(A), 年初目标值(A) …): a table
    with such a column is a self-evaluation form's 绩效指标 table, not a rubric (official_rubric.is_rubric)."""
    return _indicator_column(t) == "target"


def is_name_header(t: str) -> bool:
    """三级指标, and the header cells that name it inside another label (指标名称(三级指标), 三级指标名称)."""
    return _indicator_column(t) == "name"


def _label(text: object) -> str:
    """A row label as compared: compact, without "(万元…)" notes and a trailing colon."""
    return _NOTE.sub("", compact(text))


_NOTE = re.compile(r"\([^)]*\)")
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")


def grade_legend(sheet: Sheet) -> str | None:
    """A grading legend printed in one of the sheet's text cells ("90分（含）以上为优；…；60分以下为差"): it
    decides the grade words and bands for this form (DOMAIN.md §4). None when no cell states two bands."""
    for value in sheet.values.values():
        if isinstance(value, str) and len(value) <= 400 and "为" in value and legend_bands(value):
            return value
    return None


def read_labels(book: Book, sheet: Sheet, kind: str) -> FormRead:
    """Every field of the form on ``sheet`` that its labels reveal; what is missing becomes a note."""
    fr = FormRead(kind, sheet.name)
    rows = _rows(sheet)
    order = sorted(rows)

    def cell(r: int, c: int) -> Cell:
        return Cell(sheet.values.get(_ref(r, c)), sheet.name, _ref(r, c), sheet.formats.get(_ref(r, c)))

    _read_heading(fr, rows, order, cell)
    _read_profile_name(fr, book)
    fr.grade_legend = grade_legend(sheet)
    indicator_head = _indicator_header(rows, order)
    funds_head = _funds_header(rows, order)
    if funds_head is None:
        fr.notes.append(Finding(FIELD_MISSING, "error", "未找到资金表（查找表头“年初预算数”“全年预算数”“全年执行数”）",
                                expected="年初预算数 / 全年预算数 / 全年执行数", context="全年预算数"))
    else:
        end = _indicator_start(rows, order, indicator_head) if indicator_head else max(order) + 1
        body = [r for r in order if funds_head[0] < r < end]
        _read_funds(fr, rows, body, funds_head[1], cell)
        if v.FUNDS_BUDGET not in fr.cells:
            _read_unlabelled_total(fr, rows, body, funds_head[1], cell)
        rate_col = funds_head[1].get("执行率")
        head_text = rows[funds_head[0]].get(rate_col) if rate_col else None
        fr.rate_in_percent = isinstance(head_text, str) and re.search(r"[(（][%％][)）]", head_text) is not None
        _read_amount_unit(fr, rows, order, funds_head[0], end)
        if v.FUNDS_WEIGHT not in fr.cells:
            _read_stated_weight(fr, rows, [r for r in order if funds_head[0] <= r < end])
        fr.funds_points_shown = bool({"分值", "得分"} & set(funds_head[1])) or v.FUNDS_WEIGHT in fr.cells
        _read_criteria_rows(fr, rows, [r for r in order if funds_head[0] < r < end], cell)
    if indicator_head is None:
        fr.notes.append(Finding(FIELD_MISSING, "warning", "未找到绩效指标表（查找表头“一级指标”“三级指标”“分值”“得分”），"
                                "只检查了资金部分", expected="绩效指标表头", context="三级指标"))
    else:
        _read_indicators(fr, rows, order, indicator_head, cell)
    if v.TOTAL_SCORE not in fr.cells and not fr.totals_unchecked:
        heads = [h[0] for h in (funds_head, indicator_head) if h is not None]
        stated = _head_total(rows, [r for r in order if not heads or r < min(heads)], cell)
        if stated is not None:
            fr.put(v.TOTAL_SCORE, stated)
    return fr


_HEAD_TOTAL_RE = re.compile(r"^(?:自评得分|自评总分|项目总得分|自评总得分)[:：]?(?P<n>\d+(?:\.\d+)?)?分?$")


def _head_total(rows: Rows, head: list[int], cell: CellAt) -> Cell | None:
    """The total a form states in its head (自评得分 98, 自评总分：95, 项目总得分99分) when it has no 总分 row:
    the number after the label, or in the next cell to its right."""
    for r in head:
        for c, x in sorted(rows[r].items()):
            m = _HEAD_TOTAL_RE.match(compact(x)) if isinstance(x, str) else None
            if m is None:
                continue
            if m["n"]:
                return Cell(float(m["n"]), cell(r, c).sheet, _ref(r, c))
            later = sorted(k for k in rows[r] if k > c)
            if later and cell_number(rows[r][later[0]]) is not None:
                return cell(r, later[0])
    return None


def _indicator_start(rows: Rows, order: list[int], head: tuple[int, dict[str, int]]) -> int:
    """The first row of the 绩效指标 header (the row above 三级指标 in a two-row header)."""
    r = head[0]
    while True:
        prev = [x for x in order if x < r]
        if not prev or not any(compact(x) in ("三级指标", "年度指标值", "一级指标") for x in rows[prev[-1]].values()):
            return r
        r = prev[-1]


def _rows(sheet: Sheet) -> Rows:
    rows: Rows = {}
    for ref, x in sheet.values.items():
        m = _CELL_REF.match(ref)
        if m and x is not None and x != "":
            rows.setdefault(int(m.group(2)), {})[column_index_from_string(m.group(1))] = x
    return rows


def _ref(row: int, col: int) -> str:
    return f"{get_column_letter(col)}{row}"


# ---------------------------------------------------------------------------
# Heading: title and year, 填报单位, 预算部门名称 / 项目名称, 规则配置


def _read_heading(fr: FormRead, rows: Rows, order: list[int], cell: CellAt) -> None:
    def right_of(r: int, c: int) -> Cell | None:
        later = sorted(k for k in rows.get(r, {}) if k > c)
        return cell(r, later[0]) if later else None

    for r in order:
        for c, x in rows[r].items():
            t = compact(x)
            if ("自评表" in t or "评价表" in t) and v.YEAR not in fr.cells:
                fr.put(v.TITLE, cell(r, c))
                m = _YEAR_RE.search(normalise(str(x)))
                if m:
                    fr.put(v.YEAR, Cell(int(m.group(1)), fr.sheet, _ref(r, c)))
            elif v.YEAR not in fr.cells and (m := re.match(r"^\(?(?:年度[:：])?(20\d\d)年度?\)?$", t)):
                fr.put(v.YEAR, Cell(int(m.group(1)), fr.sheet, _ref(r, c)))  # "(2022年度)" under the title
            elif t.startswith("报表编号") and v.REPORT_NO not in fr.cells:
                rest = re.sub(r"^报表编号[:：]?", "", t)
                nxt = right_of(r, c)
                fr.put(v.REPORT_NO, Cell(rest, fr.sheet, _ref(r, c)) if rest or nxt is None else nxt)
            elif t.startswith(("主管部门", "地方主管部门")) and v.DEPARTMENT not in fr.cells:
                nxt = right_of(r, c)
                if nxt:
                    fr.put(v.DEPARTMENT, nxt)
            elif t.startswith(("实施单位", "资金使用单位")) and v.UNIT not in fr.cells:
                nxt = right_of(r, c)
                if nxt:
                    fr.put(v.UNIT, nxt)
            elif t.startswith("填报单位") and v.UNIT not in fr.cells:
                _read_unit(fr, str(x), cell(r, c), right_of(r, c))
            elif t.endswith("预算部门名称") or t in ("项目名称",) + _UNIT_LABELS:
                nxt = right_of(r, c)
                if nxt:
                    fr.put(v.PROJECT_NAME if t == "项目名称" else v.DEPT_NAME, nxt)
            elif t.startswith(("单位(盖章)", "单位盖章")) and v.UNIT not in fr.cells:
                rest = re.sub(r"^单位\(?盖章\)?[:：]?", "", t)
                if rest:
                    fr.put(v.UNIT, Cell(rest, fr.sheet, _ref(r, c)))
            elif t == "规则配置":
                nxt = right_of(r, c)
                if nxt and not nxt.blank:
                    fr.put(v.PROFILE, nxt)
            elif t == "年度" and v.YEAR not in fr.cells:
                nxt = right_of(r, c)
                if nxt and cell_number(nxt.value):
                    fr.put(v.YEAR, nxt)
    if v.UNIT not in fr.cells and v.DEPT_NAME in fr.cells:
        fr.put(v.UNIT, fr.cells[v.DEPT_NAME])
    if v.UNIT not in fr.cells and fr.kind == "dept":
        fr.notes.append(Finding(FIELD_MISSING, "warning", "未找到填报单位（查找标签“填报单位”“预算部门名称”）",
                                expected="填报单位", context="填报单位"))


def _read_unit(fr: FormRead, text: str, here: Cell, right: Cell | None) -> None:
    """'填报单位：湖南省机关事务管理局        单位：万元', or the name in the next cell."""
    rest = re.sub(r"^填报单位[:：]?", "", normalise(text).strip()).split("单位：")[0].strip()
    rest = re.split(r"\s{2,}", rest)[0] if rest else rest
    if rest:
        fr.put(v.UNIT, Cell(rest, here.sheet, here.ref))
    elif right and not compact(right.value).startswith(("年度", "单位")):
        fr.put(v.UNIT, right)


def _read_profile_name(fr: FormRead, book: Book) -> None:
    """The profile a jixiao workbook names in its defined name JX_PROFILE, when no 规则配置 label says it."""
    if fr.profile is not None or "JX_PROFILE" not in book.names:
        return
    m = re.match(r"^'?(.+?)'?!\$?([A-Z]+)\$?(\d+)$", book.names["JX_PROFILE"])
    target = book.sheets.get(m.group(1)) if m else None
    if m and target is not None and target.values.get(m.group(2) + m.group(3)):
        fr.put(v.PROFILE, Cell(str(target.values[m.group(2) + m.group(3)]).strip(), target.name,
                               m.group(2) + m.group(3)))


# ---------------------------------------------------------------------------
# Funds table


_FUND_HEADERS: dict[str, tuple[str, ...]] = {
    "年初预算数": ("年初预算",),
    "全年预算数": ("全年预算", "调整后预算", "调整预算", "预算数"),
    "全年执行数": ("全年执行", "预算执行数", "全年实际执行", "执行数"),
    "分值": ("分值", "权重"),
    "执行率": ("执行率", "预算执行率"),
    "得分": ("得分", "自评得分"),
}


def _fund_column(text: str) -> str | None:
    """Which funds column a header names: 全年预算数(A), 调整后预算数, 预算执行数, 预算执行(E/C×100%) …"""
    if text.startswith("预算执行情况"):
        return None  # the block's title (预算执行情况(万元)(20分)), not a column
    if text.startswith("预算执行") and not text.startswith("预算执行数"):
        return "执行率"  # 预算执行率, 预算执行(E/C×100%)
    for name, starts in _FUND_HEADERS.items():
        if text.startswith(starts):
            return name
    return None


def _funds_header(rows: Rows, order: list[int]) -> tuple[int, dict[str, int]] | None:
    """The row naming the funds columns, and the column of each header found there.

    It names 全年执行数 (or 预算执行数, 全年执行资金) and 全年预算数 (调整后预算数) or 年初预算数; a layout
    with only 年初预算数(A) and 全年执行数(B) computes its 执行率 as B/A, so A is its budget.
    """
    for r in order:
        cols: dict[str, int] = {}
        for c, x in sorted(rows[r].items()):
            name = _fund_column(compact(x)) if isinstance(x, str) else None
            if name and name not in cols:
                cols[name] = c
        if "全年执行数" in cols and "全年预算数" in cols:
            return r, cols
        if "全年执行数" in cols and "年初预算数" in cols and "(A)" in compact(rows[r][cols["年初预算数"]]) \
                and "(B)" in compact(rows[r][cols["全年执行数"]]):
            cols["全年预算数"] = cols.pop("年初预算数")  # 执行率 = B / A by the form's own design
            return r, cols
        if "全年执行数" in cols and "执行率" in cols and not {"年初预算数", "全年预算数"} & set(cols):
            # 资金来源 columns (中央 · 省 · 本级 · 其他) and their 合计 beside 执行数: the 合计 is the budget
            total = [c for c, x in rows[r].items() if isinstance(x, str) and _label(x) in ("合计", "小计", "资金合计")]
            if total:
                cols["全年预算数"] = total[-1]
                return r, cols
    return None


def _read_funds(fr: FormRead, rows: Rows, body: list[int], cols: dict[str, int], cell: CellAt) -> None:
    group = "income"
    for r in body:
        label_done = False
        for c, x in sorted(rows[r].items()):
            t = compact(x)
            if not label_done and _TOTAL_ROW_RE.match(_label(x)):
                _read_total_row(fr, r, cols, cell)
                label_done = True
                continue
            m = _SPLIT_RE.match(t)
            if m:
                group = "income" if m["group"] == "按收入性质分" else "spending"
                if m["amount"]:
                    fr.put(v.stated_key(group), Cell(parse_plain_number(m["amount"]), fr.sheet, _ref(r, c)))
                continue
            m = _PART_RE.match(_label(x).rstrip(":："))
            if m is None:
                m = _PART_RE.match(t)
            if m:
                _read_part(fr, m["part"], m["amount"], str(x), r, c, cols, cell)


_CRITERIA_NAME = ("评价内容", "评价指标", "考核内容", "考核指标", "指标名称")
_CRITERIA_SCORE = ("自评分", "自评得分", "得分")


def _read_criteria_rows(fr: FormRead, rows: Rows, body: list[int], cell: CellAt) -> None:
    """A rubric part between the funds table and the 绩效指标 table (项目权重 · 评价内容 · 分值 · 自评分 · 评价标准):
    rows scored by their own criteria, with no target or actual. Each row with a 分值 and a 得分 becomes an
    indicator row under its block label (项目决策2分, 项目管理13分, carried down), its 评价标准 kept as its criteria."""
    for i, r in enumerate(body):
        texts = {c: compact(x) for c, x in rows[r].items() if isinstance(x, str)}
        name = next((c for c, t in texts.items() if t in _CRITERIA_NAME), None)
        weight = next((c for c, t in texts.items() if t == "分值"), None)
        score = next((c for c, t in texts.items() if t in _CRITERIA_SCORE and weight is not None and c > weight), None)
        if name is None or weight is None or score is None or any(is_target_header(t) for t in texts.values()):
            continue
        standard = next((c for c, t in texts.items() if "评价标准" in t or "评分标准" in t), None)
        level = min(texts) if min(texts) < name else None
        label, label_ref = "", None
        for rr in body[i + 1:]:
            if level is not None and isinstance(rows[rr].get(level), str) and compact(rows[rr][level]):
                label, label_ref = str(rows[rr][level]), _ref(rr, level)
            w, s = cell(rr, weight), cell(rr, score)
            if cell_number(w.value) is None or s.blank:
                continue
            fr.add_indicator({"level1": Cell(label, fr.sheet, label_ref), "level2": Cell("", fr.sheet, None),
                              "name": cell(rr, name), "target": Cell(None, fr.sheet, None),
                              "actual": Cell(None, fr.sheet, None), "weight": w, "score": s,
                              "criteria": cell(rr, standard) if standard is not None else Cell("按评价标准", fr.sheet, None)})
        return


def _read_unlabelled_total(fr: FormRead, rows: Rows, body: list[int], cols: dict[str, int], cell: CellAt) -> None:
    """A funds table whose one data row has no label of its own (the header's first cell, 项目资金来源, spans it):
    the first row under the header with amounts in both the budget and the executed column is the total row."""
    for r in body:
        row = rows[r]
        if cell_number(row.get(cols["全年预算数"])) is not None and cell_number(row.get(cols["全年执行数"])) is not None:
            if not any(isinstance(x, str) and cell_number(x) is None and c < min(cols.values()) for c, x in row.items()):
                _read_total_row(fr, r, cols, cell)
            return


_WAN_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)万元")


def _read_amount_unit(fr: FormRead, rows: Rows, order: list[int], head: int, end: int) -> None:
    """The funds block's unit (单位：万元, 项目资金（万元）, (元)) and the amounts in 万元 the form's texts state
    outside the block (年度总体目标, 成本指标 targets): the magnitudes that show amounts typed in 元."""
    for r in order:
        for x in rows[r].values():
            if not isinstance(x, str):
                continue
            t = compact(x)
            if r <= head and fr.amount_unit is None:
                if "万元" in t:
                    fr.amount_unit = "万元"
                elif re.search(r"[(（]元[)）]|单位[:：]元", t):
                    fr.amount_unit = "元"
            if not head <= r < end:
                fr.stated_amounts += [float(m) for m in _WAN_AMOUNT.findall(t)]


_STATED_WEIGHT = re.compile(r"(\d+(?:\.\d+)?)分[*×xX＊](?:预算)?执行率|(?:预算)?执行率[*×xX＊](\d+(?:\.\d+)?)分")


def _read_stated_weight(fr: FormRead, rows: Rows, block: list[int]) -> None:
    """A funds block without a 分值 column states its points in a formula ("得分（20分*执行率）")."""
    for r in block:
        for c, x in sorted(rows[r].items()):
            m = _STATED_WEIGHT.search(compact(x)) if isinstance(x, str) else None
            if m:
                fr.put(v.FUNDS_WEIGHT, Cell(float(m.group(1) or m.group(2)), fr.sheet, _ref(r, c)))
                return


def _read_total_row(fr: FormRead, r: int, cols: dict[str, int], cell: CellAt) -> None:
    for name, key in list(v.FUND_FIELDS.items()) + [("分值", v.FUNDS_WEIGHT), ("执行率", v.FUNDS_RATE),
                                                     ("得分", v.FUNDS_SCORE)]:
        if name in cols:
            fr.put(key, cell(r, cols[name]))


def _read_part(fr: FormRead, part: str, amount: str | None, text: str, r: int, c: int, cols: dict[str, int],
               cell: CellAt) -> None:
    """One part of a split: amounts in the funds columns, or written inside the label (as seed 000 does)."""
    group = "income" if fr.kind == "project" or part not in v.SPENDING_PARTS else "spending"
    part = {"当年财政拨款": "本年财政拨款"}.get(part, part) if fr.kind == "project" else part
    first_fund_col = min((cols[n] for n in v.FUND_COLUMNS if n in cols), default=10**6)
    in_label = text.strip().endswith((":", "：")) or c >= first_fund_col
    if amount is not None or in_label:
        # which total a label amount belongs to is decided by the profile ([funds] label_*_column)
        fr.add_split(group, "label", part, Cell(parse_plain_number(amount) if amount else None, fr.sheet, _ref(r, c)))
        return
    for name in v.FUND_COLUMNS:
        if name in cols:
            fr.add_split(group, name, part, cell(r, cols[name]))
    for name, what in (("执行率", "rate"), ("得分", "score")):
        if name in cols:
            own = cell(r, cols[name])
            if not own.blank and compact(own.value) not in _DASHES:
                fr.add_part_cells(group, part, what, own)


# ---------------------------------------------------------------------------
# 绩效指标 table


_COMPARATOR_SIGNS = {"﹦": "=", "═": "=", "＝": "=", "≧": "≥", "≦": "≤", "﹥": ">", "﹤": "<", "定性": "", "定量": "",
                     "正向": "≥", "反向": "≤"}


@per_text
def _indicator_column(text: str) -> str | None:
    """Which 绩效指标 column a header names, in one- and two-row headers and the provincial exports."""
    if text.startswith(("上年", "指标值设置", "指标赋分")):
        return None
    if text.endswith("(三级指标)"):
        return "name"  # 指标名称(三级指标)
    for key, starts in (("level1", ("一级指标",)), ("level2", ("二级指标",)), ("name", ("三级指标",)),
                        ("cmp", ("指标性质",)), ("unit", ("度量单位", "计量单位")),
                        ("target", ("年度指标值", "指标值", "年初指标值", "年度目标值", "年初目标值", "目标值")),
                        ("actual", ("实际完成值", "完成值", "全年实际值", "指标实际完成值", "实际值", "年终完成值")),
                        ("weight", ("分值", "权重", "指标分值", "参考分值", "标准分值")), ("score", ("得分", "自评得分", "指标得分", "自评分")),
                        ("grade", ("定性等级",)), ("judged", ("定性得分",))):
        if text.startswith(starts) or (key == "level1" and text == "一级"):
            return key
    if ("偏差原因" in text or "未完成原因" in text or "原因分析" in text) and not text.endswith("提示"):
        return "reason"  # the form's column, not jixiao's helper hint
    return None


def _indicator_header(rows: Rows, order: list[int]) -> tuple[int, dict[str, int]] | None:
    """The 绩效指标 header: the row naming 三级指标, with the row above or below when the header takes two
    rows (年度指标值 over 指标性质 · 指标值 · 度量单位). Returns the last header row and the columns."""
    for i, r in enumerate(order):
        if not any(isinstance(x, str) and is_name_header(compact(x)) for x in rows[r].values()):
            continue
        band = [r]
        if i > 0 and any(_indicator_column(t) in ("target", "actual", "weight", "score")
                         for t in (compact(x) for x in rows[order[i - 1]].values() if isinstance(x, str))):
            band.insert(0, order[i - 1])
        if i + 1 < len(order) and any(_indicator_column(t) in ("cmp", "unit", "target", "weight", "score")
                                      for t in (compact(x) for x in rows[order[i + 1]].values()
                                                if isinstance(x, str))):
            band.append(order[i + 1])
        cols: dict[str, int] = {}
        for hr in band:
            for c, x in sorted(rows[hr].items()):
                key = _indicator_column(compact(x)) if isinstance(x, str) else None
                if key == "target" and cols.get("target") is not None and hr != band[0]:
                    cols["target"] = c  # 年度指标值 over 指标性质 · 指标值 · 度量单位: the value column
                elif key and key not in cols:
                    cols[key] = c
        if "cmp" in cols and "target" in cols and cols["target"] <= cols["cmp"]:
            later = [c for hr in band for c, x in rows[hr].items() if compact(x) == "指标值" and c > cols["cmp"]]
            if later:
                cols["target"] = min(later)
        if {"name", "target", "weight"} <= set(cols) and ("actual" in cols or "score" in cols):
            return max(band), cols
        if {"name", "target", "score", "level1"} <= set(cols):
            return max(band), cols  # no 分值 column: each 一级指标 label states its block's points (产出指标(60分))
    return None


def _read_indicators(fr: FormRead, rows: Rows, order: list[int], head: tuple[int, dict[str, int]],
                     cell: CellAt) -> None:
    head_row, cols = head
    level1 = level2 = ""
    level1_ref: str | None = None
    level2_ref: str | None = None
    first = min(cols.values())
    no_weight = "weight" not in cols
    read: list[_Row] = []
    for r in (x for x in order if x > head_row):
        row = rows[r]
        texts = [compact(x) for c, x in sorted(row.items()) if c <= cols["name"] or c < cols.get("target", 99)]
        if any(t.startswith(("合计", "总分")) for t in texts):
            if _read_total_line(fr, r, row, texts, cols, cell):
                break
            continue
        if any(t.startswith("等级") for t in texts):
            _read_grade_line(fr, r, row, first, cell)
            continue
        if any(t.startswith(("其他需要说明", "评价结论", "存在问题", "改进措施")) for t in texts):
            break
        if "level1" in cols and not cell(r, cols["level1"]).blank:
            level1, level1_ref = str(cell(r, cols["level1"]).value), _ref(r, cols["level1"])
            level2_ref = None  # a new 一级 block starts its own 二级 groups
        if "level2" in cols and not cell(r, cols["level2"]).blank:
            level2, level2_ref = str(cell(r, cols["level2"]).value), _ref(r, cols["level2"])
        entry = {k: cell(r, c) for k, c in cols.items() if k not in ("cmp", "unit")}
        if no_weight:
            entry["weight"] = Cell(None, fr.sheet, None)
        if all(entry[k].blank for k in ("target", "actual", "weight")) or (
                entry["weight"].blank and ("score" not in entry or entry["score"].blank)):
            continue  # a placeholder row (指标2, ……) or a detail line without points (其中…)
        if "cmp" in cols or "unit" in cols:
            _join_split_target(entry, cell(r, cols["cmp"]) if "cmp" in cols else None,
                               cell(r, cols["unit"]) if "unit" in cols else None)
        entry["level1"] = Cell(level1, fr.sheet, entry["level1"].ref if "level1" in entry else None)
        entry["level2"] = Cell(level2, fr.sheet, entry["level2"].ref if "level2" in entry else None)
        read.append(_Row(entry, level1, level1_ref, level2 if level2_ref else "", level2_ref))
    if no_weight:
        _weigh_by_labels(fr, read)
    for one in read:
        if not no_weight or not one.entry["weight"].blank:
            fr.add_indicator(one.entry)
    unweighed = [one for one in read if one.entry["weight"].blank]
    if no_weight and unweighed:
        # rows whose points neither a 分值 column nor a block label states: a total over them cannot be checked
        for key in (v.SUM_ROW_SCORE, v.SUM_ROW_WEIGHT, v.TOTAL_SCORE, v.TOTAL_WEIGHT, v.TOTAL_GRADE):
            fr.cells.pop(key, None)
        fr.totals_unchecked = True
        what = "未找到绩效指标表（查找表头“一级指标”“三级指标”“分值”“得分”），只检查了资金部分" if not fr.indicators else \
            f"{len(unweighed)} 项指标既无分值列、所在指标块也未标明分值，未能计分"
        fr.notes.append(Finding(FIELD_MISSING, "warning", what + "；总分、等级未核对",
                                expected="绩效指标表头", context="三级指标"))


@dataclass
class _Row:
    """An indicator row as read, with the 一级/二级 block labels (and their cells) it sits under."""

    entry: dict[str, Cell]
    level1: str
    level1_ref: str | None
    level2: str
    level2_ref: str | None


def stated_points(label: str) -> float | None:
    """The points a block label states for its own block (产出指标(50分), 数量指标15分, 项目绩效85分 / 产出指标40分):
    totals.split_label, the one reader of points in labels."""
    return split_label(label)[1]


def _groups(rows: list[_Row], key: Callable[[_Row], object]) -> list[list[_Row]]:
    out: list[list[_Row]] = []
    for row in rows:
        if out and key(out[-1][-1]) == key(row):
            out[-1].append(row)
        else:
            out.append([row])
    return out


def _weigh_by_labels(fr: FormRead, rows: list[_Row]) -> None:
    """A table without a 分值 column: each block's stated points spread evenly over its scored rows. A 二级 label
    that states points (数量指标15分) weighs its own rows; the 一级 label's points (产出指标(60分)), less what its
    二级 labels state, are spread over the rest. Rows under no stated points stay unweighed."""
    for block in _groups(rows, lambda x: x.level1_ref):
        p1 = stated_points(block[0].level1)
        groups = _groups(block, lambda x: x.level2_ref)
        p2 = [stated_points(g[0].level2) if g[0].level2_ref else None for g in groups]
        for g, points in zip(groups, p2):
            if points is not None:
                for row in g:
                    row.entry["weight"] = Cell(round(points / len(g), 10), fr.sheet, g[0].level2_ref)
        rest_rows = [row for g, points in zip(groups, p2) if points is None for row in g]
        rest = None if p1 is None else p1 - sum(x for x in p2 if x is not None)
        if rest_rows and rest is not None and rest > 1e-9:
            for row in rest_rows:
                row.entry["weight"] = Cell(round(rest / len(rest_rows), 10), fr.sheet, block[0].level1_ref)


def _join_split_target(entry: dict[str, Cell], cmp: Cell | None, unit: Cell | None) -> None:
    """年度指标值 typed in three cells (指标性质 · 指标值 · 度量单位) as one text, kept at the 指标值 cell;
    a bare number in 完成值 takes the same unit."""
    sign = "" if cmp is None or cmp.blank else str(cmp.value).strip()
    sign = _COMPARATOR_SIGNS.get(sign, sign)
    u = "" if unit is None or unit.blank else str(unit.value).strip()
    t = entry["target"]
    if not t.blank and (isinstance(t.value, (int, float)) or parse_plain_number(str(t.value)) is not None):
        entry["target"] = Cell(f"{sign}{_num(t.value)}{u}", t.sheet, t.ref)
    a = entry.get("actual")
    if a is not None and not a.blank and u and (isinstance(a.value, (int, float))
                                                  or parse_plain_number(str(a.value)) is not None
                                                  and "%" not in str(a.value)):
        entry["actual"] = Cell(f"{_num(a.value)}{u}", a.sheet, a.ref)


def _num(x: object) -> str:
    n = cell_number(x)
    return str(x).strip() if n is None else format(n, "g") if abs(n) < 1e15 else str(x)


def _read_total_line(fr: FormRead, r: int, row: dict[int, object], texts: list[str], cols: dict[str, int],
                     cell: CellAt) -> bool:
    """A 合计 or 总分 row; True when the table ends here."""
    is_sum = any(t.startswith("合计") for t in texts)
    fr.put(v.SUM_ROW_SCORE if is_sum else v.TOTAL_SCORE, cell(r, cols["score"]))
    if "weight" in cols:
        fr.put(v.SUM_ROW_WEIGHT if is_sum else v.TOTAL_WEIGHT, cell(r, cols["weight"]))
    for c, x in row.items():
        m = re.search(r"等级[:：]?\s*(\S+)", normalise(str(x))) if isinstance(x, str) else None
        if m and c > cols["score"]:
            fr.put(v.TOTAL_GRADE, Cell(m.group(1), fr.sheet, _ref(r, c)))
        elif isinstance(x, str) and c > cols["score"] and compact(x) in _GRADE_WORDS:
            fr.put(v.TOTAL_GRADE, Cell(compact(x), fr.sheet, _ref(r, c)))
    return not is_sum or v.TOTAL_SCORE in fr.cells


_GRADE_WORDS = ("优", "良", "中", "差", "较差", "优秀", "良好", "合格", "不合格")


def _read_grade_line(fr: FormRead, r: int, row: dict[int, object], first_data_col: int, cell: CellAt) -> None:
    c = next((c for c in sorted(row) if c > first_data_col and not compact(row[c]).startswith("等级")), None)
    if c is not None:
        fr.put(v.TOTAL_GRADE, cell(r, c))
