"""Checking submitted workbooks: read, recompute, apply the rules once, locate every finding, report.

:func:`check` is what ``jixiao check`` runs.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from ..profile import Profile
from .result import CheckResult, FileResult


def check(paths: Iterable[str | Path], profile: str | Profile | None = None, jobs: int = 1,
          progress: Callable[[FileResult], None] | None = None, pairs: dict[str, str] | None = None) -> CheckResult:
    """Check workbooks, folders (recursively) and .zip archives, as ``jixiao check`` does.

    ``profile`` is the bureau's rule profile (name, file or :class:`~jixiao.profile.Profile`); None lets each
    workbook say which it was scored with. ``jobs`` worker processes share the files. 自评报告 (.docx) are
    checked against their forms; ``pairs`` maps a report's path to its form's (else its folder's form).
    """
    from . import batch

    return CheckResult(batch.run(batch.collect(paths, pairs), profile, jobs=jobs, progress=progress))


__all__ = ["check", "CheckResult", "FileResult"]
