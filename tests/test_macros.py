"""The ribbon's 评分/检查/新建/说明 on real template files through the openpyxl book: same as the core and jixiao check."""
import json
import random

import pytest
from jixiao_macros import actions
from jixiao_macros.book import OpenpyxlBook
from openpyxl import Workbook, load_workbook
from workbooks import SEED000, fill, seed000_values

from jixiao.checking import checker
from jixiao.errors import JixiaoError
from jixiao.form import DeptForm, score_form
from jixiao.layouts.model import dept_form
from jixiao.samples import submissions
from jixiao.samples import workbooks as sample_workbooks

P = "hunan-dept-2024"


def test_score_on_filled_template_matches_the_core(tmp_path):
    path = fill(dept_form("province"), seed000_values(), tmp_path / "dept.xlsx")
    cells = {c.field: c for c in actions.score(OpenpyxlBook(path))}
    core = score_form(DeptForm.from_dict(SEED000), P)
    assert cells["funds.exec_score"].value == core.exec_score == 9
    assert cells["sum_row.score"].value == core.sum_row == 90
    assert cells["total.score"].value == core.capped_total == 99 and cells["total.grade"].value == "优"
    assert [cells[f"ind.{i}.score"].value for i in range(16)] == [s.score for s in core.indicators]
    assert not any(c.written for c in cells.values())  # template cells keep their JX_ formulas


def test_score_writes_values_into_a_typed_form(tmp_path):
    form = json.loads(json.dumps(SEED000))
    form["indicators"][0]["actual"] = "18"
    src = tmp_path / "bureau.xlsx"
    src.write_bytes(submissions.bureau_bytes(form, {"exec_score": None, "sum": None}))
    book = OpenpyxlBook(src)
    cells = {c.field: c for c in actions.score(book, P)}
    assert cells["ind.0.score"].written and cells["ind.0.score"].value == 4  # 5 × 18/21 → whole points
    book.save()
    ws = load_workbook(src).active
    assert ws[cells["funds.exec_score"].cell].value == 9
    assert ws[cells["sum_row.score"].cell].value == 89
    res = checker.check_file(str(src), P)
    assert not {"indicator.score_mismatch", "execution.score_mismatch", "total.sum_row_mismatch"} & \
        {f.rule for f in res.findings}


def test_check_lists_the_same_findings_as_jixiao_check_and_marks_cells(tmp_path):
    data, expected = submissions.make_submission(random.Random(9), "template", "reason_missing")
    path = tmp_path / "sub.xlsx"
    path.write_bytes(data)
    cli = checker.check_file(str(path), P)
    book = OpenpyxlBook(path)
    res = actions.check(book, P)
    assert {(f.rule, f.cell) for f in res.findings} == {(f.rule, f.cell) for f in cli.findings}
    ws = book.wb["检查结果"]
    assert [c.value for c in ws[1]] == actions.RESULT_HEADER
    reason = expected[0]["cell"]
    row = next(r for r in ws.iter_rows(min_row=2) if r[2].value == reason)
    assert row[0].value == "错误" and row[2].hyperlink.location is None and row[2].hyperlink.target == f"#'自评表'!{reason}"
    target = book.wb["自评表"][reason]
    assert target.fill.fgColor.rgb.endswith("FFC7CE") and target.comment.author == "jixiao"
    assert book.wb["_jixiao_marks"].sheet_state == "hidden"
    # 评分 clears the marks again: the input cell gets back its yellow
    actions.score(book, P)
    assert target.fill.fgColor.rgb.endswith("FFF2CC") and target.comment is None
    assert "_jixiao_marks" not in book.wb.sheetnames


def test_new_form_and_help(tmp_path):
    path = actions.new_form("project", "national-2020", tmp_path)
    ws = load_workbook(path)["自评表"]
    assert ws["K2"].value == "national-2020" and ws["A1"].value == "项目支出绩效自评表"
    path = actions.new_form("dept-city", "hunan-dept-2024", tmp_path)
    assert load_workbook(path)["自评表"]["K2"].value == "hunan-dept-2024"
    text = actions.help_text(OpenpyxlBook(path))
    assert "hunan-dept-2024" in text and "jixiao" in text
    # a profile written for other forms is refused, in Chinese, and no file is written
    before = sorted(tmp_path.iterdir())
    with pytest.raises(JixiaoError, match="不适用于市级部门整体支出绩效自评表") as err:
        actions.new_form("dept-city", "county-rubric-2022", tmp_path)
    assert err.value.code == "macro.profile_mismatch" and sorted(tmp_path.iterdir()) == before


