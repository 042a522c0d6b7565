"""Batches: collect submitted workbooks from files, folders and .zip archives; check them in parallel.

One bad file never stops a batch: a corrupt archive, an encrypted workbook, a
file that is not a workbook, a folder or file that cannot be read, or a
workbook that takes too long becomes a finding for that file. Archives are read
with limits on what they may inflate; nothing is extracted to disk and no input
is ever modified. Member names written by Windows (GBK, without the zip UTF-8
flag) are decoded as such. jixiao's own reports (a report written into the
checked folder) are recognised and skipped. A unit's 自评报告 (.docx, .pdf), loose
or inside an archive, is paired with the workbooks of its folder.

Each file is checked in a worker process under one deadline and a memory
limit, both owned by the batch: a worker that runs past its file's deadline
is stopped, one that dies (out of memory, killed) is replaced, and either
way the file gets a finding while the batch goes on — on Linux, macOS and
Windows alike.
"""
from __future__ import annotations

import html
import io
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import vocabulary
from ..errors import Finding, JixiaoError, Severity
from ..profile import Profile, load_profile
from ..reports import compare as _report_rules  # noqa: F401 - declares the report.* rules the batch's reports title
from ..rules import error_codes, rule
from . import archive
from .archive import MAX_ARCHIVE_BYTES, MAX_DIRECTORY_BYTES, MAX_MEMBER_BYTES, MAX_MEMBER_RATIO, MAX_MEMBERS
from .archive import ArchiveError, member_name
from .checker import check_file
from . import runner
from .deadline import Deadline
from .runner import FILE_SECONDS, WORKER_MEMORY
from .result import FileResult
from .xlsx import MAX_DIRECTORY_BYTES as XLSX_DIRECTORY_BYTES
from .xlsx import MAX_PARTS, too_many_members, zip_directory

error_codes({
    "archive.corrupt": "压缩包损坏",
    "archive.encrypted": "压缩包加密",
    "archive.too_large": "压缩包文件过大",
    "cli.pair_invalid": "--pair 写法不对",
    "input.empty": "没有找到工作簿",
    "input.not_found": "文件不存在",
    "input.unreadable": "文件无法读取",
    "output.is_input": "输出会覆盖提交的文件",
    "output.invalid": "输出路径无效",
    "output.same_file": "两个输出指向同一文件",
    "output.special": "输出路径是设备、管道或套接字",
    "output.unwritable": "输出路径无法写入",
})

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".et"}
REPORT_SUFFIXES = set(vocabulary.REPORT_SUFFIXES)
MAX_DEPTH = 64  # folder levels walked below an input folder (submissions sit a few levels deep)

CONVERTED = rule("xls.converted", "已由 .xls 转换")
CONVERT_FAILED = rule("xls.convert_failed", ".xls 无法转换")
SKIPPED_REPORT = rule("input.own_report", "jixiao 的检查报告，未检查")
NOT_WORKBOOK = rule("input.not_workbook", "不是工作簿，未检查")
SPECIAL_FILE = rule("input.special_file", "不是普通文件，未读取")
TOO_DEEP = rule("input.too_deep", "文件夹层级过深，未检查")
NESTED_ARCHIVE = rule("archive.nested", "压缩包里套压缩包")  # the same rule as the server's upload intake
ARCHIVE_TOTAL = rule("archive.total", "压缩包解压总量超限")
# formats LibreOffice converts to .xlsx before checking: (name shown, converted rule, failed rule)
CONVERSIONS = {
    ".xls": ("旧版 .xls 文件", CONVERTED, CONVERT_FAILED),
    ".ods": ("OpenDocument 表格（.ods）", rule("ods.converted", "已由 .ods 转换"),
             rule("ods.convert_failed", ".ods 无法转换")),
    ".et": ("WPS 表格（.et）", rule("et.converted", "已由 WPS .et 转换"), rule("et.convert_failed", "WPS .et 无法转换")),
}


