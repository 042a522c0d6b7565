"""Workbooks whose formulas reference other workbooks (``[1]Sheet1!A1``), each link pointing somewhere hostile.

Excel stores an external reference as ``[n]`` in the formula, an ``xl/externalLinks/externalLinkN.xml`` part
(with the cached values of the cells it read) and that part's relationship, whose ``Target`` names the other
workbook: an absolute path, a ``../`` path, a ``file://`` URL, a ``\\\\host\\share`` UNC path — or a FIFO that
blocks whoever opens it. jixiao must report the reference and use the cached value, never open the target.

Nothing here is committed as a binary: the tests build every file in their temporary folder.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

MARKER = "JIXIAO-SECRET-5f1c9e"  # what the secret workbook holds: it must never reach any output
CACHED = 7  # the value Excel cached for the linked cell
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
LINK_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"


def secret_book(path: Path) -> Path:
    """A real workbook on the bureau's disk holding the marker (text in A1, a number in A2)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws["A1"] = MARKER
    ws["A2"] = 424242
    wb.save(path)
    return path


def _bureau(formulas: dict[str, str], extra_sheet: str | None) -> bytes:
    """Seed 000 in a bureau's own layout (no formulas: the values route), plus the linking formulas."""
    import json
    from importlib import resources

    from openpyxl import load_workbook

    from jixiao.samples import submissions

    seed = json.loads((resources.files("jixiao.samples") / "hunan-2024-dept.json").read_text("utf-8"))
    wb = load_workbook(io.BytesIO(submissions.bureau_bytes(seed, {"exec_score": 9, "sum": 90})))
    ws = wb.create_sheet(extra_sheet) if extra_sheet else wb.active
    for ref, f in formulas.items():
        ws[ref] = f
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _template(formulas: dict[str, str], extra_sheet: str) -> bytes:
    """jixiao's province template filled with seed 000 (the template route), plus the linking formulas."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    try:
        import make_corpus
    finally:
        sys.path.pop(0)
    return make_corpus.template_with(formulas, extra_sheet)


def _with_cached(xml: str, cached: dict[str, object]) -> str:
    """Put Excel's cached results on the formula cells openpyxl wrote without one."""
    def cell(m: re.Match) -> str:
        ref = re.search(r'r="([A-Z]+\d+)"', m.group(1)).group(1)  # type: ignore[union-attr]
        if ref not in cached:
            return m.group(0)
        v = cached[ref]
        t = ' t="str"' if isinstance(v, str) else ""
        attrs = re.sub(r'\s+t="[^"]*"', "", m.group(1))
        return f"<c{attrs}{t}><f>{m.group(2)}</f><v>{escape(str(v))}</v></c>"

    return re.sub(r"<c(\s[^>]*)><f>(.*?)</f>(?:<v\s*/>|<v>.*?</v>)?</c>", cell, xml, flags=re.S)


def linked(target: str, *, extra_sheet: str | None = "链接", defined_name: bool = True, template: bool = False) -> bytes:
    """A submission whose ``[1]Sheet1!A1`` (and ``[1]Sheet1!A2`` through a formula and a defined name) point at
    ``target``, with Excel's cached values. ``extra_sheet=None`` puts the formulas on the form sheet (the full
    route); a sheet of their own leaves the form on the values route, or with ``template`` on the template route."""
    formulas = {"J1": "=[1]Sheet1!A1", "J2": "=[1]Sheet1!$A$2+1", "J3": "=J2*2"}
    if defined_name:
        formulas["J4"] = "=外部数"
    cached = {"J1": CACHED, "J2": CACHED + 1, "J3": 2 * (CACHED + 1), "J4": CACHED + 2}
    src = _template(formulas, extra_sheet or "链接") if template else _bureau(formulas, extra_sheet)
    parts: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(src)) as z:
        for name in z.namelist():
            parts[name] = z.read(name)
    wb = parts["xl/workbook.xml"].decode("utf-8")
    wb = wb.replace("</sheets>", f'</sheets><externalReferences><externalReference xmlns:r="{NS_REL}" r:id="rIdX1"/>'
                    "</externalReferences>", 1)
    if defined_name:
        name = '<definedName name="外部数">[1]Sheet1!$A$2</definedName>'
        wb = wb.replace("</definedNames>", name + "</definedNames>", 1) if "</definedNames>" in wb else \
            wb.replace("</externalReferences>", f"</externalReferences><definedNames>{name}</definedNames>", 1)
    parts["xl/workbook.xml"] = wb.encode("utf-8")
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(
        "</Relationships>", f'<Relationship Id="rIdX1" Type="{NS_REL}/externalLink" '
                            'Target="externalLinks/externalLink1.xml"/></Relationships>').encode("utf-8")
    ct = parts["[Content_Types].xml"].decode("utf-8")
    parts["[Content_Types].xml"] = ct.replace(
        "</Types>", f'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="{LINK_CT}"/></Types>'
    ).encode("utf-8")
    parts["xl/externalLinks/externalLink1.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<externalLink xmlns="{NS_MAIN}">'
        f'<externalBook xmlns:r="{NS_REL}" r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames>'
        f'<sheetDataSet><sheetData sheetId="0"><row r="1"><cell r="A1"><v>{CACHED}</v></cell></row>'
        f'<row r="2"><cell r="A2"><v>{CACHED}</v></cell></row></sheetData></sheetDataSet>'
        "</externalBook></externalLink>").encode("utf-8")
    parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{NS_PKG}">'
        f'<Relationship Id="rId1" Type="{NS_REL}/externalLinkPath" Target="{escape(target)}" '
        'TargetMode="External"/></Relationships>').encode("utf-8")
    sheet_part = _sheet_part(parts, extra_sheet)
    parts[sheet_part] = _with_cached(parts[sheet_part].decode("utf-8"), cached).encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


def path_in_formula(secret: Path, *, extra_sheet: str | None = None) -> bytes:
    """No link part at all: the other workbook's path written into the formula, ``='/dir/[secret.xlsx]Sheet1'!A1``."""
    formula = f"='{secret.parent}/[{secret.name}]Sheet1'!A1"
    src = _bureau({"J1": formula, "J2": "=J1"}, extra_sheet)
    parts: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(src)) as z:
        for name in z.namelist():
            parts[name] = z.read(name)
    part = _sheet_part(parts, extra_sheet)
    parts[part] = _with_cached(parts[part].decode("utf-8"), {"J1": CACHED, "J2": CACHED}).encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


def _sheet_part(parts: dict[str, bytes], sheet: str | None) -> str:
    wb = parts["xl/workbook.xml"].decode("utf-8")
    sheets = re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', wb)
    name, rid = next((s for s in sheets if s[0] == sheet), sheets[0])
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*>', rels).group(0)  # type: ignore[union-attr]
    return "xl/" + re.search(r'Target="/?(?:xl/)?([^"]+)"', target).group(1)  # type: ignore[union-attr]


def targets(secret: Path, fifo: Path, submission_dir: Path) -> dict[str, str]:
    """Each kind of hostile link target, by a short name (the submission lives in ``submission_dir``)."""
    import os

    up = os.path.relpath(secret, submission_dir)
    return {
        "absolute": str(secret),
        "dotdot": up if up.startswith("..") else "../" + up,
        "file-url": "file://" + str(secret),
        "unc": r"\\127.0.0.1\share\secret.xlsx",
        "fifo": str(fifo),
    }
