"""抽查复核 and 工作考核 on a round's rows: the population of forms, the round's draw, the reviewers' 复核得分 and
工作考核 scores. The rules are in ``jixiao.season`` (sampling, recheck, assessment); this module reads and
writes the rows, each change in the audit log, and never reads a submitted file (the worker's results hold the
rows a form is re-scored by)."""
from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..season import assessment, recheck, requirements, sampling
from . import board as rules
from .db import AssessmentScore, Recheck, Round, Sample, Submission, Unit, User, now
from .records import audit
from .standing import board_rows

ANNEXES = (requirements.DEPT, requirements.BASIC, requirements.PROJECT)  # a report's 附件: the tables


def refuse(status: int, message: str, code: str) -> HTTPException:
    return HTTPException(status, f"{message} [{code}]")


def latest_checked(db: Session, rnd: Round) -> list[Submission]:
    """The latest version of every file of the round that the worker has checked, in a stable order."""
    subs = db.scalars(select(Submission).where(Submission.round_id == rnd.id)).all()
    latest = [s for s in rules.latest_of(subs).values() if s.status == "checked"]
    return sorted(latest, key=lambda s: (s.unit.name, s.filename, s.public_id))


@dataclass
class Population:
    """The forms a round's draw picks from, and where each one is (submission, its form's index)."""

    candidates: list[sampling.Candidate]
    where: dict[str, tuple[Submission, int]]


def population(db: Session, rnd: Round) -> Population:
    cands: list[sampling.Candidate] = []
    where: dict[str, tuple[Submission, int]] = {}
    for s in latest_checked(db, rnd):
        forms = (s.result or {}).get("forms") or []
        found = sampling.candidates(s.public_id, s.unit.name, s.filename, s.result, s.n_error)
        idx = [i for i, f in enumerate(forms) if f.get("kind") in sampling.FORM_KINDS]
        for c, i in zip(found, idx):
            cands.append(c)
            where[c.key] = (s, i)
    return Population(cands, where)


def current(db: Session, rid: int) -> Sample | None:
    return db.scalar(select(Sample).where(Sample.round_id == rid))


def draw(db: Session, user: User, rnd: Round, size: int | None, share: float | None, seed: int | None,
         weighted: bool, request: Request | None) -> sampling.Sample:
    """A new draw for the round (replacing an unconfirmed one); audited with its seed."""
    row = current(db, rnd.id)
    if row is not None and row.confirmed_at is not None:
        raise refuse(409, "抽查样本已确认，不能重新抽取", "sampling.confirmed")
    pop = population(db, rnd)
    if not pop.candidates:
        raise refuse(409, "本批次还没有检查完的自评表可供抽查", "sampling.empty")
    try:
        got = sampling.draw(pop.candidates, seed=sampling.new_seed() if seed is None else seed, size=size,
                            share=share, weighted=weighted)
    except ValueError as e:
        raise refuse(422, str(e), "sampling.invalid") from e
    if row is None:
        row = Sample(round_id=rnd.id, draw=got.to_dict(), user_id=user.id)
        db.add(row)
    else:
        row.draw, row.user_id, row.at = got.to_dict(), user.id, now()
    audit(db, user, "sampling.draw", f"round {rnd.id}",
          f"seed={got.seed} size={got.size} weighted={int(weighted)} population={got.population} "
          f"drawn={','.join(got.drawn)}", request)
    return got


def adjust(db: Session, user: User, rnd: Round, add: list[str], remove: list[str], request: Request | None) -> None:
    row = _open(db, rnd)
    known = set(population(db, rnd).where)
    bad = [k for k in add if k not in known]
    if bad:
        raise refuse(422, "只能增加本批次已检查的自评表", "sampling.invalid")
    row.draw = sampling.Sample.from_dict(row.draw).adjust(add, remove).to_dict()
    audit(db, user, "sampling.adjust", f"round {rnd.id}", f"add={','.join(add)} remove={','.join(remove)}", request)


def confirm(db: Session, user: User, rnd: Round, request: Request | None) -> None:
    row = _open(db, rnd)
    row.confirmed_at, row.confirmed_by = now(), user.name
    audit(db, user, "sampling.confirm", f"round {rnd.id}", ",".join(sampling.Sample.from_dict(row.draw).keys), request)


def _open(db: Session, rnd: Round) -> Sample:
    row = current(db, rnd.id)
    if row is None:
        raise refuse(409, "尚未抽取样本", "sampling.none")
    if row.confirmed_at is not None:
        raise refuse(409, "抽查样本已确认，不能再修改", "sampling.confirmed")
    return row


def sample_rows(db: Session, rnd: Round) -> tuple[Sample | None, list[sampling.SampleRow], Population]:
    pop = population(db, rnd)
    row = current(db, rnd.id)
    if row is None:
        return None, [], pop
    return row, sampling.rows(sampling.Sample.from_dict(row.draw), pop.candidates), pop


