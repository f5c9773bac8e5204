"""The example programmes satisfy the workbook contract's shapes.

The loader's own checks will run on them once it exists; until then these
tests restate the contract's rules directly, strictly.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from scrm_xl.examples import Example, realistic, worked
from scrm_xl.schema import (
    CHOICE,
    DATE,
    DATETIME,
    INPUT_SHEETS,
    INTEGER,
    MONEY,
    NUMBER,
    PERCENT,
    PROGRAM_SETTINGS,
    TEXT,
)

REALISTIC = realistic()
WORKED = worked()


def _check_value(where: str, kind: str, choices: tuple[str, ...], value: object) -> None:
    if value is None:
        return
    if kind == DATE:
        assert type(value) is date, where
    elif kind == DATETIME:
        assert type(value) is datetime, where
    elif kind == MONEY:
        assert isinstance(value, Decimal) and value.as_tuple().exponent == -2, where
    elif kind == PERCENT:
        assert isinstance(value, Decimal) and Decimal(0) <= value <= Decimal(1), where
    elif kind == CHOICE:
        assert value in choices, where
    elif kind in (NUMBER, INTEGER):
        assert isinstance(value, int | float) and not isinstance(value, bool), where
        if kind == INTEGER:
            assert isinstance(value, int), where
    else:
        assert kind == TEXT and isinstance(value, str) and value.strip() == value and value, where


def check_contract(example: Example) -> None:
    """Every rule of CONTRACT.md's input sheets that the example can break."""
    program = example.program
    assert set(program) <= {s.name for s in PROGRAM_SETTINGS}
    for setting in PROGRAM_SETTINGS:
        if setting.required:
            assert program.get(setting.name) not in (None, ""), setting.name
        _check_value(f"Program {setting.name}", setting.kind, setting.choices, program.get(setting.name))
    start, end = program["Period start"], program["Period end"]
    as_of = program.get("As of") or end
    assert start <= as_of <= end
    assert len(str(program["Currency"])) == 3 and str(program["Currency"]).isupper()

    assert set(example.rows) == {s.name for s in INPUT_SHEETS[1:]}
    for sheet in INPUT_SHEETS[1:]:
        for i, row in enumerate(example.rows[sheet.name], start=2):
            assert list(row) == [c.name for c in sheet.columns], f"{sheet.name} row {i}"
            for column in sheet.columns:
                where = f"{sheet.name}!{column.name}{i}"
                if column.required:
                    assert row[column.name] is not None, where
                _check_value(where, column.kind, column.choices, row[column.name])

    goals = {g["Goal ID"]: g for g in example.rows["Goals"]}
    assert len(goals) == len(example.rows["Goals"]), "Goal IDs are unique"
    initiatives = {i["Initiative ID"]: i for i in example.rows["Initiatives"]}
    assert len(initiatives) == len(example.rows["Initiatives"]), "Initiative IDs are unique"
    for i in initiatives.values():
        assert i["Goal ID"] in goals
        assert i["Start"] is None or i["End"] is None or i["Start"] <= i["End"]
    for g in goals.values():
        if g["KPI"] is not None:
            assert g["KPI"] in {m["Metric"] for m in example.rows["Metrics"]}, f"KPI {g['KPI']} has rows"

    for c in example.rows["Costs"]:
        assert start <= c["Date"] <= as_of
        assert c["Amount"] > 0, "no credits: they would be a warning"
        if c["Initiative ID"] is not None:
            assert c["Initiative ID"] in initiatives
            if c["Goal ID"] is not None:
                assert c["Goal ID"] == initiatives[c["Initiative ID"]]["Goal ID"], "no contradicting goal"
        elif c["Goal ID"] is not None:
            assert c["Goal ID"] in goals

    refs = [r["Transaction ref"] for r in example.rows["Returns"]]
    assert len(set(refs)) == len(refs), "Transaction refs are unique"
    touches = defaultdict(list)
    for t in example.rows["Touchpoints"]:
        assert t["Initiative ID"] in initiatives
        assert t["Transaction ref"] in set(refs)
        assert start <= t["Timestamp"].date() <= as_of
        touches[t["Transaction ref"]].append(t)
    lookback = int(program.get("Lookback window") or 90)
    for r in example.rows["Returns"]:
        assert start <= r["Date"] <= as_of
        assert r["Amount"] > 0
        if r["Initiative ID"] is not None:
            assert r["Initiative ID"] in initiatives
        else:
            # credited through touchpoints: at least one must count, or the return is lost
            counted = [t for t in touches[r["Transaction ref"]] if _counts(t, r["Date"], lookback)]
            assert counted, f"return {r['Transaction ref']} has no touchpoint that counts"
        if r["Gross margin"] is not None:
            assert r["Return type"] == "New revenue"

    for m in example.rows["Metrics"]:
        assert start <= m["Date"] <= as_of
        if m["Goal ID"] is not None:
            assert m["Goal ID"] in goals
        if m["Initiative ID"] is not None:
            assert m["Initiative ID"] in initiatives
            if m["Goal ID"] is not None:
                assert m["Goal ID"] == initiatives[m["Initiative ID"]]["Goal ID"]


