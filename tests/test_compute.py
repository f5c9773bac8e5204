"""compute() on small hand-computed programmes: scenarios, ROI, periods, payback, NPV, KPIs."""

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrm_xl.compute import compute
from scrm_xl.export import results_to_json
from scrm_xl.model import (
    COST_SAVINGS,
    NEW_REVENUE,
    SPENDING_AVOIDED,
    CellRef,
    Cost,
    Goal,
    Initiative,
    Metric,
    Program,
    Records,
    Return,
)


def program(**kw):
    base = dict(
        name="P",
        currency="EUR",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        as_of=date(2026, 3, 31),
    )
    base.update(kw)
    return Program(**base)


GOALS = (Goal("G1", "one"), Goal("G2", "two"))
INITIATIVES = (
    Initiative("I1", "forum", "G1", "Community"),
    Initiative("I2", "linkedin", "G1", "LinkedIn"),
    Initiative("I3", "x", "G2", None),
)


def cost(day, amount, initiative=None, goal=None, category=None, row=2):
    if initiative and goal is None:
        goal = {"I1": "G1", "I2": "G1", "I3": "G2"}[initiative]
    return Cost(day, D(amount), initiative, goal, category, source=CellRef("Costs", row))


def ret(day, amount, initiative="I1", confidence="High", rtype=COST_SAVINGS, row=2, **kw):
    return Return(
        day,
        f"T{row}",
        rtype,
        D(amount),
        initiative,
        confidence=confidence,
        source=CellRef("Returns", row),
        **kw,
    )


def run(costs=(), returns=(), metrics=(), goals=GOALS, **kw):
    return compute(
        Records(
            program=program(**kw),
            goals=goals,
            initiatives=INITIATIVES,
            costs=tuple(costs),
            returns=tuple(returns),
            metrics=tuple(metrics),
        )
    )


# --- scenarios and ROI -------------------------------------------------------------


def test_scenarios_count_high_then_medium_then_low():
    r = run(
        costs=[cost(date(2026, 1, 5), "100", "I1")],
        returns=[
            ret(date(2026, 1, 6), "100", confidence="High", row=2),
            ret(date(2026, 1, 7), "50", confidence="Medium", row=3),
            ret(date(2026, 1, 8), "25", confidence="Low", row=4),
        ],
    )
    t = r.totals
    # conservative 100, expected 150, optimistic 175 against 100 invested
    assert (
        t.returns_by_scenario.conservative,
        t.returns_by_scenario.expected,
        t.returns_by_scenario.optimistic,
    ) == (
        D("100.00"),
        D("150.00"),
        D("175.00"),
    )
    assert (t.roi.conservative, t.roi.expected, t.roi.optimistic) == (D(0), D("0.5"), D("0.75"))
    assert t.returns.total == D("150.00") and t.net_return == D("50.00")


def test_returns_by_type_after_margin():
    r = run(
        costs=[cost(date(2026, 1, 5), "1000", "I1")],
        returns=[
            ret(date(2026, 1, 6), "500", rtype=NEW_REVENUE, gross_margin=D("0.3"), row=2),  # 150.00
            ret(date(2026, 1, 7), "80", rtype=COST_SAVINGS, row=3),
            ret(date(2026, 1, 8), "20.5", rtype=SPENDING_AVOIDED, row=4),
        ],
    )
    b = r.totals.returns
    assert (b.new_revenue, b.cost_savings, b.spending_avoided, b.total) == (
        D("150.00"),
        D("80.00"),
        D("20.50"),
        D("250.50"),
    )
    # ROI = (250.50 - 1000) / 1000
    assert r.totals.roi.expected == D("-0.7495")


def test_roi_is_none_without_investment_and_null_in_json():
    r = run(costs=[cost(date(2026, 1, 5), "100", "I1")], returns=[ret(date(2026, 1, 6), "40", "I3")])
    g2 = r.goals[1]
    assert g2.id == "G2" and g2.figures.investment == 0
    assert g2.figures.roi.expected is None and g2.figures.roi.conservative is None
    assert results_to_json(r)["goals"][1]["roi"] == {
        "conservative": None,
        "expected": None,
        "optimistic": None,
    }
    assert r.payback_months is None  # 40 never covers 100
    assert g2.payback_months is None  # no investment: payback needs positive cumulative investment


