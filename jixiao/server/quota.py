"""A unit's storage in a round: what its uploads' stored files add up to, and the refusal of an upload that
would take it past ``Settings.unit_quota_bytes``.

Counted per unit and round, over the distinct files (blobs) its versions point at — every workbook of a .zip
counted as the file it expands to, withdrawn versions included (their bytes stay), a file uploaded again
with the same bytes counted once. The marked copies the worker makes are the server's, not the unit's.

``admit`` runs inside the transaction that inserts the upload's rows, after the unit's row is locked
(PostgreSQL: ``FOR UPDATE``; SQLite: the write transaction is ``BEGIN IMMEDIATE``), so two uploads of one
unit are counted one after the other and cannot both pass.
"""
from __future__ import annotations

from sqlalchemy import bindparam, func, select

from ..rules import error_codes
from .db import Submission, Unit

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


# Built once: each upload runs them (twice), and a statement built per call costs more than the query.
_FILES = (select(Submission.sha256, Submission.size)
          .where(Submission.round_id == bindparam("r"), Submission.unit_id == bindparam("u")).distinct().subquery())
_STORED = select(func.coalesce(func.sum(_FILES.c.size), 0))
_HAVE = select(Submission.sha256).where(Submission.round_id == bindparam("r"), Submission.unit_id == bindparam("u"),
                                        Submission.sha256.in_(bindparam("shas", expanding=True)))
_LOCK = select(Unit.id).where(Unit.id == bindparam("u")).with_for_update()


def stored(db, round_id: int, unit_id: int) -> int:  # noqa: ANN001
    """Bytes the unit's files in the round take (each distinct file once), counted by the database over the
    unit's rows alone (``ix_submissions_round_unit``; a version's size is its blob's)."""
    return int(db.connection().execute(_STORED, {"r": round_id, "u": unit_id}).scalar() or 0)


def check(db, limit: int, round_id: int, unit_id: int, files: list[tuple[str, int]]) -> None:  # noqa: ANN001
    """Raise Exceeded when ``files`` ((sha256, size) each) would take the unit past ``limit`` bytes."""
    if limit <= 0:  # 0: no quota
        return
    sizes = dict(files)
    if not sizes:
        return
    have = set(db.connection().execute(_HAVE, {"r": round_id, "u": unit_id, "shas": list(sizes)}).scalars())
    adding = sum(size for sha, size in sizes.items() if sha not in have)
    if not adding:
        return
    used = stored(db, round_id, unit_id)
    if used + adding > limit:
        raise Exceeded(used, adding, limit)


def admit(db, limit: int, round_id: int, unit_id: int, files: list[tuple[str, int]]) -> None:  # noqa: ANN001
    """``check`` inside the writing transaction, the unit's row locked first (one upload of a unit at a time;
    SQLite's write transaction already holds the whole database)."""
    if limit <= 0:
        return
    conn = db.connection()
    if conn.dialect.name != "sqlite":
        conn.execute(_LOCK, {"u": unit_id})
    check(db, limit, round_id, unit_id, files)
