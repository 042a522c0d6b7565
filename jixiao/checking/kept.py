"""Where a batch keeps its results until the reports are written: in memory, or in a temporary file.

A runner puts each :class:`~.result.FileResult` as it arrives, by its place in the input; whoever reads
them (the reports, ``--json``, the terminal) gets them back in input order, as often as it iterates.
:class:`InMemory` is a list; :class:`OnDisk` pickles each result to an unnamed temporary file the moment it
arrives, so the process that collects ten thousand results holds none of them (``jixiao check`` uses it:
its memory stays flat however large the batch).

Example:
    >>> from jixiao.checking.result import FileResult
    >>> kept = OnDisk(2)
    >>> kept.put(1, FileResult("b.xlsx")); kept.put(0, FileResult("a.xlsx"))
    >>> [r.file for r in kept], len(kept)
    (['a.xlsx', 'b.xlsx'], 2)
    >>> kept.close()
"""
from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator, Sequence
from typing import Protocol

from .result import FileResult


class Kept(Protocol):
    """A batch's results by input position: put as they arrive, read back in input order."""

    def put(self, index: int, result: FileResult) -> None: ...

    def __iter__(self) -> Iterator[FileResult]: ...

    def __len__(self) -> int: ...

    def done(self) -> Sequence[FileResult]:
        """What the runner returns once every result is in."""
        ...


class InMemory(list):
    """The results in a list (what a library caller gets back: index it, slice it, keep it)."""

    def __init__(self, size: int):
        super().__init__([None] * size)

    def put(self, index: int, result: FileResult) -> None:
        self[index] = result

    def done(self) -> list[FileResult]:
        """The results, in input order, without the places no result was put at."""
        return [r for r in self if r is not None]


class OnDisk(Sequence[FileResult]):
    """The results pickled to an unnamed temporary file (gone when closed, or when the process ends)."""

    def __init__(self, size: int):
        self._file = tempfile.TemporaryFile(prefix="jixiao-results-")
        self._where: list[tuple[int, int] | None] = [None] * size  # (offset, length) of each input's result
        self._filled: list[tuple[int, int]] | None = None

    def put(self, index: int, result: FileResult) -> None:
        data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        self._file.seek(0, 2)
        self._where[index] = (self._file.tell(), len(data))
        self._file.write(data)
        self._filled = None

    def _load(self, at: tuple[int, int]) -> FileResult:
        self._file.seek(at[0])
        return pickle.loads(self._file.read(at[1]))

    def _places(self) -> list[tuple[int, int]]:
        if self._filled is None:
            self._file.flush()
            self._filled = [at for at in self._where if at is not None]
        return self._filled

    def __iter__(self) -> Iterator[FileResult]:
        for at in self._places():
            yield self._load(at)

    def __getitem__(self, i):  # type: ignore[override]  # an index or a slice, as a list takes them
        if isinstance(i, slice):
            return [self._load(at) for at in self._places()[i]]
        return self._load(self._places()[i])

    def __len__(self) -> int:
        return len(self._places())

    def done(self) -> "OnDisk":
        return self

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "OnDisk":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
