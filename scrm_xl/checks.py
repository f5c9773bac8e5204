"""Check one raw cell value and turn it into what its column holds (date, money,
percent, ...); and the ordering rules for issues.

Every converter returns the value or raises ``BadValue`` with a message that
reads well after the cell's place: ``Costs!F14: amount "12,5x" is not a number``.
The accepted forms are listed in docs/input-rules.md.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from .read import ExcelError


class BadValue(ValueError):
    pass


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())  # strip() takes NBSP too


def _number_type(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _show(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.strip()[:60] + '"'
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _clean(text: str) -> str:
    return text.strip()  # str.strip() removes non-breaking spaces too


def text(value: object) -> str:
    """IDs and names: numbers typed into a text column read as written (101, not 101.0)."""
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def chooser(choices: tuple[str, ...], what: str):
    """A function that matches an enumeration ignoring case and spaces and returns its canonical spelling."""
    from .schema import normalize_name

    canonical = {normalize_name(c): c for c in choices}
    exact = set(choices)

    def choose(value: object) -> str:
        if value in exact:
            return value  # type: ignore[return-value]
        found = canonical.get(normalize_name(text(value)))
        if found is None:
            raise BadValue(f"{what} {_show(value)} is not one of {', '.join(choices)}")
        return found

    return choose


def choice(value: object, choices: tuple[str, ...], what: str) -> str:
    return chooser(choices, what)(value)


_PLAIN = r"\d+(?:\.\d+)?|\.\d+"
_GROUPED = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?"
_MONEY = re.compile(rf"^(-)?\s*({_GROUPED}|{_PLAIN})$")
_PAREN = re.compile(rf"^\(\s*({_GROUPED}|{_PLAIN})\s*\)$")


def _finite(value: float, what: str) -> Decimal:
    if not math.isfinite(value):
        raise BadValue(f"{what} {value} is not a number")
    if isinstance(value, float):
        # whole numbers read back from Excel as 1000.0 should look like 1000
        return Decimal(int(value)) if value.is_integer() else Decimal(repr(value))
    return Decimal(value)


def _money_text(raw: str) -> Decimal | None:
    s = _clean(raw)
    m = _PAREN.match(s)
    if m:
        return -Decimal(m.group(1).replace(",", ""))
    m = _MONEY.match(s)
    if m:
        d = Decimal(m.group(2).replace(",", ""))
        return -d if m.group(1) else d
    return None


def money(value: object, what: str = "amount") -> Decimal:
    """A number, or text such as "1,234.50", "-1,234.50" or "(1,234.50)"."""
    if _number_type(value):
        return _finite(value, what)  # type: ignore[arg-type]
    if isinstance(value, str):
        d = _money_text(value)
        if d is not None:
            return d
    raise BadValue(f"{what} {_show(value)} is not a number")


def percent(
    value: object, what: str, low: Decimal | None = Decimal(0), high: Decimal | None = Decimal(1)
) -> Decimal:
    """0.25, a cell formatted 25% (which holds 0.25), or the text "25%"."""
    if _number_type(value):
        p = _finite(value, what)  # type: ignore[arg-type]
    elif isinstance(value, str):
        s = _clean(value)
        if s.endswith("%"):
            d = _money_text(s[:-1])
            if d is None:
                raise BadValue(f"{what} {_show(value)} is not a percentage")
            p = d / 100
        else:
            d = _money_text(s)
            if d is None:
                raise BadValue(f"{what} {_show(value)} is not a percentage")
            p = d
    else:
        raise BadValue(f"{what} {_show(value)} is not a percentage")
    if (low is not None and p < low) or (high is not None and p > high):
        hint = f" (did you mean {p}%?)" if high is not None and high < p <= 100 else ""
        raise BadValue(f"{what} {_show(value)} is outside {_pct(low)} to {_pct(high)}{hint}")
    return p


def _pct(p: Decimal | None) -> str:
    return "any" if p is None else f"{p * 100:g}%"


def number(value: object, what: str) -> float:
    """A plain number; text "1,234.5" and "45%" are accepted too."""
    if _number_type(value):
        return float(_finite(value, what))  # type: ignore[arg-type]
    if isinstance(value, str):
        s = _clean(value)
        if s.endswith("%"):
            d = _money_text(s[:-1])
            d = None if d is None else d / 100
        else:
            d = _money_text(s)
        if d is not None:
            return float(d)
    raise BadValue(f"{what} {_show(value)} is not a number")


def integer(value: object, what: str) -> int:
    f = number(value, what)
    if not f.is_integer():
        raise BadValue(f"{what} {_show(value)} is not a whole number")
    return int(f)


# Excel serial day numbers: 1900 system counts from 1899-12-31 with the phantom
# 1900-02-29 (serial 60); the 1904 system counts from 1904-01-01.
_MAX_SERIAL = 2958465  # 9999-12-31


def serial_to_datetime(serial: float, date1904: bool) -> datetime:
    if not (0 <= serial <= _MAX_SERIAL + 1):
        raise BadValue(f"{serial:g} is not a date")
    days = math.floor(serial)
    if date1904:
        base = datetime(1904, 1, 1)
    elif days >= 61:
        base = datetime(1899, 12, 30)
    else:
        base = datetime(1899, 12, 31)
    seconds = round((serial - days) * 86400)
    return base + timedelta(days=days, seconds=seconds)


def _iso(value: str) -> datetime | None:
    s = _clean(value)
    try:
        return datetime.fromisoformat(s)
    except ValueError:
        pass
    try:
        return datetime.combine(date.fromisoformat(s), time())
    except ValueError:
        return None


def to_datetime(value: object, what: str, date1904: bool) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, time())
    if _number_type(value):
        try:
            return serial_to_datetime(float(value), date1904)  # type: ignore[arg-type]
        except BadValue:
            raise BadValue(f"{what} {_show(value)} is not a date") from None
    if isinstance(value, str):
        dt = _iso(value)
        if dt is not None:
            return dt.replace(tzinfo=None)
        raise BadValue(f"{what} {_show(value)} is not a date; use a date cell or ISO text such as 2026-01-31")
    raise BadValue(f"{what} {_show(value)} is not a date")


def to_date(value: object, what: str, date1904: bool) -> date:
    return to_datetime(value, what, date1904).date()


def excel_error(value: object) -> str | None:
    return value.code if isinstance(value, ExcelError) else None


__all__ = [
    "BadValue",
    "choice",
    "excel_error",
    "integer",
    "is_blank",
    "money",
    "number",
    "percent",
    "serial_to_datetime",
    "text",
    "to_date",
    "to_datetime",
]


# --- issue order and exit status ------------------------------------------------

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
_PLACE = re.compile(r"^(?:'((?:[^']|'')*)'|([^!]*))!([A-Z]+)(\d+)$")


def _place_key(where: str) -> tuple:
    m = _PLACE.match(where)
    if not m:
        return (where.casefold(), 0, 0)
    sheet = (m.group(1) or "").replace("''", "'") if m.group(1) is not None else m.group(2)
    col = 0
    for ch in m.group(3):
        col = col * 26 + ord(ch) - 64
    return (sheet.casefold(), int(m.group(4)), col)


def sort_issues(issues):
    """Errors first, then warnings, then notes; within each, by sheet, row and column."""
    return sorted(
        issues, key=lambda i: (_SEVERITY_ORDER.get(str(i.severity), 3), _place_key(i.where), i.message)
    )
