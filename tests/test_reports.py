"""自评报告: drafts written from real workbooks, read back, altered, and checked against their forms."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
import sys
from pathlib import Path

import pytest
from docx import Document
from docx.enum.text import WD_COLOR_INDEX
from docx.oxml.ns import qn
from docx.shared import Mm

import jixiao
from jixiao.reports.compare import check_report
from jixiao.reports.reader import read_report

from workbooks import SEED000, fill, project_values

RESULT_99 = "自评得分 99 分，等级 优"


def dept_workbooks(folder: Path) -> dict[str, Path]:
    """The bundled department sample (seed 000) as `jixiao demo` writes it: the bureau's layout and jixiao's template."""
    from jixiao.layouts.writer import template_model
    from jixiao.samples import submissions, workbooks

    folder.mkdir(parents=True, exist_ok=True)
    model = template_model("dept-province")
    values = workbooks.template_values(SEED000, model)
    out = {"bureau": folder / "湖南省机关事务管理局-官方格式.xlsx", "template": folder / "湖南省机关事务管理局-jixiao模板.xlsx"}
    out["bureau"].write_bytes(submissions.bureau_bytes(SEED000, {"exec_score": 9, "sum": 90}))
    out["template"].write_bytes(workbooks.excel_bytes(workbooks.fill_bytes(workbooks.template_bytes("dept-province"),
                                                                           values),
                                                      workbooks.compute_cached("dept-province", values)))
    return out


def project_workbook(folder: Path) -> Path:
    from jixiao.layouts.model import project_form

    folder.mkdir(parents=True, exist_ok=True)
    values = project_values() | {"ind.0.reason": "部分区域改造施工，保洁面积减少；改进措施：施工结束后恢复保洁范围"}
    return fill(project_form(), values, folder / "机关事务中心-项目支出.xlsx")


def texts(path: Path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs]


def fill_placeholders(src: Path, dst: Path) -> Path:
    """The unit writes its narrative where the draft asks (every highlighted run replaced by prose)."""
    doc = Document(str(src))
    for p in doc.paragraphs:
        for run in p.runs:
            if run.font.highlight_color == WD_COLOR_INDEX.YELLOW:
                run.text = "本单位按要求如实填写了此部分内容。"
                run.font.highlight_color = None
    doc.save(str(dst))
    return dst


def alter(src: Path, dst: Path, changes: list[tuple[str, str, str]]) -> dict[str, int]:
    """Change numbers in paragraphs: (start of the paragraph, old, new); returns each start's paragraph number."""
    doc = Document(str(src))
    where = {}
    index = 0
    for p in doc.paragraphs:
        if not p.text.strip():
            continue
        index += 1  # as an officer counts them in Word: every non-empty paragraph, headings included
        for start, old, new in changes:
            if p.text.startswith(start) and start not in where:
                assert old in p.runs[0].text, (start, p.runs[0].text)
                p.runs[0].text = p.runs[0].text.replace(old, new, 1)
                where[start] = index
    assert len(where) == len(changes), where
    doc.save(str(dst))
    return where


# ---------------------------------------------------------------------------
# Writing


@pytest.mark.parametrize("layout", ["bureau", "template"])
def test_department_sample_report_follows_the_form(tmp_path, layout):
    form = dept_workbooks(tmp_path)[layout]
    before = form.read_bytes()
    out = jixiao.report(form, tmp_path / "报告.docx")
    assert form.read_bytes() == before  # the form is only read
    lines = texts(out)
    body = "\n".join(lines)
    assert RESULT_99 in body
    assert "预算执行情况：全年预算数 38479.52 万元，全年执行数 32521.07 万元，执行率 84.52%，分值10分，得分9分。" in lines
    for row in SEED000["indicators"]:  # §六 gives every indicator's target, actual, weight and score as the form does
        line = next(x for x in lines if x.startswith(row["name"] + "，年度指标值："))
        assert f"实际完成值：{' '.join(row['actual'].split()).rstrip('。')}" in line
        assert line.endswith(f"分值{row['weight']:g}分，得分{row['reported']:g}分。")
    assert "（一）产出指标（分值20分，得20分，未扣分）" in lines
    assert "（二）效益指标（分值40分，得40分，未扣分）" in lines
    # §七 drafts the one deduction the form has: 执行率 (9 of 10 points)
    seven = lines[lines.index("七、存在的问题及原因") + 1:lines.index("八、下一步改进措施")]
    assert len(seven) == 1 and seven[0].startswith("1. 预算执行率 84.52%，分值10分，得分9分。【待填写：")


