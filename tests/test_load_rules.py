# ruff: noqa: E501  (rule tables read best one case per line)
"""One case per contract rule: each mutates a valid programme and expects the issue
(severity, place, words) the rule must raise, and what must happen to the records.
Removing the rule makes its case fail."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from helpers.book import add_row, as_tables, base_sheets, set_cell, setting

from scrm_xl.load import load
from scrm_xl.read import ExcelError, Table, Tables


def run(mutate, hidden=()):
    sheets = base_sheets()
    mutate(sheets)
    return load(as_tables(sheets, hidden=hidden))


def drop_setting(name):
    def m(s):
        s["Program"] = [r for r in s["Program"] if r[0] != name]

    return m


def cell(sheet, row, name, value):
    return lambda s: set_cell(s, sheet, row, name, value)


def row(sheet, **values):
    return lambda s: add_row(s, sheet, **values)


def both(*ms):
    def m(s):
        for f in ms:
            f(s)

    return m


def ids(xs):
    return sorted(x.id for x in xs)


def sources(xs):
    return sorted(str(x.source) for x in xs)


D = date(2026, 5, 5)

# (id, mutation, [(severity, where, words in message)], check on records or None)
RULES = [
    # --- Program
    ("program name required", drop_setting("Program name"),
     [("error", "Program", "Program name is required")], lambda r: r is None),
    ("currency must be ISO 4217", lambda s: setting(s, "Currency", "EURO"),
     [("error", "Program!B3", "not an ISO 4217 code")], lambda r: r is None),
    ("period end before start", lambda s: setting(s, "Period end", date(2025, 12, 31)),
     [("error", "Program!B5", "before Period start")], lambda r: r is None),
    ("period start not a date", lambda s: setting(s, "Period start", "1st of January"),
     [("error", "Program!B4", "is not a date")], lambda r: r is None),
    ("as of before period start", lambda s: setting(s, "As of", date(2025, 6, 1)),
     [("error", "Program!B8", "before Period start")], lambda r: r is None),
    ("as of after period end is capped", lambda s: setting(s, "As of", date(2027, 3, 1)),
     [("warning", "Program!B8", "after Period end")],
     lambda r: r.program.as_of == date(2026, 12, 31) and r.program.as_of_given),
    ("setting given twice with different values", lambda s: s["Program"].append(["currency", "USD"]),
     [("error", "Program!B3", "Currency is set more than once with different values (Program!B3, Program!B8)"),
      ("error", "Program!B8", "Currency is set more than once")], lambda r: r is None),
    ("setting given twice alike is fine", lambda s: s["Program"].append(["currency", "EUR"]), [],
     lambda r: r.program.currency == "EUR"),
    ("unknown setting is a note", lambda s: s["Program"].append(["Colour", "blue"]),
     [("info", "Program!A8", "unknown setting 'Colour'")], lambda r: r is not None),
    ("attribution model enumeration", lambda s: setting(s, "Attribution model", "Random"),
     [("error", "Program!B6", "is not one of Last touch, First touch")], None),
    ("discount rate given as 8 means 8%?", lambda s: setting(s, "Discount rate", 8),
     [("error", "Program!B8", "did you mean 8%?")], None),
    ("lookback must be whole days", lambda s: setting(s, "Lookback window", 30.5),
     [("error", "Program!B8", "not a whole number")], None),
    ("distribution addresses", lambda s: setting(s, "Distribution", "cfo@example.com; nobody"),
     [("error", "Program!B8", "'nobody' is not an e-mail address")], None),
    ("locale shape", lambda s: setting(s, "Locale", "German"),
     [("error", "Program!B8", "not like en_US")], None),
    # --- Goals
    ("goal id unique (case-insensitive)", lambda s: s["Goals"].append(["g1", "Again", None, "NPS", 1, 2, D]),
     [("error", "Goals!A2", "defined more than once"), ("error", "Goals!A4", "defined more than once"),
      ("error", "Initiatives!C2", "goal G1 is defined more than once")],
     lambda r: ids(r.goals) == ["G2"] and ids(r.initiatives) == ["I2", "I3"]),
    ("goal name required", cell("Goals", 2, "Goal", None),
     [("error", "Goals!B2", "Goal is required")], lambda r: ids(r.goals) == ["G2"]),
    ("objective enumeration", cell("Goals", 2, "Objective", "Happiness"),
     [("error", "Goals!C2", 'objective "Happiness" is not one of Trust')], lambda r: ids(r.goals) == ["G2"]),
    ("goal not measurable", cell("Goals", 3, "Target date", None),
     [("warning", "Goals!A3", "goal G2 is not measurable: it has no Target date")],
     lambda r: [g.measurable for g in r.goals] == [True, False]),
    ("direction enumeration", cell("Goals", 2, "Direction", "Sideways"),
     [("error", "Goals!H2", "is not one of Increase, Decrease")], None),
    # --- Initiatives
    ("initiative goal required", cell("Initiatives", 2, "Goal ID", None),
     [("error", "Initiatives!C2", "Goal ID is required")], lambda r: ids(r.initiatives) == ["I2", "I3"]),
    ("initiative goal must exist", cell("Initiatives", 2, "Goal ID", "G9"),
     [("error", "Initiatives!C2", "goal G9 does not exist on Goals")],
     lambda r: ids(r.initiatives) == ["I2", "I3"]),
    ("initiative id unique", lambda s: s["Initiatives"].append(["I3", "Dup", "G1"]),
     [("error", "Initiatives!A4", "defined more than once"), ("error", "Initiatives!A5", "more than once"),
      ("error", "Returns!D4", "initiative I3 is defined more than once")],
     lambda r: ids(r.initiatives) == ["I1", "I2"] and len(r.returns) == 2),
    ("initiative ends before it starts", cell("Initiatives", 2, "End", date(2025, 1, 1)),
     [("warning", "Initiatives!F2", "ends (2025-01-01) before it starts")], lambda r: len(r.initiatives) == 3),
    # --- Costs
    ("cost initiative must exist", cell("Costs", 2, "Initiative ID", "I9"),
     [("error", "Costs!B2", "initiative I9 does not exist")], lambda r: len(r.costs) == 2),
    ("cost goal must exist", cell("Costs", 4, "Goal ID", "G7"),
     [("error", "Costs!C4", "goal G7 does not exist")], lambda r: len(r.costs) == 2),
    ("cost goal contradicting its initiative", cell("Costs", 2, "Goal ID", "G2"),
     [("error", "Costs!C2", "goal G2 contradicts initiative I1, which belongs to goal G1")],
     lambda r: sources(r.costs) == ["Costs!A3", "Costs!A4"]),
    ("cost goal from initiative; goal-only; overhead", lambda s: add_row(s, "Costs", Date=D, Goal_ID="g1", Amount=5),
     [], lambda r: [(c.initiative_id, c.goal_id) for c in r.costs]
     == [("I1", "G1"), ("I2", "G2"), (None, None), (None, "G1")]),
    ("negative cost is a credit and a warning", cell("Costs", 3, "Amount", "(1,234.50)"),
     [("warning", "Costs!F3", "negative amount -1234.50 is counted as a credit")],
     lambda r: r.costs[1].amount == Decimal("-1234.50")),
    ("amount must be a number", cell("Costs", 2, "Amount", "12,5x"),
     [("error", "Costs!F2", 'amount "12,5x" is not a number')], lambda r: len(r.costs) == 2),
    ("amount required", cell("Costs", 2, "Amount", "  "),
     [("error", "Costs!F2", "Amount is required")], lambda r: len(r.costs) == 2),
    ("cost date required", cell("Costs", 2, "Date", None),
     [("error", "Costs!A2", "Date is required")], lambda r: len(r.costs) == 2),
    ("category enumeration", cell("Costs", 2, "Category", "Food"),
     [("error", "Costs!D2", 'category "Food" is not one of People')], lambda r: len(r.costs) == 2),
    ("error cell reported at its cell", cell("Costs", 3, "Amount", ExcelError("#DIV/0!")),
     [("error", "Costs!F3", "Amount shows the error #DIV/0!")], lambda r: len(r.costs) == 2),
    ("error text from xlwings reported at its cell", cell("Costs", 2, "Date", "#REF!"),
     [("error", "Costs!A2", "Date shows the error #REF!")], lambda r: len(r.costs) == 2),
    ("error cell in a setting", lambda s: setting(s, "Currency", ExcelError("#N/A")),
     [("error", "Program!B3", "Currency shows the error #N/A")], lambda r: r is None),
    # --- Returns
    ("return without transaction ref is excluded", cell("Returns", 2, "Transaction ref", None),
     [("warning", "Returns!B2", "not linked to a transaction is not ROI")],
     lambda r: [x.transaction_ref for x in r.returns] == ["T2", "T3"]),
    ("return with neither initiative nor touchpoints", cell("Returns", 2, "Initiative ID", None),
     [("error", "Returns!D2", "no Initiative ID and no touchpoints for transaction T1")],
     lambda r: len(r.returns) == 2),
    ("return without an Initiative ID column", lambda s: [r.pop(3) for r in s["Returns"]],
     [("error", "Returns!A2", "no Initiative ID and no touchpoints for transaction T1")],
     lambda r: [x.transaction_ref for x in r.returns] == ["T2"]),
    ("return credited through touchpoints", lambda s: None, [],
     lambda r: [x.initiative_id for x in r.returns] == ["I1", None, "I3"]),
    ("return initiative must exist", cell("Returns", 4, "Initiative ID", "I8"),
     [("error", "Returns!D4", "initiative I8 does not exist")], lambda r: len(r.returns) == 2),
    ("return type required", cell("Returns", 2, "Return type", None),
     [("error", "Returns!C2", "Return type is required")], lambda r: len(r.returns) == 2),
    ("return type enumeration", cell("Returns", 2, "Return type", "Goodwill"),
     [("error", "Returns!C2", "is not one of New revenue, Cost savings, Spending avoided")], None),
    ("gross margin of 40 is a typo for 40%", cell("Returns", 2, "Gross margin", 40),
     [("error", "Returns!F2", "did you mean 40%?")], lambda r: len(r.returns) == 2),
    ("attribution above 100%", cell("Returns", 2, "Attribution", "150%"),
     [("error", "Returns!G2", "outside 0% to 100%")], None),
    ("confidence enumeration", cell("Returns", 2, "Confidence", "Sure"),
     [("error", "Returns!H2", "is not one of High, Medium, Low")], None),
    ("negative return is a warning", cell("Returns", 2, "Amount", -100),
     [("warning", "Returns!E2", "negative return -100")], lambda r: r.returns[0].amount == -100),
    ("defaults: attribution 100%, confidence High", lambda s: None, [],
     lambda r: (r.returns[0].attribution, r.returns[2].confidence) == (Decimal(1), "High")),
    # --- Touchpoints
    ("touchpoint initiative must exist", cell("Touchpoints", 2, "Initiative ID", "I5"),
     [("error", "Touchpoints!B2", "initiative I5 does not exist")], lambda r: len(r.touchpoints) == 1),
    ("touchpoint timestamp required", cell("Touchpoints", 3, "Timestamp", None),
     [("error", "Touchpoints!C3", "Timestamp is required")], lambda r: len(r.touchpoints) == 1),
    # --- Metrics
    ("unknown metric is a note", row("Metrics", Date=D, Metric="Smiles", Value=3),
     [("info", "Metrics!D5", "metric 'Smiles' is not a standard metric")],
     lambda r: "Smiles" in [m.metric for m in r.metrics]),
    ("metric goal: its own, else its initiative's, else programme", lambda s: None, [],
     lambda r: [(m.metric, m.goal_id) for m in r.metrics] == [("NPS", "G1"), ("Referrals", "G2"), ("Reach", None)]),
    ("metric goal given wins over the initiative's", row("Metrics", Date=D, Goal_ID="G1", Initiative_ID="I2",
                                                          Metric="Likes", Value=1),
     [], lambda r: [m.goal_id for m in r.metrics if m.metric == "Likes"] == ["G1"]),
    ("metric goal must exist", cell("Metrics", 2, "Goal ID", "G0"),
     [("error", "Metrics!B2", "goal G0 does not exist")], lambda r: len(r.metrics) == 2),
    ("metric value must be a number", cell("Metrics", 2, "Value", "lots"),
     [("error", "Metrics!E2", 'value "lots" is not a number')], lambda r: len(r.metrics) == 2),
    # --- period and As of
    ("as of defaults to the latest dated row", lambda s: None, [], lambda r: r.program.as_of == date(2026, 4, 1)),
    ("as of default is capped at period end; later rows left out",
     row("Costs", Date=date(2027, 2, 1), Amount=9),
     [("warning", "Costs!A5", "cost dated 2027-02-01 is after As of 2026-12-31")],
     lambda r: r.program.as_of == date(2026, 12, 31) and len(r.costs) == 3),
    ("rows before period start are left out", cell("Returns", 4, "Date", date(2025, 12, 31)),
     [("warning", "Returns!A4", "before Period start 2026-01-01")], lambda r: len(r.returns) == 2),
    ("rows after a given As of are left out", lambda s: setting(s, "As of", date(2026, 2, 28)),
     [("warning", "Returns!A3", "after As of 2026-02-28"), ("warning", "Costs!A4", "after As of")],
     lambda r: len(r.returns) == 1 and len(r.costs) == 2 and len(r.metrics) == 3),
    # --- sheets
    ("hidden input sheet", lambda s: None, [("warning", "Costs", "the Costs sheet is hidden")], None),
    ("missing required sheet", lambda s: s.pop("Initiatives"),
     [("error", "Initiatives", "the Initiatives sheet is missing")], lambda r: r is None),
    ("missing optional sheets are fine", lambda s: (s.pop("Metrics"), s.pop("Touchpoints")),
     [("error", "Returns!D3", "no touchpoints for transaction T2")], lambda r: r.metrics == ()),
    ("missing required column", lambda s: [r.pop() for r in s["Costs"]],
     [("error", "Costs!A1", "required column Amount missing")], lambda r: r.costs == ()),
    ("column given twice", lambda s: [r.append(r[5]) for r in s["Costs"]],
     [("warning", "Costs!G1", "column Amount appears twice; the one at Costs!F1 is used")],
     lambda r: len(r.costs) == 3),
    ("no header row", lambda s: s.__setitem__("Metrics", [["x"], [1]]),
     [("error", "Metrics", "no header row found")], lambda r: r.metrics == ()),
    ("two sheets match one name", lambda s: s.__setitem__("COSTS ", [["Date", "Amount"]]),
     [("error", "Costs", "2 sheets match Costs")], lambda r: r is None),
    ("xlwings.conf interpreter", lambda s: s.__setitem__("xlwings.conf", [
        ["Interpreter_Win", r"C:\evil\python.exe"], ["PYTHONPATH", None], ["UDF Modules", "x"]]),
     [("warning", "'xlwings.conf'!B1", "xlwings.conf sets Interpreter_Win")], None),
    ("xlwings.conf pythonpath and conda", lambda s: s.__setitem__("xlwings.conf", [
        ["Interpreter_Mac", ""], ["PYTHONPATH", "/tmp/x"], ["Conda Path", "/opt/conda"]]),
     [("warning", "'xlwings.conf'!B2", "sets PYTHONPATH"), ("warning", "'xlwings.conf'!B3", "sets Conda Path")], None),
]  # fmt: skip


@pytest.mark.parametrize("name, mutate, expected, verify", RULES, ids=[c[0] for c in RULES])
def test_rule(name, mutate, expected, verify):
    records, issues = run(mutate, hidden=("Costs",) if name == "hidden input sheet" else ())
    got = [(str(i.severity), i.where, i.message) for i in issues]
    for severity, where, words in expected:
        assert any(s == severity and w == where and words in m for s, w, m in got), (
            severity,
            where,
            words,
            got,
        )
    if not expected:
        assert not [g for g in got if g[0] != "info"], got
    if verify is not None:
        assert verify(records), records


def test_valid_programme_has_no_issues():
    records, issues = load(as_tables(base_sheets()))
    assert issues == []
    assert ids(records.goals) == ["G1", "G2"] and len(records.costs) == 3 and len(records.returns) == 3


def test_blank_xlwings_conf_is_quiet():
    sheets = base_sheets()
    sheets["xlwings.conf"] = [["Interpreter_Win", None], ["Interpreter_Mac", ""], ["PYTHONPATH", "  "]]
    assert load(as_tables(sheets))[1] == []


# --- messy input forms, each accepted and read to the same value -------------------

FORMS = [
    ("money text with separators", ("Costs", 2, "Amount", "1,234.50"), lambda r: r.costs[0].amount,
     Decimal("1234.50")),
    ("money in parentheses", ("Costs", 2, "Amount", " (1,000) "), lambda r: r.costs[0].amount, Decimal(-1000)),
    ("money minus text", ("Costs", 2, "Amount", "-12.5"), lambda r: r.costs[0].amount, Decimal("-12.5")),
    ("percent as fraction", ("Returns", 2, "Gross margin", 0.25), lambda r: r.returns[0].gross_margin,
     Decimal("0.25")),
    ("percent as text", ("Returns", 2, "Gross margin", "25%"), lambda r: r.returns[0].gross_margin,
     Decimal("0.25")),
    ("percent text with space", ("Returns", 2, "Attribution", "12.5 %"), lambda r: r.returns[0].attribution,
     Decimal("0.125")),
    ("date as ISO text", ("Costs", 2, "Date", "2026-01-15"), lambda r: r.costs[0].date, date(2026, 1, 15)),
    ("date as datetime", ("Costs", 2, "Date", datetime(2026, 1, 15, 13, 0)), lambda r: r.costs[0].date,
     date(2026, 1, 15)),
    ("date as Excel serial", ("Costs", 2, "Date", 46037), lambda r: r.costs[0].date, date(2026, 1, 15)),
    ("timestamp as ISO text", ("Touchpoints", 2, "Timestamp", "2026-02-20T10:00"),
     lambda r: r.touchpoints[0].timestamp, datetime(2026, 2, 20, 10)),
    ("timestamp as serial with time", ("Touchpoints", 2, "Timestamp", 46073.4375),
     lambda r: r.touchpoints[0].timestamp, datetime(2026, 2, 20, 10, 30)),
    ("enumeration in any case", ("Costs", 2, "Category", "  paid MEDIA "), lambda r: r.costs[0].category,
     "Paid media"),
    ("metric name in any case", ("Metrics", 4, "Metric", "REACH"), lambda r: r.metrics[2].metric, "Reach"),
    ("KPI in any case", ("Goals", 2, "KPI", "nps"), lambda r: r.goals[0].kpi, "NPS"),
    ("metric value as percent text", ("Metrics", 2, "Value", "45%"), lambda r: r.metrics[0].value, 0.45),
    ("ID typed as a number", ("Goals", 2, "Owner", 101.0), lambda r: r.goals[0].owner, "101"),
    ("IDs match ignoring case", ("Costs", 2, "Initiative ID", " i1 "), lambda r: r.costs[0].initiative_id, "I1"),
]  # fmt: skip


@pytest.mark.parametrize("name, change, get, want", FORMS, ids=[f[0] for f in FORMS])
def test_form(name, change, get, want):
    records, issues = run(cell(*change))
    assert [i for i in issues if str(i.severity) == "error"] == []
    assert get(records) == want


def test_serial_dates_follow_the_1904_system():
    sheets = base_sheets()
    set_cell(sheets, "Costs", 2, "Date", 46037 - 1462)  # the same day counted from 1904-01-01
    records, issues = load(as_tables(sheets, date1904=True))
    assert issues == [] and records.costs[0].date == date(2026, 1, 15)


def test_names_ignore_case_nbsp_and_extra_columns_and_title_rows():
    sheets = base_sheets()
    costs = sheets.pop("Costs")
    header = ["\u00a0DATE ", "initiative  id", "Goal ID", "category", "Description", "AMOUNT", "My notes"]
    sheets[" costs\u00a0"] = [["Costs of the programme"], [], header] + [r + ["note"] for r in costs[1:]]
    records, issues = load(as_tables(sheets))
    assert issues == []
    assert [str(c.source) for c in records.costs] == [
        "' costs\u00a0'!A4",
        "' costs\u00a0'!A5",
        "' costs\u00a0'!A6",
    ]
    assert [c.amount for c in records.costs] == [Decimal(1000), Decimal("500.5"), Decimal(200)]


def test_blank_rows_are_skipped_and_row_numbers_kept():
    sheets = base_sheets()
    sheets["Costs"].insert(2, [None, "", "  ", None, None, None])
    sheets["Costs"].insert(2, [])
    records, issues = load(as_tables(sheets))
    assert issues == []
    assert [str(c.source) for c in records.costs] == ["Costs!A2", "Costs!A5", "Costs!A6"]


def test_all_problems_reported_at_once():
    sheets = base_sheets()
    set_cell(sheets, "Costs", 2, "Amount", "abc")
    set_cell(sheets, "Returns", 3, "Return type", "Gift")
    set_cell(sheets, "Metrics", 2, "Value", "x")
    setting(sheets, "Discount rate", "lots")
    _, issues = load(as_tables(sheets))
    assert sorted(i.where for i in issues) == ["Costs!F2", "Metrics!E2", "Program!B8", "Returns!C3"]


def test_tables_offset_origin_reports_true_cells():
    # xlwings may hand over a range that does not start at A1
    sheets = base_sheets()
    tables = as_tables(sheets)
    costs = sheets["Costs"]
    set_cell(sheets, "Costs", 3, "Amount", "oops")
    shifted = Table("Costs", costs, first_row=3, first_col=2)
    tables = Tables([t if t.name != "Costs" else shifted for t in tables.values()])
    _, issues = load(tables)
    assert [i.where for i in issues] == ["Costs!G5"]


def test_distribution_keeps_display_names_as_outlook_pastes_them():
    records, issues = run(
        lambda s: setting(
            s, "Distribution", "Jane Doe <jane@example.com>; cfo@example.com, <ops@example.com>"
        )
    )
    assert [i for i in issues if i.severity == "error"] == []
    assert records.program.distribution == (
        "Jane Doe <jane@example.com>",
        "cfo@example.com",
        "ops@example.com",
    )
