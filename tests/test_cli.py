"""The jixiao command mirrors the library."""
import json
import subprocess
import sys
from pathlib import Path

from jixiao.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "jixiao", *args], capture_output=True, text=True, timeout=120)


def test_demo_scores_the_bundled_samples_and_checks_sample_workbooks(tmp_path):
    r = run("demo", "--out", str(tmp_path / "demo"))
    assert r.returncode == 0, r.stderr
    assert "84.52%" in r.stdout and "优" in r.stdout and "149.58%" in r.stdout
    assert "执行率用年初预算" in r.stdout  # the sample with the wrong denominator is caught
    assert (tmp_path / "demo" / "检查报告.xlsx").exists() and (tmp_path / "demo" / "检查报告.html").exists()
    data = json.loads(run("demo", "--json").stdout)
    assert data["dept_form"]["total"] == 99 and data["dept_form"]["sum_row"] == 90
    rates = {r["key"]: r for r in data["county_rates"]}
    assert round(rates["procurement_exec"]["rate"], 2) == 1.83 and rates["procurement_exec"]["score"] == 0


def test_indicator_command_exit_codes(capsys):
    assert main(["indicator", "≥95%", "96%", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["score"] == 5 and out["kind"] == "正向"
    assert main(["indicator", "≥95%", "96个", "5"]) == 1  # a bare 96 would be 96% (issue 15)
    assert "单位不一致" in capsys.readouterr().out


def test_errors_exit_2_with_chinese_message_and_code(capsys):
    assert main(["exec", "0", "5"]) == 2
    err = capsys.readouterr().err
    assert "全年预算数为 0" in err and "execution.no_budget" in err
    assert main(["exec", "100", "50", "--profile", "no-such-profile"]) == 2
    assert "profile.not_found" in capsys.readouterr().err


def test_control_and_grade_and_profiles(capsys):
    assert main(["control", "在职人员控制率", "47", "51", "--profile", "county-rubric-2022", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "staff_control" and out["score"] == 2
    assert main(["grade", "85"]) == 0 and capsys.readouterr().out.strip() == "良"
    assert main(["profiles", "--json"]) == 0
    assert {p["id"] for p in json.loads(capsys.readouterr().out)} >= {"national-2020", "hunan-dept-2024"}


def test_score_command_reports_form_errors(tmp_path, capsys):
    from importlib import resources
    data = json.loads((resources.files("jixiao.samples") / "hunan-2024-dept.json").read_text("utf-8"))
    # 10 of 21 scores 2.38 by the rule: no rounding makes it 5 (issue 9: a difference only in rounding, under
    # the profile's inferred rounding, is a warning, and would not fail the check)
    data["indicators"][0]["actual"] = "10"
    data["indicators"][0]["reported"] = 5
    f = tmp_path / "form.json"
    f.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main(["score", str(f), "--profile", "hunan-dept-2024", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    rules = {x["rule"] for x in out["forms"][0]["findings"]}
    assert {"indicator.score_mismatch", "indicator.reason_missing", "total.sum_row_mismatch"} <= rules


def test_the_servers_commands_come_through_the_commands_entry_point_like_the_addins():
    """serve, users and check --dask are registered by the server's ``jixiao.commands`` hook, and left out, with
    the rest of the CLI intact, when the server's extra is not installed."""
    from importlib.metadata import entry_points

    hooks = {e.name: e.value for e in entry_points(group="jixiao.commands")}
    assert hooks["server"] == "jixiao.server.cli:register_command" and "addin" in hooks
    code = ("import sys\n"
            "{block}"
            "from jixiao.cli import build_parser\n"
            "p = build_parser()\n"
            "cmds = p._subparsers._group_actions[0].choices\n"
            "print(sorted(cmds), '--dask' in cmds['check'].format_help())\n")
    with_server = subprocess.run([sys.executable, "-c", code.format(block="")], capture_output=True, text=True)
    assert "'serve'" in with_server.stdout and "'users'" in with_server.stdout and with_server.stdout.rstrip().endswith("True")
    without = subprocess.run([sys.executable, "-c", code.format(block="sys.modules['fastapi'] = None\n")],
                             capture_output=True, text=True)
    assert without.returncode == 0, without.stderr
    assert "'serve'" not in without.stdout and "'check'" in without.stdout and without.stdout.rstrip().endswith("False")


def test_score_reads_a_countys_basic_data_as_the_demo_does(tmp_path, capsys):
    from importlib import resources

    basic = str(resources.files("jixiao.samples") / "county-2022-basic.json")
    assert main(["score", basic, "--json"]) == 0
    [doc] = json.loads(capsys.readouterr().out)["forms"]
    demo = json.loads(run("demo", "--json").stdout)["county_rates"]
    assert doc["kind"] == "county-basic" and doc["profile"] == "county-rubric-2022" and doc["county_rates"] == demo
    assert main(["score", basic]) == 0
    out = capsys.readouterr().out
    assert "在职人员控制率" in out and "92.16%" in out and "183.03%" in out
    partial = tmp_path / "基础数据.json"
    partial.write_text(json.dumps({"kind": "county-basic", "unit": "某县", "staff": 5}), encoding="utf-8")
    assert main(["score", str(partial)]) == 1
    err = capsys.readouterr().err
    assert "基础数据表缺少" in err and "form.unreadable" in err and "KeyError" not in err


def test_report_says_the_score_of_the_form_it_was_drafted_from(tmp_path):
    from jixiao.samples import submissions

    seed = json.loads((Path(submissions.__file__).parent / "hunan-2024-dept.json").read_text(encoding="utf-8"))
    form = tmp_path / "表.xlsx"
    form.write_bytes(submissions.bureau_bytes(seed, {"exec_score": 9, "sum": 90}))
    r = run("report", str(form), "--out", str(tmp_path / "报告.docx"))
    assert r.returncode == 0, r.stderr
    assert "自评得分 99 分，等级 优" in r.stdout.replace("\n", "")
    doc = json.loads(run("report", str(form), "--out", str(tmp_path / "报告2.docx"), "--json").stdout)
    assert (doc["total"], doc["grade"]) == (99, "优")
