"""Workbooks as other programs save them, for tests and benchmarks.

:func:`as_saved_by_excel` rewrites a workbook the way Excel stores it when the
jixiao add-in is loaded: every UDF call becomes an external reference
``[1]!JX_…`` to the add-in, an ``xl/externalLinks/externalLink1.xml`` part
lists the functions and its relationship points at the .xlam by absolute path,
and each formula cell carries its cached value. The input file is not changed.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ADDIN_PATH = r"file:///C:\Users\officer\AppData\Roaming\Microsoft\AddIns\jixiao.xlam"
_LINK_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"
_LINK_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLink"
_PATH_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath"


_CHAR_REF = re.compile(r"&#(\d+);")


def excel_text(xml: str) -> str:
    """XML as Excel writes it: UTF-8 characters, not numeric references (&#22635;) as lxml writes them."""
    return _CHAR_REF.sub(lambda m: chr(int(m.group(1))) if int(m.group(1)) >= 0x80 else m.group(0), xml)


def _cached(value: Any) -> tuple[str, str]:
    """(type attribute, <v> text) for a cached formula result."""
    if value is None:
        return ' t="str"', ""
    if isinstance(value, bool):
        return ' t="b"', "1" if value else "0"
    if isinstance(value, (int, float)):
        return "", repr(float(value)) if isinstance(value, float) else str(value)
    text = str(value)
    if text.startswith("#"):
        return ' t="e"', escape(text)
    return ' t="str"', escape(text)


def as_saved_by_excel(src: str | Path, dst: str | Path, values: dict[tuple[str, str], Any] | None = None,
                      addin_path: str = ADDIN_PATH) -> Path:
    """Write ``dst``: ``src`` with ``[1]!JX_…`` calls, an add-in external link and cached values.

    ``values`` maps (sheet name, cell) to the cached result (sheet names compared case-insensitively);
    formula cells not in it get no cached value.
    """
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(excel_bytes(Path(src).read_bytes(), values, addin_path))
    return dst


def excel_bytes(src: bytes, values: dict[tuple[str, str], Any] | None = None, addin_path: str = ADDIN_PATH) -> bytes:
    """:func:`as_saved_by_excel` on bytes."""
    import io

    values = {(k[0].upper(), k[1]): v for k, v in (values or {}).items()}
    with zipfile.ZipFile(io.BytesIO(src)) as zin:
        names = zin.namelist()
        wb_xml = zin.read("xl/workbook.xml").decode("utf-8")
        sheet_names = re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', wb_xml)
        rels = zin.read("xl/_rels/workbook.xml.rels").decode("utf-8")
        targets = dict((rid, t) for t, rid in re.findall(r'Target="([^"]+)"[^>]*Id="([^"]+)"', rels))
        sheet_of_part = {targets[rid].lstrip("/"): name for name, rid in sheet_names}
        used: set[str] = set()
        parts: dict[str, bytes] = {}
        for name in names:
            data = zin.read(name)
            if name.endswith(".xml") and b"&#" in data:
                data = excel_text(data.decode("utf-8")).encode("utf-8")
            if name in sheet_of_part:
                sheet = sheet_of_part[name].upper()
                text = data.decode("utf-8")

                def cell(m: re.Match, sheet: str = sheet) -> str:
                    attrs, formula = m.group(1), m.group(2)
                    ref = re.search(r'r="([A-Z]+\d+)"', attrs).group(1)  # type: ignore[union-attr]
                    used.update(re.findall(r"(?<![\w!])(JX_[A-Z_]+)\(", formula))
                    formula = re.sub(r"(?<![\w!\]])(JX_[A-Z_]+\()", r"[1]!\1", formula)
                    attrs = re.sub(r'\s+t="[^"]*"', "", attrs)
                    if (sheet, ref) in values:
                        t, v = _cached(values[(sheet, ref)])
                        return f"<c{attrs}{t}><f>{formula}</f><v>{v}</v></c>"
                    return f"<c{attrs}><f>{formula}</f></c>"

                text = re.sub(r"<c(\s[^>]*)><f>(.*?)</f>(?:<v\s*/>|<v>.*?</v>)?</c>", cell, text, flags=re.S)
                data = text.encode("utf-8")
            parts[name] = data
    link = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14" '
            'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
            '<externalBook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1">'
            "<definedNames>" + "".join(f'<definedName name="{n}"/>' for n in sorted(used))
            + "</definedNames></externalBook></externalLink>")
    link_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 f'<Relationship Id="rId1" Type="{_PATH_REL}" Target="{escape(addin_path)}" TargetMode="External"/>'
                 "</Relationships>")
    rid = "rIdJx1"
    wb = parts["xl/workbook.xml"].decode("utf-8")
    ns_r = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    wb = wb.replace("</sheets>", f'</sheets><externalReferences><externalReference xmlns:r="{ns_r}" r:id="{rid}"/>'
                    "</externalReferences>", 1)
    parts["xl/workbook.xml"] = wb.encode("utf-8")
    r = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    r = r.replace("</Relationships>",
                  f'<Relationship Id="{rid}" Type="{_LINK_REL}" Target="externalLinks/externalLink1.xml"/></Relationships>')
    parts["xl/_rels/workbook.xml.rels"] = r.encode("utf-8")
    ct = parts["[Content_Types].xml"].decode("utf-8")
    ct = ct.replace("</Types>", f'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="{_LINK_CT}"/></Types>')
    parts["[Content_Types].xml"] = ct.encode("utf-8")
    parts["xl/externalLinks/externalLink1.xml"] = link.encode("utf-8")
    parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = link_rels.encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)
    return buf.getvalue()


