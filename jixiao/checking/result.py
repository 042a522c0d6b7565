"""What checking one workbook found: the row of the batch report, with its findings."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import InitVar, dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import Finding

if TYPE_CHECKING:
    import pandas as pd

    from .tally import Tally


@dataclass
class FileResult:
    """What the checker found in one workbook (one row of the batch report)."""

    file: str
    kind: str | None = None
    route: str | None = None
    profile: str | None = None
    profile_reason: str | None = None  # why this profile was used (Chinese)
    unit: str | None = None
    year: int | None = None
    exec_rate: float | None = None
    total: float | None = None
    grade: str | None = None
    total_note: str | None = None  # why 总分/等级 are 需核对 (a row the rules could not score); None otherwise
    findings: list[Finding] = field(default_factory=list)
    forms: list[dict[str, Any]] = field(default_factory=list)  # each form of the workbook: sheet, kind, unit, total
    error: str | None = None
    seconds: float = 0.0
    # each form as read and scored (FormRead, Scored), kept only when asked (check_file(keep_form=True)):
    # what a 自评报告 is written from and compared with; never serialised
    read: list[Any] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def failed(cls, file: str, finding: Finding) -> "FileResult":
        """A workbook that could not be checked: one finding says why."""
        return cls(file, error=finding.rule, findings=[finding])

    @property
    def total_text(self) -> str:
        """总分 as a report shows it: the number, 需核对 when the rules could not give it, else blank."""
        if self.total is not None:
            return f"{self.total:g}"
        return "需核对" if self.total_note else ""

    def counts(self) -> dict[str, int]:
        out = {"error": 0, "warning": 0, "info": 0}
        for f in self.findings:
            out[f.severity] = out.get(f.severity, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "kind": self.kind, "route": self.route, "profile": self.profile,
                "profile_reason": self.profile_reason, "unit": self.unit, "year": self.year,
                "exec_rate": self.exec_rate, "total": self.total, "grade": self.grade,
                "total_note": self.total_note, "counts": self.counts(),
                "error": self.error, "seconds": round(self.seconds, 4), "forms": self.forms}

    @classmethod
    def from_dict(cls, d: dict[str, Any], findings: list[dict[str, Any]]) -> "FileResult":
        """The result again from :meth:`to_dict` and its findings' :meth:`Finding.to_dict` (as ``--json``,
        a worker and the server's database hold them), nothing lost: ``counts`` is derived from the findings."""
        fields: dict[str, Any] = {k: d.get(k) for k in _FIELDS}
        return cls(d["file"], **fields, forms=list(d.get("forms") or []),
                   seconds=float(d.get("seconds") or 0.0), findings=[Finding.from_dict(f) for f in findings])


_FIELDS = ("kind", "route", "profile", "profile_reason", "unit", "year", "exec_rate", "total", "grade", "total_note",
           "error")


FRAME_COLUMNS = ("file", "unit", "year", "kind", "profile", "sheet", "cell", "rule", "title", "severity", "message",
                 "expected", "found", "context")


@dataclass
class CheckResult:
    """What ``jixiao check`` found in a batch: one :class:`FileResult` per workbook, in input order.

    Example:
        >>> result = CheckResult([FileResult("a.xlsx", unit="某单位", year=2024,
        ...                       findings=[Finding("total.total_mismatch", "error", "总分不符", 99, 97)])])
        >>> result.has_errors, len(result.frame())
        (True, 1)
    """

    files: Sequence[FileResult]  # a list, or the results kept on disk (:mod:`.kept`) as ``jixiao check`` keeps them
    counted: InitVar["Tally | None"] = None  # the batch's counts when they were gathered as the results arrived

    def __post_init__(self, counted: "Tally | None") -> None:
        self._tally = counted

    @property
    def tally(self) -> "Tally":
        """The batch's counts (:class:`.tally.Tally`), gathered once."""
        if self._tally is None:
            from .tally import Tally

            self._tally = Tally(self.files)
        return self._tally

    @property
    def has_errors(self) -> bool:
        return self.tally.has_errors

    def to_json(self) -> dict[str, Any]:
        """The document ``jixiao check --json`` prints."""
        from .report import to_json

        return to_json(self.files)

    def frame(self) -> "pd.DataFrame":
        """Every finding as a row (file, unit, year, sheet, cell, rule, severity, expected, found …), for pivots.

        Files without findings have no rows; ``expected``/``found`` keep their mixed types (object columns).
        """
        import pandas as pd

        from ..rules import title

        rows = [{"file": r.file, "unit": r.unit, "year": r.year, "kind": r.kind, "profile": r.profile,
                 **f.to_dict(), "title": title(f.rule)} for r in self.files for f in r.findings]
        frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
        frame["year"] = frame["year"].astype("Int64")
        return frame
