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

from sqlalchemy import BigInteger, bindparam, func, literal, null, select, union_all

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


# Built once: each upload runs it (twice), and a statement built per call costs more than the query. One
# round trip answers both questions: which of the upload's files the unit stored already (their rows), and
# what its files take in all (the one row without a sha256).
_FILES = (select(Submission.sha256, Submission.size)
          .where(Submission.round_id == bindparam("r"), Submission.unit_id == bindparam("u")).distinct().subquery())
_USAGE = union_all(
    select(Submission.sha256, literal(0, BigInteger)).where(
        Submission.round_id == bindparam("r"), Submission.unit_id == bindparam("u"),
        Submission.sha256.in_(bindparam("shas", expanding=True))),
    select(null().label("sha256"), func.coalesce(func.sum(_FILES.c.size), 0)))
_LOCK = select(Unit.id).where(Unit.id == bindparam("u")).with_for_update()


def usage(db, round_id: int, unit_id: int, shas: list[str]) -> tuple[int, set[str]]:  # noqa: ANN001
    """Bytes the unit's files in the round take (each distinct file once, counted by the database over the
    unit's rows alone: ``ix_submissions_round_unit``), and which of ``shas`` are among them."""
    used, have = 0, set()
    for sha, total in db.connection().execute(_USAGE, {"r": round_id, "u": unit_id, "shas": shas or [""]}):
        if sha is None:
            used = int(total or 0)
        else:
            have.add(sha)
    return used, have


def check(db, limit: int, round_id: int, unit_id: int, files: list[tuple[str, int]]) -> None:  # noqa: ANN001
    """Raise Exceeded when ``files`` ((sha256, size) each) would take the unit past ``limit`` bytes."""
    if limit <= 0:  # 0: no quota
        return
    sizes = dict(files)
    if not sizes:
        return
    used, have = usage(db, round_id, unit_id, list(sizes))
    adding = sum(size for sha, size in sizes.items() if sha not in have)
    if adding and used + adding > limit:
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