def test_goal_investment_unallocated_categories_and_channels():
    r = run(
        costs=[
            cost(date(2026, 1, 5), "300", "I1", category="People", row=2),
            cost(date(2026, 1, 6), "200", "I2", category="Paid media", row=3),
            cost(date(2026, 2, 6), "100", goal="G2", category="People", row=4),  # goal-level, no initiative
            cost(date(2026, 2, 7), "400", category="Training", row=5),  # overhead
        ],
    )
    assert r.totals.investment == D("1000") and r.unallocated_investment == D("400")
    assert [(g.id, g.figures.investment) for g in r.goals] == [("G1", D("500")), ("G2", D("100"))]
    assert [(i.id, i.figures.investment) for i in r.initiatives] == [
        ("I1", D(300)),
        ("I2", D(200)),
        ("I3", D(0)),
    ]
    assert [(c.channel, c.figures.investment) for c in r.channels] == [
        ("Community", D(300)),
        ("LinkedIn", D(200)),
        ("(none)", D(0)),
    ]
    # People 400 = 40 %, Paid media 200 = 20 %, Training 400 = 40 %, in the contract's category order
    assert [(c.category, c.investment, c.share) for c in r.categories] == [
        ("People", D(400), D("0.4")),
        ("Paid media", D(200), D("0.2")),
        ("Training", D(400), D("0.4")),
    ]
    assert [c.period for c in r.cost_lines] == ["2026-01", "2026-01", "2026-02", "2026-02"]


# --- periods ---------------------------------------------------------------------


def test_month_periods_with_cumulative_figures():
    r = run(
        costs=[cost(date(2026, 1, 5), "100", "I1", row=2), cost(date(2026, 3, 5), "50", "I1", row=3)],
        returns=[ret(date(2026, 2, 1), "70", row=2), ret(date(2026, 3, 31), "90", row=3)],
    )
    rows = [(p.label, p.start, p.end, p.investment, p.returns.total, p.net_return) for p in r.periods]
    assert rows == [
        ("2026-01", date(2026, 1, 1), date(2026, 1, 31), D(100), D(0), D(-100)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28), D(0), D("70.00"), D("70.00")),
        ("2026-03", date(2026, 3, 1), date(2026, 3, 31), D(50), D("90.00"), D("40.00")),
    ]
    assert [(p.cumulative_investment, p.cumulative_return) for p in r.periods] == [
        (D(100), D(0)),
        (D(100), D("70.00")),
        (D(150), D("160.00")),
    ]
    # cumulative 160 >= 150 first at the end of March -> 3 months
    assert r.payback_months == 3


def test_quarter_periods_stop_at_as_of():
    r = run(
        costs=[cost(date(2026, 2, 5), "100", "I1", row=2), cost(date(2026, 7, 10), "30", "I1", row=3)],
        returns=[ret(date(2026, 5, 1), "70", row=2)],
        reporting_period="Quarter",
        as_of=date(2026, 7, 15),
    )
    assert [(p.label, p.start, p.end, p.investment, p.returns.total) for p in r.periods] == [
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31), D(100), D(0)),
        ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30), D(0), D("70.00")),
        ("2026-Q3", date(2026, 7, 1), date(2026, 7, 15), D(30), D(0)),
    ]
    assert r.cost_lines[1].period == "2026-Q3"


def test_period_starting_mid_month():
    # Period start 15 Feb: first bucket is 15-28 Feb, then calendar months; payback counts the
    # partial February as month 1
    r = run(
        costs=[cost(date(2026, 2, 20), "100", "I1")],
        returns=[ret(date(2026, 3, 2), "100")],
        period_start=date(2026, 2, 15),
        as_of=date(2026, 4, 10),
    )
    assert [(p.label, p.start, p.end) for p in r.periods] == [
        ("2026-02", date(2026, 2, 15), date(2026, 2, 28)),
        ("2026-03", date(2026, 3, 1), date(2026, 3, 31)),
        ("2026-04", date(2026, 4, 1), date(2026, 4, 10)),
    ]
    assert r.payback_months == 2
    q = run(period_start=date(2026, 2, 15), as_of=date(2026, 8, 10), reporting_period="Quarter")
    assert [(p.label, p.start, p.end) for p in q.periods] == [
        ("2026-02..2026-04", date(2026, 2, 15), date(2026, 4, 30)),
        ("2026-05..2026-07", date(2026, 5, 1), date(2026, 7, 31)),
        ("2026-08..2026-10", date(2026, 8, 1), date(2026, 8, 10)),
    ]


