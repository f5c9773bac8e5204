"""compute's bulk helpers against the plain definitions they stand for: ranking in natural
order against a sort on natural_key, and the period guard against a check row by row."""

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

from hypothesis import example, given, settings
from hypothesis import strategies as st

from scrm_xl.compute import _DigitsCodes, _places, _sortable, _sortables, _within_period, natural_key
from scrm_xl.model import COST_SAVINGS, CellRef, Cost, Metric, Program, Records, Return, warning

# refs people write, and what breaks natural order: leading zeros, case folding that changes
# length (ß, ẞ, İ) or depends on position (Σ, σ, ς), non-ASCII digits (Arabic-Indic, fullwidth;
# superscript two is no decimal digit), NUL, DEL (the chunks' separator), line breaks, empty refs
_AWKWARD = "aAbBtT-_ 0123456789ßẞΣσςİı\u0660\u0669\uff10\uff19\u00b2\0\x7f\n"
refs = st.one_of(
    st.text(alphabet=st.sampled_from(_AWKWARD), max_size=8),
    st.from_regex(r"[A-Za-z]{1,3}-?0*[0-9]{1,4}(-[0-9]{1,2})?", fullmatch=True),
    st.sampled_from(["T1", "t01", "T001", "T1a", "T01A", "t1-1", ""]),
    # a number of 127 digits has DEL as its length code
    st.integers(0, 200).map(lambda n: "R" + "9" * n),
)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(refs, unique=True, max_size=30), chunk=st.integers(1, 4))
@example(texts=["R" + "1" * 127, "R2", "R" + "1" * 126], chunk=2)
@example(texts=["a\x7fb", "a", "b"], chunk=3)
def test_the_chunked_sortables_are_each_texts_own(texts, chunk):
    codes = _DigitsCodes()
    got = _sortables(texts, chunk=chunk)
    if any("\0" in t for t in texts):
        assert got is None
    else:
        assert got == [_sortable(t, codes) for t in texts]


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(refs, unique=True, max_size=30))
@example(texts=["T1", "t01", "T001", "T2", "t10", "T9"])
@example(texts=["x\0", "x", "X1", "x01"])  # NUL: the natural_key fallback
def test_places_order_texts_as_a_sort_on_natural_key_does(texts):
    places = _places(texts)
    assert all(0 <= p < len(texts) for p in places)
    for a, pa in zip(texts, places, strict=True):
        for b, pb in zip(texts, places, strict=True):
            ka, kb = natural_key(a), natural_key(b)
            assert (pa < pb) == (ka < kb) and (pa == pb) == (ka == kb), (a, b)


_START, _AS_OF = date(2026, 1, 1), date(2026, 3, 31)
days = st.dates(date(2025, 12, 30), date(2026, 4, 2))
sources = st.builds(CellRef, st.sampled_from(["Returns", "Costs", "X"]), st.integers(1, 9), st.integers(1, 3))


@st.composite
def records(draw):
    # sources that repeat, on one sheet and column, one sheet in several columns, or spread
    # over sheets; dates around both ends of the period
    spread = draw(st.sampled_from(["one place", "one sheet", "anywhere"]))

    def source(sheet):
        s = draw(sources)
        if spread == "anywhere":
            return s
        return CellRef(sheet, s.row, s.col if spread == "one sheet" else 1)

    n = draw(st.integers(0, 12))
    returns = tuple(
        Return(draw(days), f"T{i}", COST_SAVINGS, D(1), "I1", source=source("Returns")) for i in range(n)
    )
    costs = tuple(Cost(draw(days), D(2), source=source("Costs")) for _ in range(draw(st.integers(0, 5))))
    metrics = tuple(
        Metric(draw(days), "Reach", 1.0, source=source("Metrics")) for _ in range(draw(st.integers(0, 5)))
    )
    as_of = draw(st.sampled_from([_AS_OF, _START, date(2025, 12, 31)]))
    program = Program("P", "EUR", _START, date(2026, 12, 31), as_of)
    return Records(program, costs=costs, returns=returns, metrics=metrics)


def _within_period_row_by_row(records):
    # the guard as first written: every row by source, each checked against the period
    p = records.program
    issues = []

    def keep(rows):
        kept = []
        for r in sorted(rows, key=lambda r: r.source):
            if p.period_start <= r.date <= p.as_of:
                kept.append(r)
            else:
                issues.append(
                    warning(
                        r.source,
                        f"dated {r.date.isoformat()}, outside {p.period_start.isoformat()}"
                        f"..{p.as_of.isoformat()} (Period start..As of): not counted",
                    )
                )
        return tuple(kept)

    trimmed = replace(
        records, costs=keep(records.costs), returns=keep(records.returns), metrics=keep(records.metrics)
    )
    return trimmed, issues


@settings(max_examples=300, deadline=None)
@given(recs=records())
def test_the_period_guard_keeps_and_warns_as_a_check_row_by_row_does(recs):
    trimmed, issues = _within_period(recs)
    want_trimmed, want_issues = _within_period_row_by_row(recs)
    assert trimmed == want_trimmed
    # the same rows, in the same order (== on the records alone would not see a swap of equal rows)
    for got, want in zip(
        (trimmed.costs, trimmed.returns, trimmed.metrics),
        (want_trimmed.costs, want_trimmed.returns, want_trimmed.metrics),
        strict=True,
    ):
        assert [id(r) for r in got] == [id(r) for r in want]
    assert issues == want_issues
