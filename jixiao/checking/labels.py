"""The label reader: a 部门整体/项目支出 form found by its labels in any official-layout sheet.

Submitted workbooks are not all made from jixiao's templates. This reader finds
the form in any sheet: the heading fields (title, 填报单位, 年度, 规则配置), the
funds table by its column headers (年初预算数 · 全年预算数 · 全年执行数 · 分值 ·
执行率 · 得分), the splits by their part names (amounts in their own cells or
inside the label text, "一般公共预算：36273.98"), and the 绩效指标 table by its
header row, indicator rows until 合计/总分, merged 一级/二级 cells carried
down. Labels may carry spaces, line breaks, full-width characters or weights
("产出指标 (50分)"). Every value keeps the cell it came from.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from openpyxl.utils import column_index_from_string, get_column_letter

from .. import vocabulary as v
from ..errors import Finding
from ..rules import rule
from ..values import cell_number, compact, normalise, parse_plain_number
from .fields import Cell, FormRead
from .xlsx import Book, Sheet

FIELD_MISSING = rule("reader.field_missing", "找不到栏目")

Rows = dict[int, dict[int, object]]
CellAt = Callable[[int, int], Cell]

_PART_RE = re.compile(r"^(?:其中)?[:：]?(?P<part>"
                      + "|".join(sorted(set(v.INCOME_PARTS + v.SPENDING_PARTS + v.PROJECT_PARTS), key=len, reverse=True))
                      + r")[:：]?(?P<amount>[-\d,.]+)?$")
_SPLIT_RE = re.compile(r"^(?P<group>按收入性质分|按支出性质分)[:：]?(?P<amount>[-\d,.]+)?$")
_YEAR_RE = re.compile(r"(20\d\d)\s*年度")
_INDICATOR_HEADERS = {"一级指标": "level1", "二级指标": "level2", "三级指标": "name", "年度指标值": "target",
                      "实际完成值": "actual", "分值": "weight", "得分": "score"}


def find_form_sheet(book: Book) -> tuple[Sheet, str] | None:
    """The sheet holding a 部门整体/项目支出 self-evaluation form, and its kind."""
    for sheet in book.sheets.values():
        texts = [compact(x) for x in sheet.values.values() if isinstance(x, str)]
        has_indicators = any(t == "三级指标" for t in texts) and any(t.startswith("年度指标值") for t in texts)
        if not has_indicators:
            continue
        joined = "".join(t for t in texts if "自评表" in t)
        kind = "project" if "项目支出" in joined or any(t.startswith("项目名称") for t in texts) else "dept"
        return sheet, kind
    return None


def read_labels(book: Book, sheet: Sheet, kind: str) -> FormRead:
    """Every field of the form on ``sheet`` that its labels reveal; what is missing becomes a note."""
    fr = FormRead(kind, sheet.name)
    rows = _rows(sheet)
    order = sorted(rows)

    def cell(r: int, c: int) -> Cell:
        return Cell(sheet.values.get(_ref(r, c)), sheet.name, _ref(r, c))

    _read_heading(fr, rows, order, cell)
    _read_profile_name(fr, book)
    indicator_head = _indicator_header(rows, order)
    funds_head = _funds_header(rows, order)
    if funds_head is None:
        fr.notes.append(Finding(FIELD_MISSING, "error", "未找到资金表（查找表头“年初预算数”“全年预算数”“全年执行数”）",
                                expected="年初预算数 / 全年预算数 / 全年执行数", context="全年预算数"))
    else:
        end = indicator_head[0] if indicator_head else max(order) + 1
        _read_funds(fr, rows, [r for r in order if funds_head[0] < r < end], funds_head[1], cell)
    if indicator_head is None:
        fr.notes.append(Finding(FIELD_MISSING, "error", "未找到绩效指标表（查找表头“一级指标”“三级指标”“分值”“得分”）",
                                expected="绩效指标表头", context="三级指标"))
    else:
        _read_indicators(fr, rows, order, indicator_head, cell)
    return fr


def _rows(sheet: Sheet) -> Rows:
    rows: Rows = {}
    for ref, x in sheet.values.items():
        m = re.match(r"([A-Z]+)(\d+)", ref)
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
            if "自评表" in t and v.YEAR not in fr.cells:
                fr.put(v.TITLE, cell(r, c))
                m = _YEAR_RE.search(normalise(str(x)))
                if m:
                    fr.put(v.YEAR, Cell(int(m.group(1)), fr.sheet, _ref(r, c)))
            elif t.startswith("填报单位") and v.UNIT not in fr.cells:
                _read_unit(fr, str(x), cell(r, c), right_of(r, c))
            elif t.endswith("预算部门名称") or t in ("项目名称", "部门名称"):
                nxt = right_of(r, c)
                if nxt:
                    fr.put(v.PROJECT_NAME if t == "项目名称" else v.DEPT_NAME, nxt)
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


def _funds_header(rows: Rows, order: list[int]) -> tuple[int, dict[str, int]] | None:
    """The row naming the three funds columns, and the column of each header found there."""
    for r in order:
        found = {compact(x): c for c, x in rows[r].items()}
        if all(any(k.startswith(col) for k in found) for col in v.FUND_COLUMNS):
            cols = {}
            for name in v.FUND_COLUMNS + ("分值", "执行率", "得分"):
                col = next((c for k, c in found.items() if k.startswith(name)), None)
                if col:
                    cols[name] = col
            return r, cols
    return None


def _read_funds(fr: FormRead, rows: Rows, body: list[int], cols: dict[str, int], cell: CellAt) -> None:
    group = "income"
    for r in body:
        for c, x in sorted(rows[r].items()):
            t = compact(x)
            if t == "年度资金总额":
                _read_total_row(fr, r, cols, cell)
                continue
            m = _SPLIT_RE.match(t)
            if m:
                group = "income" if m["group"] == "按收入性质分" else "spending"
                if m["amount"]:
                    fr.put(v.stated_key(group), Cell(parse_plain_number(m["amount"]), fr.sheet, _ref(r, c)))
                continue
            m = _PART_RE.match(t)
            if m:
                _read_part(fr, m["part"], m["amount"], str(x), r, c, cols, cell)


def _read_total_row(fr: FormRead, r: int, cols: dict[str, int], cell: CellAt) -> None:
    for name, key in list(v.FUND_FIELDS.items()) + [("分值", v.FUNDS_WEIGHT), ("执行率", v.FUNDS_RATE),
                                                     ("得分", v.FUNDS_SCORE)]:
        if name in cols:
            fr.put(key, cell(r, cols[name]))


def _read_part(fr: FormRead, part: str, amount: str | None, text: str, r: int, c: int, cols: dict[str, int],
               cell: CellAt) -> None:
    """One part of a split: amounts in the funds columns, or written inside the label (as seed 000 does)."""
    group = "income" if fr.kind == "project" or part not in v.SPENDING_PARTS else "spending"
    first_fund_col = min((cols[n] for n in v.FUND_COLUMNS if n in cols), default=10**6)
    in_label = text.strip().endswith((":", "：")) or c >= first_fund_col
    if amount is not None or in_label:
        # which total a label amount belongs to is decided by the profile ([funds] label_*_column)
        fr.add_split(group, "label", part, Cell(parse_plain_number(amount) if amount else None, fr.sheet, _ref(r, c)))
        return
    for name in v.FUND_COLUMNS:
        if name in cols:
            fr.add_split(group, name, part, cell(r, cols[name]))


# ---------------------------------------------------------------------------
# 绩效指标 table


def _indicator_header(rows: Rows, order: list[int]) -> tuple[int, dict[str, int]] | None:
    for r in order:
        found = {compact(x): c for c, x in rows[r].items()}
        if "三级指标" not in found or "一级指标" not in found:
            continue
        cols: dict[str, int] = {}
        for text, c in found.items():
            for name, key in _INDICATOR_HEADERS.items():
                if text.startswith(name) and key not in cols:
                    cols[key] = c
            if "偏差原因" in text and not text.endswith("提示"):
                cols.setdefault("reason", c)  # the form's column, not jixiao's helper hint
            if text.startswith("定性等级"):
                cols["grade"] = c
            if text.startswith("定性得分"):
                cols["judged"] = c
        if {"name", "target", "actual", "weight", "score"} <= set(cols):
            return r, cols
    return None


def _read_indicators(fr: FormRead, rows: Rows, order: list[int], head: tuple[int, dict[str, int]],
                     cell: CellAt) -> None:
    head_row, cols = head
    level1 = level2 = ""
    for r in (x for x in order if x > head_row):
        row = rows[r]
        texts = [compact(x) for c, x in sorted(row.items()) if c <= cols["name"] or c < cols.get("target", 99)]
        if any(t.startswith(("合计", "总分")) for t in texts):
            if _read_total_line(fr, r, row, texts, cols, cell):
                break
            continue
        if any(t.startswith("等级") for t in texts):
            _read_grade_line(fr, r, row, min(cols.values()), cell)
            continue
        if "level1" in cols and not cell(r, cols["level1"]).blank:
            level1 = str(cell(r, cols["level1"]).value)
        if "level2" in cols and not cell(r, cols["level2"]).blank:
            level2 = str(cell(r, cols["level2"]).value)
        entry = {k: cell(r, c) for k, c in cols.items()}
        if all(entry[k].blank for k in ("name", "target", "actual", "weight")):
            continue
        entry["level1"] = Cell(level1, fr.sheet, entry["level1"].ref if "level1" in entry else None)
        entry["level2"] = Cell(level2, fr.sheet, entry["level2"].ref if "level2" in entry else None)
        fr.add_indicator(entry)


def _read_total_line(fr: FormRead, r: int, row: dict[int, object], texts: list[str], cols: dict[str, int],
                     cell: CellAt) -> bool:
    """A 合计 or 总分 row; True when the table ends here."""
    is_sum = any(t.startswith("合计") for t in texts)
    fr.put(v.SUM_ROW_SCORE if is_sum else v.TOTAL_SCORE, cell(r, cols["score"]))
    fr.put(v.SUM_ROW_WEIGHT if is_sum else v.TOTAL_WEIGHT, cell(r, cols["weight"]))
    for c, x in row.items():
        m = re.search(r"等级[:：]?\s*(\S+)", normalise(str(x))) if isinstance(x, str) else None
        if m and c > cols["score"]:
            fr.put(v.TOTAL_GRADE, Cell(m.group(1), fr.sheet, _ref(r, c)))
    return not is_sum or v.TOTAL_SCORE in fr.cells


def _read_grade_line(fr: FormRead, r: int, row: dict[int, object], first_data_col: int, cell: CellAt) -> None:
    c = next((c for c in sorted(row) if c > first_data_col and not compact(row[c]).startswith("等级")), None)
    if c is not None:
        fr.put(v.TOTAL_GRADE, cell(r, c))
