"""``jixiao check --dask`` is ``jixiao check`` with another runner: the same outputs, the same refusals."""
from __future__ import annotations

import hashlib
import json

import pytest
from openpyxl import load_workbook

from jixiao.cli import main
from jixiao.samples import submissions

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("books")
    submissions.generate(out, 6, seed=5, error_share=0.7)
    return out


def _sheets(path):
    """Each sheet's rows, sorted: the xlsx report is written as results arrive, in whatever order they finish."""
    wb = load_workbook(path, read_only=True)
    return {ws.title: sorted(map(repr, ws.iter_rows(values_only=True))) for ws in wb.worksheets}


def test_dask_writes_every_output_check_writes(cluster, folder, tmp_path, capsys):
    outs = {}
    for how, extra in (("local", []), ("dask", ["--dask", cluster.scheduler_address])):
        d = tmp_path / how
        d.mkdir()
        code = main(["check", str(folder), "--report", str(d / "r.xlsx"), "--html", str(d / "r.html"),
                     "--csv", str(d / "r.csv"), "--quiet", *extra])
        printed = capsys.readouterr().out
        assert code == 1  # the generated batch has errors
        outs[how] = d, printed
    (local, local_out), (remote, remote_out) = outs["local"], outs["dask"]
    for name in ("r.xlsx", "r.html", "r.csv"):
        assert (remote / name).is_file(), name
    assert (remote / "r.csv").read_bytes() == (local / "r.csv").read_bytes()  # no clock in the CSV
    assert _sheets(remote / "r.xlsx") == _sheets(local / "r.xlsx")
    html = (remote / "r.html").read_text(encoding="utf-8")
    assert "<svg" in html and all(p.name in html for p in folder.glob("*.xlsx"))
    assert "r.csv" in remote_out and "r.html" in remote_out and "r.xlsx" in remote_out


def test_dask_refuses_an_output_that_is_an_input(cluster, folder, tmp_path, capsys):
    victim = sorted(folder.glob("*.xlsx"))[0]
    before = hashlib.sha256(victim.read_bytes()).hexdigest()
    code = main(["check", str(folder), "--csv", str(victim), "--dask", cluster.scheduler_address])
    err = capsys.readouterr().err
    assert code == 2 and "output.is_input" in err
    assert hashlib.sha256(victim.read_bytes()).hexdigest() == before


def test_dask_json_is_checks_json(cluster, folder, capsys):
    main(["check", str(folder), "--json"])
    local = json.loads(capsys.readouterr().out)
    main(["check", str(folder), "--json", "--dask", cluster.scheduler_address])
    remote = json.loads(capsys.readouterr().out)
    strip = lambda doc: [{k: v for k, v in f.items() if k != "seconds"} for f in doc["files"]]  # noqa: E731
    assert strip(remote) == strip(local) and remote["findings"] == local["findings"]
    assert remote["summary"] == local["summary"]


def test_dask_checks_a_report_against_its_form(cluster, tmp_path, capsys):
    """A 自评报告 is paired with its form on this machine's disk: --dask checks it here, as check does."""
    demo = tmp_path / "demo"
    main(["demo", "--out", str(demo)])
    capsys.readouterr()
    found = {}
    for how, extra in (("local", []), ("dask", ["--dask", cluster.scheduler_address])):
        main(["check", str(demo), "--json", *extra])
        doc = json.loads(capsys.readouterr().out)
        found[how] = sorted((f["file"], f["rule"], f["message"]) for f in doc["findings"] if f["file"].endswith(".docx"))
    assert found["local"] and found["dask"] == found["local"]
    assert not any(rule.startswith("workbook.") for _, rule, _ in found["dask"])  # read as a report, not a workbook


def test_an_address_without_a_port_is_a_chinese_error_not_a_traceback(folder, capsys):
    code = main(["check", str(folder), "--dask", "nonsense", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "cluster.unreachable" in err and "无法连接 Dask 调度器 nonsense" in err
    assert "Traceback" not in err
