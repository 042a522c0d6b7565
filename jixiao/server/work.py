"""What runs in a worker (a local pool process or a Dask worker): check workbooks given as bytes.

Results travel back as plain data: ``{"result": FileResult.to_dict(), "findings": [...]}``, the findings
in the schema of ``jixiao check --json``. ``to_result`` turns them back into FileResults for the reports.
"""
from __future__ import annotations

import signal
import threading
from typing import Any

from ..checking import batch, report
from ..checking.deadline import Deadline
from ..rules import error_codes

error_codes({"storage.missing": "已存储的文件无法读取"})


def _failure(label: str, rule: str, message: str) -> dict[str, Any]:
    finding = {"file": label, "sheet": None, "cell": None, "rule": rule, "severity": "error", "message": message,
               "expected": None, "found": None, "context": None}
    result = {"file": label, "kind": None, "route": None, "profile": None, "unit": None, "year": None,
              "exec_rate": None, "total": None, "grade": None, "counts": {"error": 1, "warning": 0, "info": 0},
              "error": rule, "seconds": 0.0}
    return {"result": result, "findings": [finding]}


def _result_data(r) -> dict[str, Any]:
    return {"result": r.to_dict(), "findings": report.findings_of([r])}


def check_bytes(label: str, data: bytes, profile: str | None, seconds: int) -> dict[str, Any]:
    """Check one workbook within ``seconds``; never raises: a failure becomes the file's finding."""
    alarm = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if alarm:
        def on_alarm(*_):
            raise TimeoutError

        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(max(1, int(seconds)))
    try:
        deadline = Deadline(seconds)  # the full recalculation asks it for the time left; the alarm is the backstop
        return _result_data(batch.check_source(batch.Source(label, data=data), profile, deadline))
    except TimeoutError:
        return _failure(label, "check.timeout", f"检查超过 {seconds} 秒，已放弃")
    except Exception as e:  # noqa: BLE001 - one workbook never stops the others
        return _failure(label, "check.crashed", f"检查时出错：{type(e).__name__}")
    finally:
        if alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)


def _read(path: str | None) -> bytes | None:
    try:
        with open(path, "rb") as fh:  # type: ignore[arg-type]
            return fh.read()
    except (OSError, TypeError):
        return None


def check_with_views(label: str, data: bytes, profile: str | None, seconds: int,
                     prev: tuple[str, bytes] | None) -> dict[str, Any]:
    """The check, then what the page shows (comparison with ``prev``, marked copy), all in this worker."""
    from . import views

    out = check_bytes(label, data, profile, seconds)
    alarm = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if alarm:
        def on_alarm(*_):
            raise TimeoutError

        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(max(1, int(seconds)))
    try:
        out["views"] = views.compute(label, data, out["findings"], prev)
    except TimeoutError:
        out["views"] = {"cells": None, "cells_note": f"逐格比较超过 {seconds} 秒，已放弃", "marked": None,
                        "marked_note": f"生成标注副本超过 {seconds} 秒，已放弃"}
    finally:
        if alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
    return out


def check_paths(items: list[tuple], seconds: int) -> list[tuple[int, dict[str, Any]]]:
    """A chunk of jobs for a local worker: (job id, label, blob path, profile, previous version's
    (label, blob path) or None) → (job id, result data)."""
    out = []
    for job_id, label, path, profile, prev in items:
        data = _read(path)
        if data is None:
            out.append((job_id, _failure(label, "storage.missing", "已存储的文件无法读取")))
            continue
        old = _read(prev[1]) if prev else None
        out.append((job_id, check_with_views(label, data, profile, seconds, (prev[0], old) if old else None)))
    return out


def check_many(items: list[tuple], seconds: int) -> list[tuple[int, dict[str, Any]]]:
    """The same for a remote (Dask) worker, which cannot read the server's files: the bytes travel along."""
    return [(job_id, check_with_views(label, data, profile, seconds, prev))
            for job_id, label, data, profile, prev in items]


def check_source(src: batch.Source, profile: str | None, seconds: int):
    """``jixiao check --dask``: one Source (bytes attached) → FileResult, with the deadline of check_bytes."""
    if src.problem is not None:
        return src.problem
    data = check_bytes(src.label, src.data or b"", profile, seconds)
    return to_result(data)


def to_result(data: dict[str, Any]):
    """A FileResult again, from the plain data a worker returned or the database kept."""
    from ..checking.result import FileResult
    from ..errors import Finding

    r = dict(data["result"])
    r.pop("counts", None)
    known: dict[str, Any] = {k: r.get(k) for k in ("file", "kind", "route", "profile", "profile_reason", "unit", "year",
                                                   "exec_rate", "total", "grade", "total_note", "error", "seconds")}
    res = FileResult(**known)
    res.seconds = float(res.seconds or 0.0)
    res.findings = [Finding(f["rule"], f["severity"], f["message"], f.get("expected"), f.get("found"),
                            context=f.get("context"), sheet=f.get("sheet"), cell=f.get("cell"))
                    for f in data["findings"]]
    return res


def warm() -> None:
    """Compile the templates once in the parent of the pool (forkserver preload), not in every check."""
    batch.warm_up()
