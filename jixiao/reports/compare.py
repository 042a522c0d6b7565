"""A report's numbers against its form, and against themselves; its sections against the outline.

Findings (:class:`jixiao.errors.Finding`, the one finding type) name the paragraph: ``sheet`` is the
section's heading, ``cell`` the paragraph's number (第12段), ``context`` its first words; a mismatch
gives the report's number (found), the form's (expected) and the form's cell in its message.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..checking.result import FileResult
from ..errors import Finding, JixiaoError
from ..numbers import round_excel
from ..profile import Profile
from ..rules import rule
from .facts import THREE_PUBLIC, Fact, FormFacts
from .outline import Outline, load_outline
from .reader import Paragraph, ReportRead, Statement, changes, read_report

MISMATCH = rule("report.mismatch", "报告数字与自评表不符")
INCONSISTENT = rule("report.inconsistent", "报告前后数字不一致")
RATE = rule("report.rate_mismatch", "报告中的百分比与同句的除法不符")
SECTION_EMPTY = rule("report.section_empty", "报告必填部分为空")
SECTION_MISSING = rule("report.section_missing", "报告缺少必填部分")
PLACEHOLDER = rule("report.placeholder", "报告仍有待填写内容")
UNPAIRED = rule("report.unpaired", "报告未找到对应的自评表")
FORM_UNREAD = rule("report.form_unreadable", "对应的自评表无法读取")

_ROUNDED = ("funds.budget", "funds.executed", "funds.exec_rate", "spending:", "tp:")  # compared as shown (its decimals)
SCORE_TOLERANCE = 0.005


def _decimals(shown: str) -> int:
    return len(shown.split(".", 1)[1]) if "." in shown else 0


def _agrees(key: str, value: Any, s: Statement) -> bool:
    if isinstance(value, str) or isinstance(s.value, str):
        return str(value).strip() == str(s.value).strip()
    if key.startswith(_ROUNDED):
        return abs(round_excel(float(value), _decimals(s.shown)) - s.value) <= 1e-9
    return abs(float(value) - s.value) <= SCORE_TOLERANCE


def _shown(x: Any) -> Any:
    return int(x) if isinstance(x, float) and x.is_integer() else x


def _where(p: Paragraph) -> str:
    return f"{p.section or '标题'}“{p.first_words}”"


def _at(f: Finding, p: Paragraph) -> Finding:
    f.context = p.first_words
    f.extra["paragraph"] = p.index
    return f.at(p.section or "标题", p.where or f"第{p.index}段")


def compare(report: ReportRead, form: FormFacts | None, outline: Outline | None = None) -> list[Finding]:
    """Every disagreement of ``report`` with ``form`` (None: the report alone) and with ``outline``."""
    outline = outline or load_outline(report.kind)
    facts = form.facts() if form is not None else {}
    out: list[Finding] = []
    first: dict[str, tuple[Paragraph, Statement]] = {}
    for p in report.paragraphs:
        mismatched = False
        for s in p.statements:
            fact = facts.get(s.key)
            if fact is not None:
                if not _agrees(s.key, fact.value, s):
                    out.append(_at(_mismatch(p, s, fact), p))
                    mismatched = True
                continue
            seen = first.setdefault(s.key, (p, s))
            if seen[0] is not p and not _agrees(s.key, seen[1].value, s):
                q, t = seen
                out.append(_at(Finding(INCONSISTENT, "error",
                                       f"{_where(p)}写 {s.shown}，与{_where(q)}（{q.where}）的 {t.shown} 不一致",
                                       expected=_shown(t.value), found=_shown(s.value)), p))
        if not mismatched:
            out += [_at(f, p) for f in _rates_of_sentence(p)]
    out += _sections(report, outline)
    return out


def _mismatch(p: Paragraph, s: Statement, fact: Fact) -> Finding:
    cell = f"（{fact.cell}）" if fact.cell else ""
    return Finding(MISMATCH, "error", f"{_where(p)}中{fact.label}写为 {s.shown}，自评表{cell}为 {_shown(fact.value)}",
                   expected=_shown(fact.value), found=_shown(s.value), extra={"form_cell": fact.cell, "key": s.key})


def _rates_of_sentence(p: Paragraph) -> list[Finding]:
    """Percentages stated with their own division in the same paragraph, recomputed: 执行率 (全年执行数 ÷
    全年预算数), each part's share of 全年执行数 (基本支出 ÷ 全年执行数), each kind of 三公经费's rate
    (决算数 ÷ 预算数) and a change on last year's rate (增加 ÷ (本年 − 增加))."""
    by = {s.key: s for s in p.statements}
    e = by.get("funds.executed")
    checks = [(by.get("funds.exec_rate"), e, by.get("funds.budget"), "全年执行数", "全年预算数")]
    for part in ("基本支出", "项目支出"):
        checks.append((by.get(f"share:{part}"), by.get(f"spending:{part}"), e, part, "全年执行数"))
    for kind, name in THREE_PUBLIC:
        checks.append((by.get(f"tp:{kind}.rate"), by.get(f"tp:{kind}.final"), by.get(f"tp:{kind}.budget"),
                       f"{name}决算数", "预算数"))
    out = []
    for c in changes(p.text):  # a change on last year: its rate recomputed from the amount and the change
        want = c.computed
        if want is None:
            continue
        want = round_excel(want, _decimals(c.rate.shown))
        if abs(want - c.rate.value) > 1e-9:
            before = c.amount.value - c.change.value if c.up else c.amount.value + c.change.value
            out.append(Finding(RATE, "error", f"{_where(p)}：{c.change.shown} ÷ 上年 {before:g}（{c.amount.shown} "
                                              f"{'−' if c.up else '+'} {c.change.shown}）= {want:g}%，报告写 {c.rate.shown}%",
                               expected=f"{want:g}%", found=f"{c.rate.shown}%"))
    for r, top, bottom, top_name, bottom_name in checks:
        if r is None or top is None or bottom is None or not bottom.value:
            continue
        want = round_excel(top.value / bottom.value * 100, _decimals(r.shown))
        if abs(want - r.value) > 1e-9:
            out.append(Finding(RATE, "error", f"{_where(p)}：{top_name} {top.shown} ÷ {bottom_name} {bottom.shown} = "
                                              f"{want:g}%，报告写 {r.shown}%", expected=f"{want:g}%", found=f"{r.shown}%"))
    return out


