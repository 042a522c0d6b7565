"""Check one submitted workbook: recompute it, apply every rule, point each finding at its cell.

Routes, from fastest to slowest:

* ``template`` — the workbook's formulas are jixiao's template formulas (cells
  whose formula was replaced by a typed number are allowed, and reported). The
  template's calculation, compiled once per process to plain Python, recomputes it;
* ``values`` — a layout with typed numbers and no formulas (a bureau's own
  official-layout sheet): read by labels, scored by the core;
* ``full`` — formulas that differ from every template: a complete ``formulas``
  load recomputes the workbook (bounded in time), then it is read by labels.

Whatever the route, the rules are the core's (:func:`jixiao.form.score_form`),
so a finding says the same thing for every layout.
"""
from __future__ import annotations

import hashlib
import re
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..errors import CellError, Finding, JixiaoError
from ..form import DeptForm, Funds, IndicatorRow, score_form
from ..excel.compiler import Compiled, compile_sheets
from ..excel.syntax import FormulaError, relative_form
from ..layouts.model import FormModel
from ..profile import DEFAULT_PROFILE, Profile, load_profile
from .fields import Cell, FormRead, find_form_sheet, number, read_labels, read_template
from ..totals import IndicatorLine, split_label  # noqa: F401  (re-exported for the report)
from .xlsx import Book, read_book

FULL_ROUTE_SECONDS = 60
_ADDIN_PREFIX = re.compile(r"\[\d+\]!(?=JX_)", re.I)


@dataclass
class FileResult:
    """What the checker found in one workbook (one row of the batch report)."""

    file: str
    kind: str | None = None
    route: str | None = None
    profile: str | None = None
    unit: str | None = None
    year: int | None = None
    exec_rate: float | None = None
    total: float | None = None
    grade: str | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        out = {"error": 0, "warning": 0, "info": 0}
        for f in self.findings:
            out[f["severity"]] = out.get(f["severity"], 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "kind": self.kind, "route": self.route, "profile": self.profile,
                "unit": self.unit, "year": self.year, "exec_rate": self.exec_rate, "total": self.total,
                "grade": self.grade, "counts": self.counts(), "error": self.error, "seconds": round(self.seconds, 4)}


# ---------------------------------------------------------------------------
# Templates, compiled once per process


@dataclass
class TemplateCalc:
    kind: str
    model: FormModel
    formulas: dict[tuple[str, str], str]
    _compiled: Compiled | None = None
    _relative: dict[tuple[str, str], str] | None = None

    @property
    def compiled(self) -> Compiled:
        if self._compiled is None:
            self._compiled = _compiled_by_text(self.formulas)
        return self._compiled

    def relative(self, key: tuple[str, str]) -> str:
        if self._relative is None:
            self._relative = {}
        if key not in self._relative:
            self._relative[key] = relative_form(self.formulas[key], key[1])
        return self._relative[key]


_COMPILED: dict[str, Compiled] = {}


def _compiled_by_text(formulas: dict[tuple[str, str], str]) -> Compiled:
    digest = hashlib.sha1(repr(sorted(formulas.items())).encode("utf-8")).hexdigest()
    if digest not in _COMPILED:
        _COMPILED[digest] = compile_sheets(formulas)
    return _COMPILED[digest]


_TEMPLATE_CACHE: list[TemplateCalc] = []


def templates() -> list[TemplateCalc]:
    """jixiao's shipped templates, with their formulas (compiled lazily, on first match)."""
    if not _TEMPLATE_CACHE:
        from ..layouts.writer import TEMPLATES, template_model

        for kind in TEMPLATES:
            model = template_model(kind)
            forms = {(s.name, ref): f for s in model.sheets for ref, f in s.formulas().items()}
            _TEMPLATE_CACHE.append(TemplateCalc(kind, model, forms))
    return _TEMPLATE_CACHE


@dataclass
class Match:
    template: TemplateCalc
    overwritten: list[tuple[str, str]]  # template formula cells holding a typed value
    changed: list[tuple[str, str]]  # cells whose formula differs
    extra: list[tuple[str, str]]  # formulas the template does not have


