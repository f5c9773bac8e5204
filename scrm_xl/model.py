"""Immutable input records, each knowing the workbook cell it came from.

The core (this module, ``attribute``, ``compute``) imports no reader, writer,
renderer or face, so it runs unchanged inside xlwings Lite.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple


def column_letter(col: int) -> str:
    """1 -> A, 27 -> AA, 16384 -> XFD."""
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


class CellRef(NamedTuple):
    """A place in the workbook: ``Costs!E14``. Rows and columns are 1-based.

    A NamedTuple, as are the records made once per row of the big sheets (``Return``,
    ``Touchpoint``) and ``results.LedgerLine``: beancount's record type for its directives.
    Making one costs a fraction of a frozen dataclass (which sets every field through
    ``object.__setattr__``), and a million rows make a million of each. As immutable; it
    orders as (sheet, row, col), as the dataclass did."""

    sheet: str
    row: int
    col: int = 1

    def __str__(self) -> str:
        sheet = self.sheet
        if not sheet.replace("_", "").isalnum():
            sheet = "'" + sheet.replace("'", "''") + "'"
        return f"{sheet}!{column_letter(self.col)}{self.row}"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem the user can fix in the workbook, with its place.

    ``where`` is a cell (``Costs!E14``), a sheet (``Costs``) or ``""`` for the
    file as a whole.
    """

    severity: Severity
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def to_json(self) -> dict[str, str]:
        return {"severity": self.severity.value, "where": self.where, "message": self.message}


def error(where: CellRef | str, message: str) -> Issue:
    return Issue(Severity.ERROR, str(where), message)


def warning(where: CellRef | str, message: str) -> Issue:
    return Issue(Severity.WARNING, str(where), message)


def info(where: CellRef | str, message: str) -> Issue:
    return Issue(Severity.INFO, str(where), message)


# --- enumerations of the contract (canonical spelling) ---------------------

OBJECTIVES = ("Trust", "Loyalty", "Advocacy", "Customer care", "Awareness", "Acquisition", "Retention")
COST_CATEGORIES = ("People", "Technology", "Paid media", "Agency", "Content", "Training", "Other")
NEW_REVENUE, COST_SAVINGS, SPENDING_AVOIDED = "New revenue", "Cost savings", "Spending avoided"
RETURN_TYPES = (NEW_REVENUE, COST_SAVINGS, SPENDING_AVOIDED)
CONFIDENCES = ("High", "Medium", "Low")
DIRECTIONS = ("Increase", "Decrease")
REPORTING_PERIODS = ("Month", "Quarter")
ATTRIBUTION_MODELS = ("Last touch", "First touch", "Linear", "Time decay", "Position based")

FLOW_METRICS = (
    "Reach", "Impressions", "Engagements", "Posts", "Likes", "Comments", "Shares",
    "Mentions", "Referrals", "Reviews", "Positive mentions", "Negative mentions",
)  # fmt: skip
STOCK_METRICS = (
    "Followers", "NPS", "Share of voice", "Sentiment score", "Influence score",
    "Repeat purchase rate", "Retention rate",
)  # fmt: skip
STANDARD_METRICS = FLOW_METRICS + STOCK_METRICS


def is_stock_metric(name: str) -> bool:
    """Stock metrics take a period's last value; everything else sums."""
    return name in STOCK_METRICS


# --- records ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Program:
    name: str
    currency: str
    period_start: date
    period_end: date
    as_of: date  # resolved by the loader: given, or the latest dated row capped at period_end
    as_of_given: bool = False
    reporting_period: str = "Month"
    default_gross_margin: Decimal | None = None
    discount_rate: Decimal | None = None  # annual, as a fraction
    attribution_model: str = "Last touch"
    half_life_days: Decimal = Decimal(7)
    lookback_days: int = 90
    locale: str = "en_US"
    prepared_by: str | None = None
    distribution: tuple[str, ...] = ()
    source: CellRef = CellRef("Program", 1)


@dataclass(frozen=True, slots=True)
class Goal:
    id: str
    name: str
    objective: str | None = None
    kpi: str | None = None  # a metric name, canonical spelling
    baseline: float | None = None
    target: float | None = None
    target_date: date | None = None
    direction: str = "Increase"
    owner: str | None = None
    source: CellRef = CellRef("Goals", 2)

    @property
    def measurable(self) -> bool:
        return self.kpi is not None and self.target is not None and self.target_date is not None


@dataclass(frozen=True, slots=True)
class Initiative:
    id: str
    name: str
    goal_id: str
    channel: str | None = None
    start: date | None = None
    end: date | None = None
    owner: str | None = None
    source: CellRef = CellRef("Initiatives", 2)


@dataclass(frozen=True, slots=True)
class Cost:
    date: date
    amount: Decimal
    initiative_id: str | None = None
    goal_id: str | None = None  # resolved from the initiative; None = programme overhead
    category: str | None = None
    description: str | None = None
    source: CellRef = CellRef("Costs", 2)


class Return(NamedTuple):
    """A transaction-linked return row (rows without a transaction ref never get here).
    A NamedTuple, like ``CellRef``: one is made per Returns row."""

    date: date
    transaction_ref: str
    return_type: str
    amount: Decimal
    initiative_id: str | None = None  # None: credited through Touchpoints
    gross_margin: Decimal | None = None  # None: the programme default applies (New revenue)
    attribution: Decimal = Decimal(1)
    confidence: str = "High"
    note: str | None = None
    source: CellRef = CellRef("Returns", 2)


class Touchpoint(NamedTuple):
    """One Touchpoints row. A NamedTuple, like ``CellRef``: one is made per row."""

    transaction_ref: str
    initiative_id: str
    timestamp: datetime
    source: CellRef = CellRef("Touchpoints", 2)


@dataclass(frozen=True, slots=True)
class Metric:
    date: date
    metric: str  # canonical spelling for standard metrics, as written otherwise
    value: float
    goal_id: str | None = None  # resolved: given, or the initiative's goal; None = programme
    initiative_id: str | None = None
    source: CellRef = CellRef("Metrics", 2)


@dataclass(frozen=True, slots=True)
class Records:
    """Everything the loader accepted from one workbook."""

    program: Program
    goals: tuple[Goal, ...] = ()
    initiatives: tuple[Initiative, ...] = ()
    costs: tuple[Cost, ...] = ()
    returns: tuple[Return, ...] = ()
    touchpoints: tuple[Touchpoint, ...] = ()
    metrics: tuple[Metric, ...] = ()
