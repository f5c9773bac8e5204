"""Tables -> records: every "Input sheets" rule of the contract, all problems at once.

A row with an error is left out (errors block the figures they touch) and
loading goes on; warnings keep the row. Records come back sorted by content,
so row order, blank rows and sheet order never change what is loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, compress, count, islice, pairwise, repeat
from operator import and_, attrgetter, eq, is_, is_not, itemgetter, le, lt, ne, not_

from . import checks as cx
from .model import (
    STANDARD_METRICS,
    CellRef,
    Cost,
    Goal,
    Initiative,
    Issue,
    Metric,
    Program,
    Records,
    Return,
    Touchpoint,
    error,
    info,
    warning,
)
from .read import ERROR_CODES, ExcelError, Table, Tables
from .schema import (
    CHOICE,
    DATE,
    DATETIME,
    INPUT_SHEETS,
    INTEGER,
    MONEY,
    NUMBER,
    OPTIONAL_SHEETS,
    PERCENT,
    PROGRAM_SETTINGS,
    TEXT,
    Setting,
    Sheet,
    normalize_name,
)

REQUIRED_SHEETS = tuple(s.name for s in INPUT_SHEETS if s.name not in OPTIONAL_SHEETS)
HEADER_SEARCH_ROWS = 30  # the header row must be among a sheet's first rows
XLWINGS_CONF = "xlwings.conf"

# what each percent column may hold; money-like rates outside these are typos (25 for 25%)
PERCENT_RANGES = {
    "Gross margin": (Decimal(0), Decimal(1)),
    "Attribution": (Decimal(0), Decimal(1)),
    "Default gross margin": (Decimal(0), Decimal(1)),
    "Discount rate": (Decimal(0), Decimal(1)),
}


def missing_sheets(tables: Tables) -> list[str]:
    """Required input sheets that the workbook does not have (or has twice)."""
    return [name for name in REQUIRED_SHEETS if tables.find(name) is None]


def load(tables: Tables) -> tuple[Records | None, list[Issue]]:
    """Check and convert the input sheets; ``None`` records when the Program can't be built
    or a required sheet is missing (the issues say why)."""
    from .bulk import paused_gc

    ld = _Loader(tables)
    with paused_gc():
        records = ld.run()
    return records, ld.issues


# --- locating sheets, headers and rows ------------------------------------------


@dataclass
class _Located:
    sheet: Sheet
    table: Table
    header_index: int  # index into table.rows
    columns: dict[str, int]  # contract column name -> index into a row
    specs: dict = field(default_factory=dict)  # (column, what) -> (index, required, converter, fast)
    _width: int | None = None
    _raw: dict = field(default_factory=dict)  # index into a row -> its raw values below the header

    @property
    def width(self) -> int:
        """The length of the table's shortest row (calamine's rows are all as wide as the sheet)."""
        if self._width is None:
            self._width = min(map(len, self.table.rows), default=0)
        return self._width

    def transpose(self) -> None:
        """Take the contract's columns below the header in one pass over the rows (``zip`` in C),
        for the big sheets: a pass per column visits every row again. Only when every row is as
        wide as the others and the sheet has few columns besides the contract's."""
        rows = self.table.rows
        start = self.header_index + 1
        if len(rows) > start and self.width == max(map(len, rows)) and self.width <= 2 * len(self.columns):
            columns = list(zip(*islice(rows, start, None), strict=True))
            self._raw = {j: columns[j] for j in self.columns.values()}

    def below_header(self, j: int) -> Sequence:
        """The raw values at index ``j`` of the rows below the header (None beyond a short row)."""
        raw = self._raw.pop(j, None)  # each column is converted once
        if raw is not None:
            return raw
        return _values_at(self, range(self.header_index + 1, len(self.table.rows)), j)

    def cell(self, row_index: int, column: str) -> CellRef:
        """The cell of ``column`` in a row; the row's first cell when the column is absent."""
        j = self.columns.get(column)
        return CellRef(
            self.table.name, self.table.first_row + row_index, self.table.first_col + (0 if j is None else j)
        )


class _Row:
    __slots__ = ("located", "index", "raw", "ok")

    def __init__(self, located: _Located, index: int, raw):
        self.located, self.index, self.raw, self.ok = located, index, raw, True

    def get(self, column: str) -> object:
        j = self.located.columns.get(column)
        return self.raw[j] if j is not None and j < len(self.raw) else None

    def ref(self, column: str) -> CellRef:
        return self.located.cell(self.index, column)

    @property
    def first(self) -> CellRef:
        return CellRef(self.located.table.name, self.located.table.first_row + self.index, 1)


