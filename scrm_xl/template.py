"""Write the standardized workbook: Instructions plus the seven input sheets.

The layout comes from ``scrm_xl.schema`` so the template, the loader and the
checks can never disagree. ``scrm-xl new PATH [--example]`` calls
``write_template``; ``workbooks/build.py`` uses it to build the committed files.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .examples import Example, realistic
from .files import replacing
from .model import STANDARD_METRICS
from .schema import (
    CHOICE,
    DATE,
    DATETIME,
    INPUT_SHEETS,
    INTEGER,
    MONEY,
    NUMBER,
    PERCENT,
    PROGRAM,
    PROGRAM_SETTINGS,
    Column,
    Sheet,
)

# fixed so that building twice gives the same bytes; the file's own dates
# (core.xml created/modified) are the only clock XlsxWriter reads
CREATED = datetime(2026, 1, 1, 0, 0, 0)

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MONEY_FORMAT = "#,##0.00;(#,##0.00)"
PERCENT_FORMAT = "0.0%"
INTEGER_FORMAT = "0"
TABLE_STYLE = "Table Style Medium 2"
# rows below the header that get drop-downs when the sheet is blank; the
# validation covers the whole column so rows added later get them too
LAST_ROW = 1_048_575

# what each column means, for the header note; schema notes win where given
COLUMN_HELP: dict[tuple[str, str], str] = {
    ("Goals", "Goal ID"): "A short unique code for the goal, e.g. G1. Initiatives refer to it.",
    ("Goals", "Goal"): "The goal in plain words, e.g. Deflect support tickets to the community.",
    ("Goals", "Objective"): "What the goal serves. Pick from the list.",
    ("Goals", "Baseline"): "The KPI's value before the programme started.",
    ("Goals", "Target"): "The KPI's value you aim for by the target date.",
    ("Goals", "Target date"): "When the target should be reached.",
    ("Goals", "Direction"): "Increase (default) when higher is better; Decrease when lower is better.",
    ("Goals", "Owner"): "Who answers for the goal.",
    (
        "Initiatives",
        "Initiative ID",
    ): "A short unique code, e.g. I1. Costs, Returns, Touchpoints refer to it.",
    ("Initiatives", "Initiative"): "What is done, in plain words.",
    ("Initiatives", "Goal ID"): "The goal this initiative serves; must exist on the Goals sheet.",
    ("Initiatives", "Start"): "First day of the initiative.",
    ("Initiatives", "End"): "Last day of the initiative.",
    ("Initiatives", "Owner"): "Who runs the initiative.",
    ("Costs", "Date"): "When the cost was incurred.",
    ("Costs", "Initiative ID"): "The initiative the cost belongs to. Leave blank with Goal ID for overhead.",
    ("Costs", "Goal ID"): "Optional; taken from the initiative. Blank with no initiative = Unallocated.",
    ("Costs", "Category"): "Kind of cost. Pick from the list.",
    ("Costs", "Description"): "What was bought or paid.",
    ("Costs", "Amount"): "In the programme's currency. A negative amount is a credit.",
    ("Returns", "Date"): "When the transaction happened.",
    ("Returns", "Transaction ref"): "The order, ticket or invoice number. Without it the row is not ROI.",
    ("Returns", "Return type"): "New revenue, Cost savings or Spending avoided.",
    ("Returns", "Initiative ID"): "The initiative that earned it. Blank: credited through Touchpoints.",
    ("Returns", "Amount"): "In the programme's currency; revenue before margin.",
    ("Returns", "Gross margin"): "New revenue only; blank uses the Program's Default gross margin.",
    ("Returns", "Confidence"): "How sure the link to social is: High (default), Medium, Low.",
    ("Returns", "Note"): "Anything a reviewer should know.",
    ("Touchpoints", "Transaction ref"): "The same reference as on the Returns sheet.",
    ("Touchpoints", "Initiative ID"): "The initiative that touched the customer.",
    ("Touchpoints", "Timestamp"): "When the touch happened (date and time).",
    ("Metrics", "Date"): "The day the value was measured, e.g. the month end.",
    ("Metrics", "Goal ID"): "Optional; blank takes the initiative's goal.",
    ("Metrics", "Initiative ID"): "Optional; blank with Goal ID = programme level.",
    ("Metrics", "Metric"): "A standard name from the list, or your own.",
    ("Metrics", "Value"): "Counts for flow metrics (reach, posts); the level for stock metrics (NPS).",
}


# drop-downs of the IDs already typed, for the columns that refer to them
ID_LISTS = {"GoalIDs": "Goals", "InitiativeIDs": "Initiatives"}
ID_REFERENCES = {
    ("Initiatives", "Goal ID"): "GoalIDs",
    ("Costs", "Initiative ID"): "InitiativeIDs",
    ("Costs", "Goal ID"): "GoalIDs",
    ("Returns", "Initiative ID"): "InitiativeIDs",
    ("Touchpoints", "Initiative ID"): "InitiativeIDs",
    ("Metrics", "Goal ID"): "GoalIDs",
    ("Metrics", "Initiative ID"): "InitiativeIDs",
}


def column_help(sheet: Sheet, column: Column) -> str:
    """The header note: what the column holds, whether it is required, the choices."""
    text = column.note or COLUMN_HELP.get((sheet.name, column.name), "")
    parts = ["Required." if column.required else "Optional.", text]
    if column.choices:
        parts.append("Choices: " + ", ".join(column.choices) + ".")
    return " ".join(p for p in parts if p)


def write_template(path: Path, *, example: bool = False) -> None:
    """Write the blank standardized workbook to ``path`` (``example=True``
    fills it with the realistic example programme). The file is replaced
    atomically, so an existing workbook is never left half-written.

    Raises ValueError when ``path`` does not end in .xlsx: Excel refuses to
    open a macro-free workbook named .xlsm or .xls."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"{path}: the template is an .xlsx workbook; name it {path.stem}.xlsx")
    write_workbook(path, realistic() if example else None)


