"""The surgical writer against reference workbooks (tests/data/README.md)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import threading
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from openpyxl.utils.escape import unescape

from scrm_xl import write as writer
from scrm_xl.layout import layout
from scrm_xl.write import NotAWorkbook, SheetNotOurs, WorkbookLocked, escape_text, write_results
from tests import partdiff
from tests.writer_fixtures import CONTROL_GOAL, HOSTILE_GOAL, results

DATA = Path(__file__).parent / "data"
REFERENCES = ("features.xlsm", "features.xlsx", "features_lo.xlsx", "pivot_lo.xlsx")
EDITABLE = {
    "[Content_Types].xml",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "xl/styles.xml",
    "docProps/app.xml",
}
OURS = {"ROI", "KPI", "Ledger", "Checks"}


@pytest.fixture
def book(tmp_path, request) -> Path:
    name = getattr(request, "param", "features.xlsm")
    path = tmp_path / name
    shutil.copy(DATA / name, path)
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("book", REFERENCES, indirect=True)
def test_parts_not_ours_stay_byte_identical(book, tmp_path):
    out = tmp_path / "out" / book.name
    out.parent.mkdir()
    write_results(book, results(), out_path=out)
    d = partdiff.diff_parts(book, out)
    assert d["changed"] <= EDITABLE
    assert d["restored"] == set()  # untouched parts are copied raw, not recompressed
    assert d["removed"] <= {"xl/calcChain.xml"}
    assert all("scrm_xl_" in n for n in d["added"])
    assert {n.rsplit("/", 1)[-1] for n in d["added"]} >= {
        "scrm_xl_roi.xml",
        "scrm_xl_kpi.xml",
        "scrm_xl_ledger.xml",
        "scrm_xl_checks.xml",
    }
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        assert "xl/calcChain.xml" not in z.read("[Content_Types].xml").decode()


@pytest.mark.parametrize("book", ["pivot_lo.xlsx"], indirect=True)
def test_pivot_table_survives(book):
    before = partdiff.sheet_values(book, "Pivot")
    # the pivot table as LibreOffice rendered it: first row label and grand total
    assert before["D8"] == 8700 and before["A5"] == "Forum"
    write_results(book, results())
    with zipfile.ZipFile(book) as z:
        wb = etree.fromstring(z.read("xl/workbook.xml"))
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        names = set(z.namelist())
    cache = wb.find(f"{{{writer.MAIN}}}pivotCaches/{{{writer.MAIN}}}pivotCache")
    rid = cache.get(f"{{{writer.REL_NS}}}id")
    assert f'Id="{rid}"' in rels and "pivotCacheDefinition1.xml" in rels
    assert {"xl/pivotTables/pivotTable1.xml", "xl/pivotCache/pivotCacheRecords1.xml"} <= names
    assert [etree.QName(c).localname for c in wb].index("pivotCaches") > [
        etree.QName(c).localname for c in wb
    ].index("calcPr")
    assert partdiff.sheet_values(book, "Pivot") == before


def test_vba_and_features_survive(book, tmp_path):
    write_results(book, results())
    with zipfile.ZipFile(book) as z:
        names = set(z.namelist())
        ct = z.read("[Content_Types].xml").decode()
        wb = z.read("xl/workbook.xml").decode()
    assert "xl/vbaProject.bin" in names and "macroEnabled.main+xml" in ct
    assert {
        "xl/comments1.xml",
        "xl/drawings/vmlDrawing1.vml",
        "customXml/item1.xml",
        "xl/externalLinks/externalLink1.xml",
    } <= names
    assert 'fullCalcOnLoad="1"' in wb and "<externalReference" in wb
    loaded = openpyxl.load_workbook(book)
    assert loaded.sheetnames == ["Data", "Program", "ROI", "KPI", "Ledger", "Checks"]
    assert "Amounts" in loaded.defined_names
    data = loaded["Data"]
    assert data.conditional_formatting and data.data_validations.dataValidation
    assert data["B8"].value == "=SUM(B2:B7)"


def test_styles_are_only_appended(book, tmp_path):
    def children(path):
        with zipfile.ZipFile(path) as z:
            root = etree.fromstring(z.read("xl/styles.xml"))
        return {etree.QName(c).localname: [etree.tostring(x) for x in c] for c in root}

    before = children(book)
    write_results(book, results())
    after = children(book)
    for section, items in before.items():
        assert after[section][: len(items)] == items, section


def test_an_equal_style_is_reused_the_first_of_equals_and_a_new_one_appended_once():
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    fonts = etree.fromstring(
        f'<fonts xmlns="{main}" count="4"><font><sz val="11"/></font><font><b/><sz val="11"/></font>'
        '<!-- a comment is not an entry --><font><sz val="11"/></font><font><i/><sz val="9"/></font></fonts>'
    )

    def font(*children: str) -> etree._Element:
        return etree.fromstring(f'<font xmlns="{main}">{"".join(children)}</font>')

    pool = writer._Pool(fonts)
    assert pool.add(font('<sz val="11"/>')) == 0  # entries 0 and 2 are equal: the first one
    assert pool.add(font("<i/>", '<sz val="9"/>')) == 3
    assert fonts.get("count") == "4" and len(fonts.findall(f"{{{main}}}font")) == 4
    assert pool.add(font("<b/>", "<i/>", '<sz val="11"/>')) == 4  # new: appended after the four
    assert pool.add(font("<b/>", "<i/>", '<sz val="11"/>')) == 4  # and found again, not appended twice
    assert fonts.get("count") == "5" and len(fonts.findall(f"{{{main}}}font")) == 5
    assert pool.add(font('<sz val="11"/>', "<b/>")) == 5  # the order of children matters, as in Excel


@pytest.mark.parametrize("book", REFERENCES, indirect=True)
def test_running_twice_equals_running_once(book, tmp_path):
    once = tmp_path / "once.xlsx"
    write_results(book, results(), out_path=once)
    write_results(once, results())  # in place this time
    twice = tmp_path / "twice.xlsx"
    write_results(once, results(), out_path=twice)
    assert once.read_bytes() == twice.read_bytes()


def test_namespaces_and_ignorable_kept(book):
    with zipfile.ZipFile(DATA / "features_lo.xlsx") as z:
        before = etree.fromstring(z.read("xl/workbook.xml"))
    shutil.copy(DATA / "features_lo.xlsx", book)
    write_results(book, results())
    with zipfile.ZipFile(book) as z:
        after = etree.fromstring(z.read("xl/workbook.xml"))
    assert before.nsmap.items() <= after.nsmap.items()
    assert dict(before.attrib) == dict(after.attrib)


def _expected(cell):
    """What a reader should give back for a layout cell."""
    v = cell.value
    if isinstance(v, date):
        return v
    if isinstance(v, (Decimal, int, float)):
        return float(v)
    return v


def test_cells_read_back_with_openpyxl_and_calamine(book):
    write_results(book, results())
    lay, _ = layout(results())
    values = openpyxl.load_workbook(book, data_only=True)
    formulas = openpyxl.load_workbook(book)
    for sheet in lay.sheets:
        calamine = partdiff.sheet_values(book, sheet.name)
        for c in sheet.cells:
            want = _expected(c)
            got_cal = calamine.get(c.ref)
            got_opx = values[sheet.name][c.ref].value
            if isinstance(got_opx, str):
                got_opx = unescape(got_opx)  # openpyxl does not decode _xHHHH_ in inline strings; Excel does
            if want in (None, ""):
                assert got_cal in (None, "") and got_opx in (None, ""), c.ref
            elif isinstance(want, float):
                assert got_cal == pytest.approx(want, abs=1e-9), (sheet.name, c.ref)
                assert float(got_opx) == pytest.approx(want, abs=1e-9), (sheet.name, c.ref)
            elif isinstance(want, date):
                assert got_opx.date() == want, (sheet.name, c.ref)
                assert (got_cal.date() if hasattr(got_cal, "hour") else got_cal) == want, (sheet.name, c.ref)
            else:
                assert got_cal == want, (sheet.name, c.ref)
                assert got_opx == want, (sheet.name, c.ref)
            if c.formula:
                assert formulas[sheet.name][c.ref].value == "=" + c.formula


def test_figures_written_are_the_hand_computed_ones(book):
    write_results(book, results())
    roi = partdiff.sheet_values(book, "ROI")
    assert [roi[f"{col}23"] for col in "EFGHIJKL"] == [1600, 1300, 250, 0, 1550, 1300, 1550, -50]
    assert roi["A27"] == "Total" and roi["E27"] == 2900 and roi["I27"] == 2200
    assert roi["E26"] == 200  # Unallocated
    assert roi["N27"] == pytest.approx(-700 / 2900)


def test_user_text_is_text_never_a_formula(book):
    write_results(book, results())
    ws = openpyxl.load_workbook(book)["ROI"]
    assert ws["B24"].value == HOSTILE_GOAL and ws["B24"].data_type == "s"
    with zipfile.ZipFile(book) as z:
        roi_xml = z.read("xl/worksheets/scrm_xl_roi.xml").decode()
    assert "<f>HYPERLINK" not in roi_xml and "<f>=" not in roi_xml
    assert partdiff.sheet_values(book, "ROI")["B25"] == CONTROL_GOAL
    checks = partdiff.sheet_values(book, "Checks")
    assert checks["C8"] == "=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("text", "xml"),
    [
        ("plain", "plain"),
        ("a\x01b", "a_x0001_b"),
        ("cr\r\nlf", "cr_x000D_\nlf"),
        ("_x0041_", "_x005F_x0041_"),
        ("_x00zz_", "_x00zz_"),
        ("<&>", "&lt;&amp;&gt;"),
        ("\ufffe", "_xFFFE_"),
        ("tab\tok", "tab\tok"),
    ],
)
def test_escape_text(text, xml):
    assert escape_text(text) == xml


def test_refuses_a_users_own_sheet(tmp_path):
    path = tmp_path / "mine.xlsx"
    wb = xlsxwriter.Workbook(path)
    wb.add_worksheet("Data").write("A1", 1)
    wb.add_worksheet("roi").write("A1", "my own analysis")
    wb.close()
    before = _sha(path)
    with pytest.raises(SheetNotOurs, match="own sheet named 'roi'"):
        write_results(path, results())
    assert _sha(path) == before


def test_refuses_when_excel_holds_the_file(book):
    (book.parent / ("~$" + book.name)).write_bytes(b"owner")
    before = _sha(book)
    with pytest.raises(WorkbookLocked, match="open in Excel"):
        write_results(book, results())
    assert _sha(book) == before


def test_not_a_workbook(tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_text("not a zip")
    with pytest.raises(NotAWorkbook, match="not an Excel workbook"):
        write_results(path, results())


def test_out_path_leaves_input_untouched(book, tmp_path):
    before = _sha(book)
    out = tmp_path / "copy.xlsm"
    write_results(book, results(), out_path=out)
    assert _sha(book) == before and out.exists()


def test_failure_mid_write_keeps_the_original(book, monkeypatch):
    before = _sha(book)
    real_save = writer._Package.save

    def failing_save(self, fh, new_parts):
        real_save(self, fh, new_parts[:1])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer._Package, "save", failing_save)
    with pytest.raises(OSError, match="No space"):
        write_results(book, results())
    assert _sha(book) == before
    assert sorted(os.listdir(book.parent)) == [book.name]


def test_mark_survives_and_user_sheets_keep_local_names(book):
    write_results(book, results())
    with zipfile.ZipFile(book) as z:
        wb = etree.fromstring(z.read("xl/workbook.xml"))
    ns = {"m": writer.MAIN}
    marks = [
        int(d.get("localSheetId"))
        for d in wb.iterfind("m:definedNames/m:definedName", ns)
        if d.get("name") == writer.MARK_NAME
    ]
    names = [s.get("name") for s in wb.iterfind("m:sheets/m:sheet", ns)]
    assert sorted(names[i] for i in marks) == sorted(OURS)
    local = [d for d in wb.iterfind("m:definedNames/m:definedName", ns) if d.get("name") == "LocalName"]
    assert names[int(local[0].get("localSheetId"))] == "Data"


# --- LibreOffice recalculation -------------------------------------------------------


@pytest.mark.libreoffice
def test_libreoffice_recalculation_reproduces_every_cached_value(book, tmp_path):
    from dataclasses import replace

    from tests import writer_fixtures as fx

    good = tmp_path / "good.xlsx"
    write_results(book, results(), out_path=good)
    # a throwaway file whose cached investment is wrong: proves LibreOffice really recalculates
    wrong_goals = (replace(fx.GOALS[0], figures=replace(fx.G1, investment=Decimal(9999))), *fx.GOALS[1:])
    wrong = tmp_path / "wrong.xlsx"
    issues = write_results(book, results(goals=wrong_goals), out_path=wrong)
    assert [i.where for i in issues] == ["ROI!E23", "ROI!E26"]
    out = partdiff.recalculate([good, wrong], tmp_path)

    recalculated = openpyxl.load_workbook(out / "wrong.xlsx", data_only=True)["ROI"]["E23"].value
    assert recalculated == 1600  # not the 9999 we cached

    count, differences = partdiff.recalculation_differences(good, out / "good.xlsx", OURS)
    assert count > 100
    assert differences == []


@pytest.mark.libreoffice
def test_a_ledger_longer_than_a_sheet_goes_on_in_panels_that_excel_formulas_sum(book, tmp_path, monkeypatch):
    # a "sheet" of 5 lines stands in for Excel's 1,048,572 under the headings: the 12 lines
    # (6 returns, 6 costs) fill panels at A, S and AK, and every ROI formula sums all three
    from scrm_xl import layout as layout_module
    from scrm_xl.model import column_letter

    res = results()
    monkeypatch.setattr(layout_module, "LEDGER_PANEL_LINES", 5)
    out = tmp_path / "panels.xlsx"
    assert write_results(book, res, out_path=out) == []  # the formulas' own sums agree with the engine
    got = partdiff.sheet_values(out, "Ledger")
    lines = [(str(x.source), x.counted, x.transaction_ref) for x in res.ledger]
    lines += [(str(c.source), c.amount, None) for c in res.cost_lines]
    assert len(lines) == 12
    for n, (source, counted, ref) in enumerate(lines):
        row, first = 5 + n % 5, 1 + 18 * (n // 5)  # 17 columns and an empty one per panel
        assert got[f"{column_letter(first + 1)}{row}"] == source, n
        assert got[f"{column_letter(first + 14)}{row}"] == pytest.approx(float(counted)), n
        assert got.get(f"{column_letter(first + 9)}{row}") == ref, n
    assert {got[f"{c}4"] for c in ("A", "S", "AK")} == {"Kind"}
    assert not any(k.startswith(("R", "AJ")) and k[2:].isdigit() for k in got)  # the gaps stay empty
    assert not [k for k in got if k[-1] in "0123456789" and int("".join(filter(str.isdigit, k))) > 9]
    assert "line 6 onwards from column S" in got["A3"]
    formula = openpyxl.load_workbook(out)["ROI"]["E23"].value
    assert formula.count("SUMIFS(") == 3 and "Ledger!$AY$5:$AY$6" in formula  # Counted (AK + 14) of panel 3
    out_dir = partdiff.recalculate([out], tmp_path)
    count, differences = partdiff.recalculation_differences(out, out_dir / "panels.xlsx", OURS)
    assert count > 100
    assert differences == []


# --- streaming: the sheet XML goes into the zip in chunks -----------------------------------


def _save_to(fh, lay) -> None:
    pkg = writer._Package((DATA / "features.xlsx").read_bytes(), "features.xlsx")
    pkg.save(fh, writer._edit(pkg, lay))


class _Pipe(io.BytesIO):
    def seekable(self) -> bool:  # a pipe or socket: the header cannot be patched afterwards
        return False


def test_chunk_size_and_unseekable_output_do_not_change_a_byte(monkeypatch):
    lay, _ = layout(results())
    whole = io.BytesIO()
    _save_to(whole, lay)
    piped = _Pipe()
    _save_to(piped, lay)
    monkeypatch.setattr(writer, "CHUNK_CELLS", 3)  # every few cells a chunk
    monkeypatch.setattr(writer, "BLOCK_ROWS", 1)  # and every Ledger row
    chunked = io.BytesIO()
    _save_to(chunked, lay)
    ledger = next(s for s in lay.sheets if s.name == "Ledger")
    assert len(list(writer._sheet_xml(ledger, {k: 0 for k in lay.styles}, None))) > 10
    assert whole.getvalue() == piped.getvalue() == chunked.getvalue()
    with zipfile.ZipFile(whole) as z:
        assert z.testzip() is None


XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def _placed_cells(root):
    """(reference, element) for each <c> under ``root``, placed as ECMA-376 says: a cell's
    own ``r`` if it has one, else the column after the row's previous cell (A when first)."""
    for row in root.iter(f"{{{writer.MAIN}}}row"):
        col = 0
        for c in row.iter(f"{{{writer.MAIN}}}c"):
            ref = c.get("r")
            if ref is None:
                col += 1
                yield f"{writer.column_letter(col)}{row.get('r')}", c
            else:
                letters = ref.rstrip("0123456789")
                assert ref[len(letters) :] == row.get("r")
                col = openpyxl.utils.column_index_from_string(letters)
                yield ref, c


