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


# --- the worked example: the rows docs/worked-example.md works by hand --------


def _counted(r: dict, default_margin: Decimal) -> Decimal:
    margin = (r["Gross margin"] or default_margin) if r["Return type"] == "New revenue" else Decimal(1)
    return (r["Amount"] * (r["Attribution"] or Decimal(1)) * margin).quantize(Decimal("0.01"))


def test_worked_example_is_small_and_covers_every_case():
    rows = WORKED.rows
    assert (len(rows["Goals"]), len(rows["Initiatives"])) == (2, 3)
    assert WORKED.program["Reporting period"] == "Month"
    assert WORKED.program["Attribution model"] == "Linear"
    assert (WORKED.program["Period start"], WORKED.program["As of"]) == (date(2026, 1, 1), date(2026, 3, 31))
    returns = rows["Returns"]
    assert {r["Return type"] for r in returns} == {"New revenue", "Cost savings", "Spending avoided"}
    assert {r["Confidence"] for r in returns} == {"High", "Medium", "Low"}
    new_revenue = [r for r in returns if r["Return type"] == "New revenue"]
    assert any(r["Gross margin"] is None for r in new_revenue)
    assert any(r["Gross margin"] is not None for r in new_revenue)
    assert [r["Attribution"] for r in returns if r["Attribution"] is not None] == [Decimal("0.5")]
    assert [r["Transaction ref"] for r in returns if r["Initiative ID"] is None] == ["SO-1002"]
    assert [c["Description"] for c in rows["Costs"] if c["Initiative ID"] is None] == [
        "Social CRM training for all teams"
    ]
    assert {"Reach", "Engagements", "NPS", "Referrals"} <= {m["Metric"] for m in rows["Metrics"]}


def test_worked_example_figures_match_the_document():
    """The figures of docs/worked-example.md, recomputed here from the rows."""
    rows = WORKED.rows
    default_margin = WORKED.program["Default gross margin"]
    counted = {r["Transaction ref"]: _counted(r, default_margin) for r in rows["Returns"]}
    assert counted == {
        "SO-1001": Decimal("1750.00"), "SO-1002": Decimal("938.27"), "SO-1003": Decimal("800.00"),
        "CASE-2001": Decimal("3150.00"), "INV-3001": Decimal("1000.00"), "SO-1004": Decimal("800.00"),
    }  # fmt: skip
    conf = {r["Transaction ref"]: r["Confidence"] for r in rows["Returns"]}
    assert sum(v for k, v in counted.items() if conf[k] == "High") == Decimal("5838.27")
    assert sum(v for k, v in counted.items() if conf[k] != "Low") == Decimal("7638.27")
    assert sum(counted.values()) == Decimal("8438.27")

    goal_of = {i["Initiative ID"]: i["Goal ID"] for i in rows["Initiatives"]}
    investment = defaultdict(Decimal)
    for c in rows["Costs"]:
        investment[goal_of.get(c["Initiative ID"], "Unallocated")] += c["Amount"]
    assert investment == {
        "G1": Decimal("7500.00"),
        "G2": Decimal("3200.00"),
        "Unallocated": Decimal("800.00"),
    }

    # SO-1002 (14 Feb): touches 40 days old (window 30) and after the return are ignored
    lookback = WORKED.program["Lookback window"]
    touches = [t for t in rows["Touchpoints"] if t["Transaction ref"] == "SO-1002"]
    counting = [t["Initiative ID"] for t in touches if _counts(t, date(2026, 2, 14), lookback)]
    assert counting == ["I1", "I2", "I3"]

    cum_inv, cum_ret = [], []
    for month in (1, 2, 3):
        cum_inv.append(sum(c["Amount"] for c in rows["Costs"] if c["Date"].month <= month))
        cum_ret.append(
            sum(counted[r["Transaction ref"]] for r in rows["Returns"]
                if r["Date"].month <= month and conf[r["Transaction ref"]] != "Low")
        )  # fmt: skip
    assert cum_inv == [Decimal("4500.00"), Decimal("8700.00"), Decimal("11500.00")]
    assert cum_ret == [Decimal("1750.00"), Decimal("3488.27"), Decimal("7638.27")]

    referrals = sum(m["Value"] for m in rows["Metrics"] if m["Metric"] == "Referrals")
    last_nps = max((m["Date"], m["Value"]) for m in rows["Metrics"] if m["Metric"] == "NPS")
    assert (referrals, last_nps) == (120, (date(2026, 3, 31), 32))