def write_workbook(path: Path, example: Example | None, *, extend=None) -> None:
    """Write the template, filled with ``example``'s rows when given. ``extend(book, instructions)``,
    when given, adds to the XlsxWriter workbook before it is closed (the macro-enabled template
    adds its VBA project, button and xlwings.conf sheet this way)."""
    with replacing(path) as tmp:
        if extend is None:  # the two-argument call is what tests stub
            _build(str(tmp), example)
        else:
            _build(str(tmp), example, extend)


class _Formats:
    def __init__(self, book: Workbook) -> None:
        base = {"valign": "top"}
        self.text = book.add_format(base)
        self.wrap = book.add_format({**base, "text_wrap": True})
        self.by_kind = {
            DATE: book.add_format({**base, "num_format": DATE_FORMAT, "align": "left"}),
            DATETIME: book.add_format({**base, "num_format": DATETIME_FORMAT, "align": "left"}),
            MONEY: book.add_format({**base, "num_format": MONEY_FORMAT}),
            PERCENT: book.add_format({**base, "num_format": PERCENT_FORMAT}),
            INTEGER: book.add_format({**base, "num_format": INTEGER_FORMAT}),
        }
        # the Program sheet's values sit in a text-wide column: keep numbers beside their setting
        self.setting_value = {
            kind: book.add_format({**base, "num_format": f.num_format, "align": "left"})
            for kind, f in self.by_kind.items()
        }
        self.setting_value[NUMBER] = book.add_format({**base, "align": "left"})
        self.setting_text = self.text
        # tables' styles are Excel's; LibreOffice ignores them, so headers carry their own look
        self.header = book.add_format(
            {"bold": True, "bg_color": "#D9E1F2", "bottom": 1, "valign": "top", "text_wrap": True}
        )
        self.title = book.add_format({"bold": True, "font_size": 16, "font_color": "#1F3864"})
        self.heading = book.add_format(
            {"bold": True, "font_size": 12, "font_color": "#1F3864", "bottom": 1, "valign": "bottom"}
        )
        self.label = book.add_format({"bold": True, "valign": "top", "text_wrap": True})
        self.link = book.add_format({"bold": True, "valign": "top", "font_color": "#0563C1", "underline": 1})
        self.para = book.add_format({"text_wrap": True, "valign": "top"})
        self.strong = book.add_format({"text_wrap": True, "valign": "top", "bold": True})
        self.code = book.add_format({"font_name": "Courier New", "valign": "top", "text_wrap": True})

    def cell(self, kind: str):
        return self.by_kind.get(kind, self.text)


