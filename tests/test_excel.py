"""The Excel button (scrm_xl/excel.py) driven through the in-memory xlwings fake: the sheets it
writes equal the file-based write-back (``pipeline.run(..., out_path=...)`` read back with
openpyxl) cell for cell."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import fake_xlwings as fx
import openpyxl
import pytest
import xlwings as xw
from helpers.book import base_sheets, write_book
from openpyxl.utils.escape import unescape

from scrm_xl import excel
from scrm_xl.pipeline import run
from scrm_xl.schema import OUTPUT_SHEETS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [ROOT / "workbooks" / "example.xlsx", ROOT / "workbooks" / "worked_example.xlsx"]


def click(monkeypatch, book) -> excel.ButtonOutcome:
    """What RunPython does: main() finds its workbook through xw.Book.caller()."""
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))
    return excel.main()


def file_writeback(src: Path, tmp_path: Path) -> openpyxl.Workbook:
    out = tmp_path / ("cli_" + src.name)
    outcome = run(src, out_path=out)
    assert outcome.workbook == out
    return openpyxl.load_workbook(out)


def _rgb(color) -> tuple[int, int, int] | None:
    if color is None or color.rgb is None or not isinstance(color.rgb, str) or color.rgb == "00000000":
        return None
    h = color.rgb[-6:]
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def assert_same_sheet(ws, sheet: fx.Sheet) -> int:
    """Values, formulas, number formats, fonts, fills, widths, merges and frozen panes agree."""
    expected = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None and c.value != "":
                expected[c.coordinate] = c
    got = fx.sheet_values(sheet)
    assert set(got) == set(expected), (ws.title, set(got) ^ set(expected))
    for ref, c in expected.items():
        want, have = c.value, got[ref]
        if isinstance(want, str):
            want = unescape(want)  # openpyxl leaves _xHHHH_ escapes of inline strings undecoded
            assert have == want, (ws.title, ref)
        elif isinstance(want, datetime):
            assert have == want, (ws.title, ref)
        else:
            assert isinstance(have, float), (ws.title, ref, have)
            assert have == pytest.approx(float(want), abs=1e-9), (ws.title, ref)
        cell = sheet.cells[(c.row, c.column)]
        assert cell.number_format == c.number_format, (ws.title, ref)
        assert cell.bold == bool(c.font.b), (ws.title, ref)
        assert cell.italic == bool(c.font.i), (ws.title, ref)
        assert cell.size == pytest.approx(c.font.sz), (ws.title, ref)
        assert cell.font_color == _rgb(c.font.color), (ws.title, ref)
        fill = _rgb(c.fill.fgColor) if c.fill.fill_type == "solid" else None
        assert cell.fill == fill, (ws.title, ref)
        assert cell.wrap == bool(c.alignment.wrap_text), (ws.title, ref)
    widths = {
        openpyxl.utils.column_index_from_string(k): d.width
        for k, d in ws.column_dimensions.items()
        if d.customWidth
    }
    assert sheet.widths == pytest.approx(widths), ws.title
    heights = {r: d.height for r, d in ws.row_dimensions.items() if d.customHeight}
    assert sheet.heights == pytest.approx(heights), ws.title
    assert sorted(sheet.merges) == sorted(str(m) for m in ws.merged_cells.ranges), ws.title
    return len(expected)


def frozen_cell(frozen: str | None) -> str | None:
    """The first unfrozen cell of a freeze_at range ("A1:B4" -> C5, "1:4" -> A5)."""
    if frozen is None:
        return None
    last = frozen.split(":")[-1]
    if last.isdigit():
        return f"A{int(last) + 1}"
    if last.isalpha():
        return f"{openpyxl.utils.get_column_letter(openpyxl.utils.column_index_from_string(last) + 1)}1"
    col, row = openpyxl.utils.cell.coordinate_from_string(last)
    return f"{openpyxl.utils.get_column_letter(openpyxl.utils.column_index_from_string(col) + 1)}{row + 1}"


@pytest.fixture(scope="module", params=EXAMPLES, ids=lambda p: p.stem)
def clicked(request, tmp_path_factory):
    """One example clicked in the fake, beside its file-based write-back (both are slow: done once)."""
    src = request.param
    tmp_path = tmp_path_factory.mktemp(src.stem)
    wb = file_writeback(src, tmp_path)
    book = fx.Book.from_xlsx(src, fullname=str(tmp_path / src.name))
    inputs_before = {s.name: fx.sheet_values(s) for s in book.sheets}
    with pytest.MonkeyPatch.context() as mp:
        outcome = click(mp, book)
    return src, tmp_path, wb, book, inputs_before, outcome


def test_button_writes_what_the_file_writer_writes(clicked):
    src, tmp_path, wb, book, inputs_before, outcome = clicked

    assert outcome.written
    assert [s.name for s in book.sheets][-4:] == list(OUTPUT_SHEETS)
    compared = 0
    for name in OUTPUT_SHEETS:
        compared += assert_same_sheet(wb[name], book.sheets[name])
        assert frozen_cell(book.sheets[name].freeze_panes.frozen) == wb[name].freeze_panes, name
        marks = [n.name for n in book.sheets[name].names]
        assert marks == [f"{name}!_scrm_xl_owned"]
    assert compared > 100
    # the input sheets are never written
    for s in book.sheets:
        if s.name not in OUTPUT_SHEETS:
            assert fx.sheet_values(s) == inputs_before[s.name]
    # one alert, one PDF beside the workbook
    assert len(book.app.alerts) == 1
    assert outcome.pdf == tmp_path / (src.stem + ".pdf")
    assert outcome.pdf.read_bytes().startswith(b"%PDF")
    assert f"PDF briefing saved to {outcome.pdf}" in book.app.alerts[0][0]
    # the status bar said what was going on and was handed back to Excel
    assert "scrm_xl: writing Ledger\u2026" in book.app.status_history
    assert book.app.status_history[-1] is False
    assert book.app.screen_updating is True


def test_a_ledger_in_panels_is_written_by_the_button_as_by_the_file_writer(tmp_path, monkeypatch):
    # a "sheet" of seven lines: the worked example's Ledger goes on in panels side by side,
    # and the button writes the same cells, formulas (a SUMIFS per panel) and widths
    from scrm_xl import layout as layout_module

    monkeypatch.setattr(layout_module, "LEDGER_PANEL_LINES", 7)
    src = EXAMPLES[1]
    wb = file_writeback(src, tmp_path)
    assert wb["Ledger"]["S4"].value == "Kind" and wb["Ledger"]["S5"].value == "Return"
    sums = [c.value for row in wb["ROI"].iter_rows() for c in row if str(c.value).startswith("=SUMIFS")]
    assert sums and all(f.count("SUMIFS(") == 2 for f in sums)  # 14 lines: two panels
    book = fx.Book.from_xlsx(src, fullname=str(tmp_path / src.name))
    outcome = click(monkeypatch, book)
    assert outcome.written
    for name in ("ROI", "Ledger"):
        assert assert_same_sheet(wb[name], book.sheets[name]) > 20, name


def test_charts_span_the_same_cells_as_the_file_writers(clicked):
    _, _, wb, book, _, _ = clicked
    charts = list(book.sheets["ROI"].charts)
    written = wb["ROI"]._charts
    assert len(charts) == len(written) == 2
    for chart, theirs in zip(charts, written, strict=True):
        refs = [s.val.numRef.f for s in theirs.series]
        cats = theirs.series[0].cat.strRef.f if theirs.series[0].cat.strRef else theirs.series[0].cat.numRef.f
        # ours: "$A$16:$A$28,$H$16:$H$28,...": the same columns and rows, plus the header row above
        areas = [a.replace("$", "") for a in chart.source.split(",")]
        theirs_areas = [r.split("!")[1].replace("$", "") for r in [cats, *refs]]
        for ours, their in zip(areas, theirs_areas, strict=True):
            (o1, o2), (t1, t2) = ours.split(":"), their.split(":")
            assert o2 == t2
            assert o1[0] == t1[0] and int(o1[1:]) == int(t1[1:]) - 1
    assert [c.chart_type for c in charts] == ["line_markers", "column_clustered"]


def test_clicking_twice_gives_the_same_sheets(tmp_path, monkeypatch):
    src = EXAMPLES[1]
    book = fx.Book.from_xlsx(src, fullname=str(tmp_path / src.name))
    excel.run_book(book, pdf=False)
    first = {n: fx.sheet_values(book.sheets[n]) for n in OUTPUT_SHEETS}
    excel.run_book(book, pdf=False)
    assert {n: fx.sheet_values(book.sheets[n]) for n in OUTPUT_SHEETS} == first
    assert [s.name for s in book.sheets].count("ROI") == 1
    assert all(len(list(book.sheets[n].charts)) == (2 if n == "ROI" else 0) for n in OUTPUT_SHEETS)


def test_a_users_own_sheet_named_like_ours_is_never_overwritten(tmp_path):
    book = fx.Book.from_xlsx(EXAMPLES[1], fullname=str(tmp_path / "x.xlsx"))
    mine = book.sheets.add("kpi", after=list(book.sheets)[-1])
    mine.range("A1").value = "my own notes"
    outcome = excel.run_book(book, pdf=False)
    assert not outcome.written
    assert fx.sheet_values(mine) == {"A1": "my own notes"}
    assert not any(s.name in ("ROI", "Ledger", "Checks") for s in book.sheets)  # nothing half-written
    ((message, title),) = book.app.alerts
    assert "its own sheet named 'kpi'" in message and "rename your sheet" in message
    assert title == "scrm_xl"


def test_problems_are_listed_with_their_cells_on_checks_and_in_one_alert(tmp_path):
    sheets = base_sheets()
    sheets["Costs"][1][5] = "12,5x"  # Costs!F2
    sheets["Costs"][2][0] = "#DIV/0!"  # xlwings hands error cells over as text
    path = write_book(tmp_path / "bad.xlsx", sheets)
    book = fx.Book.from_xlsx(path)
    outcome = excel.run_book(book, pdf=False)
    assert outcome.written
    ((message, _),) = book.app.alerts
    assert "2 errors" in message
    assert 'Costs!F2: amount "12,5x" is not a number' in message
    assert "Costs!A3: " in message and "#DIV/0!" in message
    checks = fx.sheet_values(book.sheets["Checks"])
    assert "Costs!F2" in checks.values() and "Costs!A3" in checks.values()


def test_a_missing_input_sheet_writes_nothing_and_says_so(tmp_path):
    sheets = base_sheets()
    del sheets["Program"]
    path = write_book(tmp_path / "noprog.xlsx", sheets)
    book = fx.Book.from_xlsx(path)
    outcome = excel.run_book(book, pdf=False)
    assert not outcome.written
    assert [s.name for s in book.sheets] == list(sheets)
    ((message, _),) = book.app.alerts
    assert message.startswith("Nothing was calculated")
    assert "Program" in message


def test_an_unexpected_failure_is_a_plain_message_and_a_log_file(tmp_path, monkeypatch):
    import scrm_xl.layout

    def broken(results):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(scrm_xl.layout, "layout", broken)
    book = fx.Book.from_xlsx(EXAMPLES[1], fullname=str(tmp_path / "wb.xlsx"))
    outcome = excel.run_book(book, pdf=False)
    ((message, _),) = book.app.alerts
    assert "Traceback" not in message
    assert message.startswith("scrm_xl could not finish: disk on fire")
    assert outcome.log == tmp_path / "wb.scrm_xl.log"
    log = outcome.log.read_text()
    assert "Traceback" in log and "RuntimeError: disk on fire" in log
    assert book.app.status_history[-1] is False


def test_a_workbook_on_sharepoint_gets_its_pdf_in_the_local_documents_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "Documents").mkdir()
    book = fx.Book("https://contoso.sharepoint.com/sites/fin/Shared%20Documents/Q3%20ROI.xlsm")
    target, why = excel.pdf_target(book)
    assert target == tmp_path / "Documents" / "scrm_xl" / "Q3 ROI.pdf"
    assert "OneDrive/SharePoint" in why
    local = fx.Book(str(tmp_path / "roi.xlsm"))
    assert excel.pdf_target(local) == (tmp_path / "roi.pdf", "")


def test_xlwings_lite_script_writes_the_sheets_without_pdf_or_status_bar(tmp_path):
    src = EXAMPLES[1]
    wb = file_writeback(src, tmp_path)
    book = fx.Book.from_xlsx(src, fullname=str(src), app=fx.App(lite=True))
    before = set(os.listdir(src.parent))
    outcome = excel.calculate_roi(book)
    assert outcome.written and outcome.pdf is None
    assert set(os.listdir(src.parent)) == before
    for name in OUTPUT_SHEETS:
        assert_same_sheet(wb[name], book.sheets[name])
    assert len(book.app.alerts) == 1


def test_written_text_that_excel_would_parse_stays_text():
    # a period label such as "2026-01" would become a date, a goal named "=1+1" a formula
    sheet = fx.Book("/x.xlsx").sheets.add("S")
    cells = [
        type("C", (), {"value": v, "formula": None})() for v in ("2026-01", "=1+1", "25%", "TRUE", "plain")
    ]
    sheet.range("A1:E1").value = [[excel.excel_value(c) for c in cells]]
    assert fx.sheet_values(sheet) == {"A1": "2026-01", "B1": "=1+1", "C1": "25%", "D1": "TRUE", "E1": "plain"}
    assert all(c.formula is None for c in sheet.cells.values())
    # and the fake does parse them when they are written bare, as Excel does
    sheet.range("A2:D2").value = [["2026-01", "=1+1", "25%", "TRUE"]]
    assert sheet.cells[(2, 1)].value == datetime(2026, 1, 1)
    assert sheet.cells[(2, 2)].formula == "=1+1"
    assert sheet.cells[(2, 3)].value == 0.25 and sheet.cells[(2, 4)].value is True


@pytest.mark.skipif(
    not os.environ.get("XLWINGS_LICENSE_KEY"), reason="xlwings' JSON-backed Book needs a licence"
)
def test_against_xlwings_own_json_book(tmp_path):
    from xlwings.pro import _xlremote  # noqa: F401  (needs the licence key)

    src = EXAMPLES[1]
    shutil.copy(src, tmp_path / src.name)
    book = xw.Book(json=_remote_json(tmp_path / src.name))
    outcome = excel.run_book(book, pdf=False)
    assert outcome.written
    actions = book.json()["actions"]
    added = [a["args"] for a in actions if a["func"] == "addSheet"]
    assert [n for args in added for n in args if n in OUTPUT_SHEETS] == list(OUTPUT_SHEETS)
    assert any(a["func"] == "namesAdd" for a in actions)
    assert any(a["func"] == "alert" for a in actions)


def _remote_json(path: Path) -> dict:
    """The request body xlwings Server/Lite sends: every sheet's values."""
    wb = openpyxl.load_workbook(path, data_only=True)
    sheets = []
    for ws in wb.worksheets:
        values = [[("" if v is None else (v.isoformat() if isinstance(v, datetime) else v)) for v in row]
                  for row in ws.iter_rows(values_only=True)] or [[""]]  # fmt: skip
        sheets.append(
            {
                "name": ws.title,
                "values": values,
                "visibility": "Visible",
                "used_range_address": ws.dimensions,
                "pictures": [],
                "tables": [],
                "charts": [],
            }
        )
    return {
        "client": "Microsoft Office Scripts",
        "version": xw.__version__,
        "book": {"name": path.name, "active_sheet_index": 0, "selection": "A1"},
        "names": [],
        "sheets": sheets,
    }
