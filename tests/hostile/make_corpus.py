"""Write the hostile corpus: small files, each built to cost a batch time, memory or its other findings.

Run ``python tests/hostile/make_corpus.py`` to regenerate; the files are committed next to this script and
``tests/test_hostile.py`` lists what each one must produce. Every file is a few KB to about 100 KB: the damage
comes from what the file asks for (a huge range, deep nesting, a zip bomb), never from its size.
"""
from __future__ import annotations

import io
import json
import sys
import zipfile
from importlib import resources
from pathlib import Path

from openpyxl import Workbook, load_workbook

HERE = Path(__file__).resolve().parent
SEED = json.loads((resources.files("jixiao.samples") / "hunan-2024-dept.json").read_text("utf-8"))


def _bureau() -> Workbook:
    from jixiao.samples import submissions

    return load_workbook(io.BytesIO(submissions.bureau_bytes(SEED, {"exec_score": 9, "sum": 90})))


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def bureau_with(formulas: dict[str, str], extra_sheet: str | None = None) -> bytes:
    """Seed 000 in the bureau's layout plus helper formulas (which send it down the full route)."""
    wb = _bureau()
    ws = wb.create_sheet(extra_sheet) if extra_sheet else wb.active
    for ref, f in formulas.items():
        ws[ref] = f
    return _save(wb)


