"""The rubric-style department evaluation in the official layouts as units fill them.

Two sheets, found by their labels (not by jixiao's template positions):

* 基础数据表 (附件1-2, 附件3 …): 编制数 / 实际在职人数 / 控制率, and 经费控制情况 by year and column
  (上年决算数, 本年预算数, 本年决算数 …) for 三公经费, its parts, 公用经费, 政府采购金额, 项目支出, 部门整体支出预算调整
  and 结转结余. Its own arithmetic is checked: 在职人员控制率 = 在职人数 / 编制数 (to the decimals shown), 三公经费 =
  公务用车 + 因公出国 + 公务接待, 公务用车 = 公车购置 + 公车运行维护, and in the 楼堂馆所控制情况 table 规模控制率 =
  实际规模 / 批复规模 and 投资概算控制率 = 实际投资 / 预算投资 — errors, with the cell and the expected value.
* 评价指标表 (附件1-1, or a program's own rubric): rows of 三级指标 with 分值 and 得分/评分. A score above
  its 分值 is an error, or a warning when the row's standard grants bonus points (加…分); a control-rate
  row (在职人员控制率, “三公经费”变动率/控制率, 公用经费控制率, 政府采购执行率, 预算调整率 = 预算调整数 / 项目支出本年预算数,
  结转结余 = 结转结余 / 项目支出本年预算数) is re-scored from the basic data under the
  profile's rule, with the step the row's own standard states ("每超过一个百分点扣0.5分") and the row's
  own 分值.

Merged cells, added rows and numbers typed as text are expected.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ..control import RATE_FORMULAS, score_with_rule
from ..deviation import SCORE_OVER_WEIGHT
from ..errors import Finding, JixiaoError
from ..numbers import round_excel
from ..profile import Profile
from ..rules import rule
from ..textcache import per_text
from ..totals import grade, legend_bands, split_label
from ..values import cell_number, compact
from .labels import grade_legend, is_target_header
from .xlsx import Book, Sheet

BASIC_SUM = rule("basic_data.sum_mismatch", "基础数据分项之和不符")
CONTROL_RATE = rule("control.rate_mismatch", "控制率算错")
CONTROL_SCORE = rule("control.score_mismatch", "控制率得分不符")
PARTS_BLANK = rule("basic_data.parts_blank", "基础数据分项未填写")
RUBRIC_SUM = rule("rubric.sum_mismatch", "评价指标合计与各项之和不符")
RUBRIC_INCONSISTENT = rule("rubric.inconsistent", "评价指标表自相矛盾")
RUBRIC_GRADE = rule("rubric.grade_mismatch", "评价指标表等级与合计得分不符")

_REF = re.compile(r"^([A-Z]+)(\d+)$")


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _letters(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


Grid = dict[int, dict[int, object]]


def _grid(sheet: Sheet) -> Grid:
    g: Grid = {}
    for ref, x in sheet.values.items():
        m = _REF.match(ref)
        if m and x not in (None, ""):
            g.setdefault(int(m.group(2)), {})[_col_index(m.group(1))] = x
    return g


def _ref(r: int, c: int) -> str:
    return f"{_letters(c)}{r}"


def _plain(text: object) -> str:
    """A label as compared: compact, no quotes, numbering (1、) or 其中."""
    return _plain_text(compact(text))


_QUOTES = re.compile(r"[“”\"'‘’]")
_NUMBERING = re.compile(r"^\d+[、.．]")


@per_text
def _plain_text(t: str) -> str:
    t = _QUOTES.sub("", t)
    t = _NUMBERING.sub("", t)
    return t.removeprefix("其中").lstrip(":：")


# ---------------------------------------------------------------------------
# 基础数据表


@dataclass
class BasicData:
    sheet: str
    staff: tuple[float, float] | None = None  # (编制数, 在职人数)
    columns: dict[int, tuple[int | None, str]] | None = None  # column → (year, 预算/决算)
    amounts: dict[str, dict[int | str, float | None]] | None = None  # row key → column → amount (and "row" → row)
    headers: dict[int, str] | None = None  # column → its header as written (本年预算数, 2022年决算数 …)

    def current(self, key: str, kind: str) -> tuple[float | None, int | None]:
        """(amount, column) of this year's 预算 or 决算 of a row: the latest year's column, else the one headed 本年,
        else the only column of that kind."""
        cols = [c for c, (_, k) in (self.columns or {}).items() if k == kind]
        dated = [c for c in cols if (self.columns or {})[c][0]]
        this = [c for c in cols if (self.headers or {}).get(c, "").startswith("本年")]
        pick = (max(dated, key=lambda c: (self.columns or {})[c][0] or 0) if dated
                else this[0] if this else cols[0] if len(cols) == 1 else None)
        if pick is None:
            return None, None
        return (self.amounts or {}).get(key, {}).get(pick), pick

    def value(self, key: str, year: int | None, kind: str) -> float | None:
        for c, (y, k) in (self.columns or {}).items():
            if k == kind and (year is None or y == year):
                return (self.amounts or {}).get(key, {}).get(c)
        return None

    @property
    def this_year(self) -> int | None:
        years = [y for y, _ in (self.columns or {}).values() if y]
        return max(years) if years else None


_ROWS = (("three_public", lambda t: t == "三公经费"), ("vehicle", lambda t: "公务用车" in t),
         ("vehicle_purchase", lambda t: "公车购置" in t), ("vehicle_running", lambda t: "运行维护" in t and "公车" in t),
         ("abroad", lambda t: "出国" in t), ("reception", lambda t: "公务接待" in t),
         ("public_expense", lambda t: t == "公用经费"), ("procurement", lambda t: t.startswith("政府采购金额")),
         ("project_spending", lambda t: t.rstrip(":：") == "项目支出"),
         ("budget_adjustment", lambda t: t.startswith(("部门整体支出预算调整", "预算调整数", "预算调整金额"))),
         ("carryover", lambda t: t.startswith(("结转结余", "年末结转结余", "结转资金"))))
_SUMS = (("three_public", ("vehicle", "abroad", "reception"), "三公经费", "公务用车 + 因公出国 + 公务接待"),
         ("vehicle", ("vehicle_purchase", "vehicle_running"), "公务用车购置和运行维护经费", "公车购置 + 公车运行维护"))


def is_basic_data(sheet: Sheet) -> bool:
    texts = {_plain(x) for x in sheet.values.values() if isinstance(x, str)}
    return "编制数" in texts and any("三公经费" in t for t in texts)


def basic_data_findings(sheet: Sheet) -> tuple[BasicData, list[Finding]]:
    """The basic data read from ``sheet``, and where its own arithmetic fails."""
    g = _grid(sheet)
    amounts: dict[str, dict[int | str, float | None]] = {}
    row_of: dict[str, int] = {}  # row key → its row number (also kept under "row" in amounts)
    data = BasicData(sheet.name, columns={}, amounts=amounts)
    out: list[Finding] = []
    for r in sorted(g):
        row = g[r]
        labels = {c: _plain(x) for c, x in row.items() if isinstance(x, str)}
        staff_col = next((c for c, t in labels.items() if t == "编制数"), None)
        if staff_col is not None and data.staff is None:
            actual_col = next((c for c, t in labels.items() if t.endswith("在职人数")), None)
            rate_col = next((c for c, t in labels.items() if t.endswith("控制率")), None)
            below = g.get(min((x for x in g if x > r), default=r), {})
            n, m = cell_number(below.get(staff_col)), cell_number(below.get(actual_col)) if actual_col else None
            if n and m is not None:
                data.staff = (n, m)
                if rate_col is not None:
                    out += _rate_check(sheet.name, _ref(min(x for x in g if x > r), rate_col),
                                       below.get(rate_col), m / n, "在职人员控制率", f"{m:g} / {n:g}")
            continue
        if any(t.startswith("批复规模") for t in labels.values()):
            out += _buildings(sheet.name, g, r, labels)
            continue
        year_cols = {c: _year_kind(t) for c, t in labels.items() if _year_kind(t)}
        if len(year_cols) >= 2:
            data.columns = year_cols  # type: ignore[assignment]
            data.headers = {c: labels[c] for c in year_cols}
            continue
        first = min(row)
        name = _plain(row[first]) if isinstance(row[first], str) else ""
        key = next((k for k, test in _ROWS if test(name)), None)
        if key and data.columns and key not in (data.amounts or {}):
            amounts[key] = {c: cell_number(row.get(c)) for c in data.columns}
            amounts[key]["row"] = r
            row_of[key] = r
    for total, parts, title, formula in _SUMS:
        rows = data.amounts or {}
        if total not in rows or not all(p in rows for p in parts):
            continue
        for c in data.columns or {}:
            have = rows[total].get(c)
            values = [rows[p].get(c) for p in parts]
            if all(x is None for x in values):  # the parts were left blank: not filled, not zero
                if have:
                    out.append(Finding(PARTS_BLANK, "info", f"{title} {have:g} 的分项（{formula}）未填写，未核对分项之和",
                                       found=have, context=title).at(sheet.name, _ref(row_of[total], c)))
                continue
            want = round(sum(x or 0.0 for x in values), 6)
            if abs((have or 0.0) - want) > 0.005:
                out.append(Finding(BASIC_SUM, "error", f"{title} {have or 0:g} 不等于 {formula} = {want:g}",
                                   expected=want, found=have, context=title)
                           .at(sheet.name, _ref(row_of[total], c)))
    return data, out


# 楼堂馆所控制情况: (rate column, numerator column, denominator column, what) by their header labels
_BUILDING_RATES = (("规模控制率", "实际规模", "批复规模", "楼堂馆所规模控制率"),
                   ("投资概算控制率", "实际投资", "预算投资", "楼堂馆所投资概算控制率"))


def _buildings(sheet: str, g: Grid, head: int, labels: dict[int, str]) -> list[Finding]:
    """The 楼堂馆所 table under its header row: 规模控制率 = 实际规模 / 批复规模, 投资概算控制率 = 实际投资 /
    预算投资, on every project row that fills them (an empty table, as most units have, says nothing)."""
    col = {name: next((c for c, t in labels.items() if t.startswith(name)), None)
           for spec in _BUILDING_RATES for name in spec[:3]}
    out: list[Finding] = []
    for r in sorted(x for x in g if x > head):
        row = g[r]
        if not any(cell_number(row.get(c)) is not None for c in col.values() if c is not None):
            break  # the end of the table (厉行节约保障措施 …)
        for rate, num, den, what in _BUILDING_RATES:
            rc, nc, dc = col[rate], col[num], col[den]
            if rc is None or nc is None or dc is None:
                continue
            n, d = cell_number(row.get(nc)), cell_number(row.get(dc))
            if n is not None and d:
                out += _rate_check(sheet, _ref(r, rc), row.get(rc), n / d, what, f"{n:g} / {d:g}")
    return out


def _year_kind(text: str) -> tuple[int | None, str] | None:
    m = re.match(r"^(?:(20\d\d)年度?|上年度?|本年度?)?(预算|决算)数?$", text)
    if not m:
        return None
    year = int(m.group(1)) if m.group(1) else None
    return year, m.group(2)


def _rate_check(sheet: str, ref: str, shown: object, rate: float, what: str, formula: str) -> list[Finding]:
    got = cell_number(shown)
    if got is None:
        return []
    decimals = 2
    if isinstance(shown, str):
        m = re.search(r"\d(?:\.(\d+))?\s*%", shown)
        decimals = len(m.group(1) or "") if m else 2
    if abs(round_excel(rate * 100, decimals) - round_excel(got * 100, decimals)) <= 1e-9:
        return []
    return [Finding(CONTROL_RATE, "error", f"{what}应为 {formula} = {rate:.2%}", expected=f"{rate:.{decimals}%}",
                    found=shown, context=what).at(sheet, ref)]


# ---------------------------------------------------------------------------
# 评价指标表


# a rubric row by its meaning: what its name says is measured (人员控制率, 政府采购执行率和规范性 …)
_CONTROLS = (("staff_control", re.compile(r"人员(?:控制率|编制控制)")),
             ("three_public_change", re.compile(r"三公经费变动率")),
             ("three_public_control", re.compile(r"三公经费控制率")),
             ("public_expense_control", re.compile(r"公用经费控制率")),
             ("procurement_exec", re.compile(r"政府采购执行率")),
             ("budget_adjust", re.compile(r"预算调整率")),
             ("carryover", re.compile(r"^结转结余|结转结余(?:率|情况|控制)")))
_TOTAL_ROW = re.compile(r"^(?:合计|总计|总分|得分合计|合计得分)$")


def control_kind(name: str) -> str | None:
    """The control rate a rubric row scores, from its name."""
    return next((k for k, pattern in _CONTROLS if pattern.search(name)), None)
_STEP = re.compile(r"每(?:超过|超出|高于|低于|降低|偏离|偏差|相差)?(?:\((?:超过|超出|降低|低于)\))?(?:一个|1个?)?(?:百分点|%)"
                   r"扣(\d+(?:\.\d+)?)分")
_BONUS = re.compile(r"加\d*(?:\.\d+)?分|加分")


def is_rubric(sheet: Sheet) -> bool:
    """A 评价指标表: 三级指标 rows with 分值 and 得分, and no target column. A table with a target column under any of
    its names (年度指标值, 指标值, 年初目标值(A) …: labels.is_target_header) is a form's 绩效指标 table: a 20-point
    execution form's 总分 there includes the execution block, which a rubric's rows never do."""
    texts = [compact(x) for x in sheet.values.values() if isinstance(x, str)]
    return "三级指标" in texts and not any(is_target_header(t) for t in texts) \
        and any(t in ("得分", "评分", "自评得分") or t.endswith("评分") for t in texts)


def rubric_findings(sheet: Sheet, data: BasicData | None, p: Profile) -> list[Finding]:
    """Scores above 分值, control-rate rows re-scored from the basic data, the rubric's own subtotals (一级/二级
    points stated in a column beside the label or in the label itself, against the 三级 rows under them), its 合计
    and its 等级."""
    g = _grid(sheet)
    head = _rubric_header(g)
    if head is None:
        return []
    last_head, cols = head
    out: list[Finding] = []
    leaves: list[tuple[float, float]] = []  # (分值, 得分) of each scored 三级 row above a 合计 row
    blocks: list[_Block] = []  # every 一级/二级 block opened, in order
    current: list[_Block | None] = [None] * len(cols["levels"])
    ended = False
    total_score: float | None = None
    for r in (x for x in sorted(g) if x > last_head):
        row = g[r]
        name = _plain(row.get(cols["name"], ""))
        w, s = cell_number(row.get(cols["weight"])), cell_number(row.get(cols["score"]))
        if any(_TOTAL_ROW.match(_plain(x)) for c, x in row.items() if isinstance(x, str) and c <= cols["name"]):
            out += _total_row(leaves, w, s, sheet.name, r, cols)
            ended = True
            total_score = s if s is not None else round(sum(x[1] for x in leaves), 6)
            continue
        for i, (label_col, points_col) in enumerate(cols["levels"]):
            label = row.get(label_col)
            if isinstance(label, str) and compact(label):
                block = _Block(i, compact(label), r, label_col, points_col, cell_number(row.get(points_col))
                               if points_col else None)
                blocks.append(block)
                current[i] = block
                for j in range(i + 1, len(current)):
                    current[j] = None  # a new 一级 block opens its own 二级 blocks
        if w is None or s is None:
            continue
        for opened in current:
            if opened is not None:
                opened.rows.append((w, s))
        if name:
            leaves.append((w, s))
        standard = " ".join(str(row.get(c, "")) for c in cols.get("standard", ()))
        out += _criteria_points(standard, w, name, sheet.name, _ref(r, cols["weight"]))
        ref = _ref(r, cols["score"])
        if s > w + 1e-9:
            bonus = bool(_BONUS.search(compact(standard)))
            out.append(Finding(SCORE_OVER_WEIGHT, "warning" if bonus else "error",
                               f"得分 {s:g} 超过分值 {w:g}" + ("；评分标准有加分项，请复核加分依据" if bonus else ""),
                               expected=w, found=s, context=name or None).at(sheet.name, ref))
            continue
        kind = control_kind(name)
        if kind and data is not None:
            out += _control_row(kind, name, w, s, standard, data, p, sheet.name, ref)
    out += _subtotals(blocks, ended, sheet.name)
    out += _rubric_grade(g, last_head, total_score, p, sheet)
    return out


@dataclass
class _Block:
    """A 一级 (level 0) or 二级 (level 1) block of a rubric: its label, the points it states and its scored rows."""

    level: int
    label: str
    row: int
    label_col: int
    points_col: int | None
    column_points: float | None  # the number in the column beside the label (分值, or a header reading 得分)
    rows: list[tuple[float, float]] = field(default_factory=list)  # (分值, 得分) of each scored row under it


def _subtotals(blocks: list[_Block], ended: bool, sheet: str) -> list[Finding]:
    """Each complete block's stated points against the rows under it. A block is complete when another block of
    its level follows it, or the rubric's 合计 row does (a rubric cut off mid-block says nothing about its end).
    Points in a column beside the label may be the block's 分值 or its 得分 (headers read 得分 over both); only a
    number that is neither sum is a mistake. Points in the label itself ("项目管理13分", "决策(10)") are 分值."""
    out: list[Finding] = []
    for i, b in enumerate(blocks):
        later = [x for x in blocks[i + 1:] if x.level <= b.level]
        if not b.rows or not (later or ended):
            continue
        weights = round(sum(x[0] for x in b.rows), 6)
        scores = round(sum(x[1] for x in b.rows), 6)
        name, in_label = split_label(b.label)
        what = ("一级", "二级")[min(b.level, 1)]
        if b.column_points is not None and b.points_col is not None:
            if min(abs(b.column_points - weights), abs(b.column_points - scores)) > 0.005:
                out.append(Finding(RUBRIC_SUM, "error", f"{what}指标“{name}”小计 {b.column_points:g} 既不等于其下各行"
                                   f"分值之和 {weights:g}，也不等于得分之和 {scores:g}", expected=weights,
                                   found=b.column_points, context=name).at(sheet, _ref(b.row, b.points_col)))
        elif in_label is not None and abs(in_label - weights) > 0.005:
            out.append(Finding(RUBRIC_SUM, "error", f"{what}指标“{name}”标明 {in_label:g} 分，其下各行分值之和为 "
                               f"{weights:g}", expected=weights, found=in_label, context=name)
                       .at(sheet, _ref(b.row, b.label_col)))
    return out


_GRADE_LABEL = re.compile(r"^(?:评价|绩效|自评|综合)?等级[:：]?(.*)$")


def _rubric_grade(g: Grid, head: int, total: float | None, p: Profile, sheet: Sheet) -> list[Finding]:
    """The 等级 the rubric states (等级 / 评价等级 / 自评等级, the word in the label or the next cell to its right)
    against its total under the profile's bands, or under a grading legend printed on the sheet."""
    if total is None:
        return []
    for r in (x for x in sorted(g) if x > head):
        for c, x in sorted(g[r].items()):
            m = _GRADE_LABEL.match(_plain(x)) if isinstance(x, str) else None
            if m is None:
                continue
            word, at = m.group(1), c
            if not word:
                right = [k for k in sorted(g[r]) if k > c]
                if not right or not isinstance(g[r][right[0]], str):
                    continue
                word, at = _plain(g[r][right[0]]), right[0]
            want = grade(total, p, legend_bands(grade_legend(sheet)))
            if word != want:
                return [Finding(RUBRIC_GRADE, "error", f"等级应为“{want}”（合计得分 {total:g}）", expected=want,
                                found=word, context="等级").at(sheet.name, _ref(r, at))]
            return []
    return []


