"""Attribution: turn each Returns row into counted ledger lines, one per credited initiative.

A row with an Initiative ID is credited directly. A row without one is credited through
its touchpoints with the programme's attribution model. Money stays in ``Decimal``; the
row's counted amount is rounded to the cent first and then split so that the shares add
up to it exactly (largest remainder), so the ledger always sums to the returns.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, localcontext
from itertools import islice
from math import gcd, lcm
from operator import attrgetter, lt

from .model import (
    NEW_REVENUE,
    CellRef,
    Issue,
    Program,
    Records,
    Return,
    Touchpoint,
    error,
)
from .results import LedgerLine

CENT = Decimal("0.01")
ONE = Decimal(1)
DIRECT = "direct"
ZERO_WEIGHT = Decimal(0)


def cents(amount: Decimal) -> Decimal:
    """Round money to the cent, half up, as a finance user rounds by hand."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Touch:
    """A touchpoint that counts for one return, with its age in whole days."""

    initiative_id: str
    timestamp: datetime
    age_days: int  # return Date - touchpoint's calendar date
    source: CellRef


def counting_touches(ret: Return, touchpoints: Iterable[Touchpoint], lookback_days: int) -> list[Touch]:
    """The touchpoints that count for ``ret``, in credit order.

    Ages are whole calendar days: a touch any time on the return's Date is 0 days old,
    one on the day before is 1 day old. "On or before the return's Date" is age >= 0 and
    the lookback window is age <= window. Credit order is (timestamp, Initiative ID), so
    equal timestamps break by Initiative ID and row order never matters.
    """
    touches = []
    for tp in touchpoints:
        age = (ret.date - tp.timestamp.date()).days
        if 0 <= age <= lookback_days:
            touches.append(Touch(tp.initiative_id, tp.timestamp, age, tp.source))
    touches.sort(key=lambda t: (t.timestamp, t.initiative_id, t.source))
    return touches


def model_weights(model: str, touches: Sequence[Touch], half_life_days: Decimal) -> list[Decimal]:
    """Each touch's weight under ``model``; weights are later normalised by their sum."""
    n = len(touches)
    if model == "Last touch":
        return [Decimal(0)] * (n - 1) + [ONE]
    if model == "First touch":
        return [ONE] + [Decimal(0)] * (n - 1)
    if model == "Linear":
        return [ONE] * n
    if model == "Time decay":
        # 2^(-age/half-life); Decimal power is correctly rounded, so the split is reproducible
        return [Decimal(2) ** (-Decimal(t.age_days) / half_life_days) for t in touches]
    if model == "Position based":
        if n == 1:
            return [ONE]
        if n == 2:
            return [Decimal("0.5"), Decimal("0.5")]
        middle = Decimal("0.2") / (n - 2)
        return [Decimal("0.4")] + [middle] * (n - 2) + [Decimal("0.4")]
    raise ValueError(f"unknown attribution model {model!r}")  # the loader canonicalises models


def split_exactly(total: Decimal, weights: dict[str, Decimal]) -> dict[str, Decimal]:
    """Split ``total`` (whole cents) by ``weights`` so the shares sum exactly to it.

    Largest remainder: every key gets its share rounded down to the cent, and the cents
    left over go one each to the largest remainders, ties to the lower key.
    """
    sign = -1 if total < 0 else 1
    whole = int(abs(total) / CENT)
    if len(weights) == 1 and next(iter(weights.values())) != 0:
        # one key takes it all: its exact share is whole up to a rounding far below a cent,
        # which the largest remainder step would give back (the common case, worth a shortcut)
        return {key: sign * Decimal(whole) * CENT for key in weights}
    weight_sum = sum(weights.values(), Decimal(0))
    cents_total = Decimal(whole)
    floors: dict[str, int] = {}
    remainders = []
    for key, weight in weights.items():
        exact = cents_total * weight / weight_sum
        floor = floors[key] = int(exact.to_integral_value(rounding=ROUND_FLOOR))
        remainders.append((-(exact - floor), key))
    left = whole - sum(floors.values())
    if left:
        remainders.sort()  # largest remainder first, ties to the lower key
        for _, key in remainders[:left]:
            floors[key] += 1
    return {key: sign * Decimal(c) * CENT for key, c in floors.items()}


