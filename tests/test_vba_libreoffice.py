"""LibreOffice compiles and runs jixiao's own VBA modules: the closest to Excel's VBA this machine has.

LibreOffice imports an .xlam's VBA project into Basic with VBA support (``Option VBASupport 1``). It cannot
compile xlwings' runtime (Windows API ``Declare PtrSafe`` and the ``Dictionary`` class), and a module that does
not compile stops every macro of the library, so the probe add-in holds jixiao's modules exactly as built
(JixiaoText, JixiaoUDFs, JixiaoRibbon, read from the built project) plus a ``Probe`` module with stubs for
xlwings' ``RunPython``. A UNO script (LibreOffice's own Python) opens it headless, runs the probe's macros
and reads back the cells they wrote.

What LibreOffice cannot show (see docs/addin.md): ``Application.Caller`` in a cell function, the status bar,
the ribbon itself, and Excel's own 1,023-character limit (LibreOffice accepts
longer lines; :mod:`tests.test_vba_lint` checks that).
"""
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import jixiao_addin
import pytest

from jixiao.xlam import build
from jixiao.xlam.ovba import Module, read_project, write_project

UNO_PYTHONS = ("/usr/bin/python3", "/usr/lib/libreoffice/program/python", "/opt/libreoffice/program/python")


def _uno_python() -> str | None:
    for exe in UNO_PYTHONS:
        if shutil.which(exe) and subprocess.run([exe, "-c", "import uno"], capture_output=True).returncode == 0:
            return exe
    return None


UNO = _uno_python() if shutil.which("soffice") else None
pytestmark = pytest.mark.skipif(UNO is None, reason="LibreOffice with Python-UNO not installed")

RUNNER = r'''
import json, sys
sys.path.insert(0, sys.argv[3])
from uno_office import file_url, office_desktop, prop

path, job = sys.argv[1], json.loads(sys.argv[2])
out = {}
with office_desktop("vba") as desktop:
    doc = desktop.loadComponentFromURL(file_url(path), "_blank", 0,
                                       (prop("Hidden", True), prop("MacroExecutionMode", 4),
                                        prop("FilterName", "Calc MS Excel 2007 VBA XML")))
    provider = doc.getScriptProvider()
    out["ran"] = {}
    for name in job["run"]:
        try:
            provider.getScript("vnd.sun.star.script:jixiao.Probe.%s?language=Basic&location=document"
                               % name).invoke((), (), ())
            out["ran"][name] = True
        except Exception as e:
            out["ran"][name] = str(getattr(e, "Message", e))
    sheet = doc.Sheets.getByIndex(0)
    out["cells"] = {ref: sheet.getCellRangeByName(ref).getString() for ref in job["read"]}
    doc.close(True)
print(json.dumps(out))
'''

PROBE = """Attribute VB_Name = "Probe"
Option Explicit

Public Function RunPython(cmd As String)
    ' stub of xlwings' RunPython: remember the command
    Cell("H9").String = cmd
End Function

Private Function Cell(ref As String) As Object
    Set Cell = ThisComponent.Sheets.getByIndex(0).getCellRangeByName(ref)
End Function

Public Sub Messages()
    Cell("H1").String = JxMsgTitle()
    Cell("H2").String = JxMsgNoBook()
End Sub

Public Sub Register()
    JixiaoUDFs.RegisterDescriptions
    Cell("H3").String = "registered"
End Sub

Public Sub ErrorValue()
    Dim v As Variant
    v = CVErr(xlErrValue)
    Cell("H4").String = TypeName(v) & " " & CStr(xlErrValue) & " " & IsError(v)
End Sub

Public Sub Score()
    JxScore Nothing
    Cell("H5").String = "score"
End Sub
"""


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lo-basic")
    xlam = jixiao_addin.build(tmp / "jixiao.xlam", r"C:\Python311\pythonw.exe")
    parts = {}
    with zipfile.ZipFile(xlam) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    project = read_project(parts["xl/vbaProject.bin"])  # the modules as built, read back from the file
    project.modules = [m for m in project.modules if m.name not in ("xlwings", "Dictionary")]
    assert {m.name for m in project.modules} >= set(build.OWN_MODULES)
    project.modules.append(Module("Probe", PROBE.replace("\n", "\r\n"), "module"))
    parts["xl/vbaProject.bin"] = write_project(project)
    probe = tmp / "probe.xlam"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    probe.write_bytes(buf.getvalue())
    script = tmp / "runner.py"
    script.write_text(RUNNER, encoding="utf-8")
    job = {"run": ["Messages", "Register", "ErrorValue", "Score"], "read": ["H1", "H2", "H3", "H4", "H5", "H9"]}
    proc = subprocess.run([UNO, str(script), str(probe), json.dumps(job), str(Path(__file__).parent)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_probe_ran(result):
    assert all(v is True for v in result["ran"].values()), result["ran"]


def test_messages_module_compiles_and_gives_the_chinese_texts(result):
    messages = dict(jixiao_addin.MESSAGES)
    assert result["cells"]["H1"] == messages["Title"]
    assert result["cells"]["H2"] == messages["NoBook"]


def test_udf_module_compiles_and_register_descriptions_runs_through(result):
    assert result["cells"]["H3"] == "registered"


def test_the_failure_value_is_error_2015(result):
    assert result["cells"]["H4"] == "Error 2015 True"  # CVErr(xlErrValue): #VALUE! in Excel


def test_ribbon_module_compiles_and_runs_python_when_a_workbook_is_open(result):
    assert result["cells"]["H5"] == "score"
    assert result["cells"]["H9"] == "import jixiao_macros.excel as jx; jx.score()"
