"""One deadline per file: the batch owns it, every slow step asks it for the time left; and an alarm that
stops a step which does not ask (SIGALRM, where the platform has it).

Example:
    >>> d = Deadline(120)
    >>> 119 < d.left() <= 120
    True
    >>> Deadline(0).expired()
    True
"""
from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..errors import JixiaoError


@dataclass
class Deadline:
    seconds: float
    start: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.start)

    def expired(self) -> bool:
        return self.left() <= 0


NONE = Deadline(float("inf"))
"""No deadline (a library call checking one workbook in its own process)."""


class Expired(BaseException):
    """The alarm rang. Not an Exception: code that catches every Exception cannot swallow it."""


@contextmanager
def alarm(seconds: float) -> Iterator[None]:
    """Raise :class:`Expired` in the block once ``seconds`` have passed (SIGALRM, in the main thread only;
    elsewhere the block runs unbounded and the caller's :class:`Deadline` is what bounds it).

    Example:
        >>> import time
        >>> try:
        ...     with alarm(0.05):
        ...         time.sleep(1)
        ... except Expired:
        ...     print("stopped")
        stopped
    """
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def ring(*_: object) -> None:
        raise Expired

    old = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """A step stopped past ``seconds`` with a Chinese message naming ``what`` (code formulas.timeout).

    Example:
        >>> import time
        >>> try:
        ...     with time_limit(0.05, "重算"):
        ...         time.sleep(1)
        ... except JixiaoError as e:
        ...     print(e.code, e.message)
        formulas.timeout 重算超过 0.05 秒，已放弃
    """
    try:
        with alarm(seconds):
            yield
    except Expired:
        raise JixiaoError(f"{what}超过 {seconds:g} 秒，已放弃", code="formulas.timeout") from None
