"""评分, 检查, 生成自评报告, 新建自评表 and 说明 on any :class:`~jixiao_macros.book.BookLike`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jixiao import __version__
from jixiao import vocabulary as v
from jixiao.checking.checker import check_book, read_fields, score_read
from jixiao.checking.report import SEVERITY_ZH, rule_title
from jixiao.checking.result import FileResult
from jixiao.checking.xlsx import Book, Sheet
from jixiao.errors import JixiaoError
from jixiao.profile import Profile, load_profile

from .book import MARK_SHEET, RESULTS_SHEET, BookLike

RESULT_HEADER = ["级别", "工作表", "单元格", "说明", "应为", "实际", "问题"]
_GENERIC_FORMS = {"dept": "部门整体支出绩效自评表", "project": "项目支出绩效自评表"}


def form_title(kind: str) -> str:
    from jixiao.layouts.writer import TEMPLATES

    return TEMPLATES[kind][0] if kind in TEMPLATES else _GENERIC_FORMS.get(kind, kind)


def require_fit(profile: Profile, kind: str | None) -> Profile:
    """``profile`` if it is meant for this kind of form; a Chinese refusal (``macro.profile_mismatch``) otherwise."""
    if kind and not profile.fits(kind):
        meant = "、".join(form_title(k) for k in profile.forms)
        raise JixiaoError(f"规则配置 {profile.id}（{profile.name}）不适用于{form_title(kind)}，它适用于：{meant}。"
                          "请在“规则配置”中选择“按表格默认”或适用于这种表格的配置。",
                          code="macro.profile_mismatch")
    return profile


def to_book(book: BookLike) -> Book:
    """The open workbook as jixiao's checker reads files: values and formulas per sheet."""
    sheets = {}
    for name in book.sheet_names():
        if name in (RESULTS_SHEET, MARK_SHEET):
            continue
        values, formulas = book.cells(name)
        s = Sheet(name, dict(values), dict(formulas))
        for ref in formulas:
            s.values.setdefault(ref, "")  # an open workbook is calculated: a formula showing nothing shows ""
        sheets[name] = s
    links = book.links() if hasattr(book, "links") else {}  # Excel itself (xlwings) resolves its own links
    return Book(str(getattr(book, "path", book.name)), sheets, {}, links=links)


@dataclass
class ScoreCell:
    sheet: str
    cell: str
    field: str
    value: Any
    written: bool  # False where the cell holds a formula: Excel recalculates it through the JX_ functions


def score(book: BookLike, profile: str | None = None) -> list[ScoreCell]:
    """评分: clear the marks of 检查, compute every score with the core and write it where the form has no formula."""
    book.clear_marks()
    xb = to_book(book)
    fr = read_fields(xb)
    if fr is None:
        raise JixiaoError("本工作簿中没有可评分的部门整体/项目支出绩效自评表", code="macro.no_form")
    scored = score_read(fr, load_profile(profile) if profile else None)
    require_fit(scored.choice.profile, fr.layout or fr.kind)
    fs = scored.score
    if fs is None:
        raise JixiaoError("请先填写全年预算数和全年执行数", code="macro.no_funds")
    wanted: list[tuple[str, Any]] = [(v.FUNDS_RATE, fs.exec_rate), (v.FUNDS_SCORE, fs.exec_score),
                                     (v.SUM_ROW_SCORE, fs.sum_row), (v.TOTAL_SCORE, fs.capped_total),
                                     (v.TOTAL_GRADE, fs.grade)]
    cells: list[ScoreCell] = []
    for key, value in wanted:
        c = fr.cells.get(key)
        if c is not None and c.ref:
            cells.append(ScoreCell(c.sheet, c.ref, key, value, False))
    for i, (ind, s) in enumerate(zip(fr.indicators, fs.indicators)):
        c = ind.get("score")
        if c is not None and c.ref and s.score is not None:
            cells.append(ScoreCell(c.sheet, c.ref, v.indicator_key(i, "score"), s.score, False))
    for sc in cells:
        if sc.cell not in xb.sheets[sc.sheet].formulas:
            book.set_value(sc.sheet, sc.cell, sc.value)
            sc.written = True
    return cells


