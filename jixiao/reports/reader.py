"""Reading a 自评报告 (.docx): its title, its sections, and every number its paragraphs state, by key.

A statement is a number a sentence gives a name to, under the keys of :mod:`jixiao.reports.facts`:
``funds.budget`` (全年预算数 … 万元), ``funds.executed``, ``funds.exec_rate`` (执行率 …%), ``funds.exec_score``,
``total`` (自评得分 … 分), ``grade`` (等级 …), ``spending:基本支出``, ``level:<一级指标>.weight/.score`` (
“（一）产出指标（分值50分，得50分，未扣分）”) and ``ind:<三级指标>.weight/.score`` (“X，年度指标值：…，实际完成值：…，
分值3分，得分3分”). A heading “六、…” opens a section.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import JixiaoError
from ..rules import error_codes
from ..values import compact

error_codes({"report.unreadable": "报告无法读取", "report.scanned": "扫描件，无法读取文字"})

_NUM = r"(-?\d[\d,，]*(?:\.\d+)?)"
_SP = r"[\s：:为是]*"
HEADING = re.compile(r"^\s*([一二三四五六七八九十]{1,3})\s*[、.．]\s*(\S.{0,40})$")
PLACEHOLDER = re.compile(r"【待填写[:：]")
_SIMPLE = (
    ("funds.budget", re.compile(rf"全年预算数{_SP}{_NUM}\s*万元")),
    ("funds.executed", re.compile(rf"全年执行数{_SP}{_NUM}\s*万元")),
    ("funds.exec_rate", re.compile(rf"执行率{_SP}{_NUM}\s*[%％]")),
    ("total", re.compile(rf"自评(?:总得分|总分|得分){_SP}{_NUM}\s*分")),
    ("grade", re.compile(r"等级[\s：:为是评定]*[“\"「]?(较差|不合格|基本合格|合格|[优良中差])[”\"」]?(?=[（(，,。；;\s]|$)")),
)
_EXEC_SCORE = re.compile(rf"执行率[^。；]*?得分{_SP}{_NUM}\s*分")
_SPENDING = re.compile(rf"(基本支出|项目支出){_SP}{_NUM}\s*万元")
_SHARE = re.compile(rf"(基本支出|项目支出){_SP}{_NUM}\s*万元[，,]\s*占(?:全年执行数的?|支出的?|总支出的?)?\s*{_NUM}\s*[%％]")
_LEVEL = re.compile(rf"^\s*[（(][一二三四五六七八九十]{{1,3}}[)）]\s*(.+?)[（(]分值{_SP}{_NUM}\s*分[，,]\s*得(?:分)?{_SP}{_NUM}\s*分")
# 三公经费 by kind (the keys of facts.THREE_PUBLIC): a clause runs from a kind's name to the next kind's, a "；" or the
# sentence's end
_TP_NAMES = (("three_public", r"[“\"‘']?三公[”\"’']?经费"),
             ("vehicle", r"公务用车(?:购置(?:及|和|与)?)?(?:运行(?:维护|维修)?)?(?:经?费|费用)"),
             ("abroad", r"因公出国[（(]?境?[）)]?(?:经?费|费用)"),
             ("reception", r"公务接待(?:经?费|费用)"))
_TP = re.compile("|".join(f"(?P<{k}>{p})" for k, p in _TP_NAMES))
_TP_BUDGET = re.compile(rf"(?:年初|全年|本年)?预算(?:数|安排)?{_SP}{_NUM}\s*万元")
_TP_FINAL = re.compile(rf"(?:决算(?:数|支出)?|实际支出(?:数)?|支出决算数?){_SP}{_NUM}\s*万元")
_TP_RATE = re.compile(rf"(?:占|执行率|完成|控制率)[^，,；;。%％\d]{{0,8}}?{_NUM}\s*[%％]")  # not a 下降 20% (a change)
_SEP = r"[，,；;]\s*"
_INDICATOR = re.compile(rf"^\s*(?:\d+\s*[.、．]\s*)?(.+?){_SEP}年度指标值[:：为]?(.*?){_SEP}实际完成值[:：为]?(.*?){_SEP}"
                        rf"分值{_SP}{_NUM}\s*分{_SEP}得分{_SP}{_NUM}\s*分")


@dataclass(frozen=True)
class Statement:
    key: str
    value: Any  # float, or text for 等级
    shown: str  # as the report wrote it


@dataclass
class Paragraph:
    index: int  # 1-based, among the document's non-empty paragraphs (headings and title included)
    section: str  # the heading it is under ("" before the first: title, cover)
    text: str
    statements: list[Statement] = field(default_factory=list)
    where: str = ""  # 第12段, or 表1第3行 for a table's row

    @property
    def first_words(self) -> str:
        t = self.text.strip()
        return t if len(t) <= 16 else t[:16] + "…"

    @property
    def placeholder(self) -> bool:
        return PLACEHOLDER.search(self.text) is not None


@dataclass
class ReportRead:
    file: str
    title: str
    paragraphs: list[Paragraph]
    sections: dict[str, list[Paragraph]]  # heading → its paragraphs (headings in document order)

    @property
    def kind(self) -> str:
        return "project" if "项目支出" in self.title else "dept"

    @property
    def unit(self) -> str | None:
        """The unit (or project) the title names: 〈unit〉2024年度部门整体支出绩效自评报告."""
        m = re.match(r"^\s*(.+?)(?:\s*\d{4}\s*年度?)?\s*(?:部门整体支出|项目支出|部门整体|整体支出)", self.title)
        unit = m.group(1).strip() if m else None
        return None if unit in (None, "", "部门", "单位", "本单位", "本部门") else unit  # a title naming no unit


# “收入 792.22 万元，同比上年度增加 189.25 万元，增长 31.39%”: a change whose rate the sentence lets a reader recompute
_CHANGE = re.compile(rf"{_NUM}\s*万元[。，,；;\s]*(?:同比|比|较)(?:上年度?|去年|上年同期)?(?:同期)?(增加|增长|减少|下降)了?{_SP}{_NUM}\s*万元"
                     rf"[，,]\s*(?:同比)?(?:增加|增长|减少|下降|增幅|降幅)(?:了|为|幅度为)?{_SP}{_NUM}\s*[%％]")


@dataclass(frozen=True)
class Change:
    """An amount, its change on last year and the rate the report gives: rate = change ÷ (amount ∓ change)."""

    amount: Statement
    change: Statement
    rate: Statement
    up: bool

    @property
    def computed(self) -> float | None:
        before = self.amount.value - self.change.value if self.up else self.amount.value + self.change.value
        return None if not before else self.change.value / before * 100


def changes(text: str) -> list[Change]:
    """Every change on last year ``text`` gives with its amount and its rate."""
    return [Change(Statement("change.amount", _number(m.group(1)), m.group(1)),
                   Statement("change.delta", _number(m.group(3)), m.group(3)),
                   Statement("change.rate", _number(m.group(4)), m.group(4)), m.group(2) in ("增加", "增长"))
            for m in _CHANGE.finditer(text)]


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("，", ""))


def _three_public(text: str) -> tuple[list[Statement], str]:
    """The 三公经费 a text gives by kind (预算数, 决算数, and a rate stated with one of them), and the text without
    those clauses (their 执行率 is not the budget's)."""
    out: list[Statement] = []
    hits = list(_TP.finditer(text))
    if not hits:
        return out, text
    rest, last = [], 0
    for i, m in enumerate(hits):
        end = hits[i + 1].start() if i + 1 < len(hits) else len(text)
        stop = re.search(r"[。；;\n]", text[m.end():end])
        end = m.end() + stop.start() if stop else end
        clause = text[m.end():end]
        kind = m.lastgroup or ""
        found = []
        if (b := _TP_BUDGET.search(clause)) is not None:
            found.append(Statement(f"tp:{kind}.budget", _number(b.group(1)), b.group(1)))
        if (f := _TP_FINAL.search(clause)) is not None:
            found.append(Statement(f"tp:{kind}.final", _number(f.group(1)), f.group(1)))
        if found and (r := _TP_RATE.search(clause)) is not None:
            found.append(Statement(f"tp:{kind}.rate", _number(r.group(1)), r.group(1)))
        if found:
            out += found
            rest.append(text[last:m.start()])
            last = end
    rest.append(text[last:])
    return out, "".join(rest)


def statements(text: str) -> list[Statement]:
    """Every number ``text`` states, by key."""
    out, text = _three_public(text)
    if (m := _INDICATOR.search(text)) is not None:
        name = compact(m.group(1))
        out += [Statement(f"ind:{name}.weight", _number(m.group(4)), m.group(4)),
                Statement(f"ind:{name}.score", _number(m.group(5)), m.group(5))]
        return out  # an indicator's own sentence: its targets' numbers are the indicator's texts
    if (m := _LEVEL.search(text)) is not None:
        name = compact(m.group(1))
        out += [Statement(f"level:{name}.weight", _number(m.group(2)), m.group(2)),
                Statement(f"level:{name}.score", _number(m.group(3)), m.group(3))]
    for key, pattern in _SIMPLE:
        for m in pattern.finditer(text):
            value = m.group(1) if key == "grade" else _number(m.group(1))
            out.append(Statement(key, value, m.group(1)))
    for m in _EXEC_SCORE.finditer(text):
        out.append(Statement("funds.exec_score", _number(m.group(1)), m.group(1)))
    for m in _SPENDING.finditer(text):
        out.append(Statement(f"spending:{m.group(1)}", _number(m.group(2)), m.group(2)))
    for m in _SHARE.finditer(text):  # a share of 全年执行数: recomputed from the same sentence, not the form
        out.append(Statement(f"share:{m.group(1)}", _number(m.group(3)), m.group(3)))
    return out


MAX_PARTS = 2000  # members of a .docx
MAX_UNPACKED = 64 * 1024 ** 2  # bytes its members may inflate to, as its directory declares them
MAX_RATIO = 200  # a member inflating more than this is a zip bomb, not a report


def _bounded(source: str | Path | bytes) -> None:
    """Refuse, from the zip directory alone, a .docx too large or too compressed to be a report."""
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # python-docx says what is wrong with it
    total = sum(i.file_size for i in infos)
    if len(infos) > MAX_PARTS or total > MAX_UNPACKED or any(
            i.file_size > 1024 ** 2 and i.file_size > MAX_RATIO * max(i.compress_size, 1) for i in infos):
        raise JixiaoError(f"报告过大或压缩比异常（{len(infos)} 个部件，解压 {total // 1024 ** 2} MB），未读取",
                          code="report.unreadable")


_TABLE_COLUMNS = {"name": ("三级指标", "指标名称", "绩效指标"), "target": ("年度指标值", "指标值", "目标值"),
                  "actual": ("实际完成值", "完成值", "实际值"), "weight": ("分值",), "score": ("得分",)}


def _table_rows(table: Any, k: int) -> list[tuple[str, str]]:
    """A table's rows as sentences: an indicator table's rows as “X，年度指标值：…，实际完成值：…，分值…分，得分…分”
    (the columns found by their headers), other rows as their cells; each with where it is (表1第3行)."""
    rows = [[c.text.strip() for c in row.cells] for row in table.rows]
    cols: dict[str, int] = {}
    out = []
    for r, cells in enumerate(rows, 1):
        if not cols:
            found = {}
            for key, names in _TABLE_COLUMNS.items():
                i = next((i for i, c in enumerate(cells) for n in names if compact(c).startswith(n)), None)
                if i is not None:
                    found[key] = i
            if {"name", "weight", "score"} <= set(found):
                cols = found
                continue
        if cols and max(cols.values()) < len(cells) and cells[cols["name"]]:
            def get(key: str) -> str:
                return cells[cols[key]] if key in cols else ""
            if re.fullmatch(r"\d+(?:\.\d+)?", get("weight")) and re.fullmatch(r"\d+(?:\.\d+)?", get("score")):
                out.append((f"{get('name')}，年度指标值：{get('target')}，实际完成值：{get('actual')}，"
                            f"分值{get('weight')}分，得分{get('score')}分", f"表{k}第{r}行"))
                continue
        text = "，".join(dict.fromkeys(c for c in cells if c))
        if text:
            out.append((text, f"表{k}第{r}行"))
    return out


def _texts(source: str | Path | bytes) -> tuple[list[tuple[str, str | None]], str]:
    """The document's paragraphs and table rows in order, each with where it is (None: a paragraph, numbered
    by the reader), and its core title."""
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    _bounded(source)
    try:
        doc = Document(io.BytesIO(source) if isinstance(source, bytes) else str(source))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise JixiaoError(f"报告无法读取（不是有效的 .docx）：{type(e).__name__}", code="report.unreadable") from None
    texts: list[tuple[str, str | None]] = []
    from docx.table import Table
    from docx.text.paragraph import Paragraph as DocxParagraph

    tables = 0
    for block in doc.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            texts.append((DocxParagraph(block, doc).text, None))
        elif tag == "tbl":
            tables += 1
            texts += _table_rows(Table(block, doc), tables)
    return texts, doc.core_properties.title or ""


_WIDE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”‘’]")
PDF_SECONDS = 30