# ---------------------------------------------------------------------------
# Filling templates quickly, and generated submissions with known errors

_SHEET_PARTS_CACHE: dict[int, dict[str, str]] = {}


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → part name."""
    wb_xml = z.read("xl/workbook.xml").decode("utf-8")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = dict((rid, t) for t, rid in re.findall(r'Target="([^"]+)"[^>]*Id="([^"]+)"', rels))
    return {name: targets[rid].lstrip("/") if targets[rid].startswith("/") else "xl/" + targets[rid]
            for name, rid in re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', wb_xml)}


def _cell_xml(ref: str, style: str, value: Any) -> str:
    if value is None or value == "":
        return f'<c r="{ref}"{style}/>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{style}><v>{value!r}</v></c>'
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


def fill_bytes(src: bytes, values: dict[tuple[str, str], Any]) -> bytes:
    """Type values into cells of a workbook (bytes in, bytes out), as an officer would.

    A value written into a formula cell replaces the formula, as typing over it in Excel does.
    """
    import io

    by_sheet: dict[str, dict[str, Any]] = {}
    for (sheet, ref), v in values.items():
        by_sheet.setdefault(sheet, {})[ref] = v
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        parts = _sheet_parts(zin)
        todo = {parts[s]: cells for s, cells in by_sheet.items()}
        for item in zin.infolist():
            data = zin.read(item.filename)
            cells = todo.get(item.filename)
            if cells:
                text = data.decode("utf-8")

                def swap(m: re.Match, cells: dict[str, Any] = cells) -> str:
                    ref = m.group(1)
                    if ref not in cells:
                        return m.group(0)
                    style = re.search(r'\ss="\d+"', m.group(2) or "")
                    return _cell_xml(ref, style.group(0) if style else "", cells[ref])

                text = re.sub(r'<c r="([A-Z]+\d+)"([^>]*?)(?:/>|>.*?</c>)', swap, text, flags=re.S)
                data = text.encode("utf-8")
            zout.writestr(item, data)
    return out.getvalue()


_TEMPLATE_BYTES: dict[str, bytes] = {}


def template_bytes(kind: str) -> bytes:
    if kind not in _TEMPLATE_BYTES:
        import io

        from ..layouts.writer import build_workbook, template_model

        buf = io.BytesIO()
        build_workbook(template_model(kind)).save(buf)
        _TEMPLATE_BYTES[kind] = buf.getvalue()
    return _TEMPLATE_BYTES[kind]


UNITS_POOL = ("湖南省机关事务管理局", "湖南省财政厅", "湖南省教育厅", "湖南省民政厅", "湖南省水利厅", "湖南省农业农村厅",
              "湖南省文化和旅游厅", "湖南省卫生健康委员会", "湖南省自然资源厅", "湖南省统计局")


def random_dept(rng) -> dict[str, Any]:
    """A clean 部门整体支出 form under hunan-dept-2024 (产出20 效益40 满意度10 成本20), as sample-JSON."""
    budget = round(rng.uniform(1000, 60000), 2)
    rate = rng.uniform(0.72, 0.995)
    executed = round(budget * rate, 2)
    initial = round(budget * rng.uniform(0.55, 0.95), 2)

    def split(total: float, n: int) -> list[float]:
        cuts = sorted(rng.random() for _ in range(n - 1))
        parts = [round(total * (b - a), 2) for a, b in zip([0.0] + cuts, cuts + [1.0])]
        parts[0] = round(total - sum(parts[1:]), 2)
        return parts

    inc = split(budget, 3)
    income = {"一般公共预算": inc[0], "政府性基金拨款": None, "纳入专户管理的非税收入拨款": inc[1], "其他资金": inc[2]}
    sp = split(executed, 2)
    n_units = rng.randint(10, 40)
    pct = rng.choice([95, 98, 100])
    rows = [
        ("产出指标", "数量指标", "办公用房维修项目立项数", f"≥{n_units}个", f"{n_units + rng.randint(0, 1)}个", 5),
        ("产出指标", "质量指标", "工程项目验收达标率", f"≥{pct}%", f"{rng.choice([pct, 100])}%", 5),
        ("产出指标", "时效指标", "各项工作任务按期完成", "100%", "100%", 5),
        ("产出指标", "数量指标", "公务用车信息平台接入单位", f"={n_units}家", f"{n_units}家", 5),
        ("效益指标", "经济效益指标", "盘活国有资产", f"≥{rng.randint(20, 60)}亿元", None, 10),
        ("效益指标", "社会效益指标", "推广新能源汽车", "显著提升", "显著提升", 10),
        ("效益指标", "生态效益指标", "节能降耗", "明显改善", "明显改善", 10),
        ("效益指标", "可持续影响指标", "干部队伍建设", "优化", "优化", 10),
        ("满意度指标", "服务对象满意度指标", "服务对象满意度", "≥90%", f"{rng.choice([92, 95, 98])}%", 10),
        ("成本指标", "经济成本指标", "各项支出控制在预算范围内", "不超支", "未超支", 10),
        ("成本指标", "社会成本指标", "建设项目被投诉次数", "≤1次", "0次", 5),
        ("成本指标", "生态环境成本指标", "环境执法部门处罚次数", "≤1次", f"{rng.choice([0, 1])}次", 5),
    ]
    inds = []
    for l1, l2, name, target, actual, w in rows:
        if actual is None:  # 亿元: a little above target, below the over-achievement line
            t = float(target.strip("≥亿元"))
            actual = f"{round(t * rng.uniform(1.0, 1.15), 1)}亿元"
        inds.append({"level1": l1, "level2": l2, "name": name, "target": target, "actual": actual, "weight": w,
                     "reason": ""})
    return {"kind": "dept", "unit": rng.choice(UNITS_POOL), "year": rng.choice([2023, 2024, 2025]),
            "funds": {"initial_budget": initial, "budget": budget, "executed": executed, "weight": 10,
                      "income": {"全年预算数": income}, "spending": {"全年执行数": {"基本支出": sp[0], "项目支出": sp[1]}}},
            "indicators": inds}


def template_values(form: dict[str, Any], model) -> dict[tuple[str, str], Any]:
    """The template's input cells for a sample-JSON form."""
    s = model.main
    f = s.fields
    fu = form["funds"]
    v: dict[str, Any] = {"year": form["year"], "unit": form["unit"], "dept_name": form["unit"],
                         "funds.initial_budget": fu.get("initial_budget"), "funds.budget": fu["budget"],
                         "funds.executed": fu["executed"]}
    letters = {"年初预算数": "D", "全年预算数": "E", "全年执行数": "F"}
    for group in ("income", "spending"):
        for column, parts in fu.get(group, {}).items():
            for part, amount in parts.items():
                if amount is not None:
                    v[f"funds.{group}.{part}.{letters[column]}"] = amount
    for i, row in enumerate(form["indicators"]):
        for k in ("level1", "level2", "name", "target", "actual", "weight", "reason", "grade", "judged"):
            if row.get(k) not in (None, ""):
                v[f"ind.{i}.{k}"] = row[k]
    return {(s.name, f[k]): val for k, val in v.items() if k in f and val is not None}