# --- payback -------------------------------------------------------------------------


def test_payback_not_reached():
    r = run(costs=[cost(date(2026, 1, 5), "100", "I1")], returns=[ret(date(2026, 3, 6), "99.99")])
    assert r.payback_months is None and r.goals[0].payback_months is None


def test_payback_reached_then_lost_counts_the_first_month_reached():
    # Jan: 100 in, 100 back -> reached at month 1. Feb: 500 more invested -> lost. Still 1.
    r = run(
        costs=[cost(date(2026, 1, 5), "100", "I1", row=2), cost(date(2026, 2, 5), "500", "I1", row=3)],
        returns=[ret(date(2026, 1, 20), "100")],
    )
    assert r.payback_months == 1 and r.goals[0].payback_months == 1
    assert r.periods[-1].cumulative_return < r.periods[-1].cumulative_investment


def test_payback_needs_positive_cumulative_investment():
    # a January return before any cost does not make month 1 a payback; February (50 in, 100 back) does
    r = run(costs=[cost(date(2026, 2, 5), "50", "I1")], returns=[ret(date(2026, 1, 20), "100")])
    assert r.payback_months == 2


def test_payback_counts_expected_not_optimistic():
    r = run(
        costs=[cost(date(2026, 1, 5), "100", "I1")], returns=[ret(date(2026, 1, 20), "500", confidence="Low")]
    )
    assert r.payback_months is None


# --- NPV ---------------------------------------------------------------------------


def test_npv_against_a_hand_calculation():
    # nets: Jan -1000, Feb +600, Mar +600 at 10 % a year:
    #   -1000 / 1.1^(1/12) = -1000 / 1.0079741 = -992.0887
    #   +600 / 1.1^(2/12)  =  600 / 1.0160119 =  590.5443
    #   +600 / 1.1^(3/12)  =  600 / 1.0241137 =  585.8723
    #   NPV = 184.3279 -> 184.33
    costs = [cost(date(2026, 1, 5), "1000", "I1")]
    returns = [ret(date(2026, 2, 5), "600", row=2), ret(date(2026, 3, 5), "600", row=3)]
    r = run(costs=costs, returns=returns, discount_rate=D("0.10"))
    assert r.npv == D("184.33") and r.goals[0].npv == D("184.33")
    assert r.goals[1].npv == D("0.00")
    # monthly nets even when reporting by quarter
    q = run(costs=costs, returns=returns, discount_rate=D("0.10"), reporting_period="Quarter")
    assert q.npv == D("184.33") and len(q.periods) == 1


def test_no_npv_without_discount_rate():
    r = run(costs=[cost(date(2026, 1, 5), "1000", "I1")])
    assert r.npv is None and r.goals[0].npv is None
    assert results_to_json(r)["totals"]["npv"] is None


# --- KPIs ------------------------------------------------------------------------------


def metric(day, name, value, goal="G1", row=2, initiative=None):
    return Metric(day, name, value, goal, initiative, source=CellRef("Metrics", row))


def kpi_of(goal, metrics, as_of=date(2026, 3, 31)):
    return run(goals=(goal,), metrics=metrics, as_of=as_of).goals[0].kpi


TARGET_DAY = date(2026, 12, 31)
REFERRALS = [
    metric(date(2026, 1, 10), "Referrals", 30, row=2),
    metric(date(2026, 3, 10), "Referrals", 20, row=3),
]


def test_kpi_achieved():
    # Actual = 30 + 20 = 50 (flow, cumulative); (50 - 0) / (40 - 0) = 1.25
    k = kpi_of(Goal("G1", "g", kpi="Referrals", baseline=0, target=40, target_date=TARGET_DAY), REFERRALS)
    assert (k.actual, k.attainment, k.status) == (50, 1.25, "Achieved")


