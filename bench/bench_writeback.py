"""Write-back: scrm_xl's surgical writer against openpyxl's load-and-save of the same workbook.

    python -m bench.bench_writeback          # 10k and 100k return rows
    python -m bench.bench_writeback --full   # and 1M

For each size: a standard workbook (Program, Goals, Initiatives, Costs, Returns: N return rows
and N/10 cost rows, written by XlsxWriter in constant-memory mode) and the Results that
``compute()`` makes from the same records (so the Ledger has N + N/10 lines). Then, each in a
fresh child process so that peak memory is its own: ``write_results`` (results unpickled first;
their memory is reported apart) and openpyxl ``load_workbook`` + ``save``. Peak memory is the
child's ru_maxrss; the baseline is ru_maxrss just before the measured call.
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

GOALS = 20
INITIATIVES = 60
START = date(2025, 1, 1)
END = date(2025, 12, 31)
CHANNELS = ("LinkedIn", "Community forum", "X", "Instagram", "YouTube", "Newsletter")
TYPES = ("New revenue", "Cost savings", "Spending avoided")
CONFIDENCES = ("High", "Medium", "Low")
CATEGORIES = ("People", "Technology", "Paid media", "Agency", "Content", "Training", "Other")


def records(n: int):
    """N transaction-linked returns and N/10 costs over a year, spread over the action plan."""
    from scrm_xl.model import CellRef, Cost, Goal, Initiative, Program, Records, Return

    program = Program(
        "Bench programme", "EUR", START, END, END, default_gross_margin=Decimal("0.4"),
        discount_rate=Decimal("0.1"),
    )  # fmt: skip
    goals = tuple(
        Goal(f"G{g}", f"Goal {g}", "Loyalty", source=CellRef("Goals", g + 1)) for g in range(1, GOALS + 1)
    )
    initiatives = tuple(
        Initiative(
            f"I{i}",
            f"Initiative {i}",
            f"G{i % GOALS + 1}",
            CHANNELS[i % len(CHANNELS)],
            source=CellRef("Initiatives", i + 1),
        )  # fmt: skip
        for i in range(1, INITIATIVES + 1)
    )
    days = (END - START).days + 1
    costs = tuple(
        Cost(
            START + timedelta(days=k * 7 % days),
            Decimal(100 + k % 900),
            f"I{k % INITIATIVES + 1}",
            None,
            CATEGORIES[k % len(CATEGORIES)],
            f"cost {k}",
            CellRef("Costs", k + 2),
        )  # fmt: skip
        for k in range(n // 10)
    )
    returns = tuple(
        Return(
            START + timedelta(days=k * 13 % days),
            f"TX-{k:07d}",
            TYPES[k % 3],
            Decimal(k % 5000) + Decimal("0.25"),
            f"I{k * 7 % INITIATIVES + 1}",
            None,
            Decimal(1),
            CONFIDENCES[k % 3],
            source=CellRef("Returns", k + 2),
        )  # fmt: skip
        for k in range(n)
    )
    return Records(program, goals, initiatives, costs, returns)


def write_book(path: Path, recs) -> None:
    """The input sheets as a finance user would fill them in."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(path, {"constant_memory": True})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    p = recs.program
    ws = wb.add_worksheet("Program")
    for r, (k, v) in enumerate(
        [("Setting", "Value"), ("Program name", p.name), ("Currency", p.currency),
         ("Period start", p.period_start), ("Period end", p.period_end)]
    ):  # fmt: skip
        ws.write(r, 0, k)
        ws.write_datetime(r, 1, v, date_fmt) if isinstance(v, date) else ws.write(r, 1, v)
    ws = wb.add_worksheet("Goals")
    ws.write_row(0, 0, ["Goal ID", "Goal", "Objective"])
    for r, g in enumerate(recs.goals, 1):
        ws.write_row(r, 0, [g.id, g.name, g.objective])
    ws = wb.add_worksheet("Initiatives")
    ws.write_row(0, 0, ["Initiative ID", "Initiative", "Goal ID", "Channel"])
    for r, i in enumerate(recs.initiatives, 1):
        ws.write_row(r, 0, [i.id, i.name, i.goal_id, i.channel])
    ws = wb.add_worksheet("Costs")
    ws.write_row(0, 0, ["Date", "Initiative ID", "Goal ID", "Category", "Description", "Amount"])
    for r, c in enumerate(recs.costs, 1):
        ws.write_datetime(r, 0, c.date, date_fmt)
        ws.write_row(r, 1, [c.initiative_id, "", c.category, c.description, float(c.amount)])
    ws = wb.add_worksheet("Returns")
    ws.write_row(0, 0, ["Date", "Transaction ref", "Return type", "Initiative ID", "Amount", "Confidence"])
    for r, x in enumerate(recs.returns, 1):
        ws.write_datetime(r, 0, x.date, date_fmt)
        ws.write_row(r, 1, [x.transaction_ref, x.return_type, x.initiative_id, float(x.amount), x.confidence])
    wb.close()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def child(kind: str, book: str, results_pickle: str, out: str) -> None:
    """One measurement, in its own process; prints a JSON line."""
    if kind == "scrm_xl":
        from scrm_xl.write import write_results

        with open(results_pickle, "rb") as fh:
            results = pickle.load(fh)
        base = _peak_mb()
        t = time.perf_counter()
        write_results(book, results, out_path=out)
    else:
        import openpyxl

        base = _peak_mb()
        t = time.perf_counter()
        wb = openpyxl.load_workbook(book)
        wb.save(out)
    seconds = time.perf_counter() - t
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_mb(), "base_mb": base}))


