"""A form's fields as read from a workbook: each value with the cell it came from.

:class:`FormRead` is what both readers produce — the template reader here (by
the form model) and the label reader (:mod:`jixiao.checking.labels`). Values are
kept under the field keys of :mod:`jixiao.vocabulary`, so a finding that names
a field is located by a lookup (:meth:`FormRead.locate`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import vocabulary as v
from ..errors import Finding
from ..layouts.model import FormModel
from ..values import cell_number
from .xlsx import Book


@dataclass
class Cell:
    """A value read from a workbook and where it was."""

    value: Any
    sheet: str
    ref: str | None
    fmt: str | None = None  # the number format of a number cell ("0.00%", "0.0"); None: General

    @property
    def blank(self) -> bool:
        return self.value is None or (isinstance(self.value, str) and not self.value.strip())


@dataclass
class FormRead:
    """The fields of one 部门整体/项目支出 form, by field key, each with its cell."""

    kind: str  # dept | project
    sheet: str
    cells: dict[str, Cell] = field(default_factory=dict)
    splits: dict[str, dict[str, dict[str, Cell]]] = field(default_factory=dict)  # group → column → part → cell
    indicators: list[dict[str, Cell]] = field(default_factory=list)
    part_rows: dict[tuple[str, str], dict[str, Cell]] = field(default_factory=dict)  # (group, part) → rate/score cells
    notes: list[Finding] = field(default_factory=list)  # what the reader could not find
    layout: str | None = None  # the jixiao template it was made from (dept-province …), if any
    rate_in_percent: bool = False  # the 执行率 column's header says its numbers are percents ("执行率（%）")
    amount_unit: str | None = None  # the unit the funds block's header states: 万元 or 元
    stated_amounts: list[float] = field(default_factory=list)  # amounts in 万元 written in the form's texts
    grade_legend: str | None = None  # a grading legend printed on the sheet (labels.grade_legend)
    funds_points_shown: bool = True  # the funds table has a 分值 or 得分 column, or states its points
    totals_unchecked: bool = False  # some indicator rows could not be weighed: 合计/总分/等级 are not compared

    def get(self, key: str) -> Any:
        c = self.cells.get(key)
        return None if c is None else c.value

    def put(self, key: str, cell: Cell) -> None:
        self.cells[key] = cell

    def add_indicator(self, row: dict[str, Cell]) -> None:
        """Append an indicator row; its cells become ``ind.<n>.<column>`` fields."""
        n = len(self.indicators)
        self.indicators.append(row)
        for column, c in row.items():
            self.cells[v.indicator_key(n, column)] = c

    def add_split(self, group: str, column: str, part: str, cell: Cell) -> None:
        """A part's amount; ``column`` is a funds column name, or ``label`` for an amount inside the label text."""
        self.splits.setdefault(group, {}).setdefault(column, {})[part] = cell
        if column in v.COLUMN_CODE:
            self.cells[v.split_key(group, part, column)] = cell

    def add_part_cells(self, group: str, part: str, what: str, cell: Cell) -> None:
        """A split row's own 执行率 (``rate``) or 得分 (``score``) cell."""
        self.part_rows.setdefault((group, part), {})[what] = cell
        self.cells[v.part_key(group, part, what)] = cell

    @property
    def profile(self) -> str | None:
        text = self.get(v.PROFILE)
        return str(text).strip() if text not in (None, "") else None

    def locate(self, finding: Finding) -> Finding:
        """Point ``finding`` at the cell of the field it names (or at the sheet when the form has none)."""
        key = finding.field
        c = self.cells.get(key) if key else None
        if c is None and key in v.FALLBACK:
            c = self.cells.get(v.FALLBACK[key])
        if c is None and key and key.startswith("funds.") and finding.extra.get("group"):
            c = self._first_part(finding.extra["group"], finding.extra.get("column"))
        if c is None:
            return finding.at(self.sheet, None)
        return finding.at(c.sheet, c.ref)

    def _first_part(self, group: str, column: str | None) -> Cell | None:
        parts = self.splits.get(group, {})
        cells = list((parts.get(column or "") or parts.get("label") or {}).values())
        return next((c for c in cells if not c.blank), cells[0] if cells else None)


def number(c: Cell | None) -> float | None:
    """A read cell as a number; None for a blank cell, an error value or text that is no number."""
    return None if c is None or c.blank else cell_number(c.value)


@dataclass(frozen=True)
class _TemplatePlan:
    """Where a template's fields are, worked out once per sheet model: the plain fields, the parts of each
    split and the indicator rows (every workbook made from the template has them in the same cells)."""

    plain: tuple[tuple[str, str], ...]  # (key, ref)
    splits: tuple[tuple[str, str, str, str], ...]  # (group, column, part, ref)
    indicators: tuple[tuple[tuple[str, str], ...], ...]  # per row: (column, ref) for each indicator column


_PLANS: dict[int, tuple[Any, int, _TemplatePlan]] = {}  # id(sheet model) → (the model, kept alive; its number
# of fields when planned; the plan)


def _plan(model: FormModel) -> _TemplatePlan:
    s = model.main
    kept = _PLANS.get(id(s))
    if kept is not None and kept[0] is s and kept[1] == len(s.fields):
        return kept[2]
    plain = tuple((key, ref) for key, ref in s.fields.items() if not key.startswith(("ind.", "goals.")))
    groups = {"income": v.PROJECT_PARTS} if model.kind == "project" else {"income": v.INCOME_PARTS,
                                                                          "spending": v.SPENDING_PARTS}
    splits = tuple((group, column, part, s.fields[key]) for group, parts in groups.items()
                   for column in v.FUND_COLUMNS for part in parts
                   if (key := v.split_key(group, part, column)) in s.fields)
    n = sum(1 for k in s.fields if (ind := v.parse_indicator_key(k)) and ind[1] == "name")
    indicators = tuple(tuple((col, s.fields[v.indicator_key(i, col)]) for col in v.INDICATOR_COLUMNS)
                       for i in range(n))
    plan = _TemplatePlan(plain, splits, indicators)
    if len(_PLANS) > 256:  # models are made once per process; a bound all the same
        _PLANS.clear()
    _PLANS[id(s)] = (s, len(s.fields), plan)
    return plan


_KEY_ROW = ("name", "target", "actual", "weight")


def read_template(book: Book, model: FormModel) -> FormRead:
    """Fields of a workbook made from jixiao's template ``model``: every cell is where the model put it."""
    s = model.main
    name = s.name
    values = book.sheets[name].values
    fr = FormRead("project" if model.kind == "project" else "dept", name, layout=model.kind)
    plan = _plan(model)
    for key, ref in plan.plain:
        fr.put(key, Cell(values.get(ref), name, ref))
    for group, column, part, ref in plan.splits:
        fr.add_split(group, column, part, Cell(values.get(ref), name, ref))
    for cells in plan.indicators:
        row = {col: Cell(values.get(ref), name, ref) for col, ref in cells}
        if all(row[k].blank for k in _KEY_ROW):
            continue
        fr.add_indicator(row)
    return fr
