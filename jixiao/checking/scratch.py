"""The batch's temporary folder: one per batch, removed by the batch, and swept at the next start when a batch
was killed before it could remove its own.

Workers write every temporary file (copies of archive members, LibreOffice conversions and their profiles) under
it. A LibreOffice conversion leaves a ``group`` file in its profile folder naming its process group while it
runs, so whoever cleans up can stop a conversion whose worker was killed.
"""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "jixiao-batch-"


def alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # no cheap, safe probe: leave it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_office_group(pgid: int) -> bool:
    """The group still runs LibreOffice (Linux: its leader's command line says so); never kill anything else."""
    try:
        cmdline = Path(f"/proc/{pgid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"office" in cmdline


def stop_conversions(folder: str | Path) -> None:
    """Kill the process group of every LibreOffice conversion still registered under ``folder``."""
    if not hasattr(os, "killpg"):
        return
    for marker in Path(folder).glob("**/group"):
        try:
            pgid = int(marker.read_text().strip())
        except (OSError, ValueError):
            continue
        if pgid > 1 and _is_office_group(pgid):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def sweep(root: str | Path | None = None, prefix: str = PREFIX) -> None:
    """Remove the folders ``<prefix><pid>…`` of batches (or servers) whose process no longer exists (killed
    before they could clean up)."""
    root = Path(root or tempfile.gettempdir())
    try:
        entries = list(root.glob(prefix + "*"))
    except OSError:
        return
    for d in entries:
        try:
            pid = int(d.name[len(prefix):].split("-", 1)[0])
        except ValueError:
            continue
        if d.is_dir() and not d.is_symlink() and pid != os.getpid() and not alive(pid):
            stop_conversions(d)
            shutil.rmtree(d, ignore_errors=True)


@contextmanager
def batch_folder() -> Iterator[str]:
    """A new folder for this batch's temporary files (stale ones swept first), removed when the batch ends."""
    sweep()
    folder = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
    try:
        yield folder
    finally:
        stop_conversions(folder)
        shutil.rmtree(folder, ignore_errors=True)


def clear(folder: str | Path) -> None:
    """Empty a worker's folder after the worker was stopped (its conversions stopped first)."""
    stop_conversions(folder)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)
