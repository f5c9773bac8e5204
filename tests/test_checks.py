"""Cell conversions, each form against a value worked out by hand, and the order of issues."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from scrm_xl import checks as cx
from scrm_xl.model import error, info, warning

MONEY_OK = [
    (1234.5, Decimal("1234.5")),
    (1000.0, Decimal("1000")),
    (7, Decimal(7)),
    ("1,234.50", Decimal("1234.50")),
    ("1234.50", Decimal("1234.50")),
    ("(1,234.50)", Decimal("-1234.50")),
    ("-1,234,567.5", Decimal("-1234567.5")),
    (" 12 ", Decimal(12)),
    ("\u00a0.5", Decimal("0.5")),
]
MONEY_BAD = ["12,5x", "1,23", "12,34", "1.234,50", "$12", "(-5)", "", "abc", True, float("nan"), float("inf")]


@pytest.mark.parametrize("raw, want", MONEY_OK)
def test_money_forms(raw, want):
    assert cx.money(raw) == want


@pytest.mark.parametrize("raw", MONEY_BAD)
def test_money_rejects(raw):
    with pytest.raises(cx.BadValue, match="is not a number"):
        cx.money(raw)


@pytest.mark.parametrize(
    "raw, want",
    [
        (0.25, Decimal("0.25")),
        ("25%", Decimal("0.25")),
        ("0.25", Decimal("0.25")),
        (1, Decimal(1)),
        ("100 %", Decimal(1)),
    ],
)
def test_percent_forms(raw, want):
    assert cx.percent(raw, "margin") == want


@pytest.mark.parametrize("raw", ["25 percent", "%", -0.1, 1.5, "abc%"])
def test_percent_rejects(raw):
    with pytest.raises(cx.BadValue):
        cx.percent(raw, "margin")


SERIALS = [
    # (serial, 1904 system?, date) — checked against Excel's own DATE() results
    (1, False, date(1900, 1, 1)),
    (59, False, date(1900, 2, 28)),
    (61, False, date(1900, 3, 1)),
    (45658, False, date(2025, 1, 1)),
    (46037, False, date(2026, 1, 15)),
    (0, True, date(1904, 1, 1)),
    (44575, True, date(2026, 1, 15)),
]


@pytest.mark.parametrize("serial, d1904, want", SERIALS)
def test_excel_serials(serial, d1904, want):
    assert cx.to_date(serial, "date", d1904) == want


def test_serial_time_of_day():
    assert cx.to_datetime(46037.75, "timestamp", False) == datetime(2026, 1, 15, 18, 0)


@pytest.mark.parametrize("raw", ["15/01/2026", "Jan 15", "2026-13-01", -5, 3e9, True])
def test_dates_reject(raw):
    with pytest.raises(cx.BadValue, match="is not a date"):
        cx.to_date(raw, "date", False)


def test_text_of_numbers_reads_as_typed():
    assert [cx.text(v) for v in (101.0, 101, 1.5, " G1\u00a0", True)] == ["101", "101", "1.5", "G1", "TRUE"]


def test_choice_is_canonical():
    assert cx.choice(" time\u00a0DECAY ", ("Last touch", "Time decay"), "model") == "Time decay"
    with pytest.raises(cx.BadValue, match='model "Decay" is not one of Last touch, Time decay'):
        cx.choice("Decay", ("Last touch", "Time decay"), "model")


def test_issue_order_errors_first_then_sheet_row_column():
    issues = [
        warning("Costs!A2", "w"),
        info("Metrics!D5", "i"),
        error("Returns!B10", "e3"),
        error("Returns!B9", "e2"),
        error("'My Costs'!AA3", "e1b"),
        error("Costs!Z3", "e1a"),
        error("", "file"),
    ]
    assert [i.message for i in cx.sort_issues(issues)] == ["file", "e1a", "e1b", "e2", "e3", "w", "i"]
