"""Batch throughput: 50 example-sized workbooks through ``scrm-xl batch`` with 1 and 2 jobs.

    python bench/bench_batch.py            # 50 workbooks, jobs=1 and jobs=2
    python bench/bench_batch.py --quick    # 8 workbooks
    python bench/bench_batch.py --pdf      # with each programme's PDF briefing
    python bench/bench_batch.py --no-preload  # workers import the engine themselves (the old way)

Each copy of workbooks/example.xlsx (2,400 returns) gets its own programme name and, every
third one, another currency, so the portfolio has several rows and two currency groups.
Prints workbooks per minute for each run, the speed-up of 2 jobs over 1, and checks that both
runs wrote identical files. Figures belong in docs/performance.md ("Batch throughput").
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scrm_xl.batch import run_batch  # noqa: E402
from scrm_xl.jobs import judge, workbook_preload  # noqa: E402
from scrm_xl.portfolio import write_portfolio, write_portfolio_pdf  # noqa: E402


def make_inbox(folder: Path, count: int) -> list[Path]:
    from openpyxl import load_workbook

    book = load_workbook(ROOT / "workbooks" / "example.xlsx")
    ws = book["Program"]
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    paths = []
    for i in range(count):
        ws.cell(rows["Program name"], 2).value = f"Programme {i + 1:02d}"
        ws.cell(rows["Currency"], 2).value = "EUR" if i % 3 == 2 else "USD"
        path = folder / f"programme-{i + 1:02d}.xlsx"
        book.save(path)
        paths.append(path)
    return paths


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def one_run(inbox: Path, out: Path, jobs: int, pdf: bool, preload: bool = True) -> float:
    start = time.perf_counter()
    modules = workbook_preload({"pdf": pdf}) if preload else ()
    report = run_batch([inbox], "scrm_xl.jobs:workbook_job", out_dir=out, options={"pdf": pdf},
                       jobs=jobs, judge=judge, progress=False, preload=modules)  # fmt: skip
    rows = [(o.result["rollup"], o.path.name) for o in report.outcomes if o.result]
    write_portfolio(rows, out)
    write_portfolio_pdf(rows, out)
    seconds = time.perf_counter() - start
    if report.failed:
        raise SystemExit(f"{len(report.failed)} workbooks failed: {report.failed[0].reason}")
    return seconds


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="8 workbooks instead of 50")
    p.add_argument("--pdf", action="store_true", help="render each programme's PDF too")
    p.add_argument("--count", type=int, help="number of workbooks (overrides --quick)")
    p.add_argument("--no-preload", action="store_true",
                   help="workers import the engine themselves, as before 2026-12-02")  # fmt: skip
    args = p.parse_args(argv)
    count = args.count or (8 if args.quick else 50)
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        tmp = Path(tmp)
        inbox = tmp / "inbox"
        inbox.mkdir()
        t = time.perf_counter()
        make_inbox(inbox, count)
        print(f"made {count} copies of workbooks/example.xlsx in {time.perf_counter() - t:.1f} s")
        print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, pdf={'yes' if args.pdf else 'no'}")
        seconds = {}
        for jobs in (1, 2):
            seconds[jobs] = one_run(inbox, tmp / f"out{jobs}", jobs, args.pdf, not args.no_preload)
            rate = count / seconds[jobs] * 60
            print(f"jobs={jobs}: {count} workbooks in {seconds[jobs]:.1f} s = {rate:.1f} workbooks/min "
                  f"({seconds[jobs] / count:.2f} s each)")  # fmt: skip
        print(f"speed-up jobs=2 over jobs=1: {seconds[1] / seconds[2]:.2f}x")
        same = digest(tmp / "out1") == digest(tmp / "out2")
        print(f"identical outputs from both runs: {'yes' if same else 'NO'}")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
