"""A batch's counts, gathered one result at a time: what the summaries of every report show.

``jixiao check`` adds each result as it arrives, so the summary, the HTML page's cards and charts and the
``--json`` summary need no second look at the results (which may be on disk, :mod:`.kept`).

Example:
    >>> from jixiao.errors import Finding
    >>> from jixiao.checking.result import FileResult
    >>> t = Tally([FileResult("a.xlsx", total=96, grade="优", route="template",
    ...                       findings=[Finding("total.total_mismatch", "error", "总分不符", 96, 97)]),
    ...            FileResult("b.xlsx", total=88, grade="良", route="values")])
    >>> s = t.summary()
    >>> s["workbooks"], s["files_with_errors"], s["findings"]["error"], s["mean_total"], t.has_errors
    (2, 1, 1, 92.0, True)
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from .result import FileResult

NOT_CHECKED_RULES = frozenset({"input.own_report", "input.not_workbook", "input.special_file", "input.too_deep",
                               "archive.nested"})  # a file listed with why it was not checked


def not_checked(r: FileResult) -> bool:
    """A file of a folder or archive the batch lists but did not check (not a workbook, jixiao's own report…)."""
    return any(f.rule in NOT_CHECKED_RULES for f in r.findings)


def _by_count(c: Counter[str]) -> dict[str, int]:
    """Most frequent first, ties by name: the same whatever order the results arrived in."""
    return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))


class Tally:
    """Counts of the results added so far (files, findings by severity and rule, grades, routes), the totals and
    execution rates the charts draw, and an example message of each rule (the HTML page's, from the first file
    by name that has it). Nothing it gives depends on the order results were added in: workers finish in any
    order."""

    def __init__(self, results: Iterable[FileResult] = ()):
        self.files = self.skipped = self.reports = self.with_errors = self.unreadable = 0
        self.severities: Counter[str] = Counter()
        self.rules: Counter[str] = Counter()
        self.grades: Counter[str] = Counter()
        self.routes: Counter[str] = Counter()
        self.totals: list[float] = []
        self.rates: list[float] = []
        self._examples: dict[str, tuple[str, str]] = {}  # rule → (file, message)
        for r in results:
            self.add(r)

    def add(self, r: FileResult) -> None:
        self.files += 1
        skipped = not_checked(r)
        self.skipped += skipped
        self.reports += r.route == "report" and not skipped
        self.unreadable += bool(r.error)
        errors = False
        for f in r.findings:
            self.severities[f.severity] += 1
            self.rules[f.rule] += 1
            seen = self._examples.get(f.rule)
            if seen is None or r.file < seen[0]:
                self._examples[f.rule] = (r.file, f.message)
            errors = errors or f.severity == "error"
        self.with_errors += errors
        if r.grade:
            self.grades[r.grade] += 1
        if r.route:
            self.routes[r.route] += 1
        if r.total is not None:
            self.totals.append(r.total)
        if r.exec_rate is not None:
            self.rates.append(r.exec_rate)

    @property
    def examples(self) -> dict[str, str]:
        return {rule: message for rule, (_, message) in self._examples.items()}

    @property
    def has_errors(self) -> bool:
        return self.severities["error"] > 0

    def summary(self) -> dict[str, Any]:
        """``files`` is every listed file; ``workbooks``, ``reports`` and ``not_checked`` split it."""
        return {
            "files": self.files,
            "workbooks": self.files - self.skipped - self.reports,
            "reports": self.reports,
            "not_checked": self.skipped,
            "files_with_errors": self.with_errors,
            "unreadable": self.unreadable,
            "findings": {k: self.severities.get(k, 0) for k in ("error", "warning", "info")},
            "rules": _by_count(self.rules),
            "grades": _by_count(self.grades),
            "mean_total": round(sum(self.totals) / len(self.totals), 2) if self.totals else None,
            "routes": _by_count(self.routes),
        }
