"""Errors and findings.

Every message an officer reads is Chinese; every error also carries a stable
English code so that scripts and the JSON output can match on it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]


class JixiaoError(Exception):
    """Base error: a Chinese message plus an English code, with an optional location."""

    code = "jixiao.error"

    def __init__(self, message: str, *, code: str | None = None, file: str | None = None,
                 sheet: str | None = None, cell: str | None = None, key: str | None = None):
        self.message = message
        if code:
            self.code = code
        self.file, self.sheet, self.cell, self.key = file, sheet, cell, key
        super().__init__(str(self))

    def where(self) -> str:
        parts = [p for p in (self.file, self.sheet, self.cell) if p]
        if self.key:
            parts.append(self.key)
        return " › ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message} [{self.code}]" if where else f"{self.message} [{self.code}]"


class ProfileError(JixiaoError):
    """A rule profile is missing, malformed or names an unknown parent."""

    code = "profile.invalid"


class ValueReadError(JixiaoError):
    """An input value (amount, rate, indicator text) cannot be read."""

    code = "value.unreadable"


@dataclass
class Finding:
    """One thing a rule noticed about its inputs.

    Rules return findings instead of raising when they can still say something
    useful (a unit that disagrees, an actual value written as a target).
    The checker adds the workbook location later.
    """

    rule: str
    severity: Severity
    message: str
    expected: Any = None
    found: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = {"rule": self.rule, "severity": self.severity, "message": self.message,
             "expected": self.expected, "found": self.found}
        d.update(self.extra)
        return d


@dataclass(frozen=True)
class CellError:
    """An Excel error value in a cell (#VALUE!, #NAME?, #DIV/0! …)."""

    code: str

    def __str__(self) -> str:
        return self.code