@dataclass
class _Loader:
    tables: Tables
    issues: list[Issue] = field(default_factory=list)

    # ---- helpers -------------------------------------------------------------

    def err(self, where: CellRef | str, message: str) -> None:
        self.issues.append(error(where, message))

    def warn(self, where: CellRef | str, message: str) -> None:
        self.issues.append(warning(where, message))

    def note(self, where: CellRef | str, message: str) -> None:
        self.issues.append(info(where, message))

    def locate(self, sheet: Sheet) -> _Located | None:
        found = self.tables.matching(sheet.name)
        if not found:
            if sheet.name not in OPTIONAL_SHEETS:
                self.err(sheet.name, f"the {sheet.name} sheet is missing")
            return None
        if len(found) > 1:
            names = ", ".join(repr(t.name) for t in found)
            self.err(found[0].name, f"{len(found)} sheets match {sheet.name} ({names}); keep only one")
            return None
        table = found[0]
        if table.hidden:
            self.warn(
                table.name, f"the {sheet.name} sheet is hidden; it is still read: unhide it for readers"
            )
        wanted = {normalize_name(c.name): c.name for c in sheet.columns}
        for i, row in enumerate(table.rows[:HEADER_SEARCH_ROWS]):
            names = [normalize_name(v) if isinstance(v, str) else "" for v in row]
            if not any(n in wanted for n in names):
                continue
            columns: dict[str, int] = {}
            for j, n in enumerate(names):
                name = wanted.get(n)
                if name is None:
                    continue
                if name in columns:
                    first = CellRef(table.name, table.first_row + i, table.first_col + columns[name])
                    self.warn(
                        CellRef(table.name, table.first_row + i, table.first_col + j),
                        f"column {name} appears twice; the one at {first} is used",
                    )
                    continue
                columns[name] = j
            located = _Located(sheet, table, i, columns)
            missing = [c.name for c in sheet.columns if c.required and c.name not in columns]
            if missing:
                header = CellRef(table.name, table.first_row + i, table.first_col)
                self.err(
                    header,
                    f"required column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                    f"missing from the header row; the sheet's rows are left out",
                )
                return None
            return located
        self.err(
            table.name,
            f"no header row found in the first {HEADER_SEARCH_ROWS} rows "
            f"(expected {', '.join(c.name for c in sheet.columns)}); the sheet's rows are left out",
        )
        return None

    def rows(self, located: _Located) -> Iterator[_Row]:
        rows = located.table.rows
        for i in self.row_indices(located):
            yield _Row(located, i, rows[i])

    def row_indices(self, located: _Located) -> list[int]:
        """Indices (into the table's rows) of the rows below the header that are not entirely blank."""
        return list(compress(count(), self.kept(located)))

    def kept(self, located: _Located, required: list | None = None) -> list[bool]:
        """For each table row: is it below the header and not entirely blank? Column by column:
        a row with its first column filled is decided there, the others wait for the next column.
        ``required``: the fast-path values of a required column, which decide every row with a
        value there (a blank required cell is ``_SLOW``)."""
        rows = located.table.rows
        start = located.header_index + 1
        if required is not None:
            mask = list(map(is_not, required, repeat(_SLOW)))
            mask[:start] = repeat(False, start)
            cols = list(located.columns.values())
            for i in compress(count(start), map(is_, islice(required, start, None), repeat(_SLOW))):
                mask[i] = _row_filled(rows[i], cols)
            return mask
        mask = [False] * len(rows)
        pending: range | list[int] = range(start, len(rows))
        for j in located.columns.values():
            if not pending:
                break
            filled = _filled(_values_at(located, pending, j))
            if type(pending) is range:
                mask[start:] = filled
            else:
                for i in compress(pending, filled):
                    mask[i] = True
            pending = list(compress(pending, map(not_, filled)))
        return mask

    def value(self, row: _Row, column: str, what: str | None = None):
        """The converted value of one cell, None when blank; an error marks the row."""
        located = row.located
        spec = located.specs.get((column, what))
        if spec is None:
            spec = located.specs[(column, what)] = self.spec(located, column, what)
        j, required, convert, fast, _ = spec
        if fast is not None:
            v = fast[row.index]
            if v is not _SLOW:
                return v
        raw = row.raw[j] if j is not None and j < len(row.raw) else None
        if raw is None or raw == "" or (type(raw) is str and not raw.strip()):  # _blank, inlined: hot path
            if required:
                self.err(row.ref(column), f"{column} is required")
                row.ok = False
            return None
        if type(raw) is str and raw in _ERROR_TEXT:
            raw = ExcelError(raw)  # xlwings' err_to_str hands error cells over as their text
        if type(raw) is ExcelError:
            self.err(row.ref(column), _error_cell_message(column, raw))
            row.ok = False
            return None
        try:
            return convert(raw)
        except cx.BadValue as exc:
            self.err(row.ref(column), str(exc))
            row.ok = False
            return None

    def spec(self, located: _Located, column: str, what: str | None = None) -> tuple:
        """(index, required, careful converter, fast-path values of the whole column or None,
        whether any of those below the header is ``_SLOW``)."""
        col = located.sheet.column(column)
        text = what or column[0].lower() + column[1:]
        convert = self.converter(col.kind, text, column, col.choices)
        j = located.columns.get(column)
        fast = None
        if j is not None:
            fast = _fast_column(col.kind, located.below_header(j), col.required, column, col.choices)
        if fast is None:
            return (j, col.required, convert, None, True)
        values, slow = fast
        values[:0] = repeat(_SLOW, located.header_index + 1)  # the header and the rows above it
        if slow:
            slow = _settle(values, located, j, col.required, convert)  # type: ignore[arg-type]
        return (j, col.required, convert, values, slow)

    def fast(self, located: _Located, column: str, what: str | None = None) -> tuple[list, bool]:
        """The fast-path values of ``column``, one per table row, and whether any is ``_SLOW``:
        for those (and for every row of a column without a fast path) ask ``value``."""
        spec = located.specs.get((column, what))
        if spec is None:
            spec = located.specs[(column, what)] = self.spec(located, column, what)
        j, required, _, fast, slow = spec
        if fast is not None:
            return fast, slow
        if j is None and not required:  # a column the sheet does not have is blank
            return [None] * len(located.table.rows), False
        return [_SLOW] * len(located.table.rows), True

    def converter(self, kind: str, what: str, name: str, choices: tuple[str, ...] = ()):
        """A function raw value -> converted value for one kind of column."""
        d1904 = self.tables.date1904
        if kind == TEXT:
            return cx.text
        if kind == CHOICE:
            return cx.chooser(choices, what)
        if kind == DATE:
            return lambda raw: cx.to_date(raw, what, d1904)
        if kind == DATETIME:
            return lambda raw: cx.to_datetime(raw, what, d1904)
        if kind == MONEY:
            return lambda raw: cx.money(raw, what)
        if kind == PERCENT:
            low, high = PERCENT_RANGES.get(name, (None, None))
            return lambda raw: cx.percent(raw, what, low, high)
        if kind == NUMBER:
            return lambda raw: cx.number(raw, what)
        if kind == INTEGER:
            return lambda raw: cx.integer(raw, what)
        raise AssertionError(kind)

    def convert(self, kind: str, raw: object, what: str, name: str, choices: tuple[str, ...] = ()):
        return self.converter(kind, what, name, choices)(raw)

    # ---- the run --------------------------------------------------------------

    def run(self) -> Records | None:
        sheets = {s.name: self.locate(s) for s in INPUT_SHEETS}
        program = self.program(sheets["Program"])
        goals, goal_ids, goal_dups = self.goals(sheets["Goals"])
        inits, init_by_id, init_dups = self.initiatives(sheets["Initiatives"], goal_ids, goal_dups)
        self.goal_ids, self.goal_dups = goal_ids, goal_dups
        self.init_by_id, self.init_dups = init_by_id, init_dups
        costs = self.costs(sheets["Costs"])
        touchpoints = self.touchpoints(sheets["Touchpoints"])
        returns = self.returns(sheets["Returns"], set(map(_REF, touchpoints)))
        metrics = self.metrics(sheets["Metrics"])
        self.xlwings_conf()
        if program is None or any(
            sheets[name] is None and self.tables.find(name) is None for name in REQUIRED_SHEETS
        ):
            return None

        program = self.resolve_as_of(program, costs, returns, metrics)
        costs = self.in_period(program, costs, "cost")
        returns = self.in_period(program, returns, "return")
        metrics = self.in_period(program, metrics, "metric")
        return Records(
            program=program,
            goals=tuple(sorted(goals, key=lambda g: (g.id.casefold(), g.source))),
            initiatives=tuple(sorted(inits, key=lambda i: (i.id.casefold(), i.source))),
            costs=tuple(sorted(costs, key=_cost_key)),
            returns=tuple(_sorted_returns(returns)),
            touchpoints=tuple(sorted(touchpoints, key=_touch_key)),
            metrics=tuple(sorted(metrics, key=_metric_key)),
        )

    # ---- Program ----------------------------------------------------------------

    def program(self, located: _Located | None) -> Program | None:
        if located is None:
            return None
        settings = {normalize_name(s.name): s for s in PROGRAM_SETTINGS}
        given: dict[str, tuple[object, CellRef]] = {}
        seen: dict[str, list[tuple[object, CellRef]]] = {}
        for row in self.rows(located):
            key = row.get("Setting")
            if cx.is_blank(key):
                if not cx.is_blank(row.get("Value")):
                    self.warn(row.ref("Setting"), "a value without a setting name is ignored")
                continue
            setting = settings.get(normalize_name(cx.text(key)))
            if setting is None:
                self.note(row.ref("Setting"), f"unknown setting {cx.text(key)!r} is ignored")
                continue
            seen.setdefault(setting.name, []).append((row.get("Value"), row.ref("Value")))
        for name, found in seen.items():
            if len({cx.text(v) if not cx.is_blank(v) else "" for v, _ in found}) > 1:
                # which one is meant can't depend on row order: neither is used
                places = ", ".join(str(ref) for _, ref in found)
                for _, ref in found:
                    self.err(ref, f"{name} is set more than once with different values ({places})")
                continue
            given[name] = found[0]

        values: dict[str, object] = {}
        failed = False
        for setting in PROGRAM_SETTINGS:
            raw, ref = given.get(setting.name, (None, CellRef(located.table.name, 0)))
            place = ref if setting.name in given else located.table.name
            if type(raw) is str and raw in _ERROR_TEXT:
                raw = ExcelError(raw)
            if type(raw) is ExcelError:
                self.err(place, _error_cell_message(setting.name, raw))
                failed |= setting.required
                continue
            if cx.is_blank(raw):
                if setting.required:
                    self.err(place, f"{setting.name} is required")
                    failed = True
                continue
            try:
                values[setting.name] = self.setting(setting, raw)
            except cx.BadValue as exc:
                self.err(place, str(exc))
                failed |= setting.required
        self.setting_refs = {name: ref for name, (_, ref) in given.items()}

        start, end = values.get("Period start"), values.get("Period end")
        if start is not None and end is not None and start > end:
            self.err(self.setting_refs["Period end"], f"Period end {end} is before Period start {start}")
            failed = True
        as_of = values.get("As of")
        if as_of is not None and start is not None and end is not None and not failed:
            ref = self.setting_refs["As of"]
            if as_of < start:
                self.err(ref, f"As of {as_of} is before Period start {start}")
                failed = True
            elif as_of > end:
                self.warn(ref, f"As of {as_of} is after Period end {end}; figures stop at Period end")
                values["As of"] = end
        if failed:
            return None
        return Program(
            name=values["Program name"],
            currency=values["Currency"],
            period_start=start,
            period_end=end,
            as_of=values.get("As of") or end,
            as_of_given="As of" in values,
            reporting_period=values.get("Reporting period", "Month"),
            default_gross_margin=values.get("Default gross margin"),
            discount_rate=values.get("Discount rate"),
            attribution_model=values.get("Attribution model", "Last touch"),
            half_life_days=values.get("Time-decay half-life", Decimal(7)),
            lookback_days=values.get("Lookback window", 90),
            locale=values.get("Locale", "en_US"),
            prepared_by=values.get("Prepared by"),
            distribution=values.get("Distribution", ()),
            source=CellRef(located.table.name, located.table.first_row + located.header_index, 1),
        )

    def setting(self, setting: Setting, raw: object):
        what = setting.name
        if setting.name == "Currency":
            code = cx.text(raw).upper()
            from babel.numbers import is_currency

            if len(code) != 3 or not code.isalpha() or not is_currency(code):
                raise cx.BadValue(f"currency {cx.text(raw)!r} is not an ISO 4217 code such as USD or EUR")
            return code
        if setting.name == "Time-decay half-life":
            days = cx.money(raw, "half-life")
            if days <= 0:
                raise cx.BadValue(f"half-life {days} must be more than 0 days")
            return days
        if setting.name == "Lookback window":
            days = cx.integer(raw, "lookback window")
            if days < 0:
                raise cx.BadValue(f"lookback window {days} must be 0 days or more")
            return days
        if setting.name == "Locale":
            loc = cx.text(raw).replace("-", "_")
            parts = loc.split("_")
            if not (len(parts) in (1, 2) and parts[0].isalpha() and 2 <= len(parts[0]) <= 3) or (
                len(parts) == 2 and not (parts[1].isalpha() and len(parts[1]) == 2)
            ):
                raise cx.BadValue(f"locale {cx.text(raw)!r} is not like en_US or de_DE")
            return parts[0].lower() + ("_" + parts[1].upper() if len(parts) == 2 else "")
        if setting.name == "Distribution":
            from email.utils import parseaddr  # the email package: 15 ms of every start otherwise

            addresses = []
            for part in cx.text(raw).replace(",", ";").split(";"):
                part = part.strip()
                if not part:
                    continue
                # "Jane Doe <jane@example.com>", as Outlook pastes it, keeps its display name
                name, spec = parseaddr(part)
                if "@" not in spec or " " in spec or spec.startswith("@") or spec.endswith("@"):
                    raise cx.BadValue(f"distribution address {part!r} is not an e-mail address")
                addresses.append(part if name else spec)
            return tuple(addresses)
        return self.convert(setting.kind, raw, what[0].lower() + what[1:], setting.name, setting.choices)

    # ---- Goals and Initiatives ----------------------------------------------------

    def _unique(self, rows: list[tuple[str, _Row]], what: str) -> set[str]:
        """IDs defined more than once: every definition is an error and none is used."""
        seen: dict[str, list[_Row]] = {}
        for key, row in rows:
            seen.setdefault(key.casefold(), []).append(row)
        dups = set()
        for key, group in seen.items():
            if len(group) > 1:
                dups.add(key)
                places = ", ".join(str(r.ref(f"{what} ID")) for r in group)
                for r in group:
                    self.err(
                        r.ref(f"{what} ID"), f"{what} ID {key.upper()!s} is defined more than once ({places})"
                    )
        return dups

    def goals(self, located: _Located | None) -> tuple[list[Goal], dict[str, str], set[str]]:
        if located is None:
            return [], {}, set()
        parsed: list[tuple[Goal, _Row]] = []
        for row in self.rows(located):
            gid = self.value(row, "Goal ID")
            name = self.value(row, "Goal", "goal name")
            objective = self.value(row, "Objective")
            kpi = self.value(row, "KPI")
            baseline = self.value(row, "Baseline")
            target = self.value(row, "Target")
            target_date = self.value(row, "Target date")
            direction = self.value(row, "Direction")
            owner = self.value(row, "Owner")
            if gid is None:
                continue
            if kpi is not None:
                kpi = _canonical_metric(kpi)
            goal = Goal(
                id=gid,
                name=name or "",
                objective=objective,
                kpi=kpi,
                baseline=baseline,
                target=target,
                target_date=target_date,
                direction=direction or "Increase",
                owner=owner,
                source=row.first,
            )
            parsed.append((goal, row))
        dups = self._unique([(g.id, r) for g, r in parsed], "Goal")
        goals = [g for g, r in parsed if r.ok and g.id.casefold() not in dups]
        for g in goals:
            if not g.measurable:
                missing = [
                    n
                    for n, v in (("KPI", g.kpi), ("Target", g.target), ("Target date", g.target_date))
                    if v is None
                ]
                self.warn(g.source, f"goal {g.id} is not measurable: it has no {', '.join(missing)}")
        return goals, {g.id.casefold(): g.id for g in goals}, dups

    def initiatives(
        self, located: _Located | None, goal_ids: dict[str, str], goal_dups: set[str]
    ) -> tuple[list[Initiative], dict[str, Initiative], set[str]]:
        if located is None:
            return [], {}, set()
        parsed: list[tuple[Initiative, _Row]] = []
        for row in self.rows(located):
            iid = self.value(row, "Initiative ID")
            name = self.value(row, "Initiative", "initiative name")
            gid = self.value(row, "Goal ID")
            channel = self.value(row, "Channel")
            start = self.value(row, "Start", "start date")
            end = self.value(row, "End", "end date")
            owner = self.value(row, "Owner")
            if gid is not None:
                gid = self.goal_ref(row, "Goal ID", gid, goal_ids, goal_dups)
            if iid is None:
                continue
            if start is not None and end is not None and start > end:
                self.warn(row.ref("End"), f"initiative {iid} ends ({end}) before it starts ({start})")
            parsed.append(
                (Initiative(iid, name or "", gid or "", channel, start, end, owner, row.first), row)
            )
        dups = self._unique([(i.id, r) for i, r in parsed], "Initiative")
        inits = [i for i, r in parsed if r.ok and i.id.casefold() not in dups]
        return inits, {i.id.casefold(): i for i in inits}, dups

    def goal_ref(
        self, row: _Row, column: str, gid: str, goal_ids: dict[str, str], dups: set[str]
    ) -> str | None:
        key = gid.casefold()
        if key in dups:
            self.err(row.ref(column), f"goal {gid} is defined more than once on Goals; this row is left out")
        elif key in goal_ids:
            return goal_ids[key]
        else:
            self.err(row.ref(column), f"goal {gid} does not exist on Goals")
        row.ok = False
        return None

    def init_ref(self, row: _Row, iid: str) -> Initiative | None:
        key = iid.casefold()
        if key in self.init_dups:
            self.err(row.ref("Initiative ID"), f"initiative {iid} is defined more than once on Initiatives")
        elif key in self.init_by_id:
            return self.init_by_id[key]
        else:
            self.err(row.ref("Initiative ID"), f"initiative {iid} does not exist on Initiatives")
        row.ok = False
        return None

    # ---- Costs, Returns, Touchpoints, Metrics ------------------------------------

    def costs(self, located: _Located | None) -> list[Cost]:
        out = []
        if located is None:
            return out
        for row in self.rows(located):
            day = self.value(row, "Date")
            iid = self.value(row, "Initiative ID")
            gid = self.value(row, "Goal ID")
            category = self.value(row, "Category")
            description = self.value(row, "Description")
            amount = self.value(row, "Amount")
            init = self.init_ref(row, iid) if iid is not None else None
            goal = (
                self.goal_ref(row, "Goal ID", gid, self.goal_ids, self.goal_dups) if gid is not None else None
            )
            if init is not None and goal is not None and goal != init.goal_id:
                self.err(
                    row.ref("Goal ID"),
                    f"goal {goal} contradicts initiative {init.id}, which belongs to goal {init.goal_id}",
                )
                row.ok = False
            if not row.ok:
                continue
            if amount < 0:
                self.warn(row.ref("Amount"), f"negative amount {amount} is counted as a credit")
            out.append(
                Cost(
                    date=day,
                    amount=amount,
                    initiative_id=init.id if init else None,
                    goal_id=init.goal_id if init else goal,
                    category=category,
                    description=description,
                    source=row.first,
                )
            )
        return out

    def touchpoints(self, located: _Located | None) -> list[Touchpoint]:
        if located is None:
            return []
        # the hot path: whole columns converted at once, the records of the rows without a
        # problem made in bulk; the careful per-row checks only for the rows with one
        located.transpose()
        fast, slow = zip(*(self.fast(located, c) for c in _TOUCH_COLUMNS), strict=True)
        refs, iids, stamps = fast
        kept = self.kept(located, stamps)
        careful = _slow_rows(compress(fast, slow))
        ids = self.initiative_ids(iids, kept, careful)
        clean = _without(kept, careful)
        out = list(
            map(
                Touchpoint,
                compress(refs, clean),
                map(ids.__getitem__, compress(iids, clean)),
                compress(stamps, clean),
                self.sources(located, clean),
            )
        )
        known: dict[str, Initiative] = {}
        return _in_row_order(out, [self.touchpoint(located, i, fast, known) for i in _rows_in(careful, kept)])

    def touchpoint(self, located: _Located, i: int, fast: list[list], known: dict) -> Touchpoint | None:
        """One row's touchpoint the careful way, reporting its problems; None when it has an error."""
        row = _Row(located, i, located.table.rows[i])
        ref, iid, stamp = (
            v if v is not _SLOW else self.value(row, c)
            for v, c in zip([f[i] for f in fast], _TOUCH_COLUMNS, strict=True)
        )
        init = self.known_init(row, iid, known) if iid is not None else None
        if not row.ok:
            return None
        return Touchpoint(ref, init.id, stamp, row.first)

    def returns(self, located: _Located | None, touched: set[str]) -> list[Return]:
        if located is None:
            return []
        located.transpose()
        fast, slow = zip(*(self.fast(located, c) for c in _RETURN_COLUMNS), strict=True)
        dates, refs, rtypes, iids, amounts, margins, attributions, confidences, notes = fast
        kept = self.kept(located, dates)
        careful = _slow_rows(compress(fast, slow))
        ids = self.initiative_ids(iids, kept, careful)
        # a return without an Initiative ID is credited through its transaction's touchpoints
        direct = list(map(is_, iids, repeat(None)))
        careful.update(
            compress(compress(count(), direct), map(not_, map(touched.__contains__, compress(refs, direct))))
        )
        del direct
        clean = _without(kept, careful)
        # a negative amount is reported (and counted): the careful path says so
        zero = Decimal(0)
        negative = list(compress(compress(count(), clean), map(lt, compress(amounts, clean), repeat(zero))))
        for i in negative:
            clean[i] = False
        careful.update(negative)
        out = list(
            map(
                Return,
                compress(dates, clean),
                compress(refs, clean),
                compress(rtypes, clean),
                compress(amounts, clean),
                map(ids.__getitem__, compress(iids, clean)),
                compress(margins, clean),
                map(_ONE.get, compress(attributions, clean), compress(attributions, clean)),
                map(_HIGH.get, compress(confidences, clean), compress(confidences, clean)),
                compress(notes, clean),
                self.sources(located, clean),
            )
        )
        known: dict[str, Initiative] = {}
        slow = [self.return_row(located, i, fast, touched, known) for i in _rows_in(careful, kept)]
        return _in_row_order(out, slow)

    def return_row(
        self, located: _Located, i: int, fast: list[list], touched: set[str], known: dict
    ) -> Return | None:
        """One row's return the careful way, reporting its problems; None when it is left out."""
        row = _Row(located, i, located.table.rows[i])
        if fast[1][i] is _SLOW:
            raw_ref = row.get("Transaction ref")
            if cx.is_blank(raw_ref) and cx.excel_error(raw_ref) is None:
                self.warn(
                    row.ref("Transaction ref"),
                    "no Transaction ref: a return not linked to a transaction is not ROI; row left out",
                )
                return None
        # in column order, so a row's problems are reported in the order the careful path finds them
        values = [f[i] for f in fast]
        for k, v in enumerate(values):
            if v is _SLOW:
                values[k] = self.value(row, _RETURN_COLUMNS[k])
        day, tref, rtype, iid, amount, margin, attribution, confidence, note = values
        init = self.known_init(row, iid, known) if iid is not None else None
        if iid is None and tref is not None and tref not in touched:
            self.err(
                row.ref("Initiative ID"),
                f"no Initiative ID and no touchpoints for transaction {tref}: it can't be credited",
            )
            row.ok = False
        if not row.ok:
            return None
        if amount < 0:
            self.warn(row.ref("Amount"), f"negative return {amount} is counted as a reversal")
        return Return(
            date=day,
            transaction_ref=tref,
            return_type=rtype,
            amount=amount,
            initiative_id=init.id if init else None,
            gross_margin=margin,
            attribution=Decimal(1) if attribution is None else attribution,
            confidence=confidence or "High",
            note=note,
            source=row.first,
        )

    def known_init(self, row: _Row, iid: str, known: dict[str, Initiative]) -> Initiative | None:
        """``init_ref`` remembering the IDs that resolved."""
        init = known.get(iid)
        if init is None:
            init = self.init_ref(row, iid)
            if init is not None:
                known[iid] = init
        return init

    def initiative_ids(self, iids: list, kept: list[bool], careful: set[int]) -> dict:
        """Each Initiative ID of the kept rows that resolves -> its initiative's ID (None -> None);
        the rows with one that doesn't are added to ``careful``."""
        distinct = set(compress(iids, kept))
        distinct.discard(_SLOW)
        ids: dict = {None: None}
        bad = set()
        for iid in distinct:
            if iid is None:
                continue
            key = iid.casefold()
            if key in self.init_by_id and key not in self.init_dups:
                ids[iid] = self.init_by_id[key].id
            else:
                bad.add(iid)
        if bad:
            careful.update(compress(count(), map(bad.__contains__, iids)))
        return ids

    def sources(self, located: _Located, clean: list[bool]) -> Iterator[CellRef]:
        """The first cell of each clean row."""
        table = located.table
        return map(CellRef, repeat(table.name), compress(count(table.first_row), clean), repeat(1))

    def metrics(self, located: _Located | None) -> list[Metric]:
        out = []
        if located is None:
            return out
        unknown: dict[str, tuple[CellRef, str]] = {}
        for row in self.rows(located):
            day = self.value(row, "Date")
            gid = self.value(row, "Goal ID")
            iid = self.value(row, "Initiative ID")
            name = self.value(row, "Metric")
            value = self.value(row, "Value")
            goal = (
                self.goal_ref(row, "Goal ID", gid, self.goal_ids, self.goal_dups) if gid is not None else None
            )
            init = self.init_ref(row, iid) if iid is not None else None
            if not row.ok:
                continue
            metric = _canonical_metric(name)
            if metric not in STANDARD_METRICS:
                key, here = normalize_name(metric), row.ref("Metric")
                if key not in unknown or here < unknown[key][0]:
                    unknown[key] = (here, metric)
            out.append(
                Metric(
                    date=day,
                    metric=metric,
                    value=value,
                    goal_id=goal if goal is not None else (init.goal_id if init else None),
                    initiative_id=init.id if init else None,
                    source=row.first,
                )
            )
        for ref, name in sorted(unknown.values()):
            self.note(ref, f"metric {name!r} is not a standard metric; it is summed per period as a flow")
        return out

    # ---- programme-wide rules ---------------------------------------------------------

    def resolve_as_of(self, program: Program, *groups) -> Program:
        if program.as_of_given:
            return program
        from dataclasses import replace

        latest = max(map(_DATE, chain(*groups)), default=None)
        as_of = program.period_end
        if latest is not None and program.period_start <= min(latest, program.period_end):
            as_of = min(latest, program.period_end)
        return replace(program, as_of=as_of)

    def in_period(self, program: Program, rows: list, what: str) -> list:
        """The rows dated from Period start to As of; the others are reported, in their order."""
        dates = list(map(_DATE, rows))
        inside = list(
            map(and_, map(le, repeat(program.period_start), dates), map(le, dates, repeat(program.as_of)))
        )
        if all(inside):
            return rows
        for r in compress(rows, map(not_, inside)):
            if r.date < program.period_start:
                self.warn(
                    r.source, f"{what} dated {r.date} is before Period start {program.period_start}; left out"
                )
            else:
                self.warn(r.source, f"{what} dated {r.date} is after As of {program.as_of}; left out")
        return list(compress(rows, inside))

    def xlwings_conf(self) -> None:
        """A workbook passed around must not choose the Python that runs when its button is clicked."""
        for table in self.tables.matching(XLWINGS_CONF):
            for i, row in enumerate(table.rows):
                if len(row) < 2 or cx.is_blank(row[0]) or cx.is_blank(row[1]):
                    continue
                key = cx.text(row[0])
                norm = normalize_name(key).replace(" ", "_")
                if norm.startswith(("interpreter", "conda")) or norm == "pythonpath":
                    ref = CellRef(table.name, table.first_row + i, table.first_col + 1)
                    self.warn(
                        ref,
                        f"xlwings.conf sets {key} to {cx.text(row[1])!r}; the template does not set it, "
                        "so the workbook never runs someone else's Python: delete that row",
                    )