_CLAUSE = re.compile(r"[①②③④⑤⑥⑦⑧⑨⑩;；]")  # criteria that add up; bands of one criterion are split by "，"
_POINTS = re.compile(r"(?<!扣)(?<!加)(?:计|得|给|赋)(\d+(?:\.\d+)?)分")


def _criteria_points(standard: str, w: float, name: str, sheet: str, ref: str) -> list[Finding]:
    """A row whose criteria give at most fewer points than its 分值 (seed 002: 预算执行率 worth 6, criteria
    ① at most 2 + ② at most 2): the rubric contradicts itself; said once, on the row's 分值. Clauses (①②…, or
    "；") are taken to add up, so the sum is an upper bound and a finding is never a guess."""
    text = compact(standard)
    if not text or "满分" in text or _BONUS.search(text):
        return []
    clauses = [c for c in _CLAUSE.split(text) if c]
    most = 0.0
    for clause in clauses:
        points = [float(x) for x in _POINTS.findall(clause)]
        if not points:
            return []  # a clause whose points are not stated: nothing can be concluded
        most += max(points)
    if most >= w - 1e-9:
        return []
    return [Finding(RUBRIC_INCONSISTENT, "warning",
                    f"{name or '该行'}分值 {w:g}，但评分标准最多给 {most:g} 分：评价指标表自相矛盾，请财政局确认",
                    expected=most, found=w, context=name or None).at(sheet, ref)]


