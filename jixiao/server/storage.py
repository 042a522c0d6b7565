"""Content-addressed storage of uploads: blobs/ab/cd/<sha256>, written once, read-only, never modified.

An upload is first staged (written and fsynced under the server's temporary folder, which is on the same
disk) and published (renamed into ``blobs/``) only inside the transaction that inserts its rows, after the
unit's quota admitted it: an upload refused there leaves nothing under ``blobs/``.
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path


STAGERS = 8  # threads staging uploads at once (each mostly waits on its fsync)


@dataclass
class Staged:
    sha: str
    size: int
    tmp: str | None  # None: the blob was stored already


class BlobStore:
    def __init__(self, root: Path, staging: Path | None = None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.staging = Path(staging) if staging is not None else self.root
        self.staging.mkdir(parents=True, exist_ok=True)
        self._stagers: cf.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def path(self, sha: str) -> Path:
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise ValueError("not a sha256")
        return self.root / sha[:2] / sha[2:4] / sha

    def _stored(self, sha: str, size: int) -> bool:
        dest = self.path(sha)
        return dest.exists() and dest.stat().st_size == size

    def stage(self, data: bytes) -> Staged:
        """Write ``data`` durably (fsync) beside the store, not yet in it."""
        sha = hashlib.sha256(data).hexdigest()
        if self._stored(sha, len(data)):
            return Staged(sha, len(data), None)
        self.staging.mkdir(parents=True, exist_ok=True)  # a stopped app's folder is gone: made again
        fd, tmp = tempfile.mkstemp(dir=self.staging, prefix=".up-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o444)
        except BaseException:
            os.unlink(tmp)
            raise
        return Staged(sha, len(data), tmp)

    def stage_soon(self, data: bytes) -> cf.Future:
        """``stage(data)`` started in one of the store's threads (the waits on the disk overlap the caller's
        work, the round's reads of an upload); the future's value is the ``Staged`` file."""
        with self._lock:
            if self._stagers is None:
                self._stagers = cf.ThreadPoolExecutor(STAGERS, thread_name_prefix="jixiao-stage")
        return self._stagers.submit(self.stage, data)

    def publish(self, staged: Staged) -> None:
        """Move a staged file into the store (again is harmless: the blob is there)."""
        if staged.tmp is None or not os.path.exists(staged.tmp):
            if not self._stored(staged.sha, staged.size):
                raise FileNotFoundError(f"staged upload {staged.sha[:12]} is gone")
            return
        dest = self.path(staged.sha)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.tmp, dest)

    def discard(self, staged: Staged) -> None:
        """Remove a staged file that was not published (refused, or its transaction failed)."""
        if staged.tmp is not None and os.path.exists(staged.tmp):
            os.unlink(staged.tmp)

    def put(self, data: bytes) -> str:
        """Store ``data`` (durably: fsync before the caller answers with an id); its sha256."""
        staged = self.stage(data)
        try:
            self.publish(staged)
        finally:
            self.discard(staged)
        return staged.sha

    def get(self, sha: str) -> bytes:
        return self.path(sha).read_bytes()