# ---------------------------------------------------------------------------
# The bureau's own layout (seed 000): typed numbers, amounts inside labels, merged cells


def bureau_bytes(form: dict[str, Any], reported: dict[str, Any] | None = None, weights_in_labels: bool = False) -> bytes:
    """Seed 000's layout as a finance bureau's template has it: no formulas, amounts inside label text.

    ``reported`` holds what the officer typed for the computed cells: rate (text "84.52%"), score,
    sum, indicator scores (by row index), stated split totals.
    """
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Side

    from ..deviation import indicator_score
    from ..execution import exec_rate

    rep = reported or {}
    fu = form["funds"]
    wb = Workbook()
    ws = wb.active
    ws.title = "附件2"
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="center")

    def put(ref: str, value: Any, to: str | None = None) -> None:
        ws[ref] = value
        if isinstance(value, str) and value.startswith("="):
            ws[ref].data_type = "s"  # "=24期" typed as text ('=24期 in Excel), not a formula
        ws[ref].alignment = wrap
        ws[ref].border = box
        if to:
            ws.merge_cells(f"{ref}:{to}")

    put("A1", f"{form['year']}年度部门整体支出绩效自评表", "I1")
    put("A2", f"填报单位：{form['unit']}                                        单位：万元", "I2")
    put("A3", "省级预算\n部门名称")
    put("B3", form["unit"] + "\u3000", "I3")
    put("A4", "年度预算\n申请\n（万元）", "A10")
    put("B4", "", "C4")
    for col, text in zip("DEFGHI", ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")):
        put(f"{col}4", text)
    rate = exec_rate(fu["budget"], fu["executed"])
    put("B5", "年度资金总额", "C5")
    put("D5", fu.get("initial_budget"))
    put("E5", fu["budget"])
    put("F5", fu["executed"])
    put("G5", fu.get("weight", 10))
    put("H5", rep.get("rate", f"{rate:.2%}"))
    put("I5", rep.get("exec_score"))
    inc = fu["income"]["全年预算数"]
    spd = fu["spending"]["全年执行数"]
    put("B6", f"按收入性质分：{rep.get('stated_income', fu['budget'])}", "E6")
    put("F6", f"按支出性质分：{rep.get('stated_spending', fu['executed'])}", "I6")
    inc_labels = [("  其中：  一般公共预算", "一般公共预算"), ("政府性基金拨款", "政府性基金拨款"),
                  ("纳入专户管理的非税收入拨款", "纳入专户管理的非税收入拨款"), ("其他资金", "其他资金")]
    spd_labels = [("其中：基本支出", "基本支出"), ("项目支出", "项目支出")]
    for i, (text, key) in enumerate(inc_labels):
        amount = inc.get(key)
        put(f"B{7 + i}", f"{text}：{'' if amount is None else amount}", f"E{7 + i}")
        if i < len(spd_labels):
            t2, k2 = spd_labels[i]
            put(f"F{7 + i}", f"{t2}：{spd.get(k2, '')}", f"I{7 + i}")
        else:
            put(f"F{7 + i}", "", f"I{7 + i}")
    put("A11", "年度总体\n目标", "A12")
    put("B11", "预期目标", "E11")
    put("F11", "实际完成情况\u3000", "I11")
    put("B12", "完成年度重点工作任务。", "E12")
    put("F12", "已完成年度重点工作任务。", "I12")
    put("A13", "绩效指标", f"A{13 + len(form['indicators'])}")
    for col, text in zip("BCDEFGHI", ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
                                      "偏差原因分析及改进措施")):
        put(f"{col}13", text)
    rows = form["indicators"]
    level_weight: dict[str, float] = {}
    for row in rows:
        level_weight[row["level1"]] = level_weight.get(row["level1"], 0) + row["weight"]
    for col, key in (("B", lambda x: x["level1"]), ("C", lambda x: (x["level1"], x["level2"]))):
        start = 0
        for i in range(1, len(rows) + 1):  # merge runs of the same level, as the official form does
            if i == len(rows) or key(rows[i]) != key(rows[start]):
                if i - 1 > start:
                    ws.merge_cells(f"{col}{14 + start}:{col}{14 + i - 1}")
                start = i
    prev1 = prev2 = None
    for i, row in enumerate(rows):
        r = 14 + i
        l1 = f"{row['level1']} ({level_weight[row['level1']]:g}分)" if weights_in_labels else row["level1"]
        if row["level1"] != prev1:
            put(f"B{r}", l1)
        if (row["level1"], row["level2"]) != prev2:
            put(f"C{r}", row["level2"])
        prev1, prev2 = row["level1"], (row["level1"], row["level2"])
        put(f"D{r}", row["name"])
        put(f"E{r}", row["target"])
        put(f"F{r}", row["actual"])
        put(f"G{r}", row["weight"])
        default = indicator_score(row["target"], row["actual"], row["weight"], "hunan-dept-2024").score
        put(f"H{r}", rep.get(f"score.{i}", default))
        put(f"I{r}", row.get("reason") or None)
    r = 14 + len(rows)
    put(f"A{r}", "合计", f"F{r}")
    put(f"G{r}", sum(x["weight"] for x in rows))
    put(f"H{r}", rep.get("sum"))
    put(f"I{r}", None)
    ws.column_dimensions["D"].width = 30
    buf = io.BytesIO()
    wb.save(buf)
    return _as_saved(buf.getvalue())


