"""The outline of a 自评报告 as data: sections, their headings, which may not be left empty, and what fills them.

An outline is a TOML file (``jixiao/reports/outlines/<kind>.toml``, or a province's own file), read once; the
writer follows it and the reader checks a report's sections against it.

Example:
    >>> o = load_outline("dept")
    >>> [s.label for s in o.sections][6]
    '六、部门整体支出绩效情况'
    >>> o.section_for("六、部门整体支出绩效情况").required
    True
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..errors import JixiaoError
from ..rules import error_codes
from ..values import compact

error_codes({"report.outline_invalid": "报告提纲无效"})

FILLS = ("summary", "funds", "three_public", "execution", "indicators", "problems", "improvements", "result")
"""What the writer can fill from the form; an outline's ``fill`` names one of these."""


@dataclass(frozen=True)
class Block:
    fill: str | None = None  # one of FILLS
    placeholder: str | None = None  # what the unit is to write here (shown highlighted)


@dataclass(frozen=True)
class Section:
    no: str  # 一, 二 … ("" for an unnumbered section such as 自评结论)
    heading: str
    required: bool
    blocks: tuple[Block, ...]
    aliases: tuple[str, ...] = ()  # other headings units give this section (基本情况 for 部门（单位）基本情况)

    @property
    def label(self) -> str:
        """The heading as the report prints it: 六、部门整体支出绩效情况."""
        return f"{self.no}、{self.heading}" if self.no else self.heading


@dataclass(frozen=True)
class Typography:
    """The page, fonts and sizes the writer uses: ``outlines/typography.toml``, overridden by an outline's own
    ``[typography]`` table."""

    page_mm: tuple[float, float]  # width, height
    margins_mm: dict[str, float]  # top, bottom, left, right
    body_font: str
    heading_font: str
    subheading_font: str
    title_font: str
    body_pt: float
    title_pt: float
    line_pt: float


@dataclass(frozen=True)
class Outline:
    kind: str  # dept | project
    title: str  # with {unit} {year} {project}
    sections: tuple[Section, ...]
    source: str
    typography: Typography = field(default_factory=lambda: typography())

    def section_for(self, heading: str) -> Section | None:
        """The outline's section a report heading is (by its text, whatever its numbering)."""
        t = compact(heading)
        bare = re.sub(r"^[一二三四五六七八九十]{1,3}[、.．]", "", t).rstrip("。.")
        for s in self.sections:
            if compact(s.heading) and compact(s.heading) in t:
                return s
        for s in self.sections:
            if bare in (compact(a) for a in s.aliases):
                return s
        return None


def _typography(data: dict) -> Typography:
    margins = data["margins_mm"]
    missing = {"top", "bottom", "left", "right"} - set(margins)
    if missing:
        raise ValueError(f"margins_mm 缺少 {'、'.join(sorted(missing))}")
    values = {f.name: data[f.name] for f in fields(Typography)}
    values["page_mm"] = tuple(float(x) for x in data["page_mm"])
    values["margins_mm"] = {k: float(margins[k]) for k in ("top", "bottom", "left", "right")}
    for k in ("body_pt", "title_pt", "line_pt"):
        values[k] = float(values[k])
    return Typography(**values)


@lru_cache(maxsize=1)
def _default_typography() -> dict:
    return tomllib.loads((resources.files("jixiao.reports.outlines") / "typography.toml").read_text(encoding="utf-8"))


def typography(overrides: dict | None = None) -> Typography:
    """The shared typography (``outlines/typography.toml``) with an outline's ``[typography]`` keys over it."""
    data = dict(_default_typography())
    for k, x in (overrides or {}).items():
        if k not in {f.name for f in fields(Typography)}:
            raise ValueError(f"未知的版式项：{k}")
        data[k] = {**data[k], **x} if k == "margins_mm" else x
    return _typography(data)


def outline_path(kind: str) -> Path:
    return Path(str(resources.files("jixiao.reports.outlines") / f"{kind}.toml"))


@lru_cache(maxsize=32)
def load_outline(name: str) -> Outline:
    """An outline by kind (``dept``, ``project``) or a TOML file's path."""
    path = Path(name) if name.endswith(".toml") else outline_path(name)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        sections = []
        for s in data["sections"]:
            blocks = tuple(Block(b.get("fill"), b.get("placeholder")) for b in s.get("blocks", ()))
            for b in blocks:
                if b.fill is not None and b.fill not in FILLS:
                    raise ValueError(f"未知的 fill：{b.fill}（可用：{'、'.join(FILLS)}）")
            sections.append(Section(str(s.get("no", "")), str(s["heading"]), bool(s.get("required", False)), blocks,
                                    tuple(str(a) for a in s.get("aliases", ()))))
        return Outline(str(data["kind"]), str(data["title"]), tuple(sections), str(path),
                       typography(data.get("typography")))
    except (OSError, ValueError, KeyError, TypeError, tomllib.TOMLDecodeError) as e:
        raise JixiaoError(f"报告提纲无法读取：{e}", code="report.outline_invalid", file=str(path)) from None