def test_ledger_rows_rendered_from_the_row_block_equal_the_cell_by_cell_rendering():
    # the fast path (per-column prefixes, caches) against _cell_xml on the same cells, with
    # hostile and repeated texts, an empty string, spaces to preserve and a non-Decimal number

    from scrm_xl.layout import RowBlock

    rows = [
        ("Return", "Returns!A2", date(2026, 1, 5), "2026-01", HOSTILE_GOAL, " I1 ", "", Decimal("1234.50")),
        ("Return", "Returns!A3", date(2026, 1, 5), "2026-01", HOSTILE_GOAL, "a_x0041_<b>&", None, 2.5),
        ("Cost", "Costs!A2", date(2026, 2, 1), "2026-02", CONTROL_GOAL, "I1", "x\ny", Decimal("-0.00")),
    ]
    styles = ("text", "text", "date", "text", "text", "text", "text", "money")
    block = RowBlock(5, styles, lambda: iter(rows))
    lay, _ = layout(results())
    ids = {name: n for n, name in enumerate(lay.styles)}
    fast = b"".join(writer._block_xml(block, ids, {})).decode()
    slow = "".join(
        f'<row r="{r}">' + "".join(writer._cell_xml(c, ids[c.style]) for c in block if c.row == r) + "</row>"
        for r in (5, 6, 7)
    )

    def cells(xml):
        root = etree.fromstring(f'<sheetData xmlns="{writer.MAIN}">{xml}</sheetData>')
        out = {}
        for ref, c in _placed_cells(root):
            v = c.findtext(f"{{{writer.MAIN}}}v")
            t = "".join(c.itertext()) if c.get("t") == "inlineStr" else None
            t = (t, [e.get(XML_SPACE) for e in c.iter(f"{{{writer.MAIN}}}t")])  # spaces kept
            out[ref] = (c.get("s"), c.get("t"), t, None if v is None else float(v))
        return out

    assert cells(fast) == cells(slow)
    assert len(cells(fast)) == 23  # the one None is no cell


