"""Edit a workbook's rows in LibreOffice through its UNO bridge, as an officer does, then recalculate and save.

Run with a Python that has ``uno`` (Debian's /usr/bin/python3 with python3-uno)::

    python3 uno_rows.py IN.xlsx OUT.xlsx '{"sheet": "自评表", "ops": [...]}'

Operations, in order (rows are 1-based, as the officer sees them):

* ``{"op": "insert", "row": R, "count": N}`` — insert N blank rows above row R (Calc's 插入行);
* ``{"op": "copy", "from": R, "to": S}`` — copy the whole row R onto row S (copy, paste: formulas follow);
* ``{"op": "delete", "row": R, "count": N}`` — delete N rows from row R on;
* ``{"op": "set", "cell": "E41", "value": "≥95%"}`` — type a value (a number or a text).

The sheet's protection (no password) is lifted first and put back last, as the form's 填表说明 says. Every
formula is recalculated before the workbook is saved as .xlsx, so the saved values are LibreOffice's own.
"""
import json
import sys

from uno_office import file_url, office_desktop, prop


def edit(doc, job):
    sheet = doc.Sheets.getByName(job["sheet"])
    sheet.unprotect("")
    for op in job["ops"]:
        kind = op["op"]
        if kind == "insert":
            sheet.Rows.insertByIndex(op["row"] - 1, op.get("count", 1))
        elif kind == "delete":
            sheet.Rows.removeByIndex(op["row"] - 1, op.get("count", 1))
        elif kind == "copy":
            source = sheet.Rows.getByIndex(op["from"] - 1).RangeAddress
            target = sheet.getCellByPosition(0, op["to"] - 1).CellAddress
            sheet.copyRange(target, source)
        elif kind == "set":
            cell = sheet.getCellRangeByName(op["cell"])
            if isinstance(op["value"], (int, float)):
                cell.setValue(op["value"])
            else:
                cell.setString(op["value"])
        else:
            raise ValueError(kind)
    sheet.protect("")
    doc.calculateAll()


def main(src, out, job):
    with office_desktop("rows") as desktop:
        doc = desktop.loadComponentFromURL(file_url(src), "_blank", 0, (prop("Hidden", True),))
        edit(doc, job)
        doc.storeToURL(file_url(out), (prop("FilterName", "Calc MS Excel 2007 XML"), prop("Overwrite", True)))
        doc.close(True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
