"""What the server leaves behind when it dies: no worker process, and no temporary file after the next start.

Each server has a temporary folder ``DATA/tmp/server-<pid>``: its staged uploads (``uploads/``) and one
folder per check worker (``worker-<pid>``, the worker's ``tempfile.tempdir``: archive members, LibreOffice
conversions and their profiles). A clean stop removes it; a server that was killed leaves it, and the next
start removes the folder of every server whose process no longer exists (stopping the LibreOffice
conversions registered there first).

A check worker is a child of the pool's fork server, which exits when the server's end of its pipe closes,
however the server died. The worker asks Linux for SIGTERM when the fork server dies (PR_SET_PDEATHSIG) and,
on every system, a watcher thread leaves within a second once the server process or its parent is gone.
"""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

from ..checking import scratch, workers

PREFIX = "server-"
WATCH_SECONDS = 0.5
WORKER_NICE = 10  # checks yield the CPU to the process that answers uploads and pages (throughput vs latency)


def server_folder(data: Path) -> Path:
    """A new, empty temporary folder for this server process, dead servers' folders swept first."""
    root = Path(data) / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    scratch.sweep(root, PREFIX)
    folder = root / f"{PREFIX}{os.getpid()}"
    scratch.clear(folder)  # a folder of this pid is an old one's (or this process's previous app's)
    return folder


def remove(folder: Path) -> None:
    """A clean stop: the workers are gone, so is their folder."""
    scratch.stop_conversions(folder)
    shutil.rmtree(folder, ignore_errors=True)


def start_worker(server: int, folder: str) -> None:
    """The initializer of every check worker: dies with the server, keeps its temporary files in ``folder``."""
    parent = os.getppid()  # the fork server
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the terminal is the server's to handle
    signal.signal(signal.SIGTERM, workers.on_stop)  # stop a running conversion, leave at once
    workers.die_with_parent(parent)
    os.nice(WORKER_NICE)  # children (LibreOffice conversions) inherit it
    own = Path(folder) / f"worker-{os.getpid()}"
    own.mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = str(own)
    threading.Thread(target=_watch, args=(server, parent, own), name="jixiao-lifeline", daemon=True).start()


def orphaned(server: int, parent: int) -> bool:
    return os.getppid() != parent or not scratch.alive(server)


def _watch(server: int, parent: int, own: Path) -> None:
    while not orphaned(server, parent):
        time.sleep(WATCH_SECONDS)
    remove(own)
    os._exit(1)