def applied_margin(ret: Return, program: Program) -> Decimal | None:
    """The gross margin applied to a return: its own, else the programme default (New revenue only)."""
    if ret.return_type != NEW_REVENUE:
        return ONE
    if ret.gross_margin is not None:
        return ret.gross_margin
    return program.default_gross_margin


def attribute(records: Records) -> tuple[tuple[LedgerLine, ...], tuple[Issue, ...]]:
    """Credit every return to initiatives; returns the ledger and the problems found."""
    ledger, issues = attribute_lines(records)
    return tuple(ledger), tuple(issues)


_SOURCE_ORDER = attrgetter("source.sheet", "source.row", "source.col")  # CellRef's order, in C
_REF = attrgetter("transaction_ref")
_TIMESTAMP = attrgetter("timestamp")
_INITIATIVE = attrgetter("initiative_id")
_SOURCE = attrgetter("source")
_TZINFO = attrgetter("tzinfo")
ZERO_CENTS = Decimal("0.00")
MINUS_CENT = -CENT
# LedgerLine(*fields) without the named tuple's Python-level __new__, which only packs its
# arguments (namedtuple's own _make does the same): a third of the time for 1.5M lines
_new = tuple.__new__
_PLANS_KEPT = 10_000  # touch shapes remembered at once (Time decay shapes carry ages, so may be many)


def attribute_lines(
    records: Records, *, in_sheet_order: bool = False
) -> tuple[list[LedgerLine], list[Issue]]:
    """``attribute`` as lists; ``in_sheet_order`` says the returns are already sorted by source.

    The ledger comes out in sheet order of the returns, each return's lines by Initiative ID.
    """
    program = records.program
    goal_of = {i.id: i.goal_id for i in records.initiatives}
    credit: _Credit | None = None  # made at the first return credited through touchpoints

    ledger: list[LedgerLine] = []
    issues: list[Issue] = []
    add = ledger.append
    default_margin = program.default_gross_margin
    model = program.attribution_model
    returns = records.returns if in_sheet_order else sorted(records.returns, key=_SOURCE_ORDER)
    with localcontext() as ctx:
        ctx.prec = 34
        # sheet order, so the issues read top to bottom whatever order the records came in
        for ret in returns:
            # applied_margin, inlined: it runs once per return
            if ret.return_type != NEW_REVENUE:
                margin = ONE
            elif ret.gross_margin is not None:
                margin = ret.gross_margin
            else:
                margin = default_margin
            if margin is None:
                issues.append(
                    error(
                        ret.source,
                        f"New revenue {ret.transaction_ref!r} has no gross margin and the Program sheet "
                        "has no Default gross margin: revenue is not return until its margin is known, "
                        "so this row is not counted",
                    )
                )
                continue
            amount, attribution = ret.amount, ret.attribution
            counted = (amount * attribution * margin).quantize(CENT, ROUND_HALF_UP)
            initiative_id = ret.initiative_id
            if initiative_id is not None:
                add(
                    _new(
                        LedgerLine,
                        (
                            ret.source,
                            ret.date,
                            ret.transaction_ref,
                            ret.return_type,
                            ret.confidence,
                            initiative_id,
                            goal_of[initiative_id],
                            amount,
                            attribution,
                            margin,
                            ONE,
                            counted,
                            DIRECT,
                            None,
                        ),
                    )
                )
                continue
            if credit is None:
                credit = _Credit(program, records.touchpoints, goal_of, ctx)
            found = credit.shape(ret)
            if isinstance(found, Issue):
                issues.append(found)
                continue
            plan, touches, base = found
            source, day, ref, rtype, confidence = (
                ret.source,
                ret.date,
                ret.transaction_ref,
                ret.return_type,
                ret.confidence,
            )
            for (initiative_id, goal_id, share, shown), line_amount in zip(
                plan.lines, plan.split(counted), strict=True
            ):
                add(
                    _new(
                        LedgerLine,
                        (
                            source,
                            day,
                            ref,
                            rtype,
                            confidence,
                            initiative_id,
                            goal_id,
                            amount,
                            attribution,
                            margin,
                            share,
                            line_amount,
                            model,
                            touches[base + shown].source,
                        ),
                    )
                )
    return ledger, issues


