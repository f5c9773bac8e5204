"""The worked example of docs/worked-example.md: the engine must reproduce every figure derived
there by hand. The records below are the example workbook's rows as the loader hands them over
(row numbers are the workbook's); the expected figures are copied from the document."""

from datetime import date, datetime
from decimal import Decimal as D

import pytest

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
    Touchpoint,
)

PROGRAM = Program(
    name="Worked example",
    currency="EUR",
    period_start=date(2026, 1, 1),
    period_end=date(2026, 6, 30),
    as_of=date(2026, 3, 31),
    as_of_given=True,
    reporting_period="Month",
    default_gross_margin=D("0.40"),
    discount_rate=D("0.12"),
    attribution_model="Linear",
    lookback_days=30,
)

GOALS = (
    Goal(
        "G1",
        "Grow referrals through the customer community",
        "Loyalty",
        "Referrals",
        0,
        200,
        date(2026, 6, 30),
    ),
    Goal("G2", "Resolve support questions in the open", "Customer care", "NPS", 20, 30, date(2026, 6, 30)),
)

INITIATIVES = (
    Initiative("I1", "Customer community forum", "G1", "Community forum"),
    Initiative("I2", "LinkedIn thought leadership", "G1", "LinkedIn"),
    Initiative("I3", "Customer care on X", "G2", "X"),
)


def _cost(row, day, initiative, goal, category, description, amount):
    return Cost(day, D(amount), initiative, goal, category, description, CellRef("Costs", row))


COSTS = (
    _cost(2, date(2026, 1, 10), "I1", "G1", "People", "Community manager, January", "3000.00"),
    _cost(3, date(2026, 1, 15), "I2", "G1", "Paid media", "LinkedIn campaign", "1500.00"),
    _cost(4, date(2026, 2, 10), "I1", "G1", "People", "Community manager, February", "3000.00"),
    _cost(5, date(2026, 2, 20), "I3", "G2", "Technology", "Social care tool licence", "1200.00"),
    _cost(6, date(2026, 3, 5), None, None, "Training", "Social CRM training for all teams", "800.00"),
    _cost(7, date(2026, 3, 10), "I3", "G2", "People", "Support agents' time on X", "2000.00"),
)


def _ret(row, day, ref, rtype, initiative, amount, margin=None, attribution="1", confidence="High"):
    return Return(
        day,
        ref,
        rtype,
        D(amount),
        initiative,
        None if margin is None else D(margin),
        D(attribution),
        confidence,
        source=CellRef("Returns", row),
    )


RETURNS = (
    _ret(2, date(2026, 1, 25), "SO-1001", NEW_REVENUE, "I1", "5000.00", margin="0.35"),
    _ret(3, date(2026, 2, 14), "SO-1002", NEW_REVENUE, None, "2345.67"),
    _ret(
        4, date(2026, 2, 28), "SO-1003", NEW_REVENUE, "I2", "4000.00", attribution="0.5", confidence="Medium"
    ),
    _ret(5, date(2026, 3, 15), "CASE-2001", COST_SAVINGS, "I3", "3150.00"),
    _ret(6, date(2026, 3, 20), "INV-3001", SPENDING_AVOIDED, "I3", "1000.00", confidence="Medium"),
    _ret(7, date(2026, 3, 25), "SO-1004", NEW_REVENUE, "I1", "2000.00", confidence="Low"),
)

TOUCHPOINTS = tuple(
    Touchpoint("SO-1002", who, when, CellRef("Touchpoints", row))
    for row, who, when in [
        (2, "I2", datetime(2026, 1, 5, 9, 0)),
        (3, "I1", datetime(2026, 1, 20, 10, 0)),
        (4, "I2", datetime(2026, 2, 2, 14, 30)),
        (5, "I3", datetime(2026, 2, 14, 16, 45)),
        (6, "I3", datetime(2026, 2, 15, 8, 0)),
    ]
)

