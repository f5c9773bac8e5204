"""Example programmes for the template: rows keyed by the schema's column names.

Two generators, both deterministic (a seeded ``random.Random``; nothing depends
on today's date, hash order or the machine):

- ``realistic()`` — a year of "social customer care plus loyalty community",
  big enough to look like a real programme (2,000+ returns).
- ``worked()`` — the small programme of docs/worked-example.md, which
  derives every figure from these rows by hand.

Values use the kinds of ``scrm_xl.schema``: ``date``/``datetime`` for dates,
``Decimal`` for money and percentages (fractions: ``Decimal("0.4")`` is 40%),
``int``/``float`` for numbers, ``str`` for text and choices, ``None`` for blank.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from .model import COST_SAVINGS, NEW_REVENUE, SPENDING_AVOIDED

Row = dict[str, object]


@dataclass(frozen=True)
class Example:
    """A filled workbook: Program settings by name, and rows by sheet name."""

    program: dict[str, object]
    rows: dict[str, list[Row]] = field(default_factory=dict)


def _money(value: float | int | str) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _month_end(year: int, month: int) -> date:
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_next - timedelta(days=1)


# --- worked example --------------------------------------------------------


def worked() -> Example:
    """The programme of docs/worked-example.md, whose every figure is derived
    there by hand; row numbers below are the workbook's. Keep it in step with
    that document (and the engine's tests/test_worked_example.py).

    Program: Worked example, EUR, Period 2026-01-01..2026-06-30, As of
    2026-03-31, Month, Default gross margin 40%, Discount rate 12%, Linear,
    Lookback window 30 days.

    Goals: G1 Grow referrals through the customer community (Loyalty, KPI
    Referrals, 0 -> 200 by 2026-06-30); G2 Resolve support questions in the
    open (Customer care, KPI NPS, 20 -> 30 by 2026-06-30).
    Initiatives: I1 Customer community forum (G1, Community forum), I2 LinkedIn
    thought leadership (G1, LinkedIn), I3 Customer care on X (G2, X).

    ==== ========== ==== ========== ================================= ========
    Row  Date       Init Category   Description                       Amount
    ==== ========== ==== ========== ================================= ========
    2    2026-01-10 I1   People     Community manager, January        3,000.00
    3    2026-01-15 I2   Paid media LinkedIn campaign                 1,500.00
    4    2026-02-10 I1   People     Community manager, February       3,000.00
    5    2026-02-20 I3   Technology Social care tool licence          1,200.00
    6    2026-03-05 -    Training   Social CRM training for all teams   800.00
    7    2026-03-10 I3   People     Support agents' time on X         2,000.00
    ==== ========== ==== ========== ================================= ========

    ==== ========== ========= ================ ==== ======== ====== ===== ======
    Row  Date       Ref       Type             Init Amount   Margin Attr. Conf.
    ==== ========== ========= ================ ==== ======== ====== ===== ======
    2    2026-01-25 SO-1001   New revenue      I1   5,000.00 35%          High
    3    2026-02-14 SO-1002   New revenue      -    2,345.67 (40%)        High
    4    2026-02-28 SO-1003   New revenue      I2   4,000.00 (40%) 50%    Medium
    5    2026-03-15 CASE-2001 Cost savings     I3   3,150.00              High
    6    2026-03-20 INV-3001  Spending avoided I3   1,000.00              Medium
    7    2026-03-25 SO-1004   New revenue      I1   2,000.00 (40%)        Low
    ==== ========== ========= ================ ==== ======== ====== ===== ======

    Touchpoints, all for SO-1002: I2 2026-01-05 09:00 (40 days: outside the
    window), I1 2026-01-20 10:00, I2 2026-02-02 14:30, I3 2026-02-14 16:45 (same
    day), I3 2026-02-15 08:00 (after the return: ignored).

    Metrics: Referrals of I1 40 / 50 / 30 at the month ends; Reach 10,000 and
    Engagements 450 of I2 on 31 Jan; NPS of G2 24 (31 Jan), 28 (28 Feb), 31
    (15 Mar), 32 (31 Mar); Positive mentions 60 and Negative mentions 15 of G2/I3
    on 31 Mar; Followers 5,200 (programme level) on 31 Mar.
    """
    program: dict[str, object] = {
        "Program name": "Worked example",
        "Currency": "EUR",
        "Period start": date(2026, 1, 1),
        "Period end": date(2026, 6, 30),
        "Reporting period": "Month",
        "As of": date(2026, 3, 31),
        "Default gross margin": Decimal("0.4"),
        "Discount rate": Decimal("0.12"),
        "Attribution model": "Linear",
        "Time-decay half-life": 7,
        "Lookback window": 30,
        "Locale": "en_US",
        "Prepared by": None,
        "Distribution": None,
    }
    goals = [
        _goal("G1", "Grow referrals through the customer community", "Loyalty", "Referrals", 0, 200,
              date(2026, 6, 30), None, None),
        _goal("G2", "Resolve support questions in the open", "Customer care", "NPS", 20, 30,
              date(2026, 6, 30), None, None),
    ]  # fmt: skip
    initiatives = [
        _initiative("I1", "Customer community forum", "G1", "Community forum", None, None, None),
        _initiative("I2", "LinkedIn thought leadership", "G1", "LinkedIn", None, None, None),
        _initiative("I3", "Customer care on X", "G2", "X", None, None, None),
    ]
    costs = [
        _cost(date(2026, 1, 10), "I1", None, "People", "Community manager, January", "3000.00"),
        _cost(date(2026, 1, 15), "I2", None, "Paid media", "LinkedIn campaign", "1500.00"),
        _cost(date(2026, 2, 10), "I1", None, "People", "Community manager, February", "3000.00"),
        _cost(date(2026, 2, 20), "I3", None, "Technology", "Social care tool licence", "1200.00"),
        _cost(date(2026, 3, 5), None, None, "Training", "Social CRM training for all teams", "800.00"),
        _cost(date(2026, 3, 10), "I3", None, "People", "Support agents' time on X", "2000.00"),
    ]
    returns = [
        _return(date(2026, 1, 25), "SO-1001", NEW_REVENUE, "I1", "5000.00", "0.35", None, "High", None),
        _return(date(2026, 2, 14), "SO-1002", NEW_REVENUE, None, "2345.67", None, None, "High",
                "Credited through touchpoints"),
        _return(date(2026, 2, 28), "SO-1003", NEW_REVENUE, "I2", "4000.00", None, "0.5", "Medium", None),
        _return(date(2026, 3, 15), "CASE-2001", COST_SAVINGS, "I3", "3150.00", None, None, "High", None),
        _return(date(2026, 3, 20), "INV-3001", SPENDING_AVOIDED, "I3", "1000.00", None, None, "Medium", None),
        _return(date(2026, 3, 25), "SO-1004", NEW_REVENUE, "I1", "2000.00", None, None, "Low", None),
    ]  # fmt: skip
    touchpoints = [
        _touch("SO-1002", "I2", datetime(2026, 1, 5, 9, 0)),
        _touch("SO-1002", "I1", datetime(2026, 1, 20, 10, 0)),
        _touch("SO-1002", "I2", datetime(2026, 2, 2, 14, 30)),
        _touch("SO-1002", "I3", datetime(2026, 2, 14, 16, 45)),
        _touch("SO-1002", "I3", datetime(2026, 2, 15, 8, 0)),
    ]
    metrics = [
        _metric(date(2026, 1, 31), None, "I1", "Referrals", 40),
        _metric(date(2026, 2, 28), None, "I1", "Referrals", 50),
        _metric(date(2026, 3, 31), None, "I1", "Referrals", 30),
        _metric(date(2026, 1, 31), None, "I2", "Reach", 10000),
        _metric(date(2026, 1, 31), None, "I2", "Engagements", 450),
        _metric(date(2026, 1, 31), "G2", None, "NPS", 24),
        _metric(date(2026, 2, 28), "G2", None, "NPS", 28),
        _metric(date(2026, 3, 15), "G2", None, "NPS", 31),
        _metric(date(2026, 3, 31), "G2", None, "NPS", 32),
        _metric(date(2026, 3, 31), "G2", "I3", "Positive mentions", 60),
        _metric(date(2026, 3, 31), "G2", "I3", "Negative mentions", 15),
        _metric(date(2026, 3, 31), None, None, "Followers", 5200),
    ]
    return Example(
        program,
        {
            "Goals": goals,
            "Initiatives": initiatives,
            "Costs": costs,
            "Returns": returns,
            "Touchpoints": touchpoints,
            "Metrics": metrics,
        },
    )


# --- realistic example -----------------------------------------------------

YEAR = 2026
SEED = 20260101

# (id, name, goal, channel, start month, end month, owner)
_INITIATIVES = (
    ("I01", "Community forum support hub", "G1", "Community forum", 1, 12, "Care lead"),
    ("I02", "X care desk", "G1", "X", 1, 12, "Care lead"),
    ("I03", "WhatsApp care line", "G1", "WhatsApp", 3, 12, "Care lead"),
    ("I04", "Loyalty community member events", "G2", "Community forum", 1, 12, "Community lead"),
    ("I05", "Instagram members-only drops", "G2", "Instagram", 2, 12, "Social lead"),
    ("I06", "LinkedIn customer advocacy programme", "G3", "LinkedIn", 1, 12, "Advocacy lead"),
    ("I07", "Member referral programme", "G3", "Community forum", 4, 12, "Advocacy lead"),
    ("I08", "YouTube how-to series", "G4", "YouTube", 1, 12, "Content lead"),
    ("I09", "Community launch awareness campaign", "G5", "Instagram", 1, 6, "Brand lead"),
)

# monthly cost lines per initiative: (category, description, base amount)
_COST_LINES = {
    "I01": (("People", "Community moderators", 3680), ("Technology", "Forum platform licence", 720)),
    "I02": (("People", "Social care agents", 2960), ("Technology", "Social care desk seats", 380)),
    "I03": (("People", "WhatsApp care agents", 2080), ("Technology", "WhatsApp Business API", 280)),
    "I04": (("People", "Community events manager", 1920), ("Other", "Event venues and catering", 840)),
    "I05": (("Content", "Photo and video production", 1040), ("Paid media", "Instagram promotion", 760)),
    "I06": (("Agency", "Advocacy programme agency", 1400), ("Training", "Advocate training sessions", 240)),
    "I07": (("Other", "Referral rewards", 960), ("Technology", "Referral tracking tool", 160)),
    "I08": (("Content", "How-to video production", 1240), ("Paid media", "YouTube pre-roll", 360)),
    "I09": (("Paid media", "Launch campaign media", 2600), ("Agency", "Creative agency", 1120)),
}
_OVERHEAD_LINES = (
    ("People", "Social CRM programme lead (share)", 1680),
    ("Technology", "Social listening platform", 600),
)

# which initiatives earn which returns: (return type, initiatives, amount range, margin given?)
_RETURN_KINDS = (
    (COST_SAVINGS, ("I01", "I02", "I03", "I08"), (8, 60)),  # a deflected or shortened support ticket
    (NEW_REVENUE, ("I04", "I05", "I06", "I07"), (120, 1400)),  # an order from a member or referral
    (SPENDING_AVOIDED, ("I01", "I02", "I03", "I04"), (40, 400)),  # a retention credit or refund not needed
)
_RETURN_WEIGHTS = (0.45, 0.40, 0.15)
_REF_PREFIX = {COST_SAVINGS: "TCK", NEW_REVENUE: "ORD", SPENDING_AVOIDED: "CRD"}
_RETURN_NOTES = {
    COST_SAVINGS: ("Ticket deflected to the community", "Answered publicly, no agent contact",
                   "Resolved in first reply"),
    NEW_REVENUE: ("Order with member code", "Referral order", "Upsell after community event"),
    SPENDING_AVOIDED: ("Retention credit not needed", "Refund avoided after care reply",
                       "Replacement shipment avoided"),
}  # fmt: skip

# monthly flow metrics per initiative: metric -> base monthly value
_FLOW_BASE = {
    "I01": {"Posts": 420, "Comments": 2600, "Likes": 5200, "Engagements": 9800, "Reach": 85000},
    "I02": {"Posts": 1900, "Mentions": 3400, "Positive mentions": 1500, "Negative mentions": 700,
            "Reach": 240000, "Engagements": 7300},
    "I03": {"Posts": 2600, "Engagements": 5200, "Positive mentions": 640, "Negative mentions": 190},
    "I04": {"Posts": 120, "Comments": 1400, "Likes": 3900, "Shares": 310, "Engagements": 6100, "Reviews": 45,
            "Reach": 52000},
    "I05": {"Posts": 36, "Likes": 21000, "Comments": 1800, "Shares": 900, "Reach": 310000,
            "Impressions": 780000, "Engagements": 25000},
    "I06": {"Posts": 60, "Shares": 1300, "Likes": 6400, "Comments": 540, "Reach": 150000,
            "Impressions": 420000, "Engagements": 9200, "Referrals": 95},
    "I07": {"Referrals": 260, "Reviews": 140, "Shares": 420},
    "I08": {"Posts": 8, "Likes": 4200, "Comments": 650, "Shares": 380, "Reach": 120000,
            "Impressions": 260000, "Engagements": 7100},
    "I09": {"Posts": 40, "Reach": 900000, "Impressions": 2400000, "Engagements": 38000, "Likes": 29000,
            "Shares": 2100},
}  # fmt: skip


def _goal(gid, name, objective, kpi, baseline, target, target_date, direction, owner) -> Row:
    return {"Goal ID": gid, "Goal": name, "Objective": objective, "KPI": kpi, "Baseline": baseline,
            "Target": target, "Target date": target_date, "Direction": direction, "Owner": owner}  # fmt: skip


def _initiative(iid, name, gid, channel, start, end, owner) -> Row:
    return {"Initiative ID": iid, "Initiative": name, "Goal ID": gid, "Channel": channel,
            "Start": start, "End": end, "Owner": owner}  # fmt: skip


def _cost(day, iid, gid, category, description, amount) -> Row:
    return {"Date": day, "Initiative ID": iid, "Goal ID": gid, "Category": category,
            "Description": description, "Amount": _money(amount)}  # fmt: skip


def _return(day, ref, rtype, iid, amount, margin, attribution, confidence, note) -> Row:
    return {
        "Date": day, "Transaction ref": ref, "Return type": rtype, "Initiative ID": iid,
        "Amount": _money(amount), "Gross margin": None if margin is None else Decimal(str(margin)),
        "Attribution": None if attribution is None else Decimal(str(attribution)),
        "Confidence": confidence, "Note": note,
    }  # fmt: skip


def _touch(ref, iid, timestamp) -> Row:
    return {"Transaction ref": ref, "Initiative ID": iid, "Timestamp": timestamp}


def _metric(day, gid, iid, name, value) -> Row:
    return {"Date": day, "Goal ID": gid, "Initiative ID": iid, "Metric": name, "Value": value}


def realistic() -> Example:
    """A year of a social customer care plus loyalty community programme.

    5 goals (G5 deliberately not measurable: it has a KPI but no target),
    9 initiatives on seven channels, costs by category every month, about
    2,400 transaction-linked returns of which a third are credited through
    touchpoints, and monthly metrics.
    """
    rng = random.Random(SEED)
    start, end = date(YEAR, 1, 1), date(YEAR, 12, 31)
    program: dict[str, object] = {
        "Program name": "Social customer care plus loyalty community",
        "Currency": "USD",
        "Period start": start,
        "Period end": end,
        "Reporting period": "Month",
        "As of": end,
        "Default gross margin": Decimal("0.38"),
        "Discount rate": Decimal("0.08"),
        "Attribution model": "Position based",
        "Time-decay half-life": 7,
        "Lookback window": 90,
        "Locale": "en_US",
        "Prepared by": "Finance business partner, Customer Experience",
        "Distribution": "cfo@example.com; cx-leadership@example.com",
    }
    goals = [
        _goal("G1", "Resolve customer questions in social channels and the community", "Customer care",
              "NPS", 22, 35, end, "Increase", "Head of Customer Care"),
        _goal("G2", "Grow repeat purchases among community members", "Loyalty", "Repeat purchase rate",
              0.28, 0.34, end, "Increase", "Head of Loyalty"),
        _goal("G3", "Turn loyal customers into advocates who refer others", "Advocacy", "Referrals",
              0, 4500, end, "Increase", "Head of Community"),
        _goal("G4", "Earn trust with useful, honest how-to content", "Trust", "Sentiment score",
              0.12, 0.30, date(YEAR, 9, 30), "Increase", "Head of Content"),
        # deliberately not measurable: no target, no target date -> the checks warn
        _goal("G5", "Make the new community known", "Awareness", "Reach", None, None, None, None,
              "Head of Brand"),
    ]  # fmt: skip
    initiatives = [
        _initiative(iid, name, gid, channel, date(YEAR, m0, 1), _month_end(YEAR, m1), owner)
        for iid, name, gid, channel, m0, m1, owner in _INITIATIVES
    ]
    months = {iid: (m0, m1) for iid, _, _, _, m0, m1, _ in _INITIATIVES}
    goal_of = {iid: gid for iid, _, gid, *_ in _INITIATIVES}

    costs: list[Row] = []
    for month in range(1, 13):
        for iid, lines in _COST_LINES.items():
            m0, m1 = months[iid]
            if not m0 <= month <= m1:
                continue
            for category, description, base in lines:
                day = date(YEAR, month, rng.randint(3, 26))
                amount = base * rng.uniform(0.85, 1.15)
                # about one row in five repeats the initiative's goal, as some teams do
                gid = goal_of[iid] if rng.random() < 0.2 else None
                costs.append(_cost(day, iid, gid, category, f"{description}, {day:%b}", round(amount, 2)))
        for category, description, base in _OVERHEAD_LINES:
            description = f"{description}, {month:02d}/{YEAR}"
            costs.append(_cost(date(YEAR, month, 1), None, None, category, description, base))
    # one-off set-up costs, as real ledgers have
    costs.append(_cost(date(YEAR, 1, 12), "I01", None, "Technology", "Forum platform set-up", 6500))
    costs.append(_cost(date(YEAR, 2, 3), "I06", None, "Training", "Advocate onboarding workshop", 1800))
    costs.append(_cost(date(YEAR, 3, 2), "I03", None, "Technology", "WhatsApp integration project", 4200))
    costs.sort(key=lambda c: (c["Date"], c["Initiative ID"] or "", c["Category"], c["Description"]))

    drafts = []
    for _ in range(2400):
        kind_index = rng.choices(range(3), weights=_RETURN_WEIGHTS)[0]
        rtype, candidates, (low, high) = _RETURN_KINDS[kind_index]
        iid = rng.choice(candidates)
        m0, m1 = months[iid]
        # returns grow over the year as the community matures
        month = rng.choices(range(m0, m1 + 1), weights=[1 + 0.15 * m for m in range(m0, m1 + 1)])[0]
        day = date(YEAR, month, rng.randint(1, _month_end(YEAR, month).day))
        amount = round(rng.uniform(low, high), 2)
        margin = None
        if rtype == NEW_REVENUE and rng.random() < 0.6:
            margin = rng.choice(("0.32", "0.35", "0.40", "0.45"))
        attribution = rng.choice(("0.5", "0.75")) if rng.random() < 0.12 else None
        confidence = rng.choices(("High", "Medium", "Low", None), weights=(0.5, 0.3, 0.12, 0.08))[0]
        note = rng.choice(_RETURN_NOTES[rtype]) if rng.random() < 0.3 else None
        via_touchpoints = rng.random() < 0.34
        drafts.append((day, rtype, iid, amount, margin, attribution, confidence, note, via_touchpoints))

    # in date order with references numbered in that order, as a system export would be
    drafts.sort(key=lambda d: (d[0], d[1], d[2], d[3]))
    returns: list[Row] = []
    touchpoints: list[Row] = []
    counters = dict.fromkeys(_REF_PREFIX.values(), 0)
    for day, rtype, iid, amount, margin, attribution, confidence, note, via_touchpoints in drafts:
        prefix = _REF_PREFIX[rtype]
        counters[prefix] += 1
        ref = f"{prefix}-{YEAR}-{counters[prefix]:05d}"
        credited = None if via_touchpoints else iid
        returns.append(_return(day, ref, rtype, credited, amount, margin, attribution, confidence, note))
        if via_touchpoints:
            touchpoints += sorted(_touches(rng, ref, iid, day, start, end), key=lambda t: t["Timestamp"])

    metrics = _realistic_metrics(rng, months)
    return Example(
        program,
        {
            "Goals": goals,
            "Initiatives": initiatives,
            "Costs": costs,
            "Returns": returns,
            "Touchpoints": touchpoints,
            "Metrics": metrics,
        },
    )


def _touches(rng: random.Random, ref: str, iid: str, day: date, start: date, end: date) -> list[Row]:
    """1-5 touches for one return: at least one that counts (on or before the
    return date, inside the 90-day lookback), sometimes one too old or one
    after the return, to show that those are ignored. All inside the period."""

    def active_on(d: date) -> list[str]:
        return [row[0] for row in _INITIATIVES if row[4] <= d.month <= row[5]]

    n = rng.choices((1, 2, 3, 4, 5), weights=(0.25, 0.3, 0.25, 0.12, 0.08))[0]
    earliest = max(start, day - timedelta(days=89))
    span = (day - earliest).days
    stamps: list[tuple[str, datetime]] = []
    for _ in range(n):
        touch_day = earliest + timedelta(days=rng.randint(0, span))
        touch_id = rng.choice(active_on(touch_day))
        moment = datetime.combine(touch_day, time(rng.randint(7, 22), rng.choice((0, 15, 30, 45))))
        stamps.append((touch_id, moment))
    # the first touch is the return's own initiative, at midnight of a day
    # on or before the return so it counts whatever the engine's day rounding
    own_start = max(earliest, next(date(YEAR, row[4], 1) for row in _INITIATIVES if row[0] == iid))
    own_day = own_start + timedelta(days=rng.randint(0, (day - own_start).days))
    stamps[0] = (iid, datetime.combine(own_day, time(0, 0)))
    roll = rng.random() if n < 5 else 1.0  # never more than five touches
    if roll < 0.12 and (day - start).days > 120:
        too_old = day - timedelta(days=rng.randint(100, min(200, (day - start).days)))
        stamps.append((rng.choice(active_on(too_old)), datetime.combine(too_old, time(10, 0))))
    elif roll < 0.22 and (end - day).days > 3:
        later = day + timedelta(days=rng.randint(2, min(20, (end - day).days)))
        stamps.append((rng.choice(active_on(later)), datetime.combine(later, time(12, 0))))
    return [_touch(ref, touch_id, moment) for touch_id, moment in stamps]


def _realistic_metrics(rng: random.Random, months: dict[str, tuple[int, int]]) -> list[Row]:
    rows: list[Row] = []
    for month in range(1, 13):
        day = _month_end(YEAR, month)
        growth = 1 + 0.06 * (month - 1)
        for iid, base in _FLOW_BASE.items():
            m0, m1 = months[iid]
            if not m0 <= month <= m1:
                continue
            for name, value in base.items():
                rows.append(_metric(day, None, iid, name, round(value * growth * rng.uniform(0.85, 1.15))))
        t = (month - 1) / 11
        # goal KPIs (stock metrics: the month's value)
        jitter = rng.uniform(-1, 1)
        nps = round(22 + 11 * t + 1.5 * jitter)
        repeat = round(0.28 + 0.05 * t + 0.005 * rng.uniform(-1, 1), 3)
        sentiment = round(0.12 + 0.16 * t + 0.02 * rng.uniform(-1, 1), 3)
        rows.append(_metric(day, "G1", None, "NPS", nps))
        rows.append(_metric(day, "G2", None, "Repeat purchase rate", repeat))
        rows.append(_metric(day, "G4", None, "Sentiment score", sentiment))
        # programme-level value metrics (no goal, no initiative)
        followers = 48000 + 2600 * month + rng.randint(-400, 400)
        influence = round(54 + 1.1 * month + rng.uniform(-1, 1), 1)
        retention = round(0.82 + 0.003 * month + 0.004 * rng.uniform(-1, 1), 3)
        rows.append(_metric(day, None, None, "Followers", followers))
        rows.append(_metric(day, None, None, "Influence score", influence))
        rows.append(_metric(day, None, None, "Share of voice", round(0.11 + 0.004 * month, 3)))
        rows.append(_metric(day, None, None, "Retention rate", retention))
    return rows
