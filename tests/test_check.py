"""jixiao check: every injected error is found at its cell with the right expected value; clean workbooks pass."""
import hashlib
import io
import json
import random
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from workbooks import SEED000

from jixiao.checking import batch, checker, report
from jixiao.cli import main
from jixiao.samples import submissions
from jixiao.samples import workbooks as sample_workbooks

P = "hunan-dept-2024"


def check_bytes(tmp_path, data, name="book.xlsx", profile=P):
    path = tmp_path / name
    path.write_bytes(data)
    return checker.check_file(str(path), profile)


def assert_found(result, expected):
    for x in expected:
        hits = [f for f in result.findings if f.rule == x["rule"] and f.cell == x["cell"]]
        assert hits, (x, [(f.rule, f.cell) for f in result.findings])
        got = hits[0].expected
        if isinstance(x["expected"], (int, float)):
            assert float(got) == pytest.approx(x["expected"]), (x, got)
        else:
            assert str(got) == str(x["expected"]), (x, got)


TEMPLATE_INJECTIONS = [i for i in submissions.INJECTIONS if i not in submissions.BUREAU_ONLY]
BUREAU_INJECTIONS = [i for i in submissions.INJECTIONS if i not in submissions.TEMPLATE_ONLY]


@pytest.mark.parametrize("injection", TEMPLATE_INJECTIONS)
def test_injected_error_in_excel_saved_template(injection, tmp_path):
    data, expected = submissions.make_submission(random.Random(hash(injection) % 1000), "template", injection)
    res = check_bytes(tmp_path, data)
    assert res.route == "template"
    assert expected
    assert_found(res, expected)


@pytest.mark.parametrize("injection", BUREAU_INJECTIONS)
def test_injected_error_in_bureau_layout(injection, tmp_path):
    data, expected = submissions.make_submission(random.Random(hash(injection) % 1000), "bureau", injection)
    res = check_bytes(tmp_path, data)
    assert res.route == "values"
    assert_found(res, expected)


@pytest.mark.parametrize("layout", ["template", "bureau"])
def test_clean_workbooks_have_no_error(layout, tmp_path):
    for seed in range(8):
        data, expected = submissions.make_submission(random.Random(seed), layout, None)
        res = check_bytes(tmp_path, data, f"clean{seed}.xlsx")
        assert expected == []
        assert [f for f in res.findings if f.severity == "error"] == [], res.findings
        assert res.total is not None and res.grade


def seed000_bureau(reported=None):
    form = json.loads(json.dumps(SEED000))
    rep = {"exec_score": 9, "sum": 90, "rate": "84.52%"} | (reported or {})
    return submissions.bureau_bytes(form, rep)


def test_seed000_in_bureau_layout_reads_and_scores_like_the_paper(tmp_path):
    res = check_bytes(tmp_path, seed000_bureau())
    assert (res.route, res.kind, res.unit, res.year) == ("values", "dept", "湖南省机关事务管理局", 2024)
    assert f"{res.exec_rate:.2%}" == "84.52%" and res.total == 99 and res.grade == "优"
    assert [(f.rule, f.cell) for f in res.findings] == [("indicator.actual_has_comparator", "F25")]


def test_seed000_rate_over_initial_budget_is_named(tmp_path):
    res = check_bytes(tmp_path, seed000_bureau({"rate": "149.75%"}))
    f = next(f for f in res.findings if f.rule == "execution.wrong_budget")
    assert (f.sheet, f.cell, f.expected, f.found) == ("附件2", "H5", "84.52%", "149.75%")


def test_seed000_amount_inside_label_disagreeing_with_total(tmp_path):
    res = check_bytes(tmp_path, seed000_bureau({"stated_income": 38000}))
    f = next(f for f in res.findings if f.rule == "funds.same_quantity")
    assert (f.cell, f.expected, f.found) == ("B6", 38479.52, 38000)


