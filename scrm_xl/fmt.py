"""Numbers, money, percentages and dates as the programme's Locale writes them.

The briefing is read on paper by finance people: money in whole currency
units (cents are noise at programme level), percentages to one decimal, and
a value that does not exist (ROI without investment, payback not reached)
as an em dash or plain words, never "None" or "nan".
"""

from __future__ import annotations

import math
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

MISSING = "—"  # em dash: the value does not exist


def whole(value: Decimal) -> Decimal:
    """Round money half-up to whole currency units (the briefing's precision)."""
    return Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP)


class Formatter:
    """Formats values for one locale and currency; build one per briefing."""

    def __init__(self, locale: str = "en_US", currency: str = "USD"):
        try:
            self.locale = Locale.parse(locale or "en_US")
        except (ValueError, UnknownLocaleError):
            # the loader validates Locale; an odd value here still must not stop the briefing
            self.locale = Locale.parse("en_US")
        self.currency = currency
        # the locale's own currency/percent patterns, with the fraction digits we want
        money = self.locale.currency_formats["standard"].pattern
        self._money_pattern = re.sub(r"\.0+", "", money)
        percent = self.locale.percent_formats[None].pattern
        self._percent_pattern = re.sub(r"0(?=[^0#,.]*$)", "0.0", percent, count=1)

    def money(self, value: Decimal | None) -> str:
        """Whole currency units, locale sign and grouping: ``$12,345`` / ``12.345 €``."""
        if value is None:
            return MISSING
        return format_currency(
            whole(value), self.currency, self._money_pattern, locale=self.locale, currency_digits=False
        )

    def money_signed(self, value: Decimal | None) -> str:
        """Money with an explicit plus for gains, for net figures and waterfall steps."""
        if value is None:
            return MISSING
        text = self.money(value)
        return ("+" + text) if whole(value) > 0 else text

    def percent(self, value: Decimal | float | None) -> str:
        """A fraction as a percentage with one decimal: 0.1234 -> ``12.3%`` (``12,3 %`` in de_DE)."""
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return MISSING
        return format_percent(Decimal(str(value)), self._percent_pattern, locale=self.locale)

    def number(self, value: float | Decimal | None, digits: int = 0) -> str:
        """A plain figure (reach, referrals, a score) with the locale's grouping."""
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return MISSING
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(Decimal(str(value)), pattern, locale=self.locale)

    def date(self, value: date | None) -> str:
        """A date in the locale's medium form: ``Dec 31, 2025`` / ``31.12.2025``."""
        if value is None:
            return MISSING
        return format_date(value, "medium", locale=self.locale)

    def months(self, value: int | None) -> str:
        """Payback period in months, or ``not reached``."""
        if value is None:
            return "not reached"
        return f"{value} month" if value == 1 else f"{value} months"