def _sections(report: ReportRead, outline: Outline) -> list[Finding]:
    out = []
    found: dict[str, list[Paragraph]] = {}
    for heading, paragraphs in report.sections.items():
        s = outline.section_for(heading)
        if s is not None:
            found.setdefault(s.label, []).extend(paragraphs)
    left = [p for p in report.paragraphs if p.placeholder]
    if left:
        where = list(dict.fromkeys(p.section.split("、", 1)[0] for p in left))
        out.append(_at(Finding(PLACEHOLDER, "info", f"报告中仍有 {len(left)} 处【待填写】内容未补写（"
                                                    + "、".join(where) + "）"), left[0]))
    for s in outline.sections:
        if not s.required:
            continue
        if s.label not in found:
            out.append(Finding(SECTION_MISSING, "error", f"报告缺少“{s.label}”部分（提纲要求）"))
        elif not any(p.text.strip() for p in found[s.label]):
            out.append(Finding(SECTION_EMPTY, "error", f"“{s.label}”部分为空（提纲要求填写）").at(s.label, None))
    return out


Load = Callable[[str], "bytes | None"]
"""A report's form by its label: its bytes (an archive member, read in the worker), or None for a file on disk."""


def _checked(label: str, profile: str | Profile | None, load: Load | None) -> FileResult:
    from ..checking.checker import check_file

    data = load(label) if load is not None else None
    return check_file(label, profile, data=data, keep_form=True)


def _by_unit(unit: str, candidates: tuple[str, ...], profile: str | Profile | None, load: Load | None = None
             ) -> tuple[str | None, FileResult | None]:
    """The candidate form of ``unit``: by file name first (nothing read), else by the 填报单位 each form gives."""
    from ..values import compact

    named = [c for c in candidates if compact(unit) in compact(Path(c).stem)]
    if len(named) == 1:
        return named[0], None
    for c in named or candidates:
        res = _checked(c, profile, load)
        if res.read and compact(res.unit or "") == compact(unit):
            return c, res
    return None, None


