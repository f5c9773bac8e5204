"""Computation: records -> Results (investment, returns, ROI scenarios, periods,
payback, NPV, KPIs). Pure functions; the method is written out in docs/method.md.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal, localcontext
from itertools import repeat
from operator import add, attrgetter, itemgetter

from .attribute import attribute_lines, cents
from .model import (
    COST_CATEGORIES,
    COST_SAVINGS,
    NEW_REVENUE,
    SPENDING_AVOIDED,
    STANDARD_METRICS,
    Cost,
    Goal,
    Issue,
    Metric,
    Program,
    Records,
    info,
    is_stock_metric,
    warning,
)
from .results import (
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

NO_CHANNEL = "(none)"
NO_CATEGORY = "(none)"

# which confidences each scenario counts
CONSERVATIVE = frozenset({"High"})
EXPECTED = frozenset({"High", "Medium"})
OPTIMISTIC = frozenset({"High", "Medium", "Low"})

# derived rates: name -> (numerator metrics, denominator metrics); value = sum(num) / sum(den)
# Net sentiment is (Positive - Negative) / (Positive + Negative), handled by its own sign below.
DERIVED_RATES = {
    "Engagement rate": ("Engagements", "Reach"),
    "Conversation rate": ("Comments", "Posts"),
    "Amplification rate": ("Shares", "Posts"),
    "Applause rate": ("Likes", "Posts"),
    "Net sentiment": ("Positive mentions", "Negative mentions"),
}


# LedgerLine's fields, by position: it is a named tuple
_DATE, _REF, _RETURN_TYPE, _CONFIDENCE, _INITIATIVE, _COUNTED = map(itemgetter, (1, 2, 3, 4, 5, 11))


# --- periods -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bucket:
    label: str
    start: date
    end: date


def month_index(start: date, day: date) -> int:
    """0 for Period start's calendar month, 1 for the next, ..."""
    return (day.year - start.year) * 12 + day.month - start.month


