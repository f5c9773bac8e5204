"""The macro-enabled template: the standardized workbook plus a "Calculate ROI" button.

The button runs xlwings' classic ``RunPython`` (BSD-licensed, desktop Excel on Windows and
macOS). Its VBA is the standalone xlwings module taken from the quickstart workbook that
ships inside the installed xlwings package, so no add-in has to be installed. That
project's ``Module1.SampleCall`` runs ``import <workbook base name>; <base name>.main()``,
so ``NAME.xlsm`` gets a ``NAME.py`` beside it that re-exports ``scrm_xl.excel.main``.
See docs/excel.md.
"""

from __future__ import annotations

import io
import keyword
import os
import sys
import zipfile
from pathlib import Path

from .files import replacing

# the xlwings release the button's VBA is taken from; pyproject pins xlwings to it because the
# VBA, the Windows DLL and the macOS AppleScript it calls must all be of one release
XLWINGS_VBA_VERSION = "0.37.8"
QUICKSTART = "quickstart_standalone.xlsm"
VBA_PART = "xl/vbaProject.bin"
MACRO = "SampleCall"  # Module1's macro in the quickstart project
CAPTION = "Calculate ROI"
CONF_SHEET = "xlwings.conf"

# The sheet's settings override the user's and the folder's xlwings.conf even when blank,
# so Interpreter_*, PYTHONPATH and Conda* are deliberately absent: finance IT sets them per
# machine (see docs/excel.md), and a workbook e-mailed around never picks the Python.
CONF_ROWS = (
    ("ADD_WORKBOOK_TO_PYTHONPATH", "true"),  # RunPython imports NAME.py from the workbook's folder
    ("Show Console", False),
)
CONF_NOTES = (
    "xlwings settings for the Calculate ROI button. Settings start in cell A1; xlwings reads them "
    "down to the first blank row.",
    "Interpreter_Win, Interpreter_Mac, PYTHONPATH, Conda Path and Conda Env are deliberately not "
    "listed: a row here would override the Python that your IT department set up, even when blank.",
    "IT sets the interpreter in the user's xlwings.conf (%USERPROFILE%\\.xlwings\\xlwings.conf on "
    "Windows, ~/Library/Containers/com.microsoft.Excel/Data/xlwings.conf on macOS) or in an "
    "xlwings.conf file next to this workbook.",
)

MODULE_SOURCE = '''"""Run by the Calculate ROI button of {workbook}: xlwings' RunPython imports
the module named after the workbook and calls its main(). Keep this file beside the workbook,
and rename both together."""

from scrm_xl.excel import main

__all__ = ["main"]
'''


def xlwings_version() -> str:
    import xlwings

    return xlwings.__version__


def vba_project() -> bytes:
    """The standalone xlwings VBA project (RunPython, Module1.SampleCall) of the installed xlwings."""
    import xlwings

    quickstart = Path(xlwings.__file__).parent / QUICKSTART
    with zipfile.ZipFile(quickstart) as zf:
        return zf.read(VBA_PART)


def module_name(path: Path) -> str:
    """The Python module RunPython imports for the workbook at ``path``; ValueError when the
    workbook's name cannot be one."""
    stem = Path(path).stem
    if Path(path).suffix.lower() != ".xlsm":
        raise ValueError(f"{path}: the Excel template is macro-enabled; name it {stem}.xlsm")
    if not stem.isidentifier() or keyword.iskeyword(stem) or not stem.isascii():
        raise ValueError(
            f"{path}: the button imports a Python module named after the workbook, so the name must "
            "be letters, digits and underscores, not starting with a digit (e.g. roi_2026.xlsm)"
        )
    if stem in sys.stdlib_module_names or stem.lower() in _TAKEN:
        raise ValueError(f"{path}: '{stem}' is the name of a Python module the button needs; choose another")
    return stem


_TAKEN = {"scrm_xl", "xlwings", "openpyxl", "xlsxwriter", "weasyprint", "jinja2", "lxml", "babel", "rich"}


def write_excel_template(path: str | os.PathLike[str], *, example: bool = False) -> tuple[Path, Path]:
    """Write ``NAME.xlsm`` (the standardized sheets, the button, an xlwings.conf sheet) and
    ``NAME.py`` beside it; returns both paths. Raises ValueError for a name the button cannot
    import, or when the installed xlwings is not the release the VBA is pinned to."""
    from .examples import realistic
    from .template import write_workbook

    path = Path(path)
    name = module_name(path)
    installed = xlwings_version()
    if installed != XLWINGS_VBA_VERSION:
        raise ValueError(
            f"the button's VBA is pinned to xlwings {XLWINGS_VBA_VERSION} but {installed} is installed; "
            f"install xlwings=={XLWINGS_VBA_VERSION}"
        )
    vba = vba_project()

    def extend(book, instructions) -> None:
        book.add_vba_project(io.BytesIO(vba), is_stream=True)
        # the codenames must be the project's document modules (ThisWorkbook, Sheet1, Sheet2):
        # Instructions carries the button, xlwings.conf takes the quickstart's conf sheet module
        book.set_vba_name("ThisWorkbook")
        conf = book.add_worksheet(CONF_SHEET)
        _write_conf(book, conf)
        sheets = [ws for ws in book.worksheets() if ws is not instructions and ws is not conf]
        instructions.set_vba_name("Sheet1")
        conf.set_vba_name("Sheet2")
        for n, ws in enumerate(sheets, start=3):
            ws.set_vba_name(f"Sheet{n}")
        instructions.insert_button(
            0,
            1,
            {
                "macro": MACRO,
                "caption": CAPTION,
                "width": 150,
                "height": 30,
                "x_offset": 360,
                "y_offset": 2,
                "description": "Runs scrm_xl: writes the ROI, KPI, Ledger and Checks sheets",
            },
        )

    write_workbook(path, realistic() if example else None, extend=extend)
    module = path.with_name(name + ".py")
    _write_text(module, MODULE_SOURCE.format(workbook=path.name))
    return path, module


def _write_conf(book, ws) -> None:
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top", "italic": True, "font_color": "#595959"})
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 12)
    for r, (key, value) in enumerate(CONF_ROWS):
        ws.write_string(r, 0, key, bold)
        if isinstance(value, bool):
            ws.write_boolean(r, 1, value)
        else:
            ws.write_string(r, 1, value)
    # below a blank row, so xlwings' End(xlDown) scan of column A stops before the notes
    for r, note in enumerate(CONF_NOTES, start=len(CONF_ROWS) + 1):
        ws.merge_range(r, 0, r, 5, note, wrap)
        ws.set_row(r, 48)


def _write_text(path: Path, text: str) -> None:
    with replacing(path, mode=0o644) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
