"""The library mirrors the CLI: jixiao.check returns what `jixiao check` prints, findings also as a table."""
import csv
import json
import random
import re
from pathlib import Path

import pytest

import jixiao
from jixiao import rules
from jixiao.cli import main
from jixiao.samples import submissions

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "jixiao-demo"
    assert main(["demo", "--out", str(out)]) == 0
    return out


def test_demo_template_checks_clean_under_its_own_profile(demo):
    book = demo / "湖南省机关事务管理局-jixiao模板.xlsx"
    result = jixiao.check([book])
    [r] = result.files
    assert (r.route, r.profile, r.total, r.grade) == ("template", "hunan-dept-2024", 99, "优")
    assert "工作簿指定" in r.profile_reason
    assert not result.has_errors, [f.to_dict() for f in r.findings]


def test_a_different_bureau_profile_is_one_finding_naming_both(demo):
    book = demo / "湖南省机关事务管理局-jixiao模板.xlsx"
    [r] = jixiao.check([book], profile="national-2020").files
    errors = [f for f in r.findings if f.severity == "error"]
    assert [f.rule for f in errors] == ["profile.differs"]
    assert "hunan-dept-2024" in errors[0].message and "national-2020" in errors[0].message
    assert (errors[0].expected, errors[0].found) == ("national-2020", "hunan-dept-2024")
    assert errors[0].cell is not None  # points at the 规则配置 cell
    assert not any(f.rule.startswith(("execution.", "total.", "formula.stale")) for f in r.findings)
    assert r.profile == "national-2020" and "检查指定" in r.profile_reason


def test_check_result_equals_the_cli_json(demo, capsys):
    main(["check", str(demo), "--profile", "hunan-dept-2024", "--json"])
    cli = json.loads(capsys.readouterr().out)
    lib = jixiao.check([demo], profile="hunan-dept-2024").to_json()
    strip = lambda doc: [{k: v for k, v in f.items() if k != "seconds"} for f in doc["files"]]  # noqa: E731
    assert strip(cli) == strip(lib)
    assert cli["findings"] == lib["findings"]


def test_findings_as_a_dataframe_pivot_by_unit_and_rule(tmp_path):
    manifest = submissions.generate(tmp_path / "batch", 12, seed=11, error_share=0.7)
    result = jixiao.check([tmp_path / "batch"], profile="hunan-dept-2024", jobs=2)
    frame = result.frame()
    assert len(frame) == sum(len(r.findings) for r in result.files)
    assert {"file", "unit", "year", "sheet", "cell", "rule", "severity", "expected", "found"} <= set(frame.columns)
    pivot = frame.pivot_table(index="unit", columns="rule", values="cell", aggfunc="count")
    injected = {x["rule"] for e in manifest for x in e["expected"]}
    assert injected and injected <= set(pivot.columns)
    assert pivot.sum().sum() == frame["cell"].notna().sum()
    assert str(frame["year"].dtype) == "Int64"


def test_check_csv_is_the_frame_and_keeps_formula_text_inert(tmp_path):
    data, _ = submissions.make_submission(random.Random(3), "template", "sum_row")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.xlsx").write_bytes(data)
    out = tmp_path / "问题清单.csv"
    assert main(["check", str(tmp_path / "in"), "--profile", "hunan-dept-2024", "--csv", str(out), "--quiet"]) == 1
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: Excel and WPS open it as UTF-8
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert any(r["规则"] == "total.sum_row_mismatch" and r["问题"] == "合计不等于各项之和" for r in rows)  # Chinese headers
    frame = jixiao.check([tmp_path / "in"], profile="hunan-dept-2024").frame()
    assert len(rows) == len(frame)
    assert not any(v.startswith("=") for r in rows for v in r.values() if v)


def test_every_rule_a_finding_can_carry_has_a_chinese_title():
    import importlib
    import pkgutil

    for mod in pkgutil.walk_packages(jixiao.__path__, "jixiao."):
        if not mod.name.startswith(("jixiao.server.migrations", "jixiao.__main__")):
            importlib.import_module(mod.name)
    emitted = set()
    for path in (ROOT / "jixiao").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        emitted |= set(re.findall(r'(?:rule\(|code ?= ?|Finding\(|_problem\([^,]+, |return )"([a-z_]+\.[a-z_]+)"', text))
    assert len(emitted) > 60
    assert emitted <= set(rules.RULES), emitted - set(rules.RULES)
    for r in rules.RULES.values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r.title), r


def test_reports_know_every_checker_rule_title():
    import subprocess
    import sys

    code = ("import jixiao.checking.report as r, jixiao.rules as R; "
            "print(sorted(k for k in R.RULES if R.title(k) == k))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    code = ("import jixiao.checking.report, jixiao.rules as R; "
            "print('weights.group' in R.RULES and 'formula.stale' in R.RULES and 'check.timeout' in R.RULES)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "True"


def test_the_core_imports_no_adapter():
    for path in (ROOT / "jixiao").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"jixiao_udfs|jixiao_macros|jixiao_addin", text), path


def test_the_terminal_says_which_profile_was_used_and_why(demo, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # one line per row, as on a wide terminal
    assert main(["check", str(demo / "湖南省机关事务管理局-jixiao模板.xlsx"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "规则配置（依据）" in out and "工作簿指定（hunan-dept-2024）" in out
