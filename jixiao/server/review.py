"""Review of a round's files: 退回修改, 审核通过, 重新打开, a word per finding; a unit's 撤回 and 提交完毕.

The states are read by the board's rules (``board.file_review``) from the rows of ``review_actions``;
this module records the decisions (each in the audit log), says which uploads a round takes now, and
gathers what the pages and the API show of a review.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy import and_, bindparam, delete, join, outerjoin, select
from sqlalchemy.orm import Session

from ..rules import error_codes
from ..season import lateness
from . import board as rules
from .db import Completion, FindingReview, ReviewAction, Round, Submission, User, light, now
from .pages import local, utc
from .records import audit, named_round, no_round

error_codes({
    "review.forbidden": "无权进行此审核操作",
    "review.invalid": "审核请求有误",
    "review.comment_required": "退回修改须写明意见",
    "review.nothing_submitted": "尚未提交任何文件",
    "review.locked": "文件已审核通过并锁定",
    "review.not_latest": "不是文件的最新版本",
    "review.not_checked": "文件尚未检查完",
    "review.state": "审核状态不允许这样操作",
    "review.reason_required": "不采纳须写明理由",
    "review.no_finding": "没有这条问题",
    "round.closed": "批次已关闭",
    "round.past_deadline": "已过截止时间",
})

ACTIONS = {"return": "退回修改", "approve": "审核通过", "reopen": "重新打开"}
VERDICTS = {"agree": "同意", "reject": "不采纳"}
MAX_TEXT = 2000
# which decision may follow which state of the file
ALLOWED = {"return": {rules.PENDING}, "approve": {rules.PENDING, rules.RETURNED},
           "reopen": {rules.RETURNED, rules.APPROVED}}


def refuse(status: int, message: str, code: str) -> HTTPException:
    return HTTPException(status, f"{message} [{code}]")


def past_deadline(rnd: Round, at: datetime | None = None) -> bool:
    return rnd.deadline is not None and (at or now()) > rnd.deadline


def slot_actions(db: Session, round_id: int, unit_id: int, slot: str | None = None) -> dict[str, list[ReviewAction]]:
    """The decisions on every version of a unit's files in a round, by slot (of one slot when given)."""
    q = (select(ReviewAction, Submission.slot).join(Submission, ReviewAction.submission_id == Submission.id)
         .where(Submission.round_id == round_id, Submission.unit_id == unit_id))
    if slot is not None:
        q = q.where(Submission.slot == slot)
    out: dict[str, list[ReviewAction]] = {}
    for a, s in db.execute(q).all():
        out.setdefault(s, []).append(a)
    return out


def round_actions(db: Session, round_id: int) -> list[ReviewAction]:
    return list(db.scalars(select(ReviewAction).join(Submission, ReviewAction.submission_id == Submission.id)
                           .where(Submission.round_id == round_id)))


def completions(db: Session, round_id: int) -> dict[int, datetime]:
    return {c.unit_id: c.at for c in db.scalars(select(Completion).where(Completion.round_id == round_id))}


def latest_versions(db: Session, round_id: int, unit_id: int, slots: set[str] | None = None) -> dict[str, Submission]:
    """The latest version of each of the unit's files in the round (of ``slots`` only, when given)."""
    q = select(Submission).where(Submission.round_id == round_id, Submission.unit_id == unit_id).options(*light())
    if slots is not None:
        q = q.where(Submission.slot.in_(slots))
    return {slot: s for (_, slot), s in rules.latest_of(db.scalars(q).all()).items()}