def test_typography_and_placeholders(tmp_path):
    out = jixiao.report(dept_workbooks(tmp_path)["bureau"], tmp_path / "报告.docx")
    doc = Document(str(out))
    sec = doc.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)
    assert [round(x.mm) for x in (sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin)] == [37, 35, 28, 26]

    def east_asian(run) -> str:
        return run._element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))

    by_text = {p.text: p for p in doc.paragraphs}
    assert east_asian(by_text["六、部门整体支出绩效情况"].runs[0]) == "黑体"
    assert east_asian(by_text["（一）产出指标（分值20分，得20分，未扣分）"].runs[0]) == "楷体"
    body = next(p for t, p in by_text.items() if t.startswith("预算执行情况"))
    assert east_asian(body.runs[0]) == "仿宋" and body.runs[0].font.size.pt == 16
    held = [r for p in doc.paragraphs for r in p.runs if r.text.startswith("【待填写：")]
    assert len(held) >= 8 and all(r.font.highlight_color == WD_COLOR_INDEX.YELLOW for r in held)
    assert doc.core_properties.comments == "jixiao 自评报告草稿"


def test_project_report_drafts_seven_and_eight_from_the_deductions(tmp_path):
    out = jixiao.report(project_workbook(tmp_path), tmp_path / "项目报告.docx")
    lines = texts(out)
    assert lines[0] == "机关院落物业管理项目支出绩效自评报告"
    assert any(x.startswith("保洁面积，年度指标值：≥10万平方米，实际完成值：9万平方米，分值50分，得分45分。") for x in lines)
    four = lines[lines.index("四、偏离绩效目标的原因") + 1:lines.index("五、下一步改进措施")]
    assert any("保洁面积" in x and "偏差原因：部分区域改造施工，保洁面积减少" in x for x in four)
    five = lines[lines.index("五、下一步改进措施") + 1:lines.index("六、绩效自评结果拟应用和公开情况")]
    assert any(x == "2. 针对“保洁面积”未达年度指标值：施工结束后恢复保洁范围" for x in five)
    assert any("自评得分 94.2 分，等级 优" in x for x in lines)


def test_unscored_total_is_said_to_need_checking(tmp_path):
    from jixiao.layouts.model import project_form

    from jixiao.checking.checker import check_file

    form = fill(project_form(), project_values() | {"ind.2.actual": "未统计"}, tmp_path / "项目.xlsx")
    assert check_file(str(form)).total is None  # 满意度 cannot be scored: 总分 需核对
    body = "\n".join(texts(jixiao.report(form, tmp_path / "r.docx")))
    assert "自评得分需核对，等级需核对" in body and "自评得分 " not in body


def test_report_is_never_written_over_its_form(tmp_path):
    form = dept_workbooks(tmp_path)["bureau"]
    before = form.read_bytes()
    with pytest.raises(jixiao.JixiaoError) as e:
        jixiao.report(form, form)
    assert e.value.code == "report.output_invalid" and form.read_bytes() == before


