"""Check one submitted workbook: choose its route, read its fields, apply the rules once, locate each finding.

Routes, from fastest to slowest:

* ``template`` — the workbook's formulas are jixiao's template formulas (cells
  whose formula was replaced by a typed number are allowed, and reported). The
  rules score the form once; the template's compiled calculation, given those
  results, says what every formula cell should hold, and the saved values are
  compared with it;
* ``values`` — a layout with typed numbers and no formulas (a bureau's own
  official-layout sheet): read by labels, scored by the rules;
* ``full`` — formulas that differ from every template: a complete ``formulas``
  recalculation (within the file's deadline), then read by labels and scored.

Whatever the route, the rules are the core's (:func:`jixiao.form.score_form`)
under one profile chosen once (:mod:`jixiao.checking.profile_choice`).
"""
from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass, replace
from typing import Any

from .. import vocabulary as v
from ..errors import CellError, Finding, JixiaoError, Severity
from ..excel.syntax import FormulaError
from ..form import DeptForm, FormScore, score_form
from ..layouts.native import CHECK as NATIVE_CHECK
from ..profile import Profile, load_profile
from ..values import compact
from ..rules import rule
from .deadline import NONE, Deadline
from .fields import FormRead, read_template
from .form_data import to_dept_form
from .labels import find_form_sheet, find_form_sheets, read_labels
from .links import external_uses
from .links import findings as link_findings
from .links import sealed
from .profile_choice import ProfileChoice, choose_profile
from .recalc import full_recalc
from .result import FileResult
from .official_rubric import check_official_rubric
from .profile_choice import FormFacts
from .rubric import rubric_findings
from .templates import FORM_KINDS, Key, Match, TemplateCalc, match_template
from .xlsx import Book, read_book

MACROS = rule("workbook.macros", "含宏（未运行）")
UNRECOGNIZED = rule("form.unrecognized", "不是自评表")
ROUTE_FULL = rule("route.full", "已完整重算")
OVERWRITTEN = rule("formula.overwritten", "公式被手填数值替代")
STALE = rule("formula.stale", "保存的结果是旧的")
NO_CACHED_VALUES = rule("formula.no_cached_values", "文件未保存计算结果")
NO_ADDIN = rule("formula.no_addin", "未装加载项时保存")
CHECK_FAILED = rule("check.failed", "检查失败")
NON_FORM = rule("form.known_non_form", "不是自评表（已识别的其他表格）")
# tables a bureau's season produces that are not a unit's form: (title pattern, what it is)
_NON_FORMS = ((re.compile(r"工作考核(?:评分|计分|打分)?表|自评工作(?:考核|评分)"), "财政局对单位绩效自评工作的考核评分表（工作考核评分表）"),)
HTML_READ = rule("html.read", "网页表格已按工作表读取")


def check_book(book: Book, profile: Profile | None = None, deadline: Deadline = NONE) -> FileResult:
    """All findings for one workbook that has been read; ``profile`` is the bureau's, None to let the form say."""
    res = FileResult(book.path)
    if book.html:
        res.findings.append(Finding(HTML_READ, "info", "文件是网页表格（HTML，常见于系统“导出 Excel”），已按工作表读取"))
    if book.has_macros:
        res.findings.append(Finding(MACROS, "info", "文件含宏（VBA），jixiao 不会运行它"))
    uses = external_uses(book)
    res.findings += link_findings(book, uses)
    book = sealed(book, {c for u in uses.values() for c in u.cells})  # such formulas hold their cached values now
    match = match_template(book, profile) if any(s.formulas for s in book.sheets.values()) else None
    if match is not None and match.exact and _compiles(match.template):
        _template_route(book, match, profile, res)
        return res
    forms = find_form_sheets(book)
    found = forms[0] if forms else None
    rubric_book, rubric_found = _official_rubric(book, profile, found is None)
    if found is None and rubric_book is not None:
        res.route, res.kind = "values", "county-rubric"
        res.profile, res.profile_reason = rubric_book.profile.id, rubric_book.reason
        res.unit = _basic_unit(book)
        res.findings += rubric_found
        return res
    if found is None and (known := _known_non_form(book)) is not None:
        res.kind = "non-form"
        res.findings.append(Finding(NON_FORM, "info", f"这是{known[1]}，不是单位的自评表，未作检查").at(known[0], None))
        return res
    if found is None:
        res.findings.append(Finding(UNRECOGNIZED, "error",
                                    "未找到部门整体/项目支出绩效自评表（查找“三级指标”“年度指标值”表头）"))
        return res
    res.findings += rubric_found
    res.kind = found[1]
    with_formulas = [sheet for sheet, _ in forms if sheet.formulas]
    if with_formulas:
        res.route = "full"
        changed = f"（{len(match.changed) + len(match.extra)} 处）" if match else ""
        res.findings.append(Finding(ROUTE_FULL, "info", f"公式与 jixiao 模板不同{changed}，已用 formulas 完整重算")
                            .at(with_formulas[0].name, None))
        book = _recalculated(book, res, deadline)
    else:
        res.route = "values"
    for i, (sheet, kind) in enumerate(forms):  # every form of the workbook; the first one is the file's row
        _score(read_labels(book, book.sheets[sheet.name], kind), profile, res, first=i == 0)
    return res