@dataclass
class Gate:
    """What a round takes from a unit now: its files' review states, the round's deadline and whether it is closed."""
    closed: bool
    late: bool
    deadline: datetime | None
    returned: set[str] = field(default_factory=set)  # slots the unit may upload after the deadline
    locked: set[str] = field(default_factory=set)  # slots approved as they stand

    def before(self) -> None:
        """Refuse the whole upload (before its files are sorted) when nothing of it could be taken."""
        if self.closed:
            raise refuse(409, "本批次已关闭，不能再提交", "round.closed")
        if self.late and not self.returned:
            raise refuse(409, f"已过截止时间（{local(self.deadline)}），不能再提交；请联系绩效科", "round.past_deadline")

    def why_not(self, name: str) -> tuple[str, str] | None:
        """Why one file of the upload is refused: (code, Chinese reason), or None when it is taken."""
        slot = name.casefold()
        if slot in self.locked:
            return "review.locked", "这个文件已审核通过并锁定，不能再提交新版本；如需修改请联系绩效科重新打开 [review.locked]"
        if self.late and slot not in self.returned:
            return "round.past_deadline", (f"已过截止时间（{local(self.deadline)}），只有被退回修改的文件可以重新提交"
                                           " [round.past_deadline]")
        return None

    def sort(self, taken: Any) -> None:
        """Move the files the round does not take now from ``taken.accepted`` to ``taken.refused``."""
        keep = []
        for entry in taken.accepted:
            why = self.why_not(entry[0])
            if why:
                taken.refuse(entry[0], why[1], why[0])
            else:
                keep.append(entry)  # the same entry: what was staged of it is found by it
        taken.accepted = keep


def gate(db: Session, rnd: Round, unit_id: int) -> Gate:
    return _gate(db, rnd, unit_id, slot_actions(db, rnd.id, unit_id))


def upload_gate(db: Session, raw_round: Any, unit_id: int) -> tuple[Round, Gate]:
    """The round an upload names (``records.named_round``) and what it takes from the unit now: the round
    and the decisions on the unit's files there in one statement (an upload's only read before its files
    are staged, unless some of them were decided)."""
    decided = join(ReviewAction, Submission, and_(ReviewAction.submission_id == Submission.id,
                                                  Submission.unit_id == unit_id))
    rows = db.execute(select(Round, ReviewAction, Submission.slot)
                      .select_from(outerjoin(Round, decided, Submission.round_id == Round.id))
                      .where(named_round(raw_round))).all()
    if not rows:
        raise no_round(raw_round)
    by_slot: dict[str, list[ReviewAction]] = {}
    for _, action, slot in rows:
        if action is not None:
            by_slot.setdefault(slot, []).append(action)
    rnd = rows[0][0]
    return rnd, _gate(db, rnd, unit_id, by_slot)


def _gate(db: Session, rnd: Round, unit_id: int, by_slot: dict[str, list[ReviewAction]]) -> Gate:
    latest = latest_versions(db, rnd.id, unit_id, set(by_slot)) if by_slot else {}  # only decided files can be locked
    # a round that accepts late uploads (jixiao.season.lateness) counts their days instead of refusing them
    late = past_deadline(rnd) and not lateness.takes_late(rnd.late_policy)
    g = Gate(closed=rnd.closed_at is not None, late=late, deadline=rnd.deadline)
    for slot, acts in by_slot.items():
        if rules.returned_open(acts):
            g.returned.add(slot)
        if rules.locked(latest.get(slot), acts):
            g.locked.add(slot)
    return g


def may_upload(db: Session, rnd: Round, unit_id: int) -> bool:
    """Whether the unit's page offers the upload: the round is open, or a returned file waits for it."""
    g = gate(db, rnd, unit_id)
    return not g.closed and (not g.late or bool(g.returned))


_UNCOMPLETE = (delete(Completion)
               .where(Completion.round_id == bindparam("r"), Completion.unit_id.in_(bindparam("us", expanding=True)))
               .returning(Completion.unit_id))


def uncomplete(db: Session, round_id: int, unit_ids: list[int]) -> list[int]:
    """New versions came in, or one was withdrawn: a 提交完毕 the units said before no longer holds. The units
    whose 提交完毕 is gone (one statement for them all: every upload group runs it)."""
    return list(db.connection().execute(_UNCOMPLETE, {"r": round_id, "us": unit_ids}).scalars()) if unit_ids else []


