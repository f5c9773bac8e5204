"""Results -> the PDF briefing (Jinja2 HTML, then WeasyPrint).

The briefing keeps ROI (money linked to transactions) apart from value
(reach, engagement, influence: real, not money). ``render_html`` builds the
page from a view of the Results with every figure already formatted for the
programme's Locale; ``render_pdf`` hands it to ``pdf.write_pdf``, which lays
it out with WeasyPrint and writes it, reproducibly and without fetching
anything but the bundled stylesheet and fonts.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from . import charts
from .compute import DERIVED_RATES, derived_rate
from .files import templates_dir
from .fmt import MISSING, Formatter
from .model import FLOW_METRICS, Severity, is_stock_metric
from .results import Figures, Results

PAGE_SIZES = {"a4": "A4", "letter": "Letter"}
PDF_VARIANTS = ("pdf/a-3b",)
# the essays' three value KPIs lead the value section, in this order
LEADING_METRICS = ("Reach", "Impressions", "Engagements", "Engagement rate", "Influence score")
HEADLINE_VALUE = ("Reach", "Engagement rate", "Referrals", "Reviews", "Sentiment score")
RATE_METRICS = {"Engagement rate", "Conversation rate", "Amplification rate", "Applause rate",
                "Net sentiment", "Share of voice", "Repeat purchase rate", "Retention rate"}  # fmt: skip
# derived per-post ratios (Kaushik's conversation, amplification and applause rates)
PER_POST = {"Conversation rate", "Amplification rate", "Applause rate"}
GOALS_PER_TABLE = 5
ISSUES_SHOWN = 25  # the Checks sheet lists every issue; the briefing shows the first ones
STATUS_CLASS = {"Achieved": "good", "On track": "good", "At risk": "warn", "Missed": "bad",
                "Not measurable": "grey", "No data": "grey"}  # fmt: skip

log = logging.getLogger(__name__)


# --- the view: Results with every figure formatted ---------------------------


@dataclass
class Row:
    cells: dict[str, Any]
    css: str = ""


@dataclass
class MetricRow:
    name: str
    scope: str  # "total over the period", "latest", ...
    value: str
    first: str
    last: str
    trend: Markup
    derived: bool = False
    unit: str = ""


@dataclass
class View:
    fmt: Formatter
    program: Any
    page_size: str
    data: dict[str, Any] = field(default_factory=dict)


def _money_cells(fmt: Formatter, fig: Figures) -> dict[str, str]:
    return {
        "investment": fmt.money(fig.investment),
        "return": fmt.money(fig.returns.total),
        "net": fmt.money(fig.net_return),
        "roi_conservative": fmt.percent(fig.roi.conservative),
        "roi": fmt.percent(fig.roi.expected),
        "roi_optimistic": fmt.percent(fig.roi.optimistic),
        "new_revenue": fmt.money(fig.returns.new_revenue),
        "cost_savings": fmt.money(fig.returns.cost_savings),
        "spending_avoided": fmt.money(fig.returns.spending_avoided),
        "net_class": "neg" if fig.net_return < 0 else "",
    }


def _metric_series(results: Results) -> dict[str | None, dict[str, dict[str, float]]]:
    """scope (goal id or None) -> metric -> period label -> value."""
    out: dict[str | None, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for mv in results.metrics:
        out[mv.goal_id][mv.metric][mv.period] = mv.value
    return out


def _metric_order(names) -> list[str]:
    lead = [m for m in LEADING_METRICS if m in names]
    rest = sorted(n for n in names if n not in LEADING_METRICS)
    return lead + rest


def _is_rate(name: str) -> bool:
    return name in RATE_METRICS or name.endswith(" rate")


def _aggregate(
    name: str, series: dict[str, float], scope: dict[str, dict[str, float]], derived: bool = False
) -> tuple[float | None, str]:
    """One figure for a metric over the whole period, and what it means."""
    if derived and name in DERIVED_RATES:
        # a rate over the period comes from its inputs' totals, never an average of monthly rates
        inputs = {m: sum(scope[m].values()) for m in DERIVED_RATES[name] if m in scope}
        value = derived_rate(name, inputs)
        if value is not None:
            return value, "period totals"
    periods = sorted(series)
    if is_stock_metric(name) or _is_rate(name):
        return series[periods[-1]], "latest"
    if name not in FLOW_METRICS:
        return sum(series.values()), "total (unknown metric)"
    return sum(series.values()), "total"


def _unit(name: str) -> str:
    return "per post" if name in PER_POST else ""


def _metric_value(fmt: Formatter, name: str, value: float | None) -> str:
    if value is None:
        return MISSING
    if name in PER_POST:
        # likes, comments or shares per post: a ratio, not a share, so no percent sign (unit in the label)
        return fmt.number(value, 1)
    if _is_rate(name):
        return fmt.percent(value)
    if abs(value) < 10 and value != int(value):
        return fmt.number(value, 2)
    return fmt.number(value)


def _metric_rows(
    fmt: Formatter, scope: dict[str, dict[str, float]], labels: list[str], derived: set[str]
) -> list[MetricRow]:
    rows = []
    for name in _metric_order(scope):
        series = scope[name]
        value, meaning = _aggregate(name, series, scope, name in derived)
        ordered = [series.get(label) for label in labels]
        rows.append(
            MetricRow(
                name=name,
                scope=meaning,
                value=_metric_value(fmt, name, value),
                # the value in the first and the last period, as the column heads say; none is a dash
                first=_metric_value(fmt, name, ordered[0] if ordered else None),
                last=_metric_value(fmt, name, ordered[-1] if ordered else None),
                # a trend needs two readings; one lone dot would only suggest one
                trend=Markup(charts.sparkline(ordered))
                if sum(v is not None for v in ordered) > 1
                else Markup(""),
                derived=name in derived,
                unit=_unit(name),
            )
        )
    return rows


def _goal_matrix(
    fmt: Formatter, series: dict[str | None, dict[str, dict[str, float]]], goals: list[Any], derived: set[str]
) -> list[dict[str, Any]]:
    """Whole-period value per goal: one table, metrics down, goals across (a few goals per table)."""
    measured = [g for g in goals if g.id in series]
    tables = []
    for start in range(0, len(measured), GOALS_PER_TABLE):
        chunk = measured[start : start + GOALS_PER_TABLE]
        names = _metric_order({n for g in chunk for n in series[g.id]})
        rows = []
        for name in names:
            cells = []
            for g in chunk:
                scope = series[g.id]
                value = _aggregate(name, scope[name], scope, name in derived)[0] if name in scope else None
                cells.append(_metric_value(fmt, name, value))
            rows.append({"name": name, "derived": name in derived, "unit": _unit(name), "cells": cells})
        tables.append({"goals": [{"id": g.id, "name": g.name} for g in chunk], "rows": rows})
    return tables


VALUE_SENTENCES = {
    "Reach": "People reached across the programme's channels over the period (sum of monthly reach).",
    "Engagement rate": "Share of the people reached who engaged (engagements divided by reach).",
    "Referrals": "Referrals made by customers and contacts over the period.",
    "Reviews": "Customer reviews written over the period.",
    "Sentiment score": "Sentiment at the end of the period (the latest reading).",
}


def build_view(results: Results, page_size: str = "A4") -> dict[str, Any]:
    """Everything the template shows, formatted; the template only lays it out."""
    program = results.program
    fmt = Formatter(program.locale, program.currency)
    totals = results.totals
    labels = [p.label for p in results.periods]
    tick_labels = [fmt_month(fmt, p.start) for p in results.periods]

    # summary
    payback_idx = results.payback_months - 1 if results.payback_months else None
    payback_period = results.periods[payback_idx] if payback_idx is not None and payback_idx < len(
        results.periods) else None  # fmt: skip
    summary = {
        "roi": fmt.percent(totals.roi.expected),
        "roi_conservative": fmt.percent(totals.roi.conservative),
        "roi_optimistic": fmt.percent(totals.roi.optimistic),
        "investment": fmt.money(totals.investment),
        "return": fmt.money(totals.returns.total),
        "net": fmt.money(totals.net_return),
        "net_negative": totals.net_return < 0,
        "payback": fmt.months(results.payback_months),
        "payback_when": fmt_month(fmt, payback_period.start, long=True) if payback_period else None,
        "npv": fmt.money(results.npv) if results.npv is not None else None,
        "unallocated": fmt.money(results.unallocated_investment),
        "has_unallocated": results.unallocated_investment != 0,
    }
    if totals.investment:
        summary["sentence_roi"] = (
            f"For every {fmt.money(Decimal(100))} invested, the programme returned "
            f"{fmt.money(totals.returns.total / totals.investment * 100)} in transaction-linked value "
            f"(Expected scenario: high- and medium-confidence returns)."
        )
    else:
        summary["sentence_roi"] = "No investment is recorded, so there is no ROI to report."
    summary["sentence_range"] = (
        f"Counting only high-confidence returns, ROI is {fmt.percent(totals.roi.conservative)}; "
        f"counting every return, including low-confidence ones, it is {fmt.percent(totals.roi.optimistic)}."
    )
    summary["sentence_payback"] = (
        f"Cumulative return overtook cumulative investment in {summary['payback_when']}, "
        f"{summary['payback']} after the programme started."
        if payback_period
        else "Cumulative return has not yet caught up with cumulative investment."
    )

    series = _metric_series(results)
    derived = {mv.metric for mv in results.metrics if mv.derived}
    programme_scope = series.get(None, {})
    headline_value = []
    for name in HEADLINE_VALUE:
        if name in programme_scope:
            value, _ = _aggregate(name, programme_scope[name], programme_scope, name in derived)
            shown = _metric_value(fmt, name, value)
            headline_value.append({"name": name, "value": shown, "sentence": VALUE_SENTENCES[name],
                                   "present": True})  # fmt: skip
        else:
            headline_value.append({"name": name, "value": MISSING, "present": False,
                                   "sentence": "Not measured in this workbook."})  # fmt: skip

    # goals scorecard
    scorecard = []
    for g in results.goals:
        k = g.kpi
        scorecard.append(
            {
                "id": g.id,
                "name": g.name,
                "owner": g.owner,
                "objective": g.objective or MISSING,
                "measurable": g.measurable,
                "kpi": k.name,
                "baseline": _metric_value(fmt, k.name or "", k.baseline),
                "actual": _metric_value(fmt, k.name or "", k.actual),
                "target": _metric_value(fmt, k.name or "", k.target),
                "target_date": fmt.date(k.target_date),
                "attainment": fmt.percent(k.attainment),
                "bar": max(0.0, min(k.attainment or 0.0, 1.0)) * 100,
                "missing": ", ".join(
                    part
                    for part, absent in (
                        ("KPI", not k.name),
                        ("target", k.target is None),
                        ("target date", k.target_date is None),
                    )
                    if absent
                ),  # fmt: skip
                "status": k.status,
                "status_class": STATUS_CLASS.get(k.status, "grey"),
            }
        )

    # ROI
    by_goal = [
        {"id": g.id, "name": g.name, **_money_cells(fmt, g.figures), "payback": fmt.months(g.payback_months),
         "npv": fmt.money(g.npv), "npv_class": "neg" if g.npv is not None and g.npv < 0 else ""}
        for g in results.goals
    ]  # fmt: skip
    ret = totals.returns
    total_return = ret.total
    by_type = [
        {"name": name, "note": note, "amount": fmt.money(amount),
         "share": fmt.percent(amount / total_return) if total_return else MISSING}
        for name, note, amount in (
            ("New revenue", "after gross margin and attribution", ret.new_revenue),
            ("Cost savings", "costs the business no longer has", ret.cost_savings),
            ("Spending avoided", "spending that did not have to happen", ret.spending_avoided),
        )
    ]  # fmt: skip
    by_initiative = [
        {"id": i.id, "name": i.name, "goal": i.goal_id, "channel": i.channel or "(none)",
         **_money_cells(fmt, i.figures)}
        for i in results.initiatives
    ]  # fmt: skip
    by_channel = [{"name": c.channel, **_money_cells(fmt, c.figures)} for c in results.channels]
    by_category = [
        {"name": c.category, "investment": fmt.money(c.investment), "share": fmt.percent(c.share)}
        for c in results.categories
    ]
    by_period = [
        {"label": fmt_month(fmt, p.start, long=True), "investment": fmt.money(p.investment),
         "return": fmt.money(p.returns.total), "net": fmt.money(p.net_return),
         "net_class": "neg" if p.net_return < 0 else "",
         "cum_investment": fmt.money(p.cumulative_investment), "cum_return": fmt.money(p.cumulative_return),
         "payback": i == payback_idx}
        for i, p in enumerate(results.periods)
    ]  # fmt: skip
    cumulative_svg = charts.cumulative_chart(
        tick_labels,
        [p.cumulative_investment for p in results.periods],
        [p.cumulative_return for p in results.periods],
        payback_idx,
        lambda v: fmt.money(Decimal(str(v))),
        payback_label=f"Payback: {summary['payback_when']}" if payback_period else "",
    )
    steps = [charts.Step("Investment", -totals.investment, fmt.money(-totals.investment))]
    for name, amount in (("New revenue", ret.new_revenue), ("Cost savings", ret.cost_savings),
                         ("Spending avoided", ret.spending_avoided)):  # fmt: skip
        steps.append(charts.Step(name, amount, fmt.money_signed(amount)))
    steps.append(charts.Step("Net return", totals.net_return, fmt.money(totals.net_return), total=True))
    waterfall_svg = charts.waterfall(steps, lambda v: fmt.money(Decimal(str(v))))

    # value
    value_programme = _metric_rows(fmt, programme_scope, labels, derived) if programme_scope else []
    missing_lead = [m for m in ("Reach", "Engagements", "Influence score") if m not in programme_scope]
    value_goals = _goal_matrix(fmt, series, list(results.goals), derived)
    first_period = fmt_month(fmt, results.periods[0].start) if results.periods else MISSING
    last_period = fmt_month(fmt, results.periods[-1].start) if results.periods else MISSING

    # from value to ROI: value measured, nothing linked to a transaction yet
    returned_initiatives = {ln.initiative_id for ln in results.ledger}
    unlinked_goals = []
    for g in results.goals:
        if g.id not in series or g.figures.returns_by_scenario.optimistic:
            continue
        metrics = _metric_order(series[g.id])
        unlinked_goals.append({"id": g.id, "name": g.name, "investment": fmt.money(g.figures.investment),
                               "metrics": ", ".join(metrics[:4])})  # fmt: skip
    unlinked_initiatives = [
        {"id": i.id, "name": i.name, "goal": i.goal_id, "channel": i.channel or "(none)",
         "investment": fmt.money(i.figures.investment),
         "metrics": ", ".join(_metric_order(series.get(i.goal_id, {}))[:4]) or MISSING}
        for i in results.initiatives
        if i.id not in returned_initiatives and i.goal_id in series
    ]  # fmt: skip

    # data quality: errors first; each issue once
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    issues = sorted(results.issues, key=lambda i: (order.get(i.severity, 3), _natural(i.where), i.message))
    counts = {s.value: sum(1 for i in issues if i.severity == s) for s in Severity}
    # a long list buries the point: show the first ones (errors first) and count the rest
    rest = issues[ISSUES_SHOWN:]
    rest_counts = {s.value: sum(1 for i in rest if i.severity == s) for s in Severity}

    method = {
        "attribution": program.attribution_model,
        "half_life": fmt.number(program.half_life_days) + " days"
        if program.attribution_model == "Time decay"
        else None,
        "lookback": f"{program.lookback_days} days",
        "margin": fmt.percent(program.default_gross_margin),
        "discount": fmt.percent(program.discount_rate) if program.discount_rate is not None else None,
        "period": f"{fmt.date(program.period_start)} – {fmt.date(program.period_end)}",
        "reporting_period": program.reporting_period,
        "as_of": fmt.date(program.as_of),
        "as_of_given": program.as_of_given,
        "currency": program.currency,
        "locale": str(fmt.locale),
    }

    return {
        "program": program,
        "title": f"{program.name}: Social CRM ROI briefing",
        "as_of": fmt.date(program.as_of),
        "as_of_iso": program.as_of.isoformat(),
        "prepared_by": program.prepared_by,
        "period": method["period"],
        "page_size": page_size,
        "summary": summary,
        "headline_value": headline_value,
        "scorecard": scorecard,
        "any_unmeasurable": any(not g.measurable for g in results.goals),
        "by_goal": by_goal,
        "total": _money_cells(fmt, totals),
        "total_payback": fmt.months(results.payback_months),
        "total_npv": fmt.money(results.npv),
        "by_type": by_type,
        "total_return": fmt.money(total_return),
        "by_initiative": by_initiative,
        "by_channel": by_channel,
        "by_category": by_category,
        "total_investment": fmt.money(totals.investment),
        "by_period": by_period,
        "cumulative_svg": Markup(cumulative_svg),
        "waterfall_svg": Markup(waterfall_svg),
        "value_programme": value_programme,
        "missing_lead": missing_lead,
        "value_goals": value_goals,
        "first_period": first_period,
        "last_period": last_period,
        "unlinked_goals": unlinked_goals,
        "unlinked_initiatives": unlinked_initiatives,
        "issues": issues[:ISSUES_SHOWN],
        "issue_counts": counts,
        "issues_rest": len(rest),
        "issues_rest_counts": rest_counts,
        "method": method,
    }


def _natural(where: str) -> tuple:
    """Costs!E9 before Costs!E14: numbers inside a place compare as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", where or ""))


