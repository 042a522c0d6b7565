"""The shipped templates: their kinds, titles and form models (writing one as .xlsx is :mod:`.writer`'s job;
checking a workbook needs only the models, so this module does not import openpyxl)."""
from __future__ import annotations

from typing import Any

from ..rules import error_codes
from .model import FormModel, dept_form, project_form
from .rubric import county_rubric, project_summary

error_codes({
    "template.engine": "没有这种计算方式",
    "template.unknown": "没有这种模板",
})

TEMPLATES: dict[str, tuple[str, object]] = {
    "dept-province": ("省级部门整体支出绩效自评表", lambda: dept_form("province")),
    "dept-city": ("市级部门整体支出绩效自评表", lambda: dept_form("city")),
    "dept-county": ("县级部门整体支出绩效自评表", lambda: dept_form("county")),
    "project": ("项目支出绩效自评表（财预〔2020〕10号）", lambda: project_form()),
    "county-rubric": ("县级部门整体支出绩效自评：附件1-2 基础数据表 + 附件1-1 评价指标表", lambda: county_rubric()),
    "project-summary": ("附件2-4 公共项目资金绩效自评评分汇总表", lambda: project_summary()),
}


ENGINES = ("udf", "native")


def template_model(kind: str, profile: str | None = None, engine: str = "udf", *, indicator_rows: int | None = None,
                   goal_rows: int | None = None) -> FormModel:
    """The form model of a shipped template: ``engine`` udf (JX_… functions of the add-in) or native
    (formulas every spreadsheet has, generated from the profile). ``indicator_rows``/``goal_rows``: the
    department and project forms with that many rows, as an officer who inserted or deleted rows has them."""
    from ..errors import JixiaoError

    if kind not in TEMPLATES:
        raise JixiaoError(f"没有模板“{kind}”，可用：{'、'.join(TEMPLATES)}", code="template.unknown")
    if engine not in ENGINES:
        raise JixiaoError(f"没有计算方式“{engine}”，可用：{'、'.join(ENGINES)}", code="template.engine")
    rows: dict[str, Any] = {k: n for k, n in (("indicator_rows", indicator_rows), ("goal_rows", goal_rows))
                            if n is not None}
    if profile is None and engine == "udf" and not rows:
        return TEMPLATES[kind][1]()  # type: ignore[operator]
    kw: dict[str, Any] = {} if profile is None else {"profile": profile}
    if rows and kind in ("dept-province", "dept-city", "dept-county", "project"):
        kw |= rows
    builders = {"dept-province": lambda: dept_form("province", engine=engine, **kw),
                "dept-city": lambda: dept_form("city", engine=engine, **kw),
                "dept-county": lambda: dept_form("county", engine=engine, **kw),
                "project": lambda: project_form(engine=engine, **kw),
                "county-rubric": lambda: county_rubric(engine=engine, **kw),
                "project-summary": lambda: project_summary(engine=engine, **kw)}
    return builders[kind]()
