"""Errors and findings.

Every message an officer reads is Chinese; every error also carries a stable
English code so that scripts and the JSON output can match on it.
"""
from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Literal

from .rules import error_codes

error_codes({
    "jixiao.error": "出错",
    "profile.invalid": "规则配置无效",
    "value.unreadable": "数值无法读取",
})


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
    """One thing a rule noticed: the only finding type, from the rules to the reports.

    A rule fills what it knows: its ``rule`` id (declared in :mod:`jixiao.rules`),
    severity, a Chinese message, expected and found values, and — when it knows
    which part of the form it is about — a ``field`` key of the form vocabulary
    (:mod:`jixiao.vocabulary`, e.g. ``"ind.3.score"``). The checker locates the
    field in the workbook it read and fills ``sheet`` and ``cell``.

    Example:
        >>> f = Finding("indicator.score_over_weight", "error", "得分 12 超过分值 10", expected=10, found=12,
        ...             field="ind.0.score")
        >>> f.at("自评表", "H20").to_dict()["cell"]
        'H20'
    """

    rule: str
    severity: Severity
    message: str
    expected: Any = None
    found: Any = None
    field: str | None = None  # what the finding is about, as a field key
    context: str | None = None  # a name for people: the indicator, or the field's title
    sheet: str | None = None
    cell: str | None = None
    extra: dict[str, Any] = dataclass_field(default_factory=dict)  # rule details (group, column, level …)

    def at(self, sheet: str | None, cell: str | None) -> "Finding":
        """The same finding, located in a workbook."""
        self.sheet, self.cell = sheet, cell
        return self

    def to_dict(self) -> dict[str, Any]:
        """The finding as ``jixiao check --json`` writes it, and as it crosses a process or the database:
        :meth:`from_dict` gives it back whole."""
        return {"sheet": self.sheet, "cell": self.cell, "rule": self.rule, "severity": self.severity,
                "message": self.message, "expected": _plain(self.expected), "found": _plain(self.found),
                "context": self.context, "field": self.field,
                "extra": {k: _plain(v) for k, v in self.extra.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Finding":
        """The finding :meth:`to_dict` wrote (other keys, such as the ``file`` of ``--json``, are ignored)."""
        return cls(d["rule"], d["severity"], d["message"], d.get("expected"), d.get("found"), field=d.get("field"),
                   context=d.get("context"), sheet=d.get("sheet"), cell=d.get("cell"), extra=dict(d.get("extra") or {}))


def _plain(v: Any) -> Any:
    """A value as JSON and reports show it: 9.0 → 9, a cell error → its code."""
    if isinstance(v, CellError):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


@dataclass(frozen=True)
class CellError:
    """An Excel error value in a cell (#VALUE!, #NAME?, #DIV/0! …)."""

    code: str

    def __str__(self) -> str:
        return self.code
