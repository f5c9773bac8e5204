"""Attribution: turn each Returns row into counted ledger lines, one per credited initiative.

A row with an Initiative ID is credited directly. A row without one is credited through
its touchpoints with the programme's attribution model. Money stays in ``Decimal``; the
row's counted amount is rounded to the cent first and then split so that the shares add
up to it exactly (largest remainder), so the ledger always sums to the returns.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from operator import attrgetter

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


def attribute_lines(
    records: Records, *, in_sheet_order: bool = False
) -> tuple[list[LedgerLine], list[Issue]]:
    """``attribute`` as lists; ``in_sheet_order`` says the returns are already sorted by source.

    The ledger comes out in sheet order of the returns, each return's lines by Initiative ID.
    """
    program = records.program
    goal_of = {i.id: i.goal_id for i in records.initiatives}
    touchpoints_of: dict[str, list[Touchpoint]] = defaultdict(list)
    for tp in records.touchpoints:
        touchpoints_of[tp.transaction_ref].append(tp)
    no_touchpoints: list[Touchpoint] = []
    split = _Splitter(program)

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
            counted = (ret.amount * ret.attribution * margin).quantize(CENT, rounding=ROUND_HALF_UP)
            initiative_id = ret.initiative_id
            if initiative_id is not None:
                # positional, in LedgerLine's field order: keyword passing cost ~15 % of 1.5M constructions
                add(
                    LedgerLine(
                        ret.source,
                        ret.date,
                        ret.transaction_ref,
                        ret.return_type,
                        ret.confidence,
                        initiative_id,
                        goal_of[initiative_id],
                        ret.amount,
                        ret.attribution,
                        margin,
                        ONE,
                        counted,
                        DIRECT,
                        None,
                    )
                )
                continue
            lines, issue = split(ret, touchpoints_of.get(ret.transaction_ref, no_touchpoints), counted)
            if issue is not None:
                issues.append(issue)
                continue
            source, day, ref, rtype = ret.source, ret.date, ret.transaction_ref, ret.return_type
            confidence, amount, attribution = ret.confidence, ret.amount, ret.attribution
            for initiative_id, share, line_amount, touch_source in lines:
                add(
                    LedgerLine(
                        source,
                        day,
                        ref,
                        rtype,
                        confidence,
                        initiative_id,
                        goal_of[initiative_id],
                        amount,
                        attribution,
                        margin,
                        share,
                        line_amount,
                        model,
                        touch_source,
                    )
                )
    return ledger, issues


class _Splitter:
    """The lines of a return credited through its touchpoints, for one programme.

    The same steps as ``counting_touches``, ``model_weights`` and ``split_exactly`` (which
    stay the reference), on plain tuples instead of a ``Touch`` per touchpoint, and with
    each Time decay weight worked out once per age. Call it inside a 34-digit context.
    """

    def __init__(self, program: Program):
        self.model = program.attribution_model
        self.lookback = program.lookback_days
        self.half_life = program.half_life_days
        self.decay: dict[int, Decimal] = {}  # age in days -> 2^(-age/half-life)
        self.by_count: dict[int, list[Decimal]] = {}  # other models: touch count -> weights (read only)

    def weights(self, ages: list[int]) -> list[Decimal]:
        if self.model != "Time decay":
            n = len(ages)
            weights = self.by_count.get(n)
            if weights is None:  # ages stand in for touches: only their count matters here
                weights = self.by_count[n] = model_weights(self.model, ages, self.half_life)
            return weights
        decay = self.decay
        out = []
        for age in ages:
            w = decay.get(age)
            if w is None:
                w = decay[age] = Decimal(2) ** (-Decimal(age) / self.half_life)
            out.append(w)
        return out

    def __call__(
        self, ret: Return, touchpoints: list[Touchpoint], counted: Decimal
    ) -> tuple[list[tuple[str, Decimal, Decimal, CellRef]], Issue | None]:
        """``counted`` is the return's counted amount (amount x attribution x applied margin,
        to the cent), worked out once."""
        if not touchpoints:
            return [], error(
                ret.source,
                f"return {ret.transaction_ref!r} has no Initiative ID and no touchpoint with this "
                "Transaction ref, so it cannot be credited to an initiative and is not counted",
            )
        day = ret.date
        lookback = self.lookback
        touches = []
        for tp in touchpoints:
            timestamp = tp.timestamp
            age = (day - timestamp.date()).days
            if 0 <= age <= lookback:
                # credit order (timestamp, Initiative ID, source) as in counting_touches; the age
                # follows from the timestamp, so it never decides
                touches.append((timestamp, tp.initiative_id, tp.source, age))
        if not touches:
            return [], error(
                ret.source,
                f"return {ret.transaction_ref!r}: none of its {len(touchpoints)} touchpoint(s) falls on or "
                f"before {day.isoformat()} within the {lookback}-day lookback window, so it "
                "cannot be credited and is not counted",
            )
        if len(touches) > 1:
            touches.sort()
        weights = self.weights([t[3] for t in touches])
        by_initiative: dict[str, Decimal] = {}
        # the touch a line points to: the initiative's latest counted touch with a weight
        shown: dict[str, CellRef] = {}
        for touch, weight in zip(touches, weights, strict=True):
            if weight == 0:
                continue
            initiative_id = touch[1]
            # Decimal() + weight, as a defaultdict(Decimal) adds, so exponents stay the same
            by_initiative[initiative_id] = by_initiative.get(initiative_id, ZERO_WEIGHT) + weight
            shown[initiative_id] = touch[2]
        weight_sum = sum(by_initiative.values(), ZERO_WEIGHT)
        amounts = split_exactly(counted, by_initiative)
        return [
            (
                initiative_id,
                by_initiative[initiative_id] / weight_sum,
                amounts[initiative_id],
                shown[initiative_id],
            )
            for initiative_id in sorted(by_initiative)
        ], None
