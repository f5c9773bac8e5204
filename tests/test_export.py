"""results_to_json: the contract's shape, money to the cent, null where a value does not exist."""

import json
from datetime import date
from decimal import Decimal as D

from scrm_xl.compute import compute
from scrm_xl.export import results_to_json, results_to_text
from scrm_xl.model import COST_SAVINGS, CellRef, Cost, Goal, Initiative, Program, Records, Return, warning

PROGRAM = Program("Ü-Programm", "EUR", date(2026, 1, 1), date(2026, 12, 31), date(2026, 2, 28))


def results(**kw):
    base = dict(
        program=PROGRAM,
        goals=(Goal("G1", "one"), Goal("G2", "two")),
        initiatives=(Initiative("I1", "i", "G1", "X"), Initiative("I2", "j", "G2")),
        costs=(Cost(date(2026, 1, 3), D("1000.005"), "I1", "G1", "People", source=CellRef("Costs", 2)),),
        returns=(
            Return(date(2026, 2, 3), "T1", COST_SAVINGS, D("333.333"), "I1", source=CellRef("Returns", 2)),
        ),
    )
    base.update(kw)
    return compute(Records(**base))


def test_contract_keys_are_present():
    js = results_to_json(results())
    assert set(js) >= {"program", "totals", "goals", "initiatives", "periods", "issues"}
    assert set(js["program"]) >= {
        "name",
        "currency",
        "period_start",
        "period_end",
        "as_of",
        "attribution_model",
    }
    assert set(js["totals"]) >= {
        "investment",
        "unallocated_investment",
        "return",
        "net_return",
        "roi",
        "payback_months",
        "npv",
    }
    assert set(js["totals"]["return"]) == {"new_revenue", "cost_savings", "spending_avoided", "total"}
    assert set(js["totals"]["roi"]) == {"conservative", "expected", "optimistic"}
    goal = js["goals"][0]
    assert set(goal) >= {"id", "name", "objective", "measurable", "investment", "return", "net_return", "roi"}
    assert set(goal["kpi"]) >= {"name", "baseline", "target", "actual", "attainment", "status"}
    assert set(js["initiatives"][0]) >= {"id", "goal_id", "channel", "investment", "return", "roi"}
    assert set(js["periods"][0]) >= {
        "label",
        "start",
        "investment",
        "return",
        "net_return",
        "cumulative_investment",
        "cumulative_return",
    }


def test_money_is_rounded_to_the_cent_and_dates_are_iso():
    js = results_to_json(results())
    # a cost of 1000.005 shows as 1000.01 (half up); the return 333.333 counts as 333.33
    assert js["totals"]["investment"] == 1000.01
    assert js["totals"]["return"]["total"] == 333.33
    assert js["program"]["period_start"] == "2026-01-01" and js["periods"][1]["start"] == "2026-02-01"
    assert js["ledger"][0]["counted"] == 333.33 and js["ledger"][0]["source"] == "Returns!A2"


def test_missing_values_are_null_and_text_is_valid_json():
    js = results_to_json(results())
    g2 = js["goals"][1]
    assert g2["roi"]["expected"] is None and g2["payback_months"] is None and g2["npv"] is None
    assert js["totals"]["npv"] is None and js["initiatives"][1]["channel"] is None
    assert g2["kpi"]["status"] == "Not measurable" and g2["kpi"]["attainment"] is None
    text = results_to_text(results())
    assert "Ü-Programm" in text  # UTF-8, not \\u escapes
    assert json.loads(text) == js


def test_loader_issues_come_first():
    r = results(returns=())
    loader_issue = warning(CellRef("Costs", 9), "a credit")
    js = results_to_json(r, [loader_issue])
    assert js["issues"][0] == {"severity": "warning", "where": "Costs!A9", "message": "a credit"}