@dataclass
class Source:
    label: str  # what reports show: the path, or "archive.zip!member.xlsx"
    path: str | None = None  # the file; for an archive member, the archive
    data: bytes | None = None
    problem: FileResult | None = None  # already known to be unreadable, or not to be checked
    member: str | None = None  # the member's name inside the archive at ``path`` (read by the worker)
    report: bool = False  # a 自评报告 (.docx), checked against its form
    form: str | None = None  # a report's form, when known (--pair, or the only form of its folder)
    candidates: tuple[str, ...] = ()  # a report's possible forms (its folder's): the worker picks by unit name
    members: dict[str, str] | None = None  # for a report in an archive: its forms' labels → member names there


def _problem(label: str, code: str, message: str) -> Source:
    return Source(label, problem=FileResult.failed(label, Finding(code, "error", message)))


def _skipped(label: str, code: str, message: str, severity: Severity = "warning") -> Source:
    """A file that is listed, with why it was not checked, so that nothing vanishes from a batch."""
    result = FileResult(label, error=code if severity != "info" else None, findings=[Finding(code, severity, message)])
    return Source(label, problem=result)


def _not_workbook(label: str) -> Source:
    return _skipped(label, NOT_WORKBOOK, "不是工作簿（.xlsx/.xlsm/.xls/.ods/.et）或自评报告（.docx/.pdf），未检查", "info")


def _is_report_part(core: bytes, workbook: bytes) -> bool:
    from .report import REPORT_MARKER, REPORT_SHEETS

    text = workbook.decode("utf-8", "replace")
    sheets = [html.unescape(m) for m in re.findall(r'<(?:\w+:)?sheet\b[^>]*\bname="([^"]*)"', text)]
    props = core.decode("utf-8", "replace")
    # the marker; or, for reports written before it, jixiao as the creator and the report's title
    marked = REPORT_MARKER in props or (re.search(r"<dc:creator\b[^>]*>jixiao [\d.]+</dc:creator>", props) is not None
                                        and "绩效自评检查报告" in props)
    return marked and sheets == list(REPORT_SHEETS)


def is_own_report(source: str | Path | bytes) -> bool:
    """A report jixiao wrote (its marker in docProps/core.xml and exactly the report's sheets), not a submission.

    A submitter can copy both, so such a file is never dropped: the batch lists it as not checked, with why."""
    try:
        fh = io.BytesIO(source) if isinstance(source, bytes) else source
        if zip_directory(fh) is None or too_many_members(fh, MAX_PARTS, XLSX_DIRECTORY_BYTES) is not None:
            return False
        with zipfile.ZipFile(fh) as z:
            parts = {}
            for name in ("docProps/core.xml", "xl/workbook.xml"):
                info = z.getinfo(name)
                if info.file_size > 1024 * 1024:
                    return False
                parts[name] = z.read(info)
    except (KeyError, OSError, zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError, ValueError):
        return False
    return _is_report_part(parts["docProps/core.xml"], parts["xl/workbook.xml"])


HTML_SUFFIXES = {".html", ".htm"}


def is_own_html_report(path: Path) -> bool:
    """The HTML report jixiao wrote (its generator marker in the page's head)."""
    from .report import REPORT_MARKER

    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return f"<meta name=generator content={REPORT_MARKER}>".encode() in head


def _own_report(label: str, page: bool = False) -> FileResult:
    what = "网页版检查报告（带报告标记）" if page else "检查报告（带报告标记，工作表为汇总、问题清单、规则统计）"
    return FileResult(label, findings=[Finding(SKIPPED_REPORT, "info", f"这是 jixiao 写出的{what}，未作为提交的工作簿"
                                               "检查；如是单位提交的工作簿，请另存后重新检查")])


def _member_problem(member_label: str, info: zipfile.ZipInfo, why: str) -> Source:
    if why == "archive.encrypted":
        return _problem(member_label, why, "压缩包内文件已加密，无法读取")
    if why == "archive.too_large":
        return _problem(member_label, why, archive.too_large_message(info))
    return _problem(member_label, ARCHIVE_TOTAL,
                    f"压缩包声明的解压总量超过 {MAX_ARCHIVE_BYTES // 2**30} GB，此文件未解压")