_ERROR_TEXT = frozenset(ERROR_CODES)

# --- column-wise fast path ---------------------------------------------------------
#
# The big sheets (Returns, Touchpoints) hold up to a million rows. Each column is
# converted in one pass with a fast path for the cells Excel and calamine give in
# the common case (a float amount, a date cell, a choice spelled canonically);
# anything else comes back as _SLOW and goes through ``_Loader.value``, the careful
# checker that reports problems. The fast path never reports: it either returns
# exactly what the careful checker would, or _SLOW.

_SLOW = object()


def _values_at(located: _Located, indices: range | list[int], j: int) -> list:
    """The raw values at index ``j`` of the rows at ``indices`` (None beyond a short row)."""
    rows = located.table.rows
    if type(indices) is range:
        picked = (
            rows
            if indices.start == 0 and indices.stop == len(rows)
            else islice(rows, indices.start, indices.stop)
        )
    else:
        picked = map(rows.__getitem__, indices)
    if located.width > j:
        return list(map(itemgetter(j), picked))
    return [r[j] if j < len(r) else None for r in picked]


def _row_filled(raw, cols: list[int]) -> bool:
    """Is any of the row's cells at ``cols`` more than blank?"""
    n = len(raw)
    for j in cols:
        if j < n:
            v = raw[j]
            if not (v is None or v == "" or (type(v) is str and not v.strip())):  # _blank, inlined
                return True
    return False


