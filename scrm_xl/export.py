"""Results -> the contract's machine-readable JSON (``scrm-xl run BOOK --json``).

Money is a JSON number in the programme's currency, rounded to the cent; ROI, rates,
shares and attainment are fractions (0.25 = 25 %); a value that does not exist is null;
dates are ISO 8601. The schema is documented in docs/results.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from .attribute import cents
from .model import Issue
from .results import Figures, GoalResult, Results, ReturnByType, Scenarios

SCHEMA_VERSION = 1


def money(value: Decimal | None) -> float | None:
    """A money amount as a JSON number with (at most) two decimals."""
    return None if value is None else float(cents(value))


def fraction(value: Decimal | float | None) -> float | None:
    if value is None:
        return None
    return float(value)


def iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def returns_json(r: ReturnByType) -> dict[str, float | None]:
    return {
        "new_revenue": money(r.new_revenue),
        "cost_savings": money(r.cost_savings),
        "spending_avoided": money(r.spending_avoided),
        "total": money(r.total),
    }


def scenarios_json(s: Scenarios, convert=fraction) -> dict[str, float | None]:
    return {
        "conservative": convert(s.conservative),
        "expected": convert(s.expected),
        "optimistic": convert(s.optimistic),
    }


def figures_json(f: Figures) -> dict[str, Any]:
    return {
        "investment": money(f.investment),
        "return": returns_json(f.returns),
        "return_by_scenario": scenarios_json(f.returns_by_scenario, money),
        "net_return": money(f.net_return),
        "roi": scenarios_json(f.roi),
    }


def goal_json(g: GoalResult) -> dict[str, Any]:
    k = g.kpi
    return {
        "id": g.id,
        "name": g.name,
        "objective": g.objective,
        "owner": g.owner,
        "measurable": g.measurable,
        **figures_json(g.figures),
        "payback_months": g.payback_months,
        "npv": money(g.npv),
        "kpi": {
            "name": k.name,
            "baseline": k.baseline,
            "target": k.target,
            "target_date": iso(k.target_date),
            "direction": k.direction,
            "actual": k.actual,
            "attainment": k.attainment,
            "status": k.status,
        },
    }


def results_to_json(results: Results, extra_issues: Iterable[Issue] = ()) -> dict[str, Any]:
    """The JSON object of the contract's "Machine-readable results" (plus channels,
    categories, ledger, cost lines and metrics). ``extra_issues`` (the loader's) come
    first in "issues", then the engine's own."""
    p = results.program
    t = results.totals
    return {
        "schema_version": SCHEMA_VERSION,
        "program": {
            "name": p.name,
            "currency": p.currency,
            "period_start": iso(p.period_start),
            "period_end": iso(p.period_end),
            "as_of": iso(p.as_of),
            "reporting_period": p.reporting_period,
            "attribution_model": p.attribution_model,
            "discount_rate": fraction(p.discount_rate),
        },
        "totals": {
            **figures_json(t),
            "unallocated_investment": money(results.unallocated_investment),
            "payback_months": results.payback_months,
            "npv": money(results.npv),
        },
        "goals": [goal_json(g) for g in results.goals],
        "initiatives": [
            {
                "id": i.id,
                "name": i.name,
                "goal_id": i.goal_id,
                "channel": i.channel,
                **figures_json(i.figures),
            }
            for i in results.initiatives
        ],
        "channels": [{"channel": c.channel, **figures_json(c.figures)} for c in results.channels],
        "categories": [
            {"category": c.category, "investment": money(c.investment), "share": fraction(c.share)}
            for c in results.categories
        ],
        "periods": [
            {
                "label": pr.label,
                "start": iso(pr.start),
                "end": iso(pr.end),
                "investment": money(pr.investment),
                "return": money(pr.returns.total),
                "return_by_type": returns_json(pr.returns),
                "net_return": money(pr.net_return),
                "cumulative_investment": money(pr.cumulative_investment),
                "cumulative_return": money(pr.cumulative_return),
            }
            for pr in results.periods
        ],
        "ledger": [
            {
                "source": str(ln.source),
                "date": iso(ln.date),
                "transaction_ref": ln.transaction_ref,
                "return_type": ln.return_type,
                "confidence": ln.confidence,
                "initiative_id": ln.initiative_id,
                "goal_id": ln.goal_id,
                "amount": money(ln.amount),
                "attribution": fraction(ln.attribution),
                "margin": fraction(ln.margin),
                "credit_share": fraction(ln.credit_share),
                "counted": money(ln.counted),
                "via": ln.via,
                "touchpoint": None if ln.touchpoint is None else str(ln.touchpoint),
            }
            for ln in results.ledger
        ],
        "cost_lines": [
            {
                "source": str(c.source),
                "date": iso(c.date),
                "initiative_id": c.initiative_id,
                "goal_id": c.goal_id,
                "category": c.category,
                "amount": money(c.amount),
                "period": c.period,
            }
            for c in results.cost_lines
        ],
        "metrics": [
            {
                "metric": m.metric,
                "period": m.period,
                "goal_id": m.goal_id,
                "value": m.value,
                "derived": m.derived,
            }
            for m in results.metrics
        ],
        "issues": [i.to_json() for i in (*extra_issues, *results.issues)],
    }


def results_to_text(results: Results, extra_issues: Iterable[Issue] = ()) -> str:
    """What ``scrm-xl run BOOK --json`` prints: the JSON object, indented, UTF-8."""
    return json.dumps(results_to_json(results, extra_issues), indent=2, ensure_ascii=False)


# --- reading it back ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProgrammeTotals:
    """One programme's headline figures, read back from its ``--json`` object: a row of the
    batch portfolio and the figures a briefing e-mail states. Money in the programme's
    currency, ROI as fractions, None where a figure does not exist (no investment, payback
    not reached). ``workbook`` names where the results came from, when that is known."""

    programme: str
    currency: str
    period_start: date
    period_end: date
    as_of: date
    investment: Decimal
    new_revenue: Decimal
    cost_savings: Decimal
    spending_avoided: Decimal
    total_return: Decimal
    net_return: Decimal
    roi: tuple[Decimal | None, Decimal | None, Decimal | None]  # conservative, expected, optimistic
    payback_months: int | None
    goals: int
    measurable_goals: int
    errors: int
    workbook: str = ""


def totals_from_json(results: Mapping, workbook: str = "") -> ProgrammeTotals:
    """The programme totals of a ``--json`` object (its "program", "totals", and "goals" and
    "issues" when present); ValueError naming what is missing."""

    def dec(x) -> Decimal | None:
        return None if x is None else Decimal(str(x))

    try:
        prog, tot = results["program"], results["totals"]
        ret, roi = tot["return"], tot["roi"]
        goals = results.get("goals") or ()
        issues = results.get("issues") or ()
        return ProgrammeTotals(
            programme=str(prog["name"]),
            currency=str(prog["currency"]).upper(),
            period_start=date.fromisoformat(prog["period_start"]),
            period_end=date.fromisoformat(prog["period_end"]),
            as_of=date.fromisoformat(prog["as_of"]),
            investment=Decimal(str(tot["investment"])),
            new_revenue=Decimal(str(ret["new_revenue"])),
            cost_savings=Decimal(str(ret["cost_savings"])),
            spending_avoided=Decimal(str(ret["spending_avoided"])),
            total_return=Decimal(str(ret["total"])),
            net_return=Decimal(str(tot["net_return"])),
            roi=(dec(roi["conservative"]), dec(roi["expected"]), dec(roi["optimistic"])),
            payback_months=tot.get("payback_months"),
            goals=len(goals),
            measurable_goals=sum(1 for g in goals if g.get("measurable")),
            errors=sum(1 for i in issues if i.get("severity") == "error"),
            workbook=workbook,
        )
    except KeyError as exc:
        name = results.get("program", {}).get("name") if isinstance(results, Mapping) else None
        raise ValueError(f"{workbook or name or 'a programme'}: results lack {exc.args[0]!r}") from None