def _archive(path: Path) -> Iterator[Source]:
    """The members of an archive, from its directory alone: the workers read them."""
    label = str(path)
    try:
        z = archive.open_archive(path)
    except ArchiveError as e:
        yield _problem(label, e.code, e.message)
        return
    with z:
        try:
            names = z.namelist()
            if "[Content_Types].xml" in names and any(n.lower().endswith(".xml") for n in names):
                yield Source(label, path=label)  # an .xlsx renamed to .zip
                return
            listed = list(archive.members(z))
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            yield _problem(label, "archive.corrupt", f"压缩包已损坏：{e}")
            return
    for info, why in listed:
        name = member_name(info)
        base = Path(name).name
        if name.startswith("__MACOSX/") or base.startswith(("~$", ".")):
            continue  # the writer's bookkeeping, not a file the unit meant to send
        member_label = f"{label}!{name}"
        suffix = Path(name).suffix.lower()
        if suffix == ".zip":
            yield _skipped(member_label, NESTED_ARCHIVE, "压缩包内还有压缩包，未解开检查；请解压后单独提交")
        elif suffix in REPORT_SUFFIXES and why is None:
            yield Source(member_label, path=label, member=info.filename, report=True)
        elif suffix not in WORKBOOK_SUFFIXES | REPORT_SUFFIXES:
            yield _not_workbook(member_label)
        elif why is not None:
            yield _member_problem(member_label, info, why)
        else:
            yield Source(member_label, path=label, member=info.filename)


_KINDS = [(stat.S_ISFIFO, "命名管道（FIFO）"), (stat.S_ISCHR, "字符设备"), (stat.S_ISBLK, "块设备"),
          (stat.S_ISSOCK, "套接字")]


def _special(path: Path) -> Source | None:
    """A finding for a path that is not a regular file (reading a FIFO would wait forever), else None."""
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        return _problem(str(path), "input.unreadable", f"文件无法读取：{archive.reason(e)}")
    if stat.S_ISREG(mode):
        return None
    kind = next((zh for test, zh in _KINDS if test(mode)), "特殊文件")
    return _skipped(str(path), SPECIAL_FILE, f"这是{kind}，不是普通文件，未读取")