def _as_saved(data: bytes) -> bytes:
    """A workbook's XML parts rewritten with UTF-8 text, as Excel or WPS would save it."""
    import io

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            part = zin.read(item.filename)
            if item.filename.endswith(".xml") and b"&#" in part:
                part = excel_text(part.decode("utf-8")).encode("utf-8")
            zout.writestr(item, part)
    return out.getvalue()


# ---------------------------------------------------------------------------
# Generated submissions with injected errors (tests and bench/)

INJECTIONS = ("wrong_budget", "exec_score", "split", "sum_row", "weight", "over_weight", "score_mismatch",
              "qual_band", "comparator", "reason_missing", "over_achievement", "unit_mismatch", "stale", "grade",
              "total", "same_quantity")
TEMPLATE_ONLY = {"stale", "grade", "total"}
BUREAU_ONLY = {"same_quantity"}


def _bureau_cells(n_rows: int) -> dict[str, str]:
    cells = {"funds.exec_rate": "H5", "funds.exec_score": "I5", "split.income": "B7", "stated.income": "B6",
             "sum_row.score": f"H{14 + n_rows}", "sum_row.weight": f"G{14 + n_rows}"}
    for i in range(n_rows):
        for col, k in zip("DEFGHI", ("name", "target", "actual", "weight", "score", "reason")):
            cells[f"ind.{i}.{k}"] = f"{col}{14 + i}"
    return cells