def _joined(words: list[str]) -> str:
    """Words of a PDF line as text: no space where either side is Chinese (justification spreads them)."""
    out = ""
    for w in words:
        if out and not (_WIDE.match(out[-1]) or _WIDE.match(w[0])):
            out += " "
        out += w
    return out


def _pdf_texts(source: str | Path | bytes) -> tuple[list[tuple[str, str | None]], str]:
    """A text PDF's paragraphs (poppler's pdftotext blocks; a block that continues the last one on a new page,
    not indented and after no full stop, is joined to it) and its title. Raises ``report.scanned`` when the
    PDF has no text (a scan)."""
    import subprocess
    import tempfile
    from xml.etree import ElementTree

    with tempfile.TemporaryDirectory(prefix="jixiao-pdf-") as tmp:
        path = Path(tmp) / "report.pdf"
        path.write_bytes(source if isinstance(source, bytes) else Path(source).read_bytes())
        try:
            run = subprocess.run(["pdftotext", "-q", "-bbox-layout", str(path), "-"], capture_output=True,
                                 timeout=PDF_SECONDS, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise JixiaoError("读取 PDF 报告需要 poppler 的 pdftotext（apt-get install poppler-utils）",
                              code="report.unreadable") from None
        except subprocess.TimeoutExpired:
            raise JixiaoError(f"PDF 报告 {PDF_SECONDS} 秒内未能读出文字", code="report.unreadable") from None
    if run.returncode != 0:
        raise JixiaoError("报告无法读取（不是有效的 PDF）", code="report.unreadable")
    ns = "{http://www.w3.org/1999/xhtml}"
    try:
        root = ElementTree.fromstring(run.stdout)
    except ElementTree.ParseError:
        raise JixiaoError("报告无法读取（PDF 文字无法解析）", code="report.unreadable") from None
    title = root.findtext(f"{ns}head/{ns}title") or ""
    texts: list[str] = []
    blocks = list(root.iter(f"{ns}block"))
    left = min((float(b.get("xMin", 0)) for b in blocks), default=0.0)
    right = max((float(b.get("xMax", 0)) for b in blocks), default=0.0)
    full = False  # the last block's last line reached the right margin: its sentence may go on
    for block in blocks:
        lines = list(block.iter(f"{ns}line"))
        text = "".join(_joined([w.text for w in line.iter(f"{ns}word") if w.text]) for line in lines).strip()
        if not text:
            continue
        indented = bool(lines) and float(lines[0].get("xMin", 0)) > left + 8
        goes_on = texts and not texts[-1].endswith(("。", "】", "）", ")")) and not HEADING.match(text) \
            and (full or (not indented and len(texts[-1]) > 20))
        if goes_on:
            texts[-1] += text  # a paragraph poppler cut in two: after a page break, or a wrapped centred line
        else:
            texts.append(text)
        full = bool(lines) and float(lines[-1].get("xMax", 0)) > right - 24
    if not texts:
        raise JixiaoError("扫描件，无法读取文字（PDF 中没有文字层）", code="report.scanned")
    return [(t, None) for t in texts], title


def read_report(source: str | Path | bytes, label: str | None = None) -> ReportRead:
    """A report (.docx, or a PDF with text) read into its sections and statements."""
    head = source[:5] if isinstance(source, bytes) else Path(source).open("rb").read(5)
    texts, core_title = _pdf_texts(source) if head.startswith(b"%PDF") else _texts(source)
    paragraphs: list[Paragraph] = []
    sections: dict[str, list[Paragraph]] = {}
    current = ""
    title = ""
    index = 0  # the paragraph's number as an officer counts them: every non-empty one, headings included
    for text, where in texts:
        if not text.strip():
            continue
        if where is None:
            index += 1
        if not title:
            title = text.strip()
        heading = HEADING.match(text.strip()) if where is None else None
        if heading or (where is None and text.strip() in ("自评结论", "自评结果") and not current):
            current = text.strip()
            sections[current] = []
            continue
        p = Paragraph(index, current, text, statements(text), where or f"第{index}段")
        paragraphs.append(p)
        if current:
            sections[current].append(p)
    return ReportRead(label or str(source if not isinstance(source, bytes) else "报告.docx"),
                      title or core_title, paragraphs, sections)