def test_seed000_numbers_typed_as_text_and_labels_with_spaces(tmp_path):
    wb = load_workbook(io.BytesIO(seed000_bureau()))
    ws = wb.active
    ws["E5"] = "38,479.52"
    ws["F5"] = "３２５２１.０７"
    ws["B14"] = "产出指标\n（20分）"
    ws["D13"] = " 三级 指标 "
    buf = io.BytesIO()
    wb.save(buf)
    res = check_bytes(tmp_path, buf.getvalue())
    assert f"{res.exec_rate:.2%}" == "84.52%" and res.total == 99
    assert [f.rule for f in res.findings] == ["indicator.actual_has_comparator"]


def test_missing_field_says_which_label_was_looked_for(tmp_path):
    wb = load_workbook(io.BytesIO(seed000_bureau()))
    ws = wb.active
    ws["E4"] = "预算"
    buf = io.BytesIO()
    wb.save(buf)
    res = check_bytes(tmp_path, buf.getvalue())
    f = next(f for f in res.findings if f.rule == "reader.field_missing")
    assert "全年预算数" in f.message


# ---------------------------------------------------------------------------
# Robustness: one bad file never stops a batch


def _zip_bomb(path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", '<workbook><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships><Relationship Id="rId1" Type="http://x/worksheet" '
                                                 'Target="worksheets/sheet1.xml"/></Relationships>')
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(200):  # 200 MB of zeros, about 200 KB compressed
                fh.write(chunk)


def _million_rows(path):
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 1001))
    sheet = (f'<worksheet><dimension ref="A1:A1000000"/><sheetData>{rows}'
             '<row r="1000000"><c r="A1000000"><v>1</v></c></row></sheetData></worksheet>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", '<workbook xmlns:r="r"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
                                      "</sheets></workbook>")
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships><Relationship Id="rId1" Type="http://x/worksheet" '
                                                 'Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet)


def _looping(path):
    wb = Workbook()
    ws = wb.active
    ws.title = "自评表"
    for col, text in zip("BCDEFGH", ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分")):
        ws[f"{col}10"] = text
    ws["A1"] = "=B1+1"
    ws["B1"] = "=A1+1"
    wb.save(path)


@pytest.fixture
def messy_folder(tmp_path):
    d = tmp_path / "submitted"
    d.mkdir()
    good, _ = submissions.make_submission(random.Random(3), "template", "sum_row")
    (d / "good.xlsx").write_bytes(good)
    (d / "not-a-workbook.xlsx").write_text("这不是工作簿", encoding="utf-8")
    (d / "corrupt.xlsx").write_bytes(good[:4000])
    (d / "encrypted.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000)
    empty = Workbook()
    empty.save(d / "empty.xlsx")
    _zip_bomb(d / "bomb.xlsx")
    _million_rows(d / "million.xlsx")
    _looping(d / "loop.xlsx")
    with zipfile.ZipFile(d / "archive.zip", "w") as z:
        z.writestr("inner/good.xlsx", good)
        z.writestr("inner/readme.txt", "说明")
        z.writestr("inner/~$lock.xlsx", "lock file")
    (d / "broken.zip").write_bytes(b"PK\x03\x04 broken")
    return d


def test_bad_files_become_findings_and_the_batch_goes_on(messy_folder):
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in messy_folder.iterdir()}
    sources = batch.collect([messy_folder])
    results = {r.file.replace(f"{messy_folder}/", ""): r for r in batch.run(sources, P, jobs=2)}
    codes = {name: {f.rule for f in r.findings} for name, r in results.items()}
    assert "total.sum_row_mismatch" in codes["good.xlsx"]
    assert "total.sum_row_mismatch" in codes["archive.zip!inner/good.xlsx"]
    assert codes["not-a-workbook.xlsx"] == {"workbook.not_xlsx"}
    assert codes["corrupt.xlsx"] == {"workbook.corrupt"}
    assert codes["encrypted.xlsx"] == {"workbook.encrypted_or_xls"}
    assert codes["empty.xlsx"] == {"form.unrecognized"}
    assert codes["bomb.xlsx"] == {"workbook.too_large"}
    assert codes["million.xlsx"] == {"workbook.too_large"}
    assert "formula.cycle" in codes["loop.xlsx"]
    cycle = next(f for f in results["loop.xlsx"].findings if f.rule == "formula.cycle")
    assert cycle.sheet == "自评表" and cycle.cell in ("A1", "B1")
    assert codes["broken.zip"] == {"archive.corrupt"}
    assert not any("lock" in name for name in results)
    for r in results.values():
        msgs = [f.message for f in r.findings]
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in msgs), msgs  # Chinese messages
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in messy_folder.iterdir()}
    assert after == digests  # inputs untouched


