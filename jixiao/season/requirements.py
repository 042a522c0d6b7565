"""What a round says each unit owes, and per unit what is in and what is missing.

A round names document kinds (``data/season.toml`` [documents]): 整体支出自评表 ``dept``, 基础数据表 ``basic``,
one 项目支出自评表 ``project`` per project listed for the unit (:func:`read_project_list`), 自评报告 ``report``.
Each submitted file is classified by what the checker read (:func:`classify`), not by what it is called.
"""
from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import JixiaoError
from ..vocabulary import REPORT_SUFFIXES
from ..rules import error_codes
from ..values import compact
from . import settings

error_codes({"season.documents": "批次要求的材料无效", "season.project_list": "项目清单无法读取"})

DEPT, BASIC, PROJECT, REPORT = "dept", "basic", "project", "report"
BASIC_NAME = "基础数据"  # a workbook whose name says it is the 基础数据表 (as jixiao.reports pairs them)
UNIT_HEADERS = ("单位名称", "预算单位", "填报单位", "部门名称", "单位")
PROJECT_HEADERS = ("项目名称", "项目")
# a document's state on the board, worst first after 未提交
MISSING, CHECKING, ERRORS, WARNINGS, PASSED = "未提交", "检查中", "有错误", "有警告", "通过"


def labels() -> dict[str, str]:
    """Each document kind and its Chinese name, in the board's order."""
    return dict(settings()["documents"])


def documents_of(raw: Iterable[object]) -> list[str]:
    """The document kinds a round requires, in the board's order; ValueError (Chinese) for an unknown one."""
    keys = [str(k).strip() for k in raw if str(k).strip()]
    bad = [k for k in keys if k not in labels()]
    if bad:
        raise ValueError(f"没有这种材料：{'、'.join(bad)}（可选：{'、'.join(labels().values())}）")
    return [k for k in labels() if k in keys]


@dataclass(frozen=True)
class Owed:
    """One document a unit owes: its kind, and for a project form the project (None: any one project form)."""
    kind: str
    project: str | None = None

    @property
    def label(self) -> str:
        name = labels()[self.kind]
        return f"{name}（{self.project}）" if self.project else name


def owed(documents: list[str], projects: list[str] | None = None) -> list[Owed]:
    """What a unit owes: each required kind once, a project form per listed project (one, unnamed, when the
    round requires project forms and lists none for the unit)."""
    out = []
    for k in documents:
        if k == PROJECT:
            out += [Owed(PROJECT, p) for p in projects or []] or [Owed(PROJECT)]
        else:
            out.append(Owed(k))
    return out


def classify(filename: str, result: dict[str, Any] | None) -> tuple[str | None, list[str]]:
    """What a submitted file is, from what the checker read: (kind, projects it holds) — kind None when it is
    none of the documents (or not checked yet; a report is known by its suffix)."""
    name = Path(filename).name
    if name.lower().endswith(REPORT_SUFFIXES) or (result or {}).get("kind") == "report":
        return REPORT, []
    if result is None:
        return None, []
    forms = result.get("forms") or []
    kinds = [f.get("kind") for f in forms] or [result.get("kind")]
    if DEPT in kinds:
        return DEPT, []
    if PROJECT in kinds:
        return PROJECT, [str(f["project"]) for f in forms if f.get("kind") == PROJECT and f.get("project")]
    if result.get("kind") == "county-rubric" or BASIC_NAME in compact(Path(name).stem):
        return BASIC, []
    return None, []


def file_state(sub: Any) -> str:
    """One file's state from its check (``status``, ``n_error``, ``n_warning`` as on a submission)."""
    if sub.status in ("queued", "checking"):
        return CHECKING
    if sub.n_error:
        return ERRORS
    return WARNINGS if sub.n_warning else PASSED


@dataclass
class DocStatus:
    owed: Owed
    files: list[Any]  # the latest versions that are this document (none: 未提交)
    state: str


def _matches(o: Owed, kind: str | None, projects: list[str], filename: str) -> bool:
    if kind != o.kind:
        return False
    if o.project is None:
        return True
    p = compact(o.project)
    return any(p == compact(x) or p in compact(x) for x in projects) or p in compact(Path(filename).stem)


def unit_documents(owes: list[Owed], latest: Iterable[Any]) -> list[DocStatus]:
    """Each owed document with the latest files that are it (``filename``, ``result``, ``status``, ``n_error``,
    ``n_warning``) and its state: 未提交, else the worst of its files'. A project form naming no listed
    project counts for a listed project still missing."""
    files = [(s, *classify(s.filename, s.result)) for s in latest]
    out = [DocStatus(o, [s for s, k, ps in files if _matches(o, k, ps, s.filename)], MISSING) for o in owes]
    used = {id(s) for d in out for s in d.files}
    for d in out:  # project forms that name no listed project fill the listed projects still missing
        if not d.files and d.owed.kind == PROJECT and d.owed.project is not None:
            spare = next((s for s, k, _ in files if k == PROJECT and id(s) not in used), None)
            if spare is not None:
                d.files.append(spare)
                used.add(id(spare))
    order = [CHECKING, ERRORS, WARNINGS, PASSED]
    for d in out:
        if d.files:
            d.state = min((file_state(s) for s in d.files), key=order.index)
    return out


def missing(docs: list[DocStatus]) -> list[str]:
    """The labels of the documents not in."""
    return [d.owed.label for d in docs if d.state == MISSING]


def complete(docs: list[DocStatus]) -> bool:
    """A unit is complete when every owed document is in (whatever its check says)."""
    return all(d.state != MISSING for d in docs)


def _header(rows: list[tuple]) -> tuple[int, int, int]:
    for i, row in enumerate(rows[:10]):
        cells = [compact(c) if c is not None else "" for c in row]
        u = next((j for h in UNIT_HEADERS for j, c in enumerate(cells) if c == h), None)
        p = next((j for h in PROJECT_HEADERS for j, c in enumerate(cells) if c == h), None)
        if u is not None and p is not None:
            return i, u, p
    raise JixiaoError("项目清单的前 10 行中找不到“单位名称”和“项目名称”两列的表头", code="season.project_list")


def read_project_list(source: str | Path | bytes) -> dict[str, list[str]]:
    """Projects per unit from an .xlsx list (first sheet), read by its header labels 单位名称 / 项目名称
    (or 预算单位, 填报单位; 项目); a unit's name left blank under a merged cell is the one above it."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(source) if isinstance(source, bytes) else source, read_only=True,
                           data_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the same answer to the officer
        raise JixiaoError(f"项目清单无法打开（应为 .xlsx）：{type(e).__name__}", code="season.project_list") from e
    try:
        rows = [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()
    start, uc, pc = _header(rows)
    out: dict[str, list[str]] = {}
    unit = ""
    for row in rows[start + 1:]:
        u = str(row[uc]).strip() if uc < len(row) and row[uc] is not None else ""
        p = str(row[pc]).strip() if pc < len(row) and row[pc] is not None else ""
        unit = u or unit
        if unit and p and p not in out.setdefault(unit, []):
            out[unit].append(p)
    return out


def projects_of(project_list: dict[str, list[str]], unit: str) -> list[str]:
    """The projects listed for ``unit`` (names compared as labels are: spaces and widths ignored)."""
    for u, ps in project_list.items():
        if compact(u) == compact(unit):
            return ps
    return []
