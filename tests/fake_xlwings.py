"""An in-memory stand-in for exactly the xlwings API subset scrm_xl/excel.py uses (listed at the
top of that module), behaving as desktop Excel does through xlwings where it matters:

- reads: numbers come back as floats, dates as datetimes, blanks as None; error cells as None,
  or as their text (``#DIV/0!``) with ``err_to_str=True``; ``used_range`` is the bounding box of
  the used cells (not necessarily from A1);
- writes: a 2-D list is written from the range's top-left cell; each string is parsed as if
  typed: ``=`` starts a formula, a leading apostrophe keeps the rest as text, text that looks
  like a number, percentage, TRUE/FALSE or an ISO date becomes one; only None, str, bool, int,
  float, date and datetime can be written (anything else raises, as COM marshalling would);
- sheet names are unique and looked up ignoring case; ``clear()`` empties values, formats and
  merges but keeps column widths, names, charts and frozen panes, as Excel's ``Cells.Clear`` does;
- a sheet-local name reads back as ``Sheet!name``.

``Book.from_xlsx(path)`` loads a real workbook's cached values with openpyxl.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

DEFAULT_WIDTH = 8.43  # characters
DEFAULT_HEIGHT = 15.0  # points
ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA")
CHART_TYPES = {"line", "line_markers", "column_clustered", "column_stacked", "bar_clustered", "pie", "area"}


@dataclass(frozen=True)
class ErrorValue:
    code: str


@dataclass
class Cell:
    value: object = None
    formula: str | None = None  # with its leading "="
    number_format: str = "General"
    bold: bool = False
    italic: bool = False
    size: float = 11
    font_color: tuple[int, int, int] | None = None
    fill: tuple[int, int, int] | None = None
    wrap: bool = False

    def empty(self) -> bool:
        return self.value is None and self.formula is None


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _letters(col: int) -> str:
    s = ""
    while col:
        col, r = divmod(col - 1, 26)
        s = chr(65 + r) + s
    return s


_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def _area(text: str) -> tuple[int, int, int, int]:
    parts = text.strip().split(":")
    if len(parts) not in (1, 2):
        raise ValueError(f"not a range address: {text!r}")
    corners = []
    for p in parts:
        m = _CELL.match(p)
        if not m:
            raise ValueError(f"the fake reads only A1-style cell ranges, not {text!r}")
        corners.append((int(m.group(2)), _col_number(m.group(1))))
    (r1, c1), (r2, c2) = corners[0], corners[-1]
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def typed(value: object) -> tuple[object, str | None]:
    """(value, formula) of what Excel stores when ``value`` is written to a cell."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, (int, float)):
        return float(value), None
    if isinstance(value, datetime):
        return value, None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day), None
    if not isinstance(value, str):
        raise TypeError(f"xlwings cannot write a {type(value).__name__} to Excel")
    if value == "":
        return None, None
    if value.startswith("'"):
        return value[1:], None
    if value.startswith("="):
        return None, value
    text = value.strip()
    if text.upper() in ("TRUE", "FALSE"):
        return text.upper() == "TRUE", None
    number = re.fullmatch(r"([+-]?)(\d{1,3}(?:,\d{3})+|\d*\.?\d+(?:[eE][+-]?\d+)?)(%?)", text)
    if number:
        x = float(number.group(1) + number.group(2).replace(",", ""))
        return (x / 100 if number.group(3) else x), None
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", text)
    if iso and 1 <= int(iso.group(2)) <= 12:
        return datetime(int(iso.group(1)), int(iso.group(2)), int(iso.group(3) or 1)), None
    return value, None


