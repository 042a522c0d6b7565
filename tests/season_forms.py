"""Forms of a named unit and year for the season's tests: seed 000's bureau layout with typed scores."""
from __future__ import annotations

import random
from pathlib import Path


def unit_form(unit: str, year: int = 2024, seed: int = 1, wrong_sum: bool = False) -> bytes:
    """A 部门整体支出绩效自评表 of ``unit``; ``wrong_sum``: its 合计 row 5 points off (an error)."""
    from jixiao.form import DeptForm, score_form
    from jixiao.samples.submissions import bureau_bytes, random_dept

    form = random_dept(random.Random(seed))
    form["unit"], form["year"] = unit, year
    clean = score_form(DeptForm.from_dict(form), "hunan-dept-2024")
    reported = {"exec_score": clean.exec_score, "sum": clean.sum_row + (5 if wrong_sum else 0)}
    for i, s in enumerate(clean.indicators):
        reported[f"score.{i}"] = s.score
    return bureau_bytes(form, reported)


def unit_report(form: bytes, folder: Path, name: str = "自评报告.docx") -> bytes:
    """The 自评报告 jixiao drafts from ``form`` (its numbers all the form's), as bytes."""
    from jixiao.reports import report

    folder.mkdir(parents=True, exist_ok=True)
    src = folder / "form.xlsx"
    src.write_bytes(form)
    return report(src, folder / name).read_bytes()