BASIC_NAME = "基础数据"
"""A workbook beside a report whose file name says this is the unit's 基础数据表 (三公经费), not its form."""


def _is_basic(label: str) -> bool:
    from ..values import compact

    return BASIC_NAME in compact(Path(label.rsplit("!", 1)[-1]).stem)


def _basic_of(unit: str | None, candidates: tuple[str, ...]) -> str | None:
    """The 基础数据表 workbook among ``candidates``: the only one, else the one named after the unit."""
    from ..values import compact

    basics = [c for c in candidates if _is_basic(c)]
    if len(basics) > 1 and unit:
        basics = [c for c in basics if compact(unit) in compact(Path(c).stem)]
    return basics[0] if len(basics) == 1 else None


SECTION_CHARS, SECTIONS = 2000, 40  # what a result keeps of a report's text: enough to judge, bounded


def section_texts(report: ReportRead) -> dict[str, str]:
    """Each heading's text as the result keeps it (the 工作考核 reads 存在的问题 and 改进措施 from it)."""
    out: dict[str, str] = {}
    for heading, paras in list(report.sections.items())[:SECTIONS]:
        out[heading] = "\n".join(p.text for p in paras if p.text != heading)[:SECTION_CHARS]
    return out


def check_report(path: str, form: str | None, profile: str | Profile | None = None, label: str | None = None,
                 data: bytes | None = None, candidates: tuple[str, ...] = (), load: Load | None = None
                 ) -> FileResult:
    """Check one report (.docx, text PDF) against the workbook ``form`` (None: the report alone, or the one of
    ``candidates`` whose file name, else whose 填报单位, is the report's unit); never raises.

    The 三公经费 it gives are compared with the 基础数据表: the form's own workbook's, else a workbook among
    ``candidates`` named 基础数据 (the unit's, when there are several). ``load`` reads a form or basic-data
    workbook given by label (an archive member); None: they are files.
    """
    from .facts import basic_facts, form_facts

    t0 = time.perf_counter()
    res = FileResult(label or path, kind="report", route="report")
    try:
        report = read_report(data if data is not None else path, label=res.file)
    except JixiaoError as e:
        if e.code == "report.scanned":  # nothing wrong with the file: jixiao cannot read a scan
            res.findings.append(Finding(e.code, "info", e.message))
            return res
        return FileResult.failed(res.file, Finding(e.code, "error", e.message))
    except OSError as e:
        return FileResult.failed(res.file, Finding("report.unreadable", "error", f"报告无法读取：{e.strerror or e}"))
    res.unit = report.unit
    res.forms.append({"kind": "report", "sheet": None, "sections": section_texts(report)})
    facts = None
    checked = None
    forms = tuple(c for c in candidates if not _is_basic(c) and c != form)
    if form is None and len(forms) == 1:
        form = forms[0]
    elif form is None and forms and report.unit:
        form, checked = _by_unit(report.unit, forms, profile, load)
    if form is None:
        res.findings.append(Finding(UNPAIRED, "info", "同一文件夹中没有与报告单位名称对应的自评表（可用 --pair 报告=自评表 指定），"
                                                      "只检查了报告自身前后是否一致"))
    else:
        checked = checked or _checked(form, profile, load)
        try:
            facts = form_facts(checked)
        except JixiaoError as e:
            res.findings.append(Finding(FORM_UNREAD, "warning", f"对应的自评表 {Path(form).name} 无法读取：{e.message}"))
        else:
            res.profile, res.year = facts.profile, facts.year  # 总分 stays the form's row: not counted twice
            res.profile_reason = f"对应自评表：{Path(form).name}"
            basic = _basic_of(report.unit or facts.unit, candidates)
            facts.three_public = basic_facts(form, data=load(form) if load else None)
            if not facts.three_public and basic is not None:
                facts.three_public = basic_facts(basic, data=load(basic) if load else None)
                res.profile_reason += f"；基础数据表：{Path(basic).name}"
    res.findings += compare(report, facts)
    res.seconds = time.perf_counter() - t0
    return res
