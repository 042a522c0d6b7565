"""One deadline per file: the batch owns it, every slow step asks it for the time left.

Example:
    >>> d = Deadline(120)
    >>> 119 < d.left() <= 120
    True
    >>> Deadline(0).expired()
    True
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field


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
