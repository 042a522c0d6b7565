"""The forms the harness transforms: every corpus form (tests/corpus/forms) and the bundled samples
(seed 000 in the bureau's layout, as the demo writes it, and generated bureau-layout submissions with
each kind of mistake injected)."""
from __future__ import annotations

import json
import random
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from jixiao.samples import submissions

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "forms"


def _seed000() -> dict:
    return json.loads(resources.files("jixiao.samples").joinpath("hunan-2024-dept.json").read_text("utf-8"))


def _bureau(injection: str) -> Callable[[], bytes]:
    return lambda: submissions.make_submission(random.Random(f"metamorphic-{injection}"), "bureau", injection)[0]


SOURCES: dict[str, Callable[[], bytes]] = {p.stem: p.read_bytes for p in sorted(CORPUS.glob("*.xlsx"))}
SOURCES["sample_seed000_bureau"] = lambda: submissions.bureau_bytes(_seed000(), {"exec_score": 9, "sum": 90})
SOURCES["sample_seed000_wrong_denominator"] = lambda: submissions.bureau_bytes(
    _seed000(), {"exec_score": 9, "sum": 90, "rate": "149.75%"})
for _inj in submissions.INJECTIONS:
    if _inj not in submissions.TEMPLATE_ONLY:
        SOURCES[f"sample_bureau_{_inj}"] = _bureau(_inj)
