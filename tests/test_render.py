"""The PDF briefing: snapshot, text and structure, security, determinism, page size, locale.

Figures are checked against the hand-built Results, formatted here independently
of scrm_xl.fmt (plain Python formatting), so a wrong formatter or a template
showing the wrong field both fail.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from scrm_xl import render
from scrm_xl.pdf import BundleFetcher
from scrm_xl.render import render_html, render_pdf, templates_dir
from tests.pdf_fixtures import SECTIONS, make_results

SNAPSHOTS = Path(__file__).parent / "__snapshots__"
HOSTILE = '<link rel="attachment" href="file:///etc/hostname">'


class Captured(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def render_logged(results, path, **kwargs):
    """Render, returning every WeasyPrint log record at WARNING or above."""
    handler = Captured()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        render_pdf(results, path, **kwargs)
    finally:
        logger.removeHandler(handler)
    return handler.records


def pdf_text(path: Path, layout: bool = True) -> str:
    """The PDF's text; ``layout`` keeps table rows on one line, without it text follows reading order."""
    args = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(args, capture_output=True, check=True, text=True).stdout


def usd(value: Decimal) -> str:
    n = int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return f"-${-n:,}" if n < 0 else f"${n:,}"


def pct(value) -> str:
    return f"{Decimal(value) * 100:.1f}%"


@pytest.fixture(scope="module")
def results():
    return make_results()