def _counts(touch: dict, day: date, lookback: int) -> bool:
    delta = day - touch["Timestamp"].date()
    return touch["Timestamp"] <= datetime.combine(day, datetime.min.time()) + timedelta(days=1) and (
        timedelta(0) <= delta <= timedelta(days=lookback)
    )


@pytest.mark.parametrize("example", [REALISTIC, WORKED], ids=["realistic", "worked"])
def test_examples_keep_the_contract(example):
    check_contract(example)


def test_realistic_is_a_year_of_a_care_and_loyalty_programme():
    goals = REALISTIC.rows["Goals"]
    assert 4 <= len(goals) <= 6
    assert len({g["Objective"] for g in goals}) >= 4
    unmeasurable = [g for g in goals if not (g["KPI"] and g["Target"] is not None and g["Target date"])]
    assert [g["Goal ID"] for g in unmeasurable] == ["G5"], "exactly one goal shows the warning"

    initiatives = REALISTIC.rows["Initiatives"]
    assert len(initiatives) >= 8
    channels = {i["Channel"] for i in initiatives}
    assert {"Community forum", "X", "LinkedIn", "Instagram", "WhatsApp", "YouTube"} <= channels
    assert REALISTIC.program["Period start"] == date(2026, 1, 1)
    assert REALISTIC.program["Period end"] == REALISTIC.program["As of"] == date(2026, 12, 31)


def test_realistic_costs_every_month_by_category_with_overhead():
    by_month = defaultdict(set)
    overhead_months = set()
    for c in REALISTIC.rows["Costs"]:
        by_month[c["Date"].month].add(c["Category"])
        if c["Initiative ID"] is None and c["Goal ID"] is None:
            overhead_months.add(c["Date"].month)
    assert sorted(by_month) == list(range(1, 13))
    assert all(len(categories) >= 5 for categories in by_month.values())
    assert overhead_months == set(range(1, 13))
    assert {c["Category"] for c in REALISTIC.rows["Costs"]} == {
        "People", "Technology", "Paid media", "Agency", "Content", "Training", "Other",
    }  # fmt: skip


def test_realistic_returns_are_many_mixed_and_a_third_through_touchpoints():
    returns = REALISTIC.rows["Returns"]
    assert len(returns) >= 2000
    via = [r for r in returns if r["Initiative ID"] is None]
    assert 0.30 <= len(via) / len(returns) <= 0.37
    assert Counter(r["Return type"] for r in returns).keys() == {
        "New revenue",
        "Cost savings",
        "Spending avoided",
    }
    assert set(Counter(r["Confidence"] for r in returns)) == {"High", "Medium", "Low", None}
    new_revenue = [r for r in returns if r["Return type"] == "New revenue"]
    assert any(r["Gross margin"] is None for r in new_revenue), "some use the Default gross margin"
    assert any(r["Gross margin"] is not None for r in new_revenue), "some carry their own margin"
    assert any(r["Attribution"] is not None for r in returns)
    assert all(r["Transaction ref"].startswith(("TCK-", "ORD-", "CRD-")) for r in returns)

    touches = defaultdict(list)
    for t in REALISTIC.rows["Touchpoints"]:
        touches[t["Transaction ref"]].append(t)
    dates = {r["Transaction ref"]: r["Date"] for r in returns}
    assert set(touches) == {r["Transaction ref"] for r in via}, (
        "touchpoints only for credited-through returns"
    )
    sizes = Counter(len(ts) for ts in touches.values())
    assert set(sizes) == {1, 2, 3, 4, 5}
    too_old = after = 0
    for ref, ts in touches.items():
        for t in ts:
            gap = (dates[ref] - t["Timestamp"].date()).days
            too_old += gap > 90
            after += gap < 0
    assert too_old >= 10 and after >= 10, "some touches are outside the window, some after the return"


def test_realistic_metrics_cover_every_month_and_the_value_kpis():
    by_month = defaultdict(set)
    for m in REALISTIC.rows["Metrics"]:
        by_month[m["Date"]].add(m["Metric"])
    assert len(by_month) == 12
    wanted = {
        "Reach", "Impressions", "Engagements", "Posts", "Likes", "Comments", "Shares", "Referrals",
        "Reviews", "Followers", "Positive mentions", "Negative mentions", "NPS", "Sentiment score",
        "Influence score", "Retention rate", "Repeat purchase rate", "Share of voice", "Mentions",
    }  # fmt: skip
    for day, names in by_month.items():
        assert wanted <= names, f"{day}: missing {wanted - names}"
    # each measurable goal's KPI has rows that belong to it (its Goal ID or its initiatives')
    goal_of = {i["Initiative ID"]: i["Goal ID"] for i in REALISTIC.rows["Initiatives"]}
    for g in REALISTIC.rows["Goals"]:
        rows = [
            m for m in REALISTIC.rows["Metrics"]
            if m["Metric"] == g["KPI"] and (m["Goal ID"] or goal_of.get(m["Initiative ID"])) == g["Goal ID"]
        ]  # fmt: skip
        assert len({m["Date"] for m in rows}) >= 6, g["Goal ID"]


