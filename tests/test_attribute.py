"""Attribution on hand-computed cases: every expected figure below is worked out in the comment
next to it, never taken from the code."""

from datetime import date, datetime
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scrm_xl.attribute import attribute, split_exactly
from scrm_xl.model import (
    COST_SAVINGS,
    NEW_REVENUE,
    CellRef,
    Goal,
    Initiative,
    Program,
    Records,
    Return,
    Severity,
    Touchpoint,
)

RETURN_DAY = date(2026, 3, 31)


def program(model="Last touch", **kw):
    base = dict(
        name="P",
        currency="EUR",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        as_of=date(2026, 6, 30),
        attribution_model=model,
    )
    base.update(kw)
    return Program(**base)


def records(model, returns, touchpoints=(), **kw):
    initiatives = tuple(Initiative(i, i, "G1" if i < "D" else "G2") for i in "ABCDE")
    return Records(
        program=program(model, **kw),
        goals=(Goal("G1", "one"), Goal("G2", "two")),
        initiatives=initiatives,
        returns=tuple(returns),
        touchpoints=tuple(touchpoints),
    )


def touch(initiative, when, row=2, ref="T1"):
    return Touchpoint(ref, initiative, when, CellRef("Touchpoints", row))


def ret(amount, ref="T1", initiative=None, day=RETURN_DAY, rtype=COST_SAVINGS, **kw):
    return Return(day, ref, rtype, D(amount), initiative, source=CellRef("Returns", 2), **kw)


def credit(model, amount, touches, **kw):
    ledger, issues = attribute(records(model, [ret(amount)], touches, **kw))
    assert issues == ()
    return {line.initiative_id: line.counted for line in ledger}


def at(day, hour=12, minute=0):
    return datetime(2026, 3, day, hour, minute)


FIVE = [
    touch("C", at(1), 2),
    touch("A", at(5), 3),
    touch("E", at(10), 4),
    touch("B", at(20), 5),
    touch("D", at(30), 6),
]


# --- one touch: every model gives it everything ---------------------------------


@pytest.mark.parametrize("model", ["Last touch", "First touch", "Linear", "Time decay", "Position based"])
def test_one_touch_gets_the_whole_return_in_every_model(model):
    assert credit(model, "123.45", [touch("B", at(3))]) == {"B": D("123.45")}


# --- two touches -------------------------------------------------------------


def test_two_touches_last_and_first():
    touches = [touch("B", at(2), 2), touch("A", at(9), 3)]
    assert credit("Last touch", "80", touches) == {"A": D("80.00")}
    assert credit("First touch", "80", touches) == {"B": D("80.00")}


def test_two_touches_position_based_is_fifty_fifty_with_the_odd_cent_to_the_lower_id():
    # 10.01 / 2 = 5.005 each: floors 5.00 + 5.00, one cent left, equal remainders -> A
    touches = [touch("B", at(2), 2), touch("A", at(9), 3)]
    assert credit("Position based", "10.01", touches) == {"A": D("5.01"), "B": D("5.00")}
    assert credit("Linear", "10.01", touches) == {"A": D("5.01"), "B": D("5.00")}


def test_two_touches_time_decay_half_life():
    # ages 0 and 7 days with a 7-day half-life: weights 1 and 1/2 -> 2/3 and 1/3 of 90
    touches = [touch("A", at(31, 8), 2), touch("B", at(24, 23), 3)]
    assert credit("Time decay", "90", touches) == {"A": D("60.00"), "B": D("30.00")}


# --- five touches --------------------------------------------------------------


def test_five_touches_last_first_linear():
    # order by time: C(1st) A(5th) E(10th) B(20th) D(30th)
    assert credit("Last touch", "1000", FIVE) == {"D": D("1000.00")}
    assert credit("First touch", "1000", FIVE) == {"C": D("1000.00")}
    # 1000 / 5 = 200 each, exactly
    assert credit("Linear", "1000", FIVE) == dict.fromkeys("ABCDE", D("200.00"))


