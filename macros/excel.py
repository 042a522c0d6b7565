"""Entry points of the ribbon buttons, called by the add-in's VBA through xlwings' RunPython (Excel only)."""
from __future__ import annotations

import xlwings as xw

from jixiao.errors import JixiaoError

from . import actions
from .book import XlwingsBook


def _book() -> XlwingsBook:
    return XlwingsBook(xw.Book.caller())


def _alert(text: str, title: str = "绩效自评") -> None:
    xw.apps.active.alert(text, title)


def score() -> None:
    try:
        cells = actions.score(_book())
    except JixiaoError as e:
        _alert(f"{e.message}（{e.code}）")
        return
    written = sum(1 for c in cells if c.written)
    xw.apps.active.calculate()
    _alert(f"已评分：{len(cells)} 个得分单元格" + (f"，其中 {written} 个为手填表格写入的数值" if written else ""))


def check() -> None:
    try:
        res = actions.check(_book())
    except JixiaoError as e:
        _alert(f"{e.message}（{e.code}）")
        return
    counts = res.counts()
    _alert(f"检查完成：错误 {counts['error']} 条，警告 {counts['warning']} 条，详见“检查结果”工作表。")


def report() -> None:
    """生成自评报告: the draft beside the workbook (its path from Excel, never from the VBA's command text)."""
    caller = xw.Book.caller()
    full = str(caller.fullname or "")
    workbook = full if "://" not in full and ("\\" in full or "/" in full) else None  # unsaved or online: Documents
    try:
        path = actions.report(XlwingsBook(caller), workbook=workbook)
    except JixiaoError as e:
        _alert(f"{e.message}（{e.code}）")
        return
    _alert(f"已生成自评报告草稿：{path}\n黄色底纹的【待填写】处请补写；数字取自本工作簿，请先评分、检查。")


def new_form(kind: str, profile: str = "") -> None:
    try:
        path = actions.new_form(kind, profile or None)
    except JixiaoError as e:
        _alert(f"{e.message}（{e.code}）")
        return
    xw.Book(str(path))


def help() -> None:  # noqa: A001 - the button is 说明 (help)
    book = _book()
    if "填表说明" in book.sheet_names():
        book.activate("填表说明")
    _alert(actions.help_text(book))
