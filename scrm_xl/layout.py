"""Results -> a plain description of the four output sheets (ROI, KPI, Ledger,
Checks): cells with a value or a formula plus its cached value, a named style,
merged titles, column widths, frozen panes and charts.

No file format lives here: ``write`` turns a Layout into OOXML parts, and the
Excel button can write the same Layout through xlwings.

The ROI figures are formulas over the Ledger sheet (SUMIFS by goal,
initiative, channel, category and period) so a reader can audit every number;
their cached values are the engine's figures. While building each formula we
also evaluate it here over the same lines; where the engine's figure differs
from what Excel will compute, the mismatch is reported as an Issue instead of
being silently hidden by the cache.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import islice, zip_longest
from operator import attrgetter

from .model import CellRef, Issue, Severity, column_letter, warning
from .results import Figures, LedgerLine, Results

Value = str | Decimal | float | int | date | None

MAX_TEXT = 32767  # Excel's limit for the text of one cell
MAX_CRITERION = 250  # Excel rejects string literals over 255 characters in a formula


# --- the plain description ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Style:
    """A cell format in words: what a finance reader sees, not how a file stores it."""

    num_format: str = "General"
    bold: bool = False
    italic: bool = False
    size: float = 11
    color: str | None = None  # font colour, RRGGBB
    fill: str | None = None  # solid background, RRGGBB
    border_top: bool = False
    border_bottom: bool = False
    wrap: bool = False
    align: str | None = None  # "left", "center", "right"


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell. With a formula (no leading ``=``), ``value`` is its cached result."""

    row: int  # 1-based
    col: int  # 1-based
    value: Value
    style: str = "text"
    formula: str | None = None

    @property
    def ref(self) -> str:
        return f"{column_letter(self.col)}{self.row}"


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: str  # an absolute range with its sheet: ROI!$H$30:$H$32


@dataclass(frozen=True, slots=True)
class Chart:
    kind: str  # "line" or "column"
    title: str
    categories: str
    series: tuple[Series, ...]
    row: int  # top-left anchor cell, 1-based
    col: int
    y_format: str = "General"  # number format of the value axis
    width: int = 560  # pixels
    height: int = 300


@dataclass(frozen=True, slots=True)
class PageSetup:
    """How a sheet prints, in words both writers (OOXML and xlwings) translate.

    The default is what a finance reader expects on paper: landscape, every column on one
    page width (as many pages down as needed), narrow margins, and a footer with the sheet
    name, the file name and "Page X of Y"."""

    landscape: bool = True
    fit_width: int = 1  # pages across; 0 = no fitting (100 % scale)
    fit_height: int = 0  # pages down; 0 = as many as needed
    repeat_rows: tuple[int, int] | None = None  # (first, last) rows printed atop every page
    margins: tuple[float, float, float, float] = (0.4, 0.4, 0.6, 0.7)  # left, right, top, bottom (inches)
    header_margin: float = 0.3  # inches from the edge
    footer_margin: float = 0.3
    # left, centre, right footer in Excel's header/footer codes (&A sheet, &F file, &P page, &N pages)
    footer: tuple[str, str, str] = ("&A", "&F", "Page &P of &N")
    row_breaks: tuple[int, ...] = ()  # a page break above each of these rows


@dataclass(frozen=True, slots=True)
class SheetLayout:
    name: str
    cells: Iterable[Cell]  # sorted by row, then column; may be lazy (the Ledger): iterate, don't index
    extent: tuple[int, int] | None = None  # last used (row, column); None for an empty sheet
    merges: tuple[str, ...] = ()  # "A1:H1"
    widths: tuple[tuple[int, float], ...] = ()  # (column, width in characters)
    freeze: tuple[int, int] | None = None  # first unfrozen (row, col), e.g. (5, 1) = A5
    heights: tuple[tuple[int, float], ...] = ()  # (row, height in points) where not the default
    charts: tuple[Chart, ...] = ()
    page: PageSetup = PageSetup()


@dataclass(frozen=True, slots=True)
class Layout:
    sheets: tuple[SheetLayout, ...]
    styles: dict[str, Style] = field(default_factory=dict)


# --- styles ----------------------------------------------------------------

HEADER_FILL = "DCE6F1"
TOTAL_FILL = "F2F2F2"


def styles_for(currency: str) -> dict[str, Style]:
    """The named styles every sheet uses; money carries the programme's currency."""
    code = currency if re.fullmatch(r"[A-Za-z]{3}", currency or "") else ""
    suffix = f' "{code.upper()}"' if code else ""
    money = f"#,##0.00{suffix};[Red]-#,##0.00{suffix}"
    percent = "0.0%;[Red]-0.0%"
    return {
        "title": Style(bold=True, size=14),
        "subtitle": Style(italic=True, color="595959"),
        "note": Style(italic=True, color="595959", size=9),
        "section": Style(bold=True, size=12, border_bottom=True),
        "header": Style(bold=True, fill=HEADER_FILL, wrap=True, border_bottom=True),
        "header_right": Style(bold=True, fill=HEADER_FILL, wrap=True, border_bottom=True, align="right"),
        "text": Style(),
        "date": Style(num_format="yyyy-mm-dd", align="center"),  # never flush against the next column
        "money": Style(num_format=money),
        "percent": Style(num_format=percent),
        "number": Style(num_format="#,##0.00"),
        "integer": Style(num_format="#,##0"),
        "general": Style(),
        "total_label": Style(bold=True, fill=TOTAL_FILL, border_top=True),
        "total_money": Style(num_format=money, bold=True, fill=TOTAL_FILL, border_top=True),
        "total_percent": Style(num_format=percent, bold=True, fill=TOTAL_FILL, border_top=True),
        "total_text": Style(bold=True, fill=TOTAL_FILL, border_top=True, align="right"),
        "text_right": Style(align="right"),
        "text_center": Style(align="center"),
        "text_wrap": Style(wrap=True),
        # left-aligned, hence top-aligned: they sit beside wrapped messages on Checks
        "error": Style(bold=True, color="C00000", align="left"),
        "warning": Style(bold=True, color="9C5700", align="left"),
        "info": Style(color="1F4E79", align="left"),
        "text_top": Style(align="left"),
        # the ROI sheet's "Programme at a glance": the answer first, a little larger
        "glance_label": Style(size=12),
        "glance_money": Style(num_format=money, bold=True, size=12),
        "glance_percent": Style(num_format=percent, bold=True, size=12),
        "glance_months": Style(num_format='[=1]0 "month";0 "months"', bold=True, size=12, align="right"),
        "glance_text": Style(bold=True, size=12, align="right"),
    }


# --- a small sheet builder ---------------------------------------------------


