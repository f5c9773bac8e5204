"""The Excel button: adapts xlwings to the library, nothing else.

``main()`` is what the "Calculate ROI" button's ``RunPython`` calls (desktop Excel);
``calculate_roi(book)`` is the same calculation as an xlwings Lite script (sheets only, no
PDF: Lite runs in the browser). Both read the input sheets with one bulk read each, run
``pipeline.check_tables -> calculate``, lay the four output sheets out with
``layout.layout`` and write that Layout through xlwings. See docs/excel.md.

The xlwings API subset used here (tests/fake_xlwings.py implements exactly this):

- ``xw.Book.caller()``
- Book: ``.fullname``, ``.name``, ``.sheets``, ``.app``
- Sheets: iteration, ``.add(name, after=sheet)``
- Sheet: ``.name``, ``.visible``, ``.used_range``, ``.range(address)``, ``.clear()``,
  ``.names`` (iteration, ``.add(name, refers_to)``), ``.charts`` (iteration, ``.add(left, top,
  width, height)``), ``.freeze_panes.freeze_at(address)``, ``.activate()``
- Range: ``.row``, ``.column``, ``.left``, ``.top``, ``.options(ndim=2, err_to_str=True).value``,
  ``.value = rows`` (a 2-D list; Excel parses each string as if typed: ``=`` starts a formula,
  a leading apostrophe keeps text as text), ``.number_format``, ``.column_width``,
  ``.row_height``, ``.font.bold/.italic/.size/.color``, ``.color``, ``.wrap_text``, ``.merge()``
- Chart: ``.chart_type``, ``.set_source_data(range)``, ``.delete()``
- Name: ``.name``
- App: ``.status_bar``, ``.screen_updating``, ``.alert(prompt, title=...)``

Borders, alignment, hidden names, chart titles and axis formats need ``.api`` (COM or
AppleScript) and are left to the file writer; freeze panes are skipped where the engine has
none (desktop xlwings 0.37 implements them only for xlwings Lite/Server).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlparse

import xlwings as xw

from .model import Issue, Severity, column_letter

MARK_NAME = "_scrm_xl_owned"  # the file writer's ownership mark (write.MARK_NAME), as a sheet-local name
MARK_VALUE = '="scrm_xl output: replaced on every run"'
TITLE = "scrm_xl"
MAX_ALERT_LINES = 12  # Excel's message box shows about 1,000 characters
MAX_LINE = 160

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ButtonOutcome:
    """What one click did: the message the analyst saw, every issue, the PDF (if any) and the
    log file (when something unexpected happened)."""

    message: str
    issues: tuple[Issue, ...]
    written: bool
    pdf: Path | None = None
    log: Path | None = None


class _Refused(Exception):
    """A condition the analyst can fix; the message is shown as it is."""


def main() -> ButtonOutcome:
    """RunPython's entry point: calculate the calling workbook and save the PDF beside it."""
    return run_book(xw.Book.caller(), pdf=True)


@xw.script
def calculate_roi(book: xw.Book) -> ButtonOutcome:
    """xlwings Lite: the same calculation; sheets only (no PDF in the browser)."""
    return run_book(book, pdf=False)


def run_book(book, *, pdf: bool = True) -> ButtonOutcome:
    """Read, check, calculate and write one open workbook; one alert at the end, never a traceback."""
    app = book.app
    status = _Status(app)
    updating = _get(app, "screen_updating", None)
    outcome: ButtonOutcome
    try:
        _set(app, "screen_updating", False)
        outcome = _run(book, status, pdf)
    except _Refused as exc:
        outcome = ButtonOutcome(str(exc), (), False)
    except Exception as exc:
        where = _log_failure(book, exc)
        outcome = ButtonOutcome(
            f"scrm_xl could not finish: {_one_line(exc)}\n\nThe details were saved to {where}; "
            "send that file to whoever set up the button.",
            (),
            False,
            log=where,
        )
    finally:
        if updating is not None:
            _set(app, "screen_updating", updating)
        status.done()
    try:
        app.alert(outcome.message, title=TITLE)
    except Exception:  # an engine without alerts (or Excel busy): the sheets and the Checks sheet remain
        log.warning("could not show the alert: %s", outcome.message)
    return outcome


