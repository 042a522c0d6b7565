"""Independent readers of the built add-in's VBA project agree with the text jixiao generated.

* oletools (its own MS-CFB reader, olefile, and its own MS-OVBA decompressor);
* LibreOffice headless, which imports the VBA project of an .xlam (MS-OVBA) into Basic libraries when
  converting it: the converted .ods keeps every module as ``Basic/jixiao/<module>.xml``.

LibreOffice drops the ``Attribute`` lines and adds its own header lines (``Rem Attribute VBA_ModuleType=…``,
``Option VBASupport 1``, ``Option ClassModule``) and a final line break; everything else must be equal.
"""
import shutil
import zipfile
from xml.etree import ElementTree as ET

import jixiao_addin
import pytest
from oletools.olevba import VBA_Parser

from jixiao.xlam import build, vba
from jixiao.xlam.ovba import read_project

LO_HEADER = ("Rem Attribute VBA_ModuleType=", "Option VBASupport ", "Option ClassModule")


@pytest.fixture(scope="module")
def xlam(tmp_path_factory):
    return jixiao_addin.build(tmp_path_factory.mktemp("readers") / "jixiao.xlam", r"C:\Python311\pythonw.exe")


@pytest.fixture(scope="module")
def generated():
    """The module texts as the builder generated them, before they were compressed into the project."""
    tpl = read_project(zipfile.ZipFile(build.template_path()).read("xl/vbaProject.bin"))
    return {m.name: m.source.replace("\r\n", "\n").replace("\n", "\r\n")
            for m in build.project_modules(tpl, jixiao_addin.sources())}


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").rstrip("\n").split("\n")


def test_oletools_reads_every_generated_module_unchanged(xlam, generated):
    parser = VBA_Parser(str(xlam))
    try:
        read = {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_all_macros()}
    finally:
        parser.close()
    assert set(read) == set(generated)
    for name, text in generated.items():
        assert _lines(read[name]) == _lines(text), name


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_libreoffice_imports_the_same_module_texts(xlam, generated, tmp_path):
    from jixiao.libreoffice import convert

    ods = convert(xlam, "ods", tmp_path, infilter="Calc MS Excel 2007 VBA XML")
    z = zipfile.ZipFile(ods)
    seen = {}
    for part in z.namelist():
        if part.startswith("Basic/jixiao/") and not part.endswith("script-lb.xml"):
            root = ET.fromstring(z.read(part))
            seen[root.get("{http://openoffice.org/2000/script}name")] = root.text or ""
    assert set(seen) == set(generated)
    for name, text in generated.items():
        ours = [line for line in _lines(text) if not line.startswith("Attribute ")]
        lo = [line for line in _lines(seen[name]) if not line.startswith(LO_HEADER)]
        assert lo == ours, name
    # what LibreOffice read keeps VBA's limits too
    longest = max(len(line) for t in seen.values() for line in _lines(t))
    assert longest <= vba.MAX_LINE
    for name in build.OWN_MODULES:
        assert vba.lint(seen[name], strict=True) == [], name


# Modules the builder writes (ThisWorkbook gets jixiao's Workbook_Open); the others come from xlwings' own
# quickstart add-in and are shipped as xlwings wrote them.
OWN_MODULES = {"JixiaoRibbon", "JixiaoText", "JixiaoUDFs", "ThisWorkbook"}


def test_a_virus_scanner_sees_in_jixiaos_own_modules_only_the_open_event(xlam):
    """What oletools' mraptor (the macro triage government antivirus resembles) flags in each module:
    jixiao's own modules neither write files nor run programs; their one auto-run is Workbook_Open, which
    registers the functions' Chinese descriptions; every write/execute flag is xlwings' (docs/addin.md)."""
    from oletools.mraptor import MacroRaptor

    flags = {}
    for _, _, name, code in VBA_Parser(str(xlam)).extract_macros():
        mr = MacroRaptor(code)
        mr.scan()
        flags[name.removesuffix(".bas").removesuffix(".cls")] = (mr.autoexec, mr.write, mr.execute)
    assert OWN_MODULES <= set(flags)
    for name in OWN_MODULES:
        autoexec, write, execute = flags[name]
        assert not write and not execute, (name, flags[name])
        assert autoexec == (name == "ThisWorkbook"), (name, flags[name])
    assert flags["xlwings"][1:] == (True, True)  # RunPython starts Python and writes its own files
