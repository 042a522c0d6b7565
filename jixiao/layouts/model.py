"""The form model: each official layout described once, as data.

A :class:`FormModel` lists its sheets; a :class:`SheetModel` lists every cell
(label, input or formula), merged range, column width, data validation and
print setting, and names the cells that hold the form's fields (``fields``:
``"funds.budget"`` → ``"E5"``). The template writer renders a model to .xlsx;
the workbook reader and the tests find fields through the same model.

Score cells call jixiao's UDFs (JX_…), with the workbook's rule profile taken
from one visible cell (``fields["profile"]``). Columns right of the print area
are helper columns (定性等级, checks): visible on screen, never printed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ..columns import column_index_from_string, get_column_letter

from .. import vocabulary as v
from ..profile import Profile, load_profile, shipped_profiles
from . import native

_COLUMN_NAME = {code: name for name, code in v.COLUMN_CODE.items()}

Style = Literal["title", "plain", "plain_right", "header", "label", "label_left", "input", "input_text", "input_long",
                "input_plain", "formula", "formula_text", "note", "helper_header", "helper", "blank"]

FMT_AMOUNT = "#,##0.00"  # 万元, two decimals
FMT_RATE = "0.00%"
FMT_INT = "0"

FIRST_LEVELS = ("产出指标", "效益指标", "满意度指标", "成本指标")
SECOND_LEVELS = ("数量指标", "质量指标", "时效指标", "成本指标", "经济效益指标", "社会效益指标", "生态效益指标",
                 "可持续影响指标", "服务对象满意度指标", "经济成本指标", "社会成本指标", "生态环境成本指标")
LEVELS = {"province": "省级", "city": "市级", "county": "县级"}


@dataclass(frozen=True)
class CellSpec:
    value: Any
    style: Style
    fmt: str | None = None


@dataclass(frozen=True)
class Validation:
    """A data validation: ``kind`` list/decimal/whole, with Excel's formula1/formula2."""

    kind: Literal["list", "decimal", "whole"]
    ranges: tuple[str, ...]
    formula1: str
    formula2: str | None = None
    prompt: str = ""
    error: str = ""


COVERED = "\x00covered"  # value of cells hidden under a merge: styled, never written


@dataclass
class SheetModel:
    name: str
    widths: dict[str, float]
    print_cols: str  # "A:I": the official table; columns to its right are helpers
    landscape: bool
    title_rows: str = "1:2"
    cells: dict[str, CellSpec] = field(default_factory=dict)
    merges: list[str] = field(default_factory=list)
    heights: dict[int, float] = field(default_factory=dict)
    validations: list[Validation] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    protect: bool = True
    last_row: int = 0
    hidden_cols: list[str] = field(default_factory=list)  # helper columns of native formulas
    row_breaks: list[int] = field(default_factory=list)  # manual page breaks after these rows
    # the indicator table's ends: its header row and the marker row below its last indicator row. Totals sum
    # from the one to the other, so a row an officer inserts anywhere between them is inside every range.
    indicator_block: tuple[int, int] | None = None
    fit_rows: dict[int, float] = field(default_factory=dict)  # rows whose height follows their text → least height

    # -- building ---------------------------------------------------------
    def put(self, ref: str, value: Any = None, style: Style = "label", *, to: str | None = None,
            fmt: str | None = None, key: str | None = None) -> str:
        """Place a value at ``ref`` (merged to ``to`` when given); return the top-left address."""
        self.cells[ref] = CellSpec(value, style, fmt)
        row = int(re.sub(r"[A-Z]+", "", ref))
        if to:
            self.merges.append(f"{ref}:{to}")
            row = max(row, int(re.sub(r"[A-Z]+", "", to)))
            # style the covered cells too, so borders and fills are drawn on the whole merge
            for r in _cells_in(f"{ref}:{to}")[1:]:
                self.cells.setdefault(r, CellSpec(COVERED, style, fmt))
        if key:
            self.fields[key] = ref
        self.last_row = max(self.last_row, row)
        return ref

    def validate(self, kind: Literal["list", "decimal", "whole"], ranges: str | tuple[str, ...], formula1: str,
                 formula2: str | None = None, prompt: str = "", error: str = "") -> None:
        rs = (ranges,) if isinstance(ranges, str) else tuple(ranges)
        self.validations.append(Validation(kind, rs, formula1, formula2, prompt, error))

    # -- reading ----------------------------------------------------------
    def inputs(self) -> list[str]:
        return [r for r, c in self.cells.items() if c.style.startswith("input") and c.value != COVERED]

    def formulas(self) -> dict[str, str]:
        return {r: c.value for r, c in self.cells.items() if isinstance(c.value, str) and c.value.startswith("=")}

    @property
    def print_area(self) -> str:
        first, last = self.print_cols.split(":")
        return f"{first}1:{last}{self.last_row}"