METRICS = tuple(
    Metric(day, name, value, goal, initiative, CellRef("Metrics", row))
    for row, day, goal, initiative, name, value in [
        (2, date(2026, 1, 31), "G1", "I1", "Referrals", 40),
        (3, date(2026, 2, 28), "G1", "I1", "Referrals", 50),
        (4, date(2026, 3, 31), "G1", "I1", "Referrals", 30),
        (5, date(2026, 1, 31), "G1", "I2", "Reach", 10000),
        (6, date(2026, 1, 31), "G1", "I2", "Engagements", 450),
        (7, date(2026, 1, 31), "G2", None, "NPS", 24),
        (8, date(2026, 2, 28), "G2", None, "NPS", 28),
        (9, date(2026, 3, 15), "G2", None, "NPS", 31),
        (10, date(2026, 3, 31), "G2", None, "NPS", 32),
        (11, date(2026, 3, 31), "G2", "I3", "Positive mentions", 60),
        (12, date(2026, 3, 31), "G2", "I3", "Negative mentions", 15),
        (13, date(2026, 3, 31), None, None, "Followers", 5200),
    ]
)

RECORDS = Records(PROGRAM, GOALS, INITIATIVES, COSTS, RETURNS, TOUCHPOINTS, METRICS)


@pytest.fixture(scope="module")
def results():
    return compute(RECORDS)


@pytest.fixture(scope="module")
def js(results):
    return results_to_json(results)


def test_no_problems(results):
    assert results.issues == ()


def test_step1_ledger(results):
    # docs step 1: counted amounts and the Linear split of SO-1002
    assert [(str(ln.source), ln.transaction_ref, ln.initiative_id, ln.goal_id, ln.counted, ln.via)
            for ln in results.ledger] == [
        ("Returns!A2", "SO-1001", "I1", "G1", D("1750.00"), "direct"),
        ("Returns!A3", "SO-1002", "I1", "G1", D("312.76"), "Linear"),
        ("Returns!A3", "SO-1002", "I2", "G1", D("312.76"), "Linear"),
        ("Returns!A3", "SO-1002", "I3", "G2", D("312.75"), "Linear"),
        ("Returns!A4", "SO-1003", "I2", "G1", D("800.00"), "direct"),
        ("Returns!A5", "CASE-2001", "I3", "G2", D("3150.00"), "direct"),
        ("Returns!A6", "INV-3001", "I3", "G2", D("1000.00"), "direct"),
        ("Returns!A7", "SO-1004", "I1", "G1", D("800.00"), "direct"),
    ]  # fmt: skip
    assert [str(ln.touchpoint) for ln in results.ledger[1:4]] == [
        "Touchpoints!A3",
        "Touchpoints!A4",
        "Touchpoints!A5",
    ]
    assert [ln.margin for ln in results.ledger] == [D("0.35")] + [D("0.40")] * 4 + [D(1), D(1), D("0.40")]


def test_step2_investment(js):
    t = js["totals"]
    assert (t["investment"], t["unallocated_investment"]) == (11500.00, 800.00)
    assert [(g["id"], g["investment"]) for g in js["goals"]] == [("G1", 7500.00), ("G2", 3200.00)]
    assert [(i["id"], i["investment"]) for i in js["initiatives"]] == [
        ("I1", 6000.0),
        ("I2", 1500.0),
        ("I3", 3200.0),
    ]
    assert [(c["category"], c["investment"]) for c in js["categories"]] == [
        ("People", 8000.0),
        ("Technology", 1200.0),
        ("Paid media", 1500.0),
        ("Training", 800.0),
    ]
    assert [round(c["share"], 4) for c in js["categories"]] == [0.6957, 0.1043, 0.1304, 0.0696]


def test_step3_returns_by_type_and_scenario(js):
    t = js["totals"]
    assert t["return"] == {
        "new_revenue": 3488.27,
        "cost_savings": 3150.00,
        "spending_avoided": 1000.00,
        "total": 7638.27,
    }
    assert t["return_by_scenario"] == {"conservative": 5838.27, "expected": 7638.27, "optimistic": 8438.27}
    g1, g2 = js["goals"]
    assert g1["return"] == {
        "new_revenue": 3175.52,
        "cost_savings": 0.0,
        "spending_avoided": 0.0,
        "total": 3175.52,
    }
    assert g1["return_by_scenario"] == {"conservative": 2375.52, "expected": 3175.52, "optimistic": 3975.52}
    assert g2["return"] == {
        "new_revenue": 312.75,
        "cost_savings": 3150.0,
        "spending_avoided": 1000.0,
        "total": 4462.75,
    }
    assert g2["return_by_scenario"] == {"conservative": 3462.75, "expected": 4462.75, "optimistic": 4462.75}
    i1, i2, i3 = js["initiatives"]
    assert i1["return_by_scenario"] == {"conservative": 2062.76, "expected": 2062.76, "optimistic": 2862.76}
    assert i2["return_by_scenario"] == {"conservative": 312.76, "expected": 1112.76, "optimistic": 1112.76}
    assert i3["return_by_scenario"] == {"conservative": 3462.75, "expected": 4462.75, "optimistic": 4462.75}


