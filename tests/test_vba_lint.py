"""The add-in's VBA keeps VBA's own limits: every module read back from the built .xlam, and the writer itself."""
import re
import zipfile

import jixiao_addin
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser

from jixiao.functions import CATEGORY, FUNCTIONS
from jixiao.xlam import build, vba


@pytest.fixture(scope="module")
def xlam(tmp_path_factory):
    return jixiao_addin.build(tmp_path_factory.mktemp("vba") / "jixiao.xlam", r"C:\Python311\pythonw.exe")


@pytest.fixture(scope="module")
def modules(xlam):
    """Module texts as oletools reads them from the built file (not the generator's strings)."""
    parser = VBA_Parser(str(xlam))
    try:
        return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_all_macros()}
    finally:
        parser.close()


def evaluate_string_statements(lines: list[str], var: str) -> str:
    """A tiny VBA evaluator for what VbaWriter.assign_text writes: ``v = a & b`` and ``v = v & c``."""
    value = None
    for line in lines:
        m = re.match(rf"^\s*{re.escape(var)} = (.*)$", line)
        if not m:
            continue
        rhs = m.group(1)
        parts = re.findall(r'"(?:[^"]|"")*"|ChrW\(&H[0-9A-F]+\)|\b' + re.escape(var) + r"\b", rhs)
        assert " & ".join(parts) == rhs, rhs  # nothing but literals, ChrW and the variable itself
        out = ""
        for p in parts:
            if p == var:
                assert value is not None, "used before assignment"
                out += value
            elif p.startswith('"'):
                out += p[1:-1].replace('""', '"')
            else:
                out += chr(int(p[7:-1], 16))
        value = out
    assert value is not None
    return value


# ---------------------------------------------------------------------------
# The built add-in


def test_every_module_of_the_built_addin_passes_the_lint(modules):
    assert {"ThisWorkbook", "xlwings", "Dictionary", "JixiaoRibbon", "JixiaoText", "JixiaoUDFs"} <= set(modules)
    for name, code in modules.items():
        assert vba.lint(code, strict=name in build.OWN_MODULES) == [], name


def test_no_line_over_1023_characters_and_few_continuations(modules):
    longest = max(len(line) for code in modules.values() for line in code.splitlines())
    assert longest <= vba.MAX_LINE
    assert max(len(line) for line in modules["JixiaoUDFs"].splitlines()) < 500  # was 2,112 before the writer
    for code in modules.values():
        assert max(s.continuations for s in vba.statements(code)) <= vba.MAX_CONTINUATIONS
    for name in build.OWN_MODULES:
        assert not any(line.rstrip().endswith(" _") for line in modules[name].splitlines())  # strings over statements


def test_no_wrapper_returns_err_description(modules):
    code = modules["JixiaoUDFs"]
    blocks = re.findall(r"^Function (JX_\w+)\((.*?)\)\r?\n(.*?)^End Function", code, re.M | re.S)
    assert sorted(b[0] for b in blocks) == sorted(FUNCTIONS)
    for name, _, body in blocks:
        assigned = re.findall(rf"^\s*{name}\s*=\s*(.*)$", body, re.M)
        assert len(assigned) == 2, name  # the call, and the failure branch
        assert not any("Err.Description" in rhs or "Err." in rhs for rhs in assigned), name
        failed = body.split("failed:", 1)[1]
        assert re.search(rf"^\s*{name} = CVErr\(xlErrValue\)\s*$", failed, re.M), name  # 2015 = #VALUE!
        assert f'JxFailed "{name}", Err.Description' in failed  # the reason goes to the status bar
    helper = re.search(r"^Private Sub JxFailed\(.*?^End Sub", code, re.M | re.S).group(0)
    assert "Application.StatusBar = " in helper and "On Error Resume Next" in helper
    # nowhere in jixiao's modules is Err.Description the value of a function
    for mod in build.OWN_MODULES:
        for stmt in vba.statements(modules[mod]):
            assert not re.match(r"^\s*\w+\s*=\s*Err\.Description", stmt.code), (mod, stmt)


