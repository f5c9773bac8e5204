"""Row order, blank rows and sheet order never change what is loaded (nor which problems are found)."""

from collections import Counter
from dataclasses import fields, replace
from datetime import date, timedelta

from helpers.book import as_tables, base_sheets
from hypothesis import given, settings
from hypothesis import strategies as st

from scrm_xl.load import load
from scrm_xl.model import CellRef

NOWHERE = CellRef("", 0)

day = st.integers(-20, 400).map(lambda n: date(2026, 1, 1) + timedelta(days=n))  # some outside the period
initiative = st.sampled_from(["I1", "I2", "I3", "i2", None, "I9"])
amount = st.one_of(
    st.integers(-500, 5000),
    st.decimals(0, 10000, places=2).map(lambda d: f"{d:,.2f}"),
    st.sampled_from(["(12.50)", "12,5x", None]),
)
cost_row = st.tuples(
    day,
    initiative,
    st.sampled_from([None, "G1", "G2"]),
    st.sampled_from(["People", "other", None]),
    st.none(),
    amount,
).map(list)
return_row = st.tuples(
    day,
    st.sampled_from(["T1", "T2", "T7", None]),
    st.sampled_from(["New revenue", "cost savings", "Gift"]),
    initiative,
    amount,
    st.sampled_from([None, 0.3, "30%"]),
    st.sampled_from([None, 1, "50%"]),
    st.sampled_from([None, "low", "High"]),
    st.none(),
).map(list)
metric_row = st.tuples(
    day,
    st.sampled_from([None, "G1", "G2"]),
    initiative,
    st.sampled_from(["Reach", "likes", "Smiles"]),
    st.integers(0, 100),
).map(list)


def sheets_with(costs, returns, metrics):
    sheets = base_sheets()
    sheets["Costs"] += costs
    sheets["Returns"] += returns
    sheets["Metrics"] += metrics
    return sheets


def shuffle(sheets, rnd, blanks):
    out = {}
    names = list(sheets)
    rnd.shuffle(names)
    for name in names:
        header, *rows = sheets[name]
        rows = list(rows)
        rnd.shuffle(rows)
        for _ in range(blanks):
            rows.insert(rnd.randint(0, len(rows)), rnd.choice([[], [None, ""], ["  "] * 3]))
        out[name] = [header, *rows]
    return out


def unplaced(records):
    """The records without their cell references, which do move with the rows."""
    if records is None:
        return None
    out = {}
    for f in fields(records):
        value = getattr(records, f.name)
        out[f.name] = nowhere(value) if f.name == "program" else [nowhere(r) for r in value]
    return out


def nowhere(record):
    # Return and Touchpoint are named tuples, the other records dataclasses
    if hasattr(record, "_replace"):
        return record._replace(source=NOWHERE)
    return replace(record, source=NOWHERE)


def problems(issues):
    return Counter((str(i.severity), i.where.split("!")[0], i.message) for i in issues)


@settings(max_examples=40, deadline=None)
@given(
    costs=st.lists(cost_row, max_size=12),
    returns=st.lists(return_row, max_size=12),
    metrics=st.lists(metric_row, max_size=8),
    rnd=st.randoms(use_true_random=False),
    blanks=st.integers(0, 3),
)
def test_row_order_blank_rows_and_sheet_order_do_not_matter(costs, returns, metrics, rnd, blanks):
    sheets = sheets_with(costs, returns, metrics)
    records, issues = load(as_tables(sheets))
    shuffled = shuffle(sheets, rnd, blanks)
    records2, issues2 = load(as_tables(shuffled))
    assert unplaced(records2) == unplaced(records)
    assert problems(issues2) == problems(issues)
    # the same rows, so the same number of rows loaded and left out
    assert len(records2.costs) == len(records.costs)


def test_identical_rows_in_any_order_load_identically():
    sheets = base_sheets()
    sheets["Costs"].append(list(sheets["Costs"][1]))
    a = load(as_tables(sheets))[0]
    sheets["Costs"][1:] = sheets["Costs"][:0:-1]
    b = load(as_tables(sheets))[0]
    assert unplaced(a) == unplaced(b)
    assert len(a.costs) == 4
