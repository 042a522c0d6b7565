"""A small, fast, bounded reader of .xlsx/.xlsm files: values, cached results and formula text.

Submitted workbooks are untrusted. This reader never runs anything in them,
never writes to them, and refuses what would cost unbounded time or memory
(zip bombs, sheets of a million rows) with a clear message. It reads only the
parts it needs (workbook, shared strings, worksheets) straight from the zip,
so a workbook of the official size reads in about a millisecond; shared
formulas are expanded to every cell they cover.
"""
from __future__ import annotations

import io
import math
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import IO, Any

from ..columns import column_index_from_string

from ..errors import CellError, JixiaoError
from ..rules import error_codes

error_codes({
    "workbook.corrupt": "文件损坏",
    "workbook.empty": "没有工作表",
    "workbook.encrypted_or_xls": "加密或旧版文件",
    "workbook.not_found": "文件不存在",
    "workbook.not_xlsx": "不是工作簿",
    "workbook.too_large": "文件过大",
    "workbook.unreadable": "工作簿无法读取",
    "input.unreadable": "文件无法读取",
})


WHOLE_BYTES = 4 * 1024 * 1024  # a workbook up to this size is read into memory at once (a form is 20–200 KB)
MAX_PART_BYTES = 64 * 1024 * 1024  # one uncompressed XML part
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # all parts read from one workbook
MAX_RATIO = 200  # uncompressed / compressed for a part: above this it is a zip bomb
MAX_CELLS = 400_000  # cells in one workbook (the official forms have a few thousand)
MAX_ROW = 100_000  # a form never needs more rows
MAX_PARTS = 5_000  # zip members of one workbook (a form has a few dozen); each costs memory before any is read
MAX_DIRECTORY_BYTES = 1024 * 1024  # its zip directory (names included)
SKIP_SHEETS = {"填表说明"}  # jixiao's own guide: text only, never checked


class WorkbookError(JixiaoError):
    """A workbook that cannot be read: the message names the file and says why, in Chinese."""

    code = "workbook.unreadable"


@dataclass
class Sheet:
    name: str
    values: dict[str, Any] = field(default_factory=dict)  # "A1" → value (cached result for formula cells)
    formulas: dict[str, str] = field(default_factory=dict)  # "A1" → "=…" (shared formulas expanded)
    merges: list[str] = field(default_factory=list)
    part: str = ""  # the zip member it was read from
    formats: dict[str, str] = field(default_factory=dict)  # "A1" → number format of a number cell ("0.00%")
    max_row: int = 0
    max_col: int = 0

    def get(self, ref: str) -> Any:
        return self.values.get(ref)


@dataclass(frozen=True)
class ExternalLink:
    """One ``[n]`` external link as the workbook's parts declare it: read from the zip, never opened."""

    index: int  # n of [n] in formulas: the position in <externalReferences>, from 1
    target: str  # the relationship's Target as written (a path, a URL …); "" when the part names none
    names: tuple[str, ...] = ()  # defined names the linked book offers (the add-in lists its JX_ functions)


@dataclass
class Book:
    path: str
    sheets: dict[str, Sheet]
    names: dict[str, str]  # defined names → "'Sheet'!$A$1"
    has_macros: bool = False
    links: dict[int, ExternalLink] = field(default_factory=dict)  # external links by their [n]
    raw: bytes | None = None  # the file's bytes when it came from inside an archive
    html: bool = False  # read from a web page's table (an "Excel export" that is HTML, often named .xls)

    def sheet(self, name: str) -> Sheet | None:
        return self.sheets.get(name)