def _digest(example: Example) -> str:
    return hashlib.sha256(json.dumps([example.program, example.rows], default=str).encode()).hexdigest()


def test_examples_are_deterministic_across_processes_and_hash_seeds():
    assert realistic() == REALISTIC and worked() == WORKED
    code = (
        "import hashlib, json; from scrm_xl.examples import realistic, worked; "
        "print([hashlib.sha256(json.dumps([e.program, e.rows], default=str).encode()).hexdigest() "
        "for e in (realistic(), worked())])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "987")
    }
    assert outputs == {str([_digest(REALISTIC), _digest(WORKED)]) + "\n"}


# --- the worked example: the figures docs/worked-example.md derives by hand ------


def _counted(r: dict, default_margin: Decimal) -> Decimal:
    margin = (r["Gross margin"] or default_margin) if r["Return type"] == "New revenue" else Decimal(1)
    return r["Amount"] * (r["Attribution"] or Decimal(1)) * margin


def test_worked_example_is_small_and_covers_every_case():
    rows = WORKED.rows
    assert (len(rows["Goals"]), len(rows["Initiatives"])) == (2, 3)
    assert WORKED.program["Reporting period"] == "Month"
    assert (WORKED.program["Period start"], WORKED.program["Period end"]) == (
        date(2026, 1, 1),
        date(2026, 3, 31),
    )
    returns = rows["Returns"]
    assert {r["Return type"] for r in returns} == {"New revenue", "Cost savings", "Spending avoided"}
    assert {r["Confidence"] for r in returns} == {"High", "Medium", "Low"}
    assert [r["Transaction ref"] for r in returns if r["Initiative ID"] is None] == ["TX-1005", "TX-1006"]
    assert Counter(t["Transaction ref"] for t in rows["Touchpoints"]) == {"TX-1005": 3, "TX-1006": 2}
    assert [c["Description"] for c in rows["Costs"] if c["Initiative ID"] is None] == [
        "Programme lead overhead"
    ]
    assert {m["Metric"] for m in rows["Metrics"]} == {"Reach", "Engagements", "Followers", "NPS"}


def test_worked_example_figures_match_the_hand_calculation():
    rows = WORKED.rows
    default_margin = WORKED.program["Default gross margin"]
    assert default_margin == Decimal("0.5")
    counted = {r["Transaction ref"]: _counted(r, default_margin) for r in rows["Returns"]}
    # by hand: 3,000; 20,000 x 50% x 40%; 4,000 x 50% (default margin); 1,500; 6,000 x 50%; 800
    assert counted == {
        "TX-1001": 3000, "TX-1002": 4000, "TX-1003": 2000, "TX-1004": 1500, "TX-1005": 3000, "TX-1006": 800,
    }  # fmt: skip
    conf = {r["Transaction ref"]: r["Confidence"] for r in rows["Returns"]}
    expected = sum(v for k, v in counted.items() if conf[k] in ("High", "Medium"))
    assert sum(v for k, v in counted.items() if conf[k] == "High") == 8000
    assert expected == 12800
    assert sum(counted.values()) == 14300

    goal_of = {i["Initiative ID"]: i["Goal ID"] for i in rows["Initiatives"]}
    investment = defaultdict(Decimal)
    for c in rows["Costs"]:
        investment[goal_of.get(c["Initiative ID"], "Unallocated")] += c["Amount"]
    assert investment == {"G1": 6000, "G2": 3000, "Unallocated": 1000}
    # headline ROI (expected): (12,800 - 10,000) / 10,000 = 28%
    assert (expected - sum(investment.values())) / sum(investment.values()) == Decimal("0.28")

    # TX-1005's touches are 14, 7 and 0 days before the return, at midnight
    tx5 = sorted(
        (t for t in rows["Touchpoints"] if t["Transaction ref"] == "TX-1005"), key=lambda t: t["Timestamp"]
    )
    assert [t["Initiative ID"] for t in tx5] == ["I3", "I1", "I2"]
    assert [(date(2026, 3, 20) - t["Timestamp"].date()).days for t in tx5] == [14, 7, 0]
    assert all(t["Timestamp"].time() == datetime.min.time() for t in rows["Touchpoints"])
    # TX-1006: one touch counts, the other is after the return date
    tx6 = {
        t["Initiative ID"]: t["Timestamp"].date()
        for t in rows["Touchpoints"]
        if t["Transaction ref"] == "TX-1006"
    }
    assert tx6 == {"I1": date(2026, 3, 24), "I2": date(2026, 3, 28)}

    # payback: cumulative investment 5,000 / 9,000 / 10,000 against expected return 3,000 / 9,000 / 12,800
    cum_inv, cum_ret = [], []
    for month in (1, 2, 3):
        cum_inv.append(sum(c["Amount"] for c in rows["Costs"] if c["Date"].month <= month))
        cum_ret.append(
            sum(counted[r["Transaction ref"]] for r in rows["Returns"]
                if r["Date"].month <= month and conf[r["Transaction ref"]] != "Low")
        )  # fmt: skip
    assert (cum_inv, cum_ret) == ([5000, 9000, 10000], [3000, 9000, 12800])