class App:
    def __init__(self, *, lite: bool = False) -> None:
        self.lite = lite  # xlwings Lite has no status bar or screen updating
        self.status_history: list[object] = []
        self._screen_updating = True
        self.alerts: list[tuple[str, str | None]] = []

    @property
    def status_bar(self):
        if self.lite:
            raise NotImplementedError
        return self.status_history[-1] if self.status_history else False

    @status_bar.setter
    def status_bar(self, value) -> None:
        if self.lite:
            raise NotImplementedError
        self.status_history.append(value)

    @property
    def screen_updating(self) -> bool:
        if self.lite:
            raise NotImplementedError
        return self._screen_updating

    @screen_updating.setter
    def screen_updating(self, value: bool) -> None:
        if self.lite:
            raise NotImplementedError
        self._screen_updating = bool(value)

    def alert(self, prompt: str, title: str | None = None, buttons: str = "ok", mode=None, callback=None):
        self.alerts.append((prompt, title))
        return "ok"


class Book:
    def __init__(self, fullname: str, *, app: App | None = None) -> None:
        self.fullname = fullname
        self.name = re.split(r"[\\/]", fullname)[-1]
        self.app = app or App()
        self.sheets = Sheets(self)

    @classmethod
    def from_xlsx(cls, path: str | Path, *, fullname: str | None = None, app: App | None = None) -> Book:
        import openpyxl

        wb = openpyxl.load_workbook(path, data_only=True)
        book = cls(fullname or str(path), app=app)
        for ws in wb.worksheets:
            sheet = book.sheets._append(ws.title)
            sheet.visible = ws.sheet_state == "visible"
            for row in ws.iter_rows():
                for c in row:
                    v = c.value
                    if v is None:
                        continue
                    if isinstance(v, str) and v in ERROR_CODES:
                        v = ErrorValue(v)
                    elif isinstance(v, (int, float)) and not isinstance(v, bool):
                        v = float(v)
                    elif isinstance(v, date) and not isinstance(v, datetime):
                        v = datetime(v.year, v.month, v.day)
                    elif hasattr(v, "total_seconds"):  # a timedelta: Excel hands the serial over
                        v = v.total_seconds() / 86400
                    sheet.cells[(c.row, c.column)] = Cell(value=v, number_format=c.number_format)
        return book


class Sheets:
    def __init__(self, book: Book) -> None:
        self.book = book
        self._sheets: list[Sheet] = []

    def __iter__(self):
        return iter(list(self._sheets))

    def __len__(self) -> int:
        return len(self._sheets)

    def __getitem__(self, key):
        if isinstance(key, int):
            return self._sheets[key]
        for s in self._sheets:
            if s.name.lower() == key.lower():
                return s
        raise KeyError(key)

    def _append(self, name: str) -> Sheet:
        return self.add(name, after=self._sheets[-1] if self._sheets else None)

    def add(self, name: str | None = None, before: Sheet | None = None, after: Sheet | None = None) -> Sheet:
        name = name or f"Sheet{len(self._sheets) + 1}"
        if any(s.name.lower() == name.lower() for s in self._sheets):
            raise ValueError(f"That name is already taken: {name}")
        sheet = Sheet(self.book, name)
        if after is not None:
            self._sheets.insert(self._sheets.index(after) + 1, sheet)
        elif before is not None:
            self._sheets.insert(self._sheets.index(before), sheet)
        else:
            self._sheets.insert(0, sheet)  # Excel adds before the active sheet; tests pass after=
        self.book.active = sheet
        return sheet


class Sheet:
    def __init__(self, book: Book, name: str) -> None:
        self.book = book
        self.name = name
        self.visible = True
        self.cells: dict[tuple[int, int], Cell] = {}
        self.widths: dict[int, float] = {}
        self.heights: dict[int, float] = {}
        self.merges: list[str] = []
        self.names = Names(self)
        self.charts = Charts(self)
        self.freeze_panes = FreezePanes()

    def __repr__(self) -> str:
        return f"<Sheet {self.name}>"

    def range(self, address: str) -> Range:
        return Range(self, [_area(a) for a in address.split(",")])

    @property
    def used_range(self) -> Range:
        used = [k for k, c in self.cells.items() if not c.empty() or c.number_format != "General"]
        if not used:
            return Range(self, [(1, 1, 1, 1)])
        rows = [r for r, _ in used]
        cols = [c for _, c in used]
        return Range(self, [(min(rows), min(cols), max(rows), max(cols))])

    def clear(self) -> None:
        self.cells.clear()
        self.merges.clear()

    def activate(self) -> None:
        self.book.active = self

    def cell(self, row: int, col: int) -> Cell:
        return self.cells.setdefault((row, col), Cell())