# ------------------------------------------------------------------------------------------------ 复核


def sampled_form(db: Session, rnd: Round, key: str) -> tuple[sampling.Candidate, Submission, dict]:
    """A form of the round's sample: its candidate, submission and form entry (404 when not sampled)."""
    row, got, pop = sample_rows(db, rnd)
    for r in got:
        if r.candidate.key == key:
            sub, i = pop.where[key]
            return r.candidate, sub, ((sub.result or {}).get("forms") or [])[i]
    raise refuse(404, "该表不在抽查样本中", "recheck.not_sampled")


def entered(db: Session, key: str) -> dict[int, recheck.Entered]:
    return {r.row: recheck.Entered(r.score, r.reason or "")
            for r in db.scalars(select(Recheck).where(Recheck.form_key == key))}


def save_recheck(db: Session, user: User, rnd: Round, key: str, scores: dict[int, str], reasons: dict[int, str],
                 request: Request | None) -> int:
    """Store the 复核得分 typed for a sampled form's rows (blank: the rules' score stands); returns how many."""
    _, _, form = sampled_form(db, rnd, key)
    rows = {r.index: r for r in recheck.rows_of(form)}
    saved = 0
    for i, text in scores.items():
        if i not in rows:
            raise refuse(422, "没有这一行", "recheck.invalid")
        db.execute(delete(Recheck).where(Recheck.form_key == key, Recheck.row == i))
        if not str(text).strip():
            continue
        try:
            x = recheck.parse_score(text, rows[i].weight)
        except ValueError as e:
            raise refuse(422, f"第 {i + 1} 行（{rows[i].name}）：{e}", "recheck.invalid") from e
        db.add(Recheck(round_id=rnd.id, form_key=key, row=i, score=x, reason=(reasons.get(i) or "")[:2000],
                       user_name=user.name))
        saved += 1
    audit(db, user, "recheck.save", key, f"{saved} rows", request)
    return saved


def form_recheck(db: Session, rnd: Round, key: str) -> recheck.FormRecheck:
    cand, _, form = sampled_form(db, rnd, key)
    return recheck.FormRecheck(cand.unit, cand.label, recheck.lines(recheck.rows_of(form), entered(db, key)))


def round_rechecks(db: Session, rnd: Round) -> list[recheck.FormRecheck]:
    _, got, _ = sample_rows(db, rnd)
    return [form_recheck(db, rnd, r.candidate.key) for r in got]


# ------------------------------------------------------------------------------------------- 工作考核


def unit_sheet(db: Session, rnd: Round, unit: Unit, row: dict | None = None) -> assessment.Sheet:
    """A unit's 工作考核评分表 from what the round holds and the reviewers' scores."""
    row = row if row is not None else next(r for r in board_rows(db, rnd) if r["unit"].id == unit.id)
    subs = [s for s in latest_checked(db, rnd) if s.unit_id == unit.id]
    labels = requirements.labels()
    annexes = [labels[k] for k in ANNEXES]
    missing = [m for m in row.get("missing") or []]
    annex_missing = [m for m in missing if any(m.startswith(a) for a in annexes)]
    facts = assessment.facts_from([s.result or {} for s in subs], [f for s in subs for f in s.findings or []],
                                  row.get("days_late") if subs else None, annex_missing, annex_missing)
    judged = {a.item: assessment.Judged(a.score, a.reason or "") for a in db.scalars(
        select(AssessmentScore).where(AssessmentScore.round_id == rnd.id, AssessmentScore.unit_id == unit.id))}
    return assessment.assess(facts, judged)


def round_sheets(db: Session, rnd: Round) -> list[tuple[Unit, assessment.Sheet]]:
    return [(r["unit"], unit_sheet(db, rnd, r["unit"], r)) for r in board_rows(db, rnd)]


def save_assessment(db: Session, user: User, rnd: Round, unit: Unit, scores: dict[str, str],
                    reasons: dict[str, str], request: Request | None) -> None:
    items = {it.key: it for it in assessment.items()}
    for key, text in scores.items():
        if key not in items:
            raise refuse(422, "没有这个考核项目", "assessment.invalid")
        db.execute(delete(AssessmentScore).where(AssessmentScore.round_id == rnd.id,
                                                 AssessmentScore.unit_id == unit.id, AssessmentScore.item == key))
        if not str(text).strip():
            continue
        try:
            x = assessment.parse_points(text, items[key])
        except ValueError as e:
            raise refuse(422, str(e), "assessment.invalid") from e
        db.add(AssessmentScore(round_id=rnd.id, unit_id=unit.id, item=key, score=x,
                               reason=(reasons.get(key) or "")[:2000], user_name=user.name))
    audit(db, user, "assessment.save", f"round {rnd.id} unit {unit.id}", ",".join(scores), request)
