"""A file whose check did not finish: the one place each of these rules is declared and emitted.

The batch's worker pool, its in-process path, the server's workers and its dispatcher all say
"this file could not be checked" through these functions, so a rule id has one message wherever it arises.
"""
from __future__ import annotations

from ..errors import Finding
from ..rules import rule
from .result import FileResult

CRASHED = rule("check.crashed", "检查出错")
OUT_OF_MEMORY = rule("check.memory", "内存超限")
TIMEOUT = rule("check.timeout", "检查超时")
WORKER_DIED = rule("check.worker_died", "检查进程意外终止")

MAX_CAUSE = 200  # characters of an exception's text kept in the message


def _failed(label: str, rule_id: str, message: str) -> FileResult:
    return FileResult.failed(label, Finding(rule_id, "error", message))


def cause(e: BaseException) -> str:
    """An exception as the message names it: its class and the start of its text."""
    text = str(e)
    return f"{type(e).__name__}: {text[:MAX_CAUSE]}" if text else type(e).__name__


def crashed(label: str, why: str) -> FileResult:
    """check.crashed: the check raised (``why`` = :func:`cause`), or its process died again and again."""
    return _failed(label, CRASHED, f"检查时出错：{why}")


def out_of_memory(label: str) -> FileResult:
    return _failed(label, OUT_OF_MEMORY, "检查此文件所需内存超过限额，已放弃")


def timed_out(label: str, seconds: float) -> FileResult:
    return _failed(label, TIMEOUT, f"检查超过 {seconds:g} 秒，已停止检查此文件")


def worker_died(label: str, why: str) -> FileResult:
    return _failed(label, WORKER_DIED, f"检查此文件的进程意外终止（{why}），其余文件照常检查")