def test_check_on_seed000_template_matches_jixiao_check(tmp_path):
    from jixiao.layouts.writer import template_model

    model = template_model("dept-province")
    values = sample_workbooks.template_values(SEED000, model)
    data = sample_workbooks.excel_bytes(
        sample_workbooks.fill_bytes(sample_workbooks.template_bytes("dept-province"), values),
        sample_workbooks.compute_cached("dept-province", values))
    path = tmp_path / "seed000.xlsx"
    path.write_bytes(data)
    cli = checker.check_file(str(path))
    res = actions.check(OpenpyxlBook(path))
    assert res.total == cli.total == 99 and res.grade == "优"
    written = next(i for i, row in enumerate(SEED000["indicators"]) if str(row["actual"]).startswith("≥"))
    assert [(f.rule, f.cell) for f in res.findings] == [(f.rule, f.cell) for f in cli.findings] \
        == [("indicator.actual_has_comparator", model.main.fields[f"ind.{written}.actual"])]


# ---------------------------------------------------------------------------
# Marks: one piece of code (MarksMixin) for the openpyxl and the xlwings book


class _FakeRange:
    """Just what XlwingsBook touches of an xlwings Range: value, color, api comments, options/used_range."""

    def __init__(self, sheet, ref):
        self.sheet, self.ref = sheet, ref

    @property
    def value(self):
        return self.sheet.cells.get(self.ref)

    @value.setter
    def value(self, v):
        from openpyxl.utils.cell import (
            column_index_from_string,
            coordinate_from_string,
            get_column_letter,
        )

        col, row = coordinate_from_string(self.ref)
        if isinstance(v, list):  # a row written from its first cell
            for j, x in enumerate(v):
                ref = f"{get_column_letter(column_index_from_string(col) + j)}{row}"
                if x in (None, ""):
                    self.sheet.cells.pop(ref, None)  # Excel keeps "" as an empty cell
                else:
                    self.sheet.cells[ref] = x
        else:
            self.sheet.cells[self.ref] = v

    @property
    def color(self):
        return self.sheet.colors.get(self.ref)

    @color.setter
    def color(self, rgb):
        if rgb is None:
            self.sheet.colors.pop(self.ref, None)
        else:
            self.sheet.colors[self.ref] = tuple(rgb)

    @property
    def api(self):
        sheet, ref = self.sheet, self.ref

        class Api:
            def ClearComments(self):
                sheet.notes.pop(ref, None)

            def AddComment(self, text):
                sheet.notes[ref] = text

        return Api()


class _FakeUsedRange:
    def __init__(self, sheet):
        self.sheet = sheet

    def options(self, ndim):
        return self

    @property
    def value(self):
        from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

        cells = {coordinate_from_string(r)[::-1]: v for r, v in self.sheet.cells.items()}
        rows = max(r for r, _ in cells)
        cols = max(column_index_from_string(c) for _, c in cells)
        from openpyxl.utils import get_column_letter
        return [[cells.get((r, get_column_letter(c))) for c in range(1, cols + 1)] for r in range(1, rows + 1)]

    @property
    def last_cell(self):
        class Last:
            row = max(int("".join(ch for ch in r if ch.isdigit())) for r in self.sheet.cells)
        return Last()


class _FakeSheet:
    def __init__(self, book, name):
        self.book, self.name, self.cells, self.colors, self.notes, self.visible = book, name, {}, {}, {}, True

    def __getitem__(self, ref):
        return _FakeRange(self, ref)

    @property
    def used_range(self):
        return _FakeUsedRange(self)

    def delete(self):
        self.book.sheets.items.remove(self)


