"""Writing a 自评报告 draft (.docx) from a form: the outline's sections, the form's numbers, placeholders.

Every number comes from :mod:`jixiao.reports.facts` (the form as read and scored); narrative the form
cannot give is a highlighted 【待填写：…】 placeholder saying what to write. Typography is the outline's
(:class:`~jixiao.reports.outline.Typography`, from ``outlines/typography.toml``): A4 with the GB/T 9704
margins, 仿宋 三号 body on a fixed 28-point line, 黑体 section headings, 楷体 sub-headings, the title centred.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from ..numbers import round_excel
from .facts import FormFacts, IndicatorFact, ThreePublic
from .outline import Outline, Section, Typography

MARKER = "jixiao 自评报告草稿"  # docProps comments: a draft jixiao wrote
KIND_NAMES = {"dept": "部门整体支出", "project": "项目支出"}
_CN = "一二三四五六七八九十"


def num(x: float | None, places: int = 2) -> str:
    """A number as the report prints it: 38479.52, 9, 4.5 (never 9.0)."""
    if x is None:
        return "—"
    r = round_excel(float(x), places)
    return f"{r:.{places}f}".rstrip("0").rstrip(".") if places else f"{r:.0f}"


def money(x: float | None) -> str:
    """An amount in 万元 as financial statements print it, always to the fen: 14302.50."""
    return "—" if x is None else f"{round_excel(float(x), 2):.2f}"


def pct(rate: float | None) -> str:
    return "—" if rate is None else f"{round_excel(rate * 100, 2):.2f}%"


class _Doc:
    """A python-docx document with the report's typography."""

    def __init__(self, t: Typography) -> None:
        self.t = t
        self.doc = Document()
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Mm(t.page_mm[0]), Mm(t.page_mm[1])
        m = t.margins_mm
        sec.top_margin, sec.bottom_margin = Mm(m["top"]), Mm(m["bottom"])
        sec.left_margin, sec.right_margin = Mm(m["left"]), Mm(m["right"])
        normal = self.doc.styles["Normal"]
        normal.font.size = Pt(t.body_pt)
        _east_asian(normal.element.get_or_add_rPr(), t.body_font)
        normal.font.name = t.body_font
        pf = normal.paragraph_format
        pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(t.line_pt)
        pf.space_before = pf.space_after = Pt(0)

    def para(self, parts: list[tuple[str, bool]], font: str | None = None, size: float | None = None,
             indent: bool = True, center: bool = False) -> None:
        """A paragraph of runs: (text, is_placeholder); the body's font and size unless given."""
        font = font or self.t.body_font
        size = size or self.t.body_pt
        p = self.doc.add_paragraph()
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        else:
            p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        if indent:
            p.paragraph_format.first_line_indent = Pt(size * 2)
        for text, placeholder in parts:
            run = p.add_run(f"【待填写：{text}】" if placeholder else text)
            run.font.size = Pt(size)
            run.font.name = font
            _east_asian(run._element.get_or_add_rPr(), font)
            if placeholder:
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW

    def save(self, out: Path, title: str) -> None:
        props = self.doc.core_properties
        props.title, props.author, props.comments = title, "jixiao", MARKER
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".jixiao-", suffix=".docx")
        try:
            with os.fdopen(fd, "wb") as fh:
                self.doc.save(fh)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
            os.replace(tmp, out)
        except BaseException:
            os.unlink(tmp)
            raise


def _east_asian(rpr: Any, font: str) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attr), font)


# ---------------------------------------------------------------------------
# The sentences: the reader reads these back (jixiao.reports.reader)


def result_line(f: FormFacts) -> list[tuple[str, bool]]:
    what = f"{f.unit}{f.year or ''}年度{KIND_NAMES[f.kind]}" if f.kind == "dept" else f"{f.project or f.unit}项目"
    if f.total is None:
        return [(f"{what}绩效自评得分需核对，等级需核对：{f.total_note or '有指标无法按规则计分'}。", False),
                ("逐项核对自评表中无法计分的指标后，填写自评得分与等级", True)]
    return [(f"{what}绩效自评得分 {num(f.total)} 分，等级 {f.grade}（{f.grade_legend}）。", False)]