def _run(book, status: _Status, pdf: bool) -> ButtonOutcome:
    from .bulk import released

    with released():
        return _calculate(book, status, pdf)


def _calculate(book, status: _Status, pdf: bool) -> ButtonOutcome:
    from .layout import layout
    from .pipeline import calculate, check_tables

    status("reading the input sheets")
    tables = read_tables(book)
    status("checking")
    checked = check_tables(tables)
    status("calculating")
    results = calculate(checked)
    if results is None:
        return ButtonOutcome(alert_text(checked.issues, written=False), checked.issues, False)
    lay, layout_issues = layout(results)
    issues = tuple(results.issues) + tuple(layout_issues)
    owned = _claim_output_sheets(book, [s.name for s in lay.sheets])
    for sheet_layout in lay.sheets:
        status(f"writing {sheet_layout.name}")
        write_sheet(owned[sheet_layout.name], sheet_layout, lay.styles)
    _activate(owned[lay.sheets[0].name])
    pdf_path = None
    pdf_note = ""
    if pdf:
        status("rendering the PDF briefing")
        target, moved = pdf_target(book)
        try:
            from .render import render_pdf

            pdf_path = render_pdf(results, target)
            pdf_note = f"PDF briefing saved to {pdf_path}" + (f" ({moved})" if moved else "") + "."
        except Exception as exc:
            where = _log_failure(book, exc)
            pdf_note = f"The PDF briefing could not be made ({_one_line(exc)}); details in {where}."
    return ButtonOutcome(alert_text(issues, written=True, note=pdf_note), issues, True, pdf_path)


# --- reading ----------------------------------------------------------------------


def read_tables(book):
    """The workbook's input sheets (and xlwings.conf) as ``read.Tables``, one bulk read per sheet."""
    from .read import Table, Tables, input_sheet

    tables, names = [], []
    for sheet in book.sheets:
        names.append(sheet.name)
        if not input_sheet(sheet.name):
            continue
        used = sheet.used_range
        # ndim=2 keeps a one-cell or one-row sheet a table; err_to_str hands error cells over as
        # their text (#DIV/0!), which the loader reports at the cell instead of reading a blank
        rows = used.options(ndim=2, err_to_str=True).value or [[None]]
        hidden = not _get(sheet, "visible", True)
        tables.append(Table(sheet.name, rows, used.row, used.column, hidden=hidden))
    # xlwings hands dates over already converted, so the workbook's date system does not matter here
    return Tables(tables, path=_get(book, "fullname", None), sheet_names=names)


# --- writing ------------------------------------------------------------------------


def _claim_output_sheets(book, names: list[str]) -> dict:
    """Our output sheets, created where missing (all before any formula refers to them, so Excel
    never asks for a file to "update values" from). A user's own sheet with one of our names
    stops the run before anything is written."""
    by_lower = {s.name.lower(): s for s in book.sheets}
    found = {}
    for name in names:
        sheet = by_lower.get(name.lower())
        if sheet is not None and not _marked(sheet):
            raise _Refused(
                f"The workbook has its own sheet named '{sheet.name}'. scrm_xl writes its results to a "
                "sheet of that name and never overwrites yours: rename your sheet and click again."
            )
        found[name] = sheet
    for name in names:
        if found[name] is None:
            last = list(book.sheets)[-1]
            sheet = book.sheets.add(name, after=last)
            sheet.names.add(MARK_NAME, MARK_VALUE)
            found[name] = sheet
    return found


def _marked(sheet) -> bool:
    # Excel reports a sheet-local name as "Sheet!name"
    return any(n.name.rsplit("!", 1)[-1] == MARK_NAME for n in sheet.names)


def excel_value(cell) -> object:
    """What one Layout cell becomes in a range write."""
    if cell.formula is not None:
        return "=" + cell.formula
    v = cell.value
    if v is None or v == "":
        return None
    if isinstance(v, str):
        # Excel parses written text as if typed: "2026-01" would become a date and "=x" a
        # formula; the apostrophe keeps it text (and is not part of the value)
        return "'" + v
    if isinstance(v, bool):
        return v
    if isinstance(v, (Decimal, float, int)):
        return float(v)
    if isinstance(v, datetime):
        return v
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    return "'" + str(v)