class _FakeSheets:
    def __init__(self, book):
        self.book, self.items = book, []

    def __iter__(self):
        return iter(list(self.items))

    def __getitem__(self, key):
        if isinstance(key, int):
            return self.items[key]
        return next(s for s in self.items if s.name == key)

    def add(self, name, after=None, before=None):
        s = _FakeSheet(self.book, name)
        self.items.append(s)
        return s


class _FakeXwBook:
    name = "fake.xlsx"

    def __init__(self, *names):
        self.sheets = _FakeSheets(self)
        for n in names:
            self.sheets.add(n)


def test_marks_restore_fills_in_both_books_with_the_same_code(tmp_path):
    from jixiao_macros.book import MarksMixin, XlwingsBook

    assert OpenpyxlBook.mark is XlwingsBook.mark is MarksMixin.mark
    assert OpenpyxlBook.clear_marks is XlwingsBook.clear_marks is MarksMixin.clear_marks
    xw_book = _FakeXwBook("自评表")
    sheet = xw_book.sheets["自评表"]
    sheet.colors["B2"] = (0xFF, 0xF2, 0xCC)  # an input cell's yellow; A1 has no fill
    book = XlwingsBook(xw_book)
    book.mark("自评表", "A1", "error", "得分与规则不符")  # saved colour blank: Excel keeps an empty cell
    book.mark("自评表", "B2", "warning", "超额完成")
    book.mark("自评表", "B2", "error", "第二条")  # the same cell twice
    marks = xw_book.sheets["_jixiao_marks"]
    assert marks.visible is False and "C1" not in marks.cells  # the blank saved colour is an empty cell
    assert sheet.colors["A1"] == (0xFF, 0xC7, 0xCE) and sheet.notes["B2"] == "第二条"
    assert book.clear_marks() == 3
    assert "A1" not in sheet.colors and sheet.colors["B2"] == (0xFF, 0xF2, 0xCC) and not sheet.notes
    assert "_jixiao_marks" not in [s.name for s in xw_book.sheets]
    assert book.clear_marks() == 0
    # only blank saved colours: the marks sheet is two columns wide (the crash of issue 11)
    book.mark("自评表", "A1", "error", "x")
    assert xw_book.sheets["_jixiao_marks"].used_range.value == [["自评表", "A1"]]
    assert book.clear_marks() == 1 and "A1" not in sheet.colors


def test_marks_twice_on_one_cell_restore_the_first_fill_in_openpyxl(tmp_path):
    from openpyxl import Workbook
    from openpyxl.styles import PatternFill

    wb = Workbook()
    wb.active.title = "自评表"
    wb["自评表"]["B2"].fill = PatternFill("solid", fgColor="FFF2CC")
    wb.save(tmp_path / "m.xlsx")
    book = OpenpyxlBook(tmp_path / "m.xlsx")
    book.mark("自评表", "A1", "error", "x")
    book.mark("自评表", "B2", "warning", "y")
    book.mark("自评表", "B2", "error", "z")
    book.save()
    book = OpenpyxlBook(tmp_path / "m.xlsx")  # saved and opened again, like the next 评分
    assert book.clear_marks() == 3
    ws = book.wb["自评表"]
    assert ws["A1"].fill.fill_type is None and ws["B2"].fill.fgColor.rgb.endswith("FFF2CC")
    assert ws["A1"].comment is None and ws["B2"].comment is None


def test_marks_sheet_rows_are_read_tolerantly():
    from jixiao_macros.book import mark_rows, saved_colour

    assert saved_colour(None) == saved_colour("") == saved_colour("  ") == ""
    assert saved_colour("FFFFF2CC") == saved_colour("#fff2cc") == saved_colour("FFF2CC") == "#FFF2CC"
    assert saved_colour(12.0) == saved_colour("theme") == ""
    assert mark_rows([["自评表", "A1"], ["自评表", "B2", None], [None, None, None], ["自评表", "C3", "#FFF2CC"], "x"]) \
        == [("自评表", "A1", ""), ("自评表", "B2", ""), ("自评表", "C3", "#FFF2CC")]
    assert mark_rows(None) == []


