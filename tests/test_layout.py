"""The plain layout of the output sheets, before any file format."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from scrm_xl.layout import MAX_TEXT, layout
from tests import writer_fixtures as fx


def _sheet(lay, name):
    return next(s for s in lay.sheets if s.name == name)


def _cells(sheet):
    return {c.ref: c for c in sheet.cells}


def test_four_sheets_in_order_with_no_issue_when_engine_and_ledger_agree():
    lay, issues = layout(fx.results())
    assert [s.name for s in lay.sheets] == ["ROI", "KPI", "Ledger", "Checks"]
    assert issues == []


def test_roi_formulas_are_sumifs_over_the_ledger():
    cells = _cells(_sheet(layout(fx.results())[0], "ROI"))
    inv = cells["E23"]  # G1 investment
    assert inv.value == Decimal(1600)
    assert inv.formula == 'SUMIFS(Ledger!$O$5:$O$16,Ledger!$A$5:$A$16,"Cost",Ledger!$E$5:$E$16,"=G1")'
    assert cells["N23"].formula == 'IF(E23=0,"",(I23-E23)/E23)'
    assert cells["M23"].value == Decimal("-0.1875")  # (1300 - 1600) / 1600


def test_ledger_holds_returns_and_costs_pointing_to_their_source():
    ledger = _sheet(layout(fx.results())[0], "Ledger")
    rows = {}
    for c in ledger.cells:
        if c.row >= 5:
            rows.setdefault(c.row, {})[c.col] = c.value
    assert len(rows) == len(fx.LEDGER) + len(fx.COST_LINES) == 12
    first = rows[5]
    assert first[1] == "Return" and first[2] == "Returns!E2" and first[15] == Decimal("800.00")
    split = rows[8]  # the Linear split of T4 keeps its touchpoint
    assert split[17] == "Touchpoints!C2" and split[14] == Decimal("0.5")
    overhead = next(r for r in rows.values() if r[2] == "Costs!F5")
    assert overhead[1] == "Cost" and 5 not in overhead  # no goal: Unallocated
    assert sum(r[15] for r in rows.values() if r[1] == "Cost") == Decimal(2900)


def test_engine_figure_that_differs_from_the_ledger_is_reported_at_its_cell():
    goals = (replace(fx.GOALS[0], figures=replace(fx.G1, investment=Decimal("1700"))), *fx.GOALS[1:])
    _, issues = layout(fx.results(goals=goals))
    assert [str(i) for i in issues][0].startswith("ROI!E23: the engine's figure 1,700.00 differs")


def test_wildcards_and_operators_in_ids_match_literally():
    goal = replace(fx.GOALS[0], id="<G*1?~")
    lines = tuple(x._replace(goal_id="<G*1?~") if x.goal_id == "G1" else x for x in fx.LEDGER)
    costs = tuple(replace(x, goal_id="<G*1?~") if x.goal_id == "G1" else x for x in fx.COST_LINES)
    lay, issues = layout(fx.results(goals=(goal, *fx.GOALS[1:]), ledger=lines, cost_lines=costs))
    assert issues == []
    assert '"=<G~*1~?~~"' in _cells(_sheet(lay, "ROI"))["E23"].formula


def test_quotes_in_ids_cannot_break_out_of_the_formula():
    goal = replace(fx.GOALS[0], id='G"1),HYPERLINK("x')
    lay, _ = layout(fx.results(goals=(goal, *fx.GOALS[1:])))
    assert '"=G""1),HYPERLINK(""x"' in _cells(_sheet(lay, "ROI"))["E23"].formula


def test_overlong_text_is_cut_with_a_warning():
    goal = replace(fx.GOALS[0], name="x" * (MAX_TEXT + 5))
    lay, issues = layout(fx.results(goals=(goal, *fx.GOALS[1:])))
    assert len(_cells(_sheet(lay, "ROI"))["B23"].value) == MAX_TEXT
    assert str(issues[0]) == f"ROI!B23: text cut to Excel's {MAX_TEXT} characters"


def test_presentation_currency_negatives_freeze_and_charts():
    lay, _ = layout(fx.results())
    assert lay.styles["money"].num_format == '#,##0.00 "EUR";[Red]-#,##0.00 "EUR"'
    assert "[Red]" in lay.styles["percent"].num_format
    roi = _sheet(lay, "ROI")
    assert roi.freeze == (5, 3) and roi.merges[0] == "A1:L1"
    line, column = roi.charts
    assert line.kind == "line" and [s.values for s in line.series] == ["ROI!$H$31:$H$33", "ROI!$I$31:$I$33"]
    assert column.kind == "column" and [s.name for s in column.series] == [
        "Conservative",
        "Expected",
        "Optimistic",
    ]
    cells = _cells(roi)
    assert cells["A31"].value == "2026-01" and cells["H33"].value == Decimal(2900)
    assert cells["A27"].style == "total_label"


def test_roi_none_is_an_empty_cached_value_not_a_division_error():
    zero = fx.figures("0", "100", "0", "0", "100", "100")
    goals = (replace(fx.GOALS[0], figures=zero), *fx.GOALS[1:])
    lay, _ = layout(fx.results(goals=goals))
    assert _cells(_sheet(lay, "ROI"))["N23"].value == ""


def test_kpi_and_checks():
    lay, _ = layout(fx.results())
    kpi = _cells(_sheet(lay, "KPI"))
    assert kpi["A6"].value == "G1" and kpi["I6"].value == 0.5 and kpi["J6"].value == "On track"
    assert kpi["I6"].formula.endswith("(H6-E6)/(F6-E6))")
    metric_rows = {kpi[f"B{r}"].value for r in range(10, 15) if f"B{r}" in kpi}
    assert "Engagement rate (derived)" in metric_rows
    checks = _cells(_sheet(lay, "Checks"))
    assert checks["A2"].value.startswith("1 error, 2 warnings, 1 info")
    assert [checks[f"B{r}"].value for r in range(5, 9)] == [
        "Returns!E9",
        "Costs!F5",
        "Metrics!D4",
        "(workbook)",
    ]


@pytest.mark.parametrize(
    ("currency", "fmt"),
    [
        ("usd", '#,##0.00 "USD";[Red]-#,##0.00 "USD"'),
        ('E"R', "#,##0.00;[Red]-#,##0.00"),
        ("", "#,##0.00;[Red]-#,##0.00"),
    ],
)
def test_odd_currency_codes_never_break_the_format(currency, fmt):
    lay, _ = layout(fx.results(program=replace(fx.PROGRAM, currency=currency)))
    assert lay.styles["money"].num_format == fmt


@pytest.mark.parametrize("size", [1, 2, 5, 1000])
def test_ledger_columns_in_chunks_are_its_rows_with_long_texts_cut(size):
    # the writer takes the Ledger column by column; the values must be exactly rows()' values,
    # chunk boundaries anywhere (inside the returns, across the step to the costs), and a text
    # over Excel's limit cut in both
    from scrm_xl.layout import RowBlock

    long_ref = "T" * (MAX_TEXT + 3)
    ledger = (fx.LEDGER[0]._replace(transaction_ref=long_ref), *fx.LEDGER[1:])
    lay, issues = layout(fx.results(ledger=ledger))
    block = _sheet(lay, "Ledger").cells.body
    assert isinstance(block, RowBlock)
    rows = list(block.rows())
    chunks = list(block.columns(size))
    assert all(0 < len(c[0]) <= size for c in chunks) and all(len(c) == 17 for c in chunks)
    from_columns = [row for chunk in chunks for row in zip(*chunk, strict=True)]
    assert from_columns == rows
    assert len(rows) == len(fx.LEDGER) + len(fx.COST_LINES)
    assert rows[0][9] == "T" * MAX_TEXT and rows[0][0] == "Return" and rows[-1][0] == "Cost"
    assert any("text cut" in i.message for i in issues)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 1000])
def test_a_ledger_past_a_sheets_rows_goes_on_in_panels_side_by_side(size, monkeypatch):
    # five lines to a "sheet": the twelve lines (six returns, six costs) make three panels of
    # 17 columns one empty column apart, whatever the chunk size and wherever costs begin
    from scrm_xl import layout as layout_module

    long_ref = "T" * (MAX_TEXT + 3)
    ledger = (*fx.LEDGER[:5], fx.LEDGER[5]._replace(transaction_ref=long_ref))  # line 6: panel 2, row 5
    one_panel = list(_sheet(layout(fx.results(ledger=ledger))[0], "Ledger").cells.body.rows())
    assert len(one_panel) == 12
    monkeypatch.setattr(layout_module, "LEDGER_PANEL_LINES", 5)
    lay, issues = layout(fx.results(ledger=ledger))
    sheet = _sheet(lay, "Ledger")
    chunks = list(sheet.cells.body.columns(size))
    assert [len(c[0]) for c in chunks][:-1] == [size] * (len(chunks) - 1)
    grid = [row for chunk in chunks for row in zip(*chunk, strict=True)]
    expected = [[None] * 53 for _ in range(5)]  # 3 x 17 columns and 2 empty ones
    for n, line in enumerate(one_panel):
        expected[n % 5][18 * (n // 5) : 18 * (n // 5) + 17] = line
    assert [list(row) for row in grid] == expected
    assert sheet.extent == (9, 53)
    assert [i.where for i in issues if "text cut" in i.message] == ["Ledger!AB5"]  # J of panel 2
    headers = {c.col: c.value for c in sheet.cells if c.row == 4}
    assert headers[1] == headers[19] == headers[37] == "Kind" and 18 not in headers and 36 not in headers


@pytest.mark.parametrize("cap", [1, 6, 7, 11, 12, 13])
@pytest.mark.parametrize("size", [1, 4, 1000])
def test_panels_at_their_edges(cap, size, monkeypatch):
    # a panel of one line; the step from returns to costs falling on a panel's edge (6) or
    # inside it (7); a last panel of one line (11); exactly one full panel (12) and room to
    # spare (13): every line lands at row 5 + n % cap, column 18 * (n // cap) + 1 onwards
    from scrm_xl import layout as layout_module

    one_panel = list(_sheet(layout(fx.results())[0], "Ledger").cells.body.rows())
    monkeypatch.setattr(layout_module, "LEDGER_PANEL_LINES", cap)
    sheet = _sheet(layout(fx.results())[0], "Ledger")
    panels = -(-12 // cap)
    grid = [row for chunk in sheet.cells.body.columns(size) for row in zip(*chunk, strict=True)]
    width = 18 * panels - 1
    expected = [[None] * width for _ in range(min(cap, 12))]
    for n, line in enumerate(one_panel):
        expected[n % cap][18 * (n // cap) : 18 * (n // cap) + 17] = line
    assert [list(row) for row in grid] == expected
    assert sheet.extent == (4 + min(cap, 12), width)
    roi = _sheet(layout(fx.results())[0], "ROI")
    sums = [c.formula for c in roi.cells if c.formula and "SUMIFS" in c.formula]
    assert sums and all(f.count("SUMIFS(") == panels for f in sums)


def test_checks_past_a_sheets_rows_lists_what_fits_and_counts_the_rest(monkeypatch):
    # a "sheet" of 8 rows holds 4 under the headings: three problems and a line for the rest
    from scrm_xl import layout as layout_module
    from scrm_xl.model import CellRef, error, info, warning

    made = [error(CellRef("Costs", r, 5), f"bad amount {r}") for r in (2, 3, 4)]
    made += [warning(CellRef("Returns", r, 1), f"dated late {r}") for r in (2, 3, 4)]
    made += [info("Metrics", "unknown metric"), info("Metrics", "another")]
    monkeypatch.setattr(layout_module, "EXCEL_ROWS", 8)
    checks = _sheet(layout(fx.results(issues=tuple(made)))[0], "Checks")
    rows = {}
    for c in checks.cells:
        rows.setdefault(c.row, {})[c.col] = c.value
    assert max(rows) == 8
    assert [rows[r][2] for r in (5, 6, 7)] == ["Costs!E2", "Costs!E3", "Costs!E4"]
    assert rows[8] == {
        1: "warning",  # the worst of what is left
        2: "(workbook)",
        3: "... and 5 more (3 warning, 2 info) that a sheet's 8 rows cannot hold; "
        "scrm-xl check --json lists every one.",
    }
    assert rows[2][1].startswith("3 errors, 3 warnings, 2 info.")  # the summary counts them all


@pytest.mark.parametrize("count, listed", [(4, 4), (5, 3)])
def test_checks_that_just_fit_are_all_listed(count, listed, monkeypatch):
    from scrm_xl import layout as layout_module
    from scrm_xl.model import CellRef, error

    made = tuple(error(CellRef("Costs", r, 5), f"bad amount {r}") for r in range(2, 2 + count))
    monkeypatch.setattr(layout_module, "EXCEL_ROWS", 8)
    checks = _sheet(layout(fx.results(issues=made))[0], "Checks")
    messages = [c.value for c in checks.cells if c.col == 3 and c.row >= 5]
    assert messages[:listed] == [i.message for i in made[:listed]]
    assert len(messages) == min(count, 4)
    rest = f"... and {count - listed} more ({count - listed} error) that a sheet's 8 rows cannot hold"
    assert messages[-1].startswith(rest) == (count > 4)