class _Plan:
    """What a return credited through one touch shape gets whatever its amount.

    A shape is the sequence of counting touches' Initiative IDs, in credit order (with their
    ages for Time decay). ``lines`` holds, by Initiative ID, (initiative, goal, credit share,
    position in the shape of the touch the line points to); ``split(counted)`` gives each
    line's amount, as ``split_exactly`` would."""

    __slots__ = ("lines", "split")

    def __init__(self, lines: tuple[tuple[str, str, Decimal, int], ...], split: _Split):
        self.lines = lines
        self.split = split


class _Credit:
    """Crediting through touchpoints for one programme.

    The steps of ``counting_touches``, ``model_weights`` and ``split_exactly`` (which stay the
    reference): each transaction's touchpoints are put in credit order once, and all that does
    not depend on the amount is worked out once per touch shape (a ``_Plan``). Make and use it
    inside one 34-digit context.
    """

    def __init__(
        self, program: Program, touchpoints: Iterable[Touchpoint], goal_of: dict[str, str], ctx: Context
    ):
        self.model = program.attribution_model
        self.lookback = program.lookback_days
        self.half_life = program.half_life_days
        self.goal_of = goal_of
        self.decay: dict[int, Decimal] = {}  # age in days -> 2^(-age/half-life)
        self.by_count: dict[int, list[Decimal]] = {}  # other models: touch count -> weights
        self.plans: dict[tuple, _Plan] = {}
        # exact steps need no rounding, which holds only far from the exponent limits
        self.whole_cents = ctx.Emin <= -1000 and ctx.Emax >= 1000
        ordered = list(touchpoints)
        refs = list(map(_REF, ordered))
        stamps = list(map(_TIMESTAMP, ordered))
        ids = list(map(_INITIATIVE, ordered))
        # grouped by transaction, each transaction's in credit order (counting_touches' order)
        keys = list(zip(refs, stamps, ids, map(_SOURCE, ordered), strict=True))
        if any(map(lt, islice(keys, 1, None), keys)):  # the loader's order is credit order already
            order = sorted(range(len(keys)), key=keys.__getitem__)
            ordered = [ordered[i] for i in order]
            refs = [refs[i] for i in order]
            stamps = [stamps[i] for i in order]
            ids = [ids[i] for i in order]
        del keys
        self.ordered = ordered
        self.days = list(map(datetime.toordinal, stamps))  # calendar day of each, as an ordinal
        self.ids = tuple(ids)
        n = len(ordered)
        self.first = dict(zip(reversed(refs), range(n - 1, -1, -1), strict=True))  # the first position wins
        self.end = dict(zip(refs, range(1, n + 1), strict=True))  # the last position wins
        self.in_runs = set(map(_TZINFO, stamps)) <= {None}

    def shape(self, ret: Return) -> tuple[_Plan, Sequence[Touchpoint], int] | Issue:
        """The plan for ``ret``'s counting touches, touchpoints in credit order and where the shape
        starts among them; or why it cannot be credited."""
        ref = ret.transaction_ref
        lo = self.first.get(ref)
        if lo is None:
            return error(
                ret.source,
                f"return {ref!r} has no Initiative ID and no touchpoint with this "
                "Transaction ref, so it cannot be credited to an initiative and is not counted",
            )
        hi = self.end[ref]
        day = ret.date.toordinal()
        lookback = self.lookback
        days = self.days
        if self.in_runs:
            first = bisect_left(days, day - lookback, lo, hi)
            last = bisect_right(days, day, first, hi)
            ids = self.ids[first:last]
            touches: Sequence[Touchpoint] = self.ordered
            base = first
            touch_days = days[first:last] if self.model == "Time decay" else ()
        else:
            picked = [i for i in range(lo, hi) if 0 <= day - days[i] <= lookback]
            ids = tuple(self.ids[i] for i in picked)
            touches = [self.ordered[i] for i in picked]
            base = 0
            touch_days = [days[i] for i in picked]
        if not ids:
            return error(
                ret.source,
                f"return {ref!r}: none of its {hi - lo} touchpoint(s) falls on or "
                f"before {ret.date.isoformat()} within the {lookback}-day lookback window, so it "
                "cannot be credited and is not counted",
            )
        ages = tuple(map(day.__sub__, touch_days)) if self.model == "Time decay" else None
        key = ids if ages is None else (ids, ages)
        plan = self.plans.get(key)
        if plan is None:
            if len(self.plans) >= _PLANS_KEPT:
                self.plans.clear()
            plan = self.plans[key] = self.plan(ids, ages)
        return plan, touches, base

    def weights(self, n: int, ages: tuple[int, ...] | None) -> list[Decimal]:
        if ages is None:
            weights = self.by_count.get(n)
            if weights is None:  # only the count matters to the other models
                weights = self.by_count[n] = model_weights(self.model, [None] * n, self.half_life)
            return weights
        decay = self.decay
        out = []
        for age in ages:
            w = decay.get(age)
            if w is None:
                w = decay[age] = Decimal(2) ** (-Decimal(age) / self.half_life)
            out.append(w)
        return out

    def plan(self, ids: tuple[str, ...], ages: tuple[int, ...] | None) -> _Plan:
        by_initiative: dict[str, Decimal] = {}
        # the touch a line points to: the initiative's latest counted touch with a weight
        shown: dict[str, int] = {}
        for position, (initiative_id, weight) in enumerate(
            zip(ids, self.weights(len(ids), ages), strict=True)
        ):
            if weight == 0:
                continue
            # Decimal() + weight, as a defaultdict(Decimal) adds, so exponents stay the same
            by_initiative[initiative_id] = by_initiative.get(initiative_id, ZERO_WEIGHT) + weight
            shown[initiative_id] = position
        weight_sum = sum(by_initiative.values(), ZERO_WEIGHT)
        keys = sorted(by_initiative)
        goal_of = self.goal_of
        lines = tuple((k, goal_of[k], by_initiative[k] / weight_sum, shown[k]) for k in keys)
        return _Plan(lines, _split_for([by_initiative[k] for k in keys], weight_sum, self.whole_cents))