def make_submission(rng, layout: str = "template", injection: str | None = None,
                    kind: str = "dept-province") -> tuple[bytes, list[dict[str, Any]]]:
    """One generated workbook (bytes) and the findings its injected error must produce.

    ``layout``: ``template`` (jixiao's template as saved by Excel with the add-in, cached values and
    ``[1]!`` links) or ``bureau`` (seed 000's layout with typed numbers).
    """
    from ..form import DeptForm, score_form
    from ..layouts.writer import template_model

    form = random_dept(rng)
    fu, rows = form["funds"], form["indicators"]
    expected: list[dict[str, Any]] = []
    typed: dict[str, Any] = {}  # field → value typed over a computed cell
    stale: dict[str, Any] = {}  # field → wrong cached value (template only)
    rep: dict[str, Any] = {}
    model = template_model(kind)
    fields = model.main.fields if layout == "template" else _bureau_cells(len(rows))

    def expect(rule: str, key: str, value: Any) -> None:
        expected.append({"rule": rule, "cell": fields[key], "expected": value})

    if injection == "split":
        fu["income"]["全年预算数"]["其他资金"] = round(fu["income"]["全年预算数"]["其他资金"] + 100, 2)
    elif injection == "weight":
        rows[0]["weight"] = 8
    elif injection == "comparator":
        rows[1]["actual"] = "≥" + rows[1]["target"].lstrip("≥")
    elif injection == "reason_missing":
        t = float(rows[1]["target"].strip("≥%"))
        rows[1]["actual"] = f"{round(t * 0.7, 1)}%"
    elif injection == "over_achievement":
        n = int(rows[0]["target"].strip("≥个"))
        rows[0]["actual"] = f"{2 * n}个"
    elif injection == "unit_mismatch":
        rows[8]["actual"] = rows[8]["actual"].rstrip("%")
    clean = score_form(DeptForm.from_dict(form), "hunan-dept-2024")
    by_row = [s.score for s in clean.indicators]
    rate = clean.exec_rate

    if injection == "wrong_budget":
        wrong = fu["executed"] / fu["initial_budget"]
        typed["funds.exec_rate"] = wrong
        rep["rate"] = f"{wrong:.2%}"
        expect("execution.wrong_budget", "funds.exec_rate", f"{rate:.2%}")
    elif injection == "exec_score":
        wrong = clean.exec_score - 1 if clean.exec_score > 0 else 1
        typed["funds.exec_score"] = rep["exec_score"] = wrong
        expect("execution.score_mismatch", "funds.exec_score", clean.exec_score)
    elif injection == "split":
        key = "funds.income.subtotal.E" if layout == "template" else "split.income"
        expect("funds.split_mismatch", key, fu["budget"])
    elif injection == "sum_row":
        typed["sum_row.score"] = rep["sum"] = clean.sum_row - 5
        expect("total.sum_row_mismatch", "sum_row.score", clean.sum_row)
    elif injection == "weight":
        expect("weights.total", "sum_row.weight", 90)
    elif injection == "over_weight":
        w = rows[2]["weight"]
        typed["ind.2.score"] = rep["score.2"] = w + 3
        expect("indicator.score_over_weight", "ind.2.score", w)
    elif injection == "score_mismatch":
        w = rows[2]["weight"]
        typed["ind.2.score"] = rep["score.2"] = w - 2
        expect("indicator.score_mismatch", "ind.2.score", w)
    elif injection == "qual_band":
        if layout == "template":
            rows[5]["grade"], rows[5]["judged"] = "部分达成并具有一定效果", 10
            expect("indicator.qualitative_out_of_band", "ind.5.judged", "6–8")
        else:
            rep["score.5"] = 5
            expect("indicator.qualitative_out_of_band", "ind.5.score", "8–10")
    elif injection == "comparator":
        expect("indicator.actual_has_comparator", "ind.1.actual", "实测数值")
    elif injection == "reason_missing":
        expect("indicator.reason_missing", "ind.1.reason", "偏差原因")
    elif injection == "over_achievement":
        expect("indicator.over_achievement", "ind.0.actual", "< 120%")
    elif injection == "unit_mismatch":
        expect("indicator.unit_mismatch", "ind.8.actual", "%")
    elif injection == "stale":
        stale["funds.income.subtotal.E"] = round(fu["budget"] - 1000, 2)
        expect("formula.stale", "funds.income.subtotal.E", fu["budget"])
    elif injection == "grade":
        typed["total.grade"] = "良" if clean.grade != "良" else "中"
        expect("total.grade_mismatch", "total.grade", clean.grade)
    elif injection == "total":
        typed["total.score"] = clean.capped_total + 2
        expect("total.total_mismatch", "total.score", clean.capped_total)
    elif injection == "same_quantity":
        rep["stated_income"] = round(fu["budget"] + 50, 2)
        expect("funds.same_quantity", "stated.income", fu["budget"])

    if layout == "bureau":
        rep.setdefault("exec_score", clean.exec_score)
        rep.setdefault("sum", clean.sum_row)
        for i, sc in enumerate(by_row):
            rep.setdefault(f"score.{i}", sc)
        return bureau_bytes(form, rep, weights_in_labels=rng.random() < 0.3), expected

    s = model.main
    values = template_values(form, model)
    cached = compute_cached(kind, values)
    for key, v in stale.items():
        cached[(s.name, s.fields[key])] = v
    values.update({(s.name, s.fields[k]): v for k, v in typed.items()})
    data = fill_bytes(template_bytes(kind), values)
    return excel_bytes(data, cached), expected


