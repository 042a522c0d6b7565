"""抽查复核's draw: which forms of a round a bureau re-scores, at random with a recorded seed.

The population is every form of the round (整体支出 and 项目支出, one per sheet of a workbook), ordered by a key
that does not depend on upload order, so the same seed over the same population draws the same sample. A draw
is uniform, or weighted by risk (``data/sampling.toml``: errors, a 自评分 above the rules' total, a high 自评分
with a low 执行率); the reviewer may then add and remove forms before confirming it.

Example:
    >>> pop = [Candidate(f"s{i}", f"单位{i}", "dept", "自评表.xlsx") for i in range(10)]
    >>> draw(pop, size=3, seed=42).keys == draw(list(reversed(pop)), size=3, seed=42).keys
    True
"""
from __future__ import annotations

import math
import random
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..rules import error_codes
from . import data_file

error_codes({"sampling.invalid": "抽查设置有误"})

FORM_KINDS = ("dept", "project")
KIND_LABELS = {"dept": "部门整体支出", "project": "项目支出"}


def settings() -> dict[str, Any]:
    """``data/sampling.toml``, read once."""
    return data_file("sampling")


@dataclass(frozen=True)
class Candidate:
    """One form that may be drawn: its key (the submission's id, with ``#sheet`` for a form after the first of a
    workbook), whose it is, and the facts its risk is weighed by."""

    key: str
    unit: str
    kind: str
    label: str
    errors: int = 0
    claimed: float | None = None  # the unit's own 总分
    rule: float | None = None  # jixiao's rule total
    exec_rate: float | None = None

    @property
    def over(self) -> float:
        """Points the unit's own 总分 exceeds the rules' total (0 when it does not)."""
        if self.claimed is None or self.rule is None:
            return 0.0
        return max(0.0, round(self.claimed - self.rule, 2))


def risk(c: Candidate, weights: dict[str, Any] | None = None) -> float:
    """A form's draw weight: base + its risks, each as ``data/sampling.toml`` [risk] weighs it."""
    w = weights or settings()["risk"]
    r = float(w["base"]) + float(w["per_error"]) * c.errors + float(w["per_point_over"]) * c.over
    if c.claimed is not None and c.exec_rate is not None \
            and c.claimed >= float(w["high_self_min"]) and c.exec_rate < float(w["low_exec_max"]):
        r += float(w["high_self"])
    return r


def why(c: Candidate, weights: dict[str, Any] | None = None) -> str:
    """The risks that weigh a form, in Chinese (blank when none)."""
    w = weights or settings()["risk"]
    parts = []
    if c.errors:
        parts.append(f"错误 {c.errors} 条")
    if c.over:
        parts.append(f"自评分高于规则分 {c.over:g} 分")
    if c.claimed is not None and c.exec_rate is not None \
            and c.claimed >= float(w["high_self_min"]) and c.exec_rate < float(w["low_exec_max"]):
        parts.append(f"自评分 {c.claimed:g} 而执行率 {c.exec_rate:.2%}")
    return "；".join(parts)


def sample_size(population: int, size: int | None = None, share: float | None = None) -> int:
    """How many forms a draw takes: ``size`` forms, or ``share`` percent of the population rounded up."""
    if (size is None) == (share is None):
        raise ValueError("请填写抽查数量或比例（二选一）")
    if size is not None:
        if size < 1:
            raise ValueError("抽查数量应为正整数")
        n = size
    else:
        assert share is not None
        if not 0 < share <= 100:
            raise ValueError("抽查比例应在 0 到 100 之间")
        n = math.ceil(population * share / 100 - 1e-9)
    limit = int(settings()["draw"]["max_size"])
    if n > limit:
        raise ValueError(f"一次最多抽查 {limit} 份")
    return min(n, population)


def new_seed() -> int:
    """A fresh seed for a draw the bureau does not seed itself (recorded with the draw)."""
    return secrets.randbelow(10**9)


@dataclass(frozen=True)
class Sample:
    """A draw: its seed and how it was made, the forms drawn, and the reviewer's changes before confirming."""

    seed: int
    weighted: bool
    size: int
    drawn: tuple[str, ...]
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    population: int = 0

    @property
    def keys(self) -> tuple[str, ...]:
        """The sample as it stands: drawn minus removed, then added, in order."""
        return tuple(k for k in self.drawn if k not in self.removed) + tuple(k for k in self.added
                                                                            if k not in self.removed)

    def adjust(self, add: Iterable[str] = (), remove: Iterable[str] = ()) -> "Sample":
        """The sample with forms added or removed by hand (a removed form added again is back)."""
        added, removed = list(self.added), list(self.removed)
        for k in add:
            if k in removed:
                removed.remove(k)
            elif k not in self.drawn and k not in added:
                added.append(k)
        for k in remove:
            if k in added:
                added.remove(k)
            elif k in self.drawn and k not in removed:
                removed.append(k)
        return replace(self, added=tuple(added), removed=tuple(removed))

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "weighted": self.weighted, "size": self.size, "drawn": list(self.drawn),
                "added": list(self.added), "removed": list(self.removed), "population": self.population}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Sample":
        return cls(int(d["seed"]), bool(d["weighted"]), int(d["size"]), tuple(d["drawn"]), tuple(d.get("added", ())),
                   tuple(d.get("removed", ())), int(d.get("population", 0)))