def _filled(values: list) -> list[bool]:
    """For each value: is it more than blank (None, "", only spaces)?"""
    types = set(map(type, values))
    if types <= _NEVER_BLANK:
        return [True] * len(values)
    if types == _STR:
        return list(map(bool, map(str.strip, values)))
    return [
        not (v is None or v == "" or (type(v) is str and not v.strip())) for v in values
    ]  # _blank, inlined


# cell types that are never blank and compare equal to no text (ExcelError is a cell too)
_NEVER_BLANK = frozenset({int, float, bool, date, datetime, ExcelError})
_STR = frozenset({str})


def _slow_rows(columns: Iterable[list]) -> set[int]:
    """The rows where some column's fast path left a value to the careful one, by an identity
    test per value in C: ``_SLOW in row`` would have every Decimal compare itself with the
    marker, an ABC check each (a microsecond per row)."""
    out: set[int] = set()
    for values in columns:
        out.update(compress(count(), map(is_, values, repeat(_SLOW))))
    return out


def _settle(values: list, located: _Located, j: int, required: bool, convert) -> bool:
    """Give the careful converter the cells the fast path left (text money such as "1,234.50",
    "25%", ISO text dates): where it takes the cell without a problem to report, its value
    replaces ``_SLOW``, as ``_Loader.value`` would return it. Whether some cell is still left
    (it has something to report: the careful path will)."""
    rows = located.table.rows
    start = located.header_index + 1
    texts: dict[str, object] = {}  # a text converts the same every time
    left = False
    for i in compress(count(start), map(is_, islice(values, start, None), repeat(_SLOW))):
        raw = rows[i]
        raw = raw[j] if j < len(raw) else None
        if type(raw) is str and raw in texts:
            v = texts[raw]
        else:
            v = _settled(raw, required, convert)
            if type(raw) is str and len(texts) < 100_000:
                texts[raw] = v
        if v is _SLOW:
            left = True
        else:
            values[i] = v
    return left