def _official_rubric(book: Book, bureau: Profile | None, alone: bool) -> tuple[ProfileChoice | None, list[Finding]]:
    """A 基础数据表 / 评价指标表 in an official layout: its own arithmetic and its claimed scores."""
    if alone:
        choice, _ = choose_profile(bureau, None, FormFacts(kind="county-rubric"))
    else:
        choice = ProfileChoice(bureau or load_profile("county-rubric-2022"), "")
    rubric_profile = choice.profile if choice.profile.controls else load_profile("county-rubric-2022")
    found, findings = check_official_rubric(book, rubric_profile)
    return (choice if found else None), findings


def _known_non_form(book: Book) -> tuple[str, str] | None:
    """(sheet, what it is) when the workbook is a known table that is not a form (a 工作考核评分表 …)."""
    for sheet in book.sheets.values():
        for x in sheet.values.values():
            if isinstance(x, str) and len(x) <= 60:
                t = compact(x)
                for pattern, what in _NON_FORMS:
                    if pattern.search(t):
                        return sheet.name, what
    return None


def _basic_unit(book: Book) -> str | None:
    import re as _re

    for s in book.sheets.values():
        for x in s.values.values():
            if isinstance(x, str) and (m := _re.match(r"^\s*填报单位[:：]\s*(\S+)", x)):
                return m.group(1)
    return None


# ---------------------------------------------------------------------------
# Scoring what was read


def score_read(fr: FormRead, bureau: Profile | None, computed: frozenset[str] = frozenset()) -> Scored:
    """Choose the profile, turn the fields into the core's form, score it once, and locate every finding.

    ``computed``: field keys whose cells hold jixiao's own formulas (their values are checked, not claimed).
    """
    facts = FormFacts.read(fr.kind, _year_of(fr), fr.get(v.TITLE), fr.get(v.UNIT) or fr.get(v.DEPT_NAME),
                           fr.get(v.DEPARTMENT), fr.get(v.PROJECT_NAME), fr.get(v.REPORT_NO))
    choice, found = choose_profile(bureau, fr.profile, facts if fr.layout is None else None)
    out = Scored(choice, None, None, [fr.locate(f) for f in fr.notes + found])
    form, unread = to_dept_form(fr, choice.profile, computed)
    out.findings += unread
    out.form = form
    if form is None:
        return out
    try:
        out.score = score_form(form, choice.profile)
    except JixiaoError as e:
        out.findings.append(fr.locate(Finding(e.code, "error", e.message, field=v.FUNDS_BUDGET)))
        return out
    out.findings += [fr.locate(f) for f in out.score.findings]
    return out


def _year_of(fr: FormRead) -> int | None:
    y = fr.get(v.YEAR)
    try:
        return int(y) if y not in (None, "") else None
    except (TypeError, ValueError):
        return None


