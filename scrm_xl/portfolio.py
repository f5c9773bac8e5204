"""The portfolio roll-up of a batch: one row per programme, grouped by currency.

Input is the per-programme JSON results of the contract (``program``,
``totals``, and optionally ``goals`` and ``issues``). Subtotals are per
currency only: amounts in different currencies are never added together, so
there is no grand total of money.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

from .export import ProgrammeTotals, totals_from_json
from .files import replacing

PORTFOLIO_XLSX = "portfolio.xlsx"
PORTFOLIO_PDF = "portfolio.pdf"

HEADERS = (
    "Programme", "Workbook", "Currency", "Period start", "Period end", "As of",
    "Investment", "New revenue", "Cost savings", "Spending avoided", "Total return", "Net return",
    "ROI conservative", "ROI expected", "ROI optimistic", "Payback (months)",
    "Goals", "Measurable goals", "Errors",
)  # fmt: skip
MONEY_COLUMNS = (
    "Investment",
    "New revenue",
    "Cost savings",
    "Spending avoided",
    "Total return",
    "Net return",
)
ROI_COLUMNS = ("ROI conservative", "ROI expected", "ROI optimistic")


# one programme's row: its totals read back from its JSON results, with the workbook's name
Line = ProgrammeTotals


def line_from_json(results: Mapping, workbook: str = "") -> Line:
    """A portfolio line from one programme's ``--json`` object; ValueError naming what is missing."""
    return totals_from_json(results, workbook)


@dataclass(frozen=True, slots=True)
class Subtotal:
    """One currency's subtotal. Scenario ROI exists only when every programme in it has an investment."""

    currency: str
    programmes: int
    investment: Decimal
    new_revenue: Decimal
    cost_savings: Decimal
    spending_avoided: Decimal
    total_return: Decimal
    net_return: Decimal
    roi: tuple[Decimal | None, Decimal | None, Decimal | None]
    goals: int
    measurable_goals: int
    errors: int


def subtotal(currency: str, lines: Sequence[Line]) -> Subtotal:
    """Sums of one currency's lines; ROI recomputed from the sums, never averaged."""
    if any(line.currency != currency for line in lines):
        raise ValueError(f"a {currency} subtotal cannot include another currency")

    def total(attr: str) -> Decimal:
        return sum((getattr(line, attr) for line in lines), Decimal(0))

    inv, net = total("investment"), total("net_return")
    expected = net / inv if inv else None
    # a scenario's return is investment x (1 + its ROI); it cannot be recovered where ROI does not exist
    scenario: list[Decimal | None] = []
    for k in (0, 2):
        if inv and all(line.investment and line.roi[k] is not None for line in lines):
            returns = sum((line.investment * (1 + line.roi[k]) for line in lines), Decimal(0))
            scenario.append((returns - inv) / inv)
        else:
            scenario.append(None)
    return Subtotal(
        currency=currency,
        programmes=len(lines),
        investment=inv,
        new_revenue=total("new_revenue"),
        cost_savings=total("cost_savings"),
        spending_avoided=total("spending_avoided"),
        total_return=total("total_return"),
        net_return=net,
        roi=(scenario[0], expected, scenario[1]),
        goals=sum(line.goals for line in lines),
        measurable_goals=sum(line.measurable_goals for line in lines),
        errors=sum(line.errors for line in lines),
    )


def group_by_currency(lines: Sequence[Line]) -> list[tuple[str, list[Line]]]:
    """Currencies alphabetically; programmes by name, then workbook, within each."""
    groups: dict[str, list[Line]] = {}
    for line in lines:
        groups.setdefault(line.currency, []).append(line)
    return [
        (cur, sorted(groups[cur], key=lambda x: (x.programme.casefold(), x.programme, x.workbook)))
        for cur in sorted(groups)
    ]


def _lines(rows) -> list[Line]:
    return [line_from_json(*r) if isinstance(r, tuple) else line_from_json(r) for r in rows]


def _stamp(lines: Sequence[Line]) -> datetime:
    latest = max((line.as_of for line in lines), default=date(2000, 1, 1))
    return datetime.combine(latest, time(0, 0), tzinfo=UTC)


