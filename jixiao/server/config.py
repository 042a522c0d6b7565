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
    unit_quota_bytes: int = 200 * MB  # what one unit's stored files in one round may add up to (0: no quota)
    file_seconds: int = 120  # per-file deadline of a check
    session_hours: int = 12
    login_attempts: int = 5  # attempts per name from one address …
    login_address_attempts: int = 20  # … and per address, whatever the names …
    login_window: int = 300  # … in this many seconds
    login_verifiers: int = 2  # Argon2 verifications at once (64 MiB each)
    login_queue: int = 32  # logins waiting for one; beyond, 503
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


def body_limits(settings: Settings):
    """The request-body limit of each route: uploads hold up to ``max_files`` workbooks (and a form's margin)."""
    from .bodylimit import MB, Limits

    upload = min(settings.max_request_bytes, settings.max_file_bytes * settings.max_files + MB)
    return Limits(upload=upload, import_=settings.max_file_bytes + MB)