_Split = Callable[[Decimal], Sequence[Decimal]]


def _no_lines(counted: Decimal) -> tuple[()]:
    return ()


def _all_to_one(counted: Decimal) -> tuple[Decimal]:
    # split_exactly's one-key case: sign x whole cents x CENT is ``counted`` itself (same digits,
    # exponent -2), but for -0.00, which has no sign there
    return (counted if counted else ZERO_CENTS,)


def _split_for(weights: list[Decimal], weight_sum: Decimal, whole_cents: bool) -> _Split:
    """``split_exactly`` for these weights (in key order, summing to ``weight_sum`` as there), as a
    function of the total."""
    if not weights:
        return _no_lines
    if len(weights) == 1:
        return _all_to_one
    in_decimal = _DecimalSplit(weights, weight_sum)
    if whole_cents:
        exact = _exact_scale(weights, weight_sum)
        if exact is not None:
            return _CentSplit(*exact, in_decimal)
    return in_decimal


class _DecimalSplit:
    """``split_exactly``'s arithmetic, step for step, with the weights in key order."""

    __slots__ = ("weights", "weight_sum")

    def __init__(self, weights: list[Decimal], weight_sum: Decimal):
        self.weights = weights
        self.weight_sum = weight_sum

    def __call__(self, counted: Decimal) -> list[Decimal]:
        whole = int(counted.scaleb(2))  # counted is whole cents: exact
        unit = CENT
        if whole < 0:
            whole, unit = -whole, MINUS_CENT
        cents_total = Decimal(whole)
        weight_sum = self.weight_sum
        exact = [cents_total * weight / weight_sum for weight in self.weights]
        floors = list(map(int, exact))  # int() is the floor: exact >= 0
        left = whole - sum(floors)
        if left:
            remainders = [e - f for e, f in zip(exact, floors, strict=True)]
            # largest remainder first, ties to the lower key: a stable sort keeps key order
            for i in sorted(range(len(floors)), key=remainders.__getitem__, reverse=True)[:left]:
                floors[i] += 1
        # sign x Decimal(c) x CENT, also for -0.00
        return [unit * c for c in floors]


