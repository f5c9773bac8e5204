# ruff: noqa: E501  (the example rows read best one per line)
"""Build test workbooks: a small valid programme as plain row tables, written to
disk with XlsxWriter (percent/date formats, cached formula values and errors,
hidden sheets, the 1904 date system) or wrapped as ``Tables`` directly.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from scrm_xl.read import Table, Tables


@dataclass(frozen=True)
class Pct:
    """A number in a cell formatted as a percentage (Excel stores 0.25 for 25%)."""

    value: float


@dataclass(frozen=True)
class Formula:
    """A formula with its cached value (a number, text, or an error such as '#DIV/0!')."""

    formula: str
    cached: object


def base_sheets() -> dict[str, list[list[object]]]:
    """A valid programme: 2 goals, 3 initiatives, costs, returns, touchpoints, metrics."""
    return copy.deepcopy(
        {
            "Program": [
                ["Setting", "Value"],
                ["Program name", "Care & Community"],
                ["Currency", "EUR"],
                ["Period start", date(2026, 1, 1)],
                ["Period end", date(2026, 12, 31)],
                ["Attribution model", "Linear"],
                ["Default gross margin", 0.4],
            ],
            "Goals": [
                ["Goal ID", "Goal", "Objective", "KPI", "Baseline", "Target", "Target date", "Direction", "Owner"],
                ["G1", "Faster social care", "Customer care", "NPS", 20, 40, date(2026, 12, 31), None, "Ana"],
                ["G2", "Loyal community", "Loyalty", "Referrals", 0, 500, date(2026, 12, 31), "Increase", "Ben"],
            ],
            "Initiatives": [
                ["Initiative ID", "Initiative", "Goal ID", "Channel", "Start", "End", "Owner"],
                ["I1", "Care on X", "G1", "X", date(2026, 1, 1), date(2026, 12, 31), "Ana"],
                ["I2", "Forum", "G2", "community forum", date(2026, 1, 1), None, "Ben"],
                ["I3", "LinkedIn tips", "G2", "LinkedIn", None, None, None],
            ],
            "Costs": [
                ["Date", "Initiative ID", "Goal ID", "Category", "Description", "Amount"],
                [date(2026, 1, 15), "I1", None, "People", "Agents", 1000],
                [date(2026, 2, 15), "I2", "G2", "Technology", "Forum licence", 500.5],
                [date(2026, 3, 1), None, None, "Other", "Overhead", 200],
            ],
            "Returns": [
                ["Date", "Transaction ref", "Return type", "Initiative ID", "Amount", "Gross margin",
                 "Attribution", "Confidence", "Note"],
                [date(2026, 2, 1), "T1", "New revenue", "I1", 3000, 0.5, None, "High", None],
                [date(2026, 3, 1), "T2", "Cost savings", None, 400, None, 1, "Medium", None],
                [date(2026, 4, 1), "T3", "Spending avoided", "I3", 250, None, 0.5, None, "call deflected"],
            ],
            "Touchpoints": [
                ["Transaction ref", "Initiative ID", "Timestamp"],
                ["T2", "I1", datetime(2026, 2, 20, 10, 0)],
                ["T2", "I2", datetime(2026, 2, 25, 9, 30)],
            ],
            "Metrics": [
                ["Date", "Goal ID", "Initiative ID", "Metric", "Value"],
                [date(2026, 1, 31), "G1", None, "NPS", 24],
                [date(2026, 1, 31), None, "I2", "Referrals", 35],
                [date(2026, 2, 28), None, None, "Reach", 12000],
            ],
        }
    )  # fmt: skip


def as_tables(sheets: dict[str, list[list[object]]], hidden=(), date1904=False) -> Tables:
    return Tables(
        [Table(name, rows, hidden=name in hidden) for name, rows in sheets.items()], date1904=date1904
    )


def write_book(path: Path, sheets: dict[str, list[list[object]]], hidden=(), date1904=False) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"date_1904": date1904})
    fmt_date = wb.add_format({"num_format": "yyyy-mm-dd"})
    fmt_dt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    fmt_pct = wb.add_format({"num_format": "0%"})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        if name in hidden:
            ws.hide()
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, Pct):
                    ws.write_number(r, c, v.value, fmt_pct)
                elif isinstance(v, Formula):
                    ws.write_formula(r, c, v.formula, None, v.cached)
                elif isinstance(v, datetime):
                    ws.write_datetime(r, c, v, fmt_dt)
                elif isinstance(v, date):
                    ws.write_datetime(r, c, v, fmt_date)
                elif isinstance(v, bool):
                    ws.write_boolean(r, c, v)
                elif isinstance(v, int | float):
                    ws.write_number(r, c, v)
                else:
                    ws.write_string(r, c, str(v))
    wb.close()
    return path


def col(sheets, sheet: str, name: str) -> int:
    return sheets[sheet][0].index(name)


def set_cell(sheets, sheet: str, row: int, name: str, value) -> None:
    """Set the cell in Excel row ``row`` (the header is row 1) under column ``name``."""
    r = sheets[sheet][row - 1]
    c = col(sheets, sheet, name)
    while len(r) <= c:
        r.append(None)
    r[c] = value


def add_row(sheets, sheet: str, **values) -> int:
    """Append a row given by column name (spaces as underscores); returns its Excel row number."""
    header = sheets[sheet][0]
    row = [None] * len(header)
    for key, value in values.items():
        row[header.index(key.replace("_", " "))] = value
    sheets[sheet].append(row)
    return len(sheets[sheet])


def setting(sheets, name: str, value) -> None:
    for row in sheets["Program"][1:]:
        if row[0] == name:
            row[1] = value
            return
    sheets["Program"].append([name, value])