class _Sheet:
    def __init__(self, name: str, issues: list[Issue]) -> None:
        self.name = name
        self.cells: dict[tuple[int, int], Cell] = {}
        self.merges: list[str] = []
        self.widths: dict[int, float] = {}
        self.charts: list[Chart] = []
        self.heights: dict[int, float] = {}  # rows taller than the default (wrapped text), in points
        self.freeze: tuple[int, int] | None = None
        self.page = PageSetup()
        self._issues = issues

    def put(self, row: int, col: int, value: Value, style: str = "text", formula: str | None = None) -> str:
        if isinstance(value, str) and len(value) > MAX_TEXT:
            self._issues.append(
                warning(CellRef(self.name, row, col), f"text cut to Excel's {MAX_TEXT} characters")
            )
            value = value[:MAX_TEXT]
        self.cells[(row, col)] = Cell(row, col, value, style, formula)
        return f"{column_letter(col)}{row}"

    def title(self, row: int, text: str, style: str, last_col: int) -> None:
        self.put(row, 1, text, style)
        self.merges.append(f"A{row}:{column_letter(last_col)}{row}")

    def keep_whole(self, starts: list[int], last: int) -> tuple[int, ...]:
        """Page breaks so that no table is split across printed pages when it fits on one.

        ``starts`` are the tables' first rows (the last table ends at ``last``). Printed one
        page wide, a page holds a number of sheet rows that follows from the sheet's width;
        we estimate it for the smaller of A4 and Letter landscape, less our margins, with a
        little slack, since Excel and LibreOffice round their scale differently."""
        page = PageSetup()
        width_in = min(11.69, 11.0) - page.margins[0] - page.margins[1]
        height_in = min(8.27, 8.5) - page.margins[2] - page.margins[3]
        sheet_px = sum(int(w * 7 + 5) for w in self.widths.values()) + 64 * max(
            0, max((c.col for c in self.cells.values()), default=0) - len(self.widths)
        )
        scale = min(1.0, width_in * 96 / max(sheet_px, 1))
        capacity = height_in * 96 / scale * 0.92
        heights = {c.row: 40.0 for c in self.cells.values() if c.style.startswith("header")}
        px = lambda r: heights.get(r, 20.0)  # noqa: E731
        breaks, used, row = [], 0.0, 1
        ends = [s - 1 for s in starts[1:]] + [last]
        for start, end in zip(starts, ends, strict=True):
            before = sum(px(r) for r in range(row, start))  # blank rows between tables
            size = sum(px(r) for r in range(start, end + 1))
            if used + before + size > capacity and used > 0:
                breaks.append(start)
                used = size
            else:
                used += before + size
            while used > capacity:  # a table longer than a page flows on
                used -= capacity
            row = end + 1
        return tuple(breaks)

    def done(self, body: Iterable[Cell] | None = None, extent: tuple[int, int] | None = None) -> SheetLayout:
        """The finished sheet; ``body`` (with its ``extent``) appends lazily made cells below ours."""
        cells = tuple(self.cells[k] for k in sorted(self.cells))
        if cells:
            last = (max(c.row for c in cells), max(c.col for c in cells))
            extent = last if extent is None else (max(last[0], extent[0]), max(last[1], extent[1]))
        return SheetLayout(
            name=self.name,
            cells=cells if body is None else _Chain(cells, body),
            extent=extent,
            merges=tuple(self.merges),
            widths=tuple(sorted(self.widths.items())),
            freeze=self.freeze,
            heights=tuple(
                sorted(
                    (
                        {c.row: 30.0 for c in self.cells.values() if c.style.startswith("header")}
                        | self.heights
                    ).items()
                )
            ),
            charts=tuple(self.charts),
            page=self.page,
        )


def _fraction(x: Decimal | float | None) -> Value:
    return None if x is None else x


def _text_literal(text: str) -> str:
    """A formula string literal: quotes doubled, so user text can never end it."""
    return '"' + text.replace('"', '""') + '"'


def _equals_criterion(text: str) -> str:
    """A SUMIFS criterion that matches ``text`` exactly: '=' stops '<5' or '>x'
    from being read as comparisons, '~' escapes the wildcards * and ?."""
    escaped = text.replace("~", "~~").replace("*", "~*").replace("?", "~?")
    return _text_literal("=" + escaped)


# --- the Ledger table: both counted returns and cost lines -------------------

LEDGER_HEADERS = (
    ("Kind", "text", 9),
    ("Source", "text", 14),
    ("Date", "date", 11),
    ("Period", "text", 10),
    ("Goal ID", "text", 10),
    ("Initiative ID", "text", 12),
    ("Channel", "text", 16),
    ("Type / category", "text", 17),
    ("Confidence", "text", 11),
    ("Transaction ref", "text", 16),
    ("Amount", "money", 15),
    ("Attribution", "percent", 11),
    ("Gross margin", "percent", 11),
    ("Credit share", "percent", 11),
    ("Counted", "money", 15),
    ("Via", "text_center", 12),
    ("Touchpoint", "text", 16),
)
LEDGER_FIRST_ROW = 5
EXCEL_ROWS = 1_048_576  # rows in a worksheet
# A Ledger longer than one sheet's rows goes on in panels side by side: the same headings,
# one empty column apart (a million returns credited through touchpoints make ~1.5M lines)
LEDGER_PANEL_LINES = EXCEL_ROWS - LEDGER_FIRST_ROW + 1
LEDGER_PANEL_STEP = len(LEDGER_HEADERS) + 1
RETURN, COST = "Return", "Cost"
# LedgerLine fields that fill Ledger columns H..P as they are (after Channel, before Touchpoint)
_LINE_FIELDS = (
    "return_type",
    "confidence",
    "transaction_ref",
    "amount",
    "attribution",
    "margin",
    "credit_share",
    "counted",
    "via",
)
NONE_LABEL = "(none)"


# column keys used in formulas -> 1-based Ledger column
_COL = {
    "kind": 1,
    "date": 3,
    "goal": 5,
    "initiative": 6,
    "channel": 7,
    "type": 8,
    "confidence": 9,
    "counted": 15,
}


def _exactly(chunks: Iterable[list[Sequence[Value]]], size: int) -> Iterator[list[Sequence[Value]]]:
    """Column chunks regrouped to ``size`` rows each (the last may be short): ``columns`` ends
    a chunk where the returns end and the costs begin."""
    held: list[list[Value]] = []
    for chunk in chunks:
        if not held:
            held = [list(c) for c in chunk]
        else:
            for h, c in zip(held, chunk, strict=True):
                h.extend(c)
        while len(held[0]) >= size:
            yield [h[:size] for h in held]
            held = [h[size:] for h in held]
    if held and held[0]:
        yield held


