"""A template filled with a form's data: input cells only, formulas left as they are.

The form is the JSON of ``jixiao/samples/hunan-2024-dept.json`` (see
:meth:`jixiao.form.DeptForm.from_dict`): unit, year, funds (with their splits by
column) and indicator rows. Optional keys fill the other inputs of a layout:
``dept_name``, ``project_name``, ``department``, ``goals`` ([{"target", "actual"}]),
``footer`` ({"head", "preparer", "phone", "date"}).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import vocabulary
from ..errors import JixiaoError
from ..rules import error_codes
from .model import FormModel

error_codes({"form.unfit": "表单与模板不符"})

COLUMNS = vocabulary.COLUMN_CODE
ROW_KEYS = ("level1", "level2", "name", "target", "actual", "weight", "reason", "grade", "judged")


def load_form(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise JixiaoError(f"无法读取表单数据：{e}", code="form.unreadable", file=str(p)) from None
    if not isinstance(data, dict) or not isinstance(data.get("funds"), dict):
        raise JixiaoError("表单数据应为对象，且含 funds", code="form.unreadable", file=str(p))
    return data


def form_values(form: dict[str, Any], model: FormModel) -> dict[str, Any]:
    """Field key → value for every input of ``model`` the form gives."""
    fields = {k for s in model.sheets for k in s.fields}
    fu = form.get("funds", {})
    values: dict[str, Any] = {"year": form.get("year"), "unit": form.get("unit"),
                         "dept_name": form.get("dept_name", form.get("unit")),
                         "project_name": form.get("project_name"), "department": form.get("department"),
                         "funds.initial_budget": fu.get("initial_budget"), "funds.budget": fu.get("budget"),
                         "funds.executed": fu.get("executed")}
    if fu.get("weight") is not None:
        values["funds.weight"] = fu["weight"]
    for group in ("income", "spending"):
        for column, parts in (fu.get(group) or {}).items():
            letter = COLUMNS.get(column)
            if letter is None:
                raise JixiaoError(f"资金列“{column}”不是 年初预算数/全年预算数/全年执行数", code="form.unreadable")
            for part, amount in parts.items():
                key = vocabulary.split_key(group, part.removeprefix("其中："), column)
                if key not in fields and amount is not None:
                    raise JixiaoError(f"模板 {model.kind} 没有资金分项“{part}”", code="form.unfit")
                values[key] = amount
    rows = form.get("indicators", [])
    capacity = sum(1 for k in fields if k.startswith("ind.") and k.endswith(".score"))
    if len(rows) > capacity:
        raise JixiaoError(f"表单有 {len(rows)} 个绩效指标，模板 {model.kind} 只有 {capacity} 行；"
                          "请先在模板中增加指标行", code="form.unfit")
    for i, row in enumerate(rows):
        for k in ROW_KEYS:
            values[f"ind.{i}.{k}"] = row.get(k)
    for i, goal in enumerate(form.get("goals", [])):
        values[f"goals.{i}.target"], values[f"goals.{i}.actual"] = goal.get("target"), goal.get("actual")
    for k, val in (form.get("footer") or {}).items():
        values[f"footer.{k}"] = val
    return {k: val for k, val in values.items() if k in fields and val not in (None, "")}


def fill_workbook(model: FormModel, form: dict[str, Any]):
    """The model's workbook with the form's values typed into its input cells."""
    from .writer import build_workbook, fit_heights

    wb = build_workbook(model)
    for key, value in form_values(form, model).items():
        sheet, ref = model.field(key)
        cell = wb[sheet][ref]
        if cell.protection.locked:
            raise JixiaoError(f"{key}（{ref}）不是填写单元格", code="form.unfit")
        cell.value = value
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # '=24期' is a value, not a formula
    for s in model.sheets:
        fit_heights(wb[s.name], s)  # rows written here already fit their text on paper
    return wb


def fill_model(kind: str, form: dict[str, Any], profile: str | None = None, engine: str = "udf") -> FormModel:
    """The template's model, with as many 年度总体目标 rows as the form has goals (as an officer inserts rows)."""
    from .model import dept_form, project_form
    from .writer import template_model

    model = template_model(kind, profile, engine)
    goals = len(form.get("goals") or [])
    have = sum(1 for k in model.main.fields if k.startswith("goals.") and k.endswith(".target"))
    if goals > have and kind.startswith("dept-"):
        kw: dict[str, Any] = {} if profile is None else {"profile": profile}
        model = dept_form(kind.removeprefix("dept-"), goal_rows=goals, engine=engine, **kw)
    elif goals > have and kind == "project":
        model = project_form(profile or "national-2020", goal_rows=goals, engine=engine)
    return model


def write_filled(kind: str, form: dict[str, Any] | str | Path, out: str | Path, profile: str | None = None,
                 engine: str = "udf") -> Path:
    """Write ``kind``'s template filled with ``form`` (a dict or a JSON file) to ``out`` (a file path).

    A form with more goals than the template has rows gets more rows; more indicator rows than the
    template has is refused (``form.unfit``)."""
    from .writer import _fix_zip_times, atomic_save

    data = form if isinstance(form, dict) else load_form(form)
    model = fill_model(kind, data, profile, engine)
    path = atomic_save(fill_workbook(model, data), out)
    _fix_zip_times(path, model)
    return path
