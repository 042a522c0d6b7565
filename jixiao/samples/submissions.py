"""Sample submissions with known mistakes: random department forms, the bureau's own layout, injected errors.

:func:`make_submission` writes one workbook (jixiao's template as saved by
Excel, or the bureau layout of seed 000) with one injected mistake and the
findings it must produce; :func:`generate` writes a folder of them with a
manifest. The demo and ``bench/`` use them; so do the tests.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import vocabulary as v
from ..form import FormScore
from .workbooks import (
    _as_saved,
    compute_cached,
    excel_bytes,
    fill_bytes,
    template_bytes,
    template_values,
)

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
        if actual is None:  # 亿元, a round amount: met, within the tolerance of an approximate target
            t = float(target.strip("≥亿元"))
            actual = f"{round(t * rng.uniform(1.0, 1.04), 1)}亿元"
        inds.append({"level1": l1, "level2": l2, "name": name, "target": target, "actual": actual, "weight": w,
                     "reason": ""})
    return {"kind": "dept", "unit": rng.choice(UNITS_POOL), "year": rng.choice([2023, 2024, 2025]),
            "funds": {"initial_budget": initial, "budget": budget, "executed": executed, "weight": 10,
                      "income": {"全年预算数": income}, "spending": {"全年执行数": {"基本支出": sp[0], "项目支出": sp[1]}}},
            "indicators": inds}


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
    runs: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = (
        ("B", lambda x: x["level1"]), ("C", lambda x: (x["level1"], x["level2"])))
    for col, key_of in runs:
        start = 0
        for i in range(1, len(rows) + 1):  # merge runs of the same level, as the official form does
            if i == len(rows) or key_of(rows[i]) != key_of(rows[start]):
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


# ---------------------------------------------------------------------------
# Generated submissions with injected errors (the demo, tests and bench/)


def _bureau_cells(n_rows: int) -> dict[str, str]:
    """Field key → cell of :func:`bureau_bytes`' layout."""
    cells = {v.FUNDS_RATE: "H5", v.FUNDS_SCORE: "I5", "split.income": "B7", "stated.income": "B6",
             v.SUM_ROW_SCORE: f"H{14 + n_rows}", v.SUM_ROW_WEIGHT: f"G{14 + n_rows}"}
    for i in range(n_rows):
        for col, k in zip("DEFGHI", ("name", "target", "actual", "weight", "score", "reason")):
            cells[v.indicator_key(i, k)] = f"{col}{14 + i}"
    return cells


@dataclass
class _Injection:
    """One mistake put into a clean form: what the officer typed and which finding it must produce."""

    form: dict[str, Any]
    layout: str
    cells: dict[str, str]  # field key → cell in this layout
    expected: list[dict[str, Any]] = field(default_factory=list)
    typed: dict[str, Any] = field(default_factory=dict)  # field → value typed over a computed cell
    stale: dict[str, Any] = field(default_factory=dict)  # field → wrong cached value (template only)
    reported: dict[str, Any] = field(default_factory=dict)  # what the bureau layout shows

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.form["indicators"]

    def expect(self, rule: str, key: str, value: Any) -> None:
        self.expected.append({"rule": rule, "cell": self.cells[key], "expected": value})


# Mistakes in the inputs: made before the clean form is scored.
def _split(x: _Injection) -> None:
    parts = x.form["funds"]["income"]["全年预算数"]
    parts["其他资金"] = round(parts["其他资金"] + 100, 2)
    x.expect("funds.split_mismatch", "funds.income.subtotal.E" if x.layout == "template" else "split.income",
             x.form["funds"]["budget"])


def _weight(x: _Injection) -> None:
    x.rows[0]["weight"] = 8
    x.expect("weights.total", v.SUM_ROW_WEIGHT, 90)


def _comparator(x: _Injection) -> None:
    x.rows[1]["actual"] = "≥" + x.rows[1]["target"].lstrip("≥")
    x.expect("indicator.actual_has_comparator", "ind.1.actual", "实测数值")


def _reason_missing(x: _Injection) -> None:
    target = float(x.rows[1]["target"].strip("≥%"))
    x.rows[1]["actual"] = f"{round(target * 0.7, 1)}%"
    x.expect("indicator.reason_missing", "ind.1.reason", "偏差原因")


def _over_achievement(x: _Injection) -> None:
    n = int(x.rows[0]["target"].strip("≥个"))
    x.rows[0]["actual"] = f"{2 * n}个"
    x.expect("indicator.over_achievement", "ind.0.actual", "< 120%")


def _unit_mismatch(x: _Injection) -> None:
    x.rows[8]["actual"] = x.rows[8]["actual"].rstrip("%") + "个"  # a bare number is in the target's unit
    x.expect("indicator.unit_mismatch", "ind.8.actual", "%")


def _qual_band(x: _Injection) -> None:
    if x.layout == "template":
        x.rows[5]["grade"], x.rows[5]["judged"] = "部分达成并具有一定效果", 10
        x.expect("indicator.qualitative_out_of_band", "ind.5.judged", "6–8")
    else:
        x.reported["score.5"] = 5
        x.expect("indicator.qualitative_out_of_band", "ind.5.score", "8–10")