def _build(filename: str, example: Example | None, extend=None) -> None:
    book = xlsxwriter.Workbook(filename, {"strings_to_numbers": False, "strings_to_formulas": False})
    book.set_properties(
        {
            "title": "Social CRM ROI workbook",
            "subject": "scrm_xl standardized workbook, contract v1",
            "author": "scrm_xl",
            "comments": "Fill in the input sheets, then run scrm-xl. See the Instructions sheet.",
            "created": CREATED,
        }
    )
    fmt = _Formats(book)
    for name, sheet in ID_LISTS.items():
        # the IDs typed so far on their sheet; grows with it (header excluded)
        book.define_name(name, f"=OFFSET({sheet}!$A$2,0,0,MAX(1,COUNTA({sheet}!$A:$A)-1),1)")
    instructions = book.add_worksheet("Instructions")
    _write_instructions(instructions, fmt)
    _write_program(book.add_worksheet(PROGRAM.name), fmt, example.program if example else {}, bool(example))
    for sheet in INPUT_SHEETS[1:]:
        rows = example.rows.get(sheet.name, []) if example else []
        _write_table_sheet(book.add_worksheet(sheet.name), fmt, sheet, rows)
    if extend is not None:
        extend(book, instructions)
    instructions.activate()
    book.close()


# --- Instructions ------------------------------------------------------------

SHEET_HELP = {
    "Program": (
        "Who, which currency, which period, and how returns are credited.",
        "Fill the Value column next to each setting. Program name, Currency, Period start and Period "
        "end are required; the rest have sensible defaults, explained in the Note column.",
    ),
    "Goals": (
        "The Social CRM goals the programme is accountable for.",
        "One row per goal. A goal is measurable when it has a KPI (a metric name from the Metrics "
        "sheet), a Target and a Target date; scrm_xl warns about goals that are not.",
    ),
    "Initiatives": (
        "The action plan: what is done, on which channel, for which goal.",
        "One row per initiative, each pointing to a Goal ID. Channel is the tool: community forum, "
        "X, LinkedIn, Instagram, WhatsApp, YouTube ...",
    ),
    "Costs": (
        "The investment.",
        "One row per cost line, with its Initiative ID. A row with neither Initiative ID nor Goal ID "
        "is programme overhead and is shown as Unallocated. Credits are negative amounts.",
    ),
    "Returns": (
        "Tangible returns: new revenue, cost savings, spending avoided.",
        "One row per business transaction (order, ticket, invoice) with its Transaction ref. Give "
        "the Initiative ID when you know it; otherwise leave it blank and list the customer's "
        "touchpoints on the Touchpoints sheet. Use Attribution for a share (e.g. 50%) and "
        "Confidence to say how sure the link to social is.",
    ),
    "Touchpoints": (
        "Optional. Which initiatives touched the customer before a transaction.",
        "One row per touch: Transaction ref, Initiative ID, date and time. Only touches on or "
        "before the return's date and inside the Lookback window count; the Attribution model on "
        "the Program sheet splits the credit between them.",
    ),
    "Metrics": (
        "Intangible value: reach, engagement, influence, referrals, NPS ...",
        "One row per measurement: Date, Metric, Value, and the Initiative ID or Goal ID it belongs "
        "to (neither = the whole programme). Counts such as Reach or Posts are added up over a "
        "period; levels such as Followers or NPS take the period's last value.",
    ),
}

