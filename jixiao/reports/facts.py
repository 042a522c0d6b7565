"""What a form says that a 自评报告 repeats: each number with its key, its Chinese name and its cell.

The one source of the report's numbers: the writer prints these, and the comparison reads a report's
numbers back under the same keys. Scores and amounts are the form's own cells where they hold a number
(the report repeats the form), the rules' where they do not; 总分 and 等级 are the rules' (None when a row
could not be scored: 需核对).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import vocabulary as v
from ..checking.fields import Cell, FormRead, number
from ..checking.result import FileResult
from ..errors import JixiaoError
from ..numbers import round_excel
from ..rules import error_codes
from ..values import compact

error_codes({"report.no_form": "工作簿中没有可写报告的自评表", "report.no_basic": "基础数据表中没有三公经费"})


@dataclass(frozen=True)
class Fact:
    key: str
    value: Any  # a number, or a text (等级)
    label: str  # Chinese, for messages: 全年预算数, “保洁面积”得分 …
    cell: str | None = None  # "自评表!H12", or a range for a sum of cells


THREE_PUBLIC = (("three_public", "“三公”经费"), ("vehicle", "公务用车购置及运行维护费"),
                ("abroad", "因公出国（境）费"), ("reception", "公务接待费"))
"""The kinds of 三公经费 a report gives (the basic data's row keys) and the names the report prints."""


@dataclass(frozen=True)
class ThreePublic:
    """One kind of 三公经费 this year, from the 基础数据表: 预算数, 决算数 and their rate (决算 ÷ 预算)."""

    kind: str  # a key of THREE_PUBLIC
    name: str
    budget: float | None
    final: float | None
    budget_cell: str | None = None
    final_cell: str | None = None

    @property
    def rate(self) -> float | None:
        return None if self.budget in (None, 0) or self.final is None else self.final / self.budget


@dataclass
class IndicatorFact:
    level1: str
    level2: str
    name: str
    target: str
    actual: str
    weight: float
    score: float | None
    reason: str
    weight_cell: str | None
    score_cell: str | None

    @property
    def deducted(self) -> bool:
        return self.score is not None and self.score < self.weight - 1e-9


@dataclass
class FormFacts:
    """One form, as a report speaks of it."""

    kind: str  # dept | project
    unit: str
    year: int | None
    project: str
    file: str
    profile: str
    budget: float | None
    executed: float | None
    exec_rate: float | None
    exec_score: float | None
    exec_weight: float | None
    total: float | None
    grade: str | None
    total_note: str | None
    grade_legend: str
    indicators: list[IndicatorFact]
    spending: dict[str, float] = field(default_factory=dict)  # 基本支出/项目支出 in 全年执行数
    income: dict[str, float] = field(default_factory=dict)  # parts of 全年预算数
    cells: dict[str, str | None] = field(default_factory=dict)  # fact key → cell
    three_public: list[ThreePublic] = field(default_factory=list)  # from the 基础数据表, when one was given

    def levels(self) -> list[tuple[str, float, float | None]]:
        """(一级指标, 分值之和, 得分之和) in the form's order; 得分 None when a row has none."""
        out: dict[str, list[Any]] = {}
        for r in self.indicators:
            w = out.setdefault(r.level1, [0.0, 0.0])
            w[0] += r.weight
            w[1] = None if w[1] is None or r.score is None else w[1] + r.score
        return [(k, round(a, 6), None if b is None else round(b, 6)) for k, (a, b) in out.items()]

    def facts(self) -> dict[str, Fact]:
        """Every number a report may repeat, by key (the reader's keys)."""
        out: dict[str, Fact] = {}

        def put(key: str, value: Any, label: str) -> None:
            if value is not None:
                out[key] = Fact(key, value, label, self.cells.get(key))

        put("funds.budget", self.budget, "全年预算数")
        put("funds.executed", self.executed, "全年执行数")
        put("funds.exec_rate", None if self.exec_rate is None else round_excel(self.exec_rate * 100, 2), "执行率（%）")
        put("funds.exec_score", self.exec_score, "执行率得分")
        put("total", self.total, "自评得分")
        put("grade", self.grade, "等级")
        for part, x in self.spending.items():
            put(f"spending:{part}", x, f"{part}（全年执行数）")
        for t in self.three_public:
            if t.budget is not None:
                out[f"tp:{t.kind}.budget"] = Fact(f"tp:{t.kind}.budget", t.budget, f"{t.name}预算数", t.budget_cell)
            if t.final is not None:
                out[f"tp:{t.kind}.final"] = Fact(f"tp:{t.kind}.final", t.final, f"{t.name}决算数", t.final_cell)
            if t.rate is not None:
                out[f"tp:{t.kind}.rate"] = Fact(f"tp:{t.kind}.rate", round_excel(t.rate * 100, 2),
                                                f"{t.name}决算数占预算数（%）",
                                                f"{t.final_cell} ÷ {t.budget_cell}" if t.final_cell else None)
        names = [compact(r.name) for r in self.indicators]
        for r in self.indicators:
            name = compact(r.name)
            if names.count(name) > 1:
                continue  # two rows of one name: a report's sentence cannot say which
            out[f"ind:{name}.weight"] = Fact(f"ind:{name}.weight", r.weight, f"“{r.name}”分值", r.weight_cell)
            if r.score is not None:
                out[f"ind:{name}.score"] = Fact(f"ind:{name}.score", r.score, f"“{r.name}”得分", r.score_cell)
        for level, w, s in self.levels():
            cells = [r for r in self.indicators if r.level1 == level]
            name = compact(level)
            out[f"level:{name}.weight"] = Fact(f"level:{name}.weight", w, f"{level}分值合计",
                                               _span([r.weight_cell for r in cells]))
            if s is not None:
                out[f"level:{name}.score"] = Fact(f"level:{name}.score", s, f"{level}得分合计",
                                                  _span([r.score_cell for r in cells]))
        return out


def _where(c: Cell | None) -> str | None:
    return None if c is None or c.ref is None else f"{c.sheet}!{c.ref}"


def _span(cells: list[str | None]) -> str | None:
    """"自评表!H10:H15" for the cells a sum is over (the first and last)."""
    known = [c for c in cells if c]
    if not known:
        return None
    if len(known) == 1:
        return known[0]
    return f"{known[0]}:{known[-1].split('!', 1)[-1]}"


def _text(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return f"{x:g}"
    return str(x).strip()


def _legend(bands: Any) -> str:
    """The profile's grade bands as a report prints them: 90分（含）以上为优；…；60分以下为差."""
    out, prev = [], None
    for b in bands:  # high to low
        out.append(f"{b.min:g}分（含）以上为{b.label}" if b.min > 0 or prev is None else f"{prev:g}分以下为{b.label}")
        prev = b.min
    return "；".join(out)


def basic_facts(source: str | Path, required: bool = False, data: bytes | None = None) -> list[ThreePublic]:
    """The 三公经费 by kind that a workbook's 基础数据表 gives for this year ([] when it has no such sheet; with
    ``required``, a Chinese refusal instead: the user named it as the basic data). ``data``: the workbook's
    bytes (an archive member), ``source`` then only its label."""
    import io

    from ..checking.official_rubric import _letters, basic_data_findings, is_basic_data
    from ..checking.xlsx import read_book

    try:
        book = read_book(io.BytesIO(data) if data is not None else str(source), label=str(source))
    except JixiaoError:
        if required:
            raise
        return []
    for sheet in book.sheets.values():
        if not is_basic_data(sheet):
            continue
        basic, _ = basic_data_findings(sheet)
        rows = basic.amounts or {}
        out = []
        for kind, name in THREE_PUBLIC:
            if kind not in rows:
                continue
            row = rows[kind].get("row")
            (budget, bc), (final, fc) = basic.current(kind, "预算"), basic.current(kind, "决算")

            def at(col: int | None) -> str | None:
                return None if col is None or row is None else f"{sheet.name}!{_letters(col)}{int(row)}"
            if budget is not None or final is not None:
                out.append(ThreePublic(kind, name, budget, final, at(bc), at(fc)))
        if out:
            return out
    if required:
        raise JixiaoError("基础数据表中没有读到“三公经费”的本年预算数、决算数（查找“编制数”“三公经费”与“预算数/决算数”表头）",
                          code="report.no_basic", file=str(source))
    return []


def form_facts(res: FileResult) -> FormFacts:
    """The first form of a workbook checked with ``keep_form=True``, as a report speaks of it."""
    if not res.read:
        raise JixiaoError("未读到部门整体/项目支出绩效自评表，无法写报告" + (f"（{res.findings[0].message}）"
                                                                   if res.findings else ""),
                          code="report.no_form", file=res.file)
    fr, scored = res.read[0]
    if scored.form is None or scored.score is None:
        raise JixiaoError("自评表无法计分，无法写报告", code="report.no_form", file=res.file)
    return _facts(res, fr, scored)


def _facts(res: FileResult, fr: FormRead, scored: Any) -> FormFacts:
    form, score = scored.form, scored.score
    cells: dict[str, str | None] = {
        "funds.budget": _where(fr.cells.get(v.FUNDS_BUDGET)), "funds.executed": _where(fr.cells.get(v.FUNDS_EXECUTED)),
        "funds.exec_rate": _where(fr.cells.get(v.FUNDS_RATE)), "funds.exec_score": _where(fr.cells.get(v.FUNDS_SCORE)),
        "total": _where(fr.cells.get(v.TOTAL_SCORE) or fr.cells.get(v.SUM_ROW_SCORE)),
        "grade": _where(fr.cells.get(v.TOTAL_GRADE)),
    }
    rows = []
    for i, (row, s) in enumerate(zip(form.indicators, score.indicators)):
        shown = number(fr.cells.get(v.indicator_key(i, "score")))
        rows.append(IndicatorFact(
            row.level1 or "", row.level2 or "", _text(row.name), _text(row.target), _text(row.actual),
            float(s.weight), shown if shown is not None else s.score, _text(row.reason),
            _where(fr.cells.get(v.indicator_key(i, "weight"))), _where(fr.cells.get(v.indicator_key(i, "score")))))
    fu = form.funds
    shown_exec = number(fr.cells.get(v.FUNDS_SCORE))
    spending: dict[str, float] = {}
    for part in v.SPENDING_PARTS:
        x = (fu.spending.get("全年执行数") or {}).get(part)
        if isinstance(x, (int, float)):
            spending[part] = float(x)
            cells[f"spending:{part}"] = _where(fr.cells.get(v.split_key("spending", part, "全年执行数")))
    income = {part: float(x) for part, x in (fu.income.get("全年预算数") or {}).items() if isinstance(x, (int, float))}
    from ..profile import load_profile

    p = load_profile(score.profile)
    legend = form.grade_legend or _legend(p.grade)
    return FormFacts(
        kind="project" if fr.kind == "project" else "dept", unit=_text(form.unit or res.unit), year=form.year,
        project=_text(fr.get(v.PROJECT_NAME)), file=res.file, profile=score.profile,
        budget=fu.budget, executed=fu.executed, exec_rate=score.exec_rate,
        exec_score=shown_exec if shown_exec is not None else score.exec_score,
        exec_weight=fu.weight if fu.weight is not None else p.execution.weight,
        total=score.shown_total, grade=score.shown_grade, total_note=score.total_note, grade_legend=legend,
        indicators=rows, spending=spending, income=income, cells=cells)