def _cells_in(rng: str) -> list[str]:
    a, b = rng.split(":")
    ca, ra = re.match(r"([A-Z]+)(\d+)", a).groups()  # type: ignore[union-attr]
    cb, rb = re.match(r"([A-Z]+)(\d+)", b).groups()  # type: ignore[union-attr]
    return [f"{get_column_letter(c)}{r}" for r in range(int(ra), int(rb) + 1)
            for c in range(column_index_from_string(ca), column_index_from_string(cb) + 1)]


@dataclass
class FormModel:
    kind: str  # dept-province, dept-city, dept-county, project, county-rubric, project-summary
    title: str
    profile: str
    sheets: list[SheetModel]
    guide: list[tuple[str, str]]  # 填表说明: (heading, text)
    engine: str = "udf"  # udf: JX_… functions of the add-in; native: functions every spreadsheet has

    def sheet(self, name: str) -> SheetModel:
        return next(s for s in self.sheets if s.name == name)

    @property
    def main(self) -> SheetModel:
        return self.sheets[0]

    def field(self, key: str) -> tuple[str, str]:
        """(sheet name, cell) of a field, e.g. ``field("funds.budget")`` → ('自评表', 'E5')."""
        for s in self.sheets:
            if key in s.fields:
                return s.name, s.fields[key]
        raise KeyError(key)


# ---------------------------------------------------------------------------
# Shared blocks of the 部门整体 and 项目 forms (columns A–I, helpers J–L)

_GRID = {"A": 7, "B": 12, "C": 24, "D": 26, "E": 16, "F": 16, "G": 7, "H": 8, "I": 24,
         "J": 16, "K": 10, "L": 30}


def _score_fmt(p: Profile) -> str:
    d = p.indicators.rounding.decimals
    return FMT_INT if d == 0 else "0." + "0" * (d or 2)


def _profile_cell(s: SheetModel, p: Profile, row: int = 2, col: str = "J", engine: str = "udf") -> str:
    """The visible cell that names the workbook's rule profile; every score formula refers to it.

    Native formulas are written from the profile when the template is generated: there the cell
    names that profile and is not an input.
    """
    c0 = column_index_from_string(col)
    label, value, end = (get_column_letter(c0 + i) for i in range(3))
    s.put(f"{label}{row}", "规则配置", "helper_header")
    if engine == "native":
        s.put(f"{value}{row}", p.id, "helper_header", to=f"{end}{row}", key="profile")
        s.put(f"{label}{row + 1}", f"{label}–{end} 列为辅助列，不打印；得分公式按此规则配置生成", "helper",
              to=f"{end}{row + 1}")
        return f"${value}${row}"
    s.put(f"{value}{row}", p.id, "input_text", to=f"{end}{row}", key="profile")
    s.validate("list", f"{value}{row}", '"' + ",".join(shipped_profiles()) + '"',
               prompt="选择规则配置；也可填写自定义配置文件的完整路径", error="")
    s.put(f"{label}{row + 1}", f"{label}–{end} 列为辅助列，不打印", "helper", to=f"{end}{row + 1}")
    return f"${value}${row}"


