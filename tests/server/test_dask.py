"""Scale-out on Dask: a LocalCluster of worker processes gives the same findings as the local pool."""
from __future__ import annotations

import json

import pytest

from jixiao.checking import batch, report
from jixiao.samples import submissions

from .conftest import make_server

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("books")
    submissions.generate(out, 12, seed=7, error_share=0.7)
    return out


def _key(findings):
    return sorted((f["file"], f["sheet"], f["cell"], f["rule"], f["severity"], str(f["expected"]), str(f["found"]))
                  for f in findings)


def test_dask_run_equals_local_pool(cluster, folder):
    from jixiao.server.cluster import DaskRunner

    sources = batch.collect([folder])
    local = batch.run(sources, jobs=2)
    remote = DaskRunner(cluster.scheduler_address).run(batch.collect([folder]), None)
    assert [r.file for r in remote] == [r.file for r in local]
    assert _key(report.findings_of(remote)) == _key(report.findings_of(local))
    assert [r.to_dict()["counts"] for r in remote] == [r.to_dict()["counts"] for r in local]


def test_check_command_with_dask(cluster, folder, capsys):
    from jixiao.cli import main

    code = main(["check", str(folder), "--json", "--dask", cluster.scheduler_address])
    out = json.loads(capsys.readouterr().out)
    local = report.to_json(batch.run(batch.collect([folder])))
    assert code == 1
    assert _key(out["findings"]) == _key(local["findings"]) and out["summary"] == local["summary"]


def test_server_on_dask_gives_the_local_pools_findings(cluster, folder, tmp_path):
    files = sorted(p for p in folder.iterdir() if p.suffix == ".xlsx")[:6]
    found = {}
    for label, kw in (("local", {}), ("dask", {"dask": cluster.scheduler_address})):
        srv = make_server(tmp_path / label, None, **kw)
        with srv.client:
            r = srv.upload("unit-a", [(p.name, p.read_bytes()) for p in files])
            got = srv.wait("unit-a", [s["id"] for s in r.json()["submissions"]])
            assert srv.client.get("/readyz").json()["workers"] == "ok"
            c = srv.client.post("/api/v1/check", headers=srv.h("unit-a"),
                                files=[("file", (files[0].name, files[0].read_bytes()))])
            assert c.status_code == 200
        found[label] = _key([f for g in got for f in g["findings"]])
    assert found["dask"] == found["local"] and found["local"]