def check(book: BookLike, profile: str | None = None) -> FileResult:
    """检查: the same findings as ``jixiao check``, listed on 检查结果 (linked to their cells) and marked."""
    book.clear_marks()
    res = check_book(to_book(book), load_profile(profile) if profile else None)
    if res.kind and res.profile:
        require_fit(load_profile(res.profile), res.kind)
    rows, links = [], {}
    for i, finding in enumerate(res.findings):
        f = finding.to_dict()
        rows.append([SEVERITY_ZH[f["severity"]], f["sheet"] or "", f["cell"] or "", f["message"],
                     "" if f["expected"] is None else str(f["expected"]),
                     "" if f["found"] is None else str(f["found"]), rule_title(f["rule"])])
        if f["sheet"] and f["cell"]:
            links[i] = (f["sheet"], f["cell"])
    if not rows:
        rows.append(["提示", "", "", "未发现问题", "", "", ""])
    book.write_results(RESULT_HEADER, rows, links)
    for f in res.findings:
        if f.sheet and f.cell and f.severity != "info":
            book.mark(f.sheet, f.cell, f.severity, f"{rule_title(f.rule)}：{f.message}")
    book.activate(RESULTS_SHEET)
    return res


def report(book: BookLike, profile: str | None = None, workbook: str | Path | None = None) -> Path:
    """生成自评报告: the 自评报告 draft of the open workbook, written next to it (〈name〉-自评报告.docx).

    The numbers are the open workbook's as it stands (unsaved edits included), read like 检查 reads them: values
    only, nothing in the workbook is run. ``workbook``: the workbook's file (default: the book's ``path``); a
    book never saved goes to Documents. Never writes over the workbook or over an earlier report: a name
    already taken gets a number (〈name〉-自评报告(2).docx). Written atomically (a temporary file, then renamed).
    """
    from jixiao.reports import report_from
    from jixiao.reports.facts import form_facts

    where = Path(workbook) if workbook else getattr(book, "path", None)
    res = check_book(to_book(book), load_profile(profile) if profile else None)
    if not res.read:
        raise JixiaoError("本工作簿中没有可写报告的部门整体/项目支出绩效自评表", code="report.no_form")
    if res.kind and res.profile:
        require_fit(load_profile(res.profile), res.kind)
    facts = form_facts(res)
    if where is not None and Path(where).parent.is_dir():
        stem, folder = Path(where).stem, Path(where).parent
    else:
        stem, folder = Path(book.name).stem or "自评表", Path.home() / "Documents"
    out = folder / f"{stem}-自评报告.docx"
    n = 2
    while out.exists() or (where is not None and out == Path(where)):
        out = folder / f"{stem}-自评报告({n}).docx"
        n += 1
    return report_from(facts, out, inputs=[where] if where is not None else [])


def new_form(kind: str, profile: str | None = None, folder: str | Path | None = None) -> Path:
    """新建自评表: write a fresh template of this kind (and profile) into ``folder``; return its path."""
    from jixiao.layouts.writer import TEMPLATES, write_template

    if kind not in TEMPLATES:
        raise JixiaoError(f"没有这种自评表：{kind}", code="macro.unknown_form")
    if profile:
        require_fit(load_profile(profile), kind)
    folder = Path(folder) if folder else Path.home() / "Documents"
    name = f"{TEMPLATES[kind][0].split('（')[0]}-{datetime.now():%Y%m%d-%H%M%S}.xlsx"
    return write_template(kind, folder / name, profile or None)


def help_text(book: BookLike | None = None) -> str:
    """说明: version, the workbook's profile, where the 填表说明 is."""
    from jixiao.profile import DEFAULT_PROFILE, load_profile

    profile = None
    if book is not None:
        try:
            fr = read_fields(to_book(book))
        except JixiaoError:
            fr = None
        profile = fr.profile if fr else None
    try:
        p = load_profile(profile or DEFAULT_PROFILE)
        prof = f"{p.id}（{p.name}）"
    except JixiaoError:
        prof = f"{profile}（无法加载）"
    return (f"jixiao 绩效自评助手 {__version__}\n本工作簿的规则配置：{prof}\n"
            "填表说明见本工作簿的“填表说明”工作表；评分按规则重新计算得分，检查把问题列在“检查结果”工作表。")
