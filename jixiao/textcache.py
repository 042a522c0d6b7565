"""A bounded memo for pure functions of one text: forms repeat the same labels and values across hundreds of
workbooks, so each distinct text is parsed once per process.

Bounded twice: at most ``size`` texts are kept (least recently used go first), and a text longer than
``longest`` characters is never kept (a cell can hold 32,767 characters; labels and values are short).
The function must return an immutable value (a str, a number, a frozen dataclass): callers share it.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import TypeVar

T = TypeVar("T")

SIZE = 8192  # distinct texts kept per function and process
LONGEST = 256  # characters: longer texts are computed each time


def per_text(fn: Callable[[str], T], size: int = SIZE, longest: int = LONGEST) -> Callable[[str], T]:
    """``fn`` computed once per distinct short text.

    Example:
        >>> calls = []
        >>> def upper(t):
        ...     calls.append(t)
        ...     return t.upper()
        >>> up = per_text(upper)
        >>> up("ab"), up("ab"), len(calls)
        ('AB', 'AB', 1)
        >>> long = "x" * (LONGEST + 1)
        >>> up(long) == up(long), len(calls)
        (True, 3)
    """
    kept = lru_cache(maxsize=size)(fn)

    @wraps(fn)
    def call(text: str) -> T:
        return kept(text) if len(text) <= longest else fn(text)

    call.cache_clear = kept.cache_clear  # type: ignore[attr-defined]
    return call