def _walk(folder: Path) -> Iterator[Path | Source]:
    """Files under a folder, walked without recursion (linked folders not entered: a link to / would walk the disk),
    in a stable order; a folder that cannot be read, or lies deeper than MAX_DEPTH, becomes a finding."""
    seen: set[tuple[int, int]] = set()
    problems: list[Source] = []
    found: list[Path] = []
    todo: list[tuple[Path, int]] = [(folder, 0)]
    while todo:
        root, depth = todo.pop()
        try:
            st = os.stat(root)
            if (st.st_dev, st.st_ino) in seen:  # a folder already walked (a bind mount of a parent)
                continue
            seen.add((st.st_dev, st.st_ino))
            with os.scandir(root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            problems.append(_problem(str(e.filename or root), "input.unreadable",
                                     f"文件夹无法读取：{archive.reason(e)}，其中的文件未检查"))
            continue
        for entry in reversed(entries):
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                linked_dir = not is_dir and entry.is_symlink() and entry.is_dir()
            except OSError:
                is_dir = linked_dir = False
            if is_dir and depth + 1 > MAX_DEPTH:
                problems.append(_skipped(entry.path, TOO_DEEP,
                                         f"文件夹层级超过 {MAX_DEPTH} 层，此文件夹及其中的文件未检查"))
            elif is_dir:
                todo.append((Path(entry.path), depth + 1))
            elif not linked_dir:
                found.append(Path(entry.path))
    yield from problems
    yield from sorted(found)


def _folder_file(f: Path) -> list[Source]:
    """What a file found in a folder contributes to the batch."""
    if f.name.startswith(("~$", ".")):
        return []  # lock files and hidden files: the writer's, not the unit's
    suffix = f.suffix.lower()
    if not f.exists():
        return [_problem(str(f), "input.not_found", "链接指向的文件不存在（或链接循环）")]
    special = _special(f)
    if special is not None:
        return [special]
    if suffix in HTML_SUFFIXES and is_own_html_report(f):
        return [Source(str(f), problem=_own_report(str(f), page=True))]
    if suffix not in WORKBOOK_SUFFIXES | REPORT_SUFFIXES and suffix != ".zip":
        return [_not_workbook(str(f))]
    if not os.access(f, os.R_OK):
        return [_problem(str(f), "input.unreadable", "文件无法读取：没有读取权限")]
    if suffix in REPORT_SUFFIXES:
        return [Source(str(f), path=str(f), report=True)]
    if suffix == ".zip":
        return list(_archive(f))
    return [Source(str(f), path=str(f))]


def collect(paths: Iterable[str | Path], pairs: dict[str, str] | None = None) -> list[Source]:
    """Every file named by ``paths``: files, folders (walked) and .zip archives (listed), in a stable order.

    Nothing is read here but folder listings and zip directories: the workers read the files. A file that will
    not be checked (not a workbook, a FIFO or device, a zip inside a zip, too deep) is listed with why.
    Each 自评报告 (.docx) is paired with its form (:func:`pair_reports`); ``pairs`` maps a report to its form.
    """
    out = _collect(paths)
    return pair_reports(out, pairs or {})


def pair_reports(sources: list[Source], pairs: dict[str, str]) -> list[Source]:
    """Give each report its form: the explicit pair (report path → form path), else its folder's forms —
    the only one, or (in the worker) the one whose file or unit name is the report's unit."""
    def same(a: str, b: str) -> bool:
        return os.path.realpath(a) == os.path.realpath(b)

    listed = {os.path.realpath(s.path) for s in sources if s.report and s.path}
    for report in pairs:  # a report named only in --pair is checked too
        if os.path.realpath(report) not in listed and os.path.isfile(report):
            sources.append(Source(str(report), path=str(report), report=True))
    forms = [s.path for s in sources if s.path and not s.report and s.member is None and s.problem is None
             and Path(s.path).suffix.lower() in WORKBOOK_SUFFIXES]
    for src in sources:
        if src.report and src.member is not None:
            _pair_in_archive(src, sources)
            continue
        if not src.report or src.path is None:
            continue
        explicit = next((f for r, f in pairs.items() if same(r, src.path)), None)
        if explicit is not None:
            src.form = str(explicit)
            continue
        folder = os.path.realpath(Path(src.path).parent)
        near = tuple(f for f in forms if os.path.realpath(Path(f).parent) == folder) or _folder_forms(src.path)
        src.candidates = near  # the worker also looks among them for the unit's 基础数据表
        if len(near) == 1:
            src.form = near[0]
    return sources


def _member_folder(label: str) -> tuple[str, str]:
    """(archive, folder inside it) of a member's label "archive.zip!folder/name.xlsx"."""
    base, _, name = label.partition("!")
    return base, name.rpartition("/")[0]


def _pair_in_archive(report: Source, sources: list[Source]) -> None:
    """A report inside an archive is paired like a loose one: with the workbooks of its folder in the same archive
    (the only one, or in the worker the one named after, or filled in by, the report's unit)."""
    here = _member_folder(report.label)
    report.members = {s.label: s.member for s in sources
                      if s.member is not None and not s.report and s.problem is None and s.path == report.path
                      and Path(s.label).suffix.lower() in WORKBOOK_SUFFIXES and _member_folder(s.label) == here}
    report.candidates = tuple(report.members)
    if len(report.candidates) == 1:
        report.form = report.candidates[0]


def _folder_forms(report: str) -> tuple[str, ...]:
    """The workbooks beside a report named on its own (its form was not named among the inputs)."""
    try:
        with os.scandir(Path(report).parent) as it:
            return tuple(sorted(e.path for e in it if e.is_file(follow_symlinks=False)
                                and Path(e.name).suffix.lower() in WORKBOOK_SUFFIXES and not e.name.startswith(("~$", "."))))
    except OSError:
        return ()


def _collect(paths: Iterable[str | Path]) -> list[Source]:
    out: list[Source] = []
    for p in map(Path, paths):
        if not os.path.lexists(p):
            out.append(_problem(str(p), "input.not_found", "文件或文件夹不存在"))
        elif not p.exists():
            out.append(_problem(str(p), "input.not_found", "链接指向的文件不存在（或链接循环）"))
        elif p.is_dir():
            for f in _walk(p):
                out.extend([f] if isinstance(f, Source) else _folder_file(f))
        elif (special := _special(p)) is not None:
            out.append(special)
        elif p.suffix.lower() == ".zip":
            out.extend(_archive(p))
        elif p.suffix.lower() in REPORT_SUFFIXES:
            out.append(Source(str(p), path=str(p), report=True))
        else:
            out.append(Source(str(p), path=str(p)))  # whatever it is: the reader says what is wrong with it
    return out


def _identity(path: str | Path) -> tuple[int, int] | None:
    """The file a path names (device, inode), symbolic links and bind mounts seen through; None if absent."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


_SYSTEM_TREES = ("/dev", "/proc", "/sys")


def _system_name(path: Path) -> bool:
    """True when the path, or what its links lead to, is under /dev, /proc or /sys: names of devices and of
    other processes' files (``/proc/self/fd/1`` is whatever the shell redirected), never a report's place."""
    names, here = [os.path.abspath(path)], os.path.abspath(path)
    for _ in range(40):  # each link of the chain as written: realpath alone would see through /proc/self/fd/1
        try:
            target = os.readlink(here)
        except (OSError, ValueError):
            break
        here = os.path.normpath(os.path.join(os.path.dirname(here), target))
        names.append(here)
    names.append(os.path.realpath(path))
    return any(n == t or n.startswith(t + os.sep) for n in names for t in _SYSTEM_TREES)


def output_clash(output: str | Path, inputs: Iterable[str | Path], sources: Iterable[Source] = ()
                 ) -> tuple[str, str] | None:
    """Why ``output`` cannot be written, as (code, Chinese message), or None.

    Refused: the output is, by file identity (device and inode, so a symbolic link, hard link or bind
    mount of an input is seen), an input file, a workbook found in an input folder, an input .zip, or a
    path inside one; a folder; a device, FIFO or socket (or a link to one); a path under a non-folder.
    """
    out = Path(output)
    files: set[tuple[int, int]] = set()
    for p in inputs:
        if os.path.isfile(p):
            files.add(_identity(p) or (-1, -1))
    for src in sources:
        if src.path:
            files.add(_identity(src.path) or (-1, -1))
        base = src.label.split("!", 1)[0] if "!" in src.label else None
        if base and base.lower().endswith(".zip"):
            files.add(_identity(base) or (-1, -1))
    if _system_name(out):
        return "output.special", "输出路径位于系统的 /dev、/proc 或 /sys 之下（或指向那里），拒绝写入"
    try:
        st = os.stat(out)
    except OSError:
        st = None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            return "output.invalid", "输出路径是一个文件夹"
        if not stat.S_ISREG(st.st_mode):
            return "output.special", "输出路径是设备、管道或套接字（或指向它们的链接），拒绝写入"
        if (st.st_dev, st.st_ino) in files:
            return "output.is_input", "输出文件就是被检查的输入文件，拒绝覆盖"
    for parent in Path(os.path.abspath(out)).parents:
        ident = _identity(parent)
        if ident is None:
            continue
        if ident in files:
            return "output.is_input", f"输出路径位于被检查的文件 {parent.name} 之内，拒绝写入"
        if not parent.is_dir():
            return "output.invalid", f"输出路径中的 {parent.name} 不是文件夹"
    return None


def output_unwritable(output: str | Path) -> str | None:
    """Why ``output`` cannot be written (Chinese), found before any checking work; None if it can."""
    parent = Path(os.path.abspath(output)).parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent  # the folders still to be made are made by the writer
    try:
        fd, probe = tempfile.mkstemp(dir=parent, prefix=".jixiao-probe-")
    except OSError as e:
        return f"无法在 {parent} 中写入（{e.strerror or e}）"
    os.close(fd)
    os.unlink(probe)
    if os.path.exists(output) and not os.access(output, os.W_OK):
        return "输出文件是只读的"
    return None


def parse_pairs(written: Iterable[str]) -> dict[str, str]:
    """``--pair`` values (报告.docx=自评表.xlsx) as report path → form path; a malformed one is refused.

    Example:
        >>> parse_pairs(["甲/报告.docx=甲/自评表.xlsx"])
        {'甲/报告.docx': '甲/自评表.xlsx'}
    """
    pairs = {}
    for pair in written:
        report_path, sep, form_path = pair.partition("=")
        if not sep or not report_path or not form_path:
            raise JixiaoError(f"--pair 应写成 报告.docx=自评表.xlsx，实际为 {pair}", code="cli.pair_invalid")
        pairs[report_path] = form_path
    return pairs


def refuse_outputs(outputs: list[str], inputs: Iterable[str | Path], sources: list[Source]) -> None:
    """Refuse, before any checking work, a batch with no file to check or outputs that cannot be written: two
    outputs on one file, an output over an input (:func:`output_clash`), one that cannot be written."""
    if not sources:
        raise JixiaoError("没有找到工作簿（.xlsx/.xlsm/.xls/.ods/.et，或含有它们的文件夹、.zip）", code="input.empty")
    if len({os.path.realpath(o) for o in outputs}) < len(outputs):
        raise JixiaoError("--report、--html、--csv 中有两个指向同一个文件", code="output.same_file", file=outputs[0])
    inputs = list(inputs)
    for out in outputs:
        clash = output_clash(out, inputs, sources)
        if clash:
            raise JixiaoError(clash[1] + "；请换一个输出路径", code=clash[0], file=out)
        why = output_unwritable(out)
        if why:
            raise JixiaoError(why + "；请换一个输出路径", code="output.unwritable", file=out)


# ---------------------------------------------------------------------------
# Checking one source, in a worker


def _sniffed_suffix(data: bytes, suffix: str) -> str:
    """The suffix LibreOffice should see: a WPS .et file is an OLE (BIFF) workbook like .xls, or a zipped one."""
    if suffix == ".et":
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            return ".xls"
        if data.startswith(b"PK"):
            return ".xlsx"
    return suffix


def read_input(src: Source) -> bytes:
    """The source's bytes, read in the worker through a counter (an archive member, or a file to convert)."""
    if src.data is not None:
        return src.data
    assert src.path is not None
    if src.member is not None:
        return archive.read_member(src.path, src.member, src.label)
    with open(src.path, "rb") as fh:
        data = fh.read(MAX_MEMBER_BYTES + 1)
    if len(data) > MAX_MEMBER_BYTES:
        raise ArchiveError(f"文件超过 {MAX_MEMBER_BYTES // 2**20} MB，拒绝转换", code="workbook.too_large",
                           file=src.label)
    return data


def _convert(src: Source, data: bytes, suffix: str, tmp: str, deadline: Deadline) -> tuple[str | None, str | None]:
    """A workbook LibreOffice headless converts to .xlsx (in ``tmp``); (path, None) or (None, reason)."""
    from ..libreoffice import convert

    path = os.path.join(tmp, "book" + _sniffed_suffix(data, suffix))
    with open(path, "wb") as fh:
        fh.write(data)
    try:
        return str(convert(path, "xlsx", os.path.join(tmp, "out"), timeout=max(deadline.left(), 1))), None
    except Exception as e:  # noqa: BLE001 - any failure of the converter becomes a finding
        return None, getattr(e, "message", str(e))


def _check_converted(src: Source, data: bytes, suffix: str, profile: str | Profile | None,
                     deadline: Deadline) -> FileResult:
    shown, converted_rule, failed_rule = CONVERSIONS[suffix]
    with tempfile.TemporaryDirectory(prefix="jixiao-conv-") as tmp:
        converted, why = _convert(src, data, suffix, tmp, deadline)
        if converted is None:
            return FileResult.failed(src.label, Finding(failed_rule, "error", f"{shown}无法转换为 .xlsx：{why}"))
        res = check_file(converted, profile, label=src.label, deadline=deadline)
        res.findings.insert(0, Finding(converted_rule, "info", f"{shown}已由 LibreOffice 转换为 .xlsx 后检查"))
        return res


def _is_html(data: bytes) -> bool:
    """An "Excel export" that is a web page's table named .xls: read as it is, not converted."""
    from .html_table import is_html

    return is_html(data[:4096])


def check_source(src: Source, profile: str | Profile | None, deadline: Deadline | None = None) -> FileResult:
    """Check one source in this process: an archive member is read here, within its bound; an .xls, .ods or
    .et is converted by LibreOffice first; a report jixiao wrote is listed as not checked."""
    deadline = deadline or Deadline(FILE_SECONDS)
    if src.problem is not None:
        return src.problem
    if src.report:
        return _check_report(src, profile)
    label = src.label
    suffix = Path(label).suffix.lower()
    try:
        data = read_input(src) if src.member is not None or suffix in CONVERSIONS else src.data
    except ArchiveError as e:
        return FileResult.failed(label, Finding(e.code, "error", e.message))
    except OSError as e:
        return FileResult.failed(label, Finding("input.unreadable", "error", f"文件无法读取：{archive.reason(e)}"))
    if is_own_report(data if data is not None else (src.path or label)):
        return _own_report(label)
    if suffix in CONVERSIONS and data is not None and not (suffix == ".xls" and _is_html(data)):
        return _check_converted(src, data, suffix, profile, deadline)
    return check_file(src.path or label if data is None else label, profile, label=label, data=data,
                      deadline=deadline)


def _check_report(src: Source, profile: str | Profile | None) -> FileResult:
    """A 自评报告: a loose file, or an archive member read here (within its bound) with its forms beside it."""
    from ..reports.compare import check_report

    if src.member is None:
        return check_report(src.path or src.label, src.form, profile, label=src.label, candidates=src.candidates)
    try:
        data = read_input(src)
    except ArchiveError as e:
        return FileResult.failed(src.label, Finding(e.code, "error", e.message))
    except OSError as e:
        return FileResult.failed(src.label, Finding("input.unreadable", "error", f"文件无法读取：{archive.reason(e)}"))
    members = src.members or {}
    archive_path = src.path or ""

    def load(label: str) -> bytes | None:
        if label not in members:
            return None
        try:
            return archive.read_member(archive_path, members[label], label)
        except (ArchiveError, OSError):
            return b""  # unreadable: the form's own check says so

    return check_report(src.label, src.form, profile, label=src.label, data=data, candidates=src.candidates,
                        load=load)


def run(sources: list[Source], profile: str | Profile | None = None, jobs: int = 1,
        progress: Callable[[FileResult], None] | None = None, *, seconds: float = FILE_SECONDS,
        memory: int | None = WORKER_MEMORY, isolate: bool = True) -> Sequence[FileResult]:
    """Check every source and return the results in input order: :class:`~.runner.Pool` of ``jobs`` workers
    (each within ``memory`` bytes), or with ``isolate=False`` :class:`~.runner.InProcess` (no deadline can stop
    a file there). ``profile``: the bureau's profile, None to let each form say; each file within ``seconds``.
    """
    chosen: runner.Runner = runner.Pool(jobs, memory) if isolate else runner.InProcess()
    return chosen.run(sources, profile, progress, seconds)


def warm_up() -> None:
    """Compile the shipped templates' calculations and load the profiles, once, before workers fork."""
    from ..profile import shipped_profiles
    from .templates import templates

    for t in templates():
        if t.model.kind.startswith("dept-province") or t.model.kind == "project":
            t.compiled  # noqa: B018 - the property compiles and caches
    for name in shipped_profiles():
        load_profile(name)


__all__ = ["Source", "collect", "run", "check_source", "warm_up", "member_name", "is_own_report", "FILE_SECONDS",
           "MAX_MEMBERS", "MAX_DIRECTORY_BYTES", "MAX_MEMBER_RATIO"]