def _total_row(leaves: list[tuple[float, float]], w: float | None, s: float | None, sheet: str, r: int,
               cols: dict) -> list[Finding]:
    """The 合计 row: its 分值 and 得分 are the sums of the 三级 rows above it."""
    out = []
    for what, have, col, i in (("分值", w, cols["weight"], 0), ("得分", s, cols["score"], 1)):
        if have is None or not leaves:
            continue
        want = round(sum(x[i] for x in leaves), 6)
        if abs(have - want) > 0.005:
            out.append(Finding(RUBRIC_SUM, "error", f"合计{what} {have:g} 不等于各三级指标{what}之和 {want:g}",
                               expected=want, found=have, context=f"合计{what}").at(sheet, _ref(r, col)))
    return out


def _rubric_header(g: Grid) -> tuple[int, dict] | None:
    for r in sorted(g):
        texts = {c: compact(x) for c, x in g[r].items() if isinstance(x, str)}
        name = next((c for c, t in texts.items() if t == "三级指标"), None)
        if name is None:
            continue
        below = r + 1 if any(t in ("分值", "评分", "得分") for c, t in
                             ((c, compact(x)) for c, x in g.get(r + 1, {}).items() if isinstance(x, str))) else r
        # the header's labels: its own row, and the next row only when that is the header's second row
        band = {c: t for rr in range(r, below + 1) for c, t in ((c, compact(x)) for c, x in g.get(rr, {}).items()
                                                                    if isinstance(x, str))}
        right = sorted(c for c in band if c > name)
        weight = next((c for c in right if band[c].startswith("分值")), None)
        scores = [c for c in right if band[c] in ("得分", "评分", "自评得分") or band[c].endswith("评分")]
        if weight is None and len(scores) >= 2:
            weight = scores.pop(0)  # a header that reads 得分 over the 分值 column, then the score
        scores = [c for c in scores if weight is None or c > weight]
        score = next((c for c in scores if any(cell_number(g.get(x, {}).get(c)) is not None
                                               for x in g if x > below)), scores[0] if scores else None)
        if weight is None or score is None:
            continue
        standard = tuple(c for c in right if any(k in band[c] for k in ("评价标准", "评分标准", "指标说明", "评分细则")))
        levels = []
        for c in sorted(x for x in band if x < name and band[x].startswith(("一级指标", "二级指标", "一级", "二级"))):
            beside = band.get(c + 1)
            points = c + 1 if c + 1 < name and beside is not None and beside.startswith(("分值", "得分", "权重")) else None
            levels.append((c, points))
        return below, {"name": name, "weight": weight, "score": score, "standard": standard, "levels": levels}
    return None