def write_sheet(sheet, sl, styles) -> None:
    """Replace one output sheet's content with ``sl`` (a layout.SheetLayout)."""
    for chart in list(sheet.charts):
        chart.delete()
    sheet.clear()
    if not sl.cells:
        return
    last_row = max(c.row for c in sl.cells)
    last_col = max(c.col for c in sl.cells)
    grid: list[list[object]] = [[None] * last_col for _ in range(last_row)]
    for c in sl.cells:
        grid[c.row - 1][c.col - 1] = excel_value(c)
    sheet.range(f"A1:{column_letter(last_col)}{last_row}").value = grid
    for address, style in _style_runs(sl.cells):
        _apply_style(sheet.range(address), styles.get(style))
    for col, width in sl.widths:
        sheet.range(f"{column_letter(col)}1").column_width = width
    for row, height in sl.heights:
        sheet.range(f"A{row}").row_height = height
    for merge in sl.merges:
        sheet.range(merge).merge()
    if sl.freeze:
        _freeze(sheet, *sl.freeze)
    for chart in sl.charts:
        _add_chart(sheet, sl, chart)


def _style_runs(cells) -> Iterable[tuple[str, str]]:
    """(address, style) for runs of one style down a column: one call per run, not per cell."""
    by_col: dict[int, list] = {}
    for c in cells:
        by_col.setdefault(c.col, []).append(c)
    for col, column in sorted(by_col.items()):
        column.sort(key=lambda c: c.row)
        letter = column_letter(col)
        start = prev = column[0]
        for c in column[1:] + [None]:
            if c is None or c.style != start.style or c.row != prev.row + 1:
                yield f"{letter}{start.row}:{letter}{prev.row}", start.style
                start = c
            prev = c if c is not None else prev


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return int(hex_color[0:2], 16), int(hex_color[2:4], 16), int(hex_color[4:6], 16)


def _apply_style(rng, st) -> None:
    if st is None:
        return
    if st.num_format != "General":
        rng.number_format = st.num_format
    if st.bold:
        rng.font.bold = True
    if st.italic:
        rng.font.italic = True
    if st.size != 11:
        rng.font.size = st.size
    if st.color:
        rng.font.color = _rgb(st.color)
    if st.fill:
        rng.color = _rgb(st.fill)
    if st.wrap:
        rng.wrap_text = True


def _freeze(sheet, row: int, col: int) -> None:
    """Freeze the rows above ``row`` and the columns left of ``col``."""
    if row > 1 and col > 1:
        frozen = f"A1:{column_letter(col - 1)}{row - 1}"
    elif row > 1:
        frozen = f"1:{row - 1}"
    elif col > 1:
        frozen = f"A:{column_letter(col - 1)}"
    else:
        return
    # desktop xlwings 0.37 freezes only through .api: there the panes stay as they are
    with contextlib.suppress(NotImplementedError):
        sheet.freeze_panes.freeze_at(frozen)


_ABS = re.compile(r"^(?:'?[^!]*'?!)?\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)$")

CHART_TYPES = {"line": "line_markers", "column": "column_clustered"}


def _add_chart(sheet, sl, chart) -> None:
    """The chart over the same cells: categories and series columns, with the header row above
    them when there is one (Excel takes the series names from it)."""
    ranges = [_ABS.match(chart.categories)] + [_ABS.match(s.values) for s in chart.series]
    if any(m is None for m in ranges):
        return
    first, last = int(ranges[0].group(2)), int(ranges[0].group(4))
    cells = {(c.row, c.col) for c in sl.cells}
    top = first - 1 if first > 1 and all(_col(m.group(1)) and (first - 1, _col(m.group(1))) in cells
                                          for m in ranges) else first  # fmt: skip
    source = ",".join(f"{m.group(1)}{top}:{m.group(3)}{last}" for m in ranges)
    anchor = sheet.range(f"{column_letter(chart.col)}{chart.row}")
    # the layout's pixels are at 96 dpi; Excel places charts in points
    made = sheet.charts.add(anchor.left, anchor.top, chart.width * 0.75, chart.height * 0.75)
    made.chart_type = CHART_TYPES.get(chart.kind, chart.kind)
    made.set_source_data(sheet.range(source))


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _activate(sheet) -> None:
    with contextlib.suppress(Exception):  # cosmetic only
        sheet.activate()