_NS = r"(?:[A-Za-z_][\w.-]*:)?"
# cells with content only: a self-closing <c …/> (a styled empty cell, most of a template) never matches
_CELL = re.compile(rf"<{_NS}c\b([^>]*?)(?<!/)>(.*?)</{_NS}c>", re.S)
_CELL_R_FIRST = re.compile(rf'<{_NS}c\s+r="([A-Z]{{1,3}})(\d+)"([^>]*?)(?<!/)>(.*?)</{_NS}c>', re.S)
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')
_F = re.compile(rf"<{_NS}f\b([^>]*?)(?:/>|>(.*?)</{_NS}f>)", re.S)
_V = re.compile(rf"<{_NS}v>(.*?)</{_NS}v>", re.S)
_IS_T = re.compile(rf"<{_NS}t(?:\s[^>]*)?>(.*?)</{_NS}t>", re.S)
_SI = re.compile(rf"<{_NS}si>(.*?)</{_NS}si>", re.S)
_SHEET = re.compile(rf"<{_NS}sheet\b([^>]*)/?>")
_REL = re.compile(r"<Relationship\b([^>]*)/?>")
_DEFNAME = re.compile(rf"<{_NS}definedName\b([^>]*)>(.*?)</{_NS}definedName>", re.S)
_MERGE = re.compile(rf'<{_NS}mergeCell\s+ref="([^"]+)"')
_REF = re.compile(r"([A-Z]{1,3})(\d+)")
_R_ATTR = re.compile(r'\br="([A-Z]{1,3})(\d+)"')
_T_ATTR = re.compile(r'\bt="(\w+)"')
_SI_ATTR = re.compile(r'\bsi="(\d+)"')
_S_ATTR = re.compile(r'\bs="(\d+)"')
_NUMFMT = re.compile(rf"<{_NS}numFmt\b([^>]*)/?>")
_CELLXFS = re.compile(rf"<{_NS}cellXfs\b[^>]*>(.*?)</{_NS}cellXfs>", re.S)
_XF = re.compile(rf"<{_NS}xf\b([^>]*)")
# the built-in number formats a form's amounts and rates use (ECMA-376 §18.8.30)
BUILTIN_FORMATS = {1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%", 11: "0.00E+00"}


_ENTITY = re.compile(r"&(#[xX][0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _entity(m: re.Match) -> str:
    e = m.group(1)
    if e[0] != "#":
        return _NAMED[e]
    code = int(e[2:], 16) if e[1] in "xX" else int(e[1:])
    return chr(code) if 0 < code < 0x110000 else m.group(0)


def _unescape(text: str) -> str:
    """XML text to str: the five named entities and numeric references (&#22635;) as lxml writes them.

    XML's rules, not HTML's: ``&#133;`` is U+0085, not the “…” HTML maps it to.
    """
    return _ENTITY.sub(_entity, text) if "&" in text else text

_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"}


def reason(e: BaseException) -> str:
    """Why a file could not be read, in Chinese (the Python exception text is English)."""
    if isinstance(e, PermissionError):
        return "没有读取权限"
    if isinstance(e, FileNotFoundError):
        return "文件不存在"
    if isinstance(e, IsADirectoryError):
        return "这是文件夹"
    if isinstance(e, NotADirectoryError):
        return "路径中有一段不是文件夹"
    if isinstance(e, FileExistsError):
        return "已有同名文件"
    if isinstance(e, OSError) and e.errno == 28:
        return "磁盘已满"
    if isinstance(e, zipfile.BadZipFile):
        return "不是完整的 zip 格式（文件可能被截断或改了扩展名）"
    if isinstance(e, EOFError):
        return "文件被截断"
    if isinstance(e, NotImplementedError):
        return "使用了不支持的压缩方法"
    if isinstance(e, RuntimeError):
        return "文件已加密或需要密码"
    if isinstance(e, zlib.error):
        return "压缩数据已损坏"
    if isinstance(e, OSError):
        return f"读取出错（系统错误 {e.errno}）" if e.errno else "读取出错"
    return "内容格式错误"


def zip_directory(source: str | Path | IO[bytes]) -> tuple[int, int] | None:
    """(members, bytes of the central directory) as a zip's end record declares them, read before :mod:`zipfile`
    builds an object per member (a few hundred bytes each); None when there is no end record (zipfile then says
    what is wrong). zipfile reads as many entries as the directory's bytes hold, whatever the count says, so both
    are bounded."""
    import struct

    fh = open(source, "rb") if isinstance(source, (str, Path)) else source
    try:
        start = fh.tell() if fh is source else 0
        fh.seek(0, 2)
        size = fh.tell()
        tail = min(size, 65_536 + 22)
        fh.seek(size - tail)
        data = fh.read(tail)
        fh.seek(start)
    finally:
        if fh is not source:
            fh.close()
    i = data.rfind(b"PK\x05\x06")
    if i < 0 or len(data) - i < 22:
        return None
    count, cd_size = struct.unpack_from("<HI", data, i + 10)
    # zipfile takes the zip64 record's numbers whenever a zip64 locator precedes the end record, whatever the end
    # record says: so do the same, and keep the larger of each pair
    j = i - 20 - 56
    if j >= 0 and data[i - 20:i - 16] == b"PK\x06\x07" and data[j:j + 4] == b"PK\x06\x06":
        count64, cd_size64 = struct.unpack_from("<QQ", data, j + 32)
        count, cd_size = max(count, count64), max(cd_size, cd_size64)
    elif count == 0xFFFF or cd_size == 0xFFFFFFFF:  # zip64 numbers announced but no record where zipfile looks
        j = data.rfind(b"PK\x06\x06", 0, i)
        if j < 0 or len(data) - j < 56:
            return None
        count, cd_size = struct.unpack_from("<QQ", data, j + 32)
    return count, cd_size


def too_many_members(source: str | Path | IO[bytes], members: int, directory_bytes: int) -> int | None:
    """The declared member count when the zip exceeds ``members`` or its directory ``directory_bytes``."""
    d = zip_directory(source)
    if d is not None and (d[0] > members or d[1] > directory_bytes):
        return d[0] if d[0] > members else d[1] // 46  # 46 bytes: the smallest directory entry
    return None


def _attrs(text: str) -> dict[str, str]:
    return {k.split(":")[-1]: v for k, v in _ATTR.findall(text)}


def _text(xml: str) -> str:
    return _unescape("".join(_IS_T.findall(xml)))


class _Zip:
    """Reads parts of a zip with limits on size and compression ratio."""

    def __init__(self, z: zipfile.ZipFile, label: str):
        self.z, self.label, self.total = z, label, 0
        self.names = set(z.namelist())

    def read(self, name: str) -> str:
        try:
            info = self.z.getinfo(name)
        except KeyError:
            raise WorkbookError(f"工作簿缺少部件 {name}", code="workbook.corrupt", file=self.label) from None
        if info.file_size > MAX_PART_BYTES or (info.compress_size and info.file_size / info.compress_size > MAX_RATIO
                                               and info.file_size > 1024 * 1024):
            raise WorkbookError(f"部件 {name} 解压后达 {info.file_size / 1e6:.0f} MB（压缩比过高或过大），拒绝读取",
                                code="workbook.too_large", file=self.label)
        self.total += info.file_size
        if self.total > MAX_TOTAL_BYTES:
            raise WorkbookError("工作簿解压后过大，拒绝读取", code="workbook.too_large", file=self.label)
        with self.z.open(info) as f:
            data = f.read(MAX_PART_BYTES + 1)
        if len(data) > MAX_PART_BYTES:
            raise WorkbookError(f"部件 {name} 过大，拒绝读取", code="workbook.too_large", file=self.label)
        return data.decode("utf-8", errors="replace")


def _target(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return str(PurePosixPath(base).parent / target).replace("/./", "/")


def _shift(formula: str, dr: int, dc: int) -> str:
    """Move the relative references of a shared formula by (dr, dc)."""
    from ..excel.syntax import shift_formula

    return shift_formula(formula, dr, dc)


def read_book(source: str | Path | IO[bytes], label: str | None = None,
              sheets: set[str] | None = None) -> Book:
    """Read a workbook. ``sheets`` limits which sheets are parsed (all by default)."""
    label = label or str(source)
    if isinstance(source, (str, Path)):
        p = Path(source)
        if not p.exists():
            raise WorkbookError("文件不存在", code="workbook.not_found", file=label)
        try:
            with open(p, "rb") as fh:
                head = fh.read(4096)
                if head.startswith(b"PK") and os.fstat(fh.fileno()).st_size <= WHOLE_BYTES:
                    # a form's size: read once, then its end record, directory and parts come from memory
                    source = io.BytesIO(head + fh.read(WHOLE_BYTES))
        except OSError as e:
            code = "input.unreadable" if isinstance(e, PermissionError) else "workbook.corrupt"
            raise WorkbookError(f"无法读取文件：{reason(e)}", code=code, file=label) from None
    else:
        head = source.read(4096)
        source.seek(0)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise WorkbookError("这是加密的工作簿或旧版 .xls 文件（OLE 格式），无法直接读取；加密文件请去掉打开密码后重新提交",
                            code="workbook.encrypted_or_xls", file=label)
    if not head.startswith(b"PK"):
        from .html_table import is_html, read_html_book

        if is_html(head):
            return read_html_book(str(source) if isinstance(source, (str, Path)) else source, label)
        raise WorkbookError("不是 Excel 工作簿（.xlsx/.xlsm）", code="workbook.not_xlsx", file=label)
    try:
        members = too_many_members(source, MAX_PARTS, MAX_DIRECTORY_BYTES)
        if members is not None:
            raise WorkbookError(f"压缩格式中有约 {members} 个部件，远超工作簿的规模，拒绝读取", code="workbook.too_large",
                                file=label)
        z = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise WorkbookError(f"文件已损坏，无法解压：{reason(e)}", code="workbook.corrupt", file=label) from None
    with z:
        zr = _Zip(z, label)
        if "xl/workbook.xml" not in zr.names:
            wb_part = next((n for n in zr.names if n.endswith("workbook.xml")), None)
            if wb_part is None:
                raise WorkbookError("压缩包中没有工作簿（xl/workbook.xml）", code="workbook.not_xlsx", file=label)
        else:
            wb_part = "xl/workbook.xml"
        try:
            return _read(zr, wb_part, label, sheets)
        except RuntimeError as e:  # a member that needs a password
            raise WorkbookError(f"文件无法读取：{reason(e)}", code="workbook.encrypted_or_xls", file=label) from None
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, IndexError, NotImplementedError,
                zlib.error) as e:
            raise WorkbookError(f"文件已损坏：{reason(e)}", code="workbook.corrupt", file=label) from None


def _read(zr: _Zip, wb_part: str, label: str, only: set[str] | None) -> Book:
    wb_xml = zr.read(wb_part)
    rels_part = str(PurePosixPath(wb_part).parent / "_rels" / (PurePosixPath(wb_part).name + ".rels"))
    rels = {}
    if rels_part in zr.names:
        for m in _REL.finditer(zr.read(rels_part)):
            a = _attrs(m.group(1))
            rels[a.get("Id")] = (a.get("Type", ""), a.get("Target", ""))
    shared: list[str] = []
    for typ, target in rels.values():
        if typ.endswith("/sharedStrings"):
            part = _target(wb_part, target)
            if part in zr.names:
                for m in _SI.finditer(zr.read(part)):  # one at a time: a 64 MB part holds millions
                    shared.append(_text(m.group(1)))
                    if len(shared) > MAX_CELLS:
                        raise WorkbookError(f"共享字符串超过 {MAX_CELLS} 个，不是自评表，拒绝读取",
                                            code="workbook.too_large", file=label)
    names = {}
    for m in _DEFNAME.finditer(wb_xml):
        a = _attrs(m.group(1))
        if "localSheetId" not in a:
            names[a.get("name", "")] = _unescape(m.group(2))
    book = Book(label, {}, names, has_macros="xl/vbaProject.bin" in zr.names, links=_links(zr, wb_part, wb_xml, rels))
    styles = _number_formats(zr, wb_part, rels)
    cells = 0
    for m in _SHEET.finditer(wb_xml):
        a = _attrs(m.group(1))
        name = _unescape(a.get("name", ""))
        if only is not None and name not in only or name in SKIP_SHEETS:
            continue
        typ, target = rels.get(a.get("id"), ("", ""))
        if not typ.endswith("/worksheet"):
            continue  # chart sheets, dialog sheets
        part = _target(wb_part, target)
        sheet = _read_sheet(zr.read(part), name, shared, label, styles)
        sheet.part = part
        cells += len(sheet.values)
        if cells > MAX_CELLS:
            raise WorkbookError(f"工作簿单元格超过 {MAX_CELLS} 个，不是自评表，拒绝读取",
                                code="workbook.too_large", file=label, sheet=name)
        book.sheets[name] = sheet
    if not book.sheets:
        raise WorkbookError("工作簿中没有工作表", code="workbook.empty", file=label)
    return book


_EXT_REF = re.compile(rf"<{_NS}externalReference\b([^>]*)/?>")
_LINK_BOOK = re.compile(rf"<{_NS}externalBook\b([^>]*)>")
_LINK_NAME = re.compile(rf"<{_NS}definedName\b([^>]*)/?>")
MAX_LINKS = 1_000  # external links of one workbook: Excel's own files have a handful


def _rels_of(zr: _Zip, part: str) -> dict[str | None, tuple[str, str]]:
    p = PurePosixPath(part)
    rels_part = str(p.parent / "_rels" / (p.name + ".rels"))
    if rels_part not in zr.names:
        return {}
    out = {}
    for m in _REL.finditer(zr.read(rels_part)):
        a = _attrs(m.group(1))
        out[a.get("Id")] = (a.get("Type", ""), _unescape(a.get("Target", "")))
    return out


def _links(zr: _Zip, wb_part: str, wb_xml: str, rels: dict) -> dict[int, ExternalLink]:
    """The workbook's external links by [n]: their targets as text, read from the zip's own parts only."""
    out: dict[int, ExternalLink] = {}
    for i, m in enumerate(_EXT_REF.finditer(wb_xml), start=1):
        if i > MAX_LINKS:
            raise WorkbookError(f"工作簿有超过 {MAX_LINKS} 个外部链接，不是自评表，拒绝读取", code="workbook.too_large",
                                file=zr.label)
        typ, target = rels.get(_attrs(m.group(1)).get("id"), ("", ""))
        part = _target(wb_part, target) if typ.endswith("/externalLink") else ""
        link_target, names = "", ()  # type: tuple[str, tuple[str, ...]]
        if part in zr.names:
            xml = zr.read(part)
            link_rels = _rels_of(zr, part)
            bm = _LINK_BOOK.search(xml)
            rid = _attrs(bm.group(1)).get("id") if bm else None
            link_target = link_rels.get(rid, next(iter(link_rels.values()), ("", "")))[1]
            names = tuple(_unescape(_attrs(n.group(1)).get("name", "")) for n in _LINK_NAME.finditer(xml))
        out[i] = ExternalLink(i, link_target, names)
    return out


def _number_formats(zr: _Zip, wb_part: str, rels: dict) -> list[str | None]:
    """The number format of each cell style (``s`` attribute → format code; None for General)."""
    part = next((_target(wb_part, t) for typ, t in rels.values() if typ.endswith("/styles")), None)
    if part is None or part not in zr.names:
        return []
    return list(_formats_of(zr.read(part)))


_STYLES_KEPT = 32  # distinct styles parts kept per process (workbooks made from one template share theirs)
_STYLES_LONGEST = 256 * 1024  # characters: a larger styles part is read each time


def _formats_of(xml: str) -> tuple[str | None, ...]:
    """The number format of each cell style of one styles part; each distinct part is read once."""
    if len(xml) > _STYLES_LONGEST:
        return _read_formats(xml)
    return _kept_formats(xml)


def _read_formats(xml: str) -> tuple[str | None, ...]:
    custom = {}
    for m in _NUMFMT.finditer(xml):
        a = _attrs(m.group(1))
        if a.get("numFmtId", "").isdigit():
            custom[int(a["numFmtId"])] = _unescape(a.get("formatCode", ""))
    xfs = _CELLXFS.search(xml)
    out: list[str | None] = []
    for m in _XF.finditer(xfs.group(1) if xfs else ""):
        fid = _attrs(m.group(1)).get("numFmtId", "0")
        n = int(fid) if fid.isdigit() else 0
        out.append(custom.get(n) or BUILTIN_FORMATS.get(n))
    return tuple(out)


_kept_formats = lru_cache(maxsize=_STYLES_KEPT)(_read_formats)


# The cells of a sheet as Excel, WPS, LibreOffice and openpyxl write them: r first, then s and t, the body's
# <f>, <v> and <is> in schema order with nothing between. One findall reads every cell; a sheet where any cell
# is written otherwise (another attribute order, whitespace, a prefix, <extLst>) is read by the general path.
_CELL_PLAIN = re.compile(r'<c r="([A-Z]{1,3})(\d+)"(?: s="(\d+)")?(?: t="(\w+)")?([^>]*?)(?<!/)>'
                         r'(<f\b([^>]*?)(?:/>|>([^<]*)</f>))?(<v>([^<]*)</v>)?'
                         r'(<is>(?:<t(?: xml:space="preserve")?>([^<]*)</t>|(.*?))</is>)?</c>', re.S)


PLAIN_MOST = 20_000  # cells a sheet may have to be read in one findall (a form has a few thousand): the list
# it makes is held at once, so a larger sheet is read a cell at a time, counted against MAX_CELLS as it goes


def _plain_cells(xml: str) -> list[tuple[str, ...]] | None:
    """Every cell with content as (column, row, s, t, other attributes, <f>, its attributes, its text, <v>, its
    text, <is>, its one <t>'s text, else its body), "" for what a cell lacks; None when some cell is not written
    the plain way, or the sheet is too large to hold its cells at once. Each match ends at one ``</c>``, so as
    many matches as ``</c>`` mean every cell was read, and read whole."""
    ends = xml.count("</c>")
    if not ends or ends > PLAIN_MOST or ":c>" in xml:  # none, too many, or prefixed (</x:c>) cells
        return None
    cells = _CELL_PLAIN.findall(xml)
    return cells if len(cells) == ends else None


def _general_cells(xml: str):
    """The same tuples as :func:`_plain_cells`, read a cell at a time whatever the attribute order."""
    found = False
    for m in _CELL_R_FIRST.finditer(xml):
        found = True
        yield _parts(*m.groups())
    if not found and "<c" in xml:  # a writer that does not put r first
        for attrs, body in (m.groups() for m in _CELL.finditer(xml)):
            rm = _R_ATTR.search(attrs)
            if rm:
                yield _parts(rm.group(1), rm.group(2), attrs, body)


def _parts(col: str, row: str, attrs: str, body: str) -> tuple[str, ...]:
    """A cell read by the general patterns, in :func:`_plain_cells`' shape (the whole body stands for <is>)."""
    tm = _T_ATTR.search(attrs) if 't="' in attrs else None
    sm = _S_ATTR.search(attrs) if 's="' in attrs else None
    fm = _F.search(body) if "f" in body else None
    vm = _V.search(body)
    return (col, row, sm.group(1) if sm else "", tm.group(1) if tm else "", "",
            fm.group(0) if fm else "", fm.group(1) if fm else "", (fm.group(2) or "") if fm else "",
            vm.group(0) if vm else "", vm.group(1) if vm else "", body, "", body)


def _number(raw: str) -> Any:
    """A <v> of a number cell: int when written as one, float, or the text itself when it is no number."""
    try:
        value = float(raw)
    except ValueError:
        return raw
    if not math.isfinite(value):  # "inf"/"nan" in <v>: text, not a number
        return raw
    if value.is_integer() and "." not in raw and "E" not in raw.upper():
        return int(value)
    return value


def _read_sheet(xml: str, name: str, shared: list[str], label: str, styles: list[str | None] | None = None) -> Sheet:
    s = Sheet(name)
    # The declared <dimension> is not a limit: LibreOffice declares A1:AT1048576 once an officer deletes a row
    # (it keeps an empty formatted row 1048576). The cells that hold something are bounded below.
    masters: dict[str, tuple[str, int, int]] = {}
    pending: list[tuple[str, str]] = []
    read = 0
    cells = _plain_cells(xml)
    values, formulas, formats = s.values, s.formulas, s.formats
    n_styles = len(styles) if styles else 0
    for col, row_text, style, t, rest, f_el, fa, f_text, v_el, raw, is_el, is_t, is_body in (
            cells if cells is not None else _general_cells(xml)):
        if not (f_el or v_el or is_el):
            continue
        if rest:  # s or t after another attribute
            if not t and 't="' in rest:
                tm = _T_ATTR.search(rest)
                t = tm.group(1) if tm else ""
            if not style and 's="' in rest:
                sm = _S_ATTR.search(rest)
                style = sm.group(1) if sm else ""
        read += 1
        if read > MAX_CELLS:  # counted while reading: the cells of a 64 MB part would not fit in memory
            raise WorkbookError(f"工作簿单元格超过 {MAX_CELLS} 个，不是自评表，拒绝读取",
                                code="workbook.too_large", file=label, sheet=name)
        ref = col + row_text
        row = int(row_text)
        if row > MAX_ROW:
            raise WorkbookError(f"工作表超过 {MAX_ROW} 行，拒绝读取", code="workbook.too_large", file=label, sheet=name)
        if not t:
            t = "n"
        value: Any = None
        if t == "inlineStr":
            value = _unescape(is_t) if is_t else _text(is_body)
        elif v_el:
            if t == "s":
                i = int(raw)
                value = shared[i] if 0 <= i < len(shared) else None
            elif t in ("str", "d"):
                value = _unescape(raw)
            elif t == "b":
                value = raw.strip() == "1"
            elif t == "e":
                value = CellError(raw.strip())
            else:
                value = _number(raw)
        if f_el:
            text = _unescape(f_text)
            if 't="shared"' in fa:
                si = _SI_ATTR.search(fa)
                key = si.group(1) if si else ""
                if text:
                    masters[key] = (text, row, column_index_from_string(col))
                    formulas[ref] = "=" + text
                else:
                    pending.append((ref, key))
            elif 't="array"' not in fa or text:
                formulas[ref] = "=" + text
        if value is not None and value != "":
            values[ref] = value
            if style and n_styles and type(value) in (int, float):
                k = int(style)
                fmt = styles[k] if k < n_styles else None  # type: ignore[index]
                if fmt:
                    formats[ref] = fmt
        elif ref in formulas:
            values[ref] = "" if t == "str" else None
        if row > s.max_row:
            s.max_row = row
    for ref, shared_key in pending:
        if shared_key in masters:
            text, r0, c0 = masters[shared_key]
            rm = _REF.match(ref)
            assert rm is not None  # ref is a cell's column letters and row number, read above
            try:
                s.formulas[ref] = "=" + _shift(text, int(rm.group(2)) - r0, column_index_from_string(rm.group(1)) - c0)
            except JixiaoError:  # a formula jixiao cannot read (or nested too deep): kept as written, judged later
                s.formulas[ref] = "=" + text
    s.merges = _MERGE.findall(xml)
    return s

