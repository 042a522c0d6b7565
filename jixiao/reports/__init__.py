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

from ..errors import JixiaoError
from ..profile import Profile
from ..rules import error_codes

error_codes({"report.output_invalid": "报告输出路径无效"})


def default_out(form: str | Path) -> Path:
    """Where a report is written when no path is given: next to the workbook, 〈name〉-自评报告.docx."""
    p = Path(form)
    return p.with_name(f"{p.stem}-自评报告.docx")


def report(form: str | Path, out: str | Path | None = None, profile: str | Profile | None = None,
           outline: str | None = None) -> Path:
    """Write the 自评报告 draft of the workbook ``form`` to ``out`` (.docx); returns the path written.

    ``profile``: the bureau's rule profile (None: the one the workbook says); ``outline``: a kind (``dept``,
    ``project``) or an outline TOML file (None: the form's kind). Never writes over the input.
    """
    from ..checking.batch import output_clash
    from ..checking.checker import check_file
    from .facts import form_facts
    from .outline import load_outline
    from .writer import write_report

    out = Path(out) if out is not None else default_out(form)
    if out.suffix.lower() != ".docx":
        raise JixiaoError("报告应写成 .docx 文件", code="report.output_invalid", file=str(out))
    clash = output_clash(out, [form])
    if clash:
        raise JixiaoError(clash[1] + "；请换一个输出路径", code=clash[0], file=str(out))
    res = check_file(str(form), profile, keep_form=True)
    facts = form_facts(res)
    return write_report(facts, load_outline(outline or facts.kind), out)


__all__ = ["report", "default_out"]