def _funds_rows(s: SheetModel, p: Profile, top: int, label: str, parts: list[tuple[str, list[str]]],
                sub_rows: bool, prof: str, engine: str = "udf") -> int:
    """年度资金总额 and its splits. ``parts``: [(group label, [part names])]. Returns the next free row."""
    n_rows = 2 + sum((1 if sub_rows else 0) + len(names) for _, names in parts)
    s.put(f"A{top}", label, "header", to=f"A{top + n_rows - 1}")
    s.put(f"B{top}", "项目", "header", to=f"C{top}")
    for col, text in zip("DEFGHI", ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")):
        s.put(f"{col}{top}", text, "header")
    r = top + 1
    s.put(f"B{r}", "年度资金总额", "label", to=f"C{r}")
    s.put(f"D{r}", None, "input", fmt=FMT_AMOUNT, key="funds.initial_budget")
    s.put(f"E{r}", None, "input", fmt=FMT_AMOUNT, key="funds.budget")
    s.put(f"F{r}", None, "input", fmt=FMT_AMOUNT, key="funds.executed")
    s.put(f"G{r}", p.execution.weight, "input", fmt="0.##", key="funds.weight")
    if engine == "native":
        s.put(f"H{r}", native.exec_rate(f"E{r}", f"F{r}"), "formula", fmt=FMT_RATE, key="funds.exec_rate")
        s.put(f"I{r}", native.exec_score(p, f"H{r}", f"G{r}"), "formula", fmt=_score_fmt(p), key="funds.exec_score")
    else:
        s.put(f"H{r}", f'=IF(OR(E{r}="",F{r}=""),"",JX_EXEC_RATE(E{r},F{r}))', "formula", fmt=FMT_RATE,
              key="funds.exec_rate")
        s.put(f"I{r}", f'=IF(H{r}="","",JX_EXEC_SCORE(H{r},{prof},G{r}))', "formula", fmt=_score_fmt(p),
              key="funds.exec_score")
    s.validate("decimal", f"D{r}:F{r}", "0", "10000000000", error="金额应为不小于 0 的数字（万元）")
    total = r
    r += 1
    for group, names in parts:
        first = r + (1 if sub_rows else 0)
        last = first + len(names) - 1
        gkey = "income" if "收入" in group or "财政拨款" in names[0] else "spending"
        if sub_rows:
            s.put(f"B{r}", group, "label_left", to=f"C{r}")
            for col in "DEF":
                s.put(f"{col}{r}", f'=IF(COUNT({col}{first}:{col}{last})=0,"",SUM({col}{first}:{col}{last}))',
                      "formula", fmt=FMT_AMOUNT, key=f"funds.{gkey}.subtotal.{col}")
            for col in "GHI":
                s.put(f"{col}{r}", None, "blank")
            _split_check(s, p, r, total, first, last, prof, gkey, engine)
            r += 1
            s.put(f"B{first}", "其中：", "label", to=f"B{last}")
            name_col = "C"
        else:
            _split_check(s, p, total, total, first, last, prof, gkey, engine)
            name_col = "B"
        for name in names:
            if name_col == "B":
                s.put(f"B{r}", name, "label_left", to=f"C{r}")
            else:
                s.put(f"C{r}", name, "label_left")
            for col in "DEF":
                s.put(f"{col}{r}", None, "input", fmt=FMT_AMOUNT, key=v.split_key(gkey, name.removeprefix("其中："), _COLUMN_NAME[col]))
            for col in "GHI":
                s.put(f"{col}{r}", "—" if not sub_rows else None, "label" if not sub_rows else "blank")
            r += 1
        s.validate("decimal", f"D{first}:F{last}", "0", "10000000000", error="金额应为不小于 0 的数字（万元）")
    return r


NATIVE_HELPERS = 14  # column N: first hidden helper column of native formulas


def _split_check(s: SheetModel, p: Profile, r: int, total: int, first: int, last: int, prof: str, gkey: str,
                 engine: str) -> None:
    if engine == "native":
        helper = f"{get_column_letter(NATIVE_HELPERS)}{r}"
        s.put(helper, native.split_problems(f"D{total}", (first, last), "DEF", p.funds_tolerance), "helper")
        _hide(s, get_column_letter(NATIVE_HELPERS))
        s.put(f"L{r}", native.split_check(helper), "helper", key=f"funds.{gkey}.check")
    else:
        s.put(f"L{r}", f"=JX_SPLIT_CHECK(D{total}:F{total},D{first}:F{last},{prof})", "helper",
              key=f"funds.{gkey}.check")


def _hide(s: SheetModel, *cols: str) -> None:
    for c in cols:
        if c not in s.hidden_cols:
            s.hidden_cols.append(c)


def _goal_rows(s: SheetModel, top: int, n: int) -> int:
    # the label heads its block instead of a merge down the rows: a merge that a page break cuts prints its
    # label once, mid-table, and leaves its border open at the break
    s.put(f"A{top}", "年度总体目标", "header")
    s.heights[top] = 30  # the label on two lines, the row no taller
    s.put(f"B{top}", "预期目标", "header", to=f"D{top}")
    s.put(f"E{top}", "实际完成情况", "header", to=f"I{top}")
    for i in range(n):  # about as wide as each other: the texts are of like length
        r = top + 1 + i
        s.put(f"A{r}", None, "blank")
        s.put(f"B{r}", None, "input_long", to=f"D{r}", key=f"goals.{i}.target")
        s.put(f"E{r}", None, "input_long", to=f"I{r}", key=f"goals.{i}.actual")
        s.fit_rows[r] = 48
    return top + n + 1


def _indicator_rows(s: SheetModel, p: Profile, top: int, n: int, prof: str,
                    engine: str = "udf") -> tuple[int, int, int]:
    """The 绩效指标 table. Returns (first row, last row, next free row).

    The header row is the sheet's print title (repeated on every page the table runs to), so it names the
    table itself in column A rather than a label merged down the rows. Below the last indicator row a thin
    marker row closes the table: totals run from the header row to the marker row (``indicator_block``), so
    rows an officer inserts inside the table, above its first row or, as 填表说明 says, below its last row
    (above the marker) are summed, and deleted rows leave the ranges right, in every spreadsheet.
    """
    s.put(f"A{top}", "绩效指标", "header")
    s.heights[top] = 24  # 绩效指标 fits column A on one line as printed (wider than the estimate takes it)
    heads = ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施")
    for col, text in zip("BCDEFGHI", heads):
        s.put(f"{col}{top}", text, "header")
    for col, text in zip("JKL", ("定性等级（定性指标选填）", "定性得分（选填）", "偏差原因提示")):
        s.put(f"{col}{top}", text, "helper_header")
    first, last = top + 1, top + n
    fmt = _score_fmt(p)
    for i in range(n):
        r = first + i
        s.put(f"A{r}", None, "blank")
        s.put(f"B{r}", None, "input_text", key=f"ind.{i}.level1")
        s.put(f"C{r}", None, "input_text", key=f"ind.{i}.level2")
        s.put(f"D{r}", None, "input_text", key=f"ind.{i}.name")
        s.put(f"E{r}", None, "input_text", key=f"ind.{i}.target")
        s.put(f"F{r}", None, "input_text", key=f"ind.{i}.actual")
        s.put(f"G{r}", None, "input", fmt="0.##", key=f"ind.{i}.weight")
        if engine == "native":
            _native_indicator(s, p, r, i, fmt)
        else:
            s.put(f"H{r}", f'=IF(OR(E{r}="",F{r}="",G{r}=""),"",JX_IND_SCORE(E{r},F{r},G{r},{prof},J{r},K{r}))',
                  "formula", fmt=fmt, key=f"ind.{i}.score")
        s.put(f"I{r}", None, "input_text", key=f"ind.{i}.reason")
        s.put(f"J{r}", None, "input_text", key=f"ind.{i}.grade")
        s.put(f"K{r}", None, "input", fmt="0.##", key=f"ind.{i}.judged")
        if engine != "native":
            s.put(f"L{r}", f'=IF(H{r}="","",IF(AND(JX_IND_REASON(E{r},F{r},G{r},H{r},{prof})="须填写",I{r}=""),'
                           f'"须填写偏差原因",JX_IND_REASON(E{r},F{r},G{r},H{r},{prof})))', "helper",
                  key=f"ind.{i}.reason_hint")
        s.fit_rows[r] = 24
    s.validate("list", f"B{first}:B{last}", '"' + ",".join(_first_levels(p)) + '"',
               prompt="选择一级指标", error="")
    s.validate("list", f"C{first}:C{last}", '"' + ",".join(SECOND_LEVELS) + '"', prompt="选择二级指标", error="")
    s.validate("decimal", f"G{first}:G{last}", "0", "100", error="分值应为 0–100 的数字")
    s.validate("list", f"J{first}:J{last}", '"' + ",".join(g.label for g in p.indicators.grades) + '"',
               prompt="定性指标：选择完成等级；不选时按实际完成情况判断", error="")
    s.validate("decimal", f"K{first}:K{last}", "0", "100", prompt="定性指标：在等级区间内给出具体得分",
               error="得分应为 0–100 的数字")
    marker = last + 1
    s.put(f"A{marker}", None, "blank")
    s.put(f"B{marker}", None, "blank", to=f"I{marker}")
    s.heights[marker] = 4
    s.indicator_block = (top, marker)
    s.title_rows = f"{top}:{top}"
    return first, last, marker + 1


def _native_indicator(s: SheetModel, p: Profile, r: int, i: int, fmt: str) -> None:
    """得分 and 偏差原因提示 of one row in native formulas, read through hidden helper cells."""
    width = len(native.TEXT_STEPS)
    t, tf = native.text_cells(f"E{r}", r, NATIVE_HELPERS)
    a, af = native.text_cells(f"F{r}", r, NATIVE_HELPERS + width)
    gi = f"{get_column_letter(NATIVE_HELPERS + 2 * width)}{r}"
    cmp = f"{get_column_letter(NATIVE_HELPERS + 2 * width + 1)}{r}"
    c = {"target": f"E{r}", "actual": f"F{r}", "weight": f"G{r}", "grade": f"J{r}", "judged": f"K{r}", "gi": gi,
         "name": f"D{r}", "cmp": cmp}
    for ref, formula in (tf | af).items():
        s.put(ref, formula, "helper", key=None)
    s.put(gi, native.grade_of_row(p, c, t, a), "helper")
    s.put(cmp, native.target_comparator(p, c, t), "helper")
    s.put(f"H{r}", native.indicator_score(p, c, t, a), "formula", fmt=fmt, key=f"ind.{i}.score")
    s.put(f"L{r}", native.reason_hint(p, c, t, a, f"H{r}", f"I{r}"), "helper", key=f"ind.{i}.reason_hint")
    _hide(s, *(get_column_letter(NATIVE_HELPERS + k) for k in range(2 * width + 2)))


def _total_row(s: SheetModel, p: Profile, r: int, label: str, rows: tuple[int, int], funds_row: int, prof: str,
               grade_prefix: str = "", engine: str = "udf") -> int:
    """总分 = 执行率得分 + 指标得分 (capped by 执行率 where the profile says), its weight and 等级; ``rows``: the
    ends of the ranges summed (the indicator table's header and marker rows)."""
    first, last = rows
    s.put(f"A{r}", label, "header", to=f"F{r}")
    s.put(f"G{r}", f"=N(G{funds_row})+SUM(G{first}:G{last})", "formula", fmt="0.##", key="total.weight")
    if engine == "native":
        scores = f"H{first}:H{last}"
        s.put(f"H{r}", native.total(p, f"I{funds_row}", f"H{funds_row}", scores), "formula", fmt=_score_fmt(p),
              key="total.score")
        s.put(f"I{r}", native.grade(p, f"H{r}", grade_prefix), "formula_text", key="total.grade")
        return r + 1
    s.put(f"H{r}", f'=IF(COUNT(H{first}:H{last})=0,"",JX_TOTAL_CAP(N(I{funds_row})+SUM(H{first}:H{last}),'
                   f'N(H{funds_row}),{prof}))', "formula", fmt=_score_fmt(p), key="total.score")
    grade = f'"{grade_prefix}"&JX_GRADE(H{r},{prof})' if grade_prefix else f"JX_GRADE(H{r},{prof})"
    s.put(f"I{r}", f'=IF(H{r}="","",{grade})', "formula_text", key="total.grade")
    return r + 1


def _first_levels(p: Profile) -> list[str]:
    names = list(p.weights.first_level) or list(FIRST_LEVELS)
    return [n if n.endswith("指标") else f"{n}指标" for n in names]


def _footer(s: SheetModel, r: int, note: str) -> int:
    s.heights[r] = 24  # a gap between the table and the signatures
    r += 1
    s.put(f"A{r}", "单位负责人：", "plain", to=f"B{r}")
    s.put(f"C{r}", None, "input_plain", to=f"D{r}", key="footer.head")
    s.put(f"E{r}", "填表人：", "plain")
    s.put(f"F{r}", None, "input_plain", key="footer.preparer")
    s.put(f"G{r}", "联系电话：", "plain", to=f"H{r}")
    s.put(f"I{r}", None, "input_plain", key="footer.phone")
    r += 1
    s.put(f"A{r}", "填报日期：", "plain", to=f"B{r}")
    s.put(f"C{r}", None, "input_plain", to=f"D{r}", key="footer.date")
    r += 1
    s.put(f"A{r}", note, "note", to=f"I{r}")
    return r + 1


def _form_guide(kind: str, p: Profile, n_ind: int, engine: str = "udf", new_page: bool = False
                ) -> list[tuple[str, str]]:
    if engine == "native":
        scoring = ("得分与等级", "得分、合计、总分与等级由普通公式计算（Excel 2010 及以上、WPS 表格、LibreOffice 均可），"
                                "不需要加载项；计分规则取自规则配置“" + p.id + "”（K2），生成模板时写入公式。"
                                "公式不能确定读法的指标值（如“1,000”“-5%”“95 %”、写法不规范的数值），得分显示“需核对”，"
                                "合计与总分也显示“需核对”；请按“≥95%”“不少于70篇”这样的写法改写，或由财政部门用 jixiao 重算。"
                                "隐藏的辅助列 N 起为读取指标值的中间步骤，请勿修改。")
    else:
        scoring = ("得分与等级", "得分、合计、总分与等级由 jixiao 单元格函数（JX_…）计算，需安装 jixiao Excel 加载项；"
                                "未安装时这些单元格显示 #NAME?，财政部门用 jixiao 在服务器上重算，结果相同。")
    return [
        ("适用表格", kind),
        ("规则配置", f"本表使用规则配置“{p.id}”（{p.name}），写在主表 K2 单元格，"
                     + ("可从下拉列表选择。" if engine != "native" else "得分公式按它生成；换用其他配置请重新生成模板。")
                     + f"来源：{p.source}"),
        ("哪些单元格要填", "浅黄色单元格为填写项（未锁定）；白底单元格为标签或公式（已锁定）。"
                          "工作表已保护，但未设密码：审阅 → 撤消工作表保护 即可解除。"),
        ("金额与比率", "金额单位为万元，保留两位小数。执行率 = 全年执行数 / 全年预算数 × 100%，"
                      "由公式自动计算，不要用年初预算数作分母。"),
        ("绩效指标", "年度指标值写明比较符、数值和单位，如“≥95%”“≤1次”“=24期”（以“=”开头时先输入英文单引号，即 '=24期，否则 Excel 会当作公式）；实际完成值写实际测得的数值，"
                    "不要带“≥”等比较符，单位与指标值一致。文字描述的指标为定性指标，"
                    "可在辅助列 J 选择完成等级（达成年度指标 / 部分达成并具有一定效果 / 未达成且效果较差），"
                    "并可在 K 列给出等级区间内的具体得分。"),
        ("偏差原因", "得分低于分值的指标必须填写“偏差原因分析及改进措施”；大幅超额完成的指标宜说明原因。"
                    "辅助列 L 会提示。"),
        ("增加指标行", f"表内预留 {n_ind} 行指标。行数不够时：撤消工作表保护，选中最后一个指标行整行，"
                      "复制，再在其下方“插入复制的单元格”（WPS、LibreOffice：在其下方插入行，再粘贴），公式会随之复制，"
                      "合计、总分自动包含新行；在表内任意位置插入、删除整行也一样。最后一个指标行下方的细行是表格的结束行，"
                      "请勿删除。完成后重新保护工作表。"),
        scoring,
        ("打印", "A4 纸，按页宽缩放；" + ("绩效指标表从新的一页开始，" if new_page else "")
                 + "绩效指标表的表头（一级指标 … 得分）每页重复；辅助列不打印。"),
    ]


# ---------------------------------------------------------------------------
# 部门整体支出绩效自评表 (provincial layout of seed 000; 市级/县级 variants)


def dept_form(level: str = "province", profile: str | Profile = "hunan-dept-2024", indicator_rows: int = 20,
              goal_rows: int = 4, engine: str = "udf") -> FormModel:
    p = load_profile(profile)
    level_zh = LEVELS[level]
    s = SheetModel("自评表", dict(_GRID), "A:I", landscape=True)
    s.put("A1", '=IF(ISNUMBER(G2),G2&"年度","      年度")&"部门整体支出绩效自评表"', "title", to="I1")
    s.heights[1] = 36
    s.put("A2", "填报单位：", "plain", to="B2")
    s.put("C2", None, "input_plain", to="E2", key="unit")
    s.put("F2", "年度：", "plain")
    s.put("G2", None, "input_plain", fmt="0", key="year")
    s.validate("whole", "G2", "2000", "2100", error="年度应为四位数字，如 2024")
    s.put("H2", "单位：万元", "plain", to="I2")
    prof = _profile_cell(s, p, engine=engine)
    s.put("A3", f"{level_zh}预算部门名称", "label", to="C3")
    s.put("D3", None, "input_text", to="I3", key="dept_name")
    s.fit_rows[3] = 20
    r = _funds_rows(s, p, 4, "年度预算申请（万元）",
                    [("按收入性质分", ["一般公共预算", "政府性基金拨款", "纳入专户管理的非税收入拨款", "其他资金"]),
                     ("按支出性质分", ["基本支出", "项目支出"])], True, prof, engine)
    r = _goal_rows(s, r, goal_rows)
    s.row_breaks.append(r - 1)  # the indicator table starts a page, under its header
    _, _, r = _indicator_rows(s, p, r, indicator_rows, prof, engine)
    first, last = s.indicator_block  # type: ignore[misc]
    fmt = _score_fmt(p)
    s.put(f"A{r}", "合计", "header", to=f"F{r}")
    s.put(f"G{r}", f"=SUM(G{first}:G{last})", "formula", fmt="0.##", key="sum_row.weight")
    if engine == "native":
        s.put(f"H{r}", native.sum_row(p, "I5", f"H{first}:H{last}"), "formula", fmt=fmt, key="sum_row.score")
    else:
        s.put(f"H{r}", f'=IF(COUNT(H{first}:H{last})=0,"",JX_SUM_ROW(N(I5),SUM(H{first}:H{last}),{prof}))',
              "formula", fmt=fmt, key="sum_row.score")
    s.put(f"I{r}", None, "blank")
    r = _total_row(s, p, r + 1, "总分（执行率得分 + 绩效指标得分）", (first, last), 5, prof, engine=engine)
    r = _footer(s, r, "注：执行率 = 全年执行数 / 全年预算数 × 100%；得分低于分值的指标须填写偏差原因分析及改进措施。")
    kind = f"{level_zh}部门整体支出绩效自评表"
    return FormModel(f"dept-{level}", "部门整体支出绩效自评表", p.id, [s], _form_guide(kind, p, indicator_rows, engine, True),
                     engine)


# ---------------------------------------------------------------------------
# 项目支出绩效自评表 (财预〔2020〕10号 附件1)


def project_form(profile: str | Profile = "national-2020", indicator_rows: int = 10, engine: str = "udf",
                 goal_rows: int = 1) -> FormModel:
    p = load_profile(profile)
    s = SheetModel("自评表", dict(_GRID), "A:I", landscape=True)
    s.put("A1", "项目支出绩效自评表", "title", to="I1")
    s.heights[1] = 36
    s.put("A2", "（", "plain_right", to="D2")
    s.put("E2", None, "input_plain", fmt="0", key="year")
    s.validate("whole", "E2", "2000", "2100", error="年度应为四位数字，如 2024")
    s.put("F2", "年度）", "plain")
    s.put("G2", "单位：万元", "plain_right", to="I2")
    prof = _profile_cell(s, p, engine=engine)
    s.put("A3", "项目名称", "label", to="B3")
    s.put("C3", None, "input_text", to="I3", key="project_name")
    s.fit_rows[3] = 20
    s.put("A4", "主管部门", "label", to="B4")
    s.put("C4", None, "input_text", to="E4", key="department")
    s.put("F4", "实施单位", "label", to="G4")
    s.put("H4", None, "input_text", to="I4", key="unit")
    s.fit_rows[4] = 20
    r = _funds_rows(s, p, 5, "项目资金（万元）", [("资金来源", ["其中：本年财政拨款", "上年结转资金", "其他资金"])],
                    False, prof, engine)
    r = _goal_rows(s, r, goal_rows)
    _, _, r = _indicator_rows(s, p, r, indicator_rows, prof, engine)
    r = _total_row(s, p, r, "总分", s.indicator_block, 6, prof, grade_prefix="等级：", engine=engine)  # type: ignore[arg-type]
    _footer(s, r, "注：执行率 = 全年执行数 / 全年预算数 × 100%；定量指标完成的得满分，未完成的按 实际完成值/指标值 × 分值 计分；"
                  "定性指标按达成、部分达成、未达成三档计分。")
    return FormModel("project", "项目支出绩效自评表", p.id, [s],
                     _form_guide("项目支出绩效自评表", p, indicator_rows, engine), engine)