def match_template(book: Book) -> Match | None:
    """The template whose formulas the workbook has; None when no template's sheets are all present."""
    book_formulas = {(s.name, ref): _ADDIN_PREFIX.sub("", f) if "!" in f else f for s in book.sheets.values()
                     for ref, f in s.formulas.items()}
    candidates: list[tuple[int, int, Match]] = []
    exact = [t for t in templates() if t.formulas == book_formulas]
    if exact:  # the usual case: an untouched template, compared as a whole
        for t in exact:
            level = {"dept-province": "省级", "dept-city": "市级", "dept-county": "县级"}.get(t.kind)
            if level is None or level in str(book.sheets[t.model.main.name].values.get("A3", "")):
                return Match(t, [], [], [])
        return Match(exact[0], [], [], [])
    for t in templates():
        sheets = {s.name for s in t.model.sheets}
        if not sheets <= set(book.sheets):
            continue
        overwritten, changed = [], []
        for key, f in t.formulas.items():
            got = book_formulas.get(key)
            if got is None:
                overwritten.append(key)
            elif got != f:
                try:
                    same = relative_form(got, key[1]) == t.relative(key)
                except FormulaError:
                    same = False
                if not same:
                    changed.append(key)
        if len(overwritten) > len(t.formulas) // 2:
            continue  # not this template: most of its formulas are missing
        extra = [k for k in book_formulas if k[0] in sheets and k not in t.formulas]
        # the three department variants share formulas: prefer the one whose header names the level
        level = {"dept-province": "省级", "dept-city": "市级", "dept-county": "县级"}.get(t.kind)
        header = str(book.sheets[t.model.main.name].values.get("A3", ""))
        candidates.append((len(changed) + len(extra) + len(overwritten), int(bool(level) and level not in header),
                           Match(t, overwritten, changed, extra)))
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c[0], c[1]))[2]


# ---------------------------------------------------------------------------
# Helpers


