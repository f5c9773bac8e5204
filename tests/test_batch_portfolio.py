"""The portfolio roll-up: per-currency subtotals computed by hand, never across currencies."""

from __future__ import annotations

from decimal import Decimal

import pytest
from openpyxl import load_workbook

from scrm_xl.portfolio import HEADERS, line_from_json, subtotal, write_portfolio


def results(name, currency, inv, nr, cs, sa, roi, payback=None, goals=(), errors=0, warnings=0):
    total = nr + cs + sa
    return {
        "program": {"name": name, "currency": currency, "period_start": "2026-01-01",
                    "period_end": "2026-12-31", "as_of": "2026-03-31", "attribution_model": "Last touch"},
        "totals": {"investment": inv, "unallocated_investment": 0,
                   "return": {"new_revenue": nr, "cost_savings": cs, "spending_avoided": sa, "total": total},
                   "net_return": total - inv,
                   "roi": dict(zip(("conservative", "expected", "optimistic"), roi, strict=True)),
                   "payback_months": payback, "npv": None},
        "goals": [{"id": f"G{i}", "measurable": m} for i, m in enumerate(goals, 1)],
        "issues": [{"severity": "error", "where": "Costs!E2", "message": "x"}] * errors
        + [{"severity": "warning", "where": "Costs!E3", "message": "y"}] * warnings,
    }  # fmt: skip


ACME = results("Acme Loyalty", "USD", 10000, 6000, 5000, 1500, (0.1, 0.25, 0.4), 3, (True, True, False), 1, 1)
BETA = results("Beta Care", "USD", 4000, 1000, 0, 500, (-0.75, -0.625, -0.5), None, (True,))
DELTA = results("Delta Forum", "usd", 0, 0, 300, 0, (None, None, None))
GAMMA = results("Gamma Club", "EUR", 2000, 3000, 0, 0, (0.25, 0.5, 0.75), 7, (False, True))


def test_subtotal_recomputes_scenario_roi_from_sums():
    st = subtotal("USD", [line_from_json(ACME), line_from_json(BETA)])
    # conservative returns: 10000 x 1.1 + 4000 x 0.25 = 12000 on 14000 invested -> -1/7
    # optimistic returns:   10000 x 1.4 + 4000 x 0.5  = 16000 on 14000 invested -> +1/7
    assert st.investment == 14000 and st.total_return == 14000 and st.net_return == 0
    assert st.roi[1] == 0
    assert st.roi[0] == pytest.approx(Decimal(-1) / 7) and st.roi[2] == pytest.approx(Decimal(1) / 7)
    with pytest.raises(ValueError, match="cannot include another currency"):
        subtotal("USD", [line_from_json(GAMMA)])