@dataclass
class Scored:
    """A read form scored: the profile used, the form's values, the rules' result, every finding located."""

    choice: ProfileChoice
    form: DeptForm | None
    score: FormScore | None
    findings: list[Finding]


def _score(fr: FormRead, bureau: Profile | None, res: FileResult, computed: frozenset[str] = frozenset(),
           first: bool = True) -> Scored:
    """Score one form of the workbook into ``res``: its findings always; the file's summary (unit, profile,
    total) from its first form, every form's summary in ``res.forms``."""
    s = score_read(fr, bureau, computed)
    res.findings += s.findings
    res.read.append((fr, s))
    res.forms.append({"sheet": fr.sheet, "kind": fr.kind, "unit": _text(fr.get(v.UNIT)),
                      "project": _text(fr.get(v.PROJECT_NAME)) or None,
                      "profile": s.choice.profile.id,
                      "total": s.score.capped_total if s.score is not None else None,
                      "grade": s.score.grade if s.score is not None else None,
                      "exec_rate": s.score.exec_rate if s.score else None})
    rows = score_rows(s.form, s.score, s.choice.profile)
    res.forms[-1] |= {"claimed": _claimed_total(s.form, rows), "rows": rows}
    if not first:
        return s
    res.profile, res.profile_reason = s.choice.profile.id, s.choice.reason
    res.unit = _text(fr.get(v.UNIT))
    if s.form is not None:
        res.year = s.form.year
    if s.score is not None:
        res.exec_rate, res.total, res.grade = s.score.exec_rate, s.score.shown_total, s.score.shown_grade
        res.total_note = s.score.total_note
    return s


def _claimed_total(form: DeptForm | None, rows: list[dict[str, Any]]) -> float | None:
    """The unit's own 总分: the 总分 row as the form states it, else the sum of its rows' own 得分; None when
    a row states none."""
    if form is None:
        return None
    stated = _number_or_none(form.reported_total)
    if stated is not None:
        return stated
    claims = [r["claimed"] for r in rows]
    return round(sum(claims), 2) if claims and None not in claims else None


def _number_or_none(x: Any) -> float | None:
    try:
        return None if x in (None, "") else float(x)
    except (TypeError, ValueError):
        return None


def score_rows(form: DeptForm | None, score: FormScore | None, profile: Profile) -> list[dict[str, Any]]:
    """Each scored row of a form as a reviewer re-scores it (抽查复核): the 执行率 row first, then every indicator,
    with its 分值, the form's own 得分 and the rules' 得分 (None where the rules could not score it)."""
    if form is None or score is None:
        return []
    fu = form.funds
    rows = [{"level1": "预算执行率", "level2": "", "name": "预算执行率",
             "weight": _number_or_none(fu.weight) if fu.weight is not None else profile.execution.weight,
             "claimed": _number_or_none(fu.reported_score), "rule": score.exec_score, "kind": "正向"}]
    for row, sc in zip(form.indicators, score.indicators):
        rows.append({"level1": row.level1, "level2": row.level2, "name": " ".join(str(row.name).split()),
                     "weight": sc.weight, "claimed": _number_or_none(row.reported), "rule": sc.score,
                     "kind": sc.kind})
    return rows


def _text(x: Any) -> str | None:
    return str(x) if x not in (None, "") else None


def read_fields(book: Book) -> FormRead | None:
    """The 部门整体/项目支出 form's fields as the workbook shows them (no recalculation); None when it has none."""
    match = match_template(book) if any(s.formulas for s in book.sheets.values()) else None
    if match is not None and match.exact and match.template.model.kind in FORM_KINDS:
        return read_template(book, match.template.model)
    found = find_form_sheet(book)
    return read_labels(book, *found) if found else None


# ---------------------------------------------------------------------------
# Template route