def clear_complete(db: Session, user: User, round_id: int, why: str, request: Request | None) -> None:
    if user.unit_id is not None and uncomplete(db, round_id, [user.unit_id]):
        audit(db, user, INCOMPLETE, f"round {round_id}", why, request)


INCOMPLETE = "round.incomplete"  # the audit line of a 提交完毕 taken back


# ---------------------------------------------------------------------------------------- decisions


def _reviewable(db: Session, sub: Submission) -> list[ReviewAction]:
    """The decisions on the file of ``sub``, once ``sub`` is its latest version and has been checked."""
    latest = latest_versions(db, sub.round_id, sub.unit_id).get(sub.slot)
    if latest is None or latest.id != sub.id:
        raise refuse(409, "只能审核一个文件的最新版本（已撤回的文件不能审核）", "review.not_latest")
    if sub.status in ("queued", "checking"):
        raise refuse(409, "检查完成后才能审核", "review.not_checked")
    return slot_actions(db, sub.round_id, sub.unit_id, sub.slot).get(sub.slot, [])


def decide(db: Session, user: User, sub: Submission, action: str, comment: str | None,
           request: Request | None = None) -> ReviewAction:
    """A reviewer returns (with a comment), approves or reopens the latest version of a file."""
    if user.role != "bureau":
        raise refuse(403, "只有绩效科可以审核", "review.forbidden")
    if action not in ACTIONS:
        raise refuse(422, "审核操作只能是 return（退回修改）、approve（审核通过）或 reopen（重新打开）", "review.invalid")
    comment = (comment or "").strip()[:MAX_TEXT] or None
    if action == "return" and not comment:
        raise refuse(422, "退回修改须写明意见，填报单位会看到这段话", "review.comment_required")
    state = rules.file_review(sub, _reviewable(db, sub))
    if state not in ALLOWED[action]:
        hint = "请先重新打开" if state == rules.APPROVED else ""
        raise refuse(409, f"这个文件目前“{state}”，不能{ACTIONS[action]}{('；' + hint) if hint else ''}", "review.state")
    row = ReviewAction(submission_id=sub.id, action=action, comment=comment, user_id=user.id, user_name=user.name,
                       at=now())
    db.add(row)
    audit(db, user, f"review.{action}", sub.public_id, f"{sub.filename} v{sub.version}" + (f"：{comment}" if comment else ""),
          request)
    db.flush()
    return row


def finding_keys(sub: Submission) -> set[tuple[str, str, str]]:
    return {(f["rule"], f.get("sheet") or "", f.get("cell") or "") for f in sub.findings or []}


def comment_finding(db: Session, user: User, sub: Submission, rule: str, sheet: str | None, cell: str | None,
                    verdict: str, reason: str | None, request: Request | None = None) -> FindingReview:
    """A reviewer agrees with a finding (同意) or sets it aside (不采纳, with a reason); a later word replaces it."""
    if user.role != "bureau":
        raise refuse(403, "只有绩效科可以审核", "review.forbidden")
    if verdict not in VERDICTS:
        raise refuse(422, "意见只能是 agree（同意）或 reject（不采纳）", "review.invalid")
    reason = (reason or "").strip()[:MAX_TEXT] or None
    if verdict == "reject" and not reason:
        raise refuse(422, "不采纳须写明理由", "review.reason_required")
    key = (rule or "", sheet or "", cell or "")
    if key not in finding_keys(sub):
        raise refuse(404, "这个文件没有这条问题", "review.no_finding")
    row = db.scalar(select(FindingReview).where(FindingReview.submission_id == sub.id, FindingReview.rule == key[0],
                                                FindingReview.sheet == key[1], FindingReview.cell == key[2]))
    if row is None:
        row = FindingReview(submission_id=sub.id, rule=key[0], sheet=key[1], cell=key[2])
        db.add(row)
    row.verdict, row.reason, row.user_id, row.user_name, row.at = verdict, reason, user.id, user.name, now()
    audit(db, user, "review.finding", sub.public_id,
          f"{sub.filename} v{sub.version} {key[1]}!{key[2]} {key[0]}：{VERDICTS[verdict]}" + (f"，{reason}" if reason else ""),
          request)
    db.flush()
    return row