# Mistakes in what the form reports: made against the clean form's scores.
def _wrong_budget(x: _Injection, clean: FormScore) -> None:
    fu = x.form["funds"]
    wrong = fu["executed"] / fu["initial_budget"]
    x.typed[v.FUNDS_RATE] = wrong
    x.reported["rate"] = f"{wrong:.2%}"
    x.expect("execution.wrong_budget", v.FUNDS_RATE, f"{clean.exec_rate:.2%}")


def _exec_score(x: _Injection, clean: FormScore) -> None:
    wrong = clean.exec_score - 1 if clean.exec_score > 0 else 1
    x.typed[v.FUNDS_SCORE] = x.reported["exec_score"] = wrong
    x.expect("execution.score_mismatch", v.FUNDS_SCORE, clean.exec_score)


def _sum_row(x: _Injection, clean: FormScore) -> None:
    x.typed[v.SUM_ROW_SCORE] = x.reported["sum"] = clean.sum_row - 5
    x.expect("total.sum_row_mismatch", v.SUM_ROW_SCORE, clean.sum_row)


def _over_weight(x: _Injection, clean: FormScore) -> None:
    w = x.rows[2]["weight"]
    x.typed["ind.2.score"] = x.reported["score.2"] = w + 3
    x.expect("indicator.score_over_weight", "ind.2.score", w)


def _score_mismatch(x: _Injection, clean: FormScore) -> None:
    w = x.rows[2]["weight"]
    x.typed["ind.2.score"] = x.reported["score.2"] = w - 2
    x.expect("indicator.score_mismatch", "ind.2.score", w)


def _stale(x: _Injection, clean: FormScore) -> None:
    budget = x.form["funds"]["budget"]
    x.stale["funds.income.subtotal.E"] = round(budget - 1000, 2)
    x.expect("formula.stale", "funds.income.subtotal.E", budget)


def _grade(x: _Injection, clean: FormScore) -> None:
    x.typed[v.TOTAL_GRADE] = "良" if clean.grade != "良" else "中"
    x.expect("total.grade_mismatch", v.TOTAL_GRADE, clean.grade)


def _total(x: _Injection, clean: FormScore) -> None:
    x.typed[v.TOTAL_SCORE] = clean.capped_total + 2
    x.expect("total.total_mismatch", v.TOTAL_SCORE, clean.capped_total)


def _same_quantity(x: _Injection, clean: FormScore) -> None:
    budget = x.form["funds"]["budget"]
    x.reported["stated_income"] = round(budget + 50, 2)
    x.expect("funds.same_quantity", "stated.income", budget)


BEFORE_SCORING: dict[str, Callable[[_Injection], None]] = {
    "split": _split, "weight": _weight, "comparator": _comparator, "reason_missing": _reason_missing,
    "over_achievement": _over_achievement, "unit_mismatch": _unit_mismatch, "qual_band": _qual_band}
AFTER_SCORING: dict[str, Callable[[_Injection, FormScore], None]] = {
    "wrong_budget": _wrong_budget, "exec_score": _exec_score, "sum_row": _sum_row, "over_weight": _over_weight,
    "score_mismatch": _score_mismatch, "stale": _stale, "grade": _grade, "total": _total,
    "same_quantity": _same_quantity}
INJECTIONS = ("wrong_budget", "exec_score", "split", "sum_row", "weight", "over_weight", "score_mismatch",
              "qual_band", "comparator", "reason_missing", "over_achievement", "unit_mismatch", "stale", "grade",
              "total", "same_quantity")
TEMPLATE_ONLY = {"stale", "grade", "total"}
BUREAU_ONLY = {"same_quantity"}


def make_submission(rng, layout: str = "template", injection: str | None = None,
                    kind: str = "dept-province") -> tuple[bytes, list[dict[str, Any]]]:
    """One generated workbook (bytes) and the findings its injected error must produce.

    ``layout``: ``template`` (jixiao's template as saved by Excel with the add-in, cached values and
    ``[1]!`` links) or ``bureau`` (seed 000's layout with typed numbers).
    """
    from ..form import DeptForm, score_form
    from ..layouts.writer import template_model

    form = random_dept(rng)
    model = template_model(kind)
    x = _Injection(form, layout, model.main.fields if layout == "template" else _bureau_cells(len(form["indicators"])))
    if injection in BEFORE_SCORING:
        BEFORE_SCORING[injection](x)
    clean = score_form(DeptForm.from_dict(form), "hunan-dept-2024")
    if injection in AFTER_SCORING:
        AFTER_SCORING[injection](x, clean)
    if layout == "bureau":
        x.reported.setdefault("exec_score", clean.exec_score)
        x.reported.setdefault("sum", clean.sum_row)
        for i, scored in enumerate(clean.indicators):
            x.reported.setdefault(f"score.{i}", scored.score)
        return bureau_bytes(form, x.reported, weights_in_labels=rng.random() < 0.3), x.expected
    s = model.main
    values = template_values(form, model)
    cached = compute_cached(kind, values)
    for key, value in x.stale.items():
        cached[(s.name, s.fields[key])] = value
    values.update({(s.name, s.fields[k]): value for k, value in x.typed.items()})
    return excel_bytes(fill_bytes(template_bytes(kind), values), cached), x.expected


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