@contextmanager
def time_limit(seconds: float):
    """Bound a slow step (the full formulas route) where the platform allows it."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def raise_timeout(*_):
        raise TimeoutError

    old = signal.signal(signal.SIGALRM, raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, CellError) or isinstance(b, CellError):
        return str(a) == str(b)
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(a)))
    return str(a) == str(b)


def _show(v: Any) -> Any:
    if isinstance(v, CellError):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _finding(rule: str, severity: str, message: str, sheet: str | None, cell: str | None,
             expected: Any = None, found: Any = None, context: str | None = None) -> dict[str, Any]:
    return {"sheet": sheet, "cell": cell, "rule": rule, "severity": severity, "message": message,
            "expected": _show(expected), "found": _show(found), "context": context}


# ---------------------------------------------------------------------------
# From what was read to the core's form


def _num(c: Cell | None, what: str, out: list[dict], required: bool = False) -> float | None:
    if c is None or c.blank:
        if required:
            out.append(_finding("reader.field_missing", "error", f"{what}未填写", c.sheet if c else None,
                                c.ref if c else None, expected=what))
        return None
    v = number(c.value)
    if v is None:
        out.append(_finding("value.not_number", "error", f"{what}“{c.value}”不是数字", c.sheet, c.ref, found=c.value))
    return v


def _reported_rate(c: Cell | None, candidates: list[float]) -> float | None:
    """The reported 执行率 as a fraction. A plain 84.52 typed for 84.52% is read as 0.8452 when that is
    what one of the ``candidates`` (the right rate, or the rate over 年初预算数) makes of it."""
    if c is None or c.blank or isinstance(c.value, CellError):
        return None
    v = number(c.value)
    if v is None or (isinstance(c.value, str) and "%" in c.value) or not candidates:
        return v
    near = min(abs(v - x) for x in candidates)
    near_pct = min(abs(v / 100 - x) for x in candidates)
    return v / 100 if near_pct < near else v


def to_form(fr: FormRead, profile: Profile, out: list[dict]) -> DeptForm | None:
    budget = _num(fr.fields.get("funds.budget"), "全年预算数", out, required=True)
    executed = _num(fr.fields.get("funds.executed"), "全年执行数", out, required=True)
    if budget is None or executed is None:
        return None
    initial = _num(fr.fields.get("funds.initial_budget"), "年初预算数", out)
    candidates = [executed / d for d in (budget, initial) if d]
    funds = Funds(budget=budget, executed=executed, initial_budget=initial,
                  weight=_num(fr.fields.get("funds.weight"), "执行率分值", out),
                  reported_rate=_reported_rate(fr.fields.get("funds.exec_rate"), candidates),
                  reported_score=_plain_number(fr.fields.get("funds.exec_score")))
    for group in ("income", "spending"):
        columns: dict[str, dict[str, float | None]] = {}
        for column, parts in fr.splits.get(group, {}).items():
            target = profile.label_split_columns[group] if column == "label" else column
            vals = {p: _num(c, p, out) for p, c in parts.items()}
            columns.setdefault(target, {}).update(vals)
        setattr(funds, group, columns)
    rows = []
    for ind in fr.indicators:
        def val(k: str, ind: dict[str, Cell] = ind) -> Any:
            c = ind.get(k)
            return None if c is None or c.blank else c.value

        weight = _num(ind.get("weight"), "分值", out)
        rows.append(IndicatorRow(level1=str(val("level1") or ""), level2=str(val("level2") or ""),
                                 name=str(val("name") or ""), target=val("target"), actual=val("actual"),
                                 weight=weight if weight is not None else 0.0,
                                 reported=_plain_number(ind.get("score")),
                                 reason=(str(val("reason")) if val("reason") is not None else "")
                                 if "reason" in ind else None,
                                 grade=str(val("grade")) if val("grade") is not None else None,
                                 judged=_plain_number(ind.get("judged"))))
    return DeptForm(unit=str(fr.get("unit") or ""), year=_int(fr.get("year")), funds=funds, indicators=rows,
                    reported_sum=_plain_number(fr.fields.get("sum_row.score")),
                    reported_total=_plain_number(fr.fields.get("total.score")),
                    reported_grade=_text(fr.fields.get("total.grade")),
                    stated_split_totals={g: c.value for g, c in fr.stated_split_totals.items() if c.value is not None},
                    kind=fr.kind)


def _plain_number(c: Cell | None) -> float | None:
    if c is None or c.blank or isinstance(c.value, CellError):
        return None
    return number(c.value)


def _text(c: Cell | None) -> str | None:
    if c is None or c.blank or isinstance(c.value, CellError):
        return None
    return str(c.value)


def _int(v: Any) -> int | None:
    n = number(v)
    return int(n) if n is not None else None


# where each rule's finding points
_IND_CELL = {
    "indicator.target_unreadable": "target", "indicator.actual_unreadable": "actual",
    "indicator.actual_not_number": "actual", "indicator.actual_has_comparator": "actual",
    "indicator.unit_mismatch": "actual", "indicator.over_achievement": "actual",
    "indicator.score_over_weight": "score", "indicator.score_mismatch": "score",
    "indicator.qualitative_out_of_band": "score", "indicator.reason_missing": "reason",
    "indicator.reason_recommended": "reason", "indicator.grade_unknown": "grade",
}


def locate(f: Finding, fr: FormRead) -> tuple[str | None, str | None]:
    """The sheet and cell a core finding is about."""
    rule, extra = f.rule, f.extra
    if "row" in extra and extra["row"] < len(fr.indicators):
        ind = fr.indicators[extra["row"]]
        key = _IND_CELL.get(rule, "score")
        if rule == "indicator.qualitative_out_of_band" and "judged" in ind and not ind["judged"].blank:
            key = "judged"
        c = ind.get(key) or ind.get("score")
        return (c.sheet, c.ref) if c else (fr.sheet, None)
    field_cells = {
        "execution.wrong_budget": "funds.exec_rate", "execution.rate_mismatch": "funds.exec_rate",
        "execution.score_mismatch": "funds.exec_score", "total.sum_row_mismatch": "sum_row.score",
        "total.total_mismatch": "total.score", "total.grade_mismatch": "total.grade",
        "weights.total": "sum_row.weight",
    }
    if rule in field_cells:
        key = field_cells[rule]
        c = fr.fields.get(key) or (fr.fields.get("total.weight") if key == "sum_row.weight" else None)
        return (c.sheet, c.ref) if c else (fr.sheet, None)
    if rule in ("weights.first_level", "weights.unknown_level"):
        level = extra.get("level1")
        for ind in fr.indicators:
            if split_label(str(ind["level1"].value or ""))[0].removesuffix("指标") == level:
                c = ind.get("weight")
                return (c.sheet, c.ref) if c else (fr.sheet, None)
    if rule == "funds.split_mismatch":
        group, column = extra.get("group"), extra.get("column")
        parts = fr.splits.get(group, {}).get(column) or fr.splits.get(group, {}).get("label") or {}
        sub = fr.fields.get(f"funds.{group}.subtotal.{ {'年初预算数': 'D', '全年预算数': 'E', '全年执行数': 'F'}.get(column, '')}")
        if sub is not None:
            return sub.sheet, sub.ref
        first = next((c for c in parts.values() if not c.blank), None) or next(iter(parts.values()), None)
        return (first.sheet, first.ref) if first else (fr.sheet, None)
    if rule == "funds.same_quantity":
        c = fr.stated_split_totals.get(extra.get("group"))
        return (c.sheet, c.ref) if c else (fr.sheet, None)
    return fr.sheet, None


# ---------------------------------------------------------------------------
# The check


def _profile_for(explicit: str | Profile | None, fr_profile: Any, out: list[dict], sheet: str | None,
                 cell: str | None) -> Profile:
    if explicit is not None:
        return load_profile(explicit)
    if fr_profile not in (None, ""):
        try:
            return load_profile(str(fr_profile).strip())
        except JixiaoError as e:
            out.append(_finding("profile.unknown_in_workbook", "warning",
                                f"工作簿指定的规则配置无法使用（{e.message}），改用 {DEFAULT_PROFILE}", sheet, cell,
                                found=fr_profile))
    return load_profile(DEFAULT_PROFILE)


def _formula_findings(match: Match, book: Book, computed: dict, out: list[dict], covered: set) -> None:
    missing_cache = 0
    no_addin: list[str] = []
    for key in match.template.compiled.cells:
        sheet, ref = key
        s = book.sheets[sheet]
        expected = computed.get(key)
        if key in match.overwritten:
            typed = s.values.get(ref)
            if typed in (None, "") and expected in (None, ""):
                continue
            out.append(_finding("formula.overwritten", "warning" if key in covered else "error",
                                "公式已被手填数值替代" + ("" if _same(typed, expected) else "，且与规则计算结果不符"),
                                sheet, ref, expected=expected, found=typed))
            continue
        if ref not in s.values:
            missing_cache += 1
            continue
        cached = s.values.get(ref)
        if cached is None:
            missing_cache += 1
            continue
        if isinstance(cached, CellError) and cached.code == "#NAME?" and "JX_" in match.template.formulas[key]:
            no_addin.append(ref)  # saved by a program without jixiao's functions (WPS, LibreOffice, Excel without add-in)
            continue
        if not _same(cached, expected) and key not in covered:
            out.append(_finding("formula.stale", "error",
                                "单元格保存的结果与重新计算不一致（未重算，或使用了旧版规则/加载项）",
                                sheet, ref, expected=expected, found=cached))
    if no_addin:
        out.append(_finding("formula.no_addin", "warning",
                            f"{len(no_addin)} 个得分单元格显示 #NAME?：文件是在没有 jixiao 加载项的程序中保存的"
                            "（WPS、LibreOffice 或未装加载项的 Excel），已按规则重算", match.template.model.main.name,
                            no_addin[0]))
    if missing_cache:
        out.append(_finding("formula.no_cached_values", "info",
                            f"{missing_cache} 个公式单元格没有保存计算结果（文件未经 Excel 计算保存）",
                            None, None))


def read_form(book: Book, res: FileResult, out: list[dict], recalc: bool = True) -> tuple[FormRead | None, Match | None,
                                                                                        dict]:
    """Choose the route, recompute, and find the form's fields. Sets ``res.route`` and ``res.kind``.

    Returns (fields or None when the workbook is not a 部门整体/项目 form, the template match, recomputed values).
    """
    match = match_template(book) if any(s.formulas for s in book.sheets.values()) else None
    if match and not match.changed and not match.extra:
        res.route, res.kind = "template", match.template.kind
        values = {(s.name, ref): v for s in book.sheets.values() for ref, v in s.values.items()
                  if (s.name, ref) not in match.template.formulas}
        computed = match.template.compiled.run(values)
        if match.template.model.kind in ("project", "dept-province", "dept-city", "dept-county"):
            return read_template(book, match.template.model), match, computed
        return None, match, computed
    found = find_form_sheet(book)
    if found is None:
        out.append(_finding("form.unrecognized", "error",
                            "未找到部门整体/项目支出绩效自评表（查找“三级指标”“年度指标值”表头）", None, None))
        return None, match, {}
    sheet, kind = found
    computed: dict = {}
    if sheet.formulas:
        res.route = "full"
        if recalc:
            out.append(_finding("route.full", "info",
                                "公式与 jixiao 模板不同" + (f"（{len(match.changed) + len(match.extra)} 处）" if match else "")
                                + "，已用 formulas 完整重算", sheet.name, None))
            computed = _full_recalc(book, out)
    else:
        res.route = "values"
    res.kind = kind
    return read_labels(book, sheet, kind), match, computed


def check_book(book: Book, profile: str | Profile | None = None) -> FileResult:
    """All findings for one workbook that has been read."""
    res = FileResult(book.path)
    out: list[dict] = []
    if book.has_macros:
        out.append(_finding("workbook.macros", "info", "文件含宏（VBA），jixiao 不会运行它", None, None))
    fr, match, computed = read_form(book, res, out)
    if fr is None:
        if res.route == "template" and match is not None:  # the rubric and summary templates
            prof = _profile_for(profile, _profile_cell(book, match.template.model), out, None, None)
            res.profile = prof.id
            _formula_findings(match, book, computed, out, set())
            _rubric_checks(match, computed, out, prof)
        res.findings = out
        return res
    assert fr is not None
    prof_cell = fr.fields.get("profile")
    prof = _profile_for(profile, fr.profile, out, prof_cell.sheet if prof_cell else None,
                        prof_cell.ref if prof_cell else None)
    res.profile = prof.id
    for n in fr.notes:
        out.append(_finding(n.rule, n.severity, n.message, fr.sheet, None, expected=n.expected))
    res.unit = str(fr.get("unit")) if fr.get("unit") not in (None, "") else None
    res.year = _int(fr.get("year"))
    form = to_form(fr, prof, out)
    covered: set = set()
    if form is not None:
        try:
            score = score_form(form, prof)
        except JixiaoError as e:
            c = fr.fields.get("funds.budget")
            out.append(_finding(e.code, "error", e.message, c.sheet if c else fr.sheet, c.ref if c else None))
        else:
            res.exec_rate, res.total, res.grade = score.exec_rate, score.capped_total, score.grade
            for f in score.findings:
                sheet, cell = locate(f, fr)
                ctx = f.extra.get("indicator") or f.extra.get("field")
                out.append(_finding(f.rule, f.severity, f.message, sheet, cell, f.expected, f.found, ctx))
                if cell:
                    covered.add((sheet, cell))
    if res.route == "template" and match is not None:
        _annotate_stale(match, book, computed, out)
        _formula_findings(match, book, computed, out, covered)
    elif res.route == "full":
        _stale_full(book, fr.sheet, computed, out, covered)
    res.findings = out
    return res


def _annotate_stale(match: Match, book: Book, computed: dict, out: list[dict]) -> None:
    """A rule finding on a formula cell whose formula is intact: the saved result is an old calculation."""
    for f in out:
        key = (f["sheet"], f["cell"])
        if key in match.template.formulas and key not in match.overwritten:
            cached = book.sheets[key[0]].values.get(key[1])
            if cached is not None and not _same(cached, computed.get(key)):
                f["message"] += "（公式未被改动：保存的是旧的计算结果，可能未重算或使用了旧版加载项/规则）"
                f["stale"] = True


def _profile_cell(book: Book, model: FormModel) -> Any:
    for s in model.sheets:
        if "profile" in s.fields and s.name in book.sheets:
            return book.sheets[s.name].values.get(s.fields["profile"])
    return None


def _rubric_checks(match: Match, computed: dict, out: list[dict], prof: Profile) -> None:
    model = match.template.model
    if model.kind != "county-rubric":
        return
    from ..layouts.rubric import RUBRIC

    s = model.sheet(RUBRIC)
    total = computed.get((RUBRIC, s.fields["total.weight"]))
    want = prof.weights
    if isinstance(total, (int, float)) and abs(total - want.total) > want.tolerance:
        out.append(_finding("weights.total", "error", f"评价指标分值合计 {total:g}，应为 {want.total:g}", RUBRIC,
                            s.fields["total.weight"], expected=want.total, found=total))
    from ..layouts.rubric import rubric_groups

    for group, (cells, points) in rubric_groups(model, prof).items():
        got = sum(float(computed.get((RUBRIC, c)) or 0) if isinstance(computed.get((RUBRIC, c)), (int, float))
                  else 0.0 for c in cells)
        if abs(got - points) > want.tolerance:
            out.append(_finding("weights.group", "error", f"“{group}”下各三级指标分值之和 {got:g}，应为 {points:g}",
                                RUBRIC, cells[0], expected=points, found=got))


def _full_recalc(book: Book, out: list[dict]) -> dict:
    import os
    import tempfile

    from ..excel import bridge
    from ..excel.compiler import evaluation_order
    from ..excel.syntax import parse

    nodes = {}
    for s in book.sheets.values():
        for ref, f in s.formulas.items():
            try:
                nodes[(s.name, ref)] = parse(f)
            except FormulaError:
                continue  # formulas will judge what jixiao's parser does not know
    try:
        evaluation_order(nodes)
    except FormulaError as e:
        out.append(_finding("formula.cycle", "error", e.message + "，无法重算", e.sheet, e.cell))
        return {}

    try:
        with tempfile.TemporaryDirectory(prefix="jixiao-full-") as tmp, time_limit(FULL_ROUTE_SECONDS):
            path = book.path
            if book.raw is not None or not os.path.isfile(path):
                path = os.path.join(tmp, "book.xlsx")
                with open(path, "wb") as fh:
                    fh.write(book.raw or b"")
            rc = engine.calculate(path)
    except TimeoutError:
        out.append(_finding("formulas.timeout", "error", f"完整重算超过 {FULL_ROUTE_SECONDS} 秒（公式可能循环），已放弃重算",
                            None, None))
        return {}
    except JixiaoError as e:
        out.append(_finding(e.code, "error", e.message, None, None))
        return {}
    except Exception as e:  # formulas can fail on exotic formulas; the file still gets its other checks
        out.append(_finding("formulas.failed", "error", f"formulas 无法重算此工作簿：{type(e).__name__}", None, None))
        return {}
    names = {name.upper(): name for name in book.sheets}
    return {(names.get(sh, sh), cell): v for (sh, cell), v in rc.values.items()}


def _stale_full(book: Book, sheet: str, computed: dict, out: list[dict], covered: set) -> None:
    for name, s in book.sheets.items():
        for ref in s.formulas:
            key = (name, ref)
            if key not in computed or key in covered:
                continue
            cached = s.values.get(ref)
            if cached is None:
                continue
            if not _same(cached, computed[key]):
                out.append(_finding("formula.stale", "error", "单元格保存的结果与重新计算不一致", name, ref,
                                    expected=computed[key], found=cached))


def check_file(path: str, profile: str | Profile | None = None, label: str | None = None,
               data: bytes | None = None) -> FileResult:
    """Read and check one file; never raises for a bad workbook: the problem becomes its finding."""
    import io

    t0 = time.perf_counter()
    name = label or path
    try:
        book = read_book(io.BytesIO(data) if data is not None else path, label=name)
        book.path = path if data is None else name
        book.raw = data
        res = check_book(book, profile)
    except JixiaoError as e:
        res = FileResult(name, error=e.code)
        res.findings = [_finding(e.code, "error", e.message, e.sheet, e.cell)]
    except (FormulaError, RecursionError, MemoryError) as e:
        res = FileResult(name, error="check.failed")
        res.findings = [_finding("check.failed", "error", f"检查失败：{type(e).__name__}", None, None)]
    res.file = name
    res.seconds = time.perf_counter() - t0
    return res