def compute_cached(kind: str, values: dict[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
    """The template's formula results for these inputs (what Excel would have cached)."""
    from ..checking.templates import templates

    t = next(t for t in templates() if t.kind == kind)
    base = {}
    for s in t.model.sheets:
        for ref, spec in s.cells.items():
            if spec.value is not None and spec.value != "\x00covered" and not (
                    isinstance(spec.value, str) and spec.value.startswith("=")):
                base[(s.name, ref)] = spec.value
    base.update(values)
    out = t.compiled.run(dict(base))
    return {k: out[k] for k in t.compiled.cells}


def generate(out_dir: str | Path, n: int, seed: int = 2026, error_share: float = 0.5,
             bureau_share: float = 0.25) -> list[dict[str, Any]]:
    """Write ``n`` workbooks (seeded) into ``out_dir`` and return the manifest of injected errors."""
    import json
    import random

    rng = random.Random(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = []
    cycle = 0
    for i in range(n):
        layout = "bureau" if rng.random() < bureau_share else "template"
        injection = None
        if rng.random() < error_share:
            choices = [x for x in INJECTIONS if not (layout == "bureau" and x in TEMPLATE_ONLY)
                       and not (layout == "template" and x in BUREAU_ONLY)]
            injection = choices[cycle % len(choices)]
            cycle += 1
        data, expected = make_submission(rng, layout, injection)
        name = f"{i:05d}-{layout}-{injection or 'clean'}.xlsx"
        (out / name).write_bytes(data)
        manifest.append({"file": name, "layout": layout, "injection": injection, "expected": expected})
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest
