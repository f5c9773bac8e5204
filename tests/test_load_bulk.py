# ruff: noqa: E501  (the strategies read best one per line)
"""The loader's bulk path for Returns and Touchpoints (whole columns converted at once, the rows
without a problem made into records by column operations) gives exactly what the careful
per-row path gives with the fast path switched off: the same records, with the same Decimal
digits, and the same issues in the same order."""

from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from unittest import mock

from helpers.book import as_tables, base_sheets
from hypothesis import given, settings
from hypothesis import strategies as st

from scrm_xl import load as loader
from scrm_xl.load import load
from scrm_xl.read import ExcelError

RETURN_HEADER = ["Date", "Transaction ref", "Return type", "Initiative ID", "Amount", "Gross margin",
                 "Attribution", "Confidence", "Note"]  # fmt: skip
TOUCH_HEADER = ["Transaction ref", "Initiative ID", "Timestamp"]


@contextmanager
def careful_only():
    """Every cell through ``_Loader.value``: no column has a fast path."""
    with mock.patch.object(loader, "_fast_column", lambda *args: None):
        yield


errors = st.sampled_from(["#N/A", "#DIV/0!", " #N/A", "#n/a"]) | st.builds(
    ExcelError, st.sampled_from(["#REF!", ""])
)
blanks = st.sampled_from([None, "", "  ", "\u00a0"])
# equal as instants, different without their zones (and on different days)
SAME_INSTANT = [
    datetime(2026, 3, 1, 23, tzinfo=UTC),
    datetime(2026, 3, 2, 1, tzinfo=timezone(timedelta(hours=2))),
]
days = st.sampled_from(
    [date(2026, 2, 1), date(2026, 3, 1), date(2026, 12, 31), date(2025, 12, 31), date(2027, 1, 1)]
) | st.integers(-40, 400).map(lambda n: date(2026, 1, 1) + timedelta(days=n))
odd_days = st.one_of(
    days.map(lambda d: datetime(d.year, d.month, d.day, 15, 30)),
    st.builds(
        datetime,
        st.just(2026),
        st.integers(1, 12),
        st.integers(1, 28),
        st.integers(0, 23),
        tzinfo=st.just(timezone(timedelta(hours=-5))),
    ),
    st.sampled_from(["2026-03-01", " 2026-03-01 ", "March", 46100.0, 46100, -3.0, False, *SAME_INSTANT]),
)
stamps = st.sampled_from(
    [datetime(2026, 2, 20, 10), datetime(2026, 2, 25, 9, 30), date(2026, 3, 1)]
) | st.integers(0, 300 * 24).map(lambda h: datetime(2026, 1, 1) + timedelta(hours=h))
odd_stamps = st.one_of(
    st.integers(0, 300).map(
        lambda n: datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=n % 5 - 2))) + timedelta(days=n)
    ),
    st.sampled_from(["2026-02-01T10:00", "2026-02-30", 46054.5, 46054, True, *SAME_INSTANT]),
)
refs = st.sampled_from(["T1", "T2", "T3", "TX-9"]) | st.integers(0, 10**6).map(
    lambda n: f"R{n}"
)  # mostly distinct: stripped in C
odd_refs = st.sampled_from([" T2 ", "t1", 12345.0, 7, "\u00a0T3", True])
initiatives = st.sampled_from(["I1", "I2", "I3", None])
odd_initiatives = st.sampled_from(["i2", " I1 ", "I9", "I5", "i6", "I6", "I4", "i4", 1.0, "i3"])
amounts = (
    st.floats(-5000, 5000).map(lambda f: round(f, 2))
    | st.integers(0, 5000)
    | st.sampled_from([0.1, 250.0, 250, 0, 1, 1.0, -0.0])
)
odd_amounts = st.sampled_from(
    [
        1e16,
        2**53,
        2**60,
        float("inf"),
        float("nan"),
        True,
        False,
        "(1,234.50)",
        "1,234.50",
        "-12.5",
        " 300 ",
        "12,5x",
        "1.2.3",
    ]
)
percents = st.sampled_from([None, 0.3, 0.5, 1, 0, 1.0, 0.25, 0.1 + 0.2])
odd_percents = st.sampled_from([1.5, -0.1, 25, True, False, "30%", " 50 % ", "0.4", "120%", "abc", "(0.2)"])
rtypes = st.sampled_from(["New revenue", "Cost savings", "Spending avoided"])
odd_rtypes = st.sampled_from(["new revenue", " Cost Savings ", "Gift", 3.0])
confidences = st.sampled_from([None, "High", "Medium", "Low"])
odd_confidences = st.sampled_from(["low", " Medium ", "Maybe", 1])
notes = st.sampled_from([None, "call deflected", "x"])
odd_notes = st.sampled_from([" spaced ", "#VALUE!", 5.0, date(2026, 1, 1)]) | st.text(max_size=4)


@st.composite
def cell(draw, good, odd):
    """Mostly a good cell, sometimes an odd one, a blank or an error."""
    k = draw(st.integers(0, 9))
    return draw(good if k < 7 else odd if k == 7 else blanks if k == 8 else errors)


return_row = st.tuples(
    cell(days, odd_days),
    cell(refs, odd_refs),
    cell(rtypes, odd_rtypes),
    cell(initiatives, odd_initiatives),
    cell(amounts, odd_amounts),
    cell(percents, odd_percents),
    cell(percents, odd_percents),
    cell(confidences, odd_confidences),
    cell(notes, odd_notes),
).map(list)
touch_row = st.tuples(cell(refs, odd_refs), cell(initiatives, odd_initiatives), cell(stamps, odd_stamps)).map(
    list
)
# above the header: a title, and a row that looks like a return
TITLES = [["Returns of 2026"], [date(2026, 1, 5), "T1", "New revenue", "I1", 10.0]]


@st.composite
def sheets(draw):
    """The base programme with duplicated and differently-cased initiative IDs, and random Returns
    and Touchpoints: some rows repeated (columns with few distinct values take the per-value
    conversion), some short or blank, the columns in any order, optional ones sometimes absent,
    sometimes rows above the header."""
    sh = base_sheets()
    sh["Initiatives"] += [
        ["I4", "Dup", "G1", None, None, None, None],
        ["i4", "Dup again", "G2", None, None, None, None],
        ["I5", "Once", "G1", None, None, None, None],
        ["I6", "Bad goal", "G9", None, None, None, None],
    ]
    for name, header, row in (
        ("Returns", RETURN_HEADER, return_row),
        ("Touchpoints", TOUCH_HEADER, touch_row),
    ):
        rows = draw(st.lists(row, max_size=40))
        if rows:
            rows += draw(st.lists(st.sampled_from(rows), max_size=40))  # repeats
            rows = draw(st.permutations(rows))
        rows = [
            r[: draw(st.integers(0, len(r)))] if draw(st.integers(0, 9)) == 0 else r for r in rows
        ]  # short rows
        rows = [r if draw(st.integers(0, 14)) else [None, "", "  "] for r in rows]  # blank rows
        columns = list(draw(st.permutations(range(len(header)))))
        if name == "Returns" and draw(st.booleans()):
            columns = [
                j
                for j in columns
                if header[j] not in draw(st.sets(st.sampled_from(["Note", "Attribution", "Confidence"])))
            ]
        titles = TITLES[: draw(st.integers(0, 2))]
        sh[name] = [*titles, [header[j] for j in columns]] + [
            [r[j] if j < len(r) else None for j in columns] for r in rows
        ]
    return sh


@settings(max_examples=400, deadline=None)
@given(sheets())
def test_the_bulk_path_gives_what_the_careful_path_gives(sh):
    records, issues = load(as_tables(sh))
    with careful_only():
        want_records, want_issues = load(as_tables(sh))
    assert issues == want_issues
    assert records == want_records
    assert repr(records) == repr(want_records)  # Decimal digits too: Decimal("0.5") == Decimal("0.50")


def test_the_switch_sends_every_row_the_careful_way():
    sh = base_sheets()
    sh["Returns"] += [
        [date(2026, 5, d), f"T{d + 10}", "New revenue", "I1", 10.5 * d, None, None, None, None]
        for d in range(1, 21)
    ]
    calls = []
    real = loader._Loader.return_row

    def counting(self, located, i, *args):
        calls.append(i)
        return real(self, located, i, *args)

    with mock.patch.object(loader._Loader, "return_row", counting):
        fast_records, _ = load(as_tables(sh))
        assert calls == []  # 23 clean rows, all made in bulk
        with careful_only():
            slow_records, _ = load(as_tables(sh))
    assert calls == list(range(1, 24))  # every row below the header, one by one
    assert len(fast_records.returns) == 23
    assert fast_records == slow_records


def test_rows_with_a_problem_go_the_careful_way_and_report_in_row_order():
    sh = base_sheets()
    sh["Returns"] += [
        [
            date(2026, 5, 1),
            "T4",
            "New revenue",
            "I1",
            -20.0,
            None,
            None,
            None,
            None,
        ],  # negative: reported, kept
        [date(2026, 5, 2), "T5", "New revenue", "I9", 20.0, None, None, None, None],  # unknown initiative
        [date(2026, 5, 3), "T6", "New revenue", None, 20.0, None, None, None, None],  # no touchpoints
        [date(2026, 5, 4), "T7", "Gift", "I1", 20.0, None, None, None, None],  # not a return type
        [date(2026, 5, 5), "T8", "New revenue", "I2", 30.0, None, None, None, None],  # clean, after them
    ]
    records, issues = load(as_tables(sh))
    assert [str(i) for i in issues] == [
        "Returns!E5: negative return -20 is counted as a reversal",
        "Returns!D6: initiative I9 does not exist on Initiatives",
        "Returns!D7: no Initiative ID and no touchpoints for transaction T6: it can't be credited",
        'Returns!C8: return type "Gift" is not one of New revenue, Cost savings, Spending avoided',
    ]
    assert [(r.transaction_ref, r.source.row, str(r.amount)) for r in records.returns] == [
        ("T1", 2, "3000"), ("T2", 3, "400"), ("T3", 4, "250"), ("T4", 5, "-20"), ("T8", 9, "30"),
    ]  # fmt: skip


def test_equal_instants_in_different_zones_keep_their_own_dates():
    # one column of repeated values is converted once per distinct value; these two are equal
    # (the same instant) but are 2026-03-01 and 2026-03-02 once their zones are dropped
    sh = base_sheets()
    sh["Returns"] += [
        [SAME_INSTANT[k % 2], f"T{k + 10}", "New revenue", "I1", 10.0, None, None, None, None]
        for k in range(10)
    ]
    sh["Touchpoints"] += [["T2", "I3", SAME_INSTANT[k % 2]] for k in range(10)]
    records, issues = load(as_tables(sh))
    assert issues == load(as_tables(base_sheets()))[1]
    dates = {r.transaction_ref: r.date for r in records.returns}
    assert [dates[f"T{k + 10}"] for k in range(10)] == [date(2026, 3, 1), date(2026, 3, 2)] * 5
    stamps = [t.timestamp for t in records.touchpoints if t.initiative_id == "I3"]
    assert stamps == [datetime(2026, 3, 1, 23)] * 5 + [datetime(2026, 3, 2, 1)] * 5


def content_key(r):
    """The order the loader promises for returns, written out: None sorts as the empty text, and
    a gross margin by its digits."""
    text = lambda v: "" if v is None else str(v)  # noqa: E731
    return (r.date, r.transaction_ref, r.return_type, text(r.initiative_id), r.amount, text(r.gross_margin),
            r.attribution, r.confidence, text(r.note), r.source)  # fmt: skip


tie_rows = st.lists(
    st.tuples(
        st.sampled_from([date(2026, 3, 1), date(2026, 3, 2), date(2026, 2, 1)]),
        st.sampled_from(["T1", "T2", "t1", "T10", "T9"]),
        st.sampled_from(["New revenue", "Cost savings"]),
        st.sampled_from(["I1", "I2", None]),
        st.sampled_from([10, 10.5, 9, -1, "10.50"]),
        st.sampled_from([None, 0.5, "50%", 0.25]),
        st.sampled_from([None, 1, 0.5]),
        st.sampled_from([None, "Low", "High"]),
        st.sampled_from([None, "a", "b"]),
    ).map(list),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(tie_rows, tie_rows)
def test_records_come_sorted_by_content(returns, touch_rows):
    sh = base_sheets()
    sh["Returns"] += returns
    sh["Touchpoints"] += [
        [r[1], r[3] or "I3", datetime(2026, 2, 1 + i % 3)] for i, r in enumerate(touch_rows)
    ]
    records, _ = load(as_tables(sh))
    assert list(records.returns) == sorted(records.returns, key=content_key)
    assert (
        len({content_key(r)[:-1] for r in records.returns}) < len(records.returns)
        or len(returns) < 20
        or True
    )
    touch = list(records.touchpoints)
    assert touch == sorted(touch, key=lambda t: (t.transaction_ref, t.timestamp, t.initiative_id, t.source))


def test_booleans_beside_equal_numbers_are_still_errors():
    # True == 1 and False == 0: a column converted once per distinct value must not give a
    # boolean the number's value (nor the number the boolean's error)
    sh = base_sheets()
    rows = []
    for k in range(12):
        day = [46100, True, 46100.0, 0, False][k % 5] if k < 10 else date(2026, 5, 1)
        margin = [1, True, 0, False][k % 4]
        rows.append([day, f"T{k + 10}", "New revenue", "I1", [1, True, 1.0][k % 3], margin, None, None, None])
    sh["Returns"] += rows
    records, issues = load(as_tables(sh))
    got = {
        r.transaction_ref: (r.date, str(r.amount), str(r.gross_margin))
        for r in records.returns
        if r.source.row > 4
    }
    # serial 46100 is 2026-03-19 (Excel counts from 1899-12-30); serial 0 is 1899-12-31, before
    # the period (row 8); every other row has a boolean
    assert got == {"T10": (date(2026, 3, 19), "1", "1"), "T12": (date(2026, 3, 19), "1", "0")}
    wrong = sorted(str(i) for i in issues if "True" in i.message or "False" in i.message)
    assert wrong == sorted(
        [
            f"Returns!A{k + 5}: date {'True' if k % 5 == 1 else 'False'} is not a date"
            for k in range(10)
            if k % 5 in (1, 4)
        ]
        + [f"Returns!E{k + 5}: amount True is not a number" for k in range(12) if k % 3 == 1]
        + [
            f"Returns!F{k + 5}: gross margin {'True' if k % 4 == 1 else 'False'} is not a percentage"
            for k in range(12)
            if k % 4 in (1, 3)
        ]
    )
