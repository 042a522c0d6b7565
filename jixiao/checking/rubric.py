"""The county rubric template's own checks: its weights, in total and per group, against the profile."""
from __future__ import annotations

from ..errors import Finding
from ..layouts.model import FormModel
from ..layouts.rubric import RUBRIC, rubric_groups
from ..profile import Profile
from ..rules import rule
from ..totals import TOTAL as WEIGHTS_TOTAL

GROUP = rule("weights.group", "二级指标分值合计不符")


def rubric_findings(model: FormModel, computed: dict, p: Profile) -> list[Finding]:
    """评价指标 weights: the sheet's total, and each group's 三级指标 points (from the profile)."""
    out = []
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