def test_portfolio_groups_by_currency_with_hand_computed_subtotals(tmp_path):
    path = write_portfolio([(ACME, "acme.xlsx"), GAMMA, (DELTA, "delta.xlsx"), (BETA, "beta.xlsx")], tmp_path)
    assert path == tmp_path / "portfolio.xlsx"
    assert [p.name for p in tmp_path.iterdir()] == ["portfolio.xlsx"]  # no temp file left
    ws = load_workbook(path, data_only=True)["Portfolio"]
    rows = [list(r) for r in ws.iter_rows(min_row=4, values_only=True)]
    assert tuple(rows[0]) == HEADERS
    col = {h: i for i, h in enumerate(HEADERS)}
    body = [r for r in rows[1:] if any(v is not None for v in r)]
    labels = [r[0] for r in body]
    assert labels == [
        "EUR", "Gamma Club", "Subtotal EUR (1 programme)",
        "USD", "Acme Loyalty", "Beta Care", "Delta Forum", "Subtotal USD (3 programmes)",
    ]  # fmt: skip

    acme = body[4]
    assert acme[col["Workbook"]] == "acme.xlsx" and acme[col["Currency"]] == "USD"
    assert acme[col["Total return"]] == 12500 and acme[col["Net return"]] == 2500
    assert acme[col["ROI expected"]] == 0.25 and acme[col["Payback (months)"]] == 3
    assert (acme[col["Goals"]], acme[col["Measurable goals"]], acme[col["Errors"]]) == (3, 2, 1)
    assert acme[col["As of"]].date().isoformat() == "2026-03-31"
    delta = body[6]
    assert delta[col["Currency"]] == "USD"  # "usd" in the workbook
    assert [delta[col[h]] for h in ("ROI conservative", "ROI expected", "ROI optimistic")] == ["n/a"] * 3

    eur = body[2]
    assert eur[col["Investment"]] == 2000 and eur[col["Net return"]] == 1000
    assert (eur[col["ROI conservative"]], eur[col["ROI expected"]], eur[col["ROI optimistic"]]) == (
        0.25,
        0.5,
        0.75,
    )

    usd = body[7]
    # 10000 + 4000 + 0 invested; 12500 + 1500 + 300 returned
    assert usd[col["Currency"]] == "USD"
    assert usd[col["Investment"]] == 14000
    assert usd[col["New revenue"]] == 7000 and usd[col["Cost savings"]] == 5300
    assert usd[col["Spending avoided"]] == 2000 and usd[col["Total return"]] == 14300
    assert usd[col["Net return"]] == 300
    assert usd[col["ROI expected"]] == pytest.approx(300 / 14000)
    # Delta has no investment, so the scenario returns of the USD group cannot be known
    assert usd[col["ROI conservative"]] == "n/a" and usd[col["ROI optimistic"]] == "n/a"
    assert (usd[col["Goals"]], usd[col["Measurable goals"]], usd[col["Errors"]]) == (4, 3, 1)
    assert usd[col["Payback (months)"]] is None

    # never a figure that adds USD and EUR: 16000 invested or 17300 returned appear nowhere
    numbers = {v for r in rows for v in r if isinstance(v, int | float)}
    assert 16000 not in numbers and 17300 not in numbers and 1300 not in numbers  # net 1000 EUR + 300 USD

    formulas = load_workbook(path)["Portfolio"]
    usd_row = 4 + rows.index(usd)
    assert formulas.cell(usd_row, col["Investment"] + 1).value == "=SUM(G10:G12)"
    assert (
        formulas.cell(usd_row, col["ROI expected"] + 1).value
        == f'=IF(G{usd_row}=0,"n/a",L{usd_row}/G{usd_row})'
    )


def test_incomplete_results_name_the_workbook(tmp_path):
    bad = {"program": {"name": "X"}, "totals": {}}
    with pytest.raises(ValueError, match="broken.xlsx: results lack 'return'"):
        write_portfolio([(bad, "broken.xlsx")], tmp_path)
    assert not (tmp_path / "portfolio.xlsx").exists()


def test_portfolio_pdf_shows_hand_computed_subtotals_per_currency(tmp_path):
    from pypdf import PdfReader

    from scrm_xl.portfolio import render_portfolio_html, write_portfolio_pdf

    odd = results("<b>Evil</b> & Co", "EUR", 1000, 0, 0, 0, (-1.0, -1.0, -1.0))
    rows = [(ACME, "acme.xlsx"), GAMMA, (DELTA, "delta.xlsx"), (BETA, "beta.xlsx"), (odd, "odd.xlsx")]
    html = render_portfolio_html(rows, failed=[("csv.xlsx", "not an Excel workbook")])
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in html and "<b>Evil</b>" not in html

    path = write_portfolio_pdf(rows, tmp_path, failed=[("csv.xlsx", "not an Excel workbook")])
    assert path == tmp_path / "portfolio.pdf" and [p.name for p in tmp_path.iterdir()] == ["portfolio.pdf"]
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(path).pages)
    # USD: 10000 + 4000 + 0 invested, net 2500 - 2500 + 300 = 300, ROI 300 / 14000 = 2.1%
    assert "Subtotal USD 3 programmes $14,000 $7,000 $5,300 $2,000 +$300 2.1%" in text
    # EUR: Gamma 2000 and the odd one 1000 invested; returns 3000 + 0; net 1000 - 1000 = 0
    assert "Subtotal EUR 2 programmes €3,000 €3,000 €0 €0 €0 0.0%" in text
    assert "range not known" in text  # Delta has no investment, so the USD range cannot be known
    assert "$17,000" not in text and "€17,000" not in text  # 14000 USD + 3000 EUR is never formed
    assert "Not in this portfolio" in text and "csv.xlsx not an Excel workbook" in text
    # the same inputs give the same bytes
    again = write_portfolio_pdf(rows, tmp_path / "again", failed=[("csv.xlsx", "not an Excel workbook")])
    assert again.read_bytes() == path.read_bytes()
