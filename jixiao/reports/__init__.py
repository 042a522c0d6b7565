"""自评报告: drafts written from a form, and reports read and checked against their forms.

The data flows as everywhere in jixiao: workbook → reader (the checker's) → form values → rules →
:mod:`~jixiao.reports.facts` → the report. Modules, one job each:

* :mod:`.outline`  the outline of each kind as data (``outlines/*.toml``);
* :mod:`.facts`    what a form says that a report repeats (each number with its key and cell);
* :mod:`.writer`   the .docx draft;
* :mod:`.reader`   a .docx read into sections, paragraphs and the numbers they state;
* :mod:`.compare`  a report's numbers against its form and against themselves: ``report.*`` findings.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import JixiaoError
from ..profile import Profile
from ..rules import error_codes

if TYPE_CHECKING:
    from .facts import FormFacts

error_codes({"report.output_invalid": "报告输出路径无效"})


def default_out(form: str | Path) -> Path:
    """Where a report is written when no path is given: next to the workbook, 〈name〉-自评报告.docx."""
    p = Path(form)
    return p.with_name(f"{p.stem}-自评报告.docx")


def report(form: str | Path, out: str | Path | None = None, profile: str | Profile | None = None,
           outline: str | None = None, basic: str | Path | None = None) -> Path:
    """Write the 自评报告 draft of the workbook ``form`` to ``out`` (.docx); returns the path written.

    ``profile``: the bureau's rule profile (None: the one the workbook says); ``outline``: a kind (``dept``,
    ``project``) or an outline TOML file (None: the form's kind); ``basic``: the unit's 基础数据表 workbook,
    whose 三公经费 (budget, final, rate by kind) section 二 gives (None: the form's own workbook, if it holds one).
    Never writes over the input.
    """
    return draft(form, out, profile, outline, basic)[0]


def draft(form: str | Path, out: str | Path | None = None, profile: str | Profile | None = None,
          outline: str | None = None, basic: str | Path | None = None) -> tuple[Path, "FormFacts"]:
    """:func:`report`, also giving the facts the draft was written from (its 自评得分 and 等级 among them)."""
    from ..checking.checker import check_file
    from .facts import basic_facts, form_facts

    out = Path(out) if out is not None else default_out(form)
    _refuse(out, [form] + ([basic] if basic else []))
    res = check_file(str(form), profile, keep_form=True)
    facts = form_facts(res)
    facts.three_public = basic_facts(basic if basic is not None else form, required=basic is not None)
    return report_from(facts, out, outline, [form] + ([basic] if basic else [])), facts


def _refuse(out: Path, inputs: list[str | Path]) -> None:
    from ..checking.batch import output_clash

    if out.suffix.lower() != ".docx":
        raise JixiaoError("报告应写成 .docx 文件", code="report.output_invalid", file=str(out))
    clash = output_clash(out, inputs)
    if clash:
        raise JixiaoError(clash[1] + "；请换一个输出路径", code=clash[0], file=str(out))


def report_from(facts: "FormFacts", out: str | Path, outline: str | None = None,
                inputs: list[str | Path] | tuple[str | Path, ...] = ()) -> Path:
    """Write the draft of a form already read (``facts``) to ``out``, atomically, never over one of ``inputs``."""
    from .outline import load_outline
    from .writer import write_report

    out = Path(out)
    _refuse(out, list(inputs))
    return write_report(facts, load_outline(outline or facts.kind), out)


__all__ = ["report", "report_from", "default_out"]