VALUE_VS_ROI = (
    "ROI counts only money linked to a business transaction \u2013 new revenue (after gross margin), "
    "cost savings and spending avoided \u2013 as a percentage of the investment: "
    "ROI = (Return \u2212 Investment) / Investment.",
    "Reach, engagement, influence and referrals are value: real, reported beside ROI on the KPI "
    "sheet and in the briefing, but never counted inside it.",
)

FILLING_RULES = (
    "Keep the sheet names and the column headers as they are; you may add your own columns and "
    "sheets, scrm_xl ignores them. Blank rows are fine.",
    "Dates as dates (2026-03-31). Percentages as 25% or 0.25. Money as plain numbers in the "
    "Program currency; (1,234.50) is read as a negative amount.",
    "IDs (Goal ID, Initiative ID) are short codes you choose, e.g. G1, I1; every reference must "
    "exist on its sheet. Drop-down lists show the allowed choices; a cell's header note explains "
    "the column.",
    "Scenarios: Conservative counts High-confidence returns, Expected (the headline) High and "
    "Medium, Optimistic all of them.",
)

OUTPUT_NOTE = (
    "The output sheets (ROI, KPI, Ledger, Checks) are replaced on every run; do not type into them. "
    "The Checks sheet lists every problem found, with its cell."
)

HOW_TO_RUN = (
    ("Check the workbook", "scrm-xl check workbook.xlsx",
     "Lists every problem with its place, e.g. Costs!E14: amount \"12,5x\" is not a number."),
    ("Compute and report", "scrm-xl run workbook.xlsx -o results.xlsx --pdf briefing.pdf",
     "Adds the ROI, KPI, Ledger and Checks sheets and renders the PDF briefing. "
     "Your input sheets are never changed."),
    ("Start a new workbook", "scrm-xl new workbook.xlsx",
     "Writes this blank template; add --example for a filled-in example."),
)  # fmt: skip


def _write_instructions(ws: Worksheet, fmt: _Formats) -> None:
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 92)
    ws.hide_gridlines(2)
    ws.set_portrait()
    ws.set_paper(9)  # A4; fit to one page wide so nothing is cut off on Letter either
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.6, right=0.6, top=0.6, bottom=0.6)
    ws.set_footer("&L&8scrm_xl standardized workbook&R&8Page &P of &N")

    row = 0
    ws.set_row(row, 26)
    ws.write(row, 0, "Social CRM ROI workbook", fmt.title)
    row += 1
    row = _para(ws, row, fmt.para,
                "Fill in the seven input sheets, then run scrm_xl. It adds the ROI, KPI, Ledger and "
                "Checks sheets and a PDF briefing, and never changes what you typed.")  # fmt: skip

    row = _heading(ws, row + 1, fmt, "Value versus ROI")
    for sentence in VALUE_VS_ROI:
        row = _para(ws, row, fmt.strong, sentence)

    row = _heading(ws, row + 1, fmt, "The sheets")
    for sheet in INPUT_SHEETS:
        purpose, how = SHEET_HELP[sheet.name]
        text = purpose + " " + how
        ws.write_url(row, 0, f"internal:'{sheet.name}'!A1", fmt.link, sheet.name)
        row = _para(ws, row, fmt.para, text, col=1)

    row = _heading(ws, row + 1, fmt, "How to fill it")
    for rule in FILLING_RULES:
        row = _para(ws, row, fmt.para, rule, col=1, bullet=True)

    row = _heading(ws, row + 1, fmt, "How to run scrm_xl")
    for label, command, what in HOW_TO_RUN:
        ws.write(row, 0, label, fmt.label)
        ws.write(row, 1, command, fmt.code)
        row += 1
        row = _para(ws, row, fmt.para, what, col=1)
    row = _para(ws, row + 1, fmt.para, OUTPUT_NOTE)
    ws.print_area(0, 0, row, 1)