def _settled(raw: object, required: bool, convert) -> object:
    """``_Loader.value`` of one cell when it has nothing to report; else ``_SLOW``."""
    if raw is None or raw == "" or (type(raw) is str and not raw.strip()):  # _blank, inlined
        return _SLOW if required else None
    if (type(raw) is str and raw in _ERROR_TEXT) or type(raw) is ExcelError:
        return _SLOW
    try:
        return convert(raw)
    except cx.BadValue:
        return _SLOW


def _without(kept: list[bool], rows: set[int]) -> list[bool]:
    """``kept`` with the given rows switched off."""
    out = list(kept)
    for i in rows:
        out[i] = False
    return out


def _rows_in(rows: set[int], kept: list[bool]) -> list[int]:
    """The kept ones of ``rows``, in row order."""
    return sorted(i for i in rows if kept[i])


def _in_row_order(clean: list, careful: list) -> list:
    """The records made in bulk and those made row by row (None: left out), in row order."""
    careful = [r for r in careful if r is not None]
    if not careful:
        return clean
    out = clean + careful
    out.sort(key=_SOURCE_ROW)
    return out


_SOURCE_ROW = attrgetter("source.row")
_ONE = {None: Decimal(1)}  # a blank Attribution credits the whole return
_HIGH = {None: "High"}  # a blank Confidence is High
_RETURN_COLUMNS = ("Date", "Transaction ref", "Return type", "Initiative ID", "Amount", "Gross margin",
                   "Attribution", "Confidence", "Note")  # fmt: skip
