"""Every finding on the benchmark set, the corpus and the samples is the one recorded before the speed work
(issue 20): a change made for speed cannot change what a reviewer sees.

tests/fixtures/findings_before.json was written by tests/fixtures/make_findings_before.py from the code before
the change; this test computes the same now and compares file by file, finding by finding.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIXTURES))

import make_findings_before as before  # noqa: E402


@pytest.fixture(scope="module")
def now():
    return before.findings_now()


@pytest.fixture(scope="module")
def recorded():
    return json.loads(before.OUT.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["bench", "corpus", "samples"])
def test_every_finding_is_the_one_recorded_before(name, now, recorded):
    was, is_ = recorded[name], now[name]
    assert [r["file"] for r in is_] == [r["file"] for r in was]
    for a, b in zip(was, is_):
        assert b["findings"] == a["findings"], a["file"]
        assert b == a, a["file"]  # route, profile, totals and each form's rows too


def test_the_record_holds_findings_of_every_set(recorded):
    """The comparison means something: each set has files with findings, errors among them."""
    for name in ("bench", "corpus", "samples"):
        findings = [f for r in recorded[name] for f in r["findings"]]
        assert any(f["severity"] == "error" for f in findings), name
    assert {r["route"] for r in recorded["bench"]} == {"template", "values"}
