# ruff: noqa: E501  (the strategies and the ledger line read best one per line)
"""The loader's column-wise fast path never disagrees with the careful per-cell checker:
for any cell it either gives exactly what ``checks`` gives (same value, same Decimal
digits) or hands the cell to the careful path. And the engine's one-pass sums give
what adding the ledger line by line gives."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from scrm_xl import checks as cx
from scrm_xl.compute import EXPECTED, OPTIMISTIC, _figures, _sums, figures, returns_by_type
from scrm_xl.load import _SLOW, PERCENT_RANGES, _fast_column
from scrm_xl.model import CONFIDENCES, RETURN_TYPES, CellRef
from scrm_xl.read import ERROR_CODES, ExcelError
from scrm_xl.results import LedgerLine
from scrm_xl.schema import CHOICE, DATE, DATETIME, MONEY, PERCENT, TEXT

cells = st.one_of(
    st.none(),
    st.just(""),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e6, max_value=1e6).map(lambda f: round(f, 2)),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.booleans(),
    st.sampled_from(["New revenue", "new revenue ", "High", " Low", "Medium", "12.50", "(3)", "25%"]),
    st.sampled_from([*ERROR_CODES, " #N/A", "#n/a", "  ", "\u00a0x\u00a0", "I01", "TX-1"]),
    st.text(max_size=8),
    st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
    st.datetimes(min_value=datetime(1900, 3, 2), max_value=datetime(2100, 1, 1), timezones=st.just(timezone(timedelta(hours=2)))),
    st.builds(ExcelError, st.sampled_from(["#DIV/0!", ""])),
)  # fmt: skip


def careful(kind: str, raw: object, name: str, choices: tuple[str, ...], required: bool):
    """What ``_Loader.value`` does with one cell, without a table: a value, or None for 'reported'."""
    if raw is None or raw == "" or (type(raw) is str and not raw.strip()):
        return "required" if required else None
    if (type(raw) is str and raw in ERROR_CODES) or type(raw) is ExcelError:
        return "reported"
    try:
        if kind == TEXT:
            return cx.text(raw)
        if kind == CHOICE:
            return cx.choice(raw, choices, "x")
        if kind == DATE:
            return cx.to_date(raw, "x", False)
        if kind == DATETIME:
            return cx.to_datetime(raw, "x", False)
        if kind == MONEY:
            return cx.money(raw, "x")
        low, high = PERCENT_RANGES.get(name, (None, None))
        return cx.percent(raw, "x", low, high)
    except (cx.BadValue, OverflowError):
        return "reported"


COLUMNS = [
    (TEXT, "Note", ()),
    (CHOICE, "Return type", RETURN_TYPES),
    (CHOICE, "Confidence", CONFIDENCES),
    (DATE, "Date", ()),
    (DATETIME, "Timestamp", ()),
    (MONEY, "Amount", ()),
    (PERCENT, "Gross margin", ()),
    (PERCENT, "Attribution", ()),
]


@settings(max_examples=300, deadline=None)
@given(st.lists(cells, min_size=1, max_size=30), st.booleans())
def test_fast_path_agrees_with_the_careful_checker(values, required):
    for kind, name, choices in COLUMNS:
        fast, slow = _fast_column(kind, list(values), required, name, choices)
        assert len(fast) == len(values)
        assert slow == any(v is _SLOW for v in fast), (kind, values)
        for raw, got in zip(values, fast, strict=True):
            if got is _SLOW:
                continue
            want = careful(kind, raw, name, choices, required)
            assert want not in ("required", "reported"), (kind, raw, got)
            assert got == want and type(got) is type(want), (kind, raw, got, want)
            assert repr(got) == repr(want), (kind, raw, got, want)  # Decimal digits too


def test_the_odd_cells_go_to_the_careful_path():
    values = ["#N/A", " ", float("inf"), float("nan"), 2**60, True, "12.50", "new revenue", None]
    assert _fast_column(MONEY, values, True, "Amount", ())[0][:7] == [_SLOW] * 7
    assert _fast_column(MONEY, values, False, "Amount", ())[0][-1] is None
    assert _fast_column(PERCENT, [25.0, 0.25], False, "Gross margin", ()) == ([_SLOW, Decimal("0.25")], True)
    assert _fast_column(CHOICE, values, False, "Return type", RETURN_TYPES)[0][7] is _SLOW
    assert _fast_column(TEXT, ["#N/A", " #N/A", " a "], False, "Note", ()) == ([_SLOW, "#N/A", "a"], True)


def _line(i: int, amount: str, confidence: str, rtype: str) -> LedgerLine:
    return LedgerLine(
        source=CellRef("Returns", i), date=date(2026, 1, 1), transaction_ref=f"T{i}", return_type=rtype,
        confidence=confidence, initiative_id="I1", goal_id="G1", amount=Decimal(amount), attribution=Decimal(1),
        margin=Decimal(1), credit_share=Decimal(1), counted=Decimal(amount), via="direct", touchpoint=None,
    )  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False),
            st.sampled_from(CONFIDENCES),
            st.sampled_from(RETURN_TYPES),
        ),
        max_size=40,
    )
)
def test_one_pass_sums_equal_line_by_line(rows):
    lines = [_line(i, str(a), c, t) for i, (a, c, t) in enumerate(rows, start=2)]
    for confidences in (EXPECTED, OPTIMISTIC):
        by_hand = {t: Decimal(0) for t in RETURN_TYPES}
        for a, c, t in rows:
            if c in confidences:
                by_hand[t] += a
        got = returns_by_type(lines, confidences)
        assert [got.new_revenue, got.cost_savings, got.spending_avoided] == [by_hand[t] for t in RETURN_TYPES]
    f = figures(Decimal("100.00"), lines)
    assert f == _figures(Decimal("100.00"), _sums(lines))
    assert f.returns == returns_by_type(lines, EXPECTED)