def test_archive_member_over_the_limit_is_not_inflated(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("big.xlsx", "w", force_zip64=True) as fh:
            for _ in range(100):
                fh.write(b"\0" * (1 << 20))
    [src] = batch.collect([path])
    assert src.problem is not None and src.problem.findings[0].rule == "archive.too_large"


# ---------------------------------------------------------------------------
# CLI, JSON and reports


@pytest.fixture
def generated(tmp_path):
    d = tmp_path / "gen"
    manifest = submissions.generate(d, 24, seed=5, error_share=0.6)
    return d, manifest


def test_check_json_schema_and_exit_code(generated, capsys):
    d, manifest = generated
    code = main(["check", str(d), "--profile", P, "--json", "--jobs", "2"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    workbooks = [f for f in out["files"] if not f["file"].endswith("manifest.json")]
    assert len(workbooks) == len(manifest)
    [listed] = [f for f in out["findings"] if f["file"].endswith("manifest.json")]  # listed, not checked
    assert (listed["rule"], listed["severity"]) == ("input.not_workbook", "info")
    for f in out["findings"]:
        assert {"file", "sheet", "cell", "rule", "severity", "message", "expected", "found"} <= set(f)
        assert f["severity"] in ("error", "warning", "info")
    for entry in manifest:
        for x in entry["expected"]:
            assert any(f["file"].endswith(entry["file"]) and f["rule"] == x["rule"] and f["cell"] == x["cell"]
                       for f in out["findings"]), (entry["file"], x)


def test_exit_codes(tmp_path, capsys):
    data, _ = submissions.make_submission(random.Random(1), "template", None)
    (tmp_path / "ok.xlsx").write_bytes(data)
    assert main(["check", str(tmp_path / "ok.xlsx"), "--profile", P, "--quiet"]) == 0
    assert main(["check", str(tmp_path / "nothing-here")]) == 1  # a missing path is a finding for it
    (tmp_path / "emptydir").mkdir()
    assert main(["check", str(tmp_path / "emptydir")]) == 2
    assert main(["check", str(tmp_path / "ok.xlsx"), "--profile", "no-such"]) == 2
    capsys.readouterr()


def test_xlsx_report_links_filters_and_inert_text(tmp_path):
    wb = load_workbook(io.BytesIO(seed000_bureau()))
    wb.active["A2"] = '填报单位：=HYPERLINK("http://example.invalid","点我")'  # a unit that looks like a formula
    buf = io.BytesIO()
    wb.save(buf)
    src = tmp_path / "in" / "seed.xlsx"
    src.parent.mkdir()
    src.write_bytes(buf.getvalue())
    results = batch.run(batch.collect([src]), P)
    out = report.write_xlsx(results, tmp_path / "out" / "报告.xlsx")
    rep = load_workbook(out)
    assert rep.sheetnames == ["汇总", "问题清单", "规则统计"]
    summary, issues = rep["汇总"], rep["问题清单"]
    assert summary.auto_filter.ref and issues.auto_filter.ref
    assert summary.conditional_formatting and issues.conditional_formatting
    assert summary["B2"].data_type == "s" and summary["B2"].value.startswith("=HYPERLINK")
    link = issues["C2"].hyperlink.target
    assert link.startswith("../in/seed.xlsx#'附件2'!") and issues["C2"].value == "F25"


def test_rule_statistics_do_not_depend_on_the_order_results_arrive(tmp_path, generated):
    """Workers finish in any order; the same folder must give the same 规则统计 (the example message of a
    rule is the first file's by name, and ties in count are ordered by rule)."""
    d, _ = generated
    results = batch.run(batch.collect([d]), P)
    sheets = []
    for n, order in enumerate((results, results[::-1])):
        rep = load_workbook(report.write_xlsx(order, tmp_path / f"r{n}.xlsx"), read_only=True)
        sheets.append([tuple(r) for r in rep["规则统计"].iter_rows(values_only=True)])
    assert len(sheets[0]) > 2 and sheets[0] == sheets[1]


def test_html_report_has_charts(tmp_path, generated):
    d, _ = generated
    results = batch.run(batch.collect([d]), P)
    html = report.write_html(results, tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 3 and "总分分布" in html and "执行率分布" in html and "最常见的问题" in html
    assert "<script" not in html


def test_county_rubric_template_is_checked(tmp_path):
    from workbooks import fill, seed002_values

    from jixiao.layouts.rubric import RUBRIC, county_rubric

    model = county_rubric()
    weights = {f"rubric.{i}.weight": w for i, w in zip(range(15, 22), (7, 6, 6, 6, 6, 6, 5))}
    path = fill(model, seed002_values() | weights, tmp_path / "rubric.xlsx")
    res = checker.check_file(str(path))
    assert (res.route, res.kind, res.profile) == ("template", "county-rubric", "county-rubric-2022")
    assert [f for f in res.findings if f.severity == "error"] == []
    # the department forgot to set the 产出/效果 weights, and typed a score over a formula
    path2 = fill(model, seed002_values(), tmp_path / "rubric2.xlsx")
    score_cell = model.sheet(RUBRIC).fields["rubric.3.score"]
    path2.write_bytes(sample_workbooks.fill_bytes(path2.read_bytes(), {(RUBRIC, score_cell): 3}))
    res = checker.check_file(str(path2))
    rules = {(f.rule, f.cell): f for f in res.findings}
    assert rules[("weights.total", model.sheet(RUBRIC).fields["total.weight"])].expected == 100
    group = next(f for f in res.findings if f.rule == "weights.group" and "职责履行" in f.message)
    assert (group.expected, group.found) == (25, 0)
    over = rules[("formula.overwritten", score_cell)]
    assert over.found == 3 and over.expected == 0  # “三公经费”变动率 149.58% earns nothing


def test_template_with_added_indicator_rows_is_matched_with_that_many_rows(tmp_path):
    """An officer inserted rows (here: a form built with 24 rows instead of 20): the template with 24 rows
    matches, and the rules judge the officer's weights and scores (tests/test_rows.py edits rows in LibreOffice)."""
    from workbooks import fill, seed000_values

    from jixiao.layouts.model import dept_form

    model = dept_form("province", indicator_rows=24)
    path = fill(model, seed000_values() | {"ind.22.level1": "成本指标",
                                                                              "ind.22.level2": "社会成本指标",
                                                                              "ind.22.name": "新增：安全事故",
                                                                              "ind.22.target": "≤0次",
                                                                              "ind.22.actual": "1次",
                                                                              "ind.22.weight": 5},
                tmp_path / "rows.xlsx")
    res = checker.check_file(str(path))
    assert res.route == "template" and res.profile == P
    rules = {(f.rule, f.cell) for f in res.findings}
    assert {rule for rule, _ in rules if rule.startswith(("route.", "formula."))} == {"formula.no_cached_values"}
    f = model.main.fields
    assert ("weights.total", f["sum_row.weight"]) in rules  # 95 points of indicators where the profile has 90
    assert ("indicator.reason_missing", f["ind.22.reason"]) in rules  # the new row scores 0 without a reason


def test_project_template_is_read_and_checked(tmp_path):
    from workbooks import fill, project_values

    from jixiao.layouts.model import project_form

    values = project_values() | {"funds.initial_budget": 80, "funds.income.本年财政拨款.E": 90,
                                 "funds.income.上年结转资金.E": 5}
    model = project_form()
    res = checker.check_file(str(fill(model, values, tmp_path / "project.xlsx")))
    assert (res.route, res.kind, res.profile, res.unit) == ("template", "project", "national-2020", "机关事务中心")
    assert res.total == pytest.approx(94.2)
    rules = {(f.rule, f.cell) for f in res.findings}
    assert ("funds.split_mismatch", None) not in rules
    assert any(r == "funds.split_mismatch" for r, _ in rules)  # 90 + 5 ≠ 100 全年预算数
    assert ("indicator.reason_missing", model.main.fields["ind.0.reason"]) in rules  # 45 of 50 points
