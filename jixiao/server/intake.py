"""What an upload may be: workbooks (.xlsx/.xlsm/.xls) or .zip archives of them, within limits.

Everything refused gets a Chinese reason; nothing is extracted to disk; names are reduced to a bare
file name (no folders, no ``../``), and shown escaped wherever they appear.
"""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ..rules import error_codes
from .config import Settings

error_codes({
    "archive.bad_path": "压缩包内的文件名指向包外",
    "archive.bomb": "压缩炸弹",
    "archive.nested": "压缩包里套压缩包",
    "upload.corrupt": "工作簿已损坏",
    "upload.empty": "文件为空",
    "upload.encrypted": "工作簿已加密",
    "upload.mislabelled": "扩展名与内容不符",
    "upload.not_workbook": "不是工作簿",
    "upload.too_large": "文件过大",
})

WORKBOOK = {".xlsx", ".xlsm", ".xls"}
REPORT = {".docx", ".pdf"}  # a unit's 自评报告, checked against its form by jixiao.reports (issue 18)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


class TooMany(Exception):
    pass


@dataclass
class Intake:
    accepted: list[tuple[str, bytes]] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)

    def refuse(self, name: str, reason: str, code: str) -> None:
        self.refused.append({"file": name, "reason": reason, "code": code})


def clean_name(raw: str | None) -> str:
    """A bare, printable file name: the last path component, control characters dropped, at most 150 characters."""
    name = (raw or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if len(name) > 150:
        stem, dot, suffix = name.rpartition(".")
        name = (stem[:140] + "." + suffix[:8]) if dot else name[:150]
    return name or "未命名"


def suffix(name: str) -> str:
    return PurePosixPath(name.lower()).suffix


def _is_encrypted_ooxml(data: bytes) -> bool:
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - not an OLE file at all
        return False
    with ole:
        return ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage")


def sniff(name: str, data: bytes) -> tuple[str, str] | None:
    """Why ``data`` is not a workbook we can check: (code, Chinese reason), or None when it may be."""
    sfx = suffix(name)
    if not data:
        return "upload.empty", "文件为空"
    if sfx in (".xlsx", ".xlsm"):
        if data.startswith(OLE_MAGIC):
            if _is_encrypted_ooxml(data):
                return "upload.encrypted", "工作簿设置了打开密码（已加密），无法检查；请取消密码后重新提交"
            return "upload.mislabelled", "文件内容是旧版 .xls，扩展名却是 .xlsx；请另存为 .xlsx 后重新提交"
        if not data.startswith(ZIP_MAGIC):
            return "upload.not_workbook", "文件内容不是 Excel 工作簿"
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if "[Content_Types].xml" not in z.namelist():
                    return "upload.not_workbook", "文件内容不是 Excel 工作簿（缺少 [Content_Types].xml）"
        except zipfile.BadZipFile:
            return "upload.corrupt", "工作簿已损坏，无法打开"
        return None
    if sfx == ".docx":
        if not data.startswith(ZIP_MAGIC):
            return "upload.not_workbook", "文件内容不是 Word 文档（.docx）"
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if "word/document.xml" not in z.namelist():
                    return "upload.not_workbook", "文件内容不是 Word 文档（缺少 word/document.xml）"
        except zipfile.BadZipFile:
            return "upload.corrupt", "Word 文档已损坏，无法打开"
        return None
    if sfx == ".pdf":
        return None if data.startswith(b"%PDF") else ("upload.not_workbook", "文件内容不是 PDF")
    if sfx == ".xls":
        if data.startswith(ZIP_MAGIC):
            return None  # an .xlsx saved with the old extension: the checker reads it
        if not data.startswith(OLE_MAGIC):
            return "upload.not_workbook", "文件内容不是 Excel 工作簿"
        return None
    return "upload.not_workbook", "不是工作簿（只接受 .xlsx、.xlsm、.xls，自评报告 .docx、.pdf，或装有它们的 .zip）"


def _member_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if not info.flag_bits & 0x800:  # not flagged UTF-8: Windows' zip writes GBK
        try:
            name = name.encode("cp437").decode("gbk")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


_BAD_PATH = re.compile(r"(^|[\\/])\.\.([\\/]|$)|^[\\/]|^[A-Za-z]:")


def _archive(name: str, data: bytes, s: Settings, out: Intake, budget: list[int]) -> None:
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        out.refuse(name, "压缩包已损坏，无法打开", "archive.corrupt")
        return
    total = 0
    with z:
        for info in z.infolist():
            if info.is_dir():
                continue
            inner = _member_name(info)
            label = f"{name}!{inner}"
            base = clean_name(inner)
            if inner.startswith("__MACOSX/") or base.startswith(("~$", ".")):
                continue
            if _BAD_PATH.search(inner):
                out.refuse(label, "压缩包内的文件名含“../”或绝对路径，已拒绝（不会解压到任何位置）", "archive.bad_path")
                continue
            sfx = suffix(base)
            if sfx == ".zip":
                out.refuse(label, "压缩包里还有压缩包，请解开后直接上传工作簿", "archive.nested")
                continue
            if sfx not in WORKBOOK | REPORT:
                out.refuse(label, "不是工作簿，已忽略", "upload.not_workbook")
                continue
            budget[0] -= 1
            if budget[0] < 0:
                raise TooMany
            if info.flag_bits & 0x1:
                out.refuse(label, "压缩包内的文件已加密，无法读取；请不加密压缩后重新提交", "archive.encrypted")
                continue
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > s.max_file_bytes or (ratio > s.max_zip_ratio and info.file_size > 1024 * 1024):
                out.refuse(label, f"解压后达 {info.file_size / 1e6:.1f} MB（压缩比 {ratio:.0f}），疑似压缩炸弹，拒绝解压",
                           "archive.bomb")
                continue
            total += info.file_size
            if total > s.max_zip_total:
                out.refuse(label, "压缩包解压总量超过上限，其余文件不再读取", "archive.bomb")
                return
            try:
                with z.open(info) as fh:
                    body = fh.read(s.max_file_bytes + 1)  # the header may lie: never read past the limit
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
                out.refuse(label, "无法从压缩包读取此文件（压缩包损坏或压缩方式不支持）", "archive.corrupt")
                continue
            if len(body) > s.max_file_bytes:
                out.refuse(label, f"解压后超过 {s.max_file_bytes // (1024 * 1024)} MB，拒绝解压", "archive.bomb")
                continue
            why = sniff(base, body)
            if why:
                out.refuse(label, why[1], why[0])
                continue
            out.accepted.append((base, body))


def take(files: list[tuple[str | None, bytes]], s: Settings) -> Intake:
    """Sort the uploaded files into accepted workbooks and refused files (with reasons).

    Raises TooMany when the upload holds more workbooks than ``s.max_files``.
    """
    out = Intake()
    budget = [s.max_files]
    for raw, data in files:
        name = clean_name(raw)
        if len(data) > s.max_file_bytes and suffix(name) != ".zip":
            out.refuse(name, f"文件超过 {s.max_file_bytes // (1024 * 1024)} MB 的上限", "upload.too_large")
            continue
        if suffix(name) == ".zip":
            _archive(name, data, s, out, budget)
            continue
        budget[0] -= 1
        if budget[0] < 0:
            raise TooMany
        why = sniff(name, data)
        if why:
            out.refuse(name, why[1], why[0])
        else:
            out.accepted.append((name, data))
    return out
