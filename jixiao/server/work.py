"""What runs in a worker (a local pool process or a Dask worker): check workbooks given as bytes.

Results travel back as plain data: ``{"result": FileResult.to_dict(), "findings": [...]}``, the findings
in the schema of ``jixiao check --json``; the database keeps them so. ``to_result`` turns them back into
the FileResults they were (``FileResult.from_dict``, nothing lost), for the reports.
"""
from __future__ import annotations

from typing import Any

from ..checking import batch, failures, report, runner
from ..checking.deadline import Expired, alarm
from ..checking.result import FileResult
from ..vocabulary import REPORT_SUFFIXES
from ..errors import Finding
from ..rules import rule

STORAGE_MISSING = rule("storage.missing", "已存储的文件无法读取")


def missing(label: str) -> dict[str, Any]:
    """storage.missing: the stored blob of a submission could not be read."""
    return result_data(FileResult.failed(label, Finding(STORAGE_MISSING, "error", "已存储的文件无法读取")))


def crashed_again(label: str) -> dict[str, Any]:
    """check.crashed for a file whose own worker process died each time it was checked."""
    return result_data(failures.crashed(label, "检查进程多次意外退出，已放弃此文件"))


def result_data(r: FileResult) -> dict[str, Any]:
    """A FileResult as plain data (what a worker returns and the database keeps)."""
    return {"result": r.to_dict(), "findings": report.findings_of([r])}


def to_result(data: dict[str, Any]) -> FileResult:
    """The FileResult again, from the plain data a worker returned or the database kept."""
    return FileResult.from_dict(data["result"], data["findings"])


def check_bytes(label: str, data: bytes, profile: str | None, seconds: int) -> dict[str, Any]:
    """Check one workbook within ``seconds``; never raises: a failure becomes the file's finding."""
    return result_data(runner.check_one(batch.Source(label, data=data), profile, seconds))


def _read(path: str | None) -> bytes | None:
    try:
        with open(path, "rb") as fh:  # type: ignore[arg-type]
            return fh.read()
    except (OSError, TypeError):
        return None


NO_VIEWS = {"cells": None, "cells_note": "自评报告不做逐格比较", "marked": None, "marked_note": "自评报告没有标注副本"}


def check_report_bytes(label: str, data: bytes, profile: str | None, seconds: int,
                       form: tuple[str, bytes] | None) -> dict[str, Any]:
    """A 自评报告 (.docx/.pdf) checked by jixiao.reports against the unit's form (its latest workbook in the
    round, when there is one), the same way ``jixiao check`` pairs them; never raises."""
    from ..reports.compare import check_report

    def load(name: str) -> bytes | None:
        return form[1] if form is not None and name == form[0] else None

    try:
        with alarm(seconds):
            r = check_report(label, form[0] if form else None, profile, label=label, data=data, load=load)
    except Expired:
        r = failures.timed_out(label, seconds)
    except Exception as e:  # noqa: BLE001 - one file never stops the others
        r = failures.crashed(label, failures.cause(e))
    return {**result_data(r), "views": dict(NO_VIEWS)}


def check_with_views(label: str, data: bytes, profile: str | None, seconds: int,
                     prev: tuple[str, bytes] | None, form: tuple[str, bytes] | None = None) -> dict[str, Any]:
    """The check, then what the page shows (comparison with ``prev``, marked copy), all in this worker.

    A report (.docx/.pdf) is checked against ``form`` (the unit's workbook: name, bytes) and has no views."""
    from . import views

    if label.lower().endswith(REPORT_SUFFIXES):
        return check_report_bytes(label, data, profile, seconds, form)
    out = check_bytes(label, data, profile, seconds)
    try:
        with alarm(seconds):
            out["views"] = views.compute(label, data, out["findings"], prev, make_marked=False)
    except Expired:
        out["views"] = {"cells": None, "cells_note": f"逐格比较超过 {seconds} 秒，已放弃", "marked": None,
                        "marked_note": f"生成标注副本超过 {seconds} 秒，已放弃"}
    return out


def marked_from_path(label: str, path: str, findings: list[dict], seconds: int) -> dict[str, Any]:
    """A stored workbook's marked copy, made in a worker within ``seconds`` (its first download asked for it)."""
    data = _read(path)
    if data is None:
        return {"marked": None, "marked_note": "已存储的文件无法读取"}
    return marked_from_bytes(label, data, findings, seconds)


def marked_from_bytes(label: str, data: bytes, findings: list[dict], seconds: int) -> dict[str, Any]:
    """The same for a remote (Dask) worker, which is sent the bytes."""
    from . import views

    try:
        with alarm(seconds):
            return views.marked(label, data, findings)
    except Expired:
        return {"marked": None, "marked_note": f"生成标注副本超过 {seconds} 秒，已放弃"}


def check_paths(items: list[tuple], seconds: int) -> list[tuple[int, dict[str, Any]]]:
    """A chunk of jobs for a local worker: (job id, label, blob path, profile, previous version's
    (label, blob path) or None, for a report its form's (label, blob path) or None) → (job id, result data)."""
    out = []
    for job_id, label, path, profile, prev, form in items:
        data = _read(path)
        if data is None:
            out.append((job_id, missing(label)))
            continue
        old = _read(prev[1]) if prev else None
        form_data = _read(form[1]) if form else None
        out.append((job_id, check_with_views(label, data, profile, seconds, (prev[0], old) if old else None,
                                             (form[0], form_data) if form_data else None)))
    return out


def check_many(items: list[tuple], seconds: int) -> list[tuple[int, dict[str, Any]]]:
    """The same for a remote (Dask) worker, which cannot read the server's files: the bytes travel along."""
    return [(job_id, check_with_views(label, data, profile, seconds, prev, form))
            for job_id, label, data, profile, prev, form in items]


def warm() -> None:
    """Compile the templates once in the parent of the pool (forkserver preload), not in every check."""
    batch.warm_up()