def draw(population: Sequence[Candidate], *, seed: int, size: int | None = None, share: float | None = None,
         weighted: bool = False, weights: dict[str, Any] | None = None) -> Sample:
    """Draw a sample: uniform, or weighted by :func:`risk` (each form's chance grows with its weight; weighted
    sampling without replacement, each form keyed by u^(1/weight)). Reproducible: the population is ordered by
    key first, so the same seed over the same forms gives the same sample whatever order they come in."""
    ordered = sorted(population, key=lambda c: c.key)
    if len({c.key for c in ordered}) != len(ordered):
        raise ValueError("抽查范围中有重复的表")
    n = sample_size(len(ordered), size, share)
    rng = random.Random(seed)
    if weighted:
        keyed = sorted(ordered, key=lambda c: rng.random() ** (1.0 / risk(c, weights)), reverse=True)
        chosen = [c.key for c in keyed[:n]]
    else:
        chosen = [c.key for c in rng.sample(ordered, n)]
    return Sample(seed, weighted, n, tuple(chosen), population=len(ordered))


def candidates(key: str, unit: str, label: str, result: dict[str, Any] | None, errors: int) -> list[Candidate]:
    """The forms of one checked file (a ``FileResult.to_dict()``) as candidates: one per 整体支出 or 项目支出
    form it holds, keyed ``key`` for the first and ``key#sheet`` for the others."""
    out: list[Candidate] = []
    for i, f in enumerate((result or {}).get("forms") or []):
        if f.get("kind") not in FORM_KINDS:
            continue
        k = key if not out else f"{key}#{f.get('sheet')}"
        name = label if not f.get("project") else f"{label}（{f['project']}）"
        out.append(Candidate(k, unit, str(f["kind"]), name, errors if i == 0 else 0, _num(f.get("claimed")),
                             _num(f.get("total")), _num(f.get("exec_rate"))))
    return out


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


@dataclass
class SampleRow:
    """One line of the exported sample."""

    no: int
    candidate: Candidate
    how: str  # 随机抽取 / 人工增加
    risk: float
    why: str = field(default="")


def rows(sample: Sample, population: Sequence[Candidate], weights: dict[str, Any] | None = None) -> list[SampleRow]:
    by_key = {c.key: c for c in population}
    out = []
    for i, k in enumerate(sample.keys, 1):
        c = by_key.get(k)
        if c is None:
            continue
        how = "人工增加" if k in sample.added else ("按风险加权随机抽取" if sample.weighted else "随机抽取")
        out.append(SampleRow(i, c, how, round(risk(c, weights), 2), why(c, weights)))
    return out


def sample_xlsx(round_name: str, sample: Sample, lines: Sequence[SampleRow], confirmed: str | None) -> bytes:
    """The sample as .xlsx: each form with how it was drawn and its risk, and how the draw was made (seed,
    size, weighting, changes by hand, who confirmed it and when) so it can be reproduced."""
    from openpyxl import Workbook

    from .exports import _bytes, _sheet

    wb = Workbook()
    _sheet(wb, "抽查样本", ["序号", "单位", "自评表", "类别", "抽取方式", "风险权重", "风险说明"],
           [[r.no, r.candidate.unit, r.candidate.label, KIND_LABELS.get(r.candidate.kind, ""), r.how, r.risk, r.why]
            for r in lines], [6, 28, 36, 12, 16, 10, 40])
    about: list[list[Any]] = [["批次", round_name], ["随机种子", sample.seed],
                              ["抽取方式", "按风险加权" if sample.weighted else "简单随机"], ["抽取份数", sample.size],
                              ["可抽范围（份）", sample.population], ["人工增加", len(sample.added)],
                              ["人工移除", len(sample.removed)], ["确认", confirmed or "未确认"]]
    _sheet(wb, "抽取说明", ["项目", "内容"], about, [16, 40])
    wb.properties.title = f"{round_name} 抽查样本"
    return _bytes(wb)
