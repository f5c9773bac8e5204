"""The macro-enabled template of ``scrm-xl new --excel NAME.xlsm``: its VBA project (read back with
oletools' olevba), the button wired to the macro, the xlwings.conf sheet, NAME.py, the version pin."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import xlwings
from oletools.olevba import VBA_Parser

from scrm_xl.cli import main as cli
from scrm_xl.pipeline import check
from scrm_xl.xlsm import XLWINGS_VBA_VERSION, module_name, write_excel_template

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("xlsm")
    out, err = io.StringIO(), io.StringIO()
    assert cli(["new", "--excel", str(folder / "roi_2026.xlsm")], stdout=out, stderr=err) == 0, err.getvalue()
    assert out.getvalue().split("\n")[:2] == [
        f"wrote {folder / 'roi_2026.xlsm'}",
        f"wrote {folder / 'roi_2026.py'}",
    ]
    return folder / "roi_2026.xlsm"


def modules(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        return {Path(stream).name: code for _, stream, _, code in parser.extract_macros()}
    finally:
        parser.close()


def test_the_vba_project_is_xlwings_standalone_runpython(template):
    code = modules(template)
    assert {"ThisWorkbook", "Sheet1", "Sheet2", "Module1", "xlwings", "Dictionary"} <= set(code)
    assert "Public Function RunPython(PythonCommand As String)" in code["xlwings"]
    assert f'Public Const XLWINGS_VERSION As String = "{XLWINGS_VBA_VERSION}"' in code["xlwings"]
    # SampleCall imports the module named after the workbook and calls its main()
    sample = re.search(r"Sub SampleCall\(\)(.*?)End Sub", code["Module1"], re.S).group(1)
    assert "ThisWorkbook.Name" in sample
    assert 'RunPython "import " & mymodule & ";" & mymodule & ".main()"' in sample


def test_the_codenames_match_the_vba_projects_document_modules(template):
    with zipfile.ZipFile(template) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
        names = re.findall(r'<sheet name="([^"]+)" sheetId="\d+" r:id="(rId\d+)"', workbook)
        rels = dict(
            re.findall(r'Id="(rId\d+)"[^>]*Target="([^"]+)"', zf.read("xl/_rels/workbook.xml.rels").decode())
        )
        codenames = {
            name: re.search(r'codeName="([^"]+)"', zf.read("xl/" + rels[rid]).decode()).group(1)
            for name, rid in names
        }
        assert 'workbookPr codeName="ThisWorkbook"' in workbook
        assert (
            "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in zf.read("[Content_Types].xml").decode()
        )
    assert codenames["Instructions"] == "Sheet1"
    assert codenames["xlwings.conf"] == "Sheet2"
    assert len(set(codenames.values())) == len(codenames) == 9


def test_the_button_on_instructions_runs_samplecall(template):
    with zipfile.ZipFile(template) as zf:
        rels = zf.read("xl/worksheets/_rels/sheet1.xml.rels").decode()  # Instructions
        vml_part = "xl/" + re.search(r'Target="\.\./(drawings/vmlDrawing\d+\.vml)"', rels).group(1)
        vml = zf.read(vml_part).decode()
        assert "<legacyDrawing" in zf.read("xl/worksheets/sheet1.xml").decode()
    buttons = re.findall(r'<x:ClientData ObjectType="Button">(.*?)</x:ClientData>', vml, re.S)
    assert len(buttons) == 1
    assert "<x:FmlaMacro>[0]!SampleCall</x:FmlaMacro>" in buttons[0]
    assert ">Calculate ROI</font>" in vml
    # anchored in the first row, inside column B (the visible top of the sheet)
    anchor = [int(x) for x in re.search(r"<x:Anchor>(.*?)</x:Anchor>", buttons[0]).group(1).split(",")]
    assert anchor[0] == 1 and anchor[2] == 0


def test_the_xlwings_conf_sheet_never_chooses_the_interpreter(template):
    import openpyxl

    ws = openpyxl.load_workbook(template)["xlwings.conf"]
    # xlwings reads A1 down to the first blank cell; a key there, even blank, overrides IT's setting
    keys = []
    for row in ws.iter_rows(min_col=1, max_col=2, values_only=True):
        if row[0] is None:
            break
        keys.append(row[0])
    assert keys == ["ADD_WORKBOOK_TO_PYTHONPATH", "Show Console"]
    assert not any(re.match(r"(?i)interpreter|pythonpath|conda", k) for k in keys)
    outcome = check(template)
    assert not [i for i in outcome.issues if "xlwings.conf" in i.message]


def test_the_module_beside_the_workbook_is_what_runpython_imports(template):
    module = template.with_suffix(".py")
    src = module.read_text()
    assert "from scrm_xl.excel import main" in src
    # RunPython puts the workbook's folder on sys.path and runs "import roi_2026; roi_2026.main()"
    probe = "import roi_2026, scrm_xl.excel; assert roi_2026.main is scrm_xl.excel.main; print('ok')"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=template.parent,
        env={"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_names_the_button_cannot_import_are_refused(tmp_path):
    for bad in ("Q3 ROI.xlsm", "2026.xlsm", "json.xlsm", "scrm_xl.xlsm", "class.xlsm"):
        with pytest.raises(ValueError):
            module_name(Path(bad))
    with pytest.raises(ValueError, match="name it roi.xlsm"):
        module_name(Path("roi.xlsx"))
    err = io.StringIO()
    assert cli(["new", "--excel", str(tmp_path / "Q3 ROI.xlsm")], stdout=io.StringIO(), stderr=err) == 2
    assert "letters, digits and underscores" in err.getvalue()
    assert list(tmp_path.iterdir()) == []


def test_an_existing_module_is_not_replaced_without_force(tmp_path):
    (tmp_path / "roi.py").write_text("# mine\n")
    err = io.StringIO()
    assert cli(["new", "--excel", str(tmp_path / "roi.xlsm")], stdout=io.StringIO(), stderr=err) == 2
    assert (tmp_path / "roi.py").read_text() == "# mine\n"
    assert not (tmp_path / "roi.xlsm").exists()


def test_the_example_template_calculates_in_the_fake(tmp_path):
    import fake_xlwings as fx

    from scrm_xl.excel import run_book

    path, _ = write_excel_template(tmp_path / "demo.xlsm", example=True)
    book = fx.Book.from_xlsx(path)
    outcome = run_book(book, pdf=False)
    assert outcome.written
    assert "xlwings.conf" not in book.app.alerts[0][0]


def test_xlwings_is_pinned_to_the_release_the_vba_came_from():
    assert xlwings.__version__ == XLWINGS_VBA_VERSION
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"xlwings=={XLWINGS_VBA_VERSION}" in deps
