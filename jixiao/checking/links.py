"""References to other workbooks (``[1]Sheet1!A1``): found, reported, and never followed.

A submitted workbook is untrusted, and an external link names a file or host of the attacker's choosing: an
absolute path on the bureau's disk, a ``../`` path, a ``file://`` URL, a ``\\\\host\\share`` UNC path (a network
connection on Windows), a FIFO that blocks whoever opens it. jixiao never opens any of them. A formula that reads
another workbook keeps the value Excel saved for it (its cached value) and becomes a finding
(``formula.external_link``); every later step — the routes, the ``formulas`` recalculation, the server's marked
copy — sees the workbook *sealed*: those cells hold their cached values, names that point outside are gone.

jixiao's own add-in is the one link that is not another workbook: ``[n]!JX_…(…)`` calls its cell functions,
which jixiao computes itself (see :func:`is_addin`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from ..errors import Finding
from ..rules import rule
from .xlsx import Book, ExternalLink

EXTERNAL_LINK = rule("formula.external_link", "引用了外部工作簿")

ADDIN_NAME = re.compile(r"jixiao[^\\/]*\.xla[mb]?$", re.I)  # the add-in's file, wherever it is installed
MAX_TARGET_CHARS = 200  # a target shown in a finding
_STRING = re.compile(r'"(?:[^"]|"")*"')
# [n] or [book.xlsx] before a sheet and "!": quoted ('C:\d\[b.xlsx]My sheet'!A1) or not ([1]Sheet1!A1, [1]!Name)
_QUOTED = re.compile(r"'((?:[^'\[]|'')*)\[([^\[\]']+)\](?:[^']|'')*'!")
_PLAIN = re.compile(r"\[([^\[\]'\"]+)\][\w.]*!")
_ADDIN_CALL = re.compile(r"\[(\d+)\]!(?=JX_\w+\s*\()", re.I)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def is_addin(link: ExternalLink) -> bool:
    """Whether a link is jixiao's add-in: its file is jixiao….xlam, or every name it offers is a JX_ function."""
    base = re.split(r"[\\/]", link.target)[-1]
    return bool(ADDIN_NAME.search(base) or (link.names and all(n.upper().startswith("JX_") for n in link.names)))


def _addin_indices(links: dict[int, ExternalLink]) -> set[int]:
    return {i for i, link in links.items() if is_addin(link)}


def external_books(formula: str, links: dict[int, ExternalLink]) -> list[str]:
    """The other workbooks a formula (or a defined name's text) reads, as written between brackets: "1", "b.xlsx".

    Calls of jixiao's functions through the add-in's link (``[1]!JX_EXEC_SCORE(…)``) are not another workbook;
    nor is ``[n]!JX_…(`` when the workbook declares no link n (jixiao computes JX_ functions itself).
    """
    if "[" not in formula:
        return []
    return _books_read(formula, frozenset(_addin_indices(links)), frozenset(links))


def _books_read(formula: str, addin: frozenset[int], declared: frozenset[int]) -> list[str]:
    """:func:`external_books` given the add-in's link numbers and every declared one (a workbook's formulas repeat
    across workbooks: each short one is read once for the same links)."""
    if len(formula) > MAX_KEPT_FORMULA:
        return _read_books(formula, addin, declared)
    return list(_kept_books(formula, addin, declared))


MAX_KEPT_FORMULA = 512  # characters: longer formulas are read each time


@lru_cache(maxsize=8192)
def _kept_books(formula: str, addin: frozenset[int], declared: frozenset[int]) -> tuple[str, ...]:
    return tuple(_read_books(formula, addin, declared))


def _read_books(formula: str, addin: frozenset[int], declared: frozenset[int]) -> list[str]:
    text = _STRING.sub('""', formula)
    text = _ADDIN_CALL.sub(lambda m: "" if int(m.group(1)) in addin or int(m.group(1)) not in declared
                           else m.group(0), text)
    found = [m.group(1).replace("''", "'") + m.group(2) for m in _QUOTED.finditer(text)]
    found += [m.group(1) for m in _PLAIN.finditer(_QUOTED.sub("''!", text))]
    return found