_TOUCH_COLUMNS = ("Transaction ref", "Initiative ID", "Timestamp")


def _fast_blank(v: object, required: bool) -> object:
    if (v is None or v == "") and not required:
        return None
    return _SLOW


# Each converter below gives (the converted column, whether some cell is _SLOW). A pass over
# a million cells costs about as much in memory traffic as in instructions, so a column is
# walked as few times as possible, in C where it can be. A column with few distinct values is
# converted once per value and looked up cell by cell: the converted column then holds one
# object per value, which every later pass (and the content sort) finds in the cache.


def _fast_text(values: Sequence, required: bool) -> tuple[list, bool]:
    slow = []

    def odd(v: str, s: str) -> object:
        if not s:
            if not required:
                return None
        elif v not in _ERROR_TEXT:
            return s
        slow.append(v)
        return _SLOW

    try:
        if len(set(islice(values, 1000))) * 4 < 3 * min(len(values), 1000):
            distinct = set(values)
            if len(distinct) * 2 <= len(values):
                return _translated(values, distinct, _one_text, required)
        # mostly distinct texts (transaction refs): one pass, each stripped in C; only a blank
        # or a text starting with "#" (as every error text does) takes a call
        out = [
            s if s and s[0] != "#" else odd(v, s) for v, s in zip(values, map(str.strip, values), strict=True)
        ]
    except TypeError:  # a cell that is not text (a number in a text column) or can't be hashed
        return _cell_by_cell(values, _one_text, required)
    return out, bool(slow)