def test_macro_options_are_qualified_with_the_addin_name(modules):
    code = modules["JixiaoUDFs"]
    assert re.search(r"""^\s*book = "'" & ThisWorkbook\.Name & "'!"\s*$""", code, re.M)  # 'jixiao.xlam'!
    calls = re.findall(r"Application\.MacroOptions Macro:=(.*?), Description", code)
    assert sorted(calls) == sorted(f'book & "{name}"' for name in FUNCTIONS)
    assert "Macro:=\"JX_" not in code


def test_function_wizard_texts_read_back_as_the_core_table(modules):
    """Run the generated RegisterDescriptions' string statements: they give the core's Chinese texts."""
    body = re.search(r"^Sub RegisterDescriptions\(\)(.*?)^End Sub", modules["JixiaoUDFs"], re.M | re.S).group(1)
    lines = body.splitlines()
    assert evaluate_string_statements(lines, "cat") == CATEGORY
    sections = re.split(r"^\s*' (JX_\w+)\s*$", body, flags=re.M)[1:]
    assert [sections[i] for i in range(0, len(sections), 2)] == list(FUNCTIONS)
    for name, text in zip(sections[::2], sections[1::2]):
        spec = FUNCTIONS[name]
        assert evaluate_string_statements(text.splitlines(), "desc") == spec.description
        docs, current = [], []
        for line in text.splitlines():
            current.append(line)
            if re.match(r"^\s*argDocs\(\d+\) = s$", line):
                docs.append(evaluate_string_statements(current, "s"))
                current = []
        assert docs == [spec.arg_docs[p] for p in spec.params], name
        assert f"ReDim argDocs(0 To {len(spec.params) - 1})" in text


def test_messages_module_reads_back_as_the_chinese_messages(modules):
    code = modules["JixiaoText"]
    for key, text in jixiao_addin.MESSAGES:
        body = re.search(rf"^Public Function JxMsg{key}\(\) As String(.*?)^End Function", code, re.M | re.S).group(1)
        assert evaluate_string_statements(body.splitlines(), "s") == text
    used = set(re.findall(r"\b(JxMsg\w+)\(\)", modules["JixiaoRibbon"]))
    assert used and used <= build.procedures([code])


def test_every_ribbon_callback_is_a_procedure_and_runpython_is_guarded(xlam, modules):
    ui = zipfile.ZipFile(xlam).read("customUI/customUI14.xml")
    callbacks = build.ribbon_callbacks(ui)
    assert callbacks[("jxProfile", "getSelectedItemIndex")] == "JxProfileIndex"
    assert set(callbacks.values()) <= build.procedures(list(modules.values()))
    ribbon = modules["JixiaoRibbon"]
    assert re.search(r"^Sub JxProfileIndex\(control As IRibbonControl, ByRef index\)", ribbon, re.M)
    subs = re.findall(r"^Sub (\w+)\(control As IRibbonControl.*?\)\r?\n(.*?)^End Sub", ribbon, re.M | re.S)
    with_python = [(name, body) for name, body in subs if "RunPython" in body]
    assert {n for n, _ in with_python} == {"JxScore", "JxCheck", "JxReport", "JxNewForm", "JxHelp"}
    for name, body in with_python:
        assert body.index("If Not JxReady() Then Exit Sub") < body.index("RunPython"), name
    # 生成自评报告 runs one constant command: nothing of the workbook (its name, a cell) is part of what runs
    report = dict(with_python)["JxReport"]
    [command] = re.findall(r"^\s*RunPython (.*)$", report, re.M)
    assert command.strip() == '"import jixiao_macros.excel as jx; jx.report()"', command
    guard = re.search(r"^Private Function JxReady\(\) As Boolean(.*?)^End Function", ribbon, re.M | re.S).group(1)
    assert "ActiveWorkbook Is Nothing" in guard and "MsgBox JxMsgNoBook()" in guard