def withdraw(db: Session, user: User, sub: Submission, request: Request | None = None) -> None:
    """A unit takes back a file (its latest version): it no longer counts in the round; the bytes stay stored."""
    if user.role != "unit" or user.unit_id != sub.unit_id:
        raise refuse(403, "只有提交这个文件的单位可以撤回", "review.forbidden")
    rnd = db.get(Round, sub.round_id)
    assert rnd is not None
    latest = latest_versions(db, sub.round_id, sub.unit_id).get(sub.slot)
    if latest is None or latest.id != sub.id:
        raise refuse(409, "只能撤回文件的最新版本", "review.not_latest")
    why = gate(db, rnd, sub.unit_id)
    why.before()
    reason = why.why_not(sub.filename)
    if reason:
        raise HTTPException(409, reason[1])
    sub.withdrawn_at = now()
    audit(db, user, "submission.withdraw", sub.public_id, f"{sub.filename} v{sub.version}", request)
    clear_complete(db, user, sub.round_id, "withdraw", request)


def mark_complete(db: Session, user: User, rnd: Round, request: Request | None = None) -> None:
    """A unit says it has submitted everything it means to (提交完毕)."""
    if user.role != "unit" or user.unit_id is None:
        raise refuse(403, "只有填报单位可以标记提交完毕", "review.forbidden")
    if rnd.closed_at is not None:
        raise refuse(409, "本批次已关闭", "round.closed")
    if not latest_versions(db, rnd.id, user.unit_id):
        raise refuse(409, "还没有提交任何文件，不能标记提交完毕", "review.nothing_submitted")
    if db.scalar(select(Completion).where(Completion.round_id == rnd.id, Completion.unit_id == user.unit_id)):
        return
    db.add(Completion(round_id=rnd.id, unit_id=user.unit_id, user_id=user.id, at=now()))
    audit(db, user, "round.complete", f"round {rnd.id}", rnd.name, request)


# ---------------------------------------------------------------------------------------- what is shown


def version_state(sub: Submission, latest: Submission | None, acts: list[ReviewAction]) -> str | None:
    """The review state of one version: its file's, when it is the latest; else what was decided on it, if anything."""
    if latest is not None and latest.id == sub.id:
        return rules.file_review(sub, acts)
    last = rules.last_action([a for a in acts if a.submission_id == sub.id])
    if last is None or last.action == "reopen":
        return None
    return rules.RETURNED if last.action == "return" else rules.APPROVED


def state_of(db: Session, sub: Submission) -> dict[str, Any]:
    """A version's review as the pages and the API show it."""
    acts = slot_actions(db, sub.round_id, sub.unit_id, sub.slot).get(sub.slot, [])
    latest = latest_versions(db, sub.round_id, sub.unit_id).get(sub.slot)
    mine = [a for a in acts if a.submission_id == sub.id]
    last = rules.last_action(mine)
    return {"state": version_state(sub, latest, acts), "action": last.action if last else None, "comment": last.comment if last else None,
            "by": last.user_name if last else None, "at": last.at if last else None,
            "late_upload": rules.returned_open(acts), "latest": latest is not None and latest.id == sub.id,
            "history": sorted(mine, key=lambda a: (a.at, a.id))}


