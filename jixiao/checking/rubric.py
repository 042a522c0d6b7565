"""The county rubric template's own checks: its weights, in total and per group, against the profile."""
from __future__ import annotations

from ..errors import Finding
from ..layouts.model import FormModel
from ..layouts.rubric import RUBRIC, rubric_groups
from ..profile import Profile
from ..rules import rule
from ..totals import TOTAL as WEIGHTS_TOTAL

GROUP = rule("weights.group", "二级指标分值合计不符")
MANUAL = rule("control.manual_override", "人工评分改变了自动计分")


def rubric_findings(model: FormModel, computed: dict, p: Profile, typed: dict | None = None) -> list[Finding]:
    """评价指标 weights: the sheet's total, and each group's 三级指标 points (from the profile); and a 人工评分
    typed on a row that the basic data scores (``typed``: the workbook's typed values by (sheet, cell))."""
    out = _manual_findings(model, computed, typed or {})
    s = model.sheet(RUBRIC)
    cell = s.fields["total.weight"]
    total = computed.get((RUBRIC, cell))
    want = p.weights
    if isinstance(total, (int, float)) and abs(total - want.total) > want.tolerance:
        out.append(Finding(WEIGHTS_TOTAL, "error", f"评价指标分值合计 {total:g}，应为 {want.total:g}",
                           expected=want.total, found=total).at(RUBRIC, cell))
    for group, (cells, points) in rubric_groups(model, p).items():
        got = sum(float(x) for c in cells if isinstance(x := computed.get((RUBRIC, c)), (int, float)))
        if abs(got - points) > want.tolerance:
            out.append(Finding(GROUP, "error", f"“{group}”下各三级指标分值之和 {got:g}，应为 {points:g}",
                               expected=points, found=got).at(RUBRIC, cells[0]))
    return out


def _manual_findings(model: FormModel, computed: dict, typed: dict) -> list[Finding]:
    """A number in 人工评分 (column L) on a row computed from the basic data changes its score: the computed
    score is what the basic data gives, so the officer's number is a finding, not a silent replacement."""
    s = model.sheet(RUBRIC)
    out = []
    i = 0
    while f"rubric.{i}.score" in s.fields:
        auto_cell, manual_cell = s.fields.get(f"rubric.{i}.auto"), s.fields.get(f"rubric.{i}.manual")
        basis = s.fields.get(f"rubric.{i}.basis")
        i += 1
        if auto_cell is None or manual_cell is None:
            continue
        auto, manual = computed.get((RUBRIC, auto_cell)), typed.get((RUBRIC, manual_cell))
        has_basis = basis is None or computed.get((RUBRIC, basis)) not in (None, "")
        if not isinstance(auto, (int, float)) or not isinstance(manual, (int, float)) or isinstance(manual, bool):
            continue
        if has_basis and abs(manual) > 1e-9:
            score = computed.get((RUBRIC, s.fields[f"rubric.{i - 1}.score"]))
            out.append(Finding(MANUAL, "warning",
                               f"此行由基础数据自动计分 {auto:g} 分；人工评分 {manual:g} 使得分变为 {score}，"
                               "请核实人工评分的依据（只用于不能由基础数据计算的评分标准）",
                               expected=auto, found=score).at(RUBRIC, manual_cell))
    return out
