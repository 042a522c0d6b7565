"""The group writer on a real database: a group is one transaction, one upload's failure leaves the others'
rows in, a group's items of one kind are written by one call, what a refused upload would have done before
its commit (its files entering the store) never happens, and a request that went away before its turn
leaves nothing and stops nothing."""
from __future__ import annotations

import threading

import pytest

pytest.importorskip("sqlalchemy")

from sqlalchemy import select  # noqa: E402

from jixiao.server.db import Audit, make_engine, migrate, sessions  # noqa: E402
from jixiao.server.writer import GroupWriter  # noqa: E402


@pytest.fixture
def writer_db(db_url, tmp_path):
    url = db_url or f"sqlite:///{tmp_path / 'jixiao.db'}"
    migrate(url)
    engine = make_engine(url)
    Session = sessions(engine)  # noqa: N806
    with Session.begin() as db:  # a database per module: start each test from an empty log
        db.query(Audit).delete()
    yield Session
    engine.dispose()


def line(name: str, fail: bool = False):
    def fn(db):  # noqa: ANN001, ANN202
        db.add(Audit(action="test", target=name))
        db.flush()
        if fail:
            raise ValueError(f"{name} refused")
        return name
    return fn


def targets(Session) -> list[str]:  # noqa: N803
    with Session() as db:
        return sorted(db.scalars(select(Audit.target).where(Audit.action == "test")))


def test_one_failure_in_a_group_leaves_the_others_committed_and_skips_its_own_finish(writer_db):
    gate = threading.Event()
    w = GroupWriter(writer_db)
    try:
        # the first item holds the writer until the rest are queued: they become one group
        first = w.submit(lambda db: gate.wait(10) and "first")
        finished: list[str] = []
        futs = [w.submit(line(f"u{k}", fail=k == 2), order=k, finish=lambda k=k: finished.append(f"u{k}"))
                for k in range(5)]
        gate.set()
        assert first.result(30) == "first"
        assert [f.exception(30) is None for f in futs] == [True, True, False, True, True]
        assert str(futs[2].exception()) == "u2 refused"
        assert [f.result() for k, f in enumerate(futs) if k != 2] == ["u0", "u1", "u3", "u4"]
        assert targets(writer_db) == ["u0", "u1", "u3", "u4"]
        assert "u2" not in finished  # a refused upload's files never enter the store
        assert sorted(set(finished)) == ["u0", "u1", "u3", "u4"]
    finally:
        w.close()


def test_a_groups_items_of_one_kind_are_written_by_one_call_and_a_refused_one_leaves_the_rest(writer_db):
    gate = threading.Event()
    w = GroupWriter(writer_db)
    calls: list[list[str]] = []

    def together(db, names):  # noqa: ANN001, ANN202 - as write_uploads: a few statements for the whole group
        calls.append(list(names))
        db.add_all(Audit(action="test", target=n) for n in names if n != "g2")
        return [ValueError("g2 refused") if n == "g2" else n.upper() for n in names]

    try:
        first = w.submit(lambda db: gate.wait(10))
        finished: list[str] = []
        futs = [w.submit(f"g{k}", order=k, finish=lambda k=k: finished.append(f"g{k}"), together=together)
                for k in range(4)]
        gate.set()
        first.result(30)
        assert [f.exception(30) is None for f in futs] == [True, True, False, True]
        assert str(futs[2].exception()) == "g2 refused"
        assert [futs[k].result() for k in (0, 1, 3)] == ["G0", "G1", "G3"]
        assert calls == [["g0", "g1", "g2", "g3"]]  # one call for the group of four, not a rollback and four
        assert targets(writer_db) == ["g0", "g1", "g3"]
        assert sorted(finished) == ["g0", "g1", "g3"]  # a refused upload's files never enter the store
    finally:
        w.close()


def test_a_request_gone_before_its_turn_writes_nothing_and_the_writer_goes_on(writer_db):
    gate = threading.Event()
    w = GroupWriter(writer_db)
    try:
        first = w.submit(lambda db: gate.wait(10))
        gone = w.submit(line("gone"))
        assert gone.cancel()  # the client disconnected while the writer was busy
        gate.set()
        first.result(30)
        assert w.submit(line("after")).result(30) == "after"
        assert targets(writer_db) == ["after"]
    finally:
        w.close()