class Names:
    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        self._names: list[Name] = []

    def __iter__(self):
        return iter(list(self._names))

    def add(self, name: str, refers_to: str) -> Name:
        made = Name(f"{self.sheet.name}!{name}", refers_to)
        self._names = [n for n in self._names if n.name != made.name] + [made]
        return made


@dataclass
class Name:
    name: str
    refers_to: str


class Charts:
    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        self._charts: list[Chart] = []

    def __iter__(self):
        return iter(list(self._charts))

    def __len__(self) -> int:
        return len(self._charts)

    def add(self, left: float = 0, top: float = 0, width: float = 355, height: float = 211) -> Chart:
        chart = Chart(self, left, top, width, height)
        self._charts.append(chart)
        return chart


@dataclass
class Chart:
    parent: Charts
    left: float
    top: float
    width: float
    height: float
    _type: str = "column_clustered"
    source: str | None = None

    @property
    def chart_type(self) -> str:
        return self._type

    @chart_type.setter
    def chart_type(self, value: str) -> None:
        if value not in CHART_TYPES:
            raise ValueError(f"unknown chart type {value!r}")
        self._type = value

    def set_source_data(self, source: Range) -> None:
        self.source = source.address

    def delete(self) -> None:
        self.parent._charts.remove(self)


@dataclass
class FreezePanes:
    frozen: str | None = None

    def freeze_at(self, frozen_range: str) -> None:
        self.frozen = frozen_range

    def unfreeze(self) -> None:
        self.frozen = None


@dataclass
class Options:
    range: Range
    ndim: int | None = None
    err_to_str: bool = False

    @property
    def value(self):
        r1, c1, r2, c2 = self.range._single()
        rows = []
        for r in range(r1, r2 + 1):
            row = []
            for c in range(c1, c2 + 1):
                cell = self.range.sheet.cells.get((r, c))
                v = cell.value if cell else None
                if isinstance(v, ErrorValue):
                    v = v.code if self.err_to_str else None
                row.append(v)
            rows.append(row)
        if self.ndim == 2:
            return rows
        if len(rows) == 1 and len(rows[0]) == 1:
            return rows[0][0]
        if len(rows) == 1:
            return rows[0]
        if all(len(r) == 1 for r in rows):
            return [r[0] for r in rows]
        return rows


class Font:
    def __init__(self, rng: Range) -> None:
        object.__setattr__(self, "_rng", rng)

    def __getattr__(self, name: str):
        attr = {"bold": "bold", "italic": "italic", "size": "size", "color": "font_color"}[name]
        return self._rng._get(attr)

    def __setattr__(self, name: str, value) -> None:
        attr = {"bold": "bold", "italic": "italic", "size": "size", "color": "font_color"}[name]
        self._rng._set(attr, value)


