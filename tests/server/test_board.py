"""The board's rules (jixiao/server/board.py) on submissions that never meet a database or a request."""
from __future__ import annotations

from datetime import datetime

from jixiao.server import board
from jixiao.server.db import Submission, Unit

T0 = datetime(2026, 3, 1, 9, 0)


def sub(unit: int, name: str, version: int, status: str = "checked", errors: int = 0, warnings: int = 0,
        minute: int = 0) -> Submission:
    return Submission(unit_id=unit, filename=name, slot=name.casefold(), version=version, status=status,
                      n_error=errors, n_warning=warnings, created_at=T0.replace(minute=minute))


def test_the_latest_version_of_each_file_counts():
    old, new = sub(1, "甲.xlsx", 1, errors=3), sub(1, "甲.xlsx", 2)
    other_unit = sub(2, "甲.xlsx", 1, errors=1)
    latest = board.latest_of([new, other_unit, old])  # order of arrival does not matter
    assert latest == {(1, "甲.xlsx"): new, (2, "甲.xlsx"): other_unit}


def test_a_unit_status_is_the_worst_of_its_latest_files_a_check_under_way_first():
    assert board.unit_status([]) == "未提交"
    assert board.unit_status([sub(1, "a.xlsx", 1)]) == "通过"
    assert board.unit_status([sub(1, "a.xlsx", 1, warnings=2), sub(1, "b.xlsx", 1)]) == "有警告"
    assert board.unit_status([sub(1, "a.xlsx", 1, warnings=2), sub(1, "b.xlsx", 1, errors=1)]) == "有错误"
    for waiting in ("queued", "checking"):
        assert board.unit_status([sub(1, "a.xlsx", 1, errors=5), sub(1, "b.xlsx", 1, status=waiting)]) == "检查中"
    # a check that failed counts by its findings (the failure is an error finding), not as under way
    assert board.unit_status([sub(1, "a.xlsx", 1, status="failed", errors=1)]) == "有错误"


def test_rows_one_per_unit_from_the_latest_versions():
    units = [Unit(id=1, name="甲单位"), Unit(id=2, name="乙单位"), Unit(id=3, name="丙单位")]
    subs = [sub(1, "自评表.xlsx", 1, errors=4, minute=1), sub(1, "自评表.xlsx", 2, warnings=1, minute=5),
            sub(1, "项目.xlsx", 1, minute=3), sub(2, "自评表.xlsx", 1, status="queued", minute=7)]
    rows = board.rows(units, subs)
    assert [r["unit"].name for r in rows] == ["甲单位", "乙单位", "丙单位"]  # the order given
    first, second, third = rows
    # the fixed second version replaced the first's four errors; every version is still counted
    assert (first["status"], first["files"], first["errors"], first["warnings"], first["versions"]) == (
        "有警告", 2, 0, 1, 3)
    assert first["last"] == T0.replace(minute=5)
    assert (second["status"], second["files"], second["versions"]) == ("检查中", 1, 1)
    assert (third["status"], third["files"], third["errors"], third["last"], third["versions"]) == (
        "未提交", 0, 0, None, 0)

    counts = board.counts(rows)
    assert list(counts) == board.BOARD  # every card, in the board's order, zeros included
    assert counts == {"未提交": 1, "检查中": 1, "有错误": 0, "有警告": 1, "通过": 0}
    assert [r["unit"].name for r in board.shown(rows, "检查中", None)] == ["乙单位"]
    assert [r["unit"].name for r in board.shown(rows, None, " 丙 ")] == ["丙单位"]
    assert board.shown(rows, "通过", None) == []
    assert len(board.shown(rows, "", "")) == 3


def act(sub_id: int, action: str, minute: int, id_: int = 0):
    from jixiao.server.db import ReviewAction

    return ReviewAction(id=id_ or minute, submission_id=sub_id, action=action, at=T0.replace(minute=minute))


def test_a_withdrawn_file_leaves_the_board_until_it_is_uploaded_again():
    v1, v2 = sub(1, "甲.xlsx", 1, errors=2), sub(1, "甲.xlsx", 2)
    v2.withdrawn_at = T0.replace(minute=9)
    assert board.latest_of([v1, v2]) == {}  # the earlier version does not come back in its place
    assert board.rows([Unit(id=1, name="甲单位")], [v1, v2])[0]["status"] == "未提交"
    v3 = sub(1, "甲.xlsx", 3, warnings=1)
    assert board.latest_of([v1, v2, v3]) == {(1, "甲.xlsx"): v3}


def test_a_files_review_state_follows_the_reviewers_last_word_on_its_latest_version():
    v1, v2 = sub(1, "a.xlsx", 1, errors=1), sub(1, "a.xlsx", 2)
    v1.id, v2.id = 101, 102
    assert board.file_review(v1, []) == "待审核"
    returned = [act(101, "return", 10)]
    assert board.file_review(v1, returned) == "已退回"
    assert board.returned_open(returned)  # the unit may upload it after the deadline
    # the unit uploaded again: the reviewer has to look again, and the late door stays open until they decide
    assert board.file_review(v2, returned) == "待审核" and board.returned_open(returned)
    approved = returned + [act(102, "approve", 20)]
    assert board.file_review(v2, approved) == "已通过" and board.locked(v2, approved)
    assert not board.returned_open(approved)
    reopened = approved + [act(102, "reopen", 30)]
    assert board.file_review(v2, reopened) == "待审核" and not board.locked(v2, reopened)
    # the same minute: the later row wins
    assert board.file_review(v2, [act(102, "approve", 40, 1), act(102, "reopen", 40, 2)]) == "待审核"


def test_a_units_review_state_waits_for_the_reviewer_first_then_for_the_unit():
    assert board.unit_review([]) is None
    assert board.unit_review(["已通过", "已通过"]) == "已通过"
    assert board.unit_review(["已通过", "已退回"]) == "已退回"
    assert board.unit_review(["已退回", "待审核", "已通过"]) == "待审核"


def test_board_rows_carry_review_states_and_completion():
    units = [Unit(id=1, name="甲单位"), Unit(id=2, name="乙单位"), Unit(id=3, name="丙单位"), Unit(id=4, name="丁单位")]
    subs = [sub(1, "a.xlsx", 1, errors=1), sub(1, "a.xlsx", 2), sub(2, "b.xlsx", 1), sub(3, "c.xlsx", 1, errors=2)]
    for i, s in enumerate(subs, start=1):
        s.id = i
    actions = [act(1, "return", 1), act(2, "approve", 2), act(3, "approve", 3), act(4, "return", 4)]
    rows = board.rows(units, subs, actions, {2: T0})
    assert [r["review"] for r in rows] == ["已通过", "已通过", "已退回", None]
    assert [r["complete"] for r in rows] == [None, T0, None, None]
    assert board.review_counts(rows) == {"待审核": 0, "已退回": 1, "已通过": 2}
    assert [r["unit"].name for r in board.shown(rows, None, None, "已退回")] == ["丙单位"]
    # a decision on another round's submission (not among ``subs``) is ignored
    assert board.rows(units, subs, [act(99, "return", 5)])[0]["review"] == "待审核"