def test_kpi_on_track_and_at_risk_against_elapsed_time():
    # As of 31 Mar; Period start 1 Jan; target date 1 Jul: elapsed 89 / 181 = 0.4917
    goal = Goal("G1", "g", kpi="Referrals", baseline=10, target=90, target_date=date(2026, 7, 1))
    # (50 - 10) / (90 - 10) = 0.5 >= 0.4917 -> On track
    k = kpi_of(goal, REFERRALS)
    assert (k.attainment, k.status) == (0.5, "On track")
    # target 92: (50 - 10) / 82 = 0.4878 < 0.4917 -> At risk
    k = kpi_of(
        Goal("G1", "g", kpi="Referrals", baseline=10, target=92, target_date=date(2026, 7, 1)), REFERRALS
    )
    assert k.status == "At risk" and k.attainment == pytest.approx(40 / 82)


def test_kpi_missed_only_after_the_target_date_relative_to_as_of():
    goal = Goal("G1", "g", kpi="Referrals", baseline=0, target=100, target_date=date(2026, 3, 15))
    assert kpi_of(goal, REFERRALS).status == "Missed"  # As of 31 Mar is past 15 Mar, 50 % attained
    # the same goal judged as of the target date itself is not missed yet
    early = [m for m in REFERRALS if m.date <= date(2026, 3, 15)]
    assert kpi_of(goal, early, as_of=date(2026, 3, 15)).status == "At risk"


def test_kpi_not_measurable_and_no_data():
    assert kpi_of(Goal("G1", "g", kpi="Referrals", target=40), REFERRALS).status == "Not measurable"
    assert kpi_of(Goal("G1", "g"), REFERRALS).status == "Not measurable"
    k = kpi_of(Goal("G1", "g", kpi="NPS", target=40, target_date=TARGET_DAY), REFERRALS)
    assert (k.actual, k.attainment, k.status) == (None, None, "No data")


def test_kpi_stock_takes_the_latest_value_and_decrease_direction():
    # complaints-style stock where lower is better: baseline 40, target 20; latest value 25
    rows = [
        metric(date(2026, 1, 31), "Sentiment score", 40, row=2),
        metric(date(2026, 3, 20), "Sentiment score", 25, row=3),
        metric(date(2026, 2, 28), "Sentiment score", 30, row=4),
    ]
    goal = Goal(
        "G1", "g", kpi="Sentiment score", baseline=40, target=20, target_date=TARGET_DAY, direction="Decrease"
    )
    k = kpi_of(goal, rows)
    # (25 - 40) / (20 - 40) = 0.75 >= elapsed 89/364 -> On track
    assert (k.actual, k.attainment, k.status) == (25, 0.75, "On track")


def test_stock_rows_on_the_same_last_date_are_averaged():
    rows = [metric(date(2026, 3, 20), "NPS", 30, row=2), metric(date(2026, 3, 20), "NPS", 40, row=3)]
    k = kpi_of(Goal("G1", "g", kpi="NPS", baseline=0, target=70, target_date=TARGET_DAY), rows)
    assert k.actual == 35 and k.attainment == 0.5


def test_kpi_can_be_a_derived_rate():
    rows = [
        metric(date(2026, 1, 5), "Engagements", 30, row=2),
        metric(date(2026, 2, 5), "Engagements", 20, row=3),
        metric(date(2026, 1, 5), "Reach", 1000, row=4),
    ]
    # (30 + 20) / 1000 = 0.05; (0.05 - 0) / (0.04 - 0) = 1.25
    k = kpi_of(Goal("G1", "g", kpi="Engagement rate", baseline=0, target=0.04, target_date=TARGET_DAY), rows)
    assert k.actual == 0.05 and k.status == "Achieved"


# --- metrics per period, derived rates ----------------------------------------------------


