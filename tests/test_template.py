"""The template as a finance user gets it: read back with openpyxl, independently
of the XlsxWriter code that wrote it."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from scrm_xl import template
from scrm_xl.examples import worked
from scrm_xl.template import write_template, write_workbook

SHEETS = ["Instructions", "Program", "Goals", "Initiatives", "Costs", "Returns", "Touchpoints", "Metrics"]

# the contract's headers, restated here rather than read from schema.py
HEADERS = {
    "Program": ["Setting", "Value", "Note"],
    "Goals": [
        "Goal ID", "Goal", "Objective", "KPI", "Baseline", "Target", "Target date", "Direction", "Owner",
    ],
    "Initiatives": ["Initiative ID", "Initiative", "Goal ID", "Channel", "Start", "End", "Owner"],
    "Costs": ["Date", "Initiative ID", "Goal ID", "Category", "Description", "Amount"],
    "Returns": [
        "Date", "Transaction ref", "Return type", "Initiative ID", "Amount", "Gross margin", "Attribution",
        "Confidence", "Note",
    ],
    "Touchpoints": ["Transaction ref", "Initiative ID", "Timestamp"],
    "Metrics": ["Date", "Goal ID", "Initiative ID", "Metric", "Value"],
}  # fmt: skip

SETTINGS = [
    "Program name", "Currency", "Period start", "Period end", "Reporting period", "As of",
    "Default gross margin", "Discount rate", "Attribution model", "Time-decay half-life", "Lookback window",
    "Locale", "Prepared by", "Distribution",
]  # fmt: skip

# every enumeration of the contract, where its drop-down must be
DROPDOWNS = {
    ("Goals", "C"): "Trust,Loyalty,Advocacy,Customer care,Awareness,Acquisition,Retention",
    ("Goals", "H"): "Increase,Decrease",
    ("Costs", "D"): "People,Technology,Paid media,Agency,Content,Training,Other",
    ("Returns", "C"): "New revenue,Cost savings,Spending avoided",
    ("Returns", "H"): "High,Medium,Low",
}
PROGRAM_DROPDOWNS = {
    "Reporting period": "Month,Quarter",
    "Attribution model": "Last touch,First touch,Linear,Time decay,Position based",
}

FORMATS = {
    ("Goals", "G"): "yyyy-mm-dd",
    ("Initiatives", "E"): "yyyy-mm-dd",
    ("Initiatives", "F"): "yyyy-mm-dd",
    ("Costs", "A"): "yyyy-mm-dd",
    ("Costs", "F"): "#,##0.00;(#,##0.00)",
    ("Returns", "A"): "yyyy-mm-dd",
    ("Returns", "E"): "#,##0.00;(#,##0.00)",
    ("Returns", "F"): "0.0%",
    ("Returns", "G"): "0.0%",
    ("Touchpoints", "C"): "yyyy-mm-dd hh:mm",
    ("Metrics", "A"): "yyyy-mm-dd",
}


@pytest.fixture(scope="module")
def blank(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("blank") / "book.xlsx"
    write_template(path)
    return path


@pytest.fixture(scope="module")
def blank_book(blank):
    return openpyxl.load_workbook(blank)


@pytest.fixture(scope="module")
def example_book(tmp_path_factory):
    path = tmp_path_factory.mktemp("example") / "example.xlsx"
    write_template(path, example=True)
    return openpyxl.load_workbook(path)


@pytest.fixture(scope="module")
def worked_book(tmp_path_factory):
    path = tmp_path_factory.mktemp("worked") / "worked.xlsx"
    write_workbook(path, worked())
    return openpyxl.load_workbook(path)


def _instructions_text(book) -> str:
    ws = book["Instructions"]
    return "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)


def test_sheets_in_order_with_instructions_first_and_active(blank_book):
    assert blank_book.sheetnames == SHEETS
    assert blank_book.active.title == "Instructions"
    assert all(ws.sheet_state == "visible" for ws in blank_book.worksheets), (
        "hidden sheets are a check warning"
    )


@pytest.mark.parametrize("sheet", SHEETS[1:])
def test_headers_are_an_excel_table_with_frozen_header_row(blank_book, sheet):
    ws = blank_book[sheet]
    headers = HEADERS[sheet]
    assert [c.value for c in ws[1]][: len(headers)] == headers
    assert ws.max_column == len(headers)
    tables = list(ws.tables.values())
    assert len(tables) == 1
    table = tables[0]
    assert table.name == sheet
    assert [c.name for c in table.tableColumns] == headers
    last_col = openpyxl.utils.get_column_letter(len(headers))
    expected_rows = len(SETTINGS) + 1 if sheet == "Program" else 2  # header + one blank row to start in
    assert table.ref == f"A1:{last_col}{expected_rows}"
    assert ws.freeze_panes == "A2"


@pytest.mark.parametrize("sheet", SHEETS[1:])
def test_every_header_has_a_note(blank_book, sheet):
    ws = blank_book[sheet]
    for cell in ws[1]:
        assert cell.comment is not None, f"{sheet}!{cell.coordinate}"
        assert len(cell.comment.text) > 20


def test_header_notes_say_what_is_required(blank_book):
    assert blank_book["Returns"]["B1"].comment.text.startswith("Required.")  # Transaction ref
    assert blank_book["Returns"]["F1"].comment.text.startswith("Optional.")  # Gross margin
    assert "High, Medium, Low" in blank_book["Returns"]["H1"].comment.text


def test_program_lists_every_setting_with_a_note(blank_book):
    ws = blank_book["Program"]
    assert [ws.cell(r, 1).value for r in range(2, 2 + len(SETTINGS))] == SETTINGS
    assert ws.cell(2 + len(SETTINGS), 1).value is None
    notes = {ws.cell(r, 1).value: ws.cell(r, 3).value for r in range(2, 2 + len(SETTINGS))}
    for name in ("Program name", "Currency", "Period start", "Period end"):
        assert notes[name].startswith("Required."), name
    assert notes["Lookback window"] == "Optional. Days. Default: 90."
    # defaults are shown where the contract has them; the rest is left for the user
    values = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, 2 + len(SETTINGS))}
    assert values["Reporting period"] == "Month"
    assert values["Attribution model"] == "Last touch"
    assert (values["Time-decay half-life"], values["Lookback window"], values["Locale"]) == (7, 90, "en_US")
    assert values["Program name"] is None and values["Period start"] is None


def _validations(ws):
    return {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}


@pytest.mark.parametrize(("where", "choices"), sorted(DROPDOWNS.items()))
def test_enumerations_have_strict_dropdowns_over_the_whole_column(blank_book, where, choices):
    sheet, col = where
    dv = _validations(blank_book[sheet])[f"{col}2:{col}1048576"]
    assert dv.type == "list"
    assert dv.formula1 == f'"{choices}"'
    assert dv.errorStyle in (None, "stop"), "an enumeration rejects other values"
    assert dv.showDropDown in (None, False), "openpyxl's showDropDown=True means the arrow is hidden"


def test_program_choice_settings_have_dropdowns_on_their_value_cell(blank_book):
    ws = blank_book["Program"]
    row_of = {ws.cell(r, 1).value: r for r in range(2, 2 + len(SETTINGS))}
    dvs = _validations(ws)
    assert set(dvs) == {f"B{row_of[name]}" for name in PROGRAM_DROPDOWNS}
    for name, choices in PROGRAM_DROPDOWNS.items():
        assert dvs[f"B{row_of[name]}"].formula1 == f'"{choices}"'


ID_COLUMNS = {
    ("Initiatives", "C"): "GoalIDs",
    ("Costs", "B"): "InitiativeIDs",
    ("Costs", "C"): "GoalIDs",
    ("Returns", "D"): "InitiativeIDs",
    ("Touchpoints", "B"): "InitiativeIDs",
    ("Metrics", "B"): "GoalIDs",
    ("Metrics", "C"): "InitiativeIDs",
}


def test_id_columns_offer_the_ids_typed_on_their_sheet(blank_book):
    names = {name: blank_book.defined_names[name].attr_text for name in ("GoalIDs", "InitiativeIDs")}
    assert names == {
        "GoalIDs": "OFFSET(Goals!$A$2,0,0,MAX(1,COUNTA(Goals!$A:$A)-1),1)",
        "InitiativeIDs": "OFFSET(Initiatives!$A$2,0,0,MAX(1,COUNTA(Initiatives!$A:$A)-1),1)",
    }
    for (sheet, col), name in ID_COLUMNS.items():
        dv = _validations(blank_book[sheet])[f"{col}2:{col}1048576"]
        assert (dv.type, dv.formula1, dv.errorStyle) == ("list", name, "warning"), (sheet, col)


def test_metric_names_are_suggested_not_enforced(blank_book):
    for sheet, col in (("Metrics", "D"), ("Goals", "D")):
        dv = _validations(blank_book[sheet])[f"{col}2:{col}1048576"]
        assert dv.errorStyle == "information"
        names = dv.formula1.strip('"').split(",")
        assert {"Reach", "Engagements", "Influence score", "Referrals", "NPS"} <= set(names)
        assert len(dv.formula1) <= 255, "Excel's limit for an inline list"


def test_percent_columns_warn_outside_0_to_100_percent(blank_book):
    dvs = _validations(blank_book["Returns"])
    for col in "FG":
        dv = dvs[f"{col}2:{col}1048576"]
        # no operator means "between" in the file format
        assert (dv.type, dv.operator or "between", dv.formula1, dv.formula2, dv.errorStyle) == (
            "decimal", "between", "0", "1", "warning",
        )  # fmt: skip


@pytest.mark.parametrize(("where", "number_format"), sorted(FORMATS.items()))
def test_columns_carry_date_percent_and_money_formats(blank_book, example_book, where, number_format):
    sheet, col = where
    # the blank template formats the whole column, so typed rows get it
    assert _column_format(blank_book[sheet], col) == number_format
    # the filled one formats each written cell too
    ws = example_book[sheet]
    cells = [ws[f"{col}{r}"] for r in range(2, ws.max_row + 1) if ws[f"{col}{r}"].value is not None]
    assert cells, where
    assert {c.number_format for c in cells} == {number_format}


def _column(ws, letter: str):
    # adjacent columns with the same look are stored as one <col min max> range
    index = openpyxl.utils.column_index_from_string(letter)
    for dim in ws.column_dimensions.values():
        if dim.min is not None and dim.min <= index <= dim.max:
            return dim
    raise AssertionError(f"{ws.title}!{letter}: no column width or format set")


def _column_format(ws, letter: str) -> str:
    return _column(ws, letter).number_format


def test_program_value_cells_are_formatted_by_kind(worked_book):
    ws = worked_book["Program"]
    by_name = {ws.cell(r, 1).value: ws.cell(r, 2) for r in range(2, 2 + len(SETTINGS))}
    assert by_name["Period start"].number_format == "yyyy-mm-dd"
    assert by_name["As of"].number_format == "yyyy-mm-dd"
    assert by_name["Default gross margin"].number_format == "0.0%"
    assert by_name["Discount rate"].number_format == "0.0%"
    assert by_name["Default gross margin"].value == 0.4


def test_columns_are_wide_enough_for_header_and_values(blank_book, worked_book):
    for book in (blank_book, worked_book):
        for sheet in SHEETS[1:]:
            ws = book[sheet]
            for c, header in enumerate(HEADERS[sheet], start=1):
                if (sheet, header) == ("Program", "Note"):
                    continue  # wrapped on purpose; see the next test
                letter = openpyxl.utils.get_column_letter(c)
                width = _column(ws, letter).width
                texts = [v for (v,) in ws.iter_rows(min_row=2, min_col=c, max_col=c, values_only=True)]
                # room for the header's filter button, and for every text value
                longest = max([len(header) + 3] + [len(v) for v in texts if isinstance(v, str)])
                assert longest <= width <= 100, f"{sheet}!{letter}: width {width} for {longest} characters"


def test_program_notes_wrap_in_rows_tall_enough(blank_book):
    ws = blank_book["Program"]
    width = ws.column_dimensions["C"].width
    for r in range(2, 2 + len(SETTINGS)):
        cell = ws.cell(r, 3)
        assert cell.alignment.wrap_text
        lines = -(-len(cell.value) // int(width * 0.95))
        assert ws.row_dimensions[r].height >= 15 * lines, f"Program!C{r}"


def test_instructions_explain_value_versus_roi_and_how_to_run(blank_book):
    text = _instructions_text(blank_book)
    assert "ROI counts only money linked to a business transaction" in text
    for words in ("new revenue", "cost savings", "spending avoided", "percentage of the investment"):
        assert words in text
    assert "Reach, engagement, influence and referrals are value" in text
    assert "never counted inside it" in text
    for command in ("scrm-xl check workbook.xlsx", "scrm-xl run workbook.xlsx", "scrm-xl new workbook.xlsx"):
        assert command in text
    ws = blank_book["Instructions"]
    links = {c.value: c.hyperlink.location for row in ws.iter_rows() for c in row if c.hyperlink}
    assert links == {s: f"'{s}'!A1" for s in SHEETS[1:]}


def test_worked_example_rows_round_trip(worked_book):
    example = worked()
    ws = worked_book["Program"]
    values = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, 2 + len(SETTINGS))}
    for name, value in example.program.items():
        assert _same(values[name], value), name
    for sheet, rows in example.rows.items():
        ws = worked_book[sheet]
        read = [[c.value for c in row] for row in ws.iter_rows(min_row=2, max_row=ws.max_row)]
        assert len(read) == len(rows), sheet
        for got, want in zip(read, rows, strict=True):
            assert all(_same(g, w) for g, w in zip(got, want.values(), strict=True)), (sheet, got, want)


def _same(got, want) -> bool:
    if isinstance(want, datetime):
        return got == want
    if isinstance(want, date):
        return got == datetime(want.year, want.month, want.day)
    if isinstance(want, Decimal):
        return Decimal(str(got)) == want
    return got == want


def test_example_flag_fills_the_template_with_the_realistic_programme(example_book):
    book = example_book
    returns = book["Returns"]
    table = next(iter(returns.tables.values()))
    assert table.ref == f"A1:I{returns.max_row}"
    assert returns.max_row - 1 >= 2000
    assert book["Program"]["B2"].value == "Social customer care plus loyalty community"


def test_building_twice_gives_identical_bytes(tmp_path, blank):
    again = tmp_path / "again.xlsx"
    write_template(again)
    assert again.read_bytes() == blank.read_bytes()
    with zipfile.ZipFile(again) as z:
        core = z.read("docProps/core.xml").decode()
    assert "2026-01-01T00:00:00Z" in core


def test_replacing_a_workbook_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"the user's previous file")

    def broken(filename, example):
        Path(filename).write_bytes(b"half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(template, "_build", broken)
    with pytest.raises(OSError, match="disk full"):
        write_template(path)
    assert path.read_bytes() == b"the user's previous file"
    assert [p.name for p in tmp_path.iterdir()] == ["book.xlsx"], "no temporary file left behind"


def test_new_file_gets_ordinary_permissions(tmp_path):
    path = tmp_path / "new.xlsx"
    write_template(path)
    assert path.stat().st_mode & 0o044, "readable by the group/others like any file the user saves"


@pytest.mark.parametrize("name", ["book.xlsm", "book.xls", "book"])
def test_only_xlsx_names_are_written(tmp_path, name):
    with pytest.raises(ValueError, match=r"name it book\.xlsx"):
        write_template(tmp_path / name)
    assert list(tmp_path.iterdir()) == []