@dataclass
class ExternalUse:
    """The cells whose formulas read one other workbook, and how the workbook names it."""

    book: str  # as between the brackets: "1" for the first external link, or a file name written in the formula
    link: ExternalLink | None
    cells: list[tuple[str, str]]


def _order(key: tuple[str, str]) -> tuple[str, int, str]:
    sheet, ref = key
    letters = ref.rstrip("0123456789")
    return sheet, int(ref[len(letters):] or 0), letters


def external_uses(book: Book) -> dict[str, ExternalUse]:
    """Every other workbook the book's formulas read, directly or through a defined name, with the cells that do."""
    outside = external_names(book)
    name_use = (re.compile(r"(?<![\w.\]!'])(" + "|".join(re.escape(n) for n in sorted(outside, key=len, reverse=True))
                           + r")(?![\w.(!])", re.I) if outside else None)
    uses: dict[str, ExternalUse] = {}
    addin, declared = frozenset(_addin_indices(book.links)), frozenset(book.links)
    for s in book.sheets.values():
        for ref, f in s.formulas.items():
            books = _books_read(f, addin, declared) if "[" in f else []
            if name_use is not None:
                text = _STRING.sub('""', f)
                books += [b for m in name_use.finditer(text) for b in outside.get(m.group(1).upper(), [])]
            for b in dict.fromkeys(books):
                link = book.links.get(int(b)) if b.isdigit() else None
                uses.setdefault(b, ExternalUse(b, link, [])).cells.append((s.name, ref))
    for u in uses.values():
        u.cells.sort(key=_order)
    return uses


def external_names(book: Book) -> dict[str, list[str]]:
    """Defined names (upper-case) whose text reads another workbook, with the workbooks they read."""
    out = {}
    for name, text in book.names.items():
        books = external_books("=" + text, book.links)
        if books:
            out[name.upper()] = books
    return out


def external_cells(book: Book) -> set[tuple[str, str]]:
    """(sheet, cell) of every formula that reads another workbook."""
    return {c for u in external_uses(book).values() for c in u.cells}


def shown_target(text: str) -> str:
    """A link's target as a finding shows it: no control characters, at most :data:`MAX_TARGET_CHARS`."""
    text = _CONTROL.sub("?", text)
    return text if len(text) <= MAX_TARGET_CHARS else text[:MAX_TARGET_CHARS] + "…"


def findings(book: Book, uses: dict[str, ExternalUse] | None = None) -> list[Finding]:
    """One warning per other workbook read, at the first cell that reads it (``uses``: the book's
    :func:`external_uses`, when already found)."""
    out = []
    for u in sorted((external_uses(book) if uses is None else uses).values(), key=lambda u: _order(u.cells[0])):
        if u.book.isdigit():
            target = shown_target(u.link.target) if u.link is not None and u.link.target else "（链接目标未写明）"
            what = f"{target}（第 {int(u.book)} 个外部链接）"
        else:
            what = shown_target(u.book)
        more = f"；共 {len(u.cells)} 个单元格引用它" if len(u.cells) > 1 else ""
        sheet, cell = u.cells[0]
        out.append(Finding(EXTERNAL_LINK, "warning", f"引用了外部工作簿 {what}，已按缓存值处理（jixiao 不打开外部文件）{more}",
                           extra={"book": u.book, "cells": len(u.cells)}).at(sheet, cell))
    return out


def sealed(book: Book, cells: Iterable[tuple[str, str]] | None = None) -> Book:
    """The book with every formula that reads another workbook replaced by its cached value, and no defined name
    that points outside: what the routes and the recalculation may see."""
    cells = set(external_cells(book) if cells is None else cells)
    outside = external_names(book)
    if not cells and not outside:
        return book
    sheets = {}
    for name, s in book.sheets.items():
        drop = {ref for sh, ref in cells if sh == name}
        sheets[name] = replace(s, formulas={r: f for r, f in s.formulas.items() if r not in drop}) if drop else s
    names = {n: t for n, t in book.names.items() if n.upper() not in outside}
    return replace(book, sheets=sheets, names=names)