class _CentSplit:
    """``split_exactly`` on integer cents, for weights with which all its steps are exact.

    With whole <= ``max_whole``, every product whole x weight and every quotient by the weight sum
    is exact in 34 digits (``_exact_scale``), so floors, remainders and their order are those of
    the rationals whole x scaled / total; larger totals go to the Decimal steps."""

    __slots__ = ("scaled", "total", "max_whole", "in_decimal")

    def __init__(self, scaled: list[int], total: int, max_whole: int, in_decimal: _DecimalSplit):
        self.scaled = scaled
        self.total = total
        self.max_whole = max_whole
        self.in_decimal = in_decimal

    def __call__(self, counted: Decimal) -> Sequence[Decimal]:
        whole = int(counted.scaleb(2))
        unit = CENT
        if whole < 0:
            whole, unit = -whole, MINUS_CENT
        if whole > self.max_whole:
            return self.in_decimal(counted)
        total = self.total
        scaled = self.scaled
        if len(scaled) == 2:  # the common case, step for step
            first, first_left = divmod(whole * scaled[0], total)
            second, second_left = divmod(whole * scaled[1], total)
            left = whole - first - second
            if not left:
                return unit * first, unit * second
            if left == 1:
                if second_left > first_left:
                    return unit * first, unit * (second + 1)
                return unit * (first + 1), unit * second
        floors = [whole * s // total for s in scaled]
        left = whole - sum(floors)
        if left:
            remainders = [whole * s % total for s in scaled]
            for i in sorted(range(len(floors)), key=remainders.__getitem__, reverse=True)[:left]:
                floors[i] += 1
        return [unit * c for c in floors]


_DIGITS = 34  # the context's precision in attribute_lines


def _exact_scale(weights: list[Decimal], weight_sum: Decimal) -> tuple[list[int], int, int] | None:
    """(scaled, total, max_whole) when ``split_exactly``'s steps are exact for every whole number of
    cents up to max_whole: weight_i / weight_sum = scaled_i / total, in integers; else None.

    cents x weight is exact while its coefficient has at most 34 digits. The quotient
    whole x scaled_i / total is a decimal fraction when total / gcd(scaled..., total) has no prime
    factor but 2 and 5, with at most ``places`` digits after the point; it is exact while it has at
    most 34 digits in all. Then floor, remainder (its digits after the point) and negation are
    exact too, and the largest-remainder order is the rationals' order, ties to the lower key."""
    if any(w.as_tuple().exponent < -100 for w in (*weights, weight_sum)):
        return None
    ratios = [w.as_integer_ratio() for w in weights]
    sum_num, sum_den = weight_sum.as_integer_ratio()
    common = lcm(sum_den, *(den for _, den in ratios))
    scaled = [num * (common // den) for num, den in ratios]
    total = sum_num * (common // sum_den)
    rest = total // gcd(total, *scaled)
    twos = fives = 0
    while rest % 2 == 0:
        rest //= 2
        twos += 1
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    places = max(twos, fives)
    if rest != 1 or places > 100:
        return None
    limit = 10**_DIGITS
    # whole x scaled_i x 10^places / total < 10^34: the quotient's digits
    max_whole = (limit * total - 1) // (max(scaled) * 10**places)
    for w in weights:
        coefficient = int("".join(map(str, w.as_tuple().digits)))
        max_whole = min(max_whole, (limit - 1) // coefficient)  # whole x coefficient < 10^34
    return scaled, total, max_whole