class Range:
    def __init__(self, sheet: Sheet, areas: list[tuple[int, int, int, int]]) -> None:
        self.sheet = sheet
        self.areas = areas

    def __repr__(self) -> str:
        return f"<Range {self.sheet.name}!{self.address}>"

    def _single(self) -> tuple[int, int, int, int]:
        if len(self.areas) != 1:
            raise ValueError("this works on a single area only")
        return self.areas[0]

    def _cells(self):
        for r1, c1, r2, c2 in self.areas:
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    yield r, c

    def _get(self, attr: str):
        values = {getattr(self.sheet.cells.get(k) or Cell(), attr) for k in self._cells()}
        return values.pop() if len(values) == 1 else None

    def _set(self, attr: str, value) -> None:
        for k in self._cells():
            setattr(self.sheet.cell(*k), attr, value)

    @property
    def address(self) -> str:
        out = []
        for r1, c1, r2, c2 in self.areas:
            a = f"${_letters(c1)}${r1}"
            out.append(a if (r1, c1) == (r2, c2) else f"{a}:${_letters(c2)}${r2}")
        return ",".join(out)

    @property
    def row(self) -> int:
        return self.areas[0][0]

    @property
    def column(self) -> int:
        return self.areas[0][1]

    @property
    def left(self) -> float:
        # a column of w characters is (7w + 5) pixels of Calibri 11, 0.75 points each
        return sum((7 * self.sheet.widths.get(c, DEFAULT_WIDTH) + 5) * 0.75 for c in range(1, self.column))

    @property
    def top(self) -> float:
        return sum(self.sheet.heights.get(r, DEFAULT_HEIGHT) for r in range(1, self.row))

    def options(self, convert=None, **options) -> Options:
        unknown = set(options) - {"ndim", "err_to_str"}
        if convert is not None or unknown:
            raise NotImplementedError(f"the fake supports only ndim and err_to_str, not {unknown or convert}")
        return Options(self, **options)

    @property
    def value(self):
        return Options(self).value

    @value.setter
    def value(self, data) -> None:
        r0, c0 = self.row, self.column
        rows = data if isinstance(data, (list, tuple)) else [[data]]
        if rows and not isinstance(rows[0], (list, tuple)):
            rows = [rows]
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                cell = self.sheet.cell(r0 + i, c0 + j)
                cell.value, cell.formula = typed(v)

    @property
    def formula(self):
        r1, c1, r2, c2 = self._single()

        def one(r, c):
            cell = self.sheet.cells.get((r, c))
            if cell is None or cell.empty():
                return ""
            return cell.formula if cell.formula is not None else str(cell.value)

        if (r1, c1) == (r2, c2):
            return one(r1, c1)
        return tuple(tuple(one(r, c) for c in range(c1, c2 + 1)) for r in range(r1, r2 + 1))

    number_format = property(
        lambda self: self._get("number_format"), lambda self, v: self._set("number_format", v)
    )
    color = property(lambda self: self._get("fill"), lambda self, v: self._set("fill", v))
    wrap_text = property(lambda self: self._get("wrap"), lambda self, v: self._set("wrap", bool(v)))

    @property
    def font(self) -> Font:
        return Font(self)

    @property
    def column_width(self):
        widths = {self.sheet.widths.get(c, DEFAULT_WIDTH) for _, c in self._cells()}
        return widths.pop() if len(widths) == 1 else None

    @column_width.setter
    def column_width(self, value: float) -> None:
        for _, c in self._cells():
            self.sheet.widths[c] = float(value)

    @property
    def row_height(self):
        heights = {self.sheet.heights.get(r, DEFAULT_HEIGHT) for r, _ in self._cells()}
        return heights.pop() if len(heights) == 1 else None

    @row_height.setter
    def row_height(self, value: float) -> None:
        for r, _ in self._cells():
            self.sheet.heights[r] = float(value)

    def merge(self, across: bool = False) -> None:
        self.sheet.merges.append(self.address.replace("$", ""))


def sheet_values(sheet: Sheet) -> dict[str, object]:
    """Every non-empty cell as {"A1": value or "=formula"}: what a test compares."""
    out = {}
    for (r, c), cell in sorted(sheet.cells.items()):
        if not cell.empty():
            out[f"{_letters(c)}{r}"] = cell.formula if cell.formula is not None else cell.value
    return out


__all__ = ["App", "Book", "Cell", "Range", "Sheet", "sheet_values", "typed"]
