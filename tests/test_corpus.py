"""The real-form corpus (tests/corpus): recall on keyed mistakes and false errors, per rule and per province.

Each key was written from the published numbers before jixiao ran on the form. A keyed mistake is found
when a finding of its rule points at its cell with its expected value (any severity: judged mistakes are
warnings); an over-achievement finding's expected value is its threshold, and the target it was measured
against is in its ``extra``. A false error is an error-level finding on a keyed correct cell, or any error-level finding
on a clean form except the rules its key lists as unchecked (rows cut off a partial form).

A key may list ``known_gaps``: what jixiao is known not to do on that form yet, each with its reason. A gap is
``missed`` (a keyed mistake not found), ``false_error`` (an error-level finding on a correct cell or a clean
form) or ``unread`` (a finding showing that part of the form was not read, at any severity). Gaps are printed
with the table, never silently passed; a gap that no longer occurs fails the test, so that it is removed.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from jixiao.checking.checker import check_file

CORPUS = Path(__file__).parent / "corpus"
KEYS = sorted((CORPUS / "keys").glob("*.json"))


def _number(x: object) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, (int, float)):
        return float(x)
    m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*%?\s*", str(x))
    return float(m.group(1)) if m else None


def _expected_matches(key_value: object, found: object) -> bool:
    """The key writes rates in percent (97.81), amounts and points as numbers, and words for non-numbers."""
    k, f = _number(key_value), _number(found)
    if k is None:
        return True  # "a measured value", "偏差原因分析": the rule and cell say it
    if f is None:
        return False
    return abs(k - f) <= 0.0051 * max(1.0, abs(k)) or abs(k - f * 100) <= 0.0051 * max(1.0, abs(k))


@pytest.fixture(scope="module")
def results():
    out = {}
    for path in KEYS:
        key = json.loads(path.read_text("utf-8"))
        out[path.stem] = (key, check_file(str(CORPUS / key["form"])))
    return out


def _measure(results):
    table: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])  # (rule, province) → found, keyed, false
    missed, false = [], []
    for stem, (key, res) in results.items():
        prov = key["province"]
        errors = [f for f in res.findings if f.severity == "error"]
        for m in key["mistakes"]:
            row = table[(m["rule"], prov)]
            row[1] += 1
            hit = [f for f in res.findings if f.rule == m["rule"] and f.sheet == m["sheet"] and f.cell == m["cell"]
                   and (_expected_matches(m.get("expected"), f.expected)
                        or _expected_matches(m.get("expected"), f.extra.get("target", "n/a")))]
            if hit:
                row[0] += 1
            else:
                missed.append((stem, m["cell"], m["rule"], m.get("expected")))
        correct = {(c["sheet"], c["cell"]) for c in key["correct"]}
        unchecked = set(key.get("unchecked_rules", []))
        for f in errors:
            on_correct = (f.sheet, f.cell) in correct
            on_clean = key["clean"] and f.rule not in unchecked
            if on_correct or on_clean:
                table[(f.rule, prov)][2] += 1
                false.append((stem, f.sheet, f.cell, f.rule, f.message))
    return table, missed, false


def _gaps(results) -> dict[tuple[str, str, str | None], dict]:
    return {(stem, g["rule"], g.get("cell")): dict(g, stem=stem)
            for stem, (key, _) in results.items() for g in key.get("known_gaps", [])}


def _split_known(results, missed, false):
    """(missed, false) without the known gaps, and the known gaps that did not occur."""
    gaps = _gaps(results)
    missed_left = [m for m in missed if (m[0], m[2], m[1]) not in gaps]
    false_left = [f for f in false if (f[0], f[3], f[2]) not in gaps]
    occurred = {(m[0], m[2], m[1]) for m in missed} | {(f[0], f[3], f[2]) for f in false}
    for stem, (_, res) in results.items():
        occurred |= {(stem, f.rule, f.cell) for f in res.findings}
    stale = []
    for k, g in gaps.items():
        kind = g["kind"]
        if kind == "missed" and k not in {(m[0], m[2], m[1]) for m in missed}:
            stale.append(k)
        elif kind == "false_error" and k not in {(f[0], f[3], f[2]) for f in false}:
            stale.append(k)
        elif kind == "unread" and k not in occurred:
            stale.append(k)
    return missed_left, false_left, stale


def _print_gaps(results) -> None:
    gaps = _gaps(results)
    print(f"known gaps ({len(gaps)}): jixiao does not yet do these; each is listed in its form's key")
    for (stem, rule, cell), g in sorted(gaps.items(), key=lambda x: (x[0][0], x[0][1], x[0][2] or "")):
        print(f"  {stem} {cell or '-'} {rule} [{g['kind']}]: {g['reason']}")


def _print(table, results) -> None:
    print("\nrule · province: found / keyed, false errors")
    for (rule, prov), (found, keyed, fe) in sorted(table.items()):
        print(f"  {rule:36} {prov:4} {found:2} / {keyed:2}   false errors {fe}")
    totals = [sum(x[i] for x in table.values()) for i in range(3)]
    print(f"  {'total':36} {'':4} {totals[0]:2} / {totals[1]:2}   false errors {totals[2]}")
    print("province: forms (clean), keyed correct cells, errors on them, errors on clean forms")
    by_prov: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for key, res in results.values():
        row = by_prov[key["province"]]
        correct = {(c["sheet"], c["cell"]) for c in key["correct"]}
        errors = [f for f in res.findings if f.severity == "error"]
        row[0] += 1
        row[1] += key["clean"]
        row[2] += len(correct)
        row[3] += sum((f.sheet, f.cell) in correct for f in errors)
        row[4] += sum(1 for f in errors if key["clean"] and f.rule not in key.get("unchecked_rules", []))
    for prov, (n, clean, cells, on_correct, on_clean) in sorted(by_prov.items()):
        print(f"  {prov:4} {n:2} ({clean:2})   {cells:3}   {on_correct}   {on_clean}")


def test_corpus_keys_are_well_formed():
    assert len(KEYS) >= 20
    provinces = set()
    for path in KEYS:
        key = json.loads(path.read_text("utf-8"))
        assert key["clean"] == (not key["mistakes"]), path.stem
        assert (CORPUS / key["form"]).is_file(), path.stem
        provinces.add(key["province"])
    assert len(provinces - {"不详"}) >= 5


def test_every_keyed_mistake_is_found_and_no_correct_cell_gets_an_error(results):
    table, missed, false = _measure(results)
    _print(table, results)
    _print_gaps(results)
    missed, false, stale = _split_known(results, missed, false)
    assert missed == [], missed
    assert false == [], false
    assert stale == [], f"known gaps that no longer occur (remove them from the keys): {stale}"


def test_every_form_is_read_and_says_which_profile_it_used(results):
    gaps = _gaps(results)
    for stem, (key, res) in results.items():
        if (stem, "form.unrecognized", None) in gaps:
            continue  # a known gap, printed with the corpus table
        assert not any(f.rule == "form.unrecognized" for f in res.findings), stem
        assert res.profile and res.profile_reason, stem
        if key["kind"] == "project":
            assert not any(f.rule == "reader.field_missing" and "填报单位" in f.message for f in res.findings), stem