def test_step4_net_return_and_roi(results, js):
    t = js["totals"]
    assert t["net_return"] == -3861.73
    # exact fractions: -5661.73/11500, -3861.73/11500, -3061.73/11500
    assert results.totals.roi.conservative == D("-5661.73") / D(11500)
    assert results.totals.roi.expected == D("-3861.73") / D(11500)
    assert results.totals.roi.optimistic == D("-3061.73") / D(11500)
    assert [round(t["roi"][s], 4) for s in ("conservative", "expected", "optimistic")] == [
        -0.4923,
        -0.3358,
        -0.2662,
    ]
    g1, g2 = js["goals"]
    assert (g1["net_return"], g2["net_return"]) == (-4324.48, 1262.75)
    assert g1["roi"] == {
        "conservative": -0.683264,
        "expected": pytest.approx(-0.5765973),
        "optimistic": pytest.approx(-0.4699307),
    }
    assert g2["roi"] == {"conservative": 0.082109375, "expected": 0.394609375, "optimistic": 0.394609375}
    i1, i2, i3 = js["initiatives"]
    assert round(i1["roi"]["expected"], 6) == -0.656207 and round(i1["roi"]["optimistic"], 6) == -0.522873
    assert i2["roi"]["expected"] == -0.25816 and round(i2["roi"]["conservative"], 6) == -0.791493
    assert i3["roi"] == g2["roi"]
    assert [(c["channel"], c["investment"], c["return"]["total"]) for c in js["channels"]] == [
        ("Community forum", 6000.0, 2062.76),
        ("LinkedIn", 1500.0, 1112.76),
        ("X", 3200.0, 4462.75),
    ]


def test_step5_periods(js):
    assert [
        (
            p["label"],
            p["investment"],
            p["return"],
            p["net_return"],
            p["cumulative_investment"],
            p["cumulative_return"],
        )
        for p in js["periods"]
    ] == [
        ("2026-01", 4500.0, 1750.0, -2750.0, 4500.0, 1750.0),
        ("2026-02", 4200.0, 1738.27, -2461.73, 8700.0, 3488.27),
        ("2026-03", 2800.0, 4150.0, 1350.0, 11500.0, 7638.27),
    ]


def test_step6_payback(js):
    assert js["totals"]["payback_months"] is None
    assert [g["payback_months"] for g in js["goals"]] == [None, 3]


def test_step7_npv(js):
    assert js["totals"]["npv"] == -3827.53
    assert [g["npv"] for g in js["goals"]] == [-4269.17, 1219.29]


def test_step8_kpis(js):
    g1, g2 = (g["kpi"] for g in js["goals"])
    assert (g1["actual"], g1["attainment"], g1["status"]) == (120, 0.6, "On track")
    assert (g2["actual"], g2["attainment"], g2["status"]) == (32, pytest.approx(1.2), "Achieved")


def test_step9_metrics_by_period(results):
    prog = {(m.metric, m.period): m.value for m in results.metrics if m.goal_id is None}
    assert prog == {
        ("Reach", "2026-01"): 10000,
        ("Engagements", "2026-01"): 450,
        ("Referrals", "2026-01"): 40,
        ("NPS", "2026-01"): 24,
        ("Engagement rate", "2026-01"): 0.045,
        ("Referrals", "2026-02"): 50,
        ("NPS", "2026-02"): 28,
        ("Referrals", "2026-03"): 30,
        ("Positive mentions", "2026-03"): 60,
        ("Negative mentions", "2026-03"): 15,
        ("Followers", "2026-03"): 5200,
        ("NPS", "2026-03"): 32,
        ("Net sentiment", "2026-03"): 0.6,
    }


def test_quarter_reporting_gives_one_quarter_and_the_same_npv():
    from dataclasses import replace

    q = results_to_json(compute(replace(RECORDS, program=replace(PROGRAM, reporting_period="Quarter"))))
    assert [(p["label"], p["investment"], p["return"], p["net_return"]) for p in q["periods"]] == [
        ("2026-Q1", 11500.0, 7638.27, -3861.73)
    ]
    assert q["totals"]["npv"] == -3827.53