def test_five_touches_position_based():
    # first C 40% = 400, last D 40% = 400, middle A, E, B share 20%: 66.666... each.
    # floors 66.66 x 3 = 199.98, two cents left, equal remainders -> the two lowest IDs A, B
    assert credit("Position based", "1000", FIVE) == {
        "C": D("400.00"),
        "D": D("400.00"),
        "A": D("66.67"),
        "B": D("66.67"),
        "E": D("66.66"),
    }


def test_five_touches_time_decay():
    # return on the 31st, half-life 7: ages 30, 26, 21, 11, 1 days.
    weights = {
        "C": 2 ** (-30 / 7),
        "A": 2 ** (-26 / 7),
        "E": 2 ** (-21 / 7),
        "B": 2 ** (-11 / 7),
        "D": 2 ** (-1 / 7),
    }
    total = sum(weights.values())
    exact = {k: 1000 * w / total for k, w in weights.items()}
    # hand: C 25.39, A 33.51, E 60.86 ... computed in float, then rounded down plus leftover cents
    got = credit("Time decay", "1000", FIVE)
    assert sum(got.values()) == D("1000.00")
    for k, v in exact.items():
        assert abs(float(got[k]) - v) < 0.01
    # the youngest touch gets the most, the oldest the least
    assert got["D"] > got["B"] > got["E"] > got["A"] > got["C"]


def test_time_decay_with_half_life_setting():
    # half-life 14: ages 0 and 14 days -> weights 1 and 1/2; 0 and 28 -> 1 and 1/4
    touches = [touch("A", at(31), 2), touch("B", at(17), 3), touch("C", at(3), 4)]
    # weights 1, 1/2, 1/4 of 175 -> 100, 50, 25
    assert credit("Time decay", "175", touches, half_life_days=D(14)) == {
        "A": D("100.00"),
        "B": D("50.00"),
        "C": D("25.00"),
    }


# --- ties, window, after the return -----------------------------------------------


def test_equal_timestamps_break_by_initiative_id_whatever_the_row_order():
    same = at(10, 9, 30)
    for touches in ([touch("B", same, 2), touch("A", same, 3)], [touch("A", same, 3), touch("B", same, 2)]):
        # order is (timestamp, Initiative ID): A then B, so A is first and B is last
        assert credit("First touch", "50", touches) == {"A": D("50.00")}
        assert credit("Last touch", "50", touches) == {"B": D("50.00")}


def test_touch_outside_the_lookback_window_is_ignored():
    # lookback 10 days: age 10 counts (<= window), age 11 does not
    touches = [touch("A", at(20, 0, 1), 2), touch("B", at(21, 23, 59), 3), touch("C", at(20, 23), 4)]
    # return on the 31st: A and C are 11 days old (20th), B is 10 days old
    assert credit("Linear", "30", touches, lookback_days=10) == {"B": D("30.00")}


def test_touch_after_the_return_is_ignored_but_any_time_on_its_day_counts():
    touches = [
        touch("A", at(25), 2),
        touch("B", at(31, 23, 59), 3),
        touch("C", datetime(2026, 4, 1, 0, 0), 4),
    ]
    # B on the return's day counts (age 0) and is the latest; C the next day does not count
    assert credit("Last touch", "40", touches) == {"B": D("40.00")}
    assert credit("Linear", "40", touches) == {"A": D("20.00"), "B": D("20.00")}


def test_repeated_touches_of_one_initiative_add_up_in_one_ledger_line():
    # Linear over A, B, A: A has 2 of 3 touches -> 60 of 90
    touches = [touch("A", at(1), 2), touch("B", at(2), 3), touch("A", at(3), 4)]
    ledger, _ = attribute(records("Linear", [ret("90")], touches))
    assert [(ln.initiative_id, ln.counted) for ln in ledger] == [("A", D("60.00")), ("B", D("30.00"))]
    assert abs(ledger[0].credit_share - D(2) / D(3)) < D("1e-20")
    assert abs(ledger[1].credit_share - D(1) / D(3)) < D("1e-20")
    assert ledger[0].touchpoint == CellRef("Touchpoints", 4)  # A's latest touch
    assert {ln.via for ln in ledger} == {"Linear"}


