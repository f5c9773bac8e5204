"""Hand-built Results for the writer's tests: small, but every section of the
four output sheets has rows in it. Every figure below was worked out by hand
from the cost and ledger lines (see the comments), so the tests compare the
written formulas against numbers that the engine did not produce.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from scrm_xl.model import CellRef, Issue, Program, Severity
from scrm_xl.results import (
    CategoryResult,
    ChannelResult,
    CostLine,
    Figures,
    GoalResult,
    InitiativeResult,
    Kpi,
    LedgerLine,
    MetricValue,
    PeriodResult,
    Results,
    ReturnByType,
    Scenarios,
)

HOSTILE_GOAL = '=HYPERLINK("http://x","y")'
CONTROL_GOAL = "Line one\x01\r\nTab\there _x0041_ literal"

PROGRAM = Program(
    name="Acme Community",
    currency="EUR",
    period_start=date(2026, 1, 1),
    period_end=date(2026, 3, 31),
    as_of=date(2026, 3, 31),
    discount_rate=D("0.10"),
    attribution_model="Linear",
)


def _roi(ret: D, inv: D) -> D | None:
    return None if inv == 0 else (ret - inv) / inv


def figures(inv: str, nr: str, cs: str, sa: str, cons: str, opt: str) -> Figures:
    inv_, nr_, cs_, sa_ = D(inv), D(nr), D(cs), D(sa)
    exp = nr_ + cs_ + sa_
    return Figures(
        investment=inv_,
        returns=ReturnByType(nr_, cs_, sa_),
        returns_by_scenario=Scenarios(D(cons), exp, D(opt)),
        net_return=exp - inv_,
        roi=Scenarios(_roi(D(cons), inv_), _roi(exp, inv_), _roi(D(opt), inv_)),
    )


# cost lines: G1 = 1000 + 500 + 100 = 1600, G2 = 800, G3 = 300, unallocated 200; total 2900
COST_LINES = (
    CostLine(CellRef("Costs", 2, 6), date(2026, 1, 10), "I1", "G1", "People", D("1000.00"), "2026-01"),
    CostLine(CellRef("Costs", 3, 6), date(2026, 1, 20), "I2", "G1", "Technology", D("500.00"), "2026-01"),
    CostLine(CellRef("Costs", 4, 6), date(2026, 2, 5), "I3", "G2", "Paid media", D("800.00"), "2026-02"),
    CostLine(CellRef("Costs", 5, 6), date(2026, 2, 15), None, None, "Other", D("200.00"), "2026-02"),
    CostLine(CellRef("Costs", 6, 6), date(2026, 3, 1), "I4", "G3", "Content", D("300.00"), "2026-03"),
    CostLine(CellRef("Costs", 7, 6), date(2026, 3, 10), "I1", "G1", None, D("100.00"), "2026-03"),
)

# counted returns: L1 2000 x 0.4 margin = 800 (High); L2 500 x 50% = 250 (Medium);
# L3 300 (Low: optimistic only); L4 2000 x 0.5 margin split 50/50 by Linear = 500 + 500 (High);
# L5 150 (High)
LEDGER = (
    LedgerLine(CellRef("Returns", 2, 5), date(2026, 1, 25), "T1", "New revenue", "High", "I1", "G1",
               D("2000"), D("1"), D("0.4"), D("1"), D("800.00"), "direct"),
    LedgerLine(CellRef("Returns", 3, 5), date(2026, 2, 10), "T2", "Cost savings", "Medium", "I2", "G1",
               D("500"), D("0.5"), D("1"), D("1"), D("250.00"), "direct"),
    LedgerLine(CellRef("Returns", 4, 5), date(2026, 2, 20), "T3", "Spending avoided", "Low", "I3", "G2",
               D("300"), D("1"), D("1"), D("1"), D("300.00"), "direct"),
    LedgerLine(CellRef("Returns", 5, 5), date(2026, 3, 5), "T4", "New revenue", "High", "I1", "G1",
               D("2000"), D("1"), D("0.5"), D("0.5"), D("500.00"), "Linear", CellRef("Touchpoints", 2, 3)),
    LedgerLine(CellRef("Returns", 5, 5), date(2026, 3, 5), "T4", "New revenue", "High", "I4", "G3",
               D("2000"), D("1"), D("0.5"), D("0.5"), D("500.00"), "Linear", CellRef("Touchpoints", 3, 3)),
    LedgerLine(CellRef("Returns", 6, 5), date(2026, 3, 15), "T5", "Cost savings", "High", "I3", "G2",
               D("150"), D("1"), D("1"), D("1"), D("150.00"), "direct"),
)  # fmt: skip

# by goal (inv, new revenue, cost savings, spending avoided; conservative, optimistic total return)
G1 = figures("1600", "1300", "250", "0", "1300", "1550")
G2 = figures("800", "0", "150", "0", "150", "450")
G3 = figures("300", "500", "0", "0", "500", "500")
TOTALS = figures("2900", "1800", "400", "0", "1950", "2500")

I1 = figures("1100", "1300", "0", "0", "1300", "1300")
I2 = figures("500", "0", "250", "0", "0", "250")
I3 = figures("800", "0", "150", "0", "150", "450")
I4 = figures("300", "500", "0", "0", "500", "500")

# monthly net: Jan 800 - 1500 = -700; Feb 250 - 1000 = -750; Mar 1150 - 400 = 750
MONTHLY_NET = (D(-700), D(-750), D(750))
NPV = sum((n / D("1.10") ** (D(m) / 12) for m, n in enumerate(MONTHLY_NET, 1)), D(0)).quantize(D("0.01"))

PERIODS = (
    PeriodResult("2026-01", date(2026, 1, 1), date(2026, 1, 31), D("1500"), ReturnByType(D("800")),
                 D("-700"), D("1500"), D("800")),
    PeriodResult("2026-02", date(2026, 2, 1), date(2026, 2, 28), D("1000"),
                 ReturnByType(cost_savings=D("250")), D("-750"), D("2500"), D("1050")),
    PeriodResult("2026-03", date(2026, 3, 1), date(2026, 3, 31), D("400"),
                 ReturnByType(D("1000"), D("150")), D("750"), D("2900"), D("2200")),
)  # fmt: skip

GOALS = (
    GoalResult("G1", "Grow repeat revenue", "Loyalty", "Dana", True, G1, None, None,
               Kpi("Repeat purchase rate", 0.2, 0.3, date(2026, 6, 30), "Increase", 0.25, 0.5, "On track")),
    GoalResult("G2", HOSTILE_GOAL, "Customer care", None, True, G2, None, None,
               Kpi("NPS", 10.0, 30.0, date(2026, 3, 31), "Increase", None, None, "No data")),
    GoalResult("G3", CONTROL_GOAL, "Awareness", "Lee", False, G3, 3, None,
               Kpi(None, None, None, None, "Increase", None, None, "Not measurable")),
)  # fmt: skip

INITIATIVES = (
    InitiativeResult("I1", "LinkedIn thought leadership", "G1", "LinkedIn", I1),
    InitiativeResult("I2", "Customer forum", "G1", "community forum", I2),
    InitiativeResult("I3", "Care desk on social", "G2", None, I3),
    InitiativeResult("I4", "X campaign", "G3", "X", I4),
)

CHANNELS = (
    ChannelResult("LinkedIn", I1),
    ChannelResult("community forum", I2),
    ChannelResult("(none)", I3),
    ChannelResult("X", I4),
)

CATEGORIES = tuple(
    CategoryResult(name, D(amount), D(amount) / D(2900))
    for name, amount in (
        ("People", "1000"), ("Technology", "500"), ("Paid media", "800"),
        ("Other", "200"), ("Content", "300"), ("(none)", "100"),
    )
)  # fmt: skip

METRICS = (
    MetricValue("Reach", "2026-01", None, 1000.0),
    MetricValue("Reach", "2026-02", None, 1500.0),
    MetricValue("Reach", "2026-03", None, 2000.0),
    MetricValue("Engagements", "2026-01", None, 50.0),
    MetricValue("Engagements", "2026-02", None, 90.0),
    MetricValue("Engagements", "2026-03", None, 100.0),
    MetricValue("Engagement rate", "2026-01", None, 0.05, derived=True),
    MetricValue("Engagement rate", "2026-02", None, 0.06, derived=True),
    MetricValue("Engagement rate", "2026-03", None, 0.05, derived=True),
    MetricValue("Repeat purchase rate", "2026-01", "G1", 0.2),
    MetricValue("Repeat purchase rate", "2026-03", "G1", 0.25),
)

ISSUES = (
    Issue(Severity.ERROR, "Returns!E9", 'amount "12,5x" is not a number'),
    Issue(Severity.WARNING, "Costs!F5", "cost row has neither initiative nor goal: counted as Unallocated"),
    Issue(Severity.INFO, "Metrics!D4", 'unknown metric "Bell\x07"; summed over each period'),
    Issue(Severity.WARNING, "", "=cmd|' /C calc'!A0"),
)


def results(**changes: object) -> Results:
    """The reference Results; keyword arguments replace fields (dataclasses.replace)."""
    from dataclasses import replace

    base = Results(
        program=PROGRAM,
        totals=TOTALS,
        unallocated_investment=D("200"),
        payback_months=None,
        npv=NPV,
        goals=GOALS,
        initiatives=INITIATIVES,
        channels=CHANNELS,
        categories=CATEGORIES,
        periods=PERIODS,
        ledger=LEDGER,
        cost_lines=COST_LINES,
        metrics=METRICS,
        issues=ISSUES,
    )
    return replace(base, **changes) if changes else base
