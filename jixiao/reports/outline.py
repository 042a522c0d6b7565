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

import tomllib
from dataclasses import dataclass
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

    @property
    def label(self) -> str:
        """The heading as the report prints it: 六、部门整体支出绩效情况."""
        return f"{self.no}、{self.heading}" if self.no else self.heading


@dataclass(frozen=True)
class Outline:
    kind: str  # dept | project
    title: str  # with {unit} {year} {project}
    sections: tuple[Section, ...]
    source: str

    def section_for(self, heading: str) -> Section | None:
        """The outline's section a report heading is (by its text, whatever its numbering)."""
        t = compact(heading)
        for s in self.sections:
            if compact(s.heading) and compact(s.heading) in t:
                return s
        return None


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
            sections.append(Section(str(s.get("no", "")), str(s["heading"]), bool(s.get("required", False)), blocks))
        return Outline(str(data["kind"]), str(data["title"]), tuple(sections), str(path))
    except (OSError, ValueError, KeyError, TypeError, tomllib.TOMLDecodeError) as e:
        raise JixiaoError(f"报告提纲无法读取：{e}", code="report.outline_invalid", file=str(path)) from None