def write_portfolio(rows: Sequence[Mapping | tuple[Mapping, str]], out_dir: Path) -> Path:
    """Write ``out_dir/portfolio.xlsx`` from per-programme JSON results; returns its path.

    Each row is a results object, or (results, workbook name). The file is
    replaced whole or not at all.
    """
    import xlsxwriter

    lines = _lines(rows)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / PORTFOLIO_XLSX
    with replacing(target) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"constant_memory": False})
        # the file's creation stamp is the latest As of, so the same inputs give the same bytes
        book.set_properties({"title": "Social CRM portfolio", "created": _stamp(lines)})
        _fill(book, group_by_currency(lines))
        book.close()
    return target


def _fill(book, groups) -> None:
    bold = book.add_format({"bold": True})
    title = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"})
    money = book.add_format({"num_format": "#,##0.00"})
    pct = book.add_format({"num_format": "0.0%"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sub_money = book.add_format({"num_format": "#,##0.00", "bold": True, "top": 1})
    sub_pct = book.add_format({"num_format": "0.0%", "bold": True, "top": 1})
    sub_text = book.add_format({"bold": True, "top": 1})
    col = {h: i for i, h in enumerate(HEADERS)}

    ws = book.add_worksheet("Portfolio")
    ws.write(0, 0, "Social CRM portfolio", title)
    ws.write(
        1, 0,
        "One row per programme. Amounts are in each programme's own currency; subtotals are per "
        "currency and different currencies are never added together. ROI counts only returns linked "
        "to business transactions (expected scenario; range conservative to optimistic).",
    )  # fmt: skip
    ws.write_row(3, 0, HEADERS, head)
    ws.freeze_panes(4, 1)
    ws.set_column(0, 1, 28)
    ws.set_column(2, 2, 9)
    ws.set_column(3, 5, 11)
    ws.set_column(6, 11, 14)
    ws.set_column(12, 18, 11)

    def letter(c: int) -> str:
        from xlsxwriter.utility import xl_col_to_name

        return xl_col_to_name(c)

    row = 4
    for currency, lines in groups:
        ws.write(row, 0, currency, bold)
        row += 1
        first = row
        for line in lines:
            values = {
                "Programme": line.programme, "Workbook": line.workbook, "Currency": line.currency,
                "Investment": line.investment, "New revenue": line.new_revenue,
                "Cost savings": line.cost_savings, "Spending avoided": line.spending_avoided,
                "Total return": line.total_return, "Net return": line.net_return,
                "Payback (months)": line.payback_months, "Goals": line.goals,
                "Measurable goals": line.measurable_goals, "Errors": line.errors,
            }  # fmt: skip
            for h, v in values.items():
                if v is None:
                    ws.write_blank(row, col[h], None)
                elif h in MONEY_COLUMNS:
                    ws.write_number(row, col[h], float(v), money)
                elif isinstance(v, str):
                    ws.write_string(row, col[h], v)
                else:
                    ws.write_number(row, col[h], v)
            for h, d in (("Period start", line.period_start), ("Period end", line.period_end),
                         ("As of", line.as_of)):  # fmt: skip
                ws.write_datetime(row, col[h], d, day)
            for h, v in zip(ROI_COLUMNS, line.roi, strict=True):
                if v is None:
                    ws.write_string(row, col[h], "n/a")  # no investment: ROI does not exist
                else:
                    ws.write_number(row, col[h], float(v), pct)
            row += 1
        last = row - 1
        st = subtotal(currency, lines)
        label = f"Subtotal {currency} ({st.programmes} programme{'s' if st.programmes != 1 else ''})"
        ws.write(row, 0, label, sub_text)
        ws.write(row, col["Currency"], currency, sub_text)
        for h in HEADERS[1:]:
            if h == "Currency":
                continue
            c = col[h]
            rng = f"{letter(c)}{first + 1}:{letter(c)}{last + 1}"
            if h in MONEY_COLUMNS:
                ws.write_formula(row, c, f"=SUM({rng})", sub_money, float(getattr(st, _attr(h))))
            elif h in ("Goals", "Measurable goals", "Errors"):
                ws.write_formula(row, c, f"=SUM({rng})", sub_text, getattr(st, _attr(h)))
            elif h == "ROI expected":
                inv, net = f"{letter(col['Investment'])}{row + 1}", f"{letter(col['Net return'])}{row + 1}"
                value = "n/a" if st.roi[1] is None else float(st.roi[1])
                ws.write_formula(row, c, f'=IF({inv}=0,"n/a",{net}/{inv})', sub_pct, value)
            elif h in ROI_COLUMNS:
                v = st.roi[0 if h == "ROI conservative" else 2]
                if v is None:
                    ws.write_string(row, c, "n/a", sub_text)
                else:
                    ws.write_number(row, c, float(v), sub_pct)
            else:
                ws.write_blank(row, c, None, sub_text)
        row += 2


def _attr(header: str) -> str:
    return header.lower().replace(" ", "_")


# --- portfolio.pdf ---------------------------------------------------------------


def _pdf_view(lines: Sequence[Line], failed: Sequence[tuple[str, str]], page_size: str) -> dict:
    from .fmt import Formatter

    def roi_range(fmt: Formatter, roi) -> str:
        if roi[1] is None:
            return "no investment"
        if roi[0] is None or roi[2] is None:
            return "range not known"  # a programme in the group has no investment (see subtotal)
        return f"{fmt.percent(roi[0])} to {fmt.percent(roi[2])}"

    def figures(fmt: Formatter, x: Line | Subtotal) -> dict[str, str]:
        """The cells a programme's line and its currency's subtotal share."""
        return {
            "investment": fmt.money(x.investment),
            "new_revenue": fmt.money(x.new_revenue),
            "cost_savings": fmt.money(x.cost_savings),
            "spending_avoided": fmt.money(x.spending_avoided),
            "net_return": fmt.money_signed(x.net_return),
            "net_class": "neg" if x.net_return < 0 else "",
            "roi": fmt.percent(x.roi[1]),
            "roi_range": roi_range(fmt, x.roi),
            "goals": f"{x.measurable_goals} of {x.goals}",
            "errors": str(x.errors) if x.errors else "",
        }

    groups = []
    for currency, members in group_by_currency(lines):
        fmt = Formatter("en_US", currency)  # one locale for a portfolio that mixes programmes' locales
        rows = [
            {
                "programme": line.programme,
                "workbook": line.workbook,
                "period": f"{fmt.date(line.period_start)} – {fmt.date(line.period_end)}",
                "as_of": fmt.date(line.as_of),
                "payback": fmt.months(line.payback_months),
                **figures(fmt, line),
            }
            for line in members
        ]
        st = subtotal(currency, members)
        programmes = f"{st.programmes} programme{'s' if st.programmes != 1 else ''}"
        sub = {"programmes": programmes, **figures(fmt, st)}
        groups.append({"currency": currency, "lines": rows, "sub": sub})
    stamp = _stamp(lines).date()
    return {
        "groups": groups,
        "count": len(lines),
        "currencies": [g["currency"] for g in groups],
        "failed": [{"workbook": w, "reason": r} for w, r in failed],
        "as_of": Formatter("en_US").date(stamp),
        "as_of_iso": stamp.isoformat(),
        "page_size": page_size,
    }


def render_portfolio_html(rows, *, failed: Sequence[tuple[str, str]] = (), page_size: str = "A4") -> str:
    """The portfolio as one HTML page (the briefing's stylesheet), from per-programme JSON results."""
    from .render import _page_size, environment

    view = _pdf_view(_lines(rows), failed, _page_size(page_size))
    return environment().get_template("portfolio.html.j2").render(**view)


def write_portfolio_pdf(
    rows, out_dir: Path, *, failed: Sequence[tuple[str, str]] = (), page_size: str = "A4"
) -> Path:
    """Write ``out_dir/portfolio.pdf``: one table per currency with its subtotal, the failures listed.

    Rendered like the briefing (bundled fonts only, nothing fetched) and
    reproducible: the same inputs give the same bytes.
    """
    from .pdf import write_pdf  # the briefing's way: bundled files only, a fixed clock

    lines = _lines(rows)
    html = render_portfolio_html(rows, failed=failed, page_size=page_size)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return write_pdf(html, out_dir / PORTFOLIO_PDF, stamp=_stamp(lines))