def _template_route(book: Book, match: Match, bureau: Profile | None, res: FileResult) -> None:
    t = match.template
    res.route, res.kind = "template", t.kind
    fields = t.field_cells()
    values = {(s.name, ref): x for s in book.sheets.values() for ref, x in s.values.items()
              if (s.name, ref) not in t.formulas}
    pinned: dict[Key, Any] = {}
    skipped: set[Key] = set()
    if t.scores_form:
        fr = read_template(book, t.model)
        intact = frozenset(k for k, cell in fields.items() if cell not in match.overwritten)
        scored = _score(fr, bureau, res, computed=intact)
        choice = scored.choice
        if scored.score is not None:
            pinned = _rule_results(scored.score, fr, t)
        # the officer's on-screen hints: the rules above already said what they would say
        skipped = t.helper_cells()
        pinned |= {k: book.sheets[k[0]].values.get(k[1]) for k in skipped}
    else:
        stored = _stored_profile(book, t)
        choice, found = choose_profile(bureau, None if stored is None else str(stored.value or "").strip() or None)
        res.profile, res.profile_reason = choice.profile.id, choice.reason
        res.findings += [f.at(*stored.key) if stored else f for f in found]
    if v.PROFILE in fields:
        values[fields[v.PROFILE]] = choice.profile.id  # every formula scores with the chosen profile
    computed = t.compiled.run(values | pinned, pinned.keys())
    res.findings += _formula_findings(match, book, computed, set(fields.values()), choice.differs, skipped)
    if t.model.kind == "county-rubric":
        res.findings += rubric_findings(t.model, computed, choice.profile, values)


def _compiles(t: TemplateCalc) -> bool:
    """Whether the compiled route can recompute this template (else the full route does)."""
    try:
        t.compiled  # noqa: B018 - compiles once per process
    except FormulaError:
        return False
    return True


def _rule_results(score: FormScore, fr: FormRead, t: TemplateCalc) -> dict[Key, Any]:
    """The rules' results at the template cells that show them: what those formulas must hold."""
    by_field: dict[str, Any] = {v.FUNDS_RATE: score.exec_rate, v.FUNDS_SCORE: score.exec_score}
    if any(s.score is not None for s in score.indicators):  # with no score the template shows blanks
        by_field |= {v.SUM_ROW_SCORE: score.sum_row, v.TOTAL_SCORE: score.capped_total}
    for i, s in enumerate(score.indicators):
        if s.score is not None:
            by_field[v.indicator_key(i, "score")] = s.score
    out = {}
    for key, value in by_field.items():
        c = fr.cells.get(key)
        if c is not None and c.ref is not None and (c.sheet, c.ref) in t.formulas:
            out[(c.sheet, c.ref)] = value
    return out


class _Stored:
    def __init__(self, key: Key, value: Any):
        self.key, self.value = key, value


def _stored_profile(book: Book, t: TemplateCalc) -> _Stored | None:
    for s in t.model.sheets:
        if v.PROFILE in s.fields and s.name in book.sheets:
            return _Stored((s.name, s.fields[v.PROFILE]), book.sheets[s.name].values.get(s.fields[v.PROFILE]))
    return None


