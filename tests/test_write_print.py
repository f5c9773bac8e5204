"""How the output sheets print: page setup in the layout and in the XML, and a real PDF made by
LibreOffice from a written workbook (ROI, KPI and Checks each on one page, footer on every page)."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from dataclasses import replace
from decimal import Decimal

import pytest
from lxml import etree

from scrm_xl.compute import compute
from scrm_xl.layout import CHART_HEIGHT, GLANCE, layout
from scrm_xl.write import write_results
from tests import partdiff
from tests import test_worked_example as worked
from tests import writer_fixtures as fx
from tests.test_write import DATA

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _sheet(lay, name):
    return next(s for s in lay.sheets if s.name == name)


def test_programme_at_a_glance_comes_first_and_refers_to_the_totals_row():
    roi = _sheet(layout(fx.results())[0], "ROI")
    cells = {c.ref: c for c in roi.cells}
    assert cells["A5"].value == "Programme at a glance"
    labels = [cells[f"A{r}"].value for r in range(6, 6 + len(GLANCE))]
    assert labels == list(GLANCE)
    total = next(c.row for c in roi.cells if c.col == 1 and c.value == "Total")
    # hand-computed from the fixture: investment 2,900, expected return 2,200
    want = {
        "Investment": ("E", Decimal(2900)),
        "Return (expected)": ("I", Decimal(2200)),
        "Net return (expected)": ("L", Decimal(-700)),
        "ROI expected": ("N", Decimal(-700) / Decimal(2900)),
    }
    for row, label in enumerate(GLANCE, 6):
        if label in want:
            col, value = want[label]
            assert cells[f"C{row}"].formula == f"{col}{total}"
            assert float(cells[f"C{row}"].value) == pytest.approx(float(value))
            assert cells[f"{col}{total}"].formula  # the reference is to a live formula
    # payback not reached and NPV given in the fixture: plain values, not formulas
    payback = cells[f"C{6 + GLANCE.index('Payback')}"]
    assert payback.value == "not reached" and payback.formula is None
    assert cells[f"C{6 + GLANCE.index('NPV')}"].value == fx.NPV


def test_charts_sit_beside_the_glance_block_and_never_cover_a_table_cell():
    roi = _sheet(layout(fx.results())[0], "ROI")
    widths = dict(roi.widths)
    used = {(c.row, c.col) for c in roi.cells if c.value not in (None, "")}
    spans = []
    for chart in roi.charts:
        rows = range(chart.row, chart.row + -(-chart.height // 20))
        cols, px, col = [], 0, chart.col
        while px < chart.width:
            cols.append(col)
            px += int(widths.get(col, 8.43) * 7 + 5)
            col += 1
        assert not {(r, c) for r in rows for c in cols} & used, chart.title
        assert max(cols) <= 17  # within the tables' width: printed on the same page
        spans.append(set(cols))
    assert not spans[0] & spans[1]  # side by side, not on top of each other
    assert roi.charts[0].height == CHART_HEIGHT


def test_ledger_and_checks_repeat_their_header_row_on_every_page():
    lay, _ = layout(fx.results())
    assert _sheet(lay, "Ledger").page.repeat_rows == (4, 4)
    assert _sheet(lay, "Checks").page.repeat_rows == (4, 4)
    assert all(s.page.landscape and s.page.fit_width == 1 and s.page.fit_height == 0 for s in lay.sheets)


def test_a_long_roi_sheet_breaks_between_tables_never_inside_one():
    # 40 initiatives: the initiatives table cannot follow the goals and periods on page one
    many = tuple(replace(fx.INITIATIVES[0], id=f"I{k:02d}") for k in range(40))
    roi = _sheet(layout(fx.results(initiatives=many))[0], "ROI")
    sections = {c.value: c.row for c in roi.cells if c.style == "section"}
    assert roi.page.row_breaks
    assert set(roi.page.row_breaks) <= set(sections.values())


def test_page_setup_and_print_titles_in_the_file(tmp_path):
    book = tmp_path / "book.xlsx"
    shutil.copy(DATA / "features.xlsx", book)
    write_results(book, fx.results())
    with zipfile.ZipFile(book) as z:
        ledger = etree.fromstring(z.read("xl/worksheets/scrm_xl_ledger.xml"))
        wb = etree.fromstring(z.read("xl/workbook.xml"))
    assert ledger.find(f"{MAIN}sheetPr/{MAIN}pageSetUpPr").get("fitToPage") == "1"
    setup = ledger.find(f"{MAIN}pageSetup")
    assert (setup.get("orientation"), setup.get("fitToWidth"), setup.get("fitToHeight")) == (
        "landscape",
        "1",
        "0",
    )
    assert ledger.findtext(f"{MAIN}headerFooter/{MAIN}oddFooter") == "&L&A&C&F&RPage &P of &N"
    # CT_Worksheet order: margins, setup, footer, then the drawing
    order = [etree.QName(e).localname for e in ledger]
    assert order.index("pageMargins") < order.index("pageSetup") < order.index("headerFooter")
    sheets = [s.get("name") for s in wb.find(f"{MAIN}sheets")]
    titles = {
        sheets[int(d.get("localSheetId"))]: d.text
        for d in wb.iter(f"{MAIN}definedName")
        if d.get("name") == "_xlnm.Print_Titles"
    }
    assert titles == {"Ledger": "Ledger!$4:$4", "Checks": "Checks!$4:$4"}


@pytest.mark.libreoffice
def test_libreoffice_prints_roi_kpi_and_checks_on_one_page_each(tmp_path):
    book = tmp_path / "printed.xlsx"
    shutil.copy(DATA / "features.xlsx", book)
    write_results(book, compute(worked.RECORDS))
    profile = tmp_path / "lo-profile"
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(book)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    from pypdf import PdfReader

    pages = [p.extract_text() for p in PdfReader(tmp_path / "printed.pdf").pages]
    by_sheet: dict[str, list[str]] = {}
    for text in pages:
        footer = re.search(r"^(\S+)\s*printed\.xlsx\s*Page (\d+) of (\d+)\s*$", text, re.M)
        if footer:
            assert int(footer[3]) == len(pages)
            by_sheet.setdefault(footer[1], []).append(text)
    assert {k: len(v) for k, v in by_sheet.items() if k in {"ROI", "KPI", "Checks", "Ledger"}} == {
        "ROI": 1,
        "KPI": 1,
        "Ledger": 1,
        "Checks": 1,
    }
    roi = by_sheet["ROI"][0]
    # the answer first: the headline block precedes the goals table on the page
    assert (
        roi.index("Programme at a glance") < roi.index("By goal") < roi.index("Investment by cost category")
    )
    assert "11,500.00 EUR" in roi and "-33.6%" in roi  # worked example: investment, ROI expected


def test_written_glance_values_read_back(tmp_path):
    book = tmp_path / "book.xlsx"
    shutil.copy(DATA / "features.xlsx", book)
    write_results(book, compute(worked.RECORDS))
    roi = partdiff.sheet_values(book, "ROI")
    # docs/worked-example.md: investment 11,500, expected return 7,638.27 (derived by hand there)
    assert roi["C6"] == 11500 and roi["C7"] == pytest.approx(7638.27)
    assert roi["C8"] == pytest.approx(7638.27 - 11500)