def test_score_and_check_refuse_a_profile_that_does_not_fit_the_form(tmp_path):
    path = fill(dept_form("province"), seed000_values(), tmp_path / "dept.xlsx")
    for action in (actions.score, actions.check):
        with pytest.raises(JixiaoError, match="county-rubric-2022.*不适用于省级部门整体支出绩效自评表") as err:
            action(OpenpyxlBook(path), "county-rubric-2022")
        assert err.value.code == "macro.profile_mismatch" and "按表格默认" in err.value.message
    assert actions.score(OpenpyxlBook(path), "national-2020")  # national-2020 is written for department forms too


def test_profiles_name_the_forms_they_fit():
    from jixiao.profile import FORM_KINDS, load_profile

    county, hunan, national = (load_profile(p) for p in ("county-rubric-2022", "hunan-dept-2024", "national-2020"))
    assert county.forms == ("county-rubric", "project-summary") and not county.fits("dept-city")
    assert not county.fits("dept") and not county.fits("project")
    assert hunan.fits("dept-county") and hunan.fits("dept") and not hunan.fits("project")
    assert national.fits("project") and national.fits("dept") and not national.fits("county-rubric")
    assert set(county.forms) | set(hunan.forms) | set(national.forms) <= set(FORM_KINDS)


def test_a_profile_without_forms_fits_every_form_and_unknown_forms_are_refused(tmp_path):
    from jixiao.profile import FORM_KINDS, ProfileError, load_profile

    own = tmp_path / "own.toml"
    own.write_text('[profile]\nid = "own"\nextends = "county-rubric-2022"\nname = "x"\nforms = []\n', "utf-8")
    assert all(load_profile(own).fits(k) for k in FORM_KINDS + ("dept", "project"))
    bad = tmp_path / "bad.toml"
    bad.write_text('[profile]\nid = "bad"\nextends = "national-2020"\nname = "x"\nforms = ["dept"]\n', "utf-8")
    with pytest.raises(ProfileError, match="未知的表格"):
        load_profile(bad)


def test_report_button_writes_the_draft_beside_the_workbook(tmp_path):
    """生成自评报告: what the ribbon button calls, on the workbook as open (an unsaved edit included)."""
    from jixiao.reports.compare import compare
    from jixiao.reports.reader import read_report

    from jixiao.layouts.writer import template_model

    model = template_model("dept-province")
    values = sample_workbooks.template_values(SEED000, model)
    data = sample_workbooks.excel_bytes(
        sample_workbooks.fill_bytes(sample_workbooks.template_bytes("dept-province"), values),
        sample_workbooks.compute_cached("dept-province", values))
    folder = tmp_path / "湖南省机关事务管理局"
    folder.mkdir()
    path = folder / "部门整体支出绩效自评表.xlsx"
    path.write_bytes(data)
    before = path.read_bytes()
    book = OpenpyxlBook(path)
    out = actions.report(book)
    assert out == folder / "部门整体支出绩效自评表-自评报告.docx"
    assert path.read_bytes() == before  # the workbook is only read
    assert sorted(p.name for p in folder.iterdir()) == sorted([path.name, out.name])  # no temporary file left behind
    read = read_report(out)
    assert "自评得分 99 分，等级 优" in "\n".join(p.text for p in read.paragraphs)
    assert [f.rule for f in compare(read, None) if f.severity == "error"] == []
    # a second click never writes over the first draft (the unit may have written in it)
    out.write_bytes(b"edited by the unit")
    again = actions.report(book)
    assert again == folder / "部门整体支出绩效自评表-自评报告(2).docx" and out.read_bytes() == b"edited by the unit"
    # the numbers are the open workbook's: an edit not yet saved is in the report
    sheet, ref = model.main.name, model.main.fields["funds.executed"]
    book.set_value(sheet, ref, 30000)
    third = actions.report(book)
    assert "全年执行数 30000.00 万元" in "\n".join(p.text for p in read_report(third).paragraphs)
    assert path.read_bytes() == before
    # a workbook with no form: a Chinese refusal, nothing written
    other = tmp_path / "空白.xlsx"
    Workbook().save(other)
    with pytest.raises(JixiaoError) as err:
        actions.report(OpenpyxlBook(other))
    assert err.value.code == "report.no_form" and not list(tmp_path.glob("空白-自评报告*"))