def test_metrics_per_period_and_derived_rates():
    rows = [
        metric(date(2026, 1, 5), "Reach", 1000, row=2),
        metric(date(2026, 1, 25), "Reach", 1000, row=3),
        metric(date(2026, 1, 6), "Engagements", 50, row=4),
        metric(date(2026, 1, 6), "Posts", 4, row=5),
        metric(date(2026, 1, 6), "Comments", 6, row=6),
        metric(date(2026, 1, 6), "Shares", 2, row=7),
        metric(date(2026, 1, 6), "Likes", 10, row=8),
        metric(date(2026, 1, 6), "Positive mentions", 9, row=9),
        metric(date(2026, 1, 6), "Negative mentions", 3, row=10),
        metric(date(2026, 1, 3), "Followers", 500, row=11),
        metric(date(2026, 1, 30), "Followers", 520, row=12),
        metric(date(2026, 2, 3), "Positive mentions", 4, goal=None, row=13),  # programme-level
        metric(date(2026, 2, 3), "Posts", 0, goal=None, row=14),
    ]
    r = run(metrics=rows)
    prog = {(m.metric, m.period): (m.value, m.derived) for m in r.metrics if m.goal_id is None}
    g1 = {(m.metric, m.period): m.value for m in r.metrics if m.goal_id == "G1"}
    assert prog[("Reach", "2026-01")] == (2000, False)  # flow: 1000 + 1000
    assert prog[("Followers", "2026-01")] == (520, False)  # stock: last value
    assert prog[("Engagement rate", "2026-01")] == (50 / 2000, True)  # 0.025
    assert prog[("Conversation rate", "2026-01")] == (6 / 4, True)
    assert prog[("Amplification rate", "2026-01")] == (2 / 4, True)
    assert prog[("Applause rate", "2026-01")] == (10 / 4, True)
    assert prog[("Net sentiment", "2026-01")] == ((9 - 3) / (9 + 3), True)  # 0.5
    # February: positive mentions without negative ones -> no net sentiment; 0 posts -> no rates
    assert ("Net sentiment", "2026-02") not in prog and ("Applause rate", "2026-02") not in prog
    assert prog[("Positive mentions", "2026-02")] == (4, False)
    # the goal's scope holds only its rows
    assert g1[("Reach", "2026-01")] == 2000 and ("Positive mentions", "2026-02") not in g1


def test_unknown_metric_is_a_flow_with_an_info_note():
    rows = [
        metric(date(2026, 1, 5), "Webinar sign-ups", 5, row=3),
        metric(date(2026, 1, 9), "Webinar sign-ups", 7),
    ]
    r = run(metrics=rows)
    assert [m.value for m in r.metrics if m.metric == "Webinar sign-ups" and m.goal_id is None] == [12]
    notes = [i for i in r.issues if "Webinar" in i.message]
    assert len(notes) == 1 and notes[0].where == "Metrics!A2" and str(notes[0].severity) == "info"


def test_rows_outside_the_period_are_not_counted_with_a_warning():
    # the loader drops these; the engine stays total when handed them anyway
    r = run(costs=[cost(date(2026, 4, 2), "100", "I1")], returns=[ret(date(2025, 12, 31), "50")])
    assert r.totals.investment == 0 and r.ledger == ()
    assert [i.where for i in r.issues] == ["Costs!A2", "Returns!A2"]


_id_text = st.one_of(
    st.text(alphabet=st.sampled_from("aAbB-_ 0123456789ßẞΣσςİı\u0660\u0669\u00b2\0"), max_size=8),
    st.from_regex(r"[A-Za-z]{1,3}-?0*[0-9]{1,4}(-[0-9]{1,2})?", fullmatch=True),
)
_day = st.dates(date(2026, 1, 1), date(2026, 1, 4))


def _line(row: int, day: date, ref: str, iid: str):
    from scrm_xl.results import LedgerLine

    one = D(1)
    source = CellRef("Returns", row, 1)
    return LedgerLine(source, day, ref, "Cost savings", "High", iid, "G1", one, one, one, one, one, "direct")


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(_day, _id_text, st.sets(_id_text, min_size=1, max_size=3)), max_size=25))
def test_the_ledger_is_in_natural_order_of_date_ref_and_initiative_then_source(rows):
    # the packed-integer sort (one code string per text, places for equal keys) against a plain
    # sort on natural_key; refs with case folding (ß, Σ, İ), leading zeros, Arabic-Indic and
    # superscript digits, spaces and NUL
    from scrm_xl.compute import _ledger_order, natural_key

    lines = [_line(n + 2, day, ref, iid) for n, (day, ref, iids) in enumerate(rows) for iid in sorted(iids)]

    def natural(x):
        return (x.date, natural_key(x.transaction_ref), natural_key(x.initiative_id), x.source.row)

    assert list(_ledger_order(lines)) == sorted(lines, key=natural)
