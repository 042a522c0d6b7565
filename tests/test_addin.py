"""jixiao.xlam, built on Linux: a valid package whose ribbon, VBA and UDF wrappers independent readers agree on."""
import io
import re
import shutil
import zipfile

import jixiao_addin
import jixiao_udfs
import olefile
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser, decompress_stream

from jixiao.profile import shipped_profiles
from jixiao.xlam import build, ovba
from jixiao.xlam.cfb import CompoundFile


@pytest.fixture(scope="module")
def xlam(tmp_path_factory):
    return jixiao_addin.build(tmp_path_factory.mktemp("addin") / "jixiao.xlam", r"C:\Python311\pythonw.exe")


@pytest.fixture(scope="module")
def modules(xlam):
    parser = VBA_Parser(str(xlam))
    try:
        found = {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_all_macros()}
    finally:
        parser.close()
    return found


def test_package_parts(xlam):
    z = zipfile.ZipFile(xlam)
    names = set(z.namelist())
    assert {"xl/vbaProject.bin", "customUI/customUI14.xml", "xl/workbook.xml"} <= names
    assert "addin.macroEnabled.main+xml" in z.read("[Content_Types].xml").decode()
    rels = z.read("_rels/.rels").decode()
    assert 'Target="customUI/customUI14.xml"' in rels and "ui/extensibility" in rels
    assert 'name="jixiao.conf"' in z.read("xl/workbook.xml").decode()
    conf = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<t>UDF Modules</t></is></c><c r=\"B6\" t=\"inlineStr\"><is><t>jixiao_udfs</t>" in conf
    assert r"C:\Python311\pythonw.exe" in conf


def test_every_ribbon_action_is_a_vba_procedure(xlam, modules):
    ui = zipfile.ZipFile(xlam).read("customUI/customUI14.xml")
    actions = build.ribbon_actions(ui)
    assert {"jxScore", "jxCheck", "jxReport", "jxHelp", "jxProfile", "jxNewDeptProvince"} <= set(actions)
    procs = build.procedures(list(modules.values()))
    assert set(actions.values()) <= procs, set(actions.values()) - procs
    labels = re.findall(r'label="([^"]+)"', ui.decode())
    assert {"绩效自评", "评分", "检查", "生成自评报告", "新建自评表", "说明"} <= set(labels)


def test_ribbon_profiles_match_the_shipped_profiles(xlam, modules):
    ui = zipfile.ZipFile(xlam).read("customUI/customUI14.xml").decode()
    items = re.findall(r'<item id="jxProfile\d" label="([^"]+)"', ui)
    assert sorted(items) == sorted(shipped_profiles())
    assert '<item id="jxProfileDefault" label="按表格默认"/>' in ui  # first item: each form's own profile
    vba = re.search(r"JxProfileIds = Array\(([^)]*)\)", modules["JixiaoRibbon"]).group(1)
    assert re.findall(r'"([^"]*)"', vba) == [""] + items  # the same order as the dropDown


def test_olevba_decodes_callbacks_and_one_wrapper_per_udf(modules):
    assert {"ThisWorkbook", "xlwings", "JixiaoRibbon", "JixiaoUDFs", "Dictionary"} <= set(modules)
    for sub in ("JxScore", "JxCheck", "JxReport", "JxNewForm", "JxHelp"):
        assert re.search(rf"^Sub {sub}\(control As IRibbonControl\)", modules["JixiaoRibbon"], re.M)
    wrappers = re.findall(r"^Function (JX_\w+)\(", modules["JixiaoUDFs"], re.M)
    assert sorted(wrappers) == sorted(jixiao_udfs.UDFS)
    for name in jixiao_udfs.UDFS:
        assert f'XLPy.CallUDF("jixiao_udfs", "{name}"' in modules["JixiaoUDFs"]
    assert 'PROJECT_NAME As String = "jixiao"' in modules["xlwings"]
    assert "JixiaoUDFs.RegisterDescriptions" in modules["ThisWorkbook"]
    for code in modules.values():
        code.encode("ascii")  # VBA text stays ASCII (code page 1252); Chinese lives in the ribbon XML


def test_project_is_source_only(xlam):
    ole = olefile.OleFileIO(io.BytesIO(zipfile.ZipFile(xlam).read("xl/vbaProject.bin")))
    assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes([0xCC, 0x61, 0xFF, 0xFF, 0, 0, 0])
    info = ovba.parse_dir(ovba.decompress(ole.openstream("VBA/dir").read()))
    assert info.name == "jixiao" and all(m.offset == 0 for m in info.modules)
    text = ole.openstream("PROJECT").read().decode("cp1252")
    assert 'Name="jixiao"' in text and "Module=JixiaoUDFs" in text


def test_compound_file_refuses_names_that_differ_only_in_case():
    cf = CompoundFile()
    cf.add("VBA/dir", b"1")
    with pytest.raises(ValueError, match="case"):
        cf.add("VBA/DIR", b"2")


def test_build_is_reproducible(tmp_path, xlam):
    again = jixiao_addin.build(tmp_path / "again.xlam", r"C:\Python311\pythonw.exe")
    assert again.read_bytes() == xlam.read_bytes()


def test_install_and_uninstall_into_a_folder(tmp_path):
    path = jixiao_addin.install(tmp_path / "XLSTART", interpreter="pythonw")
    assert path.name == "jixiao.xlam" and path.exists()
    assert build.uninstall(tmp_path / "XLSTART") == path and not path.exists()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_libreoffice_opens_the_addin_and_lists_its_basic_modules(xlam, tmp_path):
    from jixiao.libreoffice import convert

    ods = convert(xlam, "ods", tmp_path, infilter="Calc MS Excel 2007 VBA XML")
    lib = zipfile.ZipFile(ods).read("Basic/jixiao/script-lb.xml").decode()
    listed = set(re.findall(r'library:element library:name="([^"]+)"', lib))
    assert {"JixiaoRibbon", "JixiaoUDFs", "xlwings", "ThisWorkbook", "Dictionary"} <= listed


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=9000) | st.text(alphabet="Sub End Function x=1\r\n'()", max_size=12000).map(str.encode))
def test_compression_round_trips_through_oletools(data):
    packed = ovba.compress(data)
    assert ovba.decompress(packed) == data
    assert bytes(decompress_stream(bytearray(packed))) == data


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,20}", fullmatch=True),
                       st.binary(max_size=10000), min_size=1, max_size=12)
       .filter(lambda d: len({k.upper() for k in d}) == len(d)))  # CFB names ignore case
def test_compound_file_streams_read_back_with_olefile(streams):
    cf = CompoundFile()
    for i, (name, data) in enumerate(streams.items()):
        cf.add(f"_S{i % 3}/{name}" if i % 2 else name, data)
    ole = olefile.OleFileIO(io.BytesIO(cf.tobytes()))
    for i, (name, data) in enumerate(streams.items()):
        path = f"_S{i % 3}/{name}" if i % 2 else name
        assert ole.openstream(path).read() == data
