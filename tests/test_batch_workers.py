"""The batch owns each file's deadline and memory: a slow, dying or greedy file becomes a finding, the batch goes on."""
import os
import random
import signal
import sys
import time

import pytest
from openpyxl import Workbook

from jixiao.checking import batch
from jixiao.samples import submissions

fork_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the test patches forked workers")


def _slow_form(path, cells=1999, width=125):
    """A form with formulas of its own (so the full route recalculates it): ``cells`` formulas each summing
    ``width`` cells, within the limits under which the full route hands a workbook to ``formulas``."""
    wb = Workbook()
    ws = wb.active
    ws.title = "自评表"
    for col, text in zip("BCDEFGH", ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分")):
        ws[f"{col}10"] = text
    for r in range(1, width + 1):
        ws[f"Z{r}"] = r
    ws["Y1"] = 1
    for r in range(2, cells + 1):
        ws[f"Y{r}"] = f"=SUM($Z$1:$Z${width})+Y{r - 1}*0+{r}"
    wb.save(path)


def _good(path):
    data, _ = submissions.make_submission(random.Random(5), "template", "sum_row")
    path.write_bytes(data)


def test_a_file_past_its_deadline_in_recalculation_is_stopped_and_the_batch_goes_on(tmp_path, monkeypatch):
    from jixiao.checking import recalc

    _slow_form(tmp_path / "a-slow.xlsx")  # its recalculation takes several seconds even on a fast machine
    _good(tmp_path / "b-good.xlsx")
    monkeypatch.setattr(recalc, "MIN_SECONDS", 0.5)  # start the recalculation although the deadline is short
    t0 = time.monotonic()
    results = batch.run(batch.collect([tmp_path]), "hunan-dept-2024", jobs=1, seconds=2)
    took = time.monotonic() - t0
    slow, good = results
    assert [f.rule for f in slow.findings] == ["check.timeout"] and slow.error == "check.timeout"
    assert "2 秒" in slow.findings[0].message
    assert "total.sum_row_mismatch" in {f.rule for f in good.findings}  # checked after the stopped one
    assert took < 30


def test_little_time_left_means_no_full_recalculation(tmp_path):
    from jixiao.checking.checker import check_file
    from jixiao.checking.deadline import Deadline

    _slow_form(tmp_path / "slow.xlsx", cells=50, width=5)
    res = check_file(str(tmp_path / "slow.xlsx"), deadline=Deadline(1))
    assert "formulas.timeout" in {f.rule for f in res.findings}


@fork_only
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_killed_worker_becomes_a_finding_and_the_batch_completes(tmp_path, monkeypatch, jobs):
    """With one worker, c and d were queued behind b when b killed it: they are checked by its replacement."""
    for name in ("a.xlsx", "b.xlsx", "c.xlsx", "d.xlsx"):
        _good(tmp_path / name)
    real = batch.check_source

    def dies_on_b(src, profile, deadline=None):
        if src.label.endswith("b.xlsx"):
            os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer does
        return real(src, profile, deadline)

    monkeypatch.setattr(batch, "check_source", dies_on_b)
    a, b, c, d = batch.run(batch.collect([tmp_path]), "hunan-dept-2024", jobs=jobs)
    assert [f.rule for f in b.findings] == ["check.worker_died"] and "内存" in b.findings[0].message
    for r in (a, c, d):
        assert "total.sum_row_mismatch" in {f.rule for f in r.findings}, r.file


@fork_only
def test_a_file_over_the_memory_limit_becomes_a_finding(tmp_path, monkeypatch):
    _good(tmp_path / "a.xlsx")
    _good(tmp_path / "b.xlsx")
    real = batch.check_source

    def greedy_on_a(src, profile, deadline=None):
        if src.label.endswith("a.xlsx"):
            hog = bytearray(3 * 1024 ** 3)  # noqa: F841 - more than the worker may have
        return real(src, profile, deadline)

    monkeypatch.setattr(batch, "check_source", greedy_on_a)
    a, b = batch.run(batch.collect([tmp_path]), "hunan-dept-2024", jobs=1, memory=1024 ** 3)
    assert [f.rule for f in a.findings] == ["check.memory"]
    assert "total.sum_row_mismatch" in {f.rule for f in b.findings}


def test_jobs_never_exceed_the_files(tmp_path, monkeypatch):
    from jixiao.checking import workers

    _good(tmp_path / "a.xlsx")
    _good(tmp_path / "b.xlsx")
    seen = []
    real = workers.WorkerPool.__init__

    def spy(self, jobs, *args):
        seen.append(jobs)
        real(self, jobs, *args)

    monkeypatch.setattr(workers.WorkerPool, "__init__", spy)
    batch.run(batch.collect([tmp_path]), "hunan-dept-2024", jobs=1000)
    assert seen == [2]