def measure(kind: str, book: Path, pickle_: Path, out: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_writeback", "--child", kind, *map(str, (book, pickle_, out))],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="also the 1M-row workbook (several minutes)")
    ap.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], help="e.g. 1000,20000")
    ap.add_argument("--child", nargs=4, metavar=("KIND", "BOOK", "RESULTS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    from scrm_xl.compute import compute

    sizes = args.sizes or ([10_000, 100_000, 1_000_000] if args.full else [10_000, 100_000])
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-writeback-") as tmp:
        for n in sizes:
            book, pick = Path(tmp) / f"book{n}.xlsx", Path(tmp) / f"results{n}.pickle"
            t = time.perf_counter()
            recs = records(n)
            write_book(book, recs)
            made = time.perf_counter() - t
            t = time.perf_counter()
            results = compute(recs)
            computed = time.perf_counter() - t
            with open(pick, "wb") as fh:
                pickle.dump(results, fh, protocol=pickle.HIGHEST_PROTOCOL)
            del recs, results
            print(
                f"{n:>9,} rows: workbook {book.stat().st_size / 2**20:.1f} MB made in {made:.1f} s, "
                f"compute() {computed:.1f} s",
                flush=True,
            )
            ours = measure("scrm_xl", book, pick, Path(tmp) / "ours.xlsx")
            print(f"           scrm_xl write_results: {ours['seconds']:.1f} s", flush=True)
            theirs = measure("openpyxl", book, pick, Path(tmp) / "theirs.xlsx")
            print(f"           openpyxl load+save:    {theirs['seconds']:.1f} s", flush=True)
            rows.append((n, ours, theirs))
    print()
    print("| Return rows | scrm_xl write (s) | openpyxl load+save (s) | time ratio | scrm_xl peak MB "
          "(results alone) | openpyxl peak MB | memory ratio |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, ours, theirs in rows:
        print(
            f"| {n:,} | {ours['seconds']:.2f} | {theirs['seconds']:.2f} | "
            f"{theirs['seconds'] / ours['seconds']:.1f}x faster | "
            f"{ours['peak_mb']:.0f} ({ours['base_mb']:.0f}) | "
            f"{theirs['peak_mb']:.0f} | {theirs['peak_mb'] / ours['peak_mb']:.1f}x less |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