def states(db: Session, subs: list[Submission]) -> dict[int, str | None]:
    """The review state of each of ``subs`` (as ``state_of`` says it), in two queries whatever their number."""
    pairs = {(s.round_id, s.unit_id) for s in subs}
    if not pairs:
        return {}
    rounds, units = {r for r, _ in pairs}, {u for _, u in pairs}
    files = {(s.round_id, s.unit_id, s.slot) for s in subs}  # only these files' versions: not a unit's all
    every = [s for s in db.scalars(select(Submission).where(
                 Submission.round_id.in_(rounds), Submission.unit_id.in_(units),
                 Submission.slot.in_({slot for _, _, slot in files})).options(*light()))
             if (s.round_id, s.unit_id, s.slot) in files]
    slot_of = {s.id: (s.round_id, s.unit_id, s.slot) for s in every}
    by_slot: dict[tuple[int, int, str], list[ReviewAction]] = {}
    for a in db.scalars(select(ReviewAction).where(ReviewAction.submission_id.in_(list(slot_of)))):
        by_slot.setdefault(slot_of[a.submission_id], []).append(a)
    latest = {(r, u, slot): s for r in rounds for (u, slot), s in
              rules.latest_of([s for s in every if s.round_id == r]).items()}
    return {s.id: version_state(s, latest.get((s.round_id, s.unit_id, s.slot)),
                                by_slot.get((s.round_id, s.unit_id, s.slot), [])) for s in subs}


def finding_words(db: Session, sub: Submission) -> dict[tuple[str, str, str], FindingReview]:
    return {(r.rule, r.sheet, r.cell): r for r in
            db.scalars(select(FindingReview).where(FindingReview.submission_id == sub.id))}


def api_view(db: Session, sub: Submission, findings: bool = True) -> dict[str, Any]:
    """What the API adds to a submission: its review and the reviewer's word per finding."""
    st = state_of(db, sub)
    out: dict[str, Any] = {
        "review": {"state": st["state"], "action": st["action"], "comment": st["comment"], "by": st["by"],
                   "at": utc(st["at"]), "late_upload_allowed": st["late_upload"]}}
    if findings:
        out["finding_reviews"] = [{"rule": r.rule, "sheet": r.sheet or None, "cell": r.cell or None,
                                   "verdict": r.verdict, "verdict_zh": VERDICTS[r.verdict], "reason": r.reason,
                                   "by": r.user_name, "at": utc(r.at)}
                                  for r in sorted(finding_words(db, sub).values(), key=lambda r: r.id)]
    return out


def page_context(db: Session, user: User, sub: Submission) -> dict[str, Any]:
    """What the submission page shows of the review, and which buttons it offers to whom."""
    st = state_of(db, sub)
    rnd = db.get(Round, sub.round_id)
    assert rnd is not None
    can_withdraw = False
    if user.role == "unit" and st["latest"]:
        g = gate(db, rnd, sub.unit_id)
        can_withdraw = not g.closed and (not g.late or sub.slot in g.returned) and sub.slot not in g.locked
    actions = []
    if user.role == "bureau" and st["latest"] and sub.status not in ("queued", "checking"):
        actions = [a for a, allowed in ALLOWED.items() if st["state"] in allowed]
    return {"review": st, "review_actions": actions, "ACTIONS": ACTIONS, "VERDICTS": VERDICTS,
            "words": finding_words(db, sub), "can_withdraw": can_withdraw}


def unit_context(db: Session, user: User, rnd: Round, unit_id: int, latest: list[Submission]) -> dict[str, Any]:
    """What a unit's page of a round shows of the review: each file's state and comment, 提交完毕."""
    by_slot = slot_actions(db, rnd.id, unit_id)
    files: dict[int, dict[str, Any]] = {}
    states: list[str] = []
    for s in latest:
        acts = by_slot.get(s.slot, [])
        states.append(rules.file_review(s, acts))
        files[s.id] = {"state": states[-1], "last": rules.last_action(acts)}
    done = db.scalar(select(Completion).where(Completion.round_id == rnd.id, Completion.unit_id == unit_id))
    return {"reviews": files, "unit_review": rules.unit_review(states),
            "complete_at": done.at if done else None,
            "may_upload": may_upload(db, rnd, unit_id), "ACTION_ZH": ACTIONS}