def execution_line(f: FormFacts) -> str:
    return (f"预算执行情况：全年预算数 {money(f.budget)} 万元，全年执行数 {money(f.executed)} 万元，"
            f"执行率 {pct(f.exec_rate)}，分值{num(f.exec_weight)}分，得分{num(f.exec_score)}分。")


def indicator_line(r: IndicatorFact) -> str:
    t, a = (" ".join(x.split()).rstrip("。；;，,") for x in (r.target, r.actual))
    return f"{' '.join(r.name.split())}，年度指标值：{t}，实际完成值：{a}，分值{num(r.weight)}分，得分{num(r.score)}分。"


def level_line(i: int, name: str, weight: float, score: float | None) -> str:
    if score is None:
        tail = "得分需核对"
    else:
        lost = round(weight - score, 6)
        tail = f"得{num(score)}分，" + ("未扣分" if lost <= 1e-9 else f"扣{num(lost)}分")
    return f"（{_CN[i] if i < len(_CN) else i + 1}）{name}（分值{num(weight)}分，{tail}）"


def _reason_and_measures(reason: str) -> tuple[str, str]:
    """The 偏差原因分析及改进措施 column split at its 改进措施 (when it has one)."""
    import re

    m = re.search(r"(?:下一步)?(?:改进措施|整改措施|措施)[:：]?", reason)
    if m is None:
        return reason.strip(), ""
    return reason[: m.start()].strip(" ；;。，"), reason[m.end():].strip()


# ---------------------------------------------------------------------------
# The blocks an outline names


def _fill(d: _Doc, what: str, f: FormFacts) -> None:
    if what == "result":
        d.para(result_line(f))
    elif what == "funds":
        _funds(d, f)
    elif what == "three_public":
        _three_public(d, f)
    elif what == "execution":
        d.para([(execution_line(f), False)])
    elif what == "indicators":
        _indicators(d, f)
    elif what == "problems":
        _problems(d, f)
    elif what == "improvements":
        _improvements(d, f)
    elif what == "summary":
        d.para(result_line(f))


def _funds(d: _Doc, f: FormFacts) -> None:
    text = f"{f.year or '本'}年度全年预算数 {money(f.budget)} 万元，全年执行数 {money(f.executed)} 万元。"
    if f.spending and f.executed:
        text += "其中" + "；".join(f"{part} {money(x)} 万元，占全年执行数的 {pct(x / f.executed)}"
                                 for part, x in f.spending.items()) + "。"
    parts = [(text, False)]
    if f.income:
        parts.append(("全年预算数按资金来源分：" + "、".join(f"{k} {money(x)} 万元" for k, x in f.income.items()) + "。",
                      False))
    d.para(parts)


def three_public_line(f: FormFacts) -> str:
    """“三公”经费 by kind: 预算数, 决算数 and 决算数占预算数的 x% (the reader reads each clause back)."""
    def clause(t: ThreePublic) -> str:
        said = [f"{what} {money(x)} 万元" for what, x in (("预算数", t.budget), ("决算数", t.final)) if x is not None]
        missing = [what for what, x in (("预算数", t.budget), ("决算数", t.final)) if x is None]
        text = t.name + "，".join(said) + (f"（基础数据表未填{'、'.join(missing)}）" if missing else "")
        return text + (f"，决算数占预算数的 {pct(t.rate)}" if t.rate is not None else "")
    total = next((t for t in f.three_public if t.kind == "three_public"), None)
    parts = [t for t in f.three_public if t.kind != "three_public"]
    text = f"{f.year or '本'}年度" + (clause(total) if total else "“三公”经费")
    if parts:
        text += "；其中：" + "；".join(clause(t) for t in parts)
    return text + "。"


