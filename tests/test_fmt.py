"""Locale formatting: figures as a US and a German finance reader write them."""

from datetime import date
from decimal import Decimal

from scrm_xl.fmt import MISSING, Formatter, whole


def test_us_money_percent_date():
    f = Formatter("en_US", "USD")
    assert f.money(Decimal("1234567.50")) == "$1,234,568"  # half-up to whole dollars
    assert f.money(Decimal("-1234.49")) == "-$1,234"
    assert f.money_signed(Decimal("93500")) == "+$93,500"
    assert f.percent(Decimal("0.25304")) == "25.3%"
    assert f.percent(-0.274) == "-27.4%"
    assert f.number(650400) == "650,400"
    assert f.number(0.5, 2) == "0.50"
    assert f.date(date(2025, 12, 31)) == "Dec 31, 2025"


def test_german_money_percent_date():
    f = Formatter("de_DE", "EUR")
    assert f.money(Decimal("164000")) == "164.000\xa0€"
    assert f.money(Decimal("-18000")) == "-18.000\xa0€"
    assert f.percent(Decimal("0.25304")) == "25,3\xa0%"
    assert f.number(650400) == "650.400"
    assert f.number(0.5, 2) == "0,50"
    assert f.date(date(2025, 12, 31)) == "31.12.2025"


def test_missing_values_never_print_none():
    f = Formatter("en_US", "USD")
    assert f.money(None) == MISSING
    assert f.percent(None) == MISSING
    assert f.percent(float("nan")) == MISSING
    assert f.number(None) == MISSING
    assert f.date(None) == MISSING
    assert f.months(None) == "not reached"
    assert f.months(1) == "1 month"
    assert f.months(8) == "8 months"


def test_unknown_locale_falls_back_to_us():
    assert Formatter("xx_YY", "USD").money(Decimal(1000)) == "$1,000"


def test_whole_rounds_half_up():
    assert whole(Decimal("0.5")) == 1
    assert whole(Decimal("2.5")) == 3
    assert whole(Decimal("-2.5")) == -3