class _FullDisk(io.BytesIO):
    """Takes ``room`` bytes, then fails like a full disk."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room

    def write(self, data) -> int:
        if self.tell() + len(data) > self.room:
            raise OSError(28, "No space left on device")
        return super().write(data)


def _xml_chunks(n: int, made: list[int]):
    for k in range(n):
        made.append(k)
        yield (f"<row r='{k}'>" + "x" * 50_000 + "</row>").encode()


def test_a_full_disk_during_the_deflate_thread_stops_the_producer_and_raises():
    made: list[int] = []
    before = threading.active_count()
    with pytest.raises(OSError, match="No space"):
        writer._deflate_stream(_FullDisk(200), "xl/worksheets/sheet9.xml", _xml_chunks(1_000, made))
    assert threading.active_count() == before  # the deflate thread has ended
    assert len(made) < 1_000  # the XML stopped being made soon after the disk filled


def test_an_error_making_the_xml_ends_the_deflate_thread_and_is_raised():
    def broken():
        yield b"<sheetData>"
        raise ValueError("a ledger line the writer cannot format")

    before = threading.active_count()
    with pytest.raises(ValueError, match="cannot format"):
        writer._deflate_stream(io.BytesIO(), "xl/worksheets/sheet9.xml", broken())
    assert threading.active_count() == before


def test_the_streamed_entry_is_the_joined_data_deflated_in_one_go():
    made: list[int] = []
    streamed = io.BytesIO()
    size, central = writer._deflate_stream(streamed, "xl/worksheets/sheet9.xml", _xml_chunks(40, made))
    whole, central_whole = writer._deflated("xl/worksheets/sheet9.xml", b"".join(_xml_chunks(40, [])), None)
    assert size == len(whole) and streamed.getvalue() == whole and central == central_whole


_texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["New revenue", " I1 ", "a_x0041_<b>&", "x\ny", "\t", "Returns!A2", "", "R&D", "Q>3", "\xa0x"]
    ),
)
_values = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(
        ["New revenue", " I1 ", "a_x0041_<b>&", "x\ny", "\t", "Returns!A2", "", "R&D", "Q>3", "\xa0x"]
    ),
    st.decimals(places=2, allow_nan=False, allow_infinity=False, min_value=-(10**9), max_value=10**9),
    st.sampled_from([Decimal("NaN"), Decimal("Infinity"), Decimal("-0.00"), Decimal("1E+3")]),
    st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 1, 1)),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(
    columns=st.lists(st.sampled_from([None, str, Decimal, date]), min_size=1, max_size=6),
    rows=st.lists(st.lists(_values, max_size=7), max_size=12),
    data=st.data(),
)
def test_the_column_by_column_rendering_equals_the_cell_by_cell_one(columns, rows, data):
    # most columns keep to one type, as a Ledger's do, so the per-type comprehensions run;
    # mixed, ragged and hostile rows go through the cell-by-cell path; both must read the same
    from scrm_xl.layout import RowBlock

    width = len(columns)
    money = st.decimals(places=2, allow_nan=False, allow_infinity=False, min_value=-(10**6), max_value=10**6)
    typed = {str: _texts, Decimal: money, date: st.dates()}
    for kind in columns:
        if kind is not None:
            rows = rows + [[None] * width]  # a row to fill with the column's type
    rows = [row[:width] for row in rows]
    for k, kind in enumerate(columns):
        if kind is not None:
            for row in rows:
                if len(row) > k:
                    row[k] = data.draw(st.one_of(st.none(), typed[kind]))
    styles = tuple(data.draw(st.sampled_from(["text", "money", "date", "pct"])) for _ in range(width))
    block = RowBlock(4, styles, lambda: iter([tuple(r) for r in rows]))
    ids = {"text": 1, "money": 2, "date": 3, "pct": 4}
    heights = data.draw(st.dictionaries(st.integers(1, 20), st.sampled_from([15.0, 30.5]), max_size=4))
    fast = b"".join(writer._block_xml(block, ids, heights)).decode()
    slow = "".join(
        writer._row_open(str(4 + n), heights)
        + "".join(writer._cell_xml(c, ids[c.style]) for c in block if c.row == 4 + n)
        + "</row>"
        for n in range(len(rows))
    )

    def cells(xml):
        root = etree.fromstring(f'<sheetData xmlns="{writer.MAIN}">{xml}</sheetData>')
        out = []
        for ref, c in _placed_cells(root):
            v = c.findtext(f"{{{writer.MAIN}}}v")
            t = "".join(c.itertext()) if c.get("t") == "inlineStr" else None
            t = (t, [e.get(XML_SPACE) for e in c.iter(f"{{{writer.MAIN}}}t")])  # spaces kept
            out.append((ref, c.get("s"), c.get("t"), t, None if v is None else float(v)))
        rows = [(r.get("r"), r.get("ht")) for r in root.iter(f"{{{writer.MAIN}}}row")]
        return out, rows

    assert cells(fast) == cells(slow)


@pytest.mark.parametrize(
    "texts",
    [
        ["T-1", "T-2", " T-3", "T-4"],  # a leading space to keep
        ["T-1", "T-2", "T-3 ", "T-4"],  # a trailing one
        ["T-1", "", "T-3", "T-4"],  # an empty text
        ["T_", "x1", "T-3", "T-4"],  # "_" then "x" across two texts: no escape in either
        ["T-1", "T_x0041_", "T-3", "T-4"],  # an "_x" escape to keep literal
        ["T-1", "R&D", "T-3", "a<b"],
        ["T-1", "T\u00a0", "T-3", "T-4"],  # a non-breaking space, not printable
    ],
)
def test_a_column_of_distinct_texts_checked_at_once_reads_as_cell_by_cell(texts):
    # transaction refs and source cells are checked for the whole column at once; one text
    # with something to keep or escape must send the column the careful way
    from scrm_xl.layout import RowBlock

    block = RowBlock(4, ("text", "text"), lambda: iter([(t, t) for t in texts]))
    ids = {"text": 1}
    fast = b"".join(writer._block_xml(block, ids, {})).decode()
    slow = "".join(
        f'<row r="{4 + n}">' + "".join(writer._cell_xml(c, 1) for c in block if c.row == 4 + n) + "</row>"
        for n in range(len(texts))
    )
    root = etree.fromstring(f'<sheetData xmlns="{writer.MAIN}">{fast}</sheetData>')
    want = etree.fromstring(f'<sheetData xmlns="{writer.MAIN}">{slow}</sheetData>')

    def read(root):
        return [
            (
                ref,
                c.get("s"),
                "".join(c.itertext()),
                [t.get(XML_SPACE) for t in c.iter(f"{{{writer.MAIN}}}t")],
            )
            for ref, c in _placed_cells(root)
        ]

    assert read(root) == read(want)
    assert [unescape(text) for _, _, text, _ in read(root)][::2] == texts  # as Excel reads them