def _add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month."""
    m = day.year * 12 + day.month - 1 + months
    return date(m // 12, m % 12 + 1, 1)


def month_buckets(start: date, end: date) -> list[Bucket]:
    """Calendar months from Period start's month to ``end``'s, clipped to start..end."""
    buckets = []
    for i in range(month_index(start, end) + 1):
        first = max(start, _add_months(start, i))
        last = min(end, _add_months(start, i + 1) - timedelta(days=1))
        buckets.append(Bucket(f"{first:%Y-%m}", first, last))
    return buckets


def quarter_buckets(start: date, end: date) -> list[Bucket]:
    """Groups of three calendar months counted from Period start's month.

    When Period start's month opens a calendar quarter the label is the calendar quarter
    ("2026-Q1"); otherwise it names its months ("2026-02..2026-04"), since a quarter
    that starts in February is not Q1 of anything a reader would recognise.
    """
    months = month_buckets(start, end)
    buckets = []
    for i in range(0, len(months), 3):
        group = months[i : i + 3]
        first_month = _add_months(start, i)
        if start.month % 3 == 1:
            label = f"{first_month.year}-Q{(first_month.month - 1) // 3 + 1}"
        else:
            label = f"{first_month:%Y-%m}..{_add_months(start, i + 2):%Y-%m}"
        buckets.append(Bucket(label, group[0].start, group[-1].end))
    return buckets


def buckets_for(program: Program) -> list[Bucket]:
    """Reporting buckets from Period start to As of (no figures exist after As of)."""
    if program.as_of < program.period_start:
        return []
    if program.reporting_period == "Quarter":
        return quarter_buckets(program.period_start, program.as_of)
    return month_buckets(program.period_start, program.as_of)


def bucket_index(program: Program, day: date) -> int:
    step = 3 if program.reporting_period == "Quarter" else 1
    return month_index(program.period_start, day) // step


# --- money figures --------------------------------------------------------------


def returns_by_type(lines: Iterable[LedgerLine], confidences: frozenset[str] = EXPECTED) -> ReturnByType:
    sums = {NEW_REVENUE: ZERO, COST_SAVINGS: ZERO, SPENDING_AVOIDED: ZERO}
    for line in lines:
        if line.confidence in confidences:
            sums[line.return_type] += line.counted
    return ReturnByType(sums[NEW_REVENUE], sums[COST_SAVINGS], sums[SPENDING_AVOIDED])


def roi(net: Decimal, investment: Decimal) -> Decimal | None:
    """Net / investment; no value where there is no (positive) investment."""
    if investment <= 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 28
        return net / investment


def _sums(lines: Iterable[LedgerLine]) -> dict[tuple[str, str], Decimal]:
    """Counted return by (confidence, return type), in one pass over the lines."""
    sums: dict[tuple[str, str], Decimal] = {}
    get = sums.get
    for line in lines:
        key = (line.confidence, line.return_type)
        sums[key] = get(key, ZERO) + line.counted
    return sums


def _scenario(sums: dict[tuple[str, str], Decimal], confidences: frozenset[str]) -> ReturnByType:
    # cent amounts add exactly, so summing per confidence first gives the same figures
    by_type = {NEW_REVENUE: ZERO, COST_SAVINGS: ZERO, SPENDING_AVOIDED: ZERO}
    for (confidence, return_type), amount in sums.items():
        if confidence in confidences:
            by_type[return_type] += amount
    return ReturnByType(by_type[NEW_REVENUE], by_type[COST_SAVINGS], by_type[SPENDING_AVOIDED])


def figures(investment: Decimal, lines: Iterable[LedgerLine]) -> Figures:
    return _figures(investment, _sums(lines))


def _figures(investment: Decimal, sums: dict[tuple[str, str], Decimal]) -> Figures:
    expected = _scenario(sums, EXPECTED)
    totals = [_scenario(sums, s).total for s in (CONSERVATIVE, EXPECTED, OPTIMISTIC)]
    return Figures(
        investment=investment,
        returns=expected,
        returns_by_scenario=Scenarios(*totals),
        net_return=expected.total - investment,
        roi=Scenarios(*(roi(t - investment, investment) for t in totals)),
    )


def monthly_nets(
    program: Program, costs: Iterable[Cost], lines: Iterable[LedgerLine]
) -> list[tuple[Decimal, Decimal]]:
    """(investment, expected return) for each calendar month from Period start to As of."""
    n = month_index(program.period_start, program.as_of) + 1 if program.as_of >= program.period_start else 0
    months = [[ZERO, ZERO] for _ in range(n)]
    for c in costs:
        months[month_index(program.period_start, c.date)][0] += c.amount
    for line in lines:
        if line.confidence in EXPECTED:
            months[month_index(program.period_start, line.date)][1] += line.counted
    return [(inv, ret) for inv, ret in months]


def _monthly(
    program: Program, costs: Iterable[Cost], returns: dict[int, Decimal]
) -> list[tuple[Decimal, Decimal]]:
    """``monthly_nets`` from expected return already summed by month index."""
    n = month_index(program.period_start, program.as_of) + 1 if program.as_of >= program.period_start else 0
    months = [[ZERO, ZERO] for _ in range(n)]
    for c in costs:
        months[month_index(program.period_start, c.date)][0] += c.amount
    for m in sorted(returns):
        months[m][1] += returns[m]
    return [(inv, ret) for inv, ret in months]


class _Cells:
    """Counted return by (initiative, month, confidence, return type), from one pass over the
    ledger; every slice's figures add these cells up. Cent amounts add exactly, so any grouping
    of the sum gives the same Decimal as adding line by line."""

    def __init__(self, program: Program, ledger: Iterable[LedgerLine]):
        cells: dict[tuple[str, int, str, str], Decimal] = {}
        month_of: dict[date, int] = {}
        start = program.period_start
        for ln in ledger:
            m = month_of.get(ln.date)
            if m is None:
                m = month_of[ln.date] = month_index(start, ln.date)
            key = (ln.initiative_id, m, ln.confidence, ln.return_type)
            amount = cells.get(key)
            cells[key] = ln.counted if amount is None else amount + ln.counted
        self.cells = cells

    def sums(self, initiatives: Collection[str] | None = None) -> dict[tuple[str, str], Decimal]:
        out: dict[tuple[str, str], Decimal] = {}
        for (iid, _, confidence, rtype), amount in self.cells.items():
            if initiatives is None or iid in initiatives:
                key = (confidence, rtype)
                out[key] = out.get(key, ZERO) + amount
        return out

    def expected_by_month(self, initiatives: Collection[str] | None = None) -> dict[int, Decimal]:
        out: dict[int, Decimal] = {}
        for (iid, m, confidence, _), amount in self.cells.items():
            if confidence in EXPECTED and (initiatives is None or iid in initiatives):
                out[m] = out.get(m, ZERO) + amount
        return out

    def period_sums(self, step: int) -> dict[int, dict[tuple[str, str], Decimal]]:
        out: dict[int, dict[tuple[str, str], Decimal]] = defaultdict(dict)
        for (_, m, confidence, rtype), amount in self.cells.items():
            bucket = out[m // step]
            key = (confidence, rtype)
            bucket[key] = bucket.get(key, ZERO) + amount
        return out


def payback_months(months: Sequence[tuple[Decimal, Decimal]]) -> int | None:
    """The first month m (1 = Period start's month) that ends with cumulative investment
    positive and cumulative expected return at least as large; None if never reached.
    A payback reached and later lost still counts from the month it was first reached."""
    cum_inv = cum_ret = ZERO
    for m, (inv, ret) in enumerate(months, start=1):
        cum_inv += inv
        cum_ret += ret
        if cum_inv > 0 and cum_ret >= cum_inv:
            return m
    return None


def npv(months: Sequence[tuple[Decimal, Decimal]], annual_rate: Decimal | None) -> Decimal | None:
    """Sum of net_m / (1 + r)^(m/12), m = 1 for Period start's month, to the cent."""
    if annual_rate is None:
        return None
    with localcontext() as ctx:
        ctx.prec = 34
        growth = 1 + annual_rate
        total = sum(
            ((ret - inv) / growth ** (Decimal(m) / 12) for m, (inv, ret) in enumerate(months, start=1)),
            ZERO,
        )
    return cents(total)


# --- KPIs ----------------------------------------------------------------------


def is_stock(metric: str) -> bool:
    """Stock metrics take the last value; so do rates given as raw rows ("... rate")."""
    return is_stock_metric(metric) or metric.lower().endswith(" rate")


def aggregate(metric: str, rows: Sequence[Metric]) -> float:
    """A flow metric sums; a stock metric takes the value on the latest date (the mean
    of several rows on that date, so that row order never matters)."""
    if not is_stock(metric):
        return math.fsum(r.value for r in rows)
    latest = max(r.date for r in rows)
    on_latest = [r.value for r in rows if r.date == latest]
    return math.fsum(on_latest) / len(on_latest)


def derived_rate(name: str, values: dict[str, float]) -> float | None:
    """A derived rate from the aggregated inputs of one scope; None when an input is
    missing or the denominator is zero."""
    num, den = DERIVED_RATES[name]
    if num not in values or den not in values:
        return None
    if name == "Net sentiment":
        pos, neg = values[num], values[den]
        return (pos - neg) / (pos + neg) if pos + neg != 0 else None
    return values[num] / values[den] if values[den] != 0 else None


def _metric_order(name: str) -> tuple[int, int, str]:
    if name in STANDARD_METRICS:
        return (0, STANDARD_METRICS.index(name), name)
    if name in DERIVED_RATES:
        return (2, list(DERIVED_RATES).index(name), name)
    return (1, 0, name.casefold())


def metric_values(
    program: Program, metrics: Sequence[Metric], goals: Sequence[Goal], buckets: Sequence[Bucket]
) -> list[MetricValue]:
    """Every metric per period, programme-wide (all rows) and per goal, plus derived rates."""
    scopes: list[tuple[str | None, list[Metric]]] = [(None, list(metrics))]
    for g in goals:
        rows = [m for m in metrics if m.goal_id == g.id]
        if rows:
            scopes.append((g.id, rows))
    out: list[MetricValue] = []
    for goal_id, rows in scopes:
        grouped: dict[tuple[int, str], list[Metric]] = defaultdict(list)
        for m in rows:
            grouped[(bucket_index(program, m.date), m.metric)].append(m)
        for i, bucket in enumerate(buckets):
            values = {name: aggregate(name, ms) for (bi, name), ms in grouped.items() if bi == i}
            for name in list(DERIVED_RATES):
                if name in values:  # a rate the user measured himself wins over ours
                    continue
                rate = derived_rate(name, values)
                if rate is not None:
                    out.append(MetricValue(name, bucket.label, goal_id, rate, derived=True))
            for name in sorted(values, key=_metric_order):
                out.append(MetricValue(name, bucket.label, goal_id, values[name]))
    out.sort(key=lambda v: (v.goal_id is not None, v.goal_id or "", _metric_order(v.metric), v.period))
    return out


def kpi_actual(kpi: str, rows: Sequence[Metric]) -> float | None:
    """A goal's Actual: its KPI over its rows from Period start to As of."""
    own = [r for r in rows if r.metric == kpi]
    if own:
        return aggregate(kpi, own)
    if kpi in DERIVED_RATES:
        inputs: dict[str, list[Metric]] = defaultdict(list)
        for r in rows:
            if r.metric in DERIVED_RATES[kpi]:
                inputs[r.metric].append(r)
        return derived_rate(kpi, {name: aggregate(name, ms) for name, ms in inputs.items()})
    return None


def goal_kpi(goal: Goal, program: Program, rows: Sequence[Metric]) -> Kpi:
    """Actual, attainment and status of one goal, judged at As of (never today)."""
    actual = kpi_actual(goal.kpi, rows) if goal.kpi else None
    attainment = None
    if not goal.measurable:
        status = "Not measurable"
    elif actual is None:
        status = "No data"
    else:
        baseline = goal.baseline if goal.baseline is not None else 0.0
        target, target_date = goal.target, goal.target_date
        assert target is not None and target_date is not None  # measurable
        if target != baseline:
            attainment = (actual - baseline) / (target - baseline)
            achieved = attainment >= 1
        else:  # nothing to gain: achieved when the actual is on the right side of the target
            achieved = actual >= target if goal.direction != "Decrease" else actual <= target
        if achieved:
            status = "Achieved"
        elif program.as_of > target_date:
            status = "Missed"
        else:
            span = (target_date - program.period_start).days
            elapsed = (program.as_of - program.period_start).days / span if span > 0 else 1.0
            status = "On track" if attainment is not None and attainment >= elapsed else "At risk"
    return Kpi(
        name=goal.kpi,
        baseline=goal.baseline,
        target=goal.target,
        target_date=goal.target_date,
        direction=goal.direction,
        actual=actual,
        attainment=attainment,
        status=status,
    )


# --- the whole computation ---------------------------------------------------------


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple:
    """G2 before G10: IDs sort as people read them, so results never follow row order."""
    parts = _DIGITS.split(text)  # text, digits, text, digits, ..., text
    parts[0::2] = map(str.casefold, parts[0::2])
    parts[1::2] = map(int, parts[1::2])
    return tuple(parts)


# the order of CellRef itself (sheet, row, col), without a dataclass __lt__ per comparison
_source_key = attrgetter("source.sheet", "source.row", "source.col")


class _DigitsCodes(dict):
    """Digit run -> its code; the same runs ("2026", "001") recur across thousands of refs."""

    def __missing__(self, digits: str) -> str:
        number = str(int(digits))  # "007" is 7, as in natural_key; int() also reads non-ASCII digits
        code = self[digits] = chr(len(number)) + number  # a longer number is a larger one
        return code


def _sortable(text: str, codes: _DigitsCodes) -> str:
    """One string that sorts as ``natural_key(text)`` does (for texts without NUL).

    Text parts end with NUL, which sorts below every other character, so "ab" < "abc" as
    in the tuple; numbers are their digits led by their length. Comparing one str is a
    single C loop, where comparing tuples of str and int costs a call per element.
    """
    # casefold the whole text at once: it never changes a digit or makes one (every code
    # point checked) and folds each character alone, so the text parts fold as in natural_key
    parts = _DIGITS.split(text.casefold())
    parts[1::2] = map(codes.__getitem__, parts[1::2])
    return "\0".join(parts)


_CHUNK = 1000  # texts per call: 250 measured as fast, 4,000 and more slower
_SEP = "\x7f"  # joins a chunk; not a digit, its own casefold, a code only for a 127-digit number
_BLANK_ALL_BUT_DIGITS = str.maketrans({chr(c): " " for c in range(128) if chr(c) not in "0123456789"})
_BLANK_DIGITS = str.maketrans(dict.fromkeys("0123456789", " "))
_NUL_FOR_DIGITS = str.maketrans(dict.fromkeys("0123456789", "\0"))


def _sortables(texts: list[str], chunk: int = _CHUNK) -> list[str] | None:
    """``_sortable`` of each text, or None when a text holds NUL.

    A chunk of texts is joined, casefolded and split at its digits in a few calls, not a
    regex call per text: casefold and the split work character by character, and the
    separator is no digit, so each text's slice of the result is its own ``_sortable``.
    """
    codes = _DigitsCodes()
    out: list[str] = []
    for start in range(0, len(texts), chunk):
        some = texts[start : start + chunk]
        # the separator at both ends too: then no text part of the whole is empty
        folded = (_SEP + _SEP.join(some) + _SEP).casefold()
        if "\0" in folded:  # casefold neither makes nor removes NUL
            return None
        if folded.isascii():
            # ASCII digits are all the digits there are: blanking the rest leaves the runs, and
            # cutting the runs out leaves the text parts, none of them empty
            runs = folded.translate(_BLANK_ALL_BUT_DIGITS).split()
            parts: list[str] = [""] * (2 * len(runs) + 1)
            if len(folded.split()) == 1:  # no white space: blank digits split the text parts
                parts[0::2] = folded.translate(_BLANK_DIGITS).split()
            else:  # one NUL per digit, and the empty strings between them dropped
                parts[0::2] = filter(None, folded.translate(_NUL_FOR_DIGITS).split("\0"))
            parts[1::2] = map(codes.__getitem__, runs)
        else:
            parts = _DIGITS.split(folded)
            parts[1::2] = map(codes.__getitem__, parts[1::2])
        sortables = "\0".join(parts).split(_SEP)[1:-1]
        if len(sortables) != len(some):  # the separator in a text or a code: one text at a time
            sortables = [_sortable(t, codes) for t in some]
        out += sortables
    return out


def _places(texts: list[str]) -> list[int]:
    """Each text's place in natural order, below len(texts); texts with equal natural keys
    share a place ("G01" and "g1"), so a stable sort on places orders them as a sort on keys
    would."""
    keys: list | None = _sortables(texts)
    if keys is None:  # NUL would break _sortable's order
        keys = list(map(natural_key, texts))
    places = [0] * len(keys)
    previous, place = None, 0
    for position, i in enumerate(sorted(range(len(keys)), key=keys.__getitem__)):
        key = keys[i]
        if key != previous:  # equal keys take the first one's place
            previous, place = key, position
        places[i] = place
    return places


def _ranks(texts: Iterable[str]) -> dict[str, int]:
    """Each distinct text's place in natural order (see ``_places``)."""
    distinct = list(set(texts))
    return dict(zip(distinct, _places(distinct), strict=True))


def _ledger_order(lines: list[LedgerLine]) -> tuple[LedgerLine, ...]:
    """The ledger by (date, natural Transaction ref, natural Initiative ID, source).

    ``lines`` come in sheet order of their returns, and one return's lines have distinct
    Initiative IDs, so a stable sort on the first three keys gives the source order for free.
    Those three are packed into one int per line: comparing ints, not nested tuples of
    natural keys, is what makes sorting a million lines affordable.
    """
    if not lines:
        return ()
    # each line's ref as the number of its distinct ref, in one pass: map asks len(seen) for
    # each line just before setdefault, so a new ref gets the next number
    seen: dict[str, int] = {}
    ref_numbers = list(map(seen.setdefault, map(_REF, lines), map(len, repeat(seen))))
    ids = _ranks(map(_INITIATIVE, lines))
    n_ids = len(ids)
    # key = (day place * refs + ref place) * IDs + ID place, as sums of parts made once each
    ref_parts = [place * n_ids for place in _places(list(seen))]
    day_step = len(ref_parts) * n_ids
    day_parts = {day: i * day_step for i, day in enumerate(sorted(set(map(_DATE, lines))))}
    keys = list(
        map(
            add,
            map(add, map(day_parts.__getitem__, map(_DATE, lines)), map(ref_parts.__getitem__, ref_numbers)),
            map(ids.__getitem__, map(_INITIATIVE, lines)),
        )
    )
    del ref_numbers
    order = sorted(range(len(lines)), key=keys.__getitem__)
    del keys
    return tuple(map(lines.__getitem__, order))


def _group(items: Iterable, key: Callable) -> dict:
    out: dict = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return out


_DATE_AND_PLACE = attrgetter("date", "source.sheet", "source.col")
_SOURCE_ROW = attrgetter("source.row")


def _within_period(records: Records) -> tuple[Records, list[Issue]]:
    """Rows dated outside Period start..As of. The loader already drops them with a
    warning; this guard keeps the engine total for records built any other way."""
    program = records.program
    issues: list[Issue] = []

    def keep(rows: tuple) -> tuple:
        # one pass finds the rows' distinct dates and places (a few hundred from the loader)
        seen = set(map(_DATE_AND_PLACE, rows))
        # rows on one sheet in one column sort by row number alone: an int key sorts several
        # times faster than the (sheet, row, col) tuple, in the same order
        one_place = len({(sheet, col) for _, sheet, col in seen}) <= 1
        ordered = sorted(rows, key=_SOURCE_ROW if one_place else _source_key)
        days = {day for day, _, _ in seen}
        if not days or (program.period_start <= min(days) and max(days) <= program.as_of):
            return tuple(ordered)  # all in the period, as rows from the loader are
        kept = []
        for r in ordered:
            if program.period_start <= r.date <= program.as_of:
                kept.append(r)
            else:
                issues.append(
                    warning(
                        r.source,
                        f"dated {r.date.isoformat()}, outside {program.period_start.isoformat()}"
                        f"..{program.as_of.isoformat()} (Period start..As of): not counted",
                    )
                )
        return tuple(kept)

    trimmed = replace(
        records, costs=keep(records.costs), returns=keep(records.returns), metrics=keep(records.metrics)
    )
    return trimmed, issues


def compute(records: Records) -> Results:
    """Compute every figure the outputs show from the loaded records."""
    from .bulk import paused_gc

    with paused_gc():
        return _compute(records)


def _compute(records: Records) -> Results:
    program = records.program
    records, issues = _within_period(records)
    # _within_period left the returns in sheet order
    ledger_lines, attribution_issues = attribute_lines(records, in_sheet_order=True)
    issues.extend(attribution_issues)
    buckets = buckets_for(program)
    labels = [b.label for b in buckets]
    ledger = _ledger_order(ledger_lines)
    # every counted cost to the cent, like every counted return, so that all sums reconcile as shown
    costs = sorted(
        (replace(c, amount=cents(c.amount)) for c in records.costs), key=lambda c: (c.date, c.source)
    )
    cost_lines = tuple(
        CostLine(
            c.source,
            c.date,
            c.initiative_id,
            c.goal_id,
            c.category,
            c.amount,
            labels[bucket_index(program, c.date)],
        )
        for c in costs
    )

    goals = sorted(records.goals, key=lambda g: natural_key(g.id))
    initiatives = sorted(records.initiatives, key=lambda i: natural_key(i.id))
    costs_by_goal = _group(costs, lambda c: c.goal_id)
    costs_by_initiative = _group(costs, lambda c: c.initiative_id)
    cells = _Cells(program, ledger)
    initiatives_of = _group(records.initiatives, lambda i: i.goal_id)
    metrics_by_goal = _group(records.metrics, lambda m: m.goal_id)

    def invested(rows: Iterable[Cost]) -> Decimal:
        return sum((c.amount for c in rows), ZERO)

    total_investment = invested(costs)
    unallocated = invested(costs_by_goal.get(None, ()))
    totals = _figures(total_investment, cells.sums())
    program_months = _monthly(program, costs, cells.expected_by_month())

    goal_results = []
    for g in goals:
        g_costs = costs_by_goal.get(g.id, [])
        g_initiatives = {i.id for i in initiatives_of.get(g.id, ())}
        months = _monthly(program, g_costs, cells.expected_by_month(g_initiatives))
        goal_results.append(
            GoalResult(
                id=g.id,
                name=g.name,
                objective=g.objective,
                owner=g.owner,
                measurable=g.measurable,
                figures=_figures(invested(g_costs), cells.sums(g_initiatives)),
                payback_months=payback_months(months),
                npv=npv(months, program.discount_rate),
                kpi=goal_kpi(g, program, metrics_by_goal.get(g.id, [])),
            )
        )
        if invested(g_costs) < 0:
            issues.append(warning(g.source, f"goal {g.id}: credits exceed costs, so it has no ROI"))

    initiative_results = [
        InitiativeResult(
            id=i.id,
            name=i.name,
            goal_id=i.goal_id,
            channel=i.channel,
            figures=_figures(invested(costs_by_initiative.get(i.id, [])), cells.sums({i.id})),
        )
        for i in initiatives
    ]

    by_channel = _group(initiatives, lambda i: i.channel or NO_CHANNEL)
    channel_results = []
    for channel in sorted(by_channel, key=lambda ch: (ch == NO_CHANNEL, ch.casefold())):
        ids = {i.id for i in by_channel[channel]}
        channel_results.append(
            ChannelResult(
                channel,
                _figures(invested(c for c in costs if c.initiative_id in ids), cells.sums(ids)),
            )
        )

    by_category = _group(costs, lambda c: c.category or NO_CATEGORY)

    def category_order(cat: str) -> tuple:
        if cat in COST_CATEGORIES:
            return (0, COST_CATEGORIES.index(cat), "")
        return (2, 0, "") if cat == NO_CATEGORY else (1, 0, cat.casefold())

    category_results = []
    for cat in sorted(by_category, key=category_order):
        amount = invested(by_category[cat])
        with localcontext() as ctx:
            ctx.prec = 28
            share = amount / total_investment if total_investment > 0 else None
        category_results.append(CategoryResult(cat, amount, share))

    period_results = []
    cum_inv = cum_ret = ZERO
    costs_by_bucket = _group(costs, lambda c: bucket_index(program, c.date))
    sums_by_bucket = cells.period_sums(3 if program.reporting_period == "Quarter" else 1)
    for i, b in enumerate(buckets):
        inv = invested(costs_by_bucket.get(i, []))
        rets = _scenario(sums_by_bucket.get(i, {}), EXPECTED)
        cum_inv += inv
        cum_ret += rets.total
        period_results.append(
            PeriodResult(b.label, b.start, b.end, inv, rets, rets.total - inv, cum_inv, cum_ret)
        )

    if total_investment < 0:
        issues.append(warning("Costs", "credits exceed costs over the programme, so it has no ROI"))
    unknown = _group(
        (m for m in records.metrics if m.metric not in STANDARD_METRICS and m.metric not in DERIVED_RATES),
        lambda m: m.metric,
    )
    for name in sorted(unknown, key=str.casefold):
        first = min(m.source for m in unknown[name])
        kind = "a stock (its last value per period)" if is_stock(name) else "a flow (summed per period)"
        issues.append(info(first, f"metric {name!r} is not a standard metric; it is counted as {kind}"))

    return Results(
        program=program,
        totals=totals,
        unallocated_investment=unallocated,
        payback_months=payback_months(program_months),
        npv=npv(program_months, program.discount_rate),
        goals=tuple(goal_results),
        initiatives=tuple(initiative_results),
        channels=tuple(channel_results),
        categories=tuple(category_results),
        periods=tuple(period_results),
        ledger=ledger,
        cost_lines=cost_lines,
        metrics=tuple(metric_values(program, records.metrics, goals, buckets)),
        issues=tuple(issues),
    )
