"""Column letters and numbers (A = 1 … ZZZ = 18278), as openpyxl.utils writes them, without importing openpyxl:
reading and checking a workbook never needs the library that writes one.

Example:
    >>> column_index_from_string("A"), column_index_from_string("az"), column_index_from_string("ZZZ")
    (1, 52, 18278)
    >>> get_column_letter(1), get_column_letter(28), get_column_letter(18278)
    ('A', 'AB', 'ZZZ')
    >>> column_index_from_string("AAAA")
    Traceback (most recent call last):
    ...
    ValueError: 'AAAA' is not a valid column name. Column names are from A to ZZZ
"""
from __future__ import annotations

from functools import lru_cache

LAST = 18278  # ZZZ
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALUE = {c: i for i, c in enumerate(_LETTERS, start=1)}


@lru_cache(maxsize=None)
def column_index_from_string(col: str) -> int:
    """The number of a column's letters (case-insensitive); ValueError for anything else."""
    if not 1 <= len(col) <= 3 or any(c not in _VALUE for c in col.upper()):
        raise ValueError(f"'{col}' is not a valid column name. Column names are from A to ZZZ")
    n = 0
    for c in col.upper():
        n = n * 26 + _VALUE[c]
    return n


@lru_cache(maxsize=None)
def get_column_letter(idx: int) -> str:
    """The letters of column ``idx`` (1 … 18278); ValueError outside."""
    if not 1 <= idx <= LAST:
        raise ValueError(f"Invalid column index {idx}")
    out = ""
    while idx:
        idx, r = divmod(idx - 1, 26)
        out = _LETTERS[r] + out
    return out