def _period_finder(results: Results) -> Callable[[date], str]:
    """The label of the period a day falls in ("" outside every period), by bisection:
    a million ledger lines against a few dozen periods."""
    periods = sorted(results.periods, key=lambda p: p.start)
    starts = [p.start for p in periods]

    def period_of(day: date) -> str:
        k = bisect_right(starts, day) - 1
        return periods[k].label if k >= 0 and day <= periods[k].end else ""

    return period_of


class _Group:
    """Ledger lines that agree on every column a SUMIFS criterion looks at, with the sum of
    their Counted: formulas are evaluated over a few thousand groups instead of a million
    lines. Main groups leave ``date`` None; date groups leave goal, initiative and channel None."""

    __slots__ = ("kind", "goal", "initiative", "channel", "type", "confidence", "date", "counted")

    def __init__(self, kind, goal, initiative, channel, type_, confidence, day, counted) -> None:
        self.kind, self.goal, self.initiative, self.channel = kind, goal, initiative, channel
        self.type, self.confidence, self.date, self.counted = type_, confidence, day, counted


class _LedgerTable:
    """The Ledger's lines, straight from the Results: rows of values made on demand (never a
    list of a million line objects), and the groups the SUMIFS checks sum over, made in one pass."""

    TEXT_COLUMNS = ((5, 4), (6, 5), (7, 6), (8, 7), (10, 9))  # (column, index in a row) of user text

    def __init__(self, results: Results) -> None:
        self.results = results
        self.count = len(results.ledger) + len(results.cost_lines)
        self.channel_of = {i.id: (i.channel or NONE_LABEL) for i in results.initiatives}
        self.period_of = _period_finder(results)
        self.long_rows: set[int] = set()  # rows with a text over Excel's limit, to cut and report

    @property
    def panels(self) -> int:
        """How many side-by-side panels the lines fill (one unless a sheet's rows run out)."""
        return max(1, -(-self.count // LEDGER_PANEL_LINES))

    def place(self, n: int, col: int) -> tuple[int, int]:
        """(row, column) on the Ledger sheet of line ``n``'s value in column ``col`` (1-based)."""
        panel, k = divmod(n, LEDGER_PANEL_LINES)
        return LEDGER_FIRST_ROW + k, panel * LEDGER_PANEL_STEP + col

    def rows(self) -> Iterator[tuple[Value, ...]]:
        """One tuple per Ledger line in LEDGER_HEADERS' order: returns first, then costs (the
        same values as ``columns``, turned around)."""
        for cols in self.columns(1_000):
            yield from zip(*cols, strict=True)

    def sheet_rows(self) -> Iterator[tuple[Value, ...]]:
        """The Ledger sheet's rows from LEDGER_FIRST_ROW down: every panel's line side by side."""
        for cols in self.sheet_columns(1_000):
            yield from zip(*cols, strict=True)

    def sheet_columns(self, size: int) -> Iterator[list[Sequence[Value]]]:
        """``sheet_rows`` in chunks of ``size`` rows, one list per sheet column: panel p's
        columns hold lines p x LEDGER_PANEL_LINES onwards, with an empty column between panels."""
        if self.panels == 1:
            yield from self.columns(size)
            return
        cap, width = LEDGER_PANEL_LINES, len(LEDGER_HEADERS)
        streams = [
            _exactly(self.columns(size, p * cap, min((p + 1) * cap, self.count)), size)
            for p in range(self.panels)
        ]
        for chunks in zip_longest(*streams):  # chunk k of each panel covers the same sheet rows
            length = len(chunks[0][0])
            cols: list[Sequence[Value]] = []
            for p, chunk in enumerate(chunks):
                if p:
                    cols.append([None] * length)
                if chunk is None:
                    cols += [[None] * length] * width
                else:
                    cols += [list(c) + [None] * (length - len(c)) for c in chunk]
            yield cols

    def columns(self, size: int, start: int = 0, stop: int | None = None) -> Iterator[list[Sequence[Value]]]:
        """The Ledger's values in LEDGER_HEADERS' order, ``size`` lines at a time, as one list per
        column (returns first, then costs; a text over Excel's limit cut): a column comes from
        one ``map`` over the lines, not from a tuple made per line. ``start`` and ``stop`` pick
        lines by their place in that order."""
        channel_of, period_of = self.channel_of, self.period_of
        periods: dict[date, str] = {}
        refs: dict[tuple[str, int], str] = {}

        def where(cells: Sequence[CellRef | None]) -> list[str | None]:  # str(CellRef), prefixes made once
            for c in {(c.sheet, c.col) for c in cells if c is not None}.difference(refs):
                refs[c] = str(CellRef(c[0], 1, c[1]))[:-1]
            return [refs[(c.sheet, c.col)] + str(c.row) if c is not None else None for c in cells]

        def period(days: Sequence[date]) -> list[str]:
            for day in set(days).difference(periods):
                periods[day] = period_of(day)
            return list(map(periods.__getitem__, days))

        ledger, costs = self.results.ledger, self.results.cost_lines
        stop = self.count if stop is None else stop
        n = start
        for first in range(start, min(stop, len(ledger)), size):
            lines = ledger[first : min(first + size, stop)]
            # a LedgerLine is a tuple: one zip turns the lines into their fields' columns, in C
            of = dict(zip(LedgerLine._fields, zip(*lines, strict=True), strict=True))
            days, line_inits = of["date"], of["initiative_id"]
            cols: list[Sequence[Value]] = [
                [RETURN] * len(lines),
                where(of["source"]),
                days,
                period(days),
                of["goal_id"],
                line_inits,
                [channel_of.get(i, NONE_LABEL) for i in line_inits],
                *(of[name] for name in _LINE_FIELDS),
                where([t or None for t in of["touchpoint"]]),
            ]
            yield self._cut_columns(cols, n)
            n += len(lines)
        skip = len(ledger)
        for first in range(max(start - skip, 0), stop - skip, size):
            lines = costs[first : min(first + size, stop - skip)]
            inits = list(map(attrgetter("initiative_id"), lines))
            amounts = list(map(attrgetter("amount"), lines))
            none = [None] * len(lines)
            cols = [
                [COST] * len(lines),
                where(list(map(attrgetter("source"), lines))),
                list(map(attrgetter("date"), lines)),
                list(map(attrgetter("period"), lines)),
                list(map(attrgetter("goal_id"), lines)),
                inits,
                [channel_of.get(i) if i else None for i in inits],
                [c or NONE_LABEL for c in map(attrgetter("category"), lines)],
                none,
                none,
                amounts,
                none,
                none,
                none,
                amounts,
                none,
                none,
            ]
            yield self._cut_columns(cols, n)
            n += len(lines)

    def _cut_columns(self, cols: list[Sequence[Value]], first: int) -> list[Sequence[Value]]:
        rows = [n - first for n in self.long_rows if first <= n < first + len(cols[0])]
        for k, col in enumerate(cols):
            for i in rows:
                if isinstance(col[i], str):
                    col = cols[k] = list(col)
                    col[i] = col[i][:MAX_TEXT]
        return cols

    def groups(self) -> tuple[list[_Group], list[_Group]]:
        """(main groups, date groups), and the rows with an overlong text noted on the way."""
        main: dict[tuple, Decimal] = {}
        by_date: dict[tuple, Decimal] = {}
        channel_of = self.channel_of
        ledger = self.results.ledger
        # one dict update per line, on a key that fixes both groups; cents add exactly, so
        # summing these cells gives the sums line by line
        cells: dict[tuple, Decimal] = {}
        get = cells.get
        keys = map(attrgetter("goal_id", "initiative_id", "return_type", "confidence", "date"), ledger)
        for key, counted in zip(keys, map(attrgetter("counted"), ledger), strict=True):
            cells[key] = get(key, 0) + counted
        for (goal, initiative, type_, confidence, day), counted in cells.items():
            key = (RETURN, goal, initiative, channel_of.get(initiative, NONE_LABEL), type_, confidence)
            main[key] = main.get(key, 0) + counted
            key = (RETURN, type_, confidence, day)
            by_date[key] = by_date.get(key, 0) + counted
        longest_ref = max(map(len, filter(None, map(attrgetter("transaction_ref"), ledger))), default=0)
        if longest_ref > MAX_TEXT or any(len(goal or "") > MAX_TEXT for goal, *_ in cells):
            self.long_rows.update(
                n
                for n, x in enumerate(ledger)
                if len(x.transaction_ref or "") > MAX_TEXT or len(x.goal_id or "") > MAX_TEXT
            )
        n = len(ledger)
        for c in self.results.cost_lines:
            channel = channel_of.get(c.initiative_id) if c.initiative_id else None
            category = c.category or NONE_LABEL
            key = (COST, c.goal_id, c.initiative_id, channel, category, None)
            main[key] = main.get(key, 0) + c.amount
            key = (COST, category, None, c.date)
            by_date[key] = by_date.get(key, 0) + c.amount
            if len(category) > MAX_TEXT or len(c.goal_id or "") > MAX_TEXT:
                self.long_rows.add(n)
            n += 1
        for (_, goal, initiative, channel, type_, _), _sum in main.items():
            if max(len(goal or ""), len(initiative or ""), len(channel or ""), len(type_ or "")) > MAX_TEXT:
                self.long_rows.update(self._rows_with_long_text())
                break
        return (
            [_Group(k, g, i, ch, t, conf, None, v) for (k, g, i, ch, t, conf), v in main.items()],
            [_Group(k, None, None, None, t, conf, d, v) for (k, t, conf, d), v in by_date.items()],
        )

    def _rows_with_long_text(self) -> set[int]:
        # rare (an ID over 32,767 characters): a second pass over the rows finds them exactly
        saved, self.long_rows = self.long_rows, set()
        found = {
            n
            for n, row in enumerate(self.rows())
            if any(len(row[k] or "") > MAX_TEXT for _, k in self.TEXT_COLUMNS)
        }
        self.long_rows = saved
        return found


Pred = Callable[[_Group], bool]


@dataclass(frozen=True, slots=True)
class _Cond:
    """One SUMIFS criterion: the Ledger column, the criterion as Excel reads it, and the same
    test in Python. ``eq`` (a casefolded value) or ``span`` (first, last date) name a superset
    of the matching lines that an index finds fast; ``pred`` then decides."""

    key: str
    crit: str
    pred: Pred
    eq: str | None = None
    span: tuple[date, date] | None = None


class _Sums:
    """Builds SUMIFS formulas over the Ledger and evaluates them on the same lines.

    Evaluation goes through indexes (per column value, and by date), so a ledger of a
    million lines costs each formula only the lines of its slice, not the whole ledger."""

    def __init__(self, table: _LedgerTable) -> None:
        self.lines, self.dated = table.groups()
        # one SUMIFS per panel of the Ledger, each over its own lines (one row at least)
        self._ranges: list[dict[str, str]] = []
        for p in range(table.panels):
            first = p * LEDGER_PANEL_LINES
            last = max(min(table.count, first + LEDGER_PANEL_LINES) - 1, first)
            ranges = {}
            for k, c in _COL.items():
                (top, col), (bottom, _) = table.place(first, c), table.place(last, c)
                x = column_letter(col)
                ranges[k] = f"Ledger!${x}${top}:${x}${bottom}"
            self._ranges.append(ranges)
        self._index: dict[str, dict[str, list[_Group]]] = {}
        self._by_date: list[_Group] | None = None
        self._dates: list[date] = []

    def _bucket(self, key: str, folded: str) -> list[_Group]:
        index = self._index.get(key)
        if index is None:
            index = self._index[key] = {}
            for x in self.lines:
                index.setdefault((getattr(x, key) or "").casefold(), []).append(x)
        return index.get(folded, [])

    def _span(self, first: date, last: date) -> list[_Group]:
        if self._by_date is None:
            self._by_date = sorted(self.dated, key=lambda x: x.date)
            self._dates = [x.date for x in self._by_date]
        return self._by_date[bisect_left(self._dates, first) : bisect_right(self._dates, last)]

    def sumifs(self, conds: Iterable[_Cond]) -> tuple[str, Decimal]:
        conds = list(conds)
        formula = "+".join(
            f"SUMIFS({ranges['counted']}" + "".join(f",{ranges[c.key]},{c.crit}" for c in conds) + ")"
            for ranges in self._ranges
        )
        dated = any(c.key == "date" for c in conds)
        candidates: list[_Group] = self.dated if dated else self.lines
        for c in conds:
            narrower = (
                self._bucket(c.key, c.eq)
                if c.eq is not None and not dated
                else self._span(*c.span)
                if c.span is not None
                else None
            )
            if narrower is not None and len(narrower) < len(candidates):
                candidates = narrower
        preds = [c.pred for c in conds]
        total = sum((x.counted for x in candidates if all(p(x) for p in preds)), Decimal(0))
        return formula, total


def _eq(key: str, text: str, cell: str) -> _Cond:
    """Exact match on a Ledger column; long keys fall back to the row's own cell."""
    literal_ok = len(text) <= MAX_CRITERION and not any(ord(ch) < 32 for ch in text)
    crit = _equals_criterion(text) if literal_ok else f'"="&{cell}'
    folded = text.casefold()  # SUMIFS compares text case-insensitively, and so do we
    return _Cond(key, crit, lambda x: (getattr(x, key) or "").casefold() == folded, eq=folded)


IS_COST = _Cond("kind", _text_literal(COST), lambda x: x.kind == COST, eq=COST.casefold())
IS_RETURN = _Cond("kind", _text_literal(RETURN), lambda x: x.kind == RETURN, eq=RETURN.casefold())
NOT_LOW = _Cond("confidence", _text_literal("<>Low"), lambda x: x.confidence != "Low")
HIGH = _Cond("confidence", _text_literal("High"), lambda x: x.confidence == "High", eq="high")


def _of_type(name: str) -> _Cond:
    return _Cond("type", _equals_criterion(name), lambda x: x.type == name, eq=name.casefold())


# --- ROI ---------------------------------------------------------------------

FIGURE_HEADERS = (
    "Investment",
    "New revenue",
    "Cost savings",
    "Spending avoided",
    "Return (expected)",
    "Return (conservative)",
    "Return (optimistic)",
    "Net return (expected)",
    "ROI conservative",
    "ROI expected",
    "ROI optimistic",
)
BLOCK = 5  # figures start in column E in every ROI table
ROI_LAST_COL = 17
GLANCE_ROW = 5
GLANCE = (
    "Investment",
    "Return (expected)",
    "Net return (expected)",
    "ROI conservative",
    "ROI expected",
    "ROI optimistic",
    "Payback",
    "NPV",
)
CHART_HEIGHT = 300  # pixels; a default row is 20 pixels high
CHART_WIDTH = 6 * 103 - 10  # six 14-character columns (103 pixels each), a little air between the two
CHART_ROWS = -(-CHART_HEIGHT // 20)


class _Roi:
    def __init__(self, results: Results, sums: _Sums, issues: list[Issue]) -> None:
        self.r = results
        self.sums = sums
        self.issues = issues
        self.s = _Sheet("ROI", issues)

    def check(self, row: int, col: int, engine: Decimal | None, formula_value: Decimal | None) -> None:
        if engine is None and formula_value is None:
            return
        if engine is None or formula_value is None or abs(Decimal(engine) - formula_value) > Decimal("0.005"):
            self.issues.append(
                warning(
                    CellRef("ROI", row, col),
                    f"the engine's figure {_show(engine)} differs from the Ledger formula's "
                    f"{_show(formula_value)}; the cell shows the engine's figure until recalculated",
                )
            )

    def money(self, row: int, col: int, engine: Decimal, conds: list, total: bool = False) -> str:
        formula, value = self.sums.sumifs(conds)
        self.check(row, col, engine, value)
        return self.s.put(row, col, engine, "total_money" if total else "money", formula)

    def figures(self, row: int, scope: list, f: Figures, total: bool = False) -> None:
        """The eleven figure columns of one slice (goal, initiative, channel or the programme)."""
        c = BLOCK
        inv = self.money(row, c, f.investment, [IS_COST, *scope], total)
        self.money(
            row, c + 1, f.returns.new_revenue, [IS_RETURN, *scope, _of_type("New revenue"), NOT_LOW], total
        )
        self.money(
            row, c + 2, f.returns.cost_savings, [IS_RETURN, *scope, _of_type("Cost savings"), NOT_LOW], total
        )
        self.money(
            row,
            c + 3,
            f.returns.spending_avoided,
            [IS_RETURN, *scope, _of_type("Spending avoided"), NOT_LOW],
            total,
        )
        self.money_formula(
            row,
            c + 4,
            f.returns_by_scenario.expected,
            f"SUM({column_letter(c + 1)}{row}:{column_letter(c + 3)}{row})",
            total,
        )
        cons = self.money(row, c + 5, f.returns_by_scenario.conservative, [IS_RETURN, *scope, HIGH], total)
        opt = self.money(row, c + 6, f.returns_by_scenario.optimistic, [IS_RETURN, *scope], total)
        exp = f"{column_letter(c + 4)}{row}"
        self.money_formula(row, c + 7, f.net_return, f"{exp}-{inv}", total)
        for k, (ret, roi) in enumerate(
            ((cons, f.roi.conservative), (exp, f.roi.expected), (opt, f.roi.optimistic))
        ):
            self.s.put(
                row,
                c + 8 + k,
                _fraction(roi) if roi is not None else "",
                "total_percent" if total else "percent",
                f'IF({inv}=0,"",({ret}-{inv})/{inv})',
            )

    def money_formula(self, row: int, col: int, value: Decimal | None, formula: str, total: bool) -> str:
        return self.s.put(row, col, value, "total_money" if total else "money", formula)

    def headers(self, row: int, labels: Iterable[tuple[int, str]]) -> None:
        """One table's header row, shaded without gaps from column A to its last column."""
        labels = dict(labels)
        for col in range(1, max(labels) + 1):
            self.s.put(row, col, labels.get(col), "header" if col < BLOCK else "header_right")

    def build(self) -> SheetLayout:
        r, s = self.r, self.s
        p = r.program
        s.title(1, f"Return on investment: {p.name}", "title", 12)
        s.title(
            2,
            f"{p.currency} · {p.period_start:%Y-%m-%d} to {p.period_end:%Y-%m-%d} · as of "
            f"{p.as_of:%Y-%m-%d} · attribution: {p.attribution_model}",
            "subtitle",
            12,
        )
        s.title(
            3,
            "ROI = (return - investment) / investment. Only transaction-linked returns count; "
            "every figure is a formula over the Ledger sheet. Expected = High + Medium confidence, "
            "conservative = High, optimistic = all. Reach and engagement are on KPI, never in ROI.",
            "note",
            17,
        )
        s.freeze = (5, 3)
        # the answer first: the headline figures on the left, the two charts beside them,
        # then the tables below both (charts never cover a table, and all print on the page)
        row = GLANCE_ROW + max(len(GLANCE) + 1, CHART_ROWS) + 1
        tables = [row]  # each table's first row (its section title), for the page breaks
        row = self.goals(row) + 2
        tables.append(row)
        row, period_rows = self.periods(row)
        tables.append(row + 2)
        row = self.initiatives(row + 2) + 2
        tables.append(row)
        row = self.channels(row) + 2
        tables.append(row)
        last = self.categories(row)
        self.glance(GLANCE_ROW)
        for col, width in ((1, 12), (2, 32), (3, 16), (4, 16)):
            s.widths[col] = width
        for col in range(BLOCK, ROI_LAST_COL + 1):
            s.widths[col] = 14
        self.charts(period_rows)
        s.page = PageSetup(row_breaks=s.keep_whole(tables, last))
        return s.done()

    def glance(self, row: int) -> None:
        """Programme at a glance: references to the goals table's Total row (live in Excel),
        payback and NPV as the engine's values (they are not formulas anywhere)."""
        r, s, t = self.r, self.s, self.total_row
        s.put(row, 1, "Programme at a glance", "section")
        for col in (2, 3):
            s.put(row, col, None, "section")
        f = r.totals
        refs = {
            "Investment": (f.investment, BLOCK),
            "Return (expected)": (f.returns_by_scenario.expected, BLOCK + 4),
            "Net return (expected)": (f.net_return, BLOCK + 7),
            "ROI conservative": (f.roi.conservative, BLOCK + 8),
            "ROI expected": (f.roi.expected, BLOCK + 9),
            "ROI optimistic": (f.roi.optimistic, BLOCK + 10),
        }
        for label in GLANCE:
            row += 1
            s.put(row, 1, label, "glance_label")
            if label in refs:
                value, col = refs[label]
                percent = label.startswith("ROI")
                cached = value if value is not None else ""
                style = "glance_percent" if percent else "glance_money"
                s.put(row, 3, cached, style, f"{column_letter(col)}{t}")
            elif label == "Payback":
                if r.payback_months is not None:
                    s.put(row, 3, r.payback_months, "glance_months")
                else:
                    s.put(row, 3, "not reached", "glance_text")
            elif r.npv is not None:
                s.put(row, 3, r.npv, "glance_money")
            else:
                s.put(row, 3, "needs a discount rate", "glance_text")

    def goals(self, row: int) -> int:
        r, s = self.r, self.s
        s.put(row, 1, "By goal", "section")
        row += 1
        self.headers(
            row,
            [
                (1, "Goal ID"),
                (2, "Goal"),
                (3, "Objective"),
                (4, "Owner"),
                *((BLOCK + k, h) for k, h in enumerate(FIGURE_HEADERS)),
                (16, "Payback (months)"),
                (17, "NPV"),
            ],
        )
        first = row + 1
        for g in r.goals:
            row += 1
            s.put(row, 1, g.id)
            s.put(row, 2, g.name)
            s.put(row, 3, g.objective)
            s.put(row, 4, g.owner)
            self.figures(row, [_eq("goal", g.id, f"$A{row}")], g.figures)
            s.put(
                row,
                16,
                g.payback_months if g.payback_months is not None else "not reached",
                "integer" if g.payback_months is not None else "text_right",
            )
            s.put(row, 17, g.npv, "money")
        self.goal_rows = (first, row)
        row += 1
        s.put(row, 1, "Unallocated")
        s.put(row, 2, "Programme overhead: costs with neither initiative nor goal")
        total_row = row + 1
        inv_col = column_letter(BLOCK)
        goal_inv = f"SUM({inv_col}{first}:{inv_col}{row - 1})" if r.goals else "0"
        s.put(row, BLOCK, r.unallocated_investment, "money", f"{inv_col}{total_row}-{goal_inv}")
        allocated = sum((g.figures.investment for g in r.goals), Decimal(0))
        self.check(row, BLOCK, r.unallocated_investment, r.totals.investment - allocated)
        row = self.total_row = total_row
        s.put(row, 1, "Total", "total_label")
        for col in (2, 3, 4):
            s.put(row, col, None, "total_label")
        self.figures(row, [], r.totals, total=True)
        s.put(row, 16, r.payback_months if r.payback_months is not None else "not reached", "total_text")
        s.put(row, 17, r.npv, "total_money")
        if r.npv is None:
            s.put(row + 1, 17, "NPV needs a discount rate on Program", "note")
            row += 1
        return row

    def periods(self, row: int) -> tuple[int, tuple[int, int]]:
        r, s = self.r, self.s
        s.put(row, 1, f"By period ({r.program.reporting_period.lower()})", "section")
        row += 1
        self.headers(
            row,
            [
                (1, "Period"),
                (2, "Start"),
                (3, "End"),
                (BLOCK, "Investment"),
                (6, "Return (expected)"),
                (7, "Net return"),
                (8, "Cumulative investment"),
                (9, "Cumulative return"),
                (10, "Cumulative net"),
            ],
        )
        first = row + 1
        for p in r.periods:
            row += 1
            s.put(row, 1, p.label)
            start = s.put(row, 2, p.start, "date")
            end = s.put(row, 3, p.end, "date")
            in_period = [
                _Cond("date", f'">="&{start}', lambda x, d=p.start: x.date >= d, span=(p.start, p.end)),
                _Cond("date", f'"<="&{end}', lambda x, d=p.end: x.date <= d),
            ]
            inv = self.money(row, BLOCK, p.investment, [IS_COST, *in_period])
            ret = self.money(row, 6, p.returns.total, [IS_RETURN, NOT_LOW, *in_period])
            s.put(row, 7, p.net_return, "money", f"{ret}-{inv}")
            prev = row - 1
            s.put(row, 8, p.cumulative_investment, "money", inv if row == first else f"H{prev}+{inv}")
            s.put(row, 9, p.cumulative_return, "money", ret if row == first else f"I{prev}+{ret}")
            s.put(row, 10, p.cumulative_return - p.cumulative_investment, "money", f"I{row}-H{row}")
        last = row
        row += 1
        s.put(row, 1, "Total", "total_label")
        for col in (2, 3):
            s.put(row, col, None, "total_label")
        for col, value in (
            (BLOCK, sum((p.investment for p in r.periods), Decimal(0))),
            (6, sum((p.returns.total for p in r.periods), Decimal(0))),
            (7, sum((p.net_return for p in r.periods), Decimal(0))),
        ):
            letter = column_letter(col)
            formula = f"SUM({letter}{first}:{letter}{last})" if r.periods else "0"
            s.put(row, col, value, "total_money", formula)
        return row, (first, last)

    def initiatives(self, row: int) -> int:
        r, s = self.r, self.s
        s.put(row, 1, "By initiative", "section")
        row += 1
        self.headers(
            row,
            [
                (1, "Initiative ID"),
                (2, "Initiative"),
                (3, "Goal ID"),
                (4, "Channel"),
                *((BLOCK + k, h) for k, h in enumerate(FIGURE_HEADERS)),
            ],
        )
        for i in r.initiatives:
            row += 1
            s.put(row, 1, i.id)
            s.put(row, 2, i.name)
            s.put(row, 3, i.goal_id)
            s.put(row, 4, i.channel or NONE_LABEL)
            self.figures(row, [_eq("initiative", i.id, f"$A{row}")], i.figures)
        return row

    def channels(self, row: int) -> int:
        r, s = self.r, self.s
        s.put(row, 1, "By channel", "section")
        row += 1
        self.headers(row, [(1, "Channel"), *((BLOCK + k, h) for k, h in enumerate(FIGURE_HEADERS))])
        for c in r.channels:
            row += 1
            s.put(row, 1, c.channel)
            self.figures(row, [_eq("channel", c.channel, f"$A{row}")], c.figures)
        return row

    def categories(self, row: int) -> int:
        r, s = self.r, self.s
        s.put(row, 1, "Investment by cost category", "section")
        row += 1
        self.headers(row, [(1, "Category"), (BLOCK, "Investment"), (6, "Share")])
        first = row + 1
        total_row = first + len(r.categories)
        for c in r.categories:
            row += 1
            s.put(row, 1, c.category)
            inv = self.money(row, BLOCK, c.investment, [IS_COST, _eq("type", c.category, f"$A{row}")])
            total = f"${column_letter(BLOCK)}${total_row}"
            s.put(
                row, 6, c.share if c.share is not None else "", "percent", f'IF({total}=0,"",{inv}/{total})'
            )
        row = total_row
        s.put(row, 1, "Total", "total_label")
        letter = column_letter(BLOCK)
        formula = f"SUM({letter}{first}:{letter}{row - 1})" if r.categories else "0"
        s.put(row, BLOCK, sum((c.investment for c in r.categories), Decimal(0)), "total_money", formula)
        s.put(
            row,
            6,
            Decimal(1) if r.categories and r.totals.investment else "",
            "total_percent",
            f'IF({letter}{row}=0,"",1)',
        )
        return row

    def charts(self, period_rows: tuple[int, int]) -> None:
        first, last = period_rows
        s, anchor_col = self.s, BLOCK
        if last >= first:
            s.charts.append(
                Chart(
                    kind="line",
                    title="Cumulative return vs cumulative investment",
                    categories=f"ROI!$A${first}:$A${last}",
                    series=(
                        Series("Cumulative investment", f"ROI!$H${first}:$H${last}"),
                        Series("Cumulative return (expected)", f"ROI!$I${first}:$I${last}"),
                    ),
                    row=GLANCE_ROW,
                    col=anchor_col,
                    y_format=self.money_format(),
                    width=CHART_WIDTH,
                    height=CHART_HEIGHT,
                )
            )
        g1, g2 = self.goal_rows
        if g2 >= g1:
            roi_col = BLOCK + 8
            s.charts.append(
                Chart(
                    kind="column",
                    title="ROI by goal: conservative, expected, optimistic",
                    categories=f"ROI!$A${g1}:$A${g2}",
                    series=tuple(
                        Series(
                            name, f"ROI!${column_letter(roi_col + k)}${g1}:${column_letter(roi_col + k)}${g2}"
                        )
                        for k, name in enumerate(("Conservative", "Expected", "Optimistic"))
                    ),
                    row=GLANCE_ROW,
                    col=anchor_col + 6,
                    y_format="0%",
                    width=CHART_WIDTH,
                    height=CHART_HEIGHT,
                )
            )

    def money_format(self) -> str:
        # whole units on a chart axis: the cents are in the table
        return styles_for(self.r.program.currency)["money"].num_format.replace(".00", "")


def _show(x: Decimal | None) -> str:
    return "(none)" if x is None else f"{Decimal(x):,.2f}"


# --- KPI -----------------------------------------------------------------------

LEADING_METRICS = ("Reach", "Impressions", "Engagements", "Engagement rate", "Influence score")


def _kpi(results: Results, issues: list[Issue]) -> SheetLayout:
    s = _Sheet("KPI", issues)
    p = results.program
    s.title(1, f"Goals and value metrics: {p.name}", "title", 10)
    s.title(
        2,
        "Value (reach, engagement, influence, referrals) is real but intangible: it is reported "
        "here, beside ROI, never inside it.",
        "note",
        10,
    )
    row = 4
    s.put(row, 1, "Goal attainment", "section")
    row += 1
    headers = (
        "Goal ID",
        "Goal",
        "KPI",
        "Direction",
        "Baseline",
        "Target",
        "Target date",
        "Actual",
        "Attainment",
        "Status",
    )
    for col, h in enumerate(headers, 1):
        s.put(row, col, h, "header_right" if 5 <= col <= 9 else "header")
    s.freeze = (row + 1, 3)
    for g in results.goals:
        row += 1
        k = g.kpi
        s.put(row, 1, g.id)
        s.put(row, 2, g.name)
        s.put(row, 3, k.name if k.name else "(no KPI)")
        s.put(row, 4, k.direction)
        for col, v in ((5, k.baseline), (6, k.target), (8, k.actual)):
            s.put(row, col, v, "general")
        s.put(row, 7, k.target_date, "date")
        s.put(
            row,
            9,
            k.attainment if k.attainment is not None else "",
            "percent",
            f'IF(OR(E{row}="",F{row}="",H{row}="",F{row}=E{row}),"",(H{row}-E{row})/(F{row}-E{row}))',
        )
        s.put(row, 10, k.status, "error" if k.status in ("Missed", "At risk") else "text")
    row += 2
    s.put(row, 1, "Value metrics by period", "section")
    row += 1
    labels = [pr.label for pr in results.periods]
    extra = sorted({m.period for m in results.metrics} - set(labels))
    labels += extra
    s.put(row, 1, "Scope", "header")
    s.put(row, 2, "Metric", "header")
    for k, label in enumerate(labels):
        s.put(row, 3 + k, label, "header_right")
    goal_order = {g.id: n for n, g in enumerate(results.goals)}
    first_seen: dict[tuple[str | None, str, bool], int] = {}
    for n, m in enumerate(results.metrics):
        first_seen.setdefault((m.goal_id, m.metric, m.derived), n)

    def order(key: tuple[str | None, str, bool]) -> tuple:
        goal, metric, _ = key
        lead = LEADING_METRICS.index(metric) if metric in LEADING_METRICS else len(LEADING_METRICS)
        scope = -1 if goal is None else goal_order.get(goal, len(goal_order))
        return scope, str(goal), lead, first_seen[key]

    values = {(m.goal_id, m.metric, m.derived, m.period): m.value for m in results.metrics}
    for key in sorted(first_seen, key=order):
        goal, metric, derived = key
        row += 1
        s.put(row, 1, "Programme" if goal is None else goal)
        s.put(row, 2, f"{metric} (derived)" if derived else metric)
        is_rate = derived or metric.endswith("rate") or metric == "Share of voice"
        for k, label in enumerate(labels):
            v = values.get((goal, metric, derived, label))
            if v is not None:
                style = "percent" if is_rate else ("integer" if float(v).is_integer() else "number")
                s.put(row, 3 + k, v, style)
    s.widths.update({1: 12, 2: 30, 3: 22, 4: 11, 5: 11, 6: 11, 7: 12, 8: 11, 9: 12, 10: 14})
    for k in range(len(labels)):
        s.widths.setdefault(3 + k, 12)
    return s.done()


# --- Ledger and Checks --------------------------------------------------------


class _Chain:
    """Cells made on demand, so a million-line Ledger is never held as Cell objects; iterable
    any number of times."""

    def __init__(self, head: tuple[Cell, ...], body: Iterable[Cell]) -> None:
        self.head, self.body = head, body

    def __iter__(self):
        yield from self.head
        yield from self.body

    def __bool__(self) -> bool:
        return True


class RowBlock:
    """Cells given row by row, for a table too long to hold as Cell objects (the Ledger).

    ``rows()`` yields one tuple of values per row, from ``first_row`` down; column k (from A)
    has style ``styles[k]``; a None value is no cell. Iterating yields the same cells as Cell
    objects, so any writer can treat it as a plain iterable of cells; the OOXML writer renders
    the rows directly, without making a Cell per value."""

    def __init__(
        self,
        first_row: int,
        styles: tuple[str, ...],
        rows: Callable[[], Iterable[tuple]],
        columns: Callable[[int], Iterable[list[Sequence]]] | None = None,
    ) -> None:
        self.first_row, self.styles, self.rows = first_row, styles, rows
        self.given_columns = columns

    def columns(self, size: int) -> Iterator[list[Sequence]]:
        """The rows in chunks of at most ``size``, each chunk as one sequence per column
        (len(styles) of them; a short row's missing values are None)."""
        if self.given_columns is not None:
            yield from self.given_columns(size)
            return
        width = len(self.styles)
        rows = iter(self.rows())
        while chunk := list(islice(rows, size)):
            if any(len(values) != width for values in chunk):
                if any(len(values) > width for values in chunk):
                    raise ValueError("a RowBlock row has more values than the block has styles")
                chunk = [(*values, *(None,) * (width - len(values))) for values in chunk]
            yield list(zip(*chunk, strict=True))

    def __iter__(self) -> Iterator[Cell]:
        styles = self.styles
        for n, values in enumerate(self.rows()):
            row = self.first_row + n
            for col, value in enumerate(values, 1):
                if value is not None:
                    yield Cell(row, col, value, styles[col - 1])


def _ledger(results: Results, table: _LedgerTable, issues: list[Issue]) -> SheetLayout:
    s = _Sheet("Ledger", issues)
    s.title(1, "Ledger: every counted return and every cost line", "title", 10)
    s.title(
        2,
        "Each line points to its source row. The ROI sheet's figures are SUMIFS over this table; "
        "Counted = Amount x Attribution x Gross margin x Credit share.",
        "note",
        17,
    )
    panels = table.panels
    if panels > 1:
        s.title(
            3,
            f"A sheet holds {LEDGER_PANEL_LINES:,} lines under the headings: the Ledger goes on to the "
            f"right, line {LEDGER_PANEL_LINES + 1:,} onwards from column "
            f"{column_letter(LEDGER_PANEL_STEP + 1)}, with the same headings ({panels} panels in all).",
            "note",
            17,
        )
    header_row = LEDGER_FIRST_ROW - 1
    for p in range(panels):
        offset = p * LEDGER_PANEL_STEP
        for col, (name, style, width) in enumerate(LEDGER_HEADERS, 1):
            s.put(header_row, offset + col, name, "header" if style.startswith("text") else "header_right")
            s.widths[offset + col] = width
        if p:
            s.widths[offset] = 3
    if table.long_rows:
        saved, table.long_rows = table.long_rows, set()
        for n, row in enumerate(table.rows()):
            if n in saved:
                for col, k in table.TEXT_COLUMNS:
                    if len(row[k] or "") > MAX_TEXT:
                        issues.append(
                            warning(
                                CellRef("Ledger", *table.place(n, col)),
                                f"text cut to Excel's {MAX_TEXT} characters",
                            )
                        )
        table.long_rows = saved
    s.freeze = (LEDGER_FIRST_ROW, 1)
    s.page = PageSetup(repeat_rows=(header_row, header_row))
    width = panels * LEDGER_PANEL_STEP - 1
    extent = (LEDGER_FIRST_ROW + min(table.count, LEDGER_PANEL_LINES) - 1, width) if table.count else None
    styles = ((*(style for _, style, _ in LEDGER_HEADERS), "text") * panels)[:width]
    return s.done(RowBlock(LEDGER_FIRST_ROW, styles, table.sheet_rows, table.sheet_columns), extent)


MESSAGE_WIDTH = 90


def _checks(results: Results, issues: list[Issue]) -> SheetLayout:
    s = _Sheet("Checks", issues)
    s.title(1, "Checks: problems found in this workbook", "title", 3)
    counts = dict.fromkeys(Severity, 0) | Counter(i.severity for i in results.issues)
    summary = ", ".join(
        f"{n} {sev.value}{'s' if n != 1 and sev != Severity.INFO else ''}" for sev, n in counts.items()
    )
    s.title(2, summary + ". Errors block the figures they touch; warnings do not.", "subtitle", 3)
    for col, h in enumerate(("Severity", "Location", "Message"), 1):
        s.put(4, col, h, "header")
    row = 4
    listed = results.issues
    room = EXCEL_ROWS - row  # a sheet's rows under the headings
    if len(listed) > room:  # a million bad rows: list what fits, then say what is left
        listed = listed[: room - 1]
    lines = [(i.severity, i.where or "(workbook)", i.message) for i in listed]
    rest = results.issues[len(listed) :]
    if rest:
        left = Counter(i.severity for i in rest)
        worst = next(sev for sev in Severity if left[sev])
        kinds = ", ".join(f"{left[sev]:,} {sev.value}" for sev in Severity if left[sev])
        lines.append(
            (
                worst,
                "(workbook)",
                f"... and {len(rest):,} more ({kinds}) that a sheet's {EXCEL_ROWS:,} rows cannot hold; "
                "scrm-xl check --json lists every one.",
            )
        )
    for severity, where, message in lines:
        row += 1
        s.put(row, 1, severity.value, severity.value)
        s.put(row, 2, where, "text_top")
        s.put(row, 3, message, "text_wrap")
        # neither Excel nor LibreOffice grows a row for wrapped text on opening a file: we size
        # it, counting a character per unit of column width (a little generous for most text)
        height = sum(max(1, -(-len(part) // MESSAGE_WIDTH)) for part in message[:MAX_TEXT].split("\n"))
        if height > 1:
            s.heights[row] = min(15.0 * height, 409.0)  # Excel's tallest row
    if not results.issues:
        s.put(5, 1, "No problems found.", "text")
    s.freeze = (5, 1)
    s.page = PageSetup(repeat_rows=(4, 4))
    s.widths.update({1: 10, 2: 18, 3: MESSAGE_WIDTH})
    return s.done()


def layout(results: Results) -> tuple[Layout, list[Issue]]:
    """Lay out the ROI, KPI, Ledger and Checks sheets for ``results``."""
    issues: list[Issue] = []
    table = _LedgerTable(results)
    sums = _Sums(table)  # one pass over the lines; the Ledger's rows are made again when written
    sheets = (
        _Roi(results, sums, issues).build(),
        _kpi(results, issues),
        _ledger(results, table, issues),
        _checks(results, issues),
    )
    return Layout(sheets, styles_for(results.program.currency)), issues