def _heading(ws: Worksheet, row: int, fmt: _Formats, text: str) -> int:
    ws.set_row(row, 22)
    ws.merge_range(row, 0, row, 1, text, fmt.heading)
    return row + 1


# characters of Calibri 11 that fit in one line of the 92-wide column; the
# row height is set from it because neither Excel nor LibreOffice grows rows
# of a file it did not lay out itself reliably
_LINE_CHARS = 100


def _para(ws, row: int, cell_format, text: str, *, col: int = 0, bullet: bool = False,
          span: bool = True) -> int:  # fmt: skip
    if bullet:
        ws.write(row, 0, "\u2022", cell_format)
    width = _LINE_CHARS if col == 1 else _LINE_CHARS + 18
    lines = max(1, -(-len(text) // width))
    ws.set_row(row, 15 * lines + 2)
    if col == 0 and span:
        ws.merge_range(row, 0, row, 1, text, cell_format)
    else:
        ws.write(row, col, text, cell_format)
    return row + 1


# --- Program -----------------------------------------------------------------


def _write_program(ws: Worksheet, fmt: _Formats, values: dict[str, object], filled: bool) -> None:
    headers = ("Setting", "Value", "Note")
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 44)
    ws.set_column(2, 2, 90)
    for i, setting in enumerate(PROGRAM_SETTINGS, start=1):
        ws.write_string(i, 0, setting.name, fmt.text)
        value: object = values.get(setting.name) if filled else _default(setting)
        _write_value(ws, i, 1, value, setting.kind, fmt, fmt.setting_value.get(setting.kind))
        note = _setting_note(setting)
        if setting.choices:
            _choice_validation(ws, i, 1, i, setting.choices, setting.name)
        ws.write_string(i, 2, note, fmt.wrap)
        ws.set_row(i, 15 * max(1, -(-len(note) // 88)) + 1)
    ws.add_table(
        0, 0, len(PROGRAM_SETTINGS), 2,
        {"name": "Program", "style": TABLE_STYLE, "autofilter": False,
         "columns": [{"header": h, "header_format": fmt.header} for h in headers]},
    )  # fmt: skip
    notes = {
        "Setting": "Do not change these names. scrm_xl reads each setting by its name.",
        "Value": "Type the value here. Dates as dates, percentages as 25% or 0.25.",
        "Note": "What the setting means and its default. Ignored by scrm_xl.",
    }
    for c, h in enumerate(headers):
        ws.write_comment(0, c, notes[h], {"x_scale": 2, "y_scale": 0.8})
    _page_setup(ws)


def _page_setup(ws: Worksheet) -> None:
    ws.freeze_panes(1, 0)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_footer("&L&8&A&R&8Page &P of &N")


# for settings the schema leaves without a note
SETTING_HELP = {"Prepared by": "Who prepared the figures; shown on the briefing."}


def _setting_note(setting) -> str:
    parts = ["Required." if setting.required else "Optional."]
    note = setting.note or SETTING_HELP.get(setting.name, "")
    if note:
        note = note.rstrip(".")
        parts.append(note + "." if note[-1].isalnum() or note[-1] == ")" else note)
    if setting.default:
        parts.append(f"Default: {setting.default}.")
    if setting.choices:
        parts.append("Choices: " + ", ".join(setting.choices) + ".")
    return " ".join(parts)


def _default(setting) -> object:
    if not setting.default:
        return None
    if setting.kind in (NUMBER, INTEGER):
        return int(setting.default) if setting.default.isdigit() else float(setting.default)
    return setting.default


# --- Goals, Initiatives, Costs, Returns, Touchpoints, Metrics ----------------


def _write_table_sheet(ws: Worksheet, fmt: _Formats, sheet: Sheet, rows: list[dict[str, object]]) -> None:
    for c, column in enumerate(sheet.columns):
        ws.set_column(c, c, _width(column, (r.get(column.name) for r in rows[:400])), fmt.cell(column.kind))
    for r, row in enumerate(rows, start=1):
        for c, column in enumerate(sheet.columns):
            _write_value(ws, r, c, row.get(column.name), column.kind, fmt)
    # a table needs at least one data row; the blank one is where the user starts
    last = max(len(rows), 1)
    ws.add_table(
        0, 0, last, len(sheet.columns) - 1,
        {"name": sheet.name, "style": TABLE_STYLE,
         "columns": [{"header": column.name, "header_format": fmt.header} for column in sheet.columns]},
    )  # fmt: skip
    for c, column in enumerate(sheet.columns):
        ws.write_comment(0, c, column_help(sheet, column), {"x_scale": 1.8, "y_scale": 1.2})
        if column.kind == CHOICE:
            _choice_validation(ws, 1, c, LAST_ROW, column.choices, column.name)
        elif column.kind == PERCENT:
            ws.data_validation(1, c, LAST_ROW, c, {
                "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1,
                "error_type": "warning", "error_title": column.name,
                "error_message": "A percentage between 0% and 100%, e.g. 40% or 0.4.",
            })  # fmt: skip
        elif (sheet.name, column.name) in ID_REFERENCES:
            # a warning, not a stop: the checks report unknown IDs at their cell anyway,
            # and a user may fill this sheet before the one the IDs come from
            source = ID_REFERENCES[sheet.name, column.name]
            ws.data_validation(1, c, LAST_ROW, c, {
                "validate": "list", "source": f"={source}", "error_type": "warning",
                "error_title": column.name,
                "error_message": f"Not an ID from the {ID_LISTS[source]} sheet (yet). Keep it?",
            })  # fmt: skip
        elif column.name in ("Metric", "KPI"):
            # a suggestion list, not a rule: own metric names are allowed
            ws.data_validation(1, c, LAST_ROW, c, {
                "validate": "list", "source": list(STANDARD_METRICS), "error_type": "information",
                "error_title": column.name,
                "error_message": "Not a standard metric name. scrm_xl will treat it as a count "
                                 "(added up over a period). Keep it?",
            })  # fmt: skip
    _page_setup(ws)


def _choice_validation(ws: Worksheet, r0: int, c: int, r1: int, choices: Iterable[str], name: str) -> None:
    choices = list(choices)
    ws.data_validation(r0, c, r1, c, {
        "validate": "list", "source": choices, "error_type": "stop", "error_title": name,
        "error_message": "Pick one of: " + ", ".join(choices) + ".",
    })  # fmt: skip


def _width(column: Column, values: Iterable[object]) -> float:
    """Wide enough for the header plus its filter button, and for the values."""
    longest = len(column.name) + 4
    if column.kind == DATE:
        longest = max(longest, 12)
    elif column.kind == DATETIME:
        longest = max(longest, 17)
    elif column.kind == CHOICE:
        longest = max(longest, max(len(c) for c in column.choices) + 3)
    for value in values:
        if isinstance(value, str):
            longest = max(longest, len(value) + 1)
        elif isinstance(value, Decimal | int | float) and not isinstance(value, bool):
            longest = max(longest, len(f"{value:,.2f}") + 2)
    return float(min(max(longest, column.width), 60))


def _write_value(ws: Worksheet, r: int, c: int, value: object, kind: str, fmt: _Formats,
                 cell_format=None) -> None:  # fmt: skip
    cell_format = cell_format or fmt.cell(kind)
    if value is None or value == "":
        ws.write_blank(r, c, None, cell_format)
    elif isinstance(value, datetime | date):
        ws.write_datetime(r, c, value, cell_format)
    elif isinstance(value, bool):
        raise TypeError(f"no boolean cells in the contract: {value!r}")
    elif isinstance(value, Decimal | int | float):
        ws.write_number(r, c, float(value), cell_format)
    else:
        ws.write_string(r, c, str(value), cell_format)
