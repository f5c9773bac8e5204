"""Reading real files: the forms Excel stores (percent-formatted numbers, date cells,
the 1904 system, cached formula values, error cells) come through to the loader."""

import shutil
import subprocess
import threading
import time
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from helpers.book import Formula, Pct, as_tables, base_sheets, set_cell, write_book

from scrm_xl.load import load
from scrm_xl.read import ExcelError, read_workbook


def read_and_load(path):
    tables, issues = read_workbook(path)
    assert issues == [], issues
    return tables, *load(tables)


def test_file_loads_exactly_like_the_same_rows_given_by_hand(tmp_path):
    sheets = base_sheets()
    _, from_file, issues = read_and_load(write_book(tmp_path / "b.xlsx", sheets))
    assert issues == []
    assert from_file == load(as_tables(sheets))[0]


def test_excel_forms(tmp_path):
    sheets = base_sheets()
    set_cell(sheets, "Returns", 2, "Gross margin", Pct(0.25))  # typed as 25% in Excel
    set_cell(sheets, "Returns", 4, "Attribution", "50%")
    set_cell(sheets, "Costs", 2, "Amount", Formula("=2*500", 1000))
    set_cell(sheets, "Costs", 3, "Amount", "1,234.50")
    set_cell(sheets, "Costs", 4, "Date", "2026-03-01")
    _, records, issues = read_and_load(write_book(tmp_path / "b.xlsx", sheets))
    assert issues == []
    assert records.returns[0].gross_margin == Decimal("0.25")
    assert records.returns[2].attribution == Decimal("0.5")
    assert [c.amount for c in records.costs] == [Decimal(1000), Decimal("1234.50"), Decimal(200)]
    assert records.costs[2].date == date(2026, 3, 1)


@pytest.mark.parametrize("code", ["#DIV/0!", "#REF!", "#N/A", "#VALUE!"])
def test_error_cells_are_reported_at_their_cell(tmp_path, code):
    sheets = base_sheets()
    set_cell(sheets, "Costs", 3, "Amount", Formula("=1/0", code))
    tables, records, issues = read_and_load(write_book(tmp_path / "b.xlsx", sheets))
    assert tables["Costs"].rows[2][5] == ExcelError(code)
    assert [(i.where, i.message) for i in issues] == [
        ("Costs!F3", f"Amount shows the error {code}; fix the formula")
    ]
    assert len(records.costs) == 2


