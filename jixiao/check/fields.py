"""Finding a form's fields in a workbook: by the form model for jixiao's templates, by labels otherwise.

Submitted workbooks are not all made from jixiao's templates. The label reader
finds the 部门整体/项目支出 form in any official-layout sheet: the funds table by
its column headers (年初预算数 · 全年预算数 · 全年执行数 · 分值 · 执行率 · 得分),
the splits by their part names (with amounts in their own cells or inside the
label text, "一般公共预算：36273.98"), the 绩效指标 table by its header row,
indicator rows until 合计/总分, merged 一级/二级 cells carried down, labels
with spaces, line breaks, full-width characters or weights ("产出指标 (50分)").
Every value keeps the cell it came from, so findings can point at it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import column_index_from_string, get_column_letter

from ..errors import Finding
from ..funds import INCOME_PARTS, SPENDING_PARTS
from ..layouts.model import FormModel
from ..values import normalise, parse_plain_number
from .xlsx import Book, Sheet

PROJECT_PARTS = ("本年财政拨款", "上年结转资金", "其他资金")
FUND_COLUMNS = ("年初预算数", "全年预算数", "全年执行数")
FUND_KEYS = {"年初预算数": "initial_budget", "全年预算数": "budget", "全年执行数": "executed"}
COL_LETTER = {"年初预算数": "D", "全年预算数": "E", "全年执行数": "F"}  # the template's columns, for split keys


@dataclass
class Cell:
    """A value read from a workbook and where it was."""

    value: Any
    sheet: str
    ref: str | None

    @property
    def blank(self) -> bool:
        return self.value is None or (isinstance(self.value, str) and not self.value.strip())


@dataclass
class FormRead:
    kind: str  # dept | project
    sheet: str
    fields: dict[str, Cell] = field(default_factory=dict)
    splits: dict[str, dict[str, dict[str, Cell]]] = field(default_factory=dict)  # income/spending → column → part
    stated_split_totals: dict[str, Cell] = field(default_factory=dict)  # "按收入性质分：38479.52"
    indicators: list[dict[str, Cell]] = field(default_factory=list)
    profile: str | None = None
    notes: list[Finding] = field(default_factory=list)

    def get(self, key: str) -> Any:
        c = self.fields.get(key)
        return None if c is None else c.value


def label(v: Any) -> str:
    """A label as compared: no spaces or line breaks, half-width, no trailing colon."""
    if v is None:
        return ""
    t = normalise(str(v)).replace(" ", "").replace("\u3000", "")
    return t.rstrip(":：")


def number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        return parse_plain_number(v)
    return None


def _rows(sheet: Sheet) -> dict[int, dict[int, Any]]:
    rows: dict[int, dict[int, Any]] = {}
    for ref, v in sheet.values.items():
        m = re.match(r"([A-Z]+)(\d+)", ref)
        if m and v is not None and v != "":
            rows.setdefault(int(m.group(2)), {})[column_index_from_string(m.group(1))] = v
    return rows


def _ref(row: int, col: int) -> str:
    return f"{get_column_letter(col)}{row}"


# ---------------------------------------------------------------------------
# Template route: fields by the form model


def read_template(book: Book, model: FormModel) -> FormRead:
    s = model.main
    sheet = book.sheets[s.name]
    kind = "project" if model.kind == "project" else "dept"
    fr = FormRead(kind, s.name)

    def cell(key: str) -> Cell:
        ref = s.fields[key]
        return Cell(sheet.values.get(ref), s.name, ref)

    for key in s.fields:
        if key.startswith(("ind.", "goals.")):
            continue
        fr.fields[key] = cell(key)
    fr.profile = fr.get("profile")
    groups = ("income", "spending") if kind == "dept" else ("income",)
    parts_by_group = {"income": INCOME_PARTS if kind == "dept" else ("其中：本年财政拨款", "上年结转资金", "其他资金"),
                      "spending": SPENDING_PARTS}
    for g in groups:
        cols: dict[str, dict[str, Cell]] = {}
        for column, letter in COL_LETTER.items():
            cols[column] = {p: cell(f"funds.{g}.{p}.{letter}") for p in parts_by_group[g]
                            if f"funds.{g}.{p}.{letter}" in s.fields}
        fr.splits[g] = cols
    n = sum(1 for k in s.fields if k.startswith("ind.") and k.endswith(".name"))
    for i in range(n):
        row = {k: cell(f"ind.{i}.{k}") for k in ("level1", "level2", "name", "target", "actual", "weight", "score",
                                                 "reason", "grade", "judged")}
        if all(row[k].blank for k in ("name", "target", "actual", "weight")):
            continue
        fr.indicators.append(row)
    return fr


# ---------------------------------------------------------------------------
# Label route


_PART_RE = re.compile(r"^(?:其中)?[:：]?(?P<part>" + "|".join(sorted(set(INCOME_PARTS + SPENDING_PARTS + PROJECT_PARTS),
                                                                 key=len, reverse=True))
                      + r")[:：]?(?P<amount>[-\d,.]+)?$")
_SPLIT_RE = re.compile(r"^(?P<group>按收入性质分|按支出性质分)[:：]?(?P<amount>[-\d,.]+)?$")
_YEAR_RE = re.compile(r"(20\d\d)\s*年度")


def find_form_sheet(book: Book) -> tuple[Sheet, str] | None:
    """The sheet holding a 部门整体/项目支出 self-evaluation form, and its kind."""
    for sheet in book.sheets.values():
        texts = [label(v) for v in sheet.values.values() if isinstance(v, str)]
        has_indicators = any(t == "三级指标" for t in texts) and any(t.startswith("年度指标值") for t in texts)
        if not has_indicators:
            continue
        joined = "".join(t for t in texts if "自评表" in t)
        kind = "project" if "项目支出" in joined or any(t.startswith("项目名称") for t in texts) else "dept"
        return sheet, kind
    return None


def read_labels(book: Book, sheet: Sheet, kind: str) -> FormRead:
    fr = FormRead(kind, sheet.name)
    rows = _rows(sheet)
    order = sorted(rows)

    def cell(r: int, c: int) -> Cell:
        return Cell(sheet.values.get(_ref(r, c)), sheet.name, _ref(r, c))

    def right_of(r: int, c: int) -> Cell | None:
        for cc in sorted(k for k in rows.get(r, {}) if k > c):
            return cell(r, cc)
        return None

    # title, unit, year
    for r in order:
        for c, v in rows[r].items():
            t = label(v)
            if "自评表" in t and "year" not in fr.fields:
                m = _YEAR_RE.search(normalise(str(v)))
                fr.fields["title"] = cell(r, c)
                if m:
                    fr.fields["year"] = Cell(int(m.group(1)), sheet.name, _ref(r, c))
            if t.startswith("填报单位") and "unit" not in fr.fields:
                rest = re.sub(r"^填报单位[:：]?", "", normalise(str(v)).strip()).split("单位：")[0].strip()
                rest = re.split(r"\s{2,}", rest)[0] if rest else rest
                if rest:
                    fr.fields["unit"] = Cell(rest, sheet.name, _ref(r, c))
                else:
                    nxt = right_of(r, c)
                    if nxt and not label(nxt.value).startswith(("年度", "单位")):
                        fr.fields["unit"] = nxt
            if t.endswith("预算部门名称") or t in ("项目名称", "部门名称"):
                nxt = right_of(r, c)
                if nxt:
                    fr.fields["dept_name" if t != "项目名称" else "project_name"] = nxt
            if t == "规则配置":
                nxt = right_of(r, c)
                if nxt and not nxt.blank:
                    fr.fields["profile"] = nxt
                    fr.profile = str(nxt.value).strip()
            if t == "年度" and "year" not in fr.fields:
                nxt = right_of(r, c)
                if nxt and number(nxt.value):
                    fr.fields["year"] = nxt
    if fr.profile is None and "JX_PROFILE" in book.names:
        m = re.match(r"^'?(.+?)'?!\$?([A-Z]+)\$?(\d+)$", book.names["JX_PROFILE"])
        target = book.sheets.get(m.group(1)) if m else None
        if m and target is not None and target.values.get(m.group(2) + m.group(3)):
            fr.profile = str(target.values[m.group(2) + m.group(3)]).strip()
            fr.fields["profile"] = Cell(fr.profile, target.name, m.group(2) + m.group(3))
    if "unit" not in fr.fields and "dept_name" in fr.fields:
        fr.fields["unit"] = fr.fields["dept_name"]
    if "unit" not in fr.fields:
        fr.notes.append(Finding("reader.field_missing", "warning", "未找到填报单位（查找标签“填报单位”“预算部门名称”）",
                                expected="填报单位", extra={"label": "填报单位"}))

    # funds table
    head_row, fund_cols = None, {}
    for r in order:
        found = {label(v): c for c, v in rows[r].items()}
        if all(any(k.startswith(col) for k in found) for col in FUND_COLUMNS):
            head_row = r
            for name in FUND_COLUMNS + ("分值", "执行率", "得分"):
                col = next((c for k, c in found.items() if k.startswith(name)), None)
                if col:
                    fund_cols[name] = col
            break
    indicator_head = _indicator_header(rows, order)
    if head_row is None:
        fr.notes.append(Finding("reader.field_missing", "error",
                                "未找到资金表（查找表头“年初预算数”“全年预算数”“全年执行数”）",
                                expected="年初预算数 / 全年预算数 / 全年执行数", extra={"label": "全年预算数"}))
    else:
        end = indicator_head[0] if indicator_head else max(order) + 1
        _read_funds(fr, rows, [r for r in order if head_row < r < end], fund_cols, cell)
    if indicator_head is None:
        fr.notes.append(Finding("reader.field_missing", "error", "未找到绩效指标表（查找表头“一级指标”“三级指标”“分值”“得分”）",
                                expected="绩效指标表头", extra={"label": "三级指标"}))
        return fr
    _read_indicators(fr, rows, order, indicator_head, cell)
    return fr


def _read_funds(fr: FormRead, rows, body: list[int], cols: dict[str, int], cell) -> None:
    group = "income"
    fr.splits = {"income": {c: {} for c in FUND_COLUMNS}, "spending": {c: {} for c in FUND_COLUMNS}}
    for r in body:
        for c, v in sorted(rows[r].items()):
            t = label(v)
            if t == "年度资金总额":
                for name, key in FUND_KEYS.items():
                    if name in cols:
                        fr.fields[f"funds.{key}"] = cell(r, cols[name])
                for name, key in (("分值", "weight"), ("执行率", "exec_rate"), ("得分", "exec_score")):
                    if name in cols:
                        fr.fields[f"funds.{key}"] = cell(r, cols[name])
                continue
            m = _SPLIT_RE.match(t)
            if m:
                group = "income" if m["group"] == "按收入性质分" else "spending"
                if m["amount"]:
                    fr.stated_split_totals[group] = Cell(parse_plain_number(m["amount"]), fr.sheet, _ref(r, c))
                continue
            m = _PART_RE.match(t)
            if not m:
                continue
            part = m["part"]
            g = "income" if fr.kind == "project" or part not in SPENDING_PARTS else "spending"
            first_fund_col = min((cols[n] for n in FUND_COLUMNS if n in cols), default=10**6)
            in_label = str(v).strip().endswith((":", "：")) or c >= first_fund_col
            if m["amount"] is not None or in_label:
                # the amount is written inside the label ("一般公共预算：36273.98"), as in seed 000;
                # which total it belongs to is decided by the profile ([funds] label_*_column)
                amount = parse_plain_number(m["amount"]) if m["amount"] else None
                fr.splits[g].setdefault("label", {})[part] = Cell(amount, fr.sheet, _ref(r, c))
            else:
                for name in FUND_COLUMNS:
                    if name in cols:
                        fr.splits[g][name][part] = cell(r, cols[name])


def _indicator_header(rows, order) -> tuple[int, dict[str, int]] | None:
    wanted = {"一级指标": "level1", "二级指标": "level2", "三级指标": "name", "年度指标值": "target",
              "实际完成值": "actual", "分值": "weight", "得分": "score"}
    for r in order:
        found = {label(v): c for c, v in rows[r].items()}
        if "三级指标" in found and "一级指标" in found:
            cols = {}
            for text, c in found.items():
                for name, key in wanted.items():
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


def _read_indicators(fr: FormRead, rows, order, head, cell) -> None:
    head_row, cols = head
    level1 = level2 = ""
    first_data_col = min(cols.values())
    for r in (x for x in order if x > head_row):
        row = rows[r]
        texts = [label(v) for c, v in sorted(row.items()) if c <= cols["name"] or c < cols.get("target", 99)]
        if any(t.startswith(("合计", "总分")) for t in texts):
            score_cell = cell(r, cols["score"])
            weight_cell = cell(r, cols["weight"])
            key = "sum_row" if any(t.startswith("合计") for t in texts) else "total"
            fr.fields[f"{key}.score"] = score_cell
            fr.fields[f"{key}.weight"] = weight_cell
            for c, v in row.items():
                m = re.search(r"等级[:：]?\s*(\S+)", normalise(str(v))) if isinstance(v, str) else None
                if m and c > cols["score"]:
                    fr.fields["total.grade"] = Cell(m.group(1), fr.sheet, _ref(r, c))
            if key == "total" or "total.score" in fr.fields:
                break
            continue
        if any(t.startswith("等级") for t in texts):
            v = next((cell(r, c) for c in sorted(row) if c > first_data_col and not label(row[c]).startswith("等级")),
                     None)
            if v:
                fr.fields["total.grade"] = v
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
        fr.indicators.append(entry)