@pytest.fixture(scope="module")
def briefing(results, tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf") / "briefing.pdf"
    logs = render_logged(results, path)
    return path, logs


def test_html_snapshot(results):
    """Set SCRM_XL_UPDATE_SNAPSHOTS=1 to rewrite the snapshot after a deliberate template change."""
    html = render_html(results)
    snapshot = SNAPSHOTS / "briefing_en_US.html"
    if os.environ.get("SCRM_XL_UPDATE_SNAPSHOTS") == "1":
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(html, encoding="utf-8")
    if not snapshot.exists():
        pytest.fail(f"no snapshot {snapshot.name}: run with SCRM_XL_UPDATE_SNAPSHOTS=1 and review the diff")
    assert html == snapshot.read_text(encoding="utf-8"), "briefing HTML changed; see docs/briefing.md"


def test_no_weasyprint_warnings(briefing):
    _, logs = briefing
    assert [r.getMessage() for r in logs] == []


def test_sections_in_the_issue_order(briefing):
    text = " ".join(pdf_text(briefing[0], layout=False).split())
    positions = [text.find(title) for title in SECTIONS]
    assert -1 not in positions, dict(zip(SECTIONS, positions, strict=True))
    assert positions == sorted(positions)


def test_summary_figures_equal_results(briefing, results):
    text = pdf_text(briefing[0])
    page1 = text.split("\f")[0]
    t = results.totals
    assert pct(t.roi.expected) in page1 and "Expected ROI" in page1
    assert f"{pct(t.roi.conservative)} Conservative – {pct(t.roi.optimistic)} Optimistic" in page1
    key_figures = [
        ("Investment", t.investment),
        ("Total return (Expected)", t.returns.total),
        ("Net return", t.net_return),
        ("Net present value (8.0% a year)", results.npv),
    ]
    for label, figure in key_figures:
        assert re.search(re.escape(label) + r"\s+" + re.escape(usd(figure)), page1), label
    assert re.search(r"Payback\s+8 months", page1)
    # the value panel: programme-wide totals from the metric values
    prog = [m for m in results.metrics if m.goal_id is None]
    reach = sum(m.value for m in prog if m.metric == "Reach")
    engagements = sum(m.value for m in prog if m.metric == "Engagements")
    referrals = sum(m.value for m in prog if m.metric == "Referrals")
    assert re.search(r"Reach\s+" + f"{reach:,.0f}", page1)
    assert re.search(r"Engagement rate\s+" + re.escape(f"{engagements / reach * 100:.1f}%"), page1)
    assert re.search(r"Referrals\s+" + f"{referrals:,.0f}", page1)


def test_roi_tables_equal_results(briefing, results):
    text = pdf_text(briefing[0])
    for g in results.goals:
        f = g.figures
        row = [usd(f.investment), usd(f.returns.total), usd(f.net_return), pct(f.roi.expected)]
        assert re.search(r"\s+".join(map(re.escape, row)), text), g.id
        # the range sits under the Expected ROI, in the same cell
        assert re.search(
            re.escape(pct(f.roi.expected))
            + r".*\n.*"
            + re.escape(f"{pct(f.roi.conservative)} – {pct(f.roi.optimistic)}"),
            text,
        ), g.id
    for i in results.initiatives:
        f = i.figures
        row = [
            i.goal_id,
            i.channel,
            usd(f.investment),
            usd(f.returns.total),
            usd(f.net_return),
            pct(f.roi.expected),
        ]
        assert re.search(r"\s+".join(map(re.escape, row)), text), i.id
    for p in results.periods:
        row = [usd(p.investment), usd(p.returns.total), usd(p.net_return), usd(p.cumulative_investment),
               usd(p.cumulative_return)]  # fmt: skip
        assert re.search(r"\s+".join(map(re.escape, row)), text), p.label
    for issue in results.issues:
        assert issue.where in text and issue.message in text


def test_scorecard_and_value_to_roi(briefing):
    text = " ".join(pdf_text(briefing[0]).split())
    assert "Not measurable: define a target" in text
    assert "0 → 108 → 80" in text and "135.0%" in text and "Achieved" in text and "At risk" in text
    value_to_roi = text[text.index("From value to ROI") : text.index("Data quality")]
    assert "G4 Build brand advocacy" in value_to_roi and "I5 Customer stories on X" in value_to_roi
    assert "G1 " not in value_to_roi  # G1 has transaction-linked returns


def test_metadata_and_a4(briefing, results):
    reader = PdfReader(briefing[0])
    meta = reader.metadata
    assert meta.title == "Northwind Social CRM 2025: Social CRM ROI briefing"
    assert meta.author == "Finance Ops, J. Rivera"
    assert meta["/CreationDate"].startswith("D:20251231000000")
    assert meta["/ModDate"].startswith("D:20251231000000")
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    text = pdf_text(briefing[0])
    pages = text.split("\f")[:-1]
    assert f"Page 1 of {len(pages)}" in pages[0] and f"Page {len(pages)} of {len(pages)}" in pages[-1]
    assert all("As of Dec 31, 2025" in page for page in pages)
    assert all("Northwind Social CRM 2025" in page for page in pages)


def test_letter_page_size(results, tmp_path):
    path = tmp_path / "letter.pdf"
    assert render_logged(results, path, page_size="letter") == []
    box = PdfReader(path).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


def test_unknown_page_size_is_refused(results, tmp_path):
    with pytest.raises(ValueError, match="A4 or Letter"):
        render_pdf(results, tmp_path / "x.pdf", page_size="A3")


def test_hostile_workbook_text_stays_text(results, tmp_path):
    goals = (replace(results.goals[0], name=HOSTILE, owner="<script>x</script>"), *results.goals[1:])
    hostile = replace(results, goals=goals, program=replace(results.program, name=HOSTILE))
    html = render_html(hostile)
    assert HOSTILE not in html and "&lt;link rel=&#34;attachment&#34;" in html
    assert "<script>" not in html
    path = tmp_path / "hostile.pdf"
    assert render_logged(hostile, path) == []
    reader = PdfReader(path)
    assert "/EmbeddedFiles" not in reader.trailer["/Root"].get("/Names", {})
    assert reader.attachments == {}
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            assert annot.get_object().get("/Subtype") != "/FileAttachment"
    text = " ".join(pdf_text(path).split())
    assert HOSTILE in text  # shown literally, in the title and the scorecard


def test_fetcher_serves_only_bundled_files():
    root = templates_dir()
    fetcher = BundleFetcher(root)
    css = (root / "briefing.css").as_uri()
    assert b"@font-face" in fetcher.fetch(css).read()
    assert fetcher.fetch((root / "fonts" / "DejaVuSans.ttf").as_uri()).read()[:4] == b"\x00\x01\x00\x00"
    for url in [
        "file:///etc/hostname",
        (root / "briefing.html.j2").as_uri(),  # a template is not a resource
        root.as_uri() + "/../pyproject.toml",
        root.as_uri() + "/fonts/../../pyproject.toml",
        "http://127.0.0.1:9/x.css",
        "https://example.com/x.css",
        "data:text/css,body{}",
        "ftp://127.0.0.1/x",
        css + "?x=1",
    ]:
        with pytest.raises(PermissionError):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 9


def test_same_results_same_bytes_and_env_restored(briefing, results, tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    again = tmp_path / "again.pdf"
    render_pdf(results, again)
    assert again.read_bytes() == briefing[0].read_bytes()
    assert "SOURCE_DATE_EPOCH" not in os.environ
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "12345")
    render_pdf(results, again)
    assert os.environ["SOURCE_DATE_EPOCH"] == "12345"
    assert again.read_bytes() == briefing[0].read_bytes()


def test_german_locale(tmp_path):
    de = make_results(locale="de_DE", currency="EUR")
    html = render_html(de)
    assert "164.000\xa0€" in html and "25,3\xa0%" in html and "As of 31.12.2025" in html
    path = tmp_path / "de.pdf"
    assert render_logged(de, path) == []
    text = " ".join(pdf_text(path).split())
    assert "Range: -27,4 % Conservative – 31,7 % Optimistic" in text
    assert "205.500 €" in text and "41.500 €" in text


def test_pdfa3b_with_the_workbook_attached(results, tmp_path):
    book = tmp_path / "programme.xlsx"
    book.write_bytes(b"PK\x03\x04 stand-in workbook bytes")
    path = tmp_path / "archive.pdf"
    assert render_logged(results, path, variant="pdf/a-3b", attach=book) == []
    reader = PdfReader(path)
    assert reader.attachments == {"programme.xlsx": [book.read_bytes()]}
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp or b"<pdfaid:part>3</pdfaid:part>" in xmp
    # archival copies are reproducible too
    again = tmp_path / "archive2.pdf"
    render_pdf(results, again, variant="pdf/a-3b", attach=book)
    assert again.read_bytes() == path.read_bytes()


def test_attach_needs_the_archival_variant(results, tmp_path):
    with pytest.raises(ValueError, match="pdf/a-3b"):
        render_pdf(results, tmp_path / "x.pdf", attach=tmp_path / "book.xlsx")
    with pytest.raises(ValueError, match="not supported"):
        render_pdf(results, tmp_path / "x.pdf", variant="pdf/x-4")


def test_templates_found_in_source_checkout():
    assert (templates_dir() / "briefing.html.j2").is_file()
    assert render.environment().autoescape is True


def test_a_long_checks_list_is_capped_and_points_to_the_checks_sheet(results, tmp_path):
    """60 problems: the first 25 (errors first, rows in numeric order), then a count of the rest."""
    from scrm_xl.model import Issue, Severity

    issues = [Issue(Severity.WARNING, f"Costs!E{row}", f"amount on row {row} is negative (a credit)")
              for row in range(2, 52)]  # fmt: skip
    issues += [
        Issue(Severity.ERROR, f"Returns!B{row}", f"transaction ref missing on row {row}")
        for row in (9, 10, 100)
    ]
    issues += [
        Issue(Severity.INFO, f"Metrics!D{row}", "unknown metric summed as a flow") for row in range(2, 9)
    ]
    noisy = replace(results, issues=tuple(reversed(issues)))
    path = tmp_path / "noisy.pdf"
    assert render_logged(noisy, path) == []
    text = " ".join(pdf_text(path, layout=False).split())
    quality = text[text.index("Data quality") : text.index("Method and assumptions")]
    assert "The workbook's Checks: 3 errors, 50 warnings, 7 notes." in quality
    # errors first, in row order (9 before 10 before 100), then warnings from Costs!E2 on
    shown = re.findall(r"(Returns!B\d+|Costs!E\d+|Metrics!D\d+)", quality)
    assert shown == ["Returns!B9", "Returns!B10", "Returns!B100"] + [f"Costs!E{r}" for r in range(2, 24)]
    assert ("… and 35 more (0 errors, 28 warnings, 7 notes): the workbook's Checks sheet lists every one "
            "with its cell.") in quality  # fmt: skip


def _fonts(obj, seen: set[int]) -> list:
    """Every font dictionary reachable from a page's resources, form XObjects (the SVG charts) included."""
    found = []
    resources = obj.get("/Resources")
    if resources is None:
        return found
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        found.append(font.get_object())
    for xobject in (resources.get("/XObject") or {}).values():
        ref = getattr(xobject, "idnum", None)
        if ref in seen:
            continue
        seen.add(ref)
        found += _fonts(xobject.get_object(), seen)
    return found


def test_pdfa3b_structure(results, tmp_path):
    """What veraPDF would check first, checked with pypdf (veraPDF is not available offline)."""
    book = tmp_path / "programme.xlsx"
    book.write_bytes(b"PK\x03\x04 stand-in workbook bytes")
    path = tmp_path / "archive.pdf"
    assert render_logged(results, path, variant="pdf/a-3b", attach=book) == []
    reader = PdfReader(path)
    assert not reader.is_encrypted and "/Encrypt" not in reader.trailer
    assert len(reader.trailer["/ID"]) == 2  # a file identifier (fixed: from the content)
    root = reader.trailer["/Root"]
    # an sRGB output intent with its ICC profile
    (intent,) = [i.get_object() for i in root["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1" and "sRGB" in intent["/OutputConditionIdentifier"]
    assert intent["/DestOutputProfile"].get_object().get_data()[36:40] == b"acsp"  # an ICC profile
    # XMP metadata: PDF/A-3, conformance B, and the same title as the document information
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r'pdfaid:part="3"|<pdfaid:part>3</pdfaid:part>', xmp)
    assert re.search(r'pdfaid:conformance="B"|<pdfaid:conformance>B</pdfaid:conformance>', xmp)
    assert "Northwind Social CRM 2025: Social CRM ROI briefing" in xmp
    assert reader.metadata.title == "Northwind Social CRM 2025: Social CRM ROI briefing"
    assert root["/Lang"] == "en-US"
    # every font on every page is embedded (the charts' text too)
    fonts = [f for page in reader.pages for f in _fonts(page, set())]
    assert fonts
    for font in fonts:
        descriptor = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = descriptor["/FontDescriptor"].get_object()
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font.get("/BaseFont")
    # the workbook is an associated file: a Source, with its MIME type, listed in the catalog's /AF
    names = root["/Names"]["/EmbeddedFiles"]["/Names"]
    assert names[0] == "programme.xlsx"
    spec = names[1].get_object()
    assert spec["/AFRelationship"] == "/Source" and spec["/UF"] == "programme.xlsx"
    stream = spec["/EF"]["/F"].get_object()
    assert stream["/Subtype"] == "/application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert stream.get_data() == book.read_bytes()
    assert names[1].idnum in {ref.idnum for ref in root["/AF"]}