def fmt_month(fmt: Formatter, start: date, long: bool = False) -> str:
    from babel.dates import format_date

    return format_date(start, "MMMM y" if long else "MMM yy", locale=fmt.locale)


# --- HTML ---------------------------------------------------------------------

_env_lock = threading.Lock()
_env: jinja2.Environment | None = None


def environment() -> jinja2.Environment:
    """One Jinja environment per process: autoescape always on, undefined names fail loudly."""
    global _env
    with _env_lock:
        if _env is None:
            _env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(str(templates_dir())),
                autoescape=True,  # workbook text is data, never markup
                undefined=jinja2.StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=True,
            )
        return _env


def _page_size(page_size: str) -> str:
    try:
        return PAGE_SIZES[page_size.strip().lower()]
    except (KeyError, AttributeError):
        raise ValueError(f'page size "{page_size}" is not A4 or Letter') from None


def render_html(results: Results, *, page_size: str = "A4") -> str:
    """The briefing as one HTML document (stylesheet linked, charts inline SVG)."""
    view = build_view(results, _page_size(page_size))
    return environment().get_template("briefing.html.j2").render(**view)


# --- PDF ----------------------------------------------------------------------


def render_pdf(
    results: Results,
    out_path: str | os.PathLike[str],
    *,
    page_size: str = "A4",
    variant: str | None = None,
    attach: str | os.PathLike[str] | None = None,
) -> Path:
    """Render the briefing to ``out_path`` (replaced atomically) and return its path.

    ``variant="pdf/a-3b"`` writes an archival PDF/A-3b; ``attach`` embeds a
    file (the source workbook) in it. The same Results always give the same
    bytes: dates come from As of, the document identifier from the content.
    """
    html, options = prepare_pdf(results, page_size=page_size, variant=variant, attach=attach)
    from .pdf import write_pdf  # WeasyPrint: the slow import, only where a PDF is made

    return write_pdf(html, out_path, **options)


def prepare_pdf(
    results: Results, *, page_size: str = "A4", variant: str | None = None, attach=None
) -> tuple[str, dict[str, Any]]:
    """The briefing's HTML and the rest of what ``pdf.write_pdf`` needs: the date of As of, the
    variant, the attachment. Everything but the layout, which needs WeasyPrint."""
    if variant is not None and variant.lower() not in PDF_VARIANTS:
        raise ValueError(f'PDF variant "{variant}" is not supported (use {", ".join(PDF_VARIANTS)})')
    if attach is not None and variant is None:
        raise ValueError("attaching the workbook needs the pdf/a-3b variant")
    html = render_html(results, page_size=page_size)
    stamp = datetime.combine(results.program.as_of, time(0, 0), tzinfo=UTC)
    return html, {"stamp": stamp, "variant": variant.lower() if variant else None, "attach": attach}