def _control_row(kind: str, name: str, w: float, s: float, standard: str, data: BasicData, p: Profile,
                 sheet: str, ref: str) -> list[Finding]:
    rate, proxy = _control_rate(kind, data)
    if rate is None or kind not in p.controls:
        return []
    ctl = p.control(kind)
    m = _STEP.search(compact(standard))
    own_step = m is not None
    if m is not None:
        ctl = replace(ctl, step=float(m.group(1)))
    elif abs(w - ctl.weight) > 1e-9:
        return []  # the form's points differ from the profile's and its standard states no step
    try:
        want = score_with_rule(ctl, rate, w)
    except JixiaoError:
        return []
    if abs(want - s) <= p.indicators.score_tolerance:
        return []
    settled = (own_step or p.settled("control")) and not proxy
    return [Finding(CONTROL_SCORE, "error" if settled else "warning",
                    f"{name} {rate:.2%}，按评分标准应得 {want:g} 分" + (f"（{proxy}）" if proxy else "")
                    + ("" if settled or proxy else p.assumed("control")),
                    expected=want, found=s, context=name).at(sheet, ref)]


def _control_rate(kind: str, data: BasicData) -> tuple[float | None, str]:
    """The rate from the basic data, and a note when an input had to stand in for a missing one."""
    y = data.this_year
    if kind == "staff_control" and data.staff:
        return data.staff[1] / data.staff[0], ""
    if kind == "three_public_change" and y:
        now = data.value("three_public", y, "预算")
        before, proxy = data.value("three_public", y - 1, "预算"), ""
        if before is None:  # the official 基础数据表 has 上年决算数 only
            before, proxy = data.value("three_public", y - 1, "决算"), "基础数据表无上年预算数，按上年决算数推算"
        if now is None or not before:
            return None, ""
        return RATE_FORMULAS[kind].compute(now, before), proxy
    if kind in ("budget_adjust", "carryover") and y:
        # 预算调整率 = 预算调整数 / 预算数, 结转结余率 = 结转结余 / 预算数; the 基础数据表's 预算数 is its 项目支出 本年预算数
        # (as `jixiao control --basic` reads it). The adjustment is one number for the year, in whichever column.
        key = "budget_adjustment" if kind == "budget_adjust" else "carryover"
        amount = next((x for x in (data.value(key, y, "预算"), data.value(key, y, "决算")) if x is not None), None)
        budget = data.value("project_spending", y, "预算")
        if amount is None or not budget:
            return None, ""
        return RATE_FORMULAS[kind].compute(amount, budget), ""
    if kind in ("three_public_control", "public_expense_control", "procurement_exec") and y:
        key = {"three_public_control": "three_public", "public_expense_control": "public_expense",
               "procurement_exec": "procurement"}[kind]
        spent, budget = data.value(key, y, "决算"), data.value(key, y, "预算")
        return (spent / budget if spent is not None and budget else None), ""
    return None, ""


def check_official_rubric(book: Book, p: Profile) -> tuple[bool, list[Finding]]:
    """Whether the book holds a basic-data or rubric sheet in an official layout, and every finding there."""
    data: BasicData | None = None
    out: list[Finding] = []
    found = False
    for sheet in book.sheets.values():
        if is_basic_data(sheet):
            found = True
            data, fs = basic_data_findings(sheet)
            out += fs
    for sheet in book.sheets.values():
        if is_rubric(sheet) and not is_basic_data(sheet):
            found = True
            out += rubric_findings(sheet, data, p)
    return found, out
