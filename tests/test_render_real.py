"""The briefing of the real example workbooks, through the CLI as a user runs it.

``scrm-xl report`` renders the PDF and ``scrm-xl run --json`` prints the results, both in
fresh processes. Every figure the PDF shows is formatted here from the JSON with plain
Python (not scrm_xl.fmt) and looked up in the PDF's text, so a template that shows the
wrong field, a formatter that rounds wrongly or a view that sums the wrong rows all fail.
The worked example's headline figures are the hand-derived ones of docs/worked-example.md.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.pdf_fixtures import SECTIONS

ROOT = Path(__file__).resolve().parent.parent
BOOKS = ROOT / "workbooks"
SYMBOLS = {"USD": "$", "EUR": "€"}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]  # fmt: skip


# the CLI's own entry point, with WeasyPrint's log (a NullHandler by default) sent to stderr
CLI = (
    "import logging, sys; handler = logging.StreamHandler(); handler.setLevel(logging.WARNING); "
    "logging.getLogger('weasyprint').addHandler(handler); "
    "from scrm_xl.cli import main; sys.exit(main(sys.argv[1:]))"
)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", CLI, *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def pdftotext(path: Path, layout: bool) -> str:
    """``layout`` keeps a table row on one line; else the text comes in drawing (document) order."""
    args = ["pdftotext", "-layout" if layout else "-raw", str(path), "-"]
    return subprocess.run(args, capture_output=True, check=True, text=True).stdout


class Briefing:
    """One workbook's JSON results and its PDF's text (layout kept, and as one flat line)."""

    def __init__(self, book: Path, tmp: Path):
        copy = tmp / book.name
        shutil.copyfile(book, copy)
        pdf = tmp / (book.stem + ".pdf")
        rendered = cli("report", str(copy), "-o", str(pdf))
        assert rendered.returncode in (0, 1), rendered.stderr
        # WeasyPrint logs its warnings (an unknown CSS property, a font it could not load) to
        # stderr: a real workbook's briefing must lay out without a single one
        assert rendered.stderr == "" and pdf.is_file()
        ran = cli("run", str(copy), "--json", "--no-write")
        assert ran.returncode in (0, 1), ran.stderr
        self.data = json.loads(ran.stdout)
        self.pdf = pdf
        self.layout = pdftotext(pdf, layout=True)
        self.pages = self.layout.split("\f")[:-1]
        reading = pdftotext(pdf, layout=False)  # document order: the summary's two panels one after the other
        self.flat = " ".join(reading.split())
        self.flat_pages = [" ".join(page.split()) for page in reading.split("\f")[:-1]]
        self.symbol = SYMBOLS[self.data["program"]["currency"]]

    def money(self, value: float | None) -> str:
        """Whole currency units, half-up, grouped: -$14,108 (en_US, the example's locale)."""
        n = int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        return f"-{self.symbol}{-n:,}" if n < 0 else f"{self.symbol}{n:,}"

    def row(self, *cells: str) -> re.Pattern:
        """Cells in this order on one line of the laid-out text."""
        return re.compile(r"[ \t]+".join(map(re.escape, cells)))

    def has_row(self, *cells: str) -> bool:
        return bool(self.row(*cells).search(self.layout))


def pct(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{(Decimal(repr(value)) * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN)}%"


def months(value: int | None) -> str:
    return "not reached" if value is None else f"{value} month" + ("" if value == 1 else "s")


def kpi_figure(kpi_name: str, value: float) -> str:
    """A KPI as the scorecard shows it: rates as percentages, small fractions with 2 decimals."""
    if kpi_name.endswith(" rate") or kpi_name in ("Share of voice", "Net sentiment"):
        return pct(value)
    if abs(value) < 10 and value != int(value):
        return f"{value:,.2f}"
    return f"{value:,.0f}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Each workbook rendered once for the whole module (four CLI processes in all)."""
    cache: dict[str, Briefing] = {}

    def get(name: str) -> Briefing:
        if name not in cache:
            cache[name] = Briefing(BOOKS / name, tmp_path_factory.mktemp("real"))
        return cache[name]

    return get


@pytest.fixture(params=["example.xlsx", "worked_example.xlsx"])
def briefing(request, rendered) -> Briefing:
    return rendered(request.param)


def test_sections_in_the_issue_order(briefing):
    positions = [briefing.flat.find(title) for title in SECTIONS]
    assert -1 not in positions, dict(zip(SECTIONS, positions, strict=True))
    assert positions == sorted(positions)
    # the summary is a page of its own: the scorecard starts page 2
    assert "Goals scorecard" not in briefing.pages[0] and "Goals scorecard" in briefing.pages[1]


def test_summary_page_equals_the_json(briefing):
    t = briefing.data["totals"]
    page1 = briefing.flat_pages[0]
    roi = t["roi"]
    assert f"{pct(roi['expected'])} Expected ROI" in page1
    assert f"Range: {pct(roi['conservative'])} Conservative – {pct(roi['optimistic'])} Optimistic" in page1
    assert f"Investment {briefing.money(t['investment'])}" in page1
    assert f"Total return (Expected) {briefing.money(t['return']['total'])}" in page1
    assert f"Net return {briefing.money(t['net_return'])}" in page1
    assert f"Payback {months(t['payback_months'])}" in page1
    if t["npv"] is not None:
        rate = briefing.data["program"]["discount_rate"]
        assert f"Net present value ({pct(rate)} a year) {briefing.money(t['npv'])}" in page1
    # value panel, from the programme-wide metric rows: flows summed, the rate from the sums
    prog: dict[str, list[float]] = {}
    for m in briefing.data["metrics"]:
        if m["goal_id"] is None:
            prog.setdefault(m["metric"], []).append(m["value"])
    reach, engagements = sum(prog["Reach"]), sum(prog["Engagements"])
    assert re.search(r"Reach .{0,120}? " + f"{reach:,.0f}", page1)
    assert re.search(r"Engagement rate .{0,120}? " + re.escape(pct(engagements / reach)), page1)
    assert re.search(r"Referrals .{0,120}? " + f"{sum(prog['Referrals']):,.0f}", page1)


def test_scorecard_equals_the_json(briefing):
    text = briefing.flat
    scorecard = text[text.index("Goals scorecard") : text.index("ROI — tangible")]
    for g in briefing.data["goals"]:
        assert f"{g['id']} " in scorecard
        k = g["kpi"]
        if g["measurable"]:
            figures = " → ".join(kpi_figure(k["name"], k[f]) for f in ("baseline", "actual", "target"))
            assert figures in scorecard, g["id"]
            assert f"{pct(k['attainment'])}" in scorecard and k["status"] in scorecard
        else:
            assert "Not measurable: define a target" in scorecard and "Not measurable" in scorecard


def test_roi_tables_equal_the_json(briefing):
    d = briefing.data
    m = briefing.money
    for g in d["goals"]:
        cells = [m(g["investment"]), m(g["return"]["total"]), m(g["net_return"]), pct(g["roi"]["expected"]),
                 months(g["payback_months"])]  # fmt: skip
        if g["npv"] is not None:
            cells.append(m(g["npv"]))
        assert briefing.has_row(*cells), (g["id"], cells)
        assert f"{pct(g['roi']['conservative'])} – {pct(g['roi']['optimistic'])}" in briefing.layout
    t = d["totals"]
    total = [m(t["investment"]), m(t["return"]["total"]), m(t["net_return"]), pct(t["roi"]["expected"])]
    assert briefing.has_row("Programme", *total)
    if t["unallocated_investment"]:
        assert re.search(
            r"Unallocated programme\s+" + re.escape(m(t["unallocated_investment"])), briefing.layout
        )
    for i in d["initiatives"]:
        cells = [m(i["investment"]), m(i["return"]["total"]), m(i["net_return"]), pct(i["roi"]["expected"])]
        assert briefing.has_row(i["goal_id"], *cells) or briefing.has_row(*cells), i["id"]
    for c in d["channels"]:
        assert briefing.has_row(c["channel"], m(c["investment"]), m(c["return"]["total"]), m(c["net_return"]),
                                pct(c["roi"]["expected"])), c["channel"]  # fmt: skip
    for c in d["categories"]:
        assert briefing.has_row(c["category"], m(c["investment"]), pct(c["share"])), c["category"]
    total_return = t["return"]["total"]
    for key, label in (("new_revenue", "New revenue"), ("cost_savings", "Cost savings"),
                       ("spending_avoided", "Spending avoided")):  # fmt: skip
        amount = t["return"][key]
        assert briefing.has_row(label, m(amount), pct(amount / total_return)), label
    for p in d["periods"]:
        year, month = p["start"][:4], int(p["start"][5:7])
        cells = [m(p["investment"]), m(p["return"]), m(p["net_return"]), m(p["cumulative_investment"]),
                 m(p["cumulative_return"])]  # fmt: skip
        assert re.search(
            rf"{MONTHS[month - 1]} {year}\b.*?" + briefing.row(*cells).pattern, briefing.layout
        ), p
    # the payback month is marked in the period table
    if t["payback_months"]:
        p = d["periods"][t["payback_months"] - 1]
        assert re.search(rf"{MONTHS[int(p['start'][5:7]) - 1]} {p['start'][:4]}\s+payback", briefing.layout)


def test_every_goal_and_initiative_appears(briefing):
    for g in briefing.data["goals"]:
        assert f"{g['id']} {g['name']}" in briefing.flat, g["id"]
    for i in briefing.data["initiatives"]:
        assert f"{i['id']} {i['name']}" in briefing.flat, i["id"]


def test_value_section_equals_the_json(briefing):
    d = briefing.data
    value = briefing.flat[
        briefing.flat.index("Value — intangible") : briefing.flat.index("From value to ROI")
    ]
    by_scope: dict[tuple[str | None, str], dict[str, float]] = {}
    for m in d["metrics"]:
        by_scope.setdefault((m["goal_id"], m["metric"]), {})[m["period"]] = m["value"]
    first, last = d["periods"][0]["label"], d["periods"][-1]["label"]
    for name in ("Reach", "Engagements", "Referrals"):
        series = by_scope.get((None, name))
        if not series:
            continue
        cells = [f"{sum(series.values()):,.0f}"]
        cells += [f"{series[p]:,.0f}" if p in series else "—" for p in (first, last)]
        assert f"{name} total {' '.join(cells)}" in value, name
    # by goal: one column per goal, Reach summed over the goal's rows
    goals = [g["id"] for g in d["goals"] if any(gid == g["id"] for gid, _ in by_scope)]
    reach = [f"{sum(by_scope[(gid, 'Reach')].values()):,.0f}" if (gid, "Reach") in by_scope else "—"
             for gid in goals[:5]]  # fmt: skip
    if any(r != "—" for r in reach):
        assert f"Reach {' '.join(reach)}" in value


def test_data_quality_lists_the_issues(briefing):
    issues = briefing.data["issues"]
    quality = briefing.flat[
        briefing.flat.index("Data quality") : briefing.flat.index("Method and assumptions")
    ]
    errors = sum(1 for i in issues if i["severity"] == "error")
    warnings = sum(1 for i in issues if i["severity"] == "warning")
    if issues:
        assert f"{errors} error{'' if errors == 1 else 's'}, {warnings} warning" in quality
    for issue in issues[:25]:
        assert issue["message"] in quality and (issue["where"] or "(workbook)") in quality


def test_worked_example_equals_the_hand_derived_figures(rendered):
    """docs/worked-example.md, steps 2-9, by hand: the briefing must say the same."""
    b = rendered("worked_example.xlsx")
    page1 = b.flat_pages[0]
    assert "-33.6% Expected ROI" in page1  # -3,861.73 / 11,500 = -33.58 %
    assert "Range: -49.2% Conservative – -26.6% Optimistic" in page1
    assert "Investment €11,500" in page1 and "Total return (Expected) €7,638" in page1
    assert "Net return -€3,862" in page1 and "Payback not reached" in page1
    assert "Net present value (12.0% a year) -€3,828" in page1
    assert "not yet caught up" in page1  # payback not reached, said in words
    assert b.has_row("€7,500", "€3,176", "-€4,324", "-57.7%", "not reached", "-€4,269")  # G1
    assert b.has_row("€3,200", "€4,463", "€1,263", "39.5%", "3 months", "€1,219")  # G2
    assert "-68.3% – -47.0%" in b.layout and "8.2% – 39.5%" in b.layout
    assert b.has_row("New revenue", "€3,488") and b.has_row("Cost savings", "€3,150")
    assert b.has_row("Spending avoided", "€1,000")
    assert b.has_row("People", "€8,000", "69.6%") and b.has_row("Training", "€800", "7.0%")
    assert b.has_row("€6,000", "€2,063", "-€3,937", "-65.6%")  # I1
    assert b.has_row("€1,500", "€1,113", "-€387", "-25.8%")  # I2
    assert b.has_row("February 2026", "€4,200", "€1,738", "-€2,462", "€8,700", "€3,488")
    assert b.has_row("March 2026", "€2,800", "€4,150", "€1,350", "€11,500", "€7,638")
    flat = b.flat
    assert "0 → 120 → 200 60.0%" in flat and "On track" in flat  # G1 referrals
    assert "20 → 32 → 30 120.0%" in flat and "Achieved" in flat  # G2 NPS
    value = flat[flat.index("Value — intangible") : flat.index("From value to ROI")]
    assert "Engagement rate derived period totals 4.5%" in value  # 450 / 10,000 (step 9)
    assert "Net sentiment derived period totals 60.0%" in value  # (60 - 15) / (60 + 15)
    assert "Referrals total 120 40 30" in value  # 40 + 50 + 30; January 40, March 30


def test_example_in_german_on_letter(rendered, tmp_path):
    """The same real results in de_DE on Letter: German figures, Letter pages, no WeasyPrint warning."""
    import logging
    from dataclasses import replace

    from pypdf import PdfReader

    from scrm_xl.pipeline import calculate, check
    from scrm_xl.render import render_pdf

    results = calculate(check(BOOKS / "example.xlsx"))
    german = replace(results, program=replace(results.program, locale="de_DE", currency="EUR"))
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logging.getLogger("weasyprint").addHandler(handler)
    try:
        path = render_pdf(german, tmp_path / "de.pdf", page_size="Letter")
    finally:
        logging.getLogger("weasyprint").removeHandler(handler)
    assert [r.getMessage() for r in records] == []
    reader = PdfReader(path)
    assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages} == {
        (612, 792)
    }
    t = rendered("example.xlsx").data["totals"]

    def euro(value: float) -> str:
        n = int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        return ("-" if n < 0 else "") + f"{abs(n):,}".replace(",", ".") + "\xa0€"

    def prozent(value: float) -> str:
        return pct(value).replace(".", ",").replace("%", "\xa0%")

    text = " ".join(pdftotext(path, layout=False).replace("\xa0", " ").split())
    for figure in (euro(t["investment"]), euro(t["return"]["total"]), euro(t["net_return"]),
                   prozent(t["roi"]["expected"]), prozent(t["roi"]["conservative"])):  # fmt: skip
        assert figure.replace("\xa0", " ") in text, figure
    assert "As of 31.12.2026" in text and "Dezember 2026" in text