def test_cli_report_writes_next_to_the_workbook(tmp_path):
    form = dept_workbooks(tmp_path)["bureau"]
    run = subprocess.run([sys.executable, "-m", "jixiao", "report", str(form)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    out = form.with_name(form.stem + "-自评报告.docx")
    assert RESULT_99 in "\n".join(texts(out))


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is installed by .ci/run")
def test_libreoffice_converts_the_report(tmp_path):
    from jixiao.libreoffice import convert

    out = jixiao.report(dept_workbooks(tmp_path)["bureau"], tmp_path / "报告.docx")
    pdf = convert(out, "pdf", tmp_path / "pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "A4" in info and int(re.search(r"Pages:\s+(\d+)", info).group(1)) >= 3
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "99 分，等级 优" in text.replace("\n", "")


# ---------------------------------------------------------------------------
# Reading and comparing


def test_each_sample_report_read_back_agrees_with_its_form(tmp_path):
    forms = list(dept_workbooks(tmp_path).values()) + [project_workbook(tmp_path)]
    for form in forms:
        draft = jixiao.report(form, tmp_path / f"{form.stem}.docx")
        res = check_report(str(draft), str(form))
        assert [f.rule for f in res.findings] == ["report.placeholder"], [f.message for f in res.findings]
        done = fill_placeholders(draft, tmp_path / f"{form.stem}-定稿.docx")
        assert check_report(str(done), str(form)).findings == []


FIVE = [  # (paragraph start, old, new)
    ("湖南省机关事务管理局2024年度部门整体支出绩效自评得分", "99 分", "95 分"),
    ("2024年度全年预算数", "38479.52", "38497.52"),
    ("各项工作任务按期完成", "得分5分", "得分4分"),
    ("（二）效益指标", "得40分", "得38分"),
    ("1. 预算执行率", "得分9分", "得分10分"),
]


def test_five_altered_numbers_give_five_findings_at_their_paragraphs(tmp_path):
    form = dept_workbooks(tmp_path)["bureau"]
    done = fill_placeholders(jixiao.report(form, tmp_path / "draft.docx"), tmp_path / "done.docx")
    where = alter(done, tmp_path / "altered.docx", FIVE)
    found = check_report(str(tmp_path / "altered.docx"), str(form)).findings
    assert sorted((f.rule, f.cell) for f in found) == sorted(("report.mismatch", f"第{n}段") for n in where.values())
    by_cell = {f.cell: f for f in found}
    total = by_cell[f"第{where[FIVE[0][0]]}段"]
    assert (total.sheet, total.found, total.expected) == ("自评结论", 95, 99)
    assert total.cell == "第4段"  # title, its subtitle, the 自评结论 heading, then the result line
    budget = by_cell[f"第{where[FIVE[1][0]]}段"]
    assert budget.sheet == "二、一般公共预算支出情况" and budget.found == 38497.52 and budget.expected == 38479.52
    score = by_cell[f"第{where[FIVE[2][0]]}段"]
    assert score.sheet == "六、部门整体支出绩效情况" and (score.found, score.expected) == (4, 5)
    assert re.search(r"自评表（自评表?[^）]*![A-Z]+\d+）为 5", score.message) or "!" in score.message
    assert by_cell[f"第{where[FIVE[3][0]]}段"].expected == 40
    assert by_cell[f"第{where[FIVE[4][0]]}段"].sheet == "七、存在的问题及原因"


def test_numbers_given_twice_disagree_without_a_form(tmp_path):
    form = dept_workbooks(tmp_path)["bureau"]
    done = fill_placeholders(jixiao.report(form, tmp_path / "draft.docx"), tmp_path / "done.docx")
    doc = Document(str(done))
    seven = next(p for p in doc.paragraphs if p.text.startswith("1. 预算执行率"))
    seven.add_run("综上，本单位自评得分 95 分。")
    cover = next(p for p in doc.paragraphs if "自评得分 99 分" in p.text)
    cover.runs[0].text = cover.runs[0].text.replace("99 分", "91 分")
    doc.save(str(tmp_path / "twice.docx"))
    found = check_report(str(tmp_path / "twice.docx"), None).findings
    rules = [f.rule for f in found]
    assert rules == ["report.unpaired", "report.inconsistent"]
    f = found[1]
    assert (f.sheet, f.found, f.expected) == ("七、存在的问题及原因", 95, 91) and "自评结论" in f.message


def test_rate_is_recomputed_from_its_own_sentence(tmp_path):
    form = dept_workbooks(tmp_path)["bureau"]
    done = fill_placeholders(jixiao.report(form, tmp_path / "draft.docx"), tmp_path / "done.docx")
    alter(done, tmp_path / "rate.docx", [("预算执行情况", "执行率 84.52%", "执行率 85.42%")])
    alone = [f for f in check_report(str(tmp_path / "rate.docx"), None).findings if f.rule != "report.unpaired"]
    assert [(f.rule, f.expected, f.found) for f in alone] == [("report.rate_mismatch", "84.52%", "85.42%"),
                                                              ("report.inconsistent", 85.42, 84.52)]  # §七 says 84.52%
    with_form = check_report(str(tmp_path / "rate.docx"), str(form)).findings
    assert [f.rule for f in with_form] == ["report.mismatch"]
    alter(done, tmp_path / "share.docx", [("2024年度全年预算数", "占全年执行数的 56.02%", "占全年执行数的 65.02%")])
    share = check_report(str(tmp_path / "share.docx"), str(form)).findings
    assert [(f.rule, f.sheet, f.expected) for f in share] == [("report.rate_mismatch", "二、一般公共预算支出情况", "56.02%")]
    assert "基本支出 18218.57 ÷ 全年执行数 32521.07" in share[0].message


def test_empty_and_missing_required_sections(tmp_path):
    form = dept_workbooks(tmp_path)["bureau"]
    done = fill_placeholders(jixiao.report(form, tmp_path / "draft.docx"), tmp_path / "done.docx")
    doc = Document(str(done))
    paras = doc.paragraphs
    one = next(i for i, p in enumerate(paras) if p.text == "一、部门（单位）基本情况")
    paras[one + 1]._element.getparent().remove(paras[one + 1]._element)  # 一 left empty
    nine = next(i for i, p in enumerate(paras) if p.text.startswith("九、"))
    for p in paras[nine:]:
        p._element.getparent().remove(p._element)  # 九 gone
    doc.save(str(tmp_path / "gaps.docx"))
    found = check_report(str(tmp_path / "gaps.docx"), str(form)).findings
    assert sorted((f.rule, f.sheet) for f in found) == [
        ("report.section_empty", "一、部门（单位）基本情况"), ("report.section_missing", None)]
    assert all(re.search(r"[\u4e00-\u9fff]", f.message) for f in found)


def test_a_file_that_is_not_a_docx_is_a_finding(tmp_path):
    bad = tmp_path / "报告.docx"
    bad.write_bytes(b"PK not really")
    res = check_report(str(bad), None)
    assert [f.rule for f in res.findings] == ["report.unreadable"]
    bomb = tmp_path / "炸弹.docx"  # a document.xml of 200 MB of zeros, a few hundred KB packed
    import zipfile

    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"0" * (200 * 1024 ** 2))
    with pytest.raises(jixiao.JixiaoError) as e:
        read_report(bomb)
    assert e.value.code == "report.unreadable" and "压缩" in e.value.message


# ---------------------------------------------------------------------------
# jixiao check on a folder of forms and reports


def test_check_folder_pairs_reports_with_forms(tmp_path):
    d = tmp_path / "收到的"
    forms = dept_workbooks(d / "甲")  # two forms of one unit in one folder: paired by the unit's name
    clean = fill_placeholders(jixiao.report(forms["bureau"], tmp_path / "a.docx"), d / "甲" / "湖南省机关事务管理局-自评报告.docx")
    proj = project_workbook(d / "乙")  # the only form of its folder
    draft = fill_placeholders(jixiao.report(proj, tmp_path / "b.docx"), tmp_path / "b-done.docx")
    planted = alter(draft, d / "乙" / "项目自评报告.docx", [("保洁面积，年度指标值", "得分45分", "得分50分"),
                                                         ("机关院落物业管理项目绩效自评得分", "94.2 分", "96.2 分")])
    elsewhere = tmp_path / "另放"  # a report paired explicitly with --pair
    elsewhere.mkdir()
    moved = alter(clean, elsewhere / "报告.docx", [("2024年度全年预算数", "32521.07", "32512.07")])
    run = subprocess.run([sys.executable, "-m", "jixiao", "check", str(d), str(elsewhere / "报告.docx"), "--json",
                          "--quiet", "--pair", f"{elsewhere / '报告.docx'}={forms['template']}",
                          "--csv", str(tmp_path / "问题清单.csv")],
                         capture_output=True, text=True)
    assert run.returncode == 1, run.stderr
    doc = json.loads(run.stdout)
    reports = {Path(f["file"]).name: f for f in doc["files"] if f["kind"] == "report"}
    assert set(reports) == {"湖南省机关事务管理局-自评报告.docx", "项目自评报告.docx", "报告.docx"}
    found = {}
    for f in doc["findings"]:
        if f["file"].endswith(".docx"):
            found.setdefault(Path(f["file"]).name, []).append((f["rule"], f["cell"]))
    assert "湖南省机关事务管理局-自评报告.docx" not in found  # the clean pair: nothing
    assert sorted(found["项目自评报告.docx"]) == sorted(("report.mismatch", f"第{n}段") for n in planted.values())
    assert found["报告.docx"] == [("report.mismatch", f"第{moved['2024年度全年预算数']}段")]
    assert reports["项目自评报告.docx"]["unit"] == "机关院落物业管理"
    csv_text = (tmp_path / "问题清单.csv").read_text("utf-8-sig")
    assert "report.mismatch,报告数字与自评表不符" in csv_text  # the CLI's process knows the report rules' titles


def test_a_report_named_alone_finds_the_form_beside_it(tmp_path):
    form = project_workbook(tmp_path / "乙")
    done = fill_placeholders(jixiao.report(form, tmp_path / "b.docx"), tmp_path / "b-done.docx")
    alter(done, tmp_path / "乙" / "报告.docx", [("保洁面积，年度指标值", "分值50分", "分值40分")])
    result = jixiao.check([tmp_path / "乙" / "报告.docx"])
    assert [r.kind for r in result.files] == ["report"]
    assert [(f.rule, f.expected, f.found) for f in result.files[0].findings] == [("report.mismatch", 50, 40)]


def test_a_hand_typed_report_is_read_by_its_sentences(tmp_path):
    """A report typed by a unit, not by jixiao: its own wording, headings without a 自评结论, one slip."""
    form = dept_workbooks(tmp_path)["bureau"]
    doc = Document()
    for text in [
        "湖南省机关事务管理局2024年度部门整体支出绩效自评报告",
        "一、部门（单位）基本情况", "本局内设机构12个，编制180名，年末实有176人。",
        "二、一般公共预算支出情况", "2024年全年预算数为38479.52万元，全年执行数为32521.07万元。",
        "三、政府性基金预算支出情况", "本单位无政府性基金预算支出。",
        "六、部门整体支出绩效情况",
        "预算执行方面，全年预算数38479.52万元，全年执行数32521.07万元，执行率84.52%，得分9分。",
        "办公用房维修单位项目立项数，年度指标值为21，实际完成值为21；分值5分；得分5分。",
        "各项工作任务按期完成，年度指标值：100%，实际完成值：100%，分值 5 分，得分 4.5 分。",
        "七、存在的问题及原因", "预算执行率未达到100%，部分项目资金结转。",
        "八、下一步改进措施", "加快项目实施进度。",
        "九、绩效自评结果拟应用和公开情况", "自评结果随部门决算公开。经自评，本局自评总分为99分，等级为“优”。",
    ]:
        doc.add_paragraph(text)
    doc.save(str(tmp_path / "手写.docx"))
    read = read_report(tmp_path / "手写.docx")
    assert read.unit == "湖南省机关事务管理局"
    keys = {s.key: s.value for p in read.paragraphs for s in p.statements}
    assert keys["total"] == 99 and keys["grade"] == "优" and keys["funds.exec_score"] == 9
    assert keys["ind:办公用房维修单位项目立项数.score"] == 5
    found = check_report(str(tmp_path / "手写.docx"), str(form)).findings
    assert [(f.rule, f.sheet, f.expected, f.found) for f in found] == [
        ("report.mismatch", "六、部门整体支出绩效情况", 5, 4.5)]


def _empty_pdf() -> bytes:
    """A one-page PDF with no text layer, as a scanner without OCR writes it (here without even the image)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    out, offsets = b"%PDF-1.4\n", []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="LibreOffice and poppler are installed by .ci/run")
def test_a_text_pdf_report_is_read_like_its_docx(tmp_path):
    from jixiao.libreoffice import convert

    form = dept_workbooks(tmp_path)["bureau"]
    done = fill_placeholders(jixiao.report(form, tmp_path / "draft.docx"), tmp_path / "done.docx")
    clean = convert(done, "pdf", tmp_path / "clean")
    assert check_report(str(clean), str(form)).findings == []
    where = alter(done, tmp_path / "altered.docx", FIVE)
    pdf = convert(tmp_path / "altered.docx", "pdf", tmp_path / "altered")
    found = check_report(str(pdf), str(form)).findings
    assert sorted((f.rule, f.cell) for f in found) == sorted(("report.mismatch", f"第{n}段") for n in where.values())
    scan = tmp_path / "扫描件.pdf"
    scan.write_bytes(_empty_pdf())
    assert [(f.rule, f.severity) for f in check_report(str(scan), str(form)).findings] == [("report.scanned", "info")]


def test_an_indicator_table_in_a_report_is_read_row_by_row(tmp_path):
    """Units often paste the form's table into §六: each row is compared like a sentence, located by row."""
    form = dept_workbooks(tmp_path)["bureau"]
    doc = Document()
    doc.add_paragraph("湖南省机关事务管理局2024年度部门整体支出绩效自评报告")
    doc.add_paragraph("六、部门整体支出绩效情况")
    doc.add_paragraph("绩效指标完成情况见下表。")
    rows = [("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分")]
    rows += [(r["level1"], r["level2"], r["name"], r["target"], r["actual"], f"{r['weight']:g}", f"{r['reported']:g}")
             for r in SEED000["indicators"][:4]]
    rows[3] = rows[3][:6] + ("4",)  # the table's third indicator row: 4 where the form has 5
    table = doc.add_table(rows=len(rows), cols=7)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    doc.add_paragraph("自评得分 99 分，等级 优。")
    doc.save(str(tmp_path / "表格.docx"))
    found = [f for f in check_report(str(tmp_path / "表格.docx"), str(form)).findings if f.rule == "report.mismatch"]
    assert [(f.sheet, f.cell, f.expected, f.found) for f in found] == [("六、部门整体支出绩效情况", "表1第4行", 5, 4)]
    assert SEED000["indicators"][2]["name"] in found[0].message
    assert read_report(tmp_path / "表格.docx").paragraphs[-1].where == "第4段"  # table rows are not paragraphs


# ---------------------------------------------------------------------------
# 三公经费 from the 基础数据表


def basic_workbook(folder: Path, name: str = "湖南省机关事务管理局-基础数据表.xlsx") -> Path:
    """A 基础数据表 as units type it (seed 002's 三公经费): dated columns, parts under the total."""
    from workbooks import save_rows

    folder.mkdir(parents=True, exist_ok=True)
    return Path(save_rows(folder, name, {"附件1-2": [
        ["部门整体支出绩效自评基础数据表"],
        ["填报单位：湖南省机关事务管理局"],
        ["财政供养人员情况", "编制数", "实际在职人数", "在职人员控制率"],
        [None, 51, 47, "92.16%"],
        ["经费控制情况", "2023年决算数", "2024年预算数", "2024年决算数"],
        ["三公经费", 719.55, 1802, 613.76],
        ["1、公务用车购置和运行维护经费", 717.8, 1800, 612.54],
        ["其中：公车购置", 0, 0, 0],
        ["公车运行维护", 717.8, 1800, 612.54],
        ["2、因公出国（境）经费", 0, 0, 0],
        ["3、公务接待费", 1.75, 2, 1.22],
        ["公用经费", 204.33, 213.94, 195.57],
    ]}))


THREE_PUBLIC_LINE = ("2024年度“三公”经费预算数 1802.00 万元，决算数 613.76 万元，决算数占预算数的 34.06%；其中：公务用车购置及运行维护费"
                     "预算数 1800.00 万元，决算数 612.54 万元，决算数占预算数的 34.03%；因公出国（境）费预算数 0.00 万元，决算数 0.00 万元；"
                     "公务接待费预算数 2.00 万元，决算数 1.22 万元，决算数占预算数的 61.00%。")


def test_three_public_from_the_basic_data_fill_section_two_and_are_checked(tmp_path):
    form = dept_workbooks(tmp_path)["bureau"]
    basic = basic_workbook(tmp_path)
    before = basic.read_bytes()
    out = jixiao.report(form, tmp_path / "报告.docx", basic=basic)
    assert basic.read_bytes() == before
    lines = texts(out)
    two = lines[lines.index("二、一般公共预算支出情况") + 1:lines.index("三、政府性基金预算支出情况")]
    assert THREE_PUBLIC_LINE in two
    # without the basic data the draft asks for them (highlighted), and says how jixiao would fill them
    plain = texts(jixiao.report(form, tmp_path / "无基础数据.docx"))
    assert not any("“三公”经费预算数" in x for x in plain)
    assert any(x.startswith("【待填写：写明“三公”经费") and "--basic" in x for x in plain)
    with pytest.raises(jixiao.JixiaoError) as e:  # a --basic workbook without 三公经费 is refused, nothing written
        jixiao.report(form, tmp_path / "错.docx", basic=form)
    assert e.value.code == "report.no_basic" and not (tmp_path / "错.docx").exists()
    run = subprocess.run([sys.executable, "-m", "jixiao", "report", str(form), "--basic", str(basic), "--out",
                          str(tmp_path / "命令行.docx")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert THREE_PUBLIC_LINE in texts(tmp_path / "命令行.docx")
    # read back: nothing against the form and the basic data; two numbers altered: two findings at the cells
    done = fill_placeholders(out, tmp_path / "done.docx")
    d = tmp_path / "收到的"
    d.mkdir()
    shutil.copy(form, d / form.name)
    shutil.copy(basic, d / basic.name)
    clean = check_report(str(done), str(form), candidates=(str(d / basic.name),))
    assert [f.rule for f in clean.findings] == [] and "基础数据表" in clean.profile_reason
    where = alter(done, d / "湖南省机关事务管理局-自评报告.docx",
                  [("2024年度“三公”经费", "公务接待费预算数 2.00 万元", "公务接待费预算数 2.5 万元")])
    result = jixiao.check([d])
    [rep] = [r for r in result.files if r.kind == "report"]
    found = [(f.rule, f.cell, f.expected, f.found, f.extra.get("form_cell")) for f in rep.findings]
    assert found == [("report.mismatch", f"第{where['2024年度“三公”经费']}段", 2, 2.5, "附件1-2!C11")], found


def test_three_public_rate_is_recomputed_and_a_budget_given_twice_is_compared(tmp_path):
    doc = Document()
    for text in ["某单位2024年度部门整体支出绩效自评报告", "二、一般公共预算支出情况",
                 "2024年“三公”经费年初预算6.5万元，实际支出5.2万元，执行率90%。",
                 "三公经费预算数 6.75 万元，主要用于公务接待。",
                 "“三公”经费决算数为5.2万元，比年初预算6.5万元减少1.3万元，下降20%。"]:  # 20%: a change, not a rate
        doc.add_paragraph(text)
    doc.save(str(tmp_path / "r.docx"))
    res = check_report(str(tmp_path / "r.docx"), None)
    rules = [(f.rule, f.cell, f.expected, f.found) for f in res.findings if f.rule.startswith("report.") and
             f.rule not in ("report.unpaired", "report.section_missing")]
    assert ("report.rate_mismatch", "第3段", "80%", "90%") in rules
    assert ("report.inconsistent", "第4段", 6.5, 6.75) in rules
    assert len(rules) == 2, rules
    # the 三公 clause's 执行率 is not the budget's: it is not read as 执行率 of 全年预算数
    assert not any(s.key == "funds.exec_rate" for p in read_report(tmp_path / "r.docx").paragraphs
                   for s in p.statements)


# ---------------------------------------------------------------------------
# Reports inside .zip archives, named as Windows names them


class _GbkName(zipfile.ZipInfo):
    """A member written as Windows' built-in compressor writes it: its name in GBK, the UTF-8 flag (bit 11) unset."""

    def _encodeFilenameFlags(self):  # noqa: N802 - zipfile's own hook, used for both headers
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def gbk_zip(path: Path, members: dict[str, Path]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, src in members.items():
            info = _GbkName(name, date_time=(2025, 3, 20, 9, 30, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, src.read_bytes())
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as z:  # as Windows wrote it: no UTF-8 flag, the GBK bytes in the directory
        assert all(not i.flag_bits & 0x800 for i in z.infolist())
    assert all(name.encode("gbk") in raw for name in members)
    return path


def test_reports_inside_a_zip_pair_with_their_forms_like_loose_files(tmp_path):
    src = tmp_path / "src"
    forms = dept_workbooks(src / "甲")  # two forms of one unit in one folder: paired by the unit's name
    clean = fill_placeholders(jixiao.report(forms["bureau"], src / "a.docx"), src / "a-done.docx")
    proj = project_workbook(src / "乙")
    draft = fill_placeholders(jixiao.report(proj, src / "b.docx"), src / "b-done.docx")
    planted = alter(draft, src / "b-planted.docx", [("保洁面积，年度指标值", "得分45分", "得分50分"),
                                                     ("机关院落物业管理项目绩效自评得分", "94.2 分", "96.2 分")])
    basic = basic_workbook(src / "丙")
    three = alter(fill_placeholders(jixiao.report(forms["bureau"], src / "c.docx", basic=basic), src / "c-done.docx"),
                  src / "c-planted.docx", [("2024年度“三公”经费", "决算数 613.76 万元", "决算数 631.76 万元")])
    inbox = tmp_path / "收到的"
    inbox.mkdir()
    gbk_zip(inbox / "第一批.zip", {
        "湖南省机关事务管理局/部门整体支出绩效自评表（官方格式）.xlsx": forms["bureau"],
        "湖南省机关事务管理局/部门整体支出绩效自评表（jixiao模板）.xlsx": forms["template"],
        "湖南省机关事务管理局/自评报告.docx": clean,
        "机关院落物业管理/项目支出绩效自评表.xlsx": proj,
        "机关院落物业管理/项目支出绩效自评报告.docx": src / "b-planted.docx",
        "三公/部门整体支出绩效自评表.xlsx": forms["bureau"],
        "三公/湖南省机关事务管理局-基础数据表.xlsx": basic,
        "三公/自评报告.docx": src / "c-planted.docx",
        "未配对/自评报告.docx": clean,
    })
    result = jixiao.check([inbox])
    reports = {r.file.split("!", 1)[1]: r for r in result.files if r.kind == "report"}
    assert set(reports) == {"湖南省机关事务管理局/自评报告.docx", "机关院落物业管理/项目支出绩效自评报告.docx",
                            "三公/自评报告.docx", "未配对/自评报告.docx"}

    def found(name):
        return sorted((f.rule, f.cell) for f in reports[name].findings)
    assert found("湖南省机关事务管理局/自评报告.docx") == []  # the clean pair: nothing
    assert reports["湖南省机关事务管理局/自评报告.docx"].profile_reason.startswith("对应自评表：")
    assert found("机关院落物业管理/项目支出绩效自评报告.docx") == sorted(
        ("report.mismatch", f"第{n}段") for n in planted.values())
    assert found("三公/自评报告.docx") == [("report.mismatch", f"第{three['2024年度“三公”经费']}段")]
    assert found("未配对/自评报告.docx") == [("report.unpaired", None)]  # no form in its folder of the archive
    assert (inbox / "第一批.zip").stat().st_size > 0 and not list(inbox.glob("*.docx"))  # nothing extracted


def test_typography_is_outline_data_a_province_may_override(tmp_path):
    """The page and fonts come from outlines/typography.toml; an outline's [typography] table overrides keys."""
    from jixiao.reports.outline import load_outline, outline_path

    own = tmp_path / "某省提纲.toml"
    text = outline_path("dept").read_text("utf-8")
    own.write_text(text + '\n[typography]\nbody_font = "方正仿宋_GBK"\nmargins_mm = { left = 30 }\n', "utf-8")
    assert load_outline(str(own)).typography.body_font == "方正仿宋_GBK"
    out = jixiao.report(dept_workbooks(tmp_path)["bureau"], tmp_path / "报告.docx", outline=str(own))
    doc = Document(str(out))
    sec = doc.sections[0]
    assert [round(x.mm) for x in (sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin)] == [37, 35, 30, 26]
    body = next(p for p in doc.paragraphs if p.text.startswith("预算执行情况"))
    assert body.runs[0]._element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "方正仿宋_GBK"
    heading = next(p for p in doc.paragraphs if p.text == "六、部门整体支出绩效情况")
    assert heading.runs[0]._element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "黑体"  # not overridden
    bad = tmp_path / "坏.toml"
    bad.write_text(text + "\n[typography]\nbody_size = 16\n", "utf-8")
    with pytest.raises(jixiao.JixiaoError) as e:
        load_outline(str(bad))
    assert e.value.code == "report.outline_invalid" and "body_size" in e.value.message


# ---------------------------------------------------------------------------
# Reports units published, typed as filed (tests/corpus/reports, keyed by hand before jixiao ran)

REPORTS = Path(__file__).parent / "corpus" / "reports"


def test_published_reports_give_their_keyed_findings_and_no_false_error(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPORTS.parent))
    import build_reports  # tests/corpus/build_reports.py: the only writer of the corpus' reports

    from jixiao.reports.reader import changes

    keys = {p.stem: json.loads(p.read_text("utf-8")) for p in sorted(REPORTS.glob("*.json"))}
    assert len(keys) >= 2 and set(keys) == set(build_reports.REPORTS)
    monkeypatch.setattr(build_reports, "OUT", tmp_path)
    for stem, paragraphs in build_reports.REPORTS.items():  # the committed files are what the builder types
        assert build_reports.write(stem, paragraphs).read_bytes() == (REPORTS / f"{stem}.docx").read_bytes(), stem
    result = jixiao.check(sorted(REPORTS.glob("*.docx")))
    by_stem = {Path(r.file).stem: r for r in result.files}
    assert set(by_stem) == set(keys)
    for stem, key in keys.items():
        res = by_stem[stem]
        assert res.kind == "report" and key["source"]["url"].startswith("http")
        found = {(f.rule, f.cell) for f in res.findings}
        # no false error: every error is a rule the key lists as unchecked on this partial page
        errors = [(f.rule, f.cell, f.message) for f in res.findings
                  if f.severity == "error" and f.rule not in key["unchecked_rules"]]
        assert errors == [], (stem, errors)
        gaps = {(g["rule"], g["paragraph"]) for g in key["known_gaps"] if g["kind"] == "missed"}
        for m in key["mistakes"]:
            at = (m["rule"], f"第{m['paragraph']}段")
            if (m["rule"], m["paragraph"]) in gaps:
                assert at not in found, f"{stem}: gap {at} no longer occurs; move it from known_gaps to found"
            else:
                assert at in found, (stem, m)
        read = read_report(REPORTS / f"{stem}.docx")
        for c in key["correct"]:
            if c["rule"] == "report.rate_mismatch":  # checked, and found right: the change was read and agrees
                p = next(x for x in read.paragraphs if x.index == c["paragraph"])
                assert changes(p.text), (stem, c)
                assert ("report.rate_mismatch", f"第{c['paragraph']}段") not in found, (stem, c)


def test_three_public_from_jixiaos_own_basic_data_template(tmp_path):
    """附件1-2 as jixiao's county template holds it (本年预算数/本年决算数 columns, subtotals by formula, as saved)."""
    from jixiao.layouts.writer import template_model
    from jixiao.reports.compare import compare
    from jixiao.reports.facts import basic_facts, form_facts
    from jixiao.samples import workbooks as sample_workbooks
    from jixiao.checking.checker import check_file
    from workbooks import seed002_values

    model = template_model("county-rubric")
    values = {model.field(k): v for k, v in seed002_values().items()}
    basic = tmp_path / "长沙县机关事务中心-评分表.xlsx"
    basic.write_bytes(sample_workbooks.excel_bytes(
        sample_workbooks.fill_bytes(sample_workbooks.template_bytes("county-rubric"), values),
        sample_workbooks.compute_cached("county-rubric", values)))
    form = dept_workbooks(tmp_path)["bureau"]
    lines = texts(jixiao.report(form, tmp_path / "报告.docx", basic=basic))
    line = next(x for x in lines if "“三公”经费预算数" in x)
    assert line.startswith("2024年度“三公”经费预算数 1802.00 万元，决算数 613.76 万元，决算数占预算数的 34.06%；")
    assert "因公出国（境）费决算数 0.00 万元（基础数据表未填预算数）" in line  # a blank is said, not printed as a number
    facts = form_facts(check_file(str(form), keep_form=True))
    facts.three_public = basic_facts(basic)
    assert {t.kind: t.budget_cell for t in facts.three_public}["reception"] == "附件1-2 基础数据表!D11"
    read = read_report(fill_placeholders(tmp_path / "报告.docx", tmp_path / "done.docx"))
    assert [f.rule for f in compare(read, facts)] == []
