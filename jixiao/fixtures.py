"""Workbooks as other programs save them, for tests and benchmarks.

:func:`as_saved_by_excel` rewrites a workbook the way Excel stores it when the
jixiao add-in is loaded: every UDF call becomes an external reference
``[1]!JX_…`` to the add-in, an ``xl/externalLinks/externalLink1.xml`` part
lists the functions and its relationship points at the .xlam by absolute path,
and each formula cell carries its cached value. The input file is not changed.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ADDIN_PATH = r"file:///C:\Users\officer\AppData\Roaming\Microsoft\AddIns\jixiao.xlam"
_LINK_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"
_LINK_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLink"
_PATH_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath"


def _cached(value: Any) -> tuple[str, str]:
    """(type attribute, <v> text) for a cached formula result."""
    if value is None:
        return ' t="str"', ""
    if isinstance(value, bool):
        return ' t="b"', "1" if value else "0"
    if isinstance(value, (int, float)):
        return "", repr(float(value)) if isinstance(value, float) else str(value)
    text = str(value)
    if text.startswith("#"):
        return ' t="e"', escape(text)
    return ' t="str"', escape(text)


def as_saved_by_excel(src: str | Path, dst: str | Path, values: dict[tuple[str, str], Any] | None = None,
                      addin_path: str = ADDIN_PATH) -> Path:
    """Write ``dst``: ``src`` with ``[1]!JX_…`` calls, an add-in external link and cached values.

    ``values`` maps (sheet name upper-case, cell) to the cached result; formula cells not in it
    get no cached value.
    """
    src, dst = Path(src), Path(dst)
    values = values or {}
    with zipfile.ZipFile(src) as zin:
        names = zin.namelist()
        wb_xml = zin.read("xl/workbook.xml").decode("utf-8")
        sheet_names = re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', wb_xml)
        rels = zin.read("xl/_rels/workbook.xml.rels").decode("utf-8")
        targets = dict((rid, t) for t, rid in re.findall(r'Target="([^"]+)"[^>]*Id="([^"]+)"', rels))
        sheet_of_part = {targets[rid].lstrip("/"): name for name, rid in sheet_names}
        used: set[str] = set()
        parts: dict[str, bytes] = {}
        for name in names:
            data = zin.read(name)
            if name in sheet_of_part:
                sheet = sheet_of_part[name].upper()
                text = data.decode("utf-8")

                def cell(m: re.Match) -> str:
                    attrs, formula = m.group(1), m.group(2)
                    ref = re.search(r'r="([A-Z]+\d+)"', attrs).group(1)  # type: ignore[union-attr]
                    used.update(re.findall(r"(?<![\w!])(JX_[A-Z_]+)\(", formula))
                    formula = re.sub(r"(?<![\w!\]])(JX_[A-Z_]+\()", r"[1]!\1", formula)
                    attrs = re.sub(r'\s+t="[^"]*"', "", attrs)
                    if (sheet, ref) in values:
                        t, v = _cached(values[(sheet, ref)])
                        return f"<c{attrs}{t}><f>{formula}</f><v>{v}</v></c>"
                    return f"<c{attrs}><f>{formula}</f></c>"

                text = re.sub(r"<c(\s[^>]*)><f>(.*?)</f>(?:<v\s*/>|<v>.*?</v>)?</c>", cell, text, flags=re.S)
                data = text.encode("utf-8")
            parts[name] = data
    link = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14" '
            'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
            '<externalBook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1">'
            "<definedNames>" + "".join(f'<definedName name="{n}"/>' for n in sorted(used))
            + "</definedNames></externalBook></externalLink>")
    link_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 f'<Relationship Id="rId1" Type="{_PATH_REL}" Target="{escape(addin_path)}" TargetMode="External"/>'
                 "</Relationships>")
    rid = "rIdJx1"
    wb = parts["xl/workbook.xml"].decode("utf-8")
    wb = wb.replace("</sheets>", f'</sheets><externalReferences><externalReference r:id="{rid}"/></externalReferences>', 1)
    parts["xl/workbook.xml"] = wb.encode("utf-8")
    r = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    r = r.replace("</Relationships>",
                  f'<Relationship Id="{rid}" Type="{_LINK_REL}" Target="externalLinks/externalLink1.xml"/></Relationships>')
    parts["xl/_rels/workbook.xml.rels"] = r.encode("utf-8")
    ct = parts["[Content_Types].xml"].decode("utf-8")
    ct = ct.replace("</Types>", f'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="{_LINK_CT}"/></Types>')
    parts["[Content_Types].xml"] = ct.encode("utf-8")
    parts["xl/externalLinks/externalLink1.xml"] = link.encode("utf-8")
    parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = link_rels.encode("utf-8")
    dst.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)
    return dst