def test_docprops_name_jixiao_and_no_foreign_paths(xlam):
    z = zipfile.ZipFile(xlam)
    core = z.read("docProps/core.xml").decode()
    assert "<dc:creator>jixiao" in core and build.TITLE in core and "Felix" not in core
    for name in z.namelist():
        if name.endswith(".xml") or name.endswith(".rels"):
            text = z.read(name).decode("utf-8")
            assert not re.search(r"[A-Za-z]:\\\\?Users|felix|absPath", text, re.I), name
    assert "jixiao" in z.read("docProps/app.xml").decode()


def test_build_without_interpreter_warns_in_chinese(tmp_path, capsys):
    from jixiao.cli import main

    assert main(["addin", "build", "--out", str(tmp_path / "a.xlam")]) == 0
    err = capsys.readouterr().err
    assert "未指定 --interpreter" in err and "pythonw.exe" in err
    assert main(["addin", "build", "--out", str(tmp_path / "b.xlam"), "--interpreter", r"C:\P\pythonw.exe"]) == 0
    assert "未指定" not in capsys.readouterr().err


# ---------------------------------------------------------------------------
# The lint and the writer


def test_lint_finds_what_excel_rejects():
    src = "\r\n".join([
        "Sub Foo(Optional ByVal Date As String, x)",  # reserved parameter name
        "    Dim a, Integer As Long",  # reserved variable name
        "    x = 1 & _", *(["        1 & _"] * 25), "        1",  # 26 continuations
        '    y = "' + "a" * 1100 + '"',  # 1,110-character line
        '    z = "\u4e2d"',  # non-ASCII
        "    Dim " + "v" * 256,  # identifier over 255
        "End Sub"])
    problems = vba.lint(src)
    assert any("'Date'" in p for p in problems) and any("'Integer'" in p for p in problems)
    assert any("26 line continuations" in p for p in problems)
    assert any("characters (limit 1023)" in p for p in problems)
    assert any("non-ASCII" in p for p in problems)
    assert any("identifier of 256" in p for p in problems)
    assert vba.lint("Sub Foo(text)\r\nEnd Sub") == [] and vba.lint("Sub Foo(text)\r\nEnd Sub", strict=True)
    assert vba.lint("x = 1 & _\r\n" * 24 + "1") == []


def test_every_parameter_name_is_safe():
    for spec in FUNCTIONS.values():
        for p in spec.params:
            name = build._param(p)
            assert name.lower() not in vba.RESERVED | vba.SHADOWING and len(name) <= vba.MAX_IDENTIFIER
    for word in ("Date", "string", "Text", "name", "Error", "Array", "Next", "Type", "Range"):
        assert build._param(word) == f"{word}_"
    with pytest.raises(vba.VbaError):
        vba.identifier("1abc")
    with pytest.raises(vba.VbaError):
        vba.identifier("a" * 256)


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",)), max_size=3000))
def test_writer_keeps_any_text_within_the_limits(text):
    w = vba.VbaWriter("JxTest", "Option Explicit", "Sub T()", "    Dim s As String")
    w.assign_text("s", text)
    w.add("End Sub")
    src = w.text()  # lints, raises otherwise
    lines = src.split("\r\n")
    assert max(len(line) for line in lines) <= vba.MAX_LINE
    src.encode("ascii")
    assert evaluate_string_statements(lines, "s") == text


def test_writer_refuses_a_module_over_the_limits():
    w = vba.VbaWriter("JxTest", "Sub T()", '    x = "' + "a" * 1100 + '"', "End Sub")
    with pytest.raises(vba.VbaError, match="1023"):
        w.text()


def test_builder_refuses_callbacks_that_use_an_undefined_message(tmp_path):
    import dataclasses

    sources = dataclasses.replace(jixiao_addin.sources(), messages=(("Title", "绩效自评"),))
    with pytest.raises(build.AddinError, match="JxMsgNoBook"):
        build.build(sources, tmp_path / "x.xlam")
