"""A realistic Results built by hand for the briefing's tests and bench.

The engine is not used: cost lines, ledger lines and metric values are
written out here, and every total (goal, initiative, channel, programme,
period, payback, NPV, attainment) is added up from those parts below, so the
figures agree with each other the way the engine's will.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from scrm_xl.model import (
    COST_SAVINGS,
    NEW_REVENUE,
    SPENDING_AVOIDED,
    CellRef,
    Program,
    error,
    info,
    warning,
)
from scrm_xl.results import (
    ZERO,
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

# the briefing's section titles, in the order the issue asks for
SECTIONS = [
    "Return on investment",
    "Value created — not counted in ROI",
    "Goals scorecard",
    "ROI — tangible, transaction-linked",
    "Value — intangible, not counted in ROI",
    "From value to ROI",
    "Data quality",
    "Method and assumptions",
]

CENT = Decimal("0.01")
SCENARIO_CONFIDENCES = {
    "conservative": ("High",),
    "expected": ("High", "Medium"),
    "optimistic": ("High", "Medium", "Low"),
}

PROGRAM = Program(
    name="Northwind Social CRM 2025",
    currency="USD",
    period_start=date(2025, 1, 1),
    period_end=date(2025, 12, 31),
    as_of=date(2025, 12, 31),
    as_of_given=True,
    default_gross_margin=Decimal("0.40"),
    discount_rate=Decimal("0.08"),
    attribution_model="Linear",
    half_life_days=Decimal(7),
    lookback_days=90,
    locale="en_US",
    prepared_by="Finance Ops, J. Rivera",
)

# (id, name, objective, kpi, baseline, target, target date, owner)
GOALS = [
    ("G1", "Deflect support tickets to the community forum", "Customer care", "Reviews", 0.0, 80.0,
     date(2025, 12, 31), "M. Chen"),
    ("G2", "Win new B2B accounts through LinkedIn referrals", "Acquisition", "Referrals", 0.0, 200.0,
     date(2026, 3, 31), "S. Patel"),
    ("G3", "Raise repeat purchases among loyalty club members", "Loyalty", "Sentiment score", 0.2, 0.8,
     date(2026, 6, 30), "L. Okafor"),
    ("G4", "Build brand advocacy through customer stories", "Advocacy", None, None, None, None, "R. Silva"),
]  # fmt: skip

# (id, name, goal, channel)
INITIATIVES = [
    ("I1", "Community forum launch", "G1", "Community forum"),
    ("I2", "LinkedIn thought leadership", "G2", "LinkedIn"),
    ("I3", "LinkedIn referral programme", "G2", "LinkedIn"),
    ("I4", "Loyalty club on Instagram", "G3", "Instagram"),
    ("I5", "Customer stories on X", "G4", "X"),
]
GOAL_OF = {i[0]: i[2] for i in INITIATIVES}


def _month_end(month: int) -> date:
    return date(2025, month, calendar.monthrange(2025, month)[1])


def _cost_lines() -> list[CostLine]:
    rows: list[tuple[int, int, str | None, str, Decimal]] = []  # day, month, initiative, category, amount
    for m in range(1, 13):
        rows.append((5, m, "I1", "People", Decimal(4000)))
        rows.append((10, m, "I2", "Content", Decimal(2500)))
        if m >= 3:
            rows.append((12, m, "I3", "Paid media", Decimal(3000)))
        rows.append((15, m, "I4", "Agency", Decimal(2000)))
        rows.append((20, m, "I5", "Content", Decimal(1500)))
    rows.append((2, 1, "I1", "Technology", Decimal(12000)))
    rows.append((3, 1, None, "Training", Decimal(1000)))
    rows.append((3, 7, None, "Training", Decimal(1000)))
    rows.sort(key=lambda r: (r[1], r[0], r[2] or ""))
    return [
        CostLine(
            source=CellRef("Costs", n + 2, 6),
            date=date(2025, month, day),
            initiative_id=initiative,
            goal_id=GOAL_OF.get(initiative) if initiative else None,
            category=category,
            amount=amount,
            period=f"2025-{month:02d}",
        )
        for n, (day, month, initiative, category, amount) in enumerate(rows)
    ]


def _ledger() -> list[LedgerLine]:
    lines: list[LedgerLine] = []
    row = 2

    def add(day, month, ref, rtype, confidence, initiative, amount, attribution, margin, share, via):
        nonlocal row
        counted = (amount * attribution * margin * share).quantize(CENT, rounding=ROUND_HALF_UP)
        lines.append(
            LedgerLine(
                source=CellRef("Returns", row, 5),
                date=date(2025, month, day),
                transaction_ref=ref,
                return_type=rtype,
                confidence=confidence,
                initiative_id=initiative,
                goal_id=GOAL_OF[initiative],
                amount=amount,
                attribution=attribution,
                margin=margin,
                credit_share=share,
                counted=counted,
                via=via,
                touchpoint=CellRef("Touchpoints", row, 2) if via != "direct" else None,
            )
        )

    for m in range(2, 13):
        # tickets the forum answered instead of the support desk
        add(28, m, f"SUP-{m:02d}", COST_SAVINGS, "High", "I1", Decimal(5000 + 500 * m), Decimal(1),
            Decimal(1), Decimal(1), "direct")  # fmt: skip
        row += 1
    for m in range(4, 13):
        # a new account touched by both LinkedIn initiatives: Linear splits the credit
        for initiative in ("I2", "I3"):
            add(18, m, f"CRM-{m:02d}1", NEW_REVENUE, "Medium", initiative, Decimal(30000), Decimal("0.8"),
                Decimal("0.40"), Decimal("0.5"), "Linear")  # fmt: skip
        row += 1
    for m in range(5, 13):
        add(22, m, f"ORD-{m:02d}7", NEW_REVENUE, "High", "I4", Decimal(8000), Decimal(1), Decimal("0.40"),
            Decimal(1), "direct")  # fmt: skip
        row += 1
    for m in range(6, 13):
        add(25, m, f"AGY-{m:02d}", SPENDING_AVOIDED, "Low", "I4", Decimal(1500), Decimal(1), Decimal(1),
            Decimal(1), "direct")  # fmt: skip
        row += 1
    return lines


def _by_type(lines) -> ReturnByType:
    totals = defaultdict(lambda: ZERO)
    for line in lines:
        totals[line.return_type] += line.counted
    return ReturnByType(totals[NEW_REVENUE], totals[COST_SAVINGS], totals[SPENDING_AVOIDED])


def figures(costs, lines) -> Figures:
    """Investment and return of one slice, from its cost and ledger lines (the contract's rules)."""
    investment = sum((c.amount for c in costs), ZERO)
    by_scenario = {
        name: sum((ln.counted for ln in lines if ln.confidence in conf), ZERO)
        for name, conf in SCENARIO_CONFIDENCES.items()
    }
    expected = _by_type([ln for ln in lines if ln.confidence in SCENARIO_CONFIDENCES["expected"]])

    def roi(ret):
        return (ret - investment) / investment if investment else None

    return Figures(
        investment=investment,
        returns=expected,
        returns_by_scenario=Scenarios(**by_scenario),
        net_return=expected.total - investment,
        roi=Scenarios(**{name: roi(value) for name, value in by_scenario.items()}),
    )


def _periods(costs, lines) -> list[PeriodResult]:
    periods, cum_inv, cum_ret = [], ZERO, ZERO
    for m in range(1, 13):
        label = f"2025-{m:02d}"
        month_costs = [c for c in costs if c.period == label]
        month_lines = [ln for ln in lines if ln.date.month == m]
        fig = figures(month_costs, month_lines)
        cum_inv += fig.investment
        cum_ret += fig.returns.total
        periods.append(
            PeriodResult(
                label,
                date(2025, m, 1),
                _month_end(m),
                fig.investment,
                fig.returns,
                fig.net_return,
                cum_inv,
                cum_ret,
            )  # fmt: skip
        )
    return periods


def _payback(periods) -> int | None:
    for n, p in enumerate(periods, start=1):
        if p.cumulative_investment > 0 and p.cumulative_return >= p.cumulative_investment:
            return n
    return None


def _npv(periods, rate: Decimal) -> Decimal:
    total = sum(float(p.net_return) / (1 + float(rate)) ** (m / 12) for m, p in enumerate(periods, start=1))
    return Decimal(str(total)).quantize(CENT, rounding=ROUND_HALF_UP)


def _metrics() -> list[MetricValue]:
    """Monthly metric values per goal, plus the programme-wide sums (flows) and last values (stocks)."""
    per_goal: dict[tuple[str, str, str], float] = {}
    for m in range(1, 13):
        label = f"2025-{m:02d}"
        series = {
            "G1": {"Reach": 3000 + 200 * m, "Engagements": 260 + 25 * m, "Reviews": 6 + m // 2},
            "G2": {"Reach": 20000 + 1500 * m, "Engagements": 700 + 60 * m, "Referrals": 8 + m},
            "G3": {"Reach": 5000 + 300 * m, "Engagements": 320 + 30 * m, "Sentiment score": 0.2 + 0.025 * m},
            "G4": {"Reach": 8000 + 800 * m, "Engagements": 400 + 45 * m, "Referrals": 1 + m // 3},
        }
        for goal, values in series.items():
            for metric, value in values.items():
                per_goal[(metric, label, goal)] = round(float(value), 6)
    out = [MetricValue(metric, period, goal, value) for (metric, period, goal), value in per_goal.items()]
    programme: dict[tuple[str, str], float] = defaultdict(float)
    for (metric, period, _goal), value in per_goal.items():
        if metric == "Sentiment score":
            programme[(metric, period)] = value  # stock: one goal reports it, its value is the latest
        else:
            programme[(metric, period)] += value
    out += [MetricValue(metric, period, None, value) for (metric, period), value in programme.items()]
    # derived: Engagement rate = Engagements / Reach, per scope and period
    scopes = {(p, g) for (mt, p, g) in per_goal if mt == "Reach"} | {(p, None) for (mt, p) in programme}
    lookup = {(mv.metric, mv.period, mv.goal_id): mv.value for mv in out}
    for period, goal in sorted(scopes, key=lambda s: (s[0], s[1] or "")):
        reach, engaged = lookup.get(("Reach", period, goal)), lookup.get(("Engagements", period, goal))
        if reach and engaged is not None:
            out.append(MetricValue("Engagement rate", period, goal, engaged / reach, derived=True))
    return sorted(out, key=lambda mv: (mv.goal_id or "", mv.metric, mv.period))


def _kpi(goal_row, metrics, as_of: date, period_start: date) -> Kpi:
    gid, _name, _objective, kpi, baseline, target, target_date, _owner = goal_row
    if kpi is None or target is None or target_date is None:
        return Kpi(kpi, baseline, target, target_date, "Increase", None, None, "Not measurable")
    values = [mv for mv in metrics if mv.goal_id == gid and mv.metric == kpi]
    if not values:
        return Kpi(kpi, baseline, target, target_date, "Increase", None, None, "No data")
    values.sort(key=lambda mv: mv.period)
    actual = values[-1].value if kpi == "Sentiment score" else sum(mv.value for mv in values)
    attainment = (actual - baseline) / (target - baseline)
    elapsed = (as_of - period_start).days / (target_date - period_start).days
    if attainment >= 1:
        status = "Achieved"
    elif as_of > target_date:
        status = "Missed"
    else:
        status = "On track" if attainment >= elapsed else "At risk"
    return Kpi(kpi, baseline, target, target_date, "Increase", actual, attainment, status)


def make_results(**program_changes) -> Results:
    program = replace(PROGRAM, **program_changes)
    costs, lines, metrics = _cost_lines(), _ledger(), _metrics()

    goals = []
    for row in GOALS:
        gid = row[0]
        g_costs = [c for c in costs if c.goal_id == gid]
        g_lines = [ln for ln in lines if ln.goal_id == gid]
        g_periods = _periods(g_costs, g_lines)
        goals.append(
            GoalResult(
                id=gid,
                name=row[1],
                objective=row[2],
                owner=row[7],
                measurable=row[3] is not None and row[5] is not None and row[6] is not None,
                figures=figures(g_costs, g_lines),
                payback_months=_payback(g_periods),
                npv=_npv(g_periods, program.discount_rate) if program.discount_rate is not None else None,
                kpi=_kpi(row, metrics, program.as_of, program.period_start),
            )
        )
    initiatives = [
        InitiativeResult(
            iid, name, gid, channel,
            figures([c for c in costs if c.initiative_id == iid],
                    [ln for ln in lines if ln.initiative_id == iid]),
        )
        for iid, name, gid, channel in INITIATIVES
    ]  # fmt: skip
    channel_names = sorted({i[3] for i in INITIATIVES})
    channels = []
    for channel in channel_names:
        ids = {i[0] for i in INITIATIVES if i[3] == channel}
        channels.append(
            ChannelResult(
                channel,
                figures(
                    [c for c in costs if c.initiative_id in ids],
                    [ln for ln in lines if ln.initiative_id in ids],
                ),
            )
        )
    totals = figures(costs, lines)
    categories = []
    for category in sorted({c.category for c in costs}):
        amount = sum((c.amount for c in costs if c.category == category), ZERO)
        categories.append(CategoryResult(category, amount, amount / totals.investment))
    periods = _periods(costs, lines)
    issues = (
        error(CellRef("Costs", 14, 6), 'amount "12,5x" is not a number'),
        warning(CellRef("Goals", 5, 4), "goal G4 has no KPI, target or target date: it is not measurable"),
        warning(
            CellRef("Returns", 31, 2), "row without a Transaction ref is not ROI: excluded (amount 4,000.00)"
        ),
        warning(CellRef("Metrics", 40, 1), "dated 2026-01-04, after As of 2025-12-31: excluded"),
        info(CellRef("Metrics", 12, 4), 'unknown metric "Saves" is summed as a flow metric'),
    )
    return Results(
        program=program,
        totals=totals,
        unallocated_investment=sum((c.amount for c in costs if c.goal_id is None), ZERO),
        payback_months=_payback(periods),
        npv=_npv(periods, program.discount_rate) if program.discount_rate is not None else None,
        goals=tuple(goals),
        initiatives=tuple(initiatives),
        channels=tuple(channels),
        categories=tuple(categories),
        periods=tuple(periods),
        ledger=tuple(lines),
        cost_lines=tuple(costs),
        metrics=tuple(metrics),
        issues=issues,
    )
