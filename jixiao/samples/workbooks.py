"""Sample workbooks: jixiao's templates filled as officers fill them, and saved as Excel saves them.

The demo, the benchmarks and the tests need workbooks that look like what
bureaus receive: :func:`fill_bytes` types values into a template's input cells
(a value typed over a formula replaces it, as in Excel), :func:`excel_bytes`
rewrites a workbook as Excel stores it with the jixiao add-in loaded, and
:func:`compute_cached` gives the results Excel would have cached.
"""
from __future__ import annotations

import io
import re
import zipfile
from typing import Any
from xml.sax.saxutils import escape

ADDIN_PATH = r"file:///C:\Users\officer\AppData\Roaming\Microsoft\AddIns\jixiao.xlam"
_LINK_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"
_LINK_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLink"
_PATH_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath"


_CHAR_REF = re.compile(r"&#(\d+);")


def excel_text(xml: str) -> str:
    """XML as Excel writes it: UTF-8 characters, not numeric references (&#22635;) as lxml writes them."""
    return _CHAR_REF.sub(lambda m: chr(int(m.group(1))) if int(m.group(1)) >= 0x80 else m.group(0), xml)


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


def excel_bytes(src: bytes, values: dict[tuple[str, str], Any] | None = None, addin_path: str = ADDIN_PATH) -> bytes:
    """A workbook (bytes) as Excel saves it with the jixiao add-in loaded.

    Every UDF call becomes an external reference ``[1]!JX_…`` to the add-in, an
    ``xl/externalLinks/externalLink1.xml`` part lists the functions and its relationship points at
    the .xlam by absolute path, and each formula cell carries its cached value from ``values``
    ((sheet, cell) → value, sheet names compared case-insensitively).
    """
    values = {(k[0].upper(), k[1]): v for k, v in (values or {}).items()}
    with zipfile.ZipFile(io.BytesIO(src)) as zin:
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
            if name.endswith(".xml") and b"&#" in data:
                data = excel_text(data.decode("utf-8")).encode("utf-8")
            if name in sheet_of_part:
                sheet = sheet_of_part[name].upper()
                text = data.decode("utf-8")

                def cell(m: re.Match, sheet: str = sheet) -> str:
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
    ns_r = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    wb = wb.replace("</sheets>", f'</sheets><externalReferences><externalReference xmlns:r="{ns_r}" r:id="{rid}"/>'
                    "</externalReferences>", 1)
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
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)
    return buf.getvalue()


_SHEET_PARTS_CACHE: dict[int, dict[str, str]] = {}


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → part name."""
    wb_xml = z.read("xl/workbook.xml").decode("utf-8")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = {}
    for rel in re.findall(r"<Relationship\b[^>]*>", rels):  # attributes in any order (LibreOffice writes Id first)
        rid, target = re.search(r'\bId="([^"]+)"', rel), re.search(r'\bTarget="([^"]+)"', rel)
        if rid and target:
            targets[rid.group(1)] = target.group(1)
    return {name: targets[rid].lstrip("/") if targets[rid].startswith("/") else "xl/" + targets[rid]
            for name, rid in re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', wb_xml)}


def _cell_xml(ref: str, style: str, value: Any) -> str:
    if value is None or value == "":
        return f'<c r="{ref}"{style}/>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{style}><v>{value!r}</v></c>'
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


def fill_bytes(src: bytes, values: dict[tuple[str, str], Any]) -> bytes:
    """Type values into cells of a workbook (bytes in, bytes out), as an officer would.

    A value written into a formula cell replaces the formula, as typing over it in Excel does.
    """
    by_sheet: dict[str, dict[str, Any]] = {}
    for (sheet, ref), value in values.items():
        by_sheet.setdefault(sheet, {})[ref] = value
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        parts = _sheet_parts(zin)
        todo = {parts[s]: cells for s, cells in by_sheet.items()}
        for item in zin.infolist():
            data = zin.read(item.filename)
            cells = todo.get(item.filename)
            if cells:
                text = data.decode("utf-8")

                def swap(m: re.Match, cells: dict[str, Any] = cells) -> str:
                    ref = m.group(1)
                    if ref not in cells:
                        return m.group(0)
                    style = re.search(r'\ss="\d+"', m.group(2) or "")
                    return _cell_xml(ref, style.group(0) if style else "", cells[ref])

                text = re.sub(r'<c r="([A-Z]+\d+)"([^>]*?)(?:/>|>.*?</c>)', swap, text, flags=re.S)
                data = text.encode("utf-8")
            zout.writestr(item, data)
    return out.getvalue()


_TEMPLATE_BYTES: dict[str, bytes] = {}


def template_bytes(kind: str) -> bytes:
    """A fresh template of ``kind`` as bytes (built once per process)."""
    if kind not in _TEMPLATE_BYTES:
        from ..layouts.writer import build_workbook, template_model

        buf = io.BytesIO()
        build_workbook(template_model(kind)).save(buf)
        _TEMPLATE_BYTES[kind] = buf.getvalue()
    return _TEMPLATE_BYTES[kind]


def template_values(form: dict[str, Any], model) -> dict[tuple[str, str], Any]:
    """The template's input cells for a sample-JSON form, as ``jixiao template --fill`` types them."""
    from ..layouts.fill import form_values

    return {model.field(key): value for key, value in form_values(form, model).items()}


def _as_saved(data: bytes) -> bytes:
    """A workbook's XML parts rewritten with UTF-8 text, as Excel or WPS would save it."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            part = zin.read(item.filename)
            if item.filename.endswith(".xml") and b"&#" in part:
                part = excel_text(part.decode("utf-8")).encode("utf-8")
            zout.writestr(item, part)
    return out.getvalue()


def compute_cached(kind: str, values: dict[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
    """The template's formula results for these inputs (what Excel would have cached)."""
    from ..checking.templates import templates

    t = next(t for t in templates() if t.kind == kind and t.engine == "udf")
    base = {}
    for s in t.model.sheets:
        for ref, spec in s.cells.items():
            if spec.value is not None and spec.value != "\x00covered" and not (
                    isinstance(spec.value, str) and spec.value.startswith("=")):
                base[(s.name, ref)] = spec.value
    base.update(values)
    out = t.whole.run(dict(base))
    return {k: out[k] for k in t.whole.cells}