def _three_public(d: _Doc, f: FormFacts) -> None:
    if f.three_public:
        d.para([(three_public_line(f), False)])
    else:
        d.para([("写明“三公”经费及公务用车购置及运行维护费、因公出国（境）费、公务接待费的预算数、决算数和决算数占预算数的比例"
                 "（给出基础数据表时由 jixiao 填写：jixiao report 自评表.xlsx --basic 基础数据表.xlsx）", True)])


def _indicators(d: _Doc, f: FormFacts) -> None:
    d.para([("绩效指标完成情况：", False)])
    for i, (name, weight, score) in enumerate(f.levels()):
        d.para([(level_line(i, name, weight, score), False)], font=d.t.subheading_font)
        for r in f.indicators:
            if r.level1 == name:
                d.para([(indicator_line(r), False)])


def _deducted(f: FormFacts) -> list[IndicatorFact]:
    return [r for r in f.indicators if r.deducted]


def _exec_deducted(f: FormFacts) -> bool:
    return f.exec_score is not None and f.exec_weight is not None and f.exec_score < f.exec_weight - 1e-9


def _problems(d: _Doc, f: FormFacts) -> None:
    k = 0
    if _exec_deducted(f):
        k += 1
        d.para([(f"{k}. 预算执行率 {pct(f.exec_rate)}，分值{num(f.exec_weight)}分，得分{num(f.exec_score)}分。", False),
                ("说明预算未执行完毕的原因（结转结余、项目进度、资金到位时间等）", True)])
    for r in _deducted(f):
        k += 1
        reason, _ = _reason_and_measures(r.reason)
        parts: list[tuple[str, bool]] = [(f"{k}. {indicator_line(r)}", False)]
        parts.append((f"偏差原因：{reason}" if reason else f"说明“{r.name}”未达年度指标值的原因（自评表未填偏差原因）",
                      not reason))
        d.para(parts)
    if k == 0:
        d.para([("本年度绩效指标均已完成，未扣分。", False),
                ("写明预算管理、绩效目标设置、资产管理等方面仍存在的问题及原因", True)])


def _improvements(d: _Doc, f: FormFacts) -> None:
    k = 0
    if _exec_deducted(f):
        k += 1
        d.para([(f"{k}. 针对预算执行率未达 100%：", False), ("写明加快预算执行、压减结转结余的措施", True)])
    for r in _deducted(f):
        k += 1
        _, measures = _reason_and_measures(r.reason)
        d.para([(f"{k}. 针对“{' '.join(r.name.split())}”未达年度指标值：", False),
                (measures, False) if measures else ("写明改进措施、责任部门与完成时限", True)])
    if k == 0:
        d.para([("写明进一步加强预算绩效管理的措施", True)])


def title_of(outline: Outline, f: FormFacts) -> str:
    return outline.title.format(unit=f.unit, year=f.year or "", project=f.project or f.unit)


def write_report(f: FormFacts, outline: Outline, out: str | Path) -> Path:
    """Write the draft of ``f``'s report following ``outline`` to ``out`` (atomically); returns the path."""
    d = _Doc(outline.typography)
    title = title_of(outline, f)
    d.para([(title, False)], font=d.t.title_font, size=d.t.title_pt, indent=False, center=True)
    d.para([(f"（依据 {Path(f.file).name}，规则配置 {f.profile}）", False)], indent=False, center=True)
    for s in outline.sections:
        _section(d, s, f)
    out = Path(out)
    d.save(out, title)
    return out


def _section(d: _Doc, s: Section, f: FormFacts) -> None:
    d.para([(s.label, False)], font=d.t.heading_font)
    for b in s.blocks:
        if b.fill:
            _fill(d, b.fill, f)
        elif b.placeholder:
            d.para([(b.placeholder, True)])
