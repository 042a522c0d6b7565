"""Server settings: where data lives, which database, how many workers, the limits on input."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

MB = 1024 * 1024


@dataclass
class Settings:
    data: Path
    db_url: str | None = None  # None: SQLite in ``data``
    workers: int = 2
    dask: str | None = None  # tcp://host:8786: checks go to a Dask cluster
    start_workers: bool = True  # False: jobs stay queued (tests of the queue itself)
    secure_cookies: bool = False  # True behind an HTTPS reverse proxy
    max_file_bytes: int = 20 * MB  # one workbook
    max_request_bytes: int = 120 * MB  # one upload request
    max_files: int = 50  # files (or zip members) in one upload
    max_zip_total: int = 400 * MB  # what one archive may inflate to
    max_zip_ratio: int = 100  # compression ratio above which a large member is a bomb
    file_seconds: int = 120  # per-file deadline of a check
    session_hours: int = 12
    login_attempts: int = 5  # failures per name or address …
    login_window: int = 300  # … in this many seconds
    secret: bytes = field(default=b"", repr=False)

    def __post_init__(self) -> None:
        self.data = Path(self.data)
        if not self.secret:
            self.secret = load_secret(self.data)

    @property
    def url(self) -> str:
        return self.db_url or f"sqlite:///{(self.data / 'jixiao.db').resolve()}"

    @property
    def blobs(self) -> Path:
        return self.data / "blobs"


def load_secret(data: Path) -> bytes:
    """The key that signs session cookies: made once, kept in ``data/secret.key`` (mode 600)."""
    data.mkdir(parents=True, exist_ok=True)
    path = data / "secret.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