def _formula_findings(match: Match, book: Book, computed: dict, field_cells: set[Key], differs: bool,
                      skipped: set[Key]) -> list[Finding]:
    """Saved values against the calculation: formulas typed over, results saved stale, files saved unscored."""
    out: list[Finding] = []
    missing_cache = 0
    no_addin: list[str] = []
    blank_addin: list[Finding] = []  # JX_ totals left blank where the scores they sum show #NAME?
    t = match.template
    for key in t.formulas:
        sheet, ref = key
        s = book.sheets[sheet]
        if key not in computed and key not in skipped:
            continue  # a score the rules could not give (the template shows #VALUE! there): nothing to compare
        expected = computed.get(key)
        if key in skipped:  # a hint column: only says whether the program that saved it knew jixiao's functions
            if _shows_no_addin(s.values.get(ref), t.formulas[key]):
                no_addin.append(ref)
            continue
        if key in match.overwritten:
            typed = s.values.get(ref)
            if typed in (None, "") and expected in (None, ""):
                continue
            agrees = _same(typed, expected)
            # a field's typed value is judged by the rules (a finding of its own); other cells here
            severity: Severity = "warning" if key in field_cells or agrees else "error"
            out.append(Finding(OVERWRITTEN, severity, "公式已被手填数值替代" + ("" if agrees else "，且与规则计算结果不符"),
                               expected=expected, found=typed).at(sheet, ref))
            continue
        cached = s.values.get(ref)
        if cached is None:
            missing_cache += 1
        elif cached == NATIVE_CHECK:
            continue  # a native template could not read a value with certainty: the rules above judged it
        elif _shows_no_addin(cached, t.formulas[key]):
            no_addin.append(ref)  # saved by a program without jixiao's functions (WPS, LibreOffice, Excel without add-in)
        elif not differs and not _same(cached, expected):
            f = Finding(STALE, "error", "单元格保存的结果与重新计算不一致（未重算，或使用了旧版规则/加载项）",
                        expected=expected, found=cached).at(sheet, ref)
            (blank_addin if cached == "" and "JX_" in t.formulas[key] else out).append(f)
    if no_addin:
        blank_addin = []  # a program without jixiao's functions recalculated: COUNT of #NAME? scores is 0, so ""
    out += blank_addin
    if no_addin:
        out.append(Finding(NO_ADDIN, "warning",
                           f"{len(no_addin)} 个得分单元格显示 #NAME?：文件是在没有 jixiao 加载项的程序中保存的"
                           "（WPS、LibreOffice 或未装加载项的 Excel），已按规则重算").at(t.model.main.name, no_addin[0]))
    if missing_cache:
        out.append(Finding(NO_CACHED_VALUES, "info",
                           f"{missing_cache} 个公式单元格没有保存计算结果（文件未经 Excel 计算保存）"))
    return out


def _shows_no_addin(cached: Any, formula: str) -> bool:
    """#NAME? in a JX_ cell: saved by a program without jixiao's functions (WPS, LibreOffice, Excel without add-in)."""
    return isinstance(cached, CellError) and cached.code == "#NAME?" and "JX_" in formula


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, CellError) or isinstance(b, CellError):
        return str(a) == str(b)
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(a)))
    return str(a) == str(b)


# ---------------------------------------------------------------------------
# Full route


def _recalculated(book: Book, res: FileResult, deadline: Deadline) -> Book:
    """The workbook with every formula cell holding its recalculated value; saved values that differ are stale."""
    computed, problems = full_recalc(book, deadline)
    res.findings += problems
    if not computed:
        return book
    sheets = {}
    for name, s in book.sheets.items():
        values = dict(s.values)
        for ref in s.formulas:
            if (name, ref) not in computed:
                continue
            new, cached = computed[(name, ref)], s.values.get(ref)
            if cached is not None and not _same(cached, new):
                res.findings.append(Finding(STALE, "error", "单元格保存的结果与重新计算不一致", expected=new,
                                            found=cached).at(name, ref))
            values[ref] = new
        sheets[name] = replace(s, values=values)
    return replace(book, sheets=sheets)


# ---------------------------------------------------------------------------
# One file


def check_file(path: str, profile: str | Profile | None = None, label: str | None = None,
               data: bytes | None = None, deadline: Deadline = NONE, keep_form: bool = False) -> FileResult:
    """Read and check one file; never raises for a bad workbook: the problem becomes its finding.

    ``profile``: the bureau's profile (a name or file is loaded here, once), None to let the workbook say.
    ``keep_form``: keep each form as read and scored on ``res.read`` (what a 自评报告 is written from).
    """
    if isinstance(profile, str):
        profile = load_profile(profile)
    t0 = time.perf_counter()
    name = label or path
    try:
        book = read_book(io.BytesIO(data) if data is not None else path, label=name)
        book.path = path if data is None else name
        book.raw = data
        res = check_book(book, profile, deadline)
    except JixiaoError as e:
        res = FileResult.failed(name, Finding(e.code, "error", e.message).at(e.sheet, e.cell))
    except (FormulaError, RecursionError, MemoryError) as e:
        res = FileResult.failed(name, Finding(CHECK_FAILED, "error", f"检查失败：{type(e).__name__}"))
    res.file = name
    res.seconds = time.perf_counter() - t0
    if not keep_form:
        res.read = []
    return res