def test_error_cells_written_by_openpyxl(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"], ws["C7"] = "x", "#N/A"
    wb.save(tmp_path / "o.xlsx")
    tables, issues = read_workbook(tmp_path / "o.xlsx", all_sheets=True)
    assert issues == [] and tables["S"].rows[6][2] == ExcelError("#N/A")


def test_1904_date_system(tmp_path):
    sheets = base_sheets()
    set_cell(sheets, "Costs", 3, "Date", 46037 - 1462)  # a plain number in a date column: a 1904 serial
    tables, records, issues = read_and_load(write_book(tmp_path / "mac.xlsx", sheets, date1904=True))
    assert tables.date1904
    assert issues == []
    assert [c.date for c in records.costs] == [date(2026, 1, 15), date(2026, 1, 15), date(2026, 3, 1)]
    assert records.program.period_start == date(2026, 1, 1)


def test_hidden_sheet_is_flagged(tmp_path):
    tables, records, issues = read_and_load(write_book(tmp_path / "h.xlsx", base_sheets(), hidden=("Goals",)))
    assert tables["Goals"].hidden and not tables["Costs"].hidden
    assert [(str(i.severity), i.where) for i in issues] == [("warning", "Goals")]


def test_xlsm_is_accepted(tmp_path):
    path = write_book(tmp_path / "b.xlsx", base_sheets())
    shutil.copy(path, tmp_path / "b.xlsm")
    _, records, issues = read_and_load(tmp_path / "b.xlsm")
    assert issues == [] and len(records.returns) == 3


def test_sheet_order_and_blank_rows_in_file(tmp_path):
    sheets = base_sheets()
    shuffled = {name: sheets[name] for name in reversed(list(sheets))}
    shuffled["Costs"] = shuffled["Costs"][:2] + [[], [None, None]] + shuffled["Costs"][2:]
    _, records, issues = read_and_load(write_book(tmp_path / "s.xlsx", shuffled))
    base = load(as_tables(sheets))[0]
    assert issues == []
    assert records.goals == base.goals and records.returns == base.returns
    assert [c.amount for c in records.costs] == [c.amount for c in base.costs]


@pytest.mark.libreoffice
def test_workbook_saved_by_libreoffice(tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice not installed")
    sheets = base_sheets()
    set_cell(sheets, "Returns", 2, "Gross margin", Pct(0.5))
    set_cell(sheets, "Costs", 3, "Amount", Formula("=1/0", "#DIV/0!"))
    src = write_book(tmp_path / "src.xlsx", sheets)
    out = tmp_path / "lo"
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    tables, records, issues = read_and_load(out / "src.xlsx")
    assert [(i.where, i.message) for i in issues] == [
        ("Costs!F3", "Amount shows the error #DIV/0!; fix the formula")
    ]
    assert records.returns[0].gross_margin == Decimal("0.5")
    assert records.returns == load(as_tables(base_sheets()))[0].returns


def test_formula_saved_without_its_result_is_not_read_as_blank(tmp_path):
    # openpyxl (like many generators) writes formulas without a cached result
    import openpyxl

    sheets = base_sheets()
    path = write_book(tmp_path / "b.xlsx", sheets)
    wb = openpyxl.load_workbook(path)
    wb["Costs"]["F3"] = "=250*2"
    wb["Costs"]["F4"] = "=SUM(F2:F3)"
    wb.save(path)
    tables, issues = read_workbook(path)
    assert issues == []
    records, issues = load(tables)
    assert [(i.where, i.message) for i in issues] == [
        ("Costs!F3", "Amount is a formula saved without its result; open the workbook in Excel and save it"),
        ("Costs!F4", "Amount is a formula saved without its result; open the workbook in Excel and save it"),
    ]
    assert [str(c.source) for c in records.costs] == ["Costs!A2"]


@pytest.mark.parametrize(
    "rows, cols, ok",
    [
        (1_048_576, 26, True),
        (1_048_576, 32, True),
        (1_048_576, 33, False),
        (1_048_577, 1, False),
        (2, 16_385, False),
        (2_000, 16_384, True),
    ],
)
def test_used_range_limits(rows, cols, ok):
    from scrm_xl.read import Unreadable, _check_extent

    if ok:
        _check_extent("S", rows, cols, "uses cells up to")
    else:
        with pytest.raises(Unreadable, match="delete the unused rows and columns"):
            _check_extent("S", rows, cols, "uses cells up to")


@pytest.mark.slow
def test_a_million_return_rows(tmp_path):
    """Excel's full height on one sheet reads and loads (timings belong to bench/, not here)."""
    import datetime as dt

    import xlsxwriter

    n = 1_048_575 - 3
    path = tmp_path / "million.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in base_sheets().items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if isinstance(v, dt.date):
                    ws.write_datetime(r, c, v, fmt)
                elif v is not None:
                    ws.write(r, c, v)
        if name == "Returns":
            for i in range(n):
                r = len(rows) + i
                ws.write_datetime(r, 0, dt.date(2026, 1, 1) + dt.timedelta(days=i % 365), fmt)
                ws.write_string(r, 1, f"TX{i}")
                ws.write_string(r, 2, "Cost savings")
                ws.write_string(r, 3, "I3")
                ws.write_number(r, 4, 1)
    wb.close()
    tables, issues = read_workbook(path)
    assert issues == []
    records, issues = load(tables)
    assert issues == []
    assert len(records.returns) == 3 + n
    assert sum(r.amount for r in records.returns) == 3000 + 400 + 250 + n


def test_only_input_sheets_are_parsed_but_all_are_listed(tmp_path):
    sheets = base_sheets()
    sheets["Ledger"] = [["big output of an earlier run"], [1], [2]]
    sheets["xlwings.conf"] = [["Interpreter_Win", "C:/x.exe"]]
    path = write_book(tmp_path / "b.xlsx", sheets)
    tables, _ = read_workbook(path)
    assert "Ledger" not in tables and tables.sheet_names[-2:] == ("Ledger", "xlwings.conf")
    assert tables["xlwings.conf"].rows == [["Interpreter_Win", "C:/x.exe"]]
    everything, _ = read_workbook(path, all_sheets=True)
    assert everything["Ledger"].rows[1] == [1.0]


def test_a_far_cell_on_a_sheet_that_is_not_read_does_not_matter(tmp_path):
    import zipfile

    sheets = base_sheets()
    sheets["Notes"] = [["x"]]
    path = write_book(tmp_path / "b.xlsx", sheets)
    out = tmp_path / "c.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "xl/worksheets/sheet8.xml":
                data = data.replace(
                    b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
                )
            zout.writestr(name, data)
    tables, issues = read_workbook(out)
    assert issues == [] and "Notes" not in tables
    _, issues = read_workbook(out, all_sheets=True)
    assert "uses cells up to XFD1048576" in issues[0].message


def test_a_parser_panic_is_an_unreadable_file(tmp_path, monkeypatch):
    import scrm_xl.read as read

    class PanicException(BaseException):  # what pyo3 raises when Rust code panics
        pass

    def panic(self, name):  # on the parsing thread, as a real panic would be
        if name == "Returns":
            raise PanicException("index out of bounds")
        return real_rows(self, name)

    real_rows = read._Parsing._rows
    monkeypatch.setattr(read._Parsing, "_rows", panic)
    tables, issues = read.read_workbook(write_book(tmp_path / "b.xlsx", base_sheets()))
    assert tables is None
    assert [str(i) for i in issues] == ["b.xlsx: the file cannot be read (index out of bounds)"]


def test_calamine_failing_to_open_the_file_is_an_unreadable_file_not_missing_sheets(tmp_path, monkeypatch):
    import scrm_xl.read as read

    def refuse(self):
        raise ValueError("Cannot detect file format")

    monkeypatch.setattr(read._Parsing, "_workbook", refuse)
    tables, issues = read.read_workbook(write_book(tmp_path / "b.xlsx", base_sheets()))
    assert tables is None
    assert [str(i) for i in issues] == [
        "b.xlsx: the file is damaged and cannot be read (Cannot detect file format)"
    ]


def test_a_sheet_refused_by_the_scan_is_never_parsed(tmp_path, monkeypatch):
    # sheets are parsed on a worker thread while later ones are scanned; a refused sheet never
    # reaches calamine, and the read waits for the parses already under way before it returns
    import scrm_xl.read as read

    parsed = []
    real_rows = read._Parsing._rows

    def rows(self, name):
        parsed.append(name)
        return real_rows(self, name)

    monkeypatch.setattr(read._Parsing, "_rows", rows)
    threads = threading.active_count()
    sheets = base_sheets()
    path = write_book(tmp_path / "b.xlsx", sheets)
    part = f"xl/worksheets/sheet{list(sheets).index('Returns') + 1}.xml"
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    out = tmp_path / "c.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            zout.writestr(name, data.replace(b"</sheetData>", far) if name == part else data)
    tables, issues = read.read_workbook(out)
    assert tables is None and "uses cells up to XFD1048576" in issues[0].message
    assert "Returns" not in parsed and parsed  # the sheets before it were parsed, Returns was not
    assert threading.active_count() == threads  # the parsing threads have ended


def test_a_workbook_over_the_byte_budget_parses_one_sheet_at_a_time_and_reads_the_same(tmp_path, monkeypatch):
    import scrm_xl.read as read

    path = write_book(tmp_path / "b.xlsx", base_sheets())
    together, _ = read.read_workbook(path)

    busy, most = [0], [0]
    lock = threading.Lock()
    real_workbook = read._Parsing._workbook

    def counting(self):  # called at the start of every parse
        with lock:
            busy[0] += 1
            most[0] = max(most[0], busy[0])
        time.sleep(0.02)  # long enough for a second parse to start if the budget let it
        with lock:
            busy[0] -= 1
        return real_workbook(self)

    monkeypatch.setattr(read._Parsing, "_workbook", counting)
    monkeypatch.setattr(read._Parsing, "TOGETHER_BYTES", 1)  # every workbook is "big"
    alone, issues = read.read_workbook(path)
    assert issues == [] and most[0] == 1
    assert {n: t.rows for n, t in alone.items()} == {n: t.rows for n, t in together.items()}
    assert list(alone) == list(together) and alone.sheet_names == together.sheet_names