# --- the PDF's place -------------------------------------------------------------------


def pdf_target(book) -> tuple[Path, str]:
    """Where the PDF goes: beside the workbook; for a workbook opened from OneDrive/SharePoint
    (``book.fullname`` is then a URL) or a folder that cannot be written, the local
    Documents/scrm_xl folder. The second value says why it moved ('' when it did not)."""
    fullname = str(_get(book, "fullname", "") or _get(book, "name", "workbook.xlsm"))
    if re.match(r"^[a-z][a-z0-9+.-]*://", fullname, re.IGNORECASE):
        stem = Path(unquote(urlparse(fullname).path)).stem or "briefing"
        return _fallback_dir() / f"{stem}.pdf", "the workbook is on OneDrive/SharePoint"
    path = Path(fullname)
    folder = path.parent
    if path.is_absolute() and folder.is_dir() and os.access(folder, os.W_OK):
        return path.with_suffix(".pdf"), ""
    return _fallback_dir() / f"{path.stem or 'briefing'}.pdf", "the workbook's folder cannot be written"


def _fallback_dir() -> Path:
    documents = Path.home() / "Documents"
    folder = (documents if documents.is_dir() else Path.home()) / "scrm_xl"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- messages -----------------------------------------------------------------------


def alert_text(issues: Iterable[Issue], *, written: bool, note: str = "") -> str:
    """The one message box: what happened, then the errors and warnings with their places."""
    issues = list(issues)
    errors = [i for i in issues if i.severity is Severity.ERROR]
    warnings = [i for i in issues if i.severity is Severity.WARNING]
    if written:
        head = "ROI, KPI, Ledger and Checks sheets updated."
    else:
        head = "Nothing was calculated: the workbook cannot be read as the standardized workbook."
    counts = []
    if errors:
        counts.append(f"{len(errors)} error{'s' * (len(errors) != 1)} (the figures they touch are left out)")
    if warnings:
        counts.append(f"{len(warnings)} warning{'s' * (len(warnings) != 1)}")
    lines = [head]
    if note:
        lines.append(note)
    if counts:
        lines.append("")
        lines.append(", ".join(counts).capitalize() + ":")
        shown = (errors + warnings)[:MAX_ALERT_LINES]
        lines += [_clip(str(i)) for i in shown]
        rest = len(errors) + len(warnings) - len(shown)
        if rest:
            lines.append(f"... and {rest} more" + (": see the Checks sheet." if written else "."))
    elif written:
        lines.append("No problems found.")
    return "\n".join(lines)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "\u2026"


def _one_line(exc: BaseException) -> str:
    return _clip(str(exc) or type(exc).__name__)


def _log_failure(book, exc: BaseException) -> Path:
    """The traceback goes to a file (beside a local workbook, else the temp folder), never to the analyst."""
    text = "".join(traceback.format_exception(exc))
    fullname = str(_get(book, "fullname", "") or "")
    candidates = []
    if fullname and "://" not in fullname:
        candidates.append(Path(fullname).with_name(Path(fullname).stem + ".scrm_xl.log"))
    candidates.append(Path(tempfile.gettempdir()) / "scrm_xl.log")
    for path in candidates:
        try:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(f"--- {datetime.now().isoformat(timespec='seconds')} {fullname}\n{text}\n")
            return path
        except OSError:
            continue
    return candidates[-1]


# --- tolerant attribute access: engines differ in what they implement ----------------


class _Status:
    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, what: str) -> None:
        _set(self.app, "status_bar", f"scrm_xl: {what}\u2026")

    def done(self) -> None:
        _set(self.app, "status_bar", False)  # False hands the status bar back to Excel


def _get(obj, name: str, default):
    try:
        return getattr(obj, name)
    except Exception:
        return default


def _set(obj, name: str, value) -> None:
    with contextlib.suppress(Exception):  # NotImplementedError in xlwings Lite, for example
        setattr(obj, name, value)