def test_linear_three_ways_gives_the_cent_to_the_lowest_id():
    # 100 / 3 = 33.333...: floors 33.33 x 3 = 99.99, one cent left -> A
    touches = [touch("C", at(1), 2), touch("B", at(2), 3), touch("A", at(3), 4)]
    assert credit("Linear", "100", touches) == {"A": D("33.34"), "B": D("33.33"), "C": D("33.33")}


def test_negative_return_splits_symmetrically():
    touches = [touch("C", at(1), 2), touch("B", at(2), 3), touch("A", at(3), 4)]
    assert credit("Linear", "-100", touches) == {"A": D("-33.34"), "B": D("-33.33"), "C": D("-33.33")}


def test_return_whose_touches_all_fall_outside_is_reported_not_counted():
    touches = [touch("A", datetime(2025, 11, 1, 9), 2), touch("B", datetime(2026, 4, 2, 9), 3)]
    ledger, issues = attribute(records("Linear", [ret("90")], touches))
    assert ledger == ()
    assert len(issues) == 1 and issues[0].severity is Severity.ERROR
    assert issues[0].where == "Returns!A2" and "lookback" in issues[0].message


def test_return_without_initiative_or_touchpoint_is_reported():
    ledger, issues = attribute(records("Linear", [ret("90", ref="NONE")], [touch("A", at(3))]))
    assert ledger == () and issues[0].where == "Returns!A2" and "no touchpoint" in issues[0].message


# --- counted amount: attribution, margin, rounding ---------------------------------------


def test_direct_return_counts_amount_times_attribution_times_margin_half_up():
    # 1234.57 x 50% x 40% = 246.914 -> 246.91; 0.25 x 50% = 0.125 -> 0.13 (half up, not to even)
    rows = [
        ret("1234.57", "R1", "A", rtype=NEW_REVENUE, gross_margin=D("0.4"), attribution=D("0.5")),
        ret("0.25", "R2", "D", attribution=D("0.5")),
    ]
    ledger, issues = attribute(records("Last touch", rows))
    assert issues == ()
    assert [(ln.initiative_id, ln.goal_id, ln.counted, ln.via) for ln in ledger] == [
        ("A", "G1", D("246.91"), "direct"),
        ("D", "G2", D("0.13"), "direct"),
    ]


def test_default_margin_applies_only_to_new_revenue_without_its_own():
    rows = [
        ret("100", "R1", "A", rtype=NEW_REVENUE),  # default 30% -> 30.00
        ret("100", "R2", "A", rtype=NEW_REVENUE, gross_margin=D("0.6")),  # own 60% -> 60.00
        ret("100", "R3", "A", rtype=COST_SAVINGS, gross_margin=D("0.6")),  # margin ignored -> 100.00
    ]
    ledger, _ = attribute(records("Last touch", rows, default_gross_margin=D("0.3")))
    assert [(ln.transaction_ref, ln.margin, ln.counted) for ln in ledger] == [
        ("R1", D("0.3"), D("30.00")),
        ("R2", D("0.6"), D("60.00")),
        ("R3", D(1), D("100.00")),
    ]


def test_new_revenue_with_no_margin_anywhere_is_an_error_and_not_counted():
    ledger, issues = attribute(records("Last touch", [ret("100", "R1", "A", rtype=NEW_REVENUE)]))
    assert ledger == ()
    assert issues[0].severity is Severity.ERROR and issues[0].where == "Returns!A2"
    assert "margin" in issues[0].message


# --- the exact split --------------------------------------------------------------


@given(
    cents=st.integers(-(10**9), 10**9),
    weights=st.dictionaries(
        st.text("ABCDEFGH", min_size=1, max_size=3), st.integers(1, 10**6), min_size=1, max_size=8
    ),
)
def test_split_always_sums_exactly_and_each_share_is_within_a_cent(cents, weights):
    total = D(cents) / 100
    ws = {k: D(w) for k, w in weights.items()}
    shares = split_exactly(total, ws)
    assert sum(shares.values()) == total
    wsum = sum(weights.values())
    for k, share in shares.items():
        assert share == share.quantize(D("0.01"))
        assert abs(share - total * ws[k] / wsum) < D("0.01")
