"""Filling templates the way an officer does: values typed into input cells only, through openpyxl."""
from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

from openpyxl import Workbook, load_workbook

from jixiao.layouts.model import FormModel
from jixiao.layouts.writer import build_workbook

SEED000 = json.loads((resources.files("jixiao.samples") / "hunan-2024-dept.json").read_text("utf-8"))
SEED002 = json.loads((resources.files("jixiao.samples") / "county-2022-basic.json").read_text("utf-8"))


def fill(model: FormModel, values: dict[str, object], path: Path) -> Path:
    """Write the model's template to ``path`` and type ``values`` (field key → value) into it.

    Refuses to write into anything but an input cell, as sheet protection would.
    """
    build_workbook(model).save(path)
    wb = load_workbook(path)
    for key, value in values.items():
        sheet, ref = model.field(key)
        ws = wb[sheet]
        assert ws[ref].protection.locked is False, f"{key} ({ref}) is not an input cell"
        ws[ref] = value
    wb.save(path)
    return path


def seed000_values() -> dict[str, object]:
    d = SEED000
    fu = d["funds"]
    v: dict[str, object] = {"year": d["year"], "unit": d["unit"], "dept_name": d["unit"],
                            "funds.initial_budget": fu["initial_budget"], "funds.budget": fu["budget"],
                            "funds.executed": fu["executed"]}
    for name, amount in fu["income"]["全年预算数"].items():
        if amount is not None:
            v[f"funds.income.{name}.E"] = amount
    for name, amount in fu["spending"]["全年执行数"].items():
        v[f"funds.spending.{name}.F"] = amount
    for i, row in enumerate(d["indicators"]):
        for k in ("level1", "level2", "name", "target", "actual", "weight"):
            v[f"ind.{i}.{k}"] = row[k]
    return v


def seed002_values() -> dict[str, object]:
    b = SEED002
    return {
        "unit": b["unit"], "year": b["year"],
        "staff.authorized": b["authorized_staff"], "staff.actual": b["staff"],
        "three_public.vehicle_running.prev_final": 717.8, "three_public.reception.prev_final": 1.75,
        "three_public.vehicle_running.prev_budget": 720, "three_public.reception.prev_budget": 2,
        "three_public.vehicle_running.budget": 1800, "three_public.reception.budget": 2,
        "three_public.vehicle_purchase.final": 0, "three_public.vehicle_running.final": 612.54,
        "three_public.abroad.final": 0, "three_public.reception.final": 1.22,
        "project.operation.prev_final": 14160.10, "project.operation.budget": 16640.91,
        "project.operation.final": 12819.60,
        "public_expense.prev_final": 204.33, "public_expense.budget": 213.94, "public_expense.final": 195.57,
        "procurement.prev_final": 8368.85, "procurement.budget": 240, "procurement.final": 439.27,
        "dept_spending.budget": 16640.91, "dept_spending.final": 12819.60,
        "budget_adjustment": 3537.37,
    }


def save_rows(folder: Path, name: str, rows_by_sheet: dict[str, list[list]]) -> str:
    """A workbook of plain rows per sheet, as a bureau's own layout is typed; returns its path."""
    wb = Workbook()
    wb.remove(wb.active)
    for sheet, rows in rows_by_sheet.items():
        ws = wb.create_sheet(sheet)
        for row in rows:
            ws.append(row)
    path = folder / name
    wb.save(path)
    return str(path)


def copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


def project_values() -> dict[str, object]:
    """A small 项目支出 form: one quantitative miss (9 of 10 万平方米), one qualitative, one satisfaction row."""
    return {"year": 2024, "project_name": "机关院落物业管理", "unit": "机关事务中心", "funds.budget": 100,
            "funds.executed": 92,
            "ind.0.level1": "产出指标", "ind.0.level2": "数量指标", "ind.0.name": "保洁面积",
            "ind.0.target": "≥10万平方米", "ind.0.actual": "9万平方米", "ind.0.weight": 50,
            "ind.1.level1": "效益指标", "ind.1.level2": "社会效益指标", "ind.1.name": "环境改善",
            "ind.1.target": "明显改善", "ind.1.actual": "明显改善", "ind.1.weight": 30,
            "ind.2.level1": "满意度指标", "ind.2.level2": "服务对象满意度指标", "ind.2.name": "满意度",
            "ind.2.target": "≥90%", "ind.2.actual": "95%", "ind.2.weight": 10}


def as_saved_by_excel(src, dst, values=None, addin_path=None):
    """Write ``dst``: ``src`` as Excel saves it with the add-in loaded (``[1]!JX_…``, cached ``values``)."""
    from jixiao.samples.workbooks import ADDIN_PATH, excel_bytes

    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(excel_bytes(Path(src).read_bytes(), values, addin_path or ADDIN_PATH))
    return dst
