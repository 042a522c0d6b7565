"""One result schema across the process and database boundary: FileResult.to_dict and Finding.to_dict
(as ``jixiao check --json`` writes them, a worker returns them and the server stores them) give back, through
``from_dict``, the results they were; and a check that did not finish says so with one message per rule."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from jixiao.checking import batch, failures, report
from jixiao.checking.result import FileResult
from jixiao.errors import CellError, Finding, _plain
from jixiao.samples import submissions
from jixiao.server import work


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("books")
    submissions.generate(folder, 12, seed=11, error_share=1.0)
    return batch.run(batch.collect([folder]), isolate=False)


def _as_shown(r: FileResult) -> FileResult:
    """The result as the schema writes values: time to 0.1 ms, a cell error as its code (9.0 as 9 compares equal)."""
    return replace(r, seconds=round(r.seconds, 4), findings=[
        replace(f, expected=_plain(f.expected), found=_plain(f.found)) for f in r.findings])


def _through_json(data):
    return json.loads(json.dumps(data, ensure_ascii=False))  # as the database's JSON columns keep it


def test_results_cross_the_boundary_whole(results):
    findings = [f for r in results for f in r.findings]
    # the round trip is only a test when the results carry what the old reading dropped
    assert any(f.field for f in findings) and any(f.extra for f in findings)
    assert any(r.forms for r in results)
    assert any(isinstance(f.found, CellError) for f in findings)  # '#VALUE!' read back as the text reports show
    for r in results:
        back = work.to_result(_through_json(work.result_data(r)))
        assert back == _as_shown(r), r.file  # every field, the findings' field and extra and the forms included
        assert back.to_dict() == r.to_dict()


def test_a_finding_from_its_dict_is_the_finding():
    f = Finding("indicator.score_over_weight", "error", "得分 12 超过分值 10", expected=10, found=12,
                field="ind.0.score", context="产出数量", extra={"row": 0, "group": "年度资金总额"}).at("自评表", "H20")
    d = f.to_dict()
    assert d["field"] == "ind.0.score" and d["extra"] == {"row": 0, "group": "年度资金总额"}
    assert Finding.from_dict(_through_json({"file": "a.xlsx", **d})) == f


def test_the_json_document_reads_back_as_the_results(results):
    doc = _through_json(report.to_json(results))
    by_file: dict[str, list] = {}
    for f in doc["findings"]:
        by_file.setdefault(f["file"], []).append(f)
    back = [FileResult.from_dict(d, by_file.get(d["file"], [])) for d in doc["files"]]
    assert back == [_as_shown(r) for r in results]


@pytest.mark.parametrize("boom, rule", [(ValueError("单元格 X1 无法读取"), "check.crashed"),
                                        (MemoryError(), "check.memory")])
def test_a_failed_check_reads_the_same_in_the_batch_and_the_server(monkeypatch, boom, rule):
    def explode(*_a, **_k):
        raise boom

    monkeypatch.setattr(batch, "check_source", explode)
    in_batch = batch.run([batch.Source("坏.xlsx", data=b"PK")], isolate=False)[0]
    in_server = work.to_result(work.check_bytes("坏.xlsx", b"PK", None, 30))
    assert [f.rule for f in in_batch.findings] == [rule] and in_batch.error == rule
    assert in_server == in_batch


def test_each_failure_rule_has_one_message_shape():
    assert failures.crashed("a.xlsx", failures.cause(KeyError("x"))).findings[0].message == "检查时出错：KeyError: 'x'"
    assert failures.cause(RuntimeError("长" * 500)) == "RuntimeError: " + "长" * failures.MAX_CAUSE
    assert failures.timed_out("a.xlsx", 60).findings[0].message == "检查超过 60 秒，已停止检查此文件"
    assert work.crashed_again("a.xlsx")["findings"][0]["rule"] == "check.crashed"
