"""The workbook contract in code: input sheets, their columns, and the kind of
value each column holds. The template writer, the loader and the checks all
read it from here so that they can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import (
    ATTRIBUTION_MODELS,
    CONFIDENCES,
    COST_CATEGORIES,
    DIRECTIONS,
    OBJECTIVES,
    REPORTING_PERIODS,
    RETURN_TYPES,
)

# kinds of value
TEXT, DATE, DATETIME, MONEY, PERCENT, NUMBER, INTEGER, CHOICE = (
    "text", "date", "datetime", "money", "percent", "number", "integer", "choice",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: str = TEXT
    required: bool = False
    choices: tuple[str, ...] = ()
    width: float = 14
    note: str = ""  # one line for the template's header comment / Instructions


@dataclass(frozen=True, slots=True)
class Sheet:
    name: str
    columns: tuple[Column, ...]
    purpose: str

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    kind: str = TEXT
    required: bool = False
    choices: tuple[str, ...] = ()
    default: str = ""
    note: str = ""


PROGRAM_SETTINGS = (
    Setting("Program name", TEXT, True, note="The Social CRM programme this workbook measures"),
    Setting("Currency", TEXT, True, note="ISO 4217 code, e.g. USD, EUR"),
    Setting("Period start", DATE, True, note="First day of the measured period"),
    Setting("Period end", DATE, True, note="Last day of the measured period"),
    Setting("Reporting period", CHOICE, False, REPORTING_PERIODS, "Month", "Month or Quarter buckets"),
    Setting("As of", DATE, False, note="Figures up to this date; default: latest dated row, capped at end"),
    Setting("Default gross margin", PERCENT, False, note="For New revenue rows without their own margin"),
    Setting("Discount rate", PERCENT, False, note="Annual; when given, NPV is reported"),
    Setting("Attribution model", CHOICE, False, ATTRIBUTION_MODELS, "Last touch",
            "How returns without an Initiative ID are credited through Touchpoints"),
    Setting("Time-decay half-life", NUMBER, False, default="7", note="Days"),
    Setting("Lookback window", INTEGER, False, default="90", note="Days"),
    Setting("Locale", TEXT, False, default="en_US", note="Number and date formats in the PDF, e.g. de_DE"),
    Setting("Prepared by", TEXT, False),
    Setting("Distribution", TEXT, False, note="E-mail addresses separated by ;"),
)  # fmt: skip

PROGRAM = Sheet(
    "Program",
    (Column("Setting", TEXT, True, width=24), Column("Value", TEXT, True, width=36)),
    "Who, what currency, which period, and how returns are attributed.",
)

GOALS = Sheet(
    "Goals",
    (
        Column("Goal ID", TEXT, True, width=10),
        Column("Goal", TEXT, True, width=40),
        Column("Objective", CHOICE, choices=OBJECTIVES),
        Column("KPI", TEXT, note="A metric name from the Metrics sheet"),
        Column("Baseline", NUMBER),
        Column("Target", NUMBER),
        Column("Target date", DATE),
        Column("Direction", CHOICE, choices=DIRECTIONS),
        Column("Owner", TEXT),
    ),
    "One row per measurable Social CRM goal: a KPI, a baseline, a target and a date.",
)

INITIATIVES = Sheet(
    "Initiatives",
    (
        Column("Initiative ID", TEXT, True, width=12),
        Column("Initiative", TEXT, width=36),
        Column("Goal ID", TEXT, True, width=10),
        Column("Channel", TEXT, note="The tool: LinkedIn, community forum, X, ..."),
        Column("Start", DATE),
        Column("End", DATE),
        Column("Owner", TEXT),
    ),
    "The action plan: what is done, on which channel, for which goal.",
)

COSTS = Sheet(
    "Costs",
    (
        Column("Date", DATE, True),
        Column("Initiative ID", TEXT),
        Column("Goal ID", TEXT),
        Column("Category", CHOICE, choices=COST_CATEGORIES),
        Column("Description", TEXT, width=36),
        Column("Amount", MONEY, True),
    ),
    "The investment. Rows with neither initiative nor goal are programme overhead (Unallocated).",
)

RETURNS = Sheet(
    "Returns",
    (
        Column("Date", DATE, True),
        Column("Transaction ref", TEXT, True, width=18),
        Column("Return type", CHOICE, True, RETURN_TYPES, width=18),
        Column("Initiative ID", TEXT),
        Column("Amount", MONEY, True),
        Column("Gross margin", PERCENT),
        Column("Attribution", PERCENT, note="Share of the return credited; default 100%"),
        Column("Confidence", CHOICE, choices=CONFIDENCES),
        Column("Note", TEXT, width=30),
    ),
    "Tangible returns, each linked to a business transaction. Only these count in ROI.",
)

TOUCHPOINTS = Sheet(
    "Touchpoints",
    (
        Column("Transaction ref", TEXT, True, width=18),
        Column("Initiative ID", TEXT, True),
        Column("Timestamp", DATETIME, True, width=18),
    ),
    "Optional: which initiatives touched a transaction, for multi-touch attribution.",
)

METRICS = Sheet(
    "Metrics",
    (
        Column("Date", DATE, True),
        Column("Goal ID", TEXT),
        Column("Initiative ID", TEXT),
        Column("Metric", TEXT, True, width=20),
        Column("Value", NUMBER, True),
    ),
    "Intangible value: reach, engagement, influence, referrals. Reported beside ROI, never inside it.",
)

INPUT_SHEETS = (PROGRAM, GOALS, INITIATIVES, COSTS, RETURNS, TOUCHPOINTS, METRICS)
OPTIONAL_SHEETS = ("Touchpoints", "Metrics")
OUTPUT_SHEETS = ("ROI", "KPI", "Ledger", "Checks")


def normalize_name(name: object) -> str:
    """Sheet, header and setting names match case-insensitively, ignoring
    surrounding and non-breaking spaces."""
    return " ".join(str(name).replace("\u00a0", " ").split()).casefold()
