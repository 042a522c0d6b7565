"""A unit's storage in a round: what its uploads' stored files add up to, and the refusal of an upload that
would take it past ``Settings.unit_quota_bytes``.

Counted per unit and round, over the distinct files (blobs) its versions point at — every workbook of a .zip
counted as the file it expands to, withdrawn versions included (their bytes stay), a file uploaded again
with the same bytes counted once. The marked copies the worker makes are the server's, not the unit's.

The answer that counts is given inside the transaction that inserts the uploads' rows, after it locked
the units' rows (PostgreSQL: ``FOR UPDATE``; SQLite: the write transaction is ``BEGIN IMMEDIATE``), so two
uploads of one unit are counted one after the other and cannot both pass.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import BigInteger, bindparam, func, literal, null, select, union_all

from ..rules import error_codes
from .db import Submission

MB = 1024 * 1024
error_codes({"upload.quota": "超过单位存储上限"})


class Exceeded(Exception):
    """The upload would take the unit past its quota; ``str()`` is the Chinese message with the code."""

    def __init__(self, used: int, adding: int, limit: int):
        self.used, self.adding, self.limit = used, adding, limit
        super().__init__(f"本单位在本批次已存储 {mb(used)} MB，这次上传的文件解压后共 {mb(adding)} MB，"
                         f"超过每个单位每批次 {mb(limit)} MB 的存储上限；请只提交需要的文件，"
                         f"或联系绩效科 [upload.quota]")


def mb(n: int) -> str:
    return f"{n / MB:.1f}".removesuffix(".0")


# Built once: each upload group runs them, and a statement built per call costs more than the query. For
# every unit of the group they answer both questions: which of the uploads' files it stored already (its
# "have" rows, one per sha256), and what its files take in all (its one "total" row). Rows are (kind, unit,
# key, number), so that the writer can ask them in the one statement it reads the group's slots with.
_FILES = (select(Submission.unit_id, Submission.sha256, Submission.size)
          .where(Submission.round_id == bindparam("r"), Submission.unit_id.in_(bindparam("us", expanding=True)))
          .distinct().subquery())
PARTS = (
    select(literal("have").label("kind"), Submission.unit_id, Submission.sha256.label("key"),
           literal(0, BigInteger).label("n")).where(
        Submission.round_id == bindparam("r"), Submission.unit_id.in_(bindparam("us", expanding=True)),
        Submission.sha256.in_(bindparam("shas", expanding=True))),
    select(literal("total"), _FILES.c.unit_id, null(), func.coalesce(func.sum(_FILES.c.size), 0))
    .group_by(_FILES.c.unit_id))
_USAGE = union_all(*PARTS)


@dataclass
class Stored:
    """A unit's storage in a round: the bytes its distinct files take, and which of the files asked about
    it holds already."""
    used: int = 0
    have: set[str] = field(default_factory=set)

    def admit(self, limit: int, files: list[tuple[str, int]]) -> None:
        """Count ``files`` ((sha256, size) each) in, or raise Exceeded when they would take the unit past
        ``limit`` bytes (0: no quota). A file the unit holds already adds nothing."""
        sizes = dict(files)
        adding = sum(size for sha, size in sizes.items() if sha not in self.have)
        if limit > 0 and adding and self.used + adding > limit:
            raise Exceeded(self.used, adding, limit)
        self.used += adding
        self.have |= sizes.keys()


def stored(db, round_id: int, unit_ids: list[int], shas: list[str]) -> dict[int, Stored]:  # noqa: ANN001
    """Each unit's ``Stored`` in the round (each distinct file once, counted by the database over the units'
    rows alone: ``ix_submissions_round_unit``), ``have`` among ``shas``; in one statement for all the units."""
    if not unit_ids:
        return {}
    return stored_from(db.connection().execute(_USAGE, params(round_id, unit_ids, shas)), unit_ids)


def params(round_id: int, unit_ids: list[int], shas: list[str]) -> dict:
    return {"r": round_id, "us": unit_ids, "shas": shas or [""]}


def stored_from(rows, unit_ids: list[int]) -> dict[int, Stored]:  # noqa: ANN001
    """The units' ``Stored`` from the rows of ``PARTS`` (others are left alone)."""
    out = {u: Stored() for u in unit_ids}
    for kind, unit_id, key, n in rows:
        if kind == "total":
            out[unit_id].used = int(n or 0)
        elif kind == "have":
            out[unit_id].have.add(key)
    return out


def check(db, limit: int, round_id: int, unit_id: int, files: list[tuple[str, int]]) -> None:  # noqa: ANN001
    """Raise Exceeded when ``files`` ((sha256, size) each) would take the unit past ``limit`` bytes: the
    answer before the files are staged (``records.write_uploads`` gives the one that counts)."""
    if limit <= 0 or not files:  # 0: no quota
        return
    stored(db, round_id, [unit_id], [sha for sha, _ in files])[unit_id].admit(limit, files)

