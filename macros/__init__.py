"""What the add-in's ribbon buttons run: 评分, 检查, 生成自评报告, 新建自评表, 说明.

The actions (:mod:`jixiao_macros.actions`) work on a small book interface
(:class:`jixiao_macros.book.BookLike`) that an xlwings ``Book`` satisfies in Excel
(:class:`jixiao_macros.book.XlwingsBook`) and an openpyxl workbook satisfies in tests
(:class:`jixiao_macros.book.OpenpyxlBook`), so the same code runs in both.
:mod:`jixiao_macros.excel` holds the entry points the VBA callbacks call.
"""