def _one_text(v: object, required: bool) -> object:
    if type(v) is str and v:
        s = v.strip()
        # every error text starts with "#"; only those need the set lookup
        return s if s and (s[0] != "#" or v not in _ERROR_TEXT) else _SLOW
    return _fast_blank(v, required)


def _fast_choice(values: list, required: bool, choices: tuple[str, ...]) -> tuple[list, bool]:
    # the canonical string itself, so a million rows share one object per choice; one dict
    # lookup per cell in C (no text equals a number, a date or None)
    table: dict = {c: c for c in choices}
    table[""] = table[None] = _SLOW if required else None
    try:
        out = list(map(table.get, values, repeat(_SLOW)))
    except TypeError:  # a cell that can't be hashed

        def choose(v: object, required: bool) -> object:
            return table.get(v, _SLOW) if type(v) is str else _fast_blank(v, required)

        return _cell_by_cell(values, choose, required)
    return out, _SLOW in out  # canonical strings and None: the identity test decides


def _fast_date(values: list, required: bool) -> tuple[list, bool]:
    return _distinct_first(values, _one_date, required, _aware_free)


def _one_date(v: object, required: bool) -> object:
    t = type(v)
    if t is date:
        return v
    if t is datetime:
        return (v if v.tzinfo is None else v.replace(tzinfo=None)).date()  # type: ignore[attr-defined]
    return _fast_blank(v, required)


def _fast_datetime(values: list, required: bool) -> tuple[list, bool]:
    return _distinct_first(values, _one_datetime, required, _aware_free)


def _one_datetime(v: object, required: bool) -> object:
    t = type(v)
    if t is datetime:
        return v if v.tzinfo is None else v.replace(tzinfo=None)  # type: ignore[attr-defined]
    if t is date:
        return datetime(v.year, v.month, v.day)  # type: ignore[attr-defined]
    return _fast_blank(v, required)


def _aware_free(distinct: set) -> bool:
    """Two aware datetimes can be equal (the same instant) and still read differently without
    their zones: a column with one is converted cell by cell."""
    return not any(type(v) is datetime and v.tzinfo is not None for v in distinct)


