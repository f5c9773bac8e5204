"""attribute_lines against the reference functions it is built from.

``reference`` below composes ``applied_margin``, ``cents``, ``counting_touches``,
``model_weights`` and ``split_exactly`` one return at a time, the plain way; the fast
attribution (touchpoints ordered once per transaction, everything that does not depend on
the amount worked out once per touch shape, integer cents where every Decimal step is exact)
must give exactly its ledger: the same lines in the same order, the same Decimal digits and
exponents, the same touchpoints, and the same issues in the same order."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal as D
from decimal import localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from scrm_xl import attribute
from scrm_xl.attribute import (
    CENT,
    DIRECT,
    ONE,
    applied_margin,
    attribute_lines,
    cents,
    counting_touches,
    model_weights,
    split_exactly,
)
from scrm_xl.model import (
    ATTRIBUTION_MODELS,
    NEW_REVENUE,
    RETURN_TYPES,
    CellRef,
    Initiative,
    Program,
    Records,
    Return,
    Touchpoint,
    error,
)
from scrm_xl.results import LedgerLine

DAY = date(2026, 3, 20)
GOAL_OF = {"A": "G1", "B": "G1", "C": "G2", "D": "G2", "b": "G3"}


def book(returns, touchpoints, **settings) -> Records:
    """Records of a 2026 programme in EUR (as of 30 June) with the initiatives of GOAL_OF; the
    attribution settings, and any other Program field, as given."""
    program = Program(
        name="P",
        currency="EUR",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        as_of=date(2026, 6, 30),
        **settings,
    )
    initiatives = tuple(Initiative(i, i, g) for i, g in GOAL_OF.items())
    return Records(
        program=program, initiatives=initiatives, returns=tuple(returns), touchpoints=tuple(touchpoints)
    )


def reference(records: Records) -> tuple[list[LedgerLine], list]:
    """The ledger and issues, one return at a time through the reference functions."""
    program = records.program
    model = program.attribution_model
    goal_of = {i.id: i.goal_id for i in records.initiatives}
    ledger, issues = [], []
    with localcontext() as ctx:
        ctx.prec = 34
        for ret in sorted(records.returns, key=lambda r: r.source):
            margin = applied_margin(ret, program)
            if margin is None:
                issues.append(
                    error(
                        ret.source,
                        f"New revenue {ret.transaction_ref!r} has no gross margin and the Program sheet "
                        "has no Default gross margin: revenue is not return until its margin is known, "
                        "so this row is not counted",
                    )
                )
                continue
            counted = cents(ret.amount * ret.attribution * margin)
            head = (ret.source, ret.date, ret.transaction_ref, ret.return_type, ret.confidence)
            if ret.initiative_id is not None:
                iid = ret.initiative_id
                ledger.append(
                    LedgerLine(
                        *head, iid, goal_of[iid], ret.amount, ret.attribution, margin, ONE, counted, DIRECT
                    )
                )
                continue
            touchpoints = [tp for tp in records.touchpoints if tp.transaction_ref == ret.transaction_ref]
            if not touchpoints:
                issues.append(
                    error(
                        ret.source,
                        f"return {ret.transaction_ref!r} has no Initiative ID and no touchpoint with this "
                        "Transaction ref, so it cannot be credited to an initiative and is not counted",
                    )
                )
                continue
            touches = counting_touches(ret, touchpoints, program.lookback_days)
            if not touches:
                n, window = len(touchpoints), program.lookback_days
                issues.append(
                    error(
                        ret.source,
                        f"return {ret.transaction_ref!r}: none of its {n} touchpoint(s) falls on or before "
                        f"{ret.date.isoformat()} within the {window}-day lookback window, so it "
                        "cannot be credited and is not counted",
                    )
                )
                continue
            weights = model_weights(model, touches, program.half_life_days)
            by_initiative: dict[str, D] = defaultdict(D)
            shown = {}
            for touch, weight in zip(touches, weights, strict=True):
                if weight != 0:
                    by_initiative[touch.initiative_id] += weight
                    shown[touch.initiative_id] = touch.source  # the latest with a weight
            amounts = split_exactly(counted, by_initiative)
            weight_sum = sum(by_initiative.values(), D(0))
            for iid in sorted(by_initiative):
                share = by_initiative[iid] / weight_sum
                ledger.append(
                    LedgerLine(
                        *head,
                        iid,
                        goal_of[iid],
                        ret.amount,
                        ret.attribution,
                        margin,
                        share,
                        amounts[iid],
                        model,
                        shown[iid],
                    )
                )
    return ledger, issues


def spelled(lines):
    """Each line as its type and the repr of every field: Decimal("0.5") is not Decimal("0.50")."""
    return [(type(line), [repr(value) for value in line]) for line in lines]


def assert_same_as_reference(records):
    want_lines, want_issues = reference(records)
    got_lines, got_issues = attribute_lines(records)
    assert spelled(got_lines) == spelled(want_lines)
    assert got_issues == want_issues
    in_order = Records(
        program=records.program,
        initiatives=records.initiatives,
        returns=tuple(sorted(records.returns, key=lambda r: r.source)),
        touchpoints=records.touchpoints,
    )
    got_lines, got_issues = attribute_lines(in_order, in_sheet_order=True)
    assert spelled(got_lines) == spelled(want_lines)
    assert got_issues == want_issues


# amounts: cents, finer digits, zero and negative, and now and then one so long that the integer
# split must hand over to the Decimal one
amounts = st.one_of(
    st.integers(-300, 300).map(lambda c: D(c) * CENT),
    st.integers(-(10**6), 10**6).map(lambda c: D(c) * CENT),
    st.integers(-(10**9), 10**9).map(lambda c: D(c).scaleb(-5)),
    st.sampled_from([D(0), D("-0.00"), D("0.004"), D("-0.005"), D("0.005"), D(1), D("0.01"), D("-0.01")]),
    st.integers(10**29, 10**31).map(lambda c: D(c) * CENT),
)
shares = st.sampled_from([D(1), D("1.00"), D("0.5"), D("0.3333"), D("0.25"), D("0.7"), D(0)])
TIMES = [(0, 0), (9, 30), (12, 0), (23, 59)]  # few times of day, so timestamps often tie


@st.composite
def programmes(draw):
    refs = draw(st.lists(st.sampled_from(["T1", "T1", "T2", "T3", "T4"]), min_size=1, max_size=8))
    returns = []
    for ref in refs:
        rtype = draw(st.sampled_from(RETURN_TYPES))
        margin = draw(st.sampled_from([None, None, D("0.4"), D("0.35")])) if rtype == NEW_REVENUE else None
        direct = draw(st.sampled_from([None, None, None, None, "A", "C"]))
        returns.append(
            dict(
                date=DAY + timedelta(days=draw(st.integers(-3, 3))),
                transaction_ref=ref,
                return_type=rtype,
                amount=draw(amounts),
                initiative_id=direct,
                gross_margin=margin,
                attribution=draw(shares),
            )
        )
    zones = draw(
        st.sampled_from(
            [
                [None],  # naive, as the loader gives them
                [UTC],
                # instants and calendar days in different orders: 23:59 at -12:00 is after 00:00 at
                # +14:00 two days later
                [timezone(timedelta(hours=-12)), timezone(timedelta(hours=14)), UTC],
            ]
        )
    )
    touchpoints = []
    for _ in range(draw(st.integers(0, 16))):
        hour, minute = draw(st.sampled_from(TIMES))
        # return dates are DAY +- 3: touches after them, on them, and on and past the window edges
        day = DAY + timedelta(days=draw(st.integers(-9, 4)))
        stamp = datetime(day.year, day.month, day.day, hour, minute, tzinfo=draw(st.sampled_from(zones)))
        touchpoints.append(
            (
                draw(st.sampled_from(["T1", "T1", "T2", "T3", "T9"])),
                draw(st.sampled_from(sorted(GOAL_OF))),
                stamp,
            )
        )
    settings = {
        "default_gross_margin": draw(st.sampled_from([None, D("0.5"), D("0.333")])),
        "attribution_model": draw(st.sampled_from(ATTRIBUTION_MODELS)),
        "half_life_days": draw(st.sampled_from([D(7), D(1), D("0.5"), D("2.5"), D(3)])),
        "lookback_days": draw(st.sampled_from([0, 1, 3, 7, 7, 30, 30])),
    }
    # every row its own place, in shuffled sheet order; touchpoints sometimes in the loader's order
    rows = draw(st.permutations(range(2, 2 + len(returns))))
    tp_rows = draw(st.permutations(range(2, 2 + len(touchpoints))))
    tps = [
        Touchpoint(ref, iid, stamp, CellRef("Touchpoints", row))
        for (ref, iid, stamp), row in zip(touchpoints, tp_rows, strict=True)
    ]
    if draw(st.booleans()):
        tps.sort(key=lambda t: (t.transaction_ref, t.timestamp, t.initiative_id, t.source))
    return book(
        (Return(source=CellRef("Returns", row), **fields) for fields, row in zip(returns, rows, strict=True)),
        tps,
        **settings,
    )


@st.composite
def many_amounts_one_shape(draw):
    """One transaction with a few touches, all inside the window, and many returns of it: the same
    shape split for many amounts (ties for the odd cent, long amounts, negative ones)."""
    model = draw(st.sampled_from(ATTRIBUTION_MODELS))
    half_life = draw(st.sampled_from([D(7), D(1), D("0.5"), D(2), D(3)]))
    ids = draw(st.lists(st.sampled_from(sorted(GOAL_OF)), min_size=2, max_size=7))
    days = draw(st.lists(st.integers(0, 21), min_size=len(ids), max_size=len(ids)))
    touchpoints = tuple(
        Touchpoint("T1", iid, datetime(2026, 3, 1, 12) + timedelta(days=d), CellRef("Touchpoints", row))
        for row, (iid, d) in enumerate(zip(ids, days, strict=True), start=2)
    )
    returns = tuple(
        Return(date(2026, 3, 22), "T1", RETURN_TYPES[1], amount, source=CellRef("Returns", row))
        for row, amount in enumerate(draw(st.lists(amounts, min_size=1, max_size=30)), start=2)
    )
    return book(returns, touchpoints, attribution_model=model, half_life_days=half_life, lookback_days=30)


@settings(max_examples=300, deadline=None)
@given(many_amounts_one_shape())
def test_each_shape_splits_every_amount_as_the_reference(records):
    assert_same_as_reference(records)


@settings(max_examples=600, deadline=None)
@given(programmes())
def test_attribution_is_the_reference_composition(records):
    assert_same_as_reference(records)


@settings(max_examples=100, deadline=None)
@given(programmes())
def test_attribution_with_few_shapes_remembered(records):
    original = attribute._PLANS_KEPT
    attribute._PLANS_KEPT = 1  # every new shape clears the plans kept so far
    try:
        assert_same_as_reference(records)
    finally:
        attribute._PLANS_KEPT = original


def test_aware_timestamps_count_by_their_own_calendar_day_in_instant_order():
    # Credit order is by instant, the window by each timestamp's own calendar day, and with
    # offsets from -12:00 to +14:00 the two orders differ: B is first in time but on the 11th.
    def at(day, hour, minute, hours):
        return datetime(2026, 3, day, hour, minute, tzinfo=timezone(timedelta(hours=hours)))

    touchpoints = (
        Touchpoint("T1", "A", at(10, 23, 0, -12), CellRef("Touchpoints", 2)),  # 11th 11:00 UTC
        Touchpoint("T1", "B", at(11, 0, 30, 14), CellRef("Touchpoints", 3)),  # 10th 10:30 UTC
        Touchpoint("T1", "C", at(10, 12, 0, 0), CellRef("Touchpoints", 4)),  # 10th 12:00 UTC
        Touchpoint("T1", "A", at(9, 12, 0, 0), CellRef("Touchpoints", 5)),  # the day before
    )
    records = book(
        [Return(date(2026, 3, 10), "T1", RETURN_TYPES[1], D("1.01"), source=CellRef("Returns", 2))],
        touchpoints,
        attribution_model="Linear",
        lookback_days=0,  # touches on the return's own Date only
    )
    lines, issues = attribute_lines(records)
    assert issues == []
    # B (the 11th) is after the return; A at 23:00 and C at 12:00 on the 10th share 1.01 equally,
    # the odd cent to the lower ID; each line shows its own touch, A's the one on the 10th
    assert [(line.initiative_id, line.credit_share, line.counted, line.touchpoint) for line in lines] == [
        ("A", D("0.5"), D("0.51"), CellRef("Touchpoints", 2)),
        ("C", D("0.5"), D("0.50"), CellRef("Touchpoints", 4)),
    ]
    assert_same_as_reference(records)


def test_remainders_that_tie_only_in_exact_arithmetic_go_by_their_34_digits():
    # Linear over six touches, four of them A's: 20 cents are 13.33.., 3.33.. and 3.33.. cents,
    # 19 in whole cents and one left. The three remainders are all a third exactly, but in 34
    # significant digits 13.333...3 keeps one 3 fewer than 3.333...3, so B's and C's remainders
    # are the larger and the cent goes to B, not to A (the lowest ID): integer cents would differ.
    touchpoints = tuple(
        Touchpoint("T1", iid, datetime(2026, 3, day, 12), CellRef("Touchpoints", row))
        for row, (iid, day) in enumerate(
            [("A", 1), ("B", 2), ("A", 3), ("C", 4), ("A", 5), ("A", 6)], start=2
        )
    )
    records = book(
        [Return(date(2026, 3, 10), "T1", RETURN_TYPES[1], D("0.20"), source=CellRef("Returns", 2))],
        touchpoints,
        attribution_model="Linear",
    )
    lines, issues = attribute_lines(records)
    assert issues == []
    assert [(line.initiative_id, line.counted) for line in lines] == [
        ("A", D("0.13")),
        ("B", D("0.04")),
        ("C", D("0.03")),
    ]
    assert_same_as_reference(records)