def template_with(formulas: dict[str, str], extra_sheet: str | None = None) -> bytes:
    """jixiao's province template filled with seed 000, plus formulas on a sheet of its own or over a template cell."""
    from jixiao.layouts.writer import template_model
    from jixiao.samples import submissions

    model = template_model("dept-province")
    values = submissions.template_values(SEED, model)
    data = submissions.fill_bytes(submissions.template_bytes("dept-province"), values)
    wb = load_workbook(io.BytesIO(data))
    ws = wb.create_sheet(extra_sheet) if extra_sheet else wb[model.main.name]
    for ref, f in formulas.items():
        if ref == "first-formula-cell":  # one of the template's own formula cells, changed
            ref = sorted(model.main.formulas(), key=lambda r: (int(r.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")), r))[0]
        ws[ref] = f
    return _save(wb)


def text_equals() -> bytes:
    """Text cells that start with '=' (typed as '=24期 in Excel) next to one real formula."""
    wb = _bureau()
    ws = wb.active
    ws["J1"] = "=1+1"
    ws["J2"] = '=未注册函数(1)'
    ws["J2"].data_type = "s"
    ws["J3"] = "=HYPERLINK(\"http://example.invalid\")"
    ws["J3"].data_type = "s"
    return _save(wb)


def zip_bomb() -> bytes:
    """A worksheet part of 80 MB of zeros, about 80 KB compressed."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", '<workbook xmlns:r="r"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
                                      "</sheets></workbook>")
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships><Relationship Id="rId1" Type="http://x/worksheet" '
                                                 'Target="worksheets/sheet1.xml"/></Relationships>')
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            for _ in range(80):
                fh.write(b"\0" * (1 << 20))
    return buf.getvalue()


def million_rows() -> bytes:
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 201))
    sheet = (f'<worksheet><dimension ref="A1:A1000000"/><sheetData>{rows}'
             '<row r="1000000"><c r="A1000000"><v>1</v></c></row></sheetData></worksheet>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", '<workbook xmlns:r="r"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
                                      "</sheets></workbook>")
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships><Relationship Id="rId1" Type="http://x/worksheet" '
                                                 'Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return buf.getvalue()


def many_formulas(n: int = 8_000) -> bytes:
    """A sheet of ``n`` formula cells (an official form has under 200): formulas would take minutes."""
    rows = "".join(f'<row r="{r}"><c r="A{r}"><f>B{r}+1</f></c><c r="B{r}"><v>{r}</v></c></row>'
                   for r in range(1, n + 1))
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
                   f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="{pkg}"><Relationship Id="rId1" '
                                  f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
                                      '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<?xml version="1.0"?><Relationships xmlns="{pkg}"><Relationship '
                                                 f'Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
                                                 '</Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{main}"><sheetData>{rows}</sheetData></worksheet>')
    return buf.getvalue()


def huge_name() -> bytes:
    """A defined name over every cell of the sheet, summed: formulas would expand the name's range."""
    from openpyxl.workbook.defined_name import DefinedName

    wb = _bureau()
    wb.active["J1"] = "=SUM(全表)"
    wb.defined_names["全表"] = DefinedName("全表", attr_text="附件2!$A:$XFD")
    return _save(wb)


def gbk_zip() -> bytes:
    """A .zip as Windows' built-in compressor writes it: member names in GBK, UTF-8 flag (bit 11) unset."""
    book = bureau_with({})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("placeholder.xlsx", date_time=(2025, 1, 15, 9, 30, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, book)
    # zipfile wrote an ASCII name with bit 11 unset; put the GBK bytes in both headers, as Windows does
    return _rename_member(buf.getvalue(), b"placeholder.xlsx", "湖南省教育厅/部门整体支出绩效自评表.xlsx".encode("gbk"))


def _rename_member(data: bytes, old: bytes, new: bytes) -> bytes:
    """Rename the only member of a small archive, fixing the name lengths and the central directory's offset."""
    import struct

    lh = data.index(b"PK\x03\x04")
    name_len = struct.unpack_from("<H", data, lh + 26)[0]
    assert data[lh + 30:lh + 30 + name_len] == old
    local = bytearray(data[:lh + 30]) + new + data[lh + 30 + name_len:]
    struct.pack_into("<H", local, lh + 26, len(new))
    delta = len(new) - len(old)
    cd = local.index(b"PK\x01\x02")
    flags = struct.unpack_from("<H", local, cd + 8)[0]
    assert not flags & 0x800
    n2 = struct.unpack_from("<H", local, cd + 28)[0]
    assert local[cd + 46:cd + 46 + n2] == old
    local = local[:cd + 46] + new + local[cd + 46 + n2:]
    struct.pack_into("<H", local, cd + 28, len(new))
    eocd = local.index(b"PK\x05\x06")
    cd_size = struct.unpack_from("<I", local, eocd + 12)[0]
    cd_off = struct.unpack_from("<I", local, eocd + 16)[0]
    struct.pack_into("<I", local, eocd + 12, cd_size + delta)
    struct.pack_into("<I", local, eocd + 16, cd_off + delta)
    return bytes(local)


def encrypted_member() -> bytes:
    """A workbook whose parts claim to need a password (flag bit 0 in every header): zipfile raises RuntimeError."""
    import struct

    data = bytearray(bureau_with({}))
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = data.find(sig)
        while i >= 0:
            flags = struct.unpack_from("<H", data, i + offset)[0]
            struct.pack_into("<H", data, i + offset, flags | 0x1)
            i = data.find(sig, i + 4)
    return bytes(data)


def corrupt_deflate() -> bytes:
    """A workbook whose worksheet's compressed bytes are damaged: zlib.error while inflating."""
    data = bytearray(bureau_with({}))
    name = b"xl/worksheets/sheet1.xml"
    start = data.find(name) + len(name)
    for k in range(start + 40, start + 400, 7):
        data[k] ^= 0x5A
    return bytes(data)


def deep_parens(n: int = 5000) -> str:
    return "=" + "(" * n + "1" + ")" * n


def deep_ifs(n: int = 2000) -> str:
    return "=" + "IF(1," * n + "1" + ",0)" * n


def corpus() -> dict[str, bytes]:
    return {
        "huge-range.xlsx": bureau_with({"J1": "=SUM(Z1:XFD1048576)*0+5"}),
        "whole-columns.xlsx": bureau_with({"J1": "=SUM(D:H)"}),
        "huge-range-template.xlsx": template_with({"A1": "=SUM(Z1:XFD1048576)*0+5"}, extra_sheet="辅助"),
        "whole-columns-template.xlsx": template_with({"A1": "=SUM(D:H)", "A2": "=SUM(自评表!D:H)"},
                                                     extra_sheet="辅助"),
        "huge-range-template-cell.xlsx": template_with({"first-formula-cell": "=SUM(Z1:XFD1048576)*0+5"}),
        "deep-parens.xlsx": bureau_with({"J1": deep_parens()}),
        "deep-ifs.xlsx": bureau_with({"J1": deep_ifs()}),
        "text-equals.xlsx": text_equals(),
        "zip-bomb.xlsx": zip_bomb(),
        "million-rows.xlsx": million_rows(),
        "encrypted.xlsx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000,
        "junk.xlsx": "这不是工作簿，只是改了扩展名的文字".encode("utf-8"),
        "truncated.xlsx": bureau_with({})[:3000],
        "gbk-names.zip": gbk_zip(),
        "many-formulas.xlsx": many_formulas(),
        "huge-name.xlsx": huge_name(),
        "encrypted-member.xlsx": encrypted_member(),
        "corrupt-deflate.xlsx": corrupt_deflate(),
    }


def main(out: Path = HERE) -> None:
    for name, data in corpus().items():
        (out / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
