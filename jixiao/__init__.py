"""jixiao · 绩效自评助手 — score and check budget-performance self-evaluation forms.

The public API is the rules, each written once::

    >>> import jixiao
    >>> round(jixiao.exec_rate(38479.52, 32521.07), 4)
    0.8452
    >>> jixiao.exec_score(0.8452, "hunan-dept-2024")
    9.0
"""
from .control import control_rate, control_score, payment_progress_score
from .deviation import IndicatorScore, indicator_kind, indicator_score, infer_grade
from .errors import Finding, JixiaoError, ProfileError, ValueReadError
from .execution import cap_total, exec_rate, exec_score
from .form import DeptForm, FormScore, score_form
from .funds import check_split
from .profile import Profile, load_profile, shipped_profiles
from .totals import check_weights, grade, split_label, sum_by_level
from .values import Measure, Qualitative, Unreadable, parse_value

__version__ = "0.1.0"


def check(paths, profile=None, jobs: int = 1, progress=None):  # type: ignore[no-untyped-def]
    """Check workbooks, folders and .zip archives as ``jixiao check`` does; see :func:`jixiao.checking.check`.

    Returns a :class:`~jixiao.checking.result.CheckResult`: ``.files`` (one result per workbook),
    ``.to_json()`` (what ``--json`` prints) and ``.frame()`` (every finding as a pandas row, to pivot
    by unit, rule and year in a notebook).
    """
    from .checking import check as run_check

    return run_check(paths, profile, jobs, progress)

def report(form, out=None, profile=None, outline=None, basic=None):  # type: ignore[no-untyped-def]
    """Write the 自评报告 draft (.docx) of a workbook, as ``jixiao report`` does; see :func:`jixiao.reports.report`.

    Returns the path written (default: 〈workbook〉-自评报告.docx next to the workbook).
    """
    from .reports import report as write

    return write(form, out, profile, outline, basic)


__all__ = [
    "control_rate", "control_score", "payment_progress_score", "IndicatorScore", "indicator_kind",
    "indicator_score", "infer_grade", "Finding", "JixiaoError", "ProfileError", "ValueReadError",
    "cap_total", "exec_rate", "exec_score", "DeptForm", "FormScore", "score_form", "check_split",
    "Profile", "load_profile", "shipped_profiles", "check_weights", "grade", "split_label",
    "sum_by_level", "Measure", "Qualitative", "Unreadable", "parse_value", "__version__", "check", "report",
]
