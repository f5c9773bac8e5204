"""``scrm-xl batch`` end to end: the real CLI in a subprocess over good, broken, hostile and
duplicate-named workbooks; parallel and sequential runs byte for byte; the portfolio's figures
against each workbook's own ``run --json`` results, with subtotals computed here."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from batch_jobs import WORKBOOKS, huge_dimension, tweak
from openpyxl import load_workbook
from pypdf import PdfReader

from scrm_xl.portfolio import HEADERS

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scrm_xl", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def digest(folder: Path) -> dict[str, str]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    """What finance ops receive: two programmes both called programme.xlsx, one in USD; a workbook
    with a typo in a cost amount; a CSV renamed .xlsx; a sheet claiming 17 billion cells."""
    box = tmp_path_factory.mktemp("inbox")
    tweak(box / "north" / "programme.xlsx")  # the worked example: EUR
    tweak(
        box / "south" / "programme.xlsx",
        program={"Program name": "Southern care", "Currency": "USD"},
    )
    tweak(box / "broken.xlsx", program={"Program name": "Typo in costs"}, cells={"Costs!F3": "12,5x"})
    (box / "csv.xlsx").write_text("Date,Amount\n2026-01-01,100\n")
    huge_dimension(WORKBOOKS / "worked_example.xlsx", box / "dimension.xlsx")
    return box


@pytest.fixture(scope="module")
def batches(inbox, tmp_path_factory):
    before = digest(inbox)
    out = tmp_path_factory.mktemp("out")
    runs = {}
    for jobs in (1, 2):
        runs[jobs] = cli("batch", inbox / "north", inbox / "south" / "*.xlsx", inbox / "*.xlsx",
                         "--out", out / f"jobs{jobs}", "--pdf", "--jobs", jobs, "--timeout", 120)  # fmt: skip
    assert digest(inbox) == before  # the inputs are never written
    return out, runs


def test_failures_are_named_with_their_reasons_and_the_rest_complete(batches):
    out, runs = batches
    for jobs, proc in runs.items():
        assert proc.returncode == 1, (jobs, proc.stderr)
        assert "Traceback" not in proc.stdout + proc.stderr
        failed = sorted(line for line in proc.stderr.splitlines() if line.startswith("failed: "))
        assert len(failed) == 3, proc.stderr
        assert "broken.xlsx: 1 error (outputs written; see the Checks sheet): Costs!F3:" in failed[0]
        assert '"12,5x"' in failed[0]
        assert "csv.xlsx: not an Excel workbook (the file is not a zip container)" in failed[1]
        assert "dimension.xlsx: sheet 'Costs' claims a used range up to XFD1048576" in failed[2]
        assert "5 workbooks: 2 ok, 3 failed" in proc.stdout
        assert f"wrote {out / f'jobs{jobs}' / 'portfolio.xlsx'}" in proc.stdout

    names = sorted(p.name for p in (out / "jobs1").iterdir())
    assert names == sorted(
        ["broken.json", "broken.pdf", "broken.xlsx", "csv.json", "dimension.json",
         "portfolio.pdf", "portfolio.xlsx"]
        + [f"programme--{side}.{ext}" for side in ("north", "south") for ext in ("json", "pdf", "xlsx")]
    )  # fmt: skip
    # the calculated copy carries the four output sheets
    assert {"ROI", "KPI", "Ledger", "Checks"} <= set(load_workbook(out / "jobs1" / "broken.xlsx").sheetnames)


def test_parallel_and_sequential_runs_give_identical_files(batches):
    out, _ = batches
    one, two = digest(out / "jobs1"), digest(out / "jobs2")
    assert len(one) == 13
    assert one == two


def test_json_beside_each_workbook_is_what_run_json_prints(batches, inbox):
    out, _ = batches
    proc = cli("run", inbox / "south" / "programme.xlsx", "--json", "--no-write")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "jobs1" / "programme--south.json").read_text()) == json.loads(proc.stdout)


def money(x) -> Decimal:
    return Decimal(str(x))


def test_portfolio_figures_equal_each_workbooks_own_results(batches, inbox):
    out, _ = batches
    single = {}
    for name, path in (("programme--north.xlsx", inbox / "north" / "programme.xlsx"),
                       ("programme--south.xlsx", inbox / "south" / "programme.xlsx"),
                       ("broken.xlsx", inbox / "broken.xlsx")):  # fmt: skip
        proc = cli("run", path, "--json", "--no-write")
        single[name] = json.loads(proc.stdout)
    assert (
        single["broken.xlsx"]["totals"]["investment"]
        < single["programme--north.xlsx"]["totals"]["investment"]
    )

    ws = load_workbook(out / "jobs1" / "portfolio.xlsx", data_only=True)["Portfolio"]
    rows = [list(r) for r in ws.iter_rows(min_row=5, values_only=True) if any(v is not None for v in r)]
    col = {h: i for i, h in enumerate(HEADERS)}
    by_workbook = {r[col["Workbook"]]: r for r in rows if r[col["Workbook"]]}
    assert set(by_workbook) == set(single)  # the unreadable workbooks have no row
    for name, res in single.items():
        row, tot = by_workbook[name], res["totals"]
        assert row[col["Programme"]] == res["program"]["name"]
        assert row[col["Currency"]] == res["program"]["currency"]
        assert row[col["Investment"]] == pytest.approx(tot["investment"])
        for key, header in (("new_revenue", "New revenue"), ("cost_savings", "Cost savings"),
                            ("spending_avoided", "Spending avoided"), ("total", "Total return")):  # fmt: skip
            assert row[col[header]] == pytest.approx(tot["return"][key])
        assert row[col["Net return"]] == pytest.approx(tot["net_return"])
        assert row[col["ROI expected"]] == pytest.approx(tot["roi"]["expected"])
        assert row[col["Payback (months)"]] == tot["payback_months"]
        errors = sum(1 for i in res["issues"] if i["severity"] == "error")
        assert row[col["Errors"]] == errors
    assert by_workbook["broken.xlsx"][col["Errors"]] == 1

    # EUR: the worked example and the broken copy; USD: the southern copy alone
    eur = [single["programme--north.xlsx"], single["broken.xlsx"]]
    subtotals = {r[0]: r for r in rows if str(r[0]).startswith("Subtotal")}
    assert set(subtotals) == {"Subtotal EUR (2 programmes)", "Subtotal USD (1 programme)"}
    sub = subtotals["Subtotal EUR (2 programmes)"]
    inv = sum(money(r["totals"]["investment"]) for r in eur)
    net = sum(money(r["totals"]["net_return"]) for r in eur)
    assert sub[col["Investment"]] == pytest.approx(float(inv))
    assert sub[col["Net return"]] == pytest.approx(float(net))
    assert sub[col["ROI expected"]] == pytest.approx(float(net / inv))
    usd = single["programme--south.xlsx"]["totals"]
    assert subtotals["Subtotal USD (1 programme)"][col["Investment"]] == pytest.approx(usd["investment"])
    # never EUR and USD together
    mixed = float(inv + money(usd["investment"]))
    assert all(v != pytest.approx(mixed) for r in rows for v in r if isinstance(v, int | float))

    text = " ".join((PdfReader(out / "jobs1" / "portfolio.pdf").pages[0].extract_text() or "").split())
    assert "Subtotal EUR" in text and "Subtotal USD" in text
    assert "Southern care" in text and "Typo in costs" in text
    whole = f"{int(inv.quantize(Decimal(1))):,}"
    assert f"€{whole}" in text  # the EUR subtotal's investment, in whole euros as fmt.py writes it
    later = " ".join(
        " ".join((p.extract_text() or "").split()) for p in PdfReader(out / "jobs1" / "portfolio.pdf").pages
    )
    assert "Not in this portfolio" in later and "csv.xlsx" in later and "dimension.xlsx" in later


def test_in_place_writes_the_workbook_itself(tmp_path):
    book = tweak(tmp_path / "in" / "mine.xlsx")
    proc = cli("batch", book, "--out", tmp_path / "out", "--in-place", "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    assert "ROI" in load_workbook(book).sheetnames
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "mine.json",
        "portfolio.pdf",
        "portfolio.xlsx",
    ]


def test_nothing_to_do_and_bad_arguments_are_one_line(tmp_path):
    proc = cli("batch", tmp_path / "none*.xlsx", "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert "matches no .xlsx or .xlsm workbook" in proc.stdout
    assert "no workbooks to process" in proc.stderr
    proc = cli("batch", tmp_path, "--out", tmp_path / "o", "--jobs", "0")
    assert proc.returncode == 2 and "'0' is not a whole number of 1 or more" in proc.stderr
