"""Passwords (Argon2), API tokens (stored as sha256), signed session cookies, CSRF and the login rate limit."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

_hasher = PasswordHasher()
# verified against when the name is unknown, so a wrong name costs as long as a wrong password
_DUMMY = _hasher.hash(secrets.token_hex(16))

SESSION_COOKIE = "jx_session"
TOKEN_PREFIX = "jx_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    """A session is a signed cookie holding the user id, a CSRF token and the time it was made."""

    def __init__(self, secret: bytes, max_age: int):
        self.signer = URLSafeTimedSerializer(secret, salt="jixiao-session")
        self.max_age = max_age

    def dump(self, data: dict) -> str:
        return self.signer.dumps(data)

    def load(self, cookie: str | None) -> dict | None:
        if not cookie:
            return None
        try:
            data = self.signer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        return data if isinstance(data, dict) and isinstance(data.get("csrf"), str) else None

    @staticmethod
    def fresh(uid: int | None = None, epoch: int = 0) -> dict:
        return {"uid": uid, "ep": epoch, "csrf": secrets.token_urlsafe(24)}


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


class RateLimit:
    """At most ``limit`` failures per key in ``window`` seconds (kept in memory: one server process)."""

    def __init__(self, limit: int, window: int):
        self.limit, self.window = limit, window
        self.hits: dict[str, deque] = defaultdict(deque)
        self.lock = threading.Lock()

    def _trim(self, key: str, t: float) -> deque:
        q = self.hits[key]
        while q and q[0] <= t - self.window:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> int:
        """Seconds to wait, 0 when none of the keys is over the limit."""
        t = time.monotonic()
        with self.lock:
            waits = [int(q[0] + self.window - t) + 1 for k in keys if len(q := self._trim(k, t)) >= self.limit]
        return max(waits, default=0)

    def attempt(self, limits: dict[str, int]) -> int:
        """Count one attempt against every key (key → its limit) unless one is over: then the seconds to wait.

        Counting happens before the password is verified, in one step under the lock, so concurrent
        guesses cannot all pass the check before any of them is counted.
        """
        t = time.monotonic()
        with self.lock:
            queues = {k: self._trim(k, t) for k in limits}
            waits = [int(q[0] + self.window - t) + 1 for k, q in queues.items() if len(q) >= limits[k]]
            if waits:
                return max(waits)
            for q in queues.values():
                q.append(t)
        return 0

    def fail(self, *keys: str) -> None:
        t = time.monotonic()
        with self.lock:
            for k in keys:
                self._trim(k, t).append(t)

    def clear(self, *keys: str) -> None:
        with self.lock:
            for k in keys:
                self.hits.pop(k, None)


class Busy(Exception):
    """More logins wait for a verification than the queue holds."""


class Verifiers:
    """At most ``slots`` Argon2 verifications at once (each takes 64 MiB), and at most ``queue`` waiting."""

    def __init__(self, slots: int, queue: int):
        self.slots, self.queue = max(1, slots), queue
        self.waiting = 0
        self._sem: asyncio.Semaphore | None = None
        self.verified = 0  # verifications run, for the tests and the log

    async def verify(self, fn):  # noqa: ANN001, ANN201 - fn() -> the verified user or None, run in a thread
        from starlette.concurrency import run_in_threadpool

        if self._sem is None:
            self._sem = asyncio.Semaphore(self.slots)
        if self.waiting >= self.queue:
            raise Busy
        self.waiting += 1
        try:
            await self._sem.acquire()
        finally:
            self.waiting -= 1
        try:
            self.verified += 1
            return await run_in_threadpool(fn)
        finally:
            self._sem.release()