def _fast_decimal(values: list, required: bool, low=None, high=None) -> tuple[list, bool]:
    """Money and percentages given as numbers: the same Decimal as ``checks._finite``."""

    def convert(v: object, required: bool) -> object:
        return _one_decimal(v, required, low, high)

    # True == 1 (and False == 0) would share 1's conversion, so the types are looked at cell
    # by cell, not in the distinct values: a column with a boolean goes cell by cell
    if not set(map(type, values)) <= _PLAIN:
        return _cell_by_cell(values, convert, required)
    return _distinct_first(values, convert, required, lambda distinct: True)


def _one_decimal(v: object, required: bool, low, high) -> object:
    t = type(v)
    if t is int:
        d = Decimal(v) if -(2**53) < v < 2**53 else _SLOW  # type: ignore[operator]
    elif t is float:
        if v.is_integer():  # type: ignore[attr-defined]
            d = Decimal(int(v))  # type: ignore[call-overload]
        elif v == v and v not in (_INF, -_INF):
            d = Decimal(repr(v))
        else:
            d = _SLOW
    else:
        return _fast_blank(v, required)
    if d is not _SLOW and ((low is not None and d < low) or (high is not None and d > high)):
        return _SLOW
    return d


def _distinct_first(values: list, convert, required: bool, safe) -> tuple[list, bool]:
    """``convert`` once per distinct value when there are at most half as many as cells and
    ``safe(distinct)`` says equal values convert alike; else cell by cell."""
    try:
        distinct = set(values)
    except TypeError:  # a cell that can't be hashed
        return _cell_by_cell(values, convert, required)
    if len(distinct) * 2 <= len(values) and safe(distinct):
        return _translated(values, distinct, convert, required)
    del distinct
    return _cell_by_cell(values, convert, required)


def _translated(values: list, distinct: set, convert, required: bool) -> tuple[list, bool]:
    table = {v: convert(v, required) for v in distinct}
    return list(map(table.__getitem__, values)), any(map(is_, table.values(), repeat(_SLOW)))


def _cell_by_cell(values: list, convert, required: bool) -> tuple[list, bool]:
    out = [convert(v, required) for v in values]
    return out, any(map(is_, out, repeat(_SLOW)))


_INF = float("inf")
_PLAIN = frozenset({int, float, str, type(None), date, datetime, ExcelError})


def _fast_column(
    kind: str, values: list, required: bool, name: str, choices: tuple[str, ...]
) -> tuple[list, bool] | None:
    """The column converted by the fast path (``_SLOW`` where the careful checker must look), and
    whether any cell of it is ``_SLOW``; None for kinds without a fast path."""
    if kind == TEXT:
        return _fast_text(values, required)
    if kind == CHOICE:
        return _fast_choice(values, required, choices)
    if kind == DATE:
        return _fast_date(values, required)
    if kind == DATETIME:
        return _fast_datetime(values, required)
    if kind == MONEY:
        return _fast_decimal(values, required)
    if kind == PERCENT:
        low, high = PERCENT_RANGES.get(name, (None, None))
        return _fast_decimal(values, required, low, high)
    return None


def _error_cell_message(what: str, cell: ExcelError) -> str:
    if cell.uncalculated:
        return f"{what} is a formula saved without its result; open the workbook in Excel and save it"
    return f"{what} shows the error {cell.code}; fix the formula"


def _blank(v: object) -> bool:
    # the hot path: calamine gives "" for empty cells, hand-built tables None
    return v is None or v == "" or (type(v) is str and not v.strip())


_METRIC_NAMES = {normalize_name(m): m for m in STANDARD_METRICS}


def _canonical_metric(name: str) -> str:
    return _METRIC_NAMES.get(normalize_name(name), name)


def _s(v: object) -> str:
    return "" if v is None else str(v)


def _cost_key(c: Cost) -> tuple:
    return (c.date, _s(c.goal_id), _s(c.initiative_id), _s(c.category), c.amount, _s(c.description), c.source)


def _return_key(r: Return) -> tuple:
    return (r.date, r.transaction_ref, r.return_type, _s(r.initiative_id), r.amount, _s(r.gross_margin),
            r.attribution, r.confidence, _s(r.note), r.source)  # fmt: skip


def _sorted_returns(returns: list[Return]) -> list[Return]:
    """``sorted(returns, key=_return_key)``, in less time: by date (a few hundred distinct values,
    one object each), then by transaction ref within each day, then by the whole key where both
    tie. Comparing refs within a day of returns compares fewer, and keeps them in the cache."""
    out = sorted(returns, key=_DATE)
    days = list(map(_DATE, out))
    cuts = [0, *compress(count(1), map(ne, days, islice(days, 1, None))), len(out)]
    for start, end in pairwise(cuts):
        if end - start > 1:
            out[start:end] = sorted(out[start:end], key=_REF)
    # whether any two share their day and ref is seen in sheet order, where the records and
    # their refs lie in memory one after the other; sorted, each would be a cache miss
    refs = list(map(_REF, returns))
    if len(set(refs)) == len(refs) or len(set(zip(map(_DATE, returns), refs, strict=True))) == len(refs):
        return out
    refs = list(map(_REF, out))
    ties = compress(
        count(), map(and_, map(eq, days, islice(days, 1, None)), map(eq, refs, islice(refs, 1, None)))
    )
    del days, refs
    _sort_runs(out, ties, _return_key)
    return out


def _sort_runs(out: list, ties: Iterable[int], key) -> None:
    """Sort by ``key`` each run of ``out`` whose neighbours tie (``i`` in ``ties``: ``out[i]`` ties
    with ``out[i + 1]``), in place."""
    start = end = -1
    for i in ties:
        if i != end:
            if end > start:
                out[start : end + 1] = sorted(out[start : end + 1], key=key)
            start = i
        end = i + 1
    if end > start:
        out[start : end + 1] = sorted(out[start : end + 1], key=key)


_DATE = attrgetter("date")
_REF = attrgetter("transaction_ref")
# the whole of _touch_key, made in C
_touch_key = attrgetter("transaction_ref", "timestamp", "initiative_id", "source")


def _metric_key(m: Metric) -> tuple:
    return (m.date, m.metric, _s(m.goal_id), _s(m.initiative_id), m.value, m.source)
