"""Support for the native-template tests: forms drawn by hypothesis, LibreOffice in batches, the core's answers.

LibreOffice is the independent judge: filled native templates are converted to .xlsx by
``soffice --headless`` with a user profile that forces recalculation on load, many files per
call, and the values it computed are read from the converted files' XML.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from hypothesis import strategies as st

from jixiao.deviation import indicator_score, reason_requirement
from jixiao.errors import JixiaoError
from jixiao.execution import cap_total, exec_rate, exec_score
from jixiao.functions import FUNCTIONS
from jixiao.profile import Profile
from jixiao.totals import grade, overall_total, sum_row_value
from jixiao.values import MAGNITUDES, PREFIX_WORDS, SUFFIX_WORDS, UNITS, Measure, parse_value

CHECK = "需核对"
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}

# ---------------------------------------------------------------------------
# Forms as officers write them

FULLWIDTH_DIGITS = str.maketrans("0123456789.%", "０１２３４５６７８９．％")
COMMON_UNITS = ["%", "个", "篇", "条", "次", "期", "人", "元", "天", "项", "人次", "家", "件", "平方米", "‰", "GB",
                "千米", "公里", "小时", "个百分点", "户", "场"]
PHRASES = ["显著提升", "有所提升", "不超支", "无重大差错", "按规定时限办结", "优化", "使用年限延长", "干部职工垃圾分类意识增强",
           "项目取得实效", "群众满意度明显提高", "加大新能源汽车推广运用", "规范管理", "（持续）改善", "Ａ级"]
NOT_MET = ["未完成", "未达成", "滞后", "延期", "未能按期"]
PARTLY = ["基本完成", "部分完成", "部分实现", "大部分"]
ODD = ["1,000", "12,345条", "-5%", "+3个", ".5", "≥", "不少于", "约%", "95 %", "1 000个", "≥95%以下", "不超过10次以上",
       "abc", "3ｋｍ", "≥\t95%", "约95%。。", "1.2.3", "完成率95%", "95%；", "≥３件", "5次|个", "≥|95%", "３ＧＢ"]


def number_text(draw) -> tuple[str, float]:
    if draw(st.booleans()):
        n = draw(st.integers(0, 5000))
        return str(n), float(n)
    n = draw(st.integers(1, 99999))
    places = draw(st.sampled_from([1, 2]))
    text = f"{n / 10 ** places:.{places}f}"
    return text, float(text)


@st.composite
def measure_text(draw, unit: str | None = None, comparator: bool = True) -> tuple[str, bool]:
    """A measured value in the grammar the native formulas read: (text, clean)."""
    num, _ = number_text(draw)
    pre = draw(st.sampled_from([""] * 4 + sorted(PREFIX_WORDS))) if comparator else ""
    u = unit if unit is not None else draw(st.sampled_from(COMMON_UNITS + [""] + sorted(UNITS)))
    mag = draw(st.sampled_from([""] * 8 + list(MAGNITUDES))) if u not in ("%", "‰") else ""
    post = draw(st.sampled_from([""] * 6 + list(SUFFIX_WORDS))) if comparator else ""
    if pre and post and draw(st.integers(0, 3)):
        post = ""  # mostly one comparator; sometimes two, which may contradict each other
    punct = draw(st.sampled_from([""] * 8 + [";", "。", "，", "."]))
    space = draw(st.sampled_from(["", "", "", " "])) if pre else ""
    if draw(st.integers(0, 9)) == 0:
        num = num.translate(FULLWIDTH_DIGITS)
    label = draw(st.sampled_from([""] * 8 + ["完成率", "覆盖率 "])) if pre else ""
    return f"{label}{pre}{space}{num}{mag}{u}{post}{punct}", True


@st.composite
def qualitative_text(draw) -> tuple[str, bool]:
    base = draw(st.sampled_from(PHRASES))
    kind = draw(st.integers(0, 5))
    if kind == 0:
        base += draw(st.sampled_from(NOT_MET + PARTLY))
    elif kind == 1:
        num, _ = number_text(draw)
        base = f"累计实施项目{num}个，{base}，成效明显。"
    return base, True


@st.composite
def indicator_row(draw, p: Profile) -> dict[str, Any]:
    what = draw(st.sampled_from(["measure"] * 6 + ["qualitative"] * 3 + ["odd"]))
    if what == "measure":
        target, clean = draw(measure_text())
        parsed = parse_value(target)
        choice = draw(st.integers(0, 9))
        if choice < 8 and isinstance(parsed, Measure):  # an actual in the target's unit, near it
            factor = draw(st.sampled_from([0.0, 0.3, 0.5, 0.8, 0.95, 0.97, 1.0, 1.0, 1.0, 1.05, 1.2, 1.3, 2.0, 2.5]))
            value = round(parsed.number * factor, 2)
            prefix = draw(st.sampled_from(["", "", "", "约", "≥", "达到"]))
            actual = f"{prefix}{value:g}{parsed.magnitude}{parsed.unit}"
        elif choice < 9:
            actual, _ = draw(measure_text(comparator=False))
        else:
            actual, _ = draw(qualitative_text())
    elif what == "qualitative":
        target, clean = draw(qualitative_text())
        actual = draw(st.sampled_from([target, target, target.replace("不", "未")]))
        if draw(st.booleans()):
            actual, _ = draw(qualitative_text())
    else:
        target, clean = draw(st.sampled_from(ODD)), False
        actual = draw(st.sampled_from(ODD + ["95%", "10个"]))
    weight = draw(st.sampled_from([1, 2, 2.5, 3, 4, 5, 5, 5, 8, 10, 10, 15, 20]))
    grades = [g.label for g in p.indicators.grades]
    grade = draw(st.sampled_from([None] * 8 + grades + ["达成", "部分达成", "未达成", "x"]))
    judged = draw(st.sampled_from([None] * 4 + [round(weight * f, 2) for f in (0.5, 0.65, 0.9, 1.0, 1.3)]))
    reason = draw(st.sampled_from([None, None, "受疫情影响进度滞后"]))
    return {"level1": "产出指标", "level2": "数量指标", "name": f"指标{draw(st.integers(1, 99))}",
            "target": target, "actual": actual, "weight": weight, "grade": grade, "judged": judged,
            "reason": reason, "_clean": clean and what != "odd"}


@st.composite
def dept_form_data(draw, p: Profile, max_rows: int, parts: dict[str, list[str]]) -> dict[str, Any]:
    budget = draw(st.sampled_from([0, 100, 2500.5, 38479.52, 123456.78, 1000000]))
    if budget == 0 and draw(st.integers(0, 4)):
        budget = 100
    share = draw(st.sampled_from([0, 0.2, 0.5, 0.75, 0.8, 0.8452, 0.85, 0.9, 0.95, 0.999, 1, 1.1]))
    executed = round(budget * share, 2)
    funds: dict[str, Any] = {"budget": budget, "executed": executed,
                             "initial_budget": round(budget * 0.7, 2),
                             "weight": draw(st.sampled_from([None, None, p.execution.weight, 5, 2]))}
    for group, names in parts.items():
        column = "全年预算数" if group == "income" else "全年执行数"
        total = budget if group == "income" else executed
        split = {n: round(total / len(names), 2) for n in names}
        if draw(st.integers(0, 3)) == 0:
            split[names[0]] = round(split[names[0]] + 10, 2)
        funds[group] = {column: split}
    rows = draw(st.lists(indicator_row(p), min_size=1, max_size=max_rows))
    return {"unit": "测试单位", "year": 2024, "funds": funds, "indicators": rows}


# ---------------------------------------------------------------------------
# What the core says


def core_answer(form: dict[str, Any], p: Profile) -> dict[str, Any]:
    """Every score, total and grade the core gives a form; None where the core cannot read a value."""
    fu = form["funds"]
    out: dict[str, Any] = {"rows": [], "reasons": []}
    try:
        rate = exec_rate(fu["budget"], fu["executed"])
        escore = exec_score(rate, p, fu.get("weight"))
    except JixiaoError:
        rate = escore = None
    out["rate"], out["exec_score"] = rate, escore
    for row in form["indicators"]:
        res = indicator_score(row["target"], row["actual"], row["weight"], p, grade=row.get("grade"),
                              reported=row.get("judged"))
        out["rows"].append(res.score)
        if res.score is None:
            out["reasons"].append(None)
        else:
            need = reason_requirement(row["target"], row["actual"], row["weight"], res.score, p)
            out["reasons"].append({"required": "须填写偏差原因" if not row.get("reason") else "须填写",
                                   "recommended": "宜说明"}.get(need or "", ""))
    unreadable = escore is None or any(s is None for s in out["rows"])
    isum = round(sum(s or 0.0 for s in out["rows"]), 10)
    if unreadable:
        out["sum_row"] = out["total"] = out["grade"] = None
    else:
        out["sum_row"] = sum_row_value(escore, isum, p)
        out["total"] = cap_total(overall_total(escore, isum), rate, p)
        out["grade"] = grade(out["total"], p)
    return out


def split_answer(form: dict[str, Any], group: str, names: list[str], p: Profile) -> str:
    fu = form["funds"]
    totals = [[fu.get("initial_budget"), fu["budget"], fu["executed"]]]
    col = {"全年预算数": 1, "全年执行数": 2}
    parts = []
    for n in names:
        row: list[Any] = [None, None, None]
        for column, split in fu.get(group, {}).items():
            row[col[column]] = split.get(n)
        parts.append(row)
    ref = p.path if Path(p.path).is_absolute() else p.id  # the UDF takes a profile's name or file
    return FUNCTIONS["JX_SPLIT_CHECK"].func(totals, parts, ref)


# ---------------------------------------------------------------------------
# LibreOffice in batches

_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


BATCH = 100  # files per soffice call: one call silently stops after about 250 file arguments


def _convert_batch(files: list[Path], outdir: Path, timeout: float) -> None:
    with tempfile.TemporaryDirectory(prefix="jixiao-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir(parents=True)
        (user / "registrymodifications.xcu").write_text(_RECALC_ALWAYS, encoding="utf-8")
        for i in range(0, len(files), BATCH):
            chunk = files[i:i + BATCH]
            cmd = [shutil.which("soffice") or "soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                   "--norestore", "--convert-to", "xlsx", "--outdir", str(outdir), *map(str, chunk)]
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)


def recalc_in_libreoffice(files: list[Path], outdir: Path, jobs: int = 2, timeout: float = 600) -> dict[Path, Path]:
    """Recalculate many workbooks in LibreOffice headless (recalculation forced on load), ``jobs`` processes.

    Returns input file → converted file (inputs LibreOffice could not convert are missing).
    """
    outdir.mkdir(parents=True, exist_ok=True)
    chunks = [files[i::jobs] for i in range(jobs)]
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda c: _convert_batch(c, outdir, timeout), [c for c in chunks if c]))
    return {f: outdir / f.name for f in files if (outdir / f.name).exists()}


def recalc_in_gnumeric(files: list[Path], outdir: Path, jobs: int = 2, timeout: float = 120) -> dict[Path, Path]:
    """Recalculate each workbook in Gnumeric (``ssconvert --recalc``, one process per file, ``jobs`` at once).

    Returns input file → recalculated .xlsx (inputs Gnumeric could not convert are missing).
    """
    outdir.mkdir(parents=True, exist_ok=True)
    exe = shutil.which("ssconvert") or "ssconvert"

    def one(f: Path) -> None:
        subprocess.run([exe, "--recalc", str(f), str(outdir / f.name)], capture_output=True, timeout=timeout,
                       check=False)

    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, files))
    return {f: outdir / f.name for f in files if (outdir / f.name).exists()}


def sheet_values(path: Path, sheet: str) -> dict[str, Any]:
    """Computed values of one sheet of an .xlsx (numbers, text, error codes as text), by cell."""
    with zipfile.ZipFile(path) as z:
        wb = ET.fromstring(z.read("xl/workbook.xml"))
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        rid = next(s.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
                   for s in wb.iterfind("m:sheets/m:sheet", NS) if s.get("name") == sheet)
        target = next(r.get("Target") for r in rels if r.get("Id") == rid)
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        shared: list[str] = []
        if "xl/sharedStrings.xml" in z.namelist():
            for si in ET.fromstring(z.read("xl/sharedStrings.xml")).iterfind("m:si", NS):
                shared.append("".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")))
        out: dict[str, Any] = {}
        for c in ET.fromstring(z.read(part)).iter(f"{{{NS['m']}}}c"):
            t, v = c.get("t"), c.find("m:v", NS)
            if t == "inlineStr":
                out[c.get("r")] = "".join(x.text or "" for x in c.iter(f"{{{NS['m']}}}t"))
            elif v is None:
                continue
            elif t == "s":
                out[c.get("r")] = shared[int(v.text)]
            elif t in ("str", "e"):
                out[c.get("r")] = v.text or ""
            elif t == "b":
                out[c.get("r")] = v.text == "1"
            else:
                out[c.get("r")] = float(v.text)
    return out


# ---------------------------------------------------------------------------
# Seed 000 with its real texts

SEED000_TEXT = Path(__file__).parent / "data" / "seed000_hunan_dept_2024.txt"


def seed000_goals(path: Path = SEED000_TEXT) -> list[dict[str, str]]:
    """年度总体目标 of seed 000 (预期目标, 实际完成情况), paragraphs kept as line breaks."""
    text = path.read_text(encoding="utf-8")
    start = text.index("\t实际完成情况")
    block = text[start:text.index("\t绩效指标", start)]
    goals = []
    for chunk in block.split("\n\n")[1:]:
        cells: list[str] = []
        for line in chunk.split("\n"):
            if line.startswith("\t"):
                cells.append(line[1:])
            elif cells:
                cells[-1] += "\n" + line
        cells = [c.strip() for c in cells if c.strip()]
        if len(cells) == 2:
            goals.append({"target": cells[0], "actual": cells[1]})
    return goals


def seed000_full() -> dict[str, Any]:
    """The sample form of seed 000 with its goal texts and a footer, as the officer filled it."""
    import json
    from importlib import resources

    form = json.loads((resources.files("jixiao.samples") / "hunan-2024-dept.json").read_text("utf-8"))
    form["goals"] = seed000_goals()
    form["dept_name"] = form["unit"]
    form["footer"] = {"head": "（签字）", "preparer": "（签字）", "phone": "0731-00000000", "date": "2025年3月"}
    return form
