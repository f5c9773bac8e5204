"""End to end: ``scrm-xl run`` against the floor (a bare python-calamine read) and what
users of other tools wait for (an openpyxl load-and-save), measured in one run.

    .venv/bin/python bench/bench_run.py [--full] [--skip-openpyxl-1m] [--no-openpyxl] [--shared-strings]
        [--repeat N]

Default sizes 10k and 100k return rows (touchpoints for about a third); ``--full``
adds 1,048,000. Workbooks come from bench/gen.py and are cached in
$TMPDIR/scrm_xl_bench. Every figure is one fresh child process: wall time and its
peak resident memory (ru_maxrss). A second child times the stages one by one
(read, load, compute, write) so the cost of the write-back shows apart.

Targets (issue 8): run within 2x the calamine read; 1M rows under 2 GB peak; the
example workbook's ``run --pdf`` under 3 s in a fresh process. Prints figures and
verdicts; asserts nothing (speed is not a unit test).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SIZES = (10_000, 100_000)
FULL = 1_048_000
GB = 1024**3

CALAMINE = """
import sys, python_calamine as pc
wb = pc.CalamineWorkbook.from_path(sys.argv[1])
n = sum(len(wb.get_sheet_by_name(s).to_python()) for s in wb.sheet_names)
print(n)
"""

OPENPYXL = """
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
wb.save(sys.argv[2])
"""

STAGES = """
import sys, time
t = time.perf_counter()
from scrm_xl.read import read_workbook
from scrm_xl.load import load
from scrm_xl.compute import compute
from scrm_xl.write import write_results
marks = [("import", time.perf_counter() - t)]
t = time.perf_counter(); tables, _ = read_workbook(sys.argv[1])
marks.append(("read", time.perf_counter() - t))
t = time.perf_counter(); records, _ = load(tables); marks.append(("load", time.perf_counter() - t))
del tables
t = time.perf_counter(); results = compute(records); marks.append(("compute", time.perf_counter() - t))
t = time.perf_counter(); write_results(sys.argv[1], results, out_path=sys.argv[2])
marks.append(("write", time.perf_counter() - t))
print(" ".join(f"{k}={v:.3f}" for k, v in marks))
"""


def child(args: list[str], *, env: dict | None = None) -> tuple[float, int, str, float]:
    """(wall seconds, peak RSS bytes, stdout, CPU seconds) of one fresh process."""
    t = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.stdout and proc.stdout.close()
    proc.stderr and proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1: the workbook has errors, still a full run
        raise SystemExit(f"{args[:4]} failed with {code}:\n{err[-2000:]}")
    return wall, usage.ru_maxrss * 1024, out, usage.ru_utime + usage.ru_stime


def workbook(rows: int, cache: Path, shared_strings: bool = False) -> Path:
    """The generated workbook of ``rows`` returns, rebuilt when bench/gen.py changes; with
    ``shared_strings``, its texts moved to a shared-strings table as Excel saves them (bench/sst.py)."""
    stamp = hashlib.sha256((ROOT / "bench" / "gen.py").read_bytes()).hexdigest()[:10]
    path = cache / f"returns_{rows}_{stamp}.xlsx"
    if not path.exists():
        t = time.perf_counter()
        tmp = path.with_suffix(".part.xlsx")
        child([PY, str(ROOT / "bench" / "gen.py"), str(rows), str(tmp)])
        tmp.replace(path)
        size = path.stat().st_size / 1024**2
        print(f"  generated {path.name} ({size:.1f} MB) in {time.perf_counter() - t:.0f} s")
    if not shared_strings:
        return path
    sst_stamp = hashlib.sha256((ROOT / "bench" / "sst.py").read_bytes()).hexdigest()[:6]
    converted = cache / f"returns_{rows}_{stamp}_sst{sst_stamp}.xlsx"
    if not converted.exists():
        tmp = converted.with_suffix(".part.xlsx")
        child([PY, str(ROOT / "bench" / "sst.py"), str(path), str(tmp)])
        tmp.replace(converted)
    return converted


def mb(n: int) -> str:
    return f"{n / 1024**2:,.0f} MB"


def bench_size(
    rows: int,
    cache: Path,
    out: Path,
    openpyxl: bool,
    stages: bool = True,
    shared_strings: bool = False,
    repeat: int = 1,
) -> dict:
    book = workbook(rows, cache, shared_strings)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # calamine and run alternately, the fastest of each kept: on a shared machine a slow
    # minute then slows both alike instead of deciding the ratio
    cals, runs = [], []
    for _ in range(repeat):
        cals.append(child([PY, "-c", CALAMINE, str(book)]))
        runs.append(child([PY, "-m", "scrm_xl", "run", str(book), "-o", str(out / "run.xlsx")], env=env))
    cal_t, cal_m, _, cal_c = min(cals)
    run_t, run_m, _, run_c = min(runs)
    if stages:
        stages = child([PY, "-c", STAGES, str(book), str(out / "stages.xlsx")], env=env)[2]
    else:
        stages = "skipped (--stages-1m)"
    opx = None
    if openpyxl:
        opx = child([PY, "-c", OPENPYXL, str(book), str(out / "openpyxl.xlsx")])[:2]
    return {"rows": rows, "size": book.stat().st_size, "calamine": (cal_t, cal_m), "run": (run_t, run_m),
            "cpu": (cal_c, run_c), "stages": stages.strip(), "openpyxl": opx}  # fmt: skip


def example_pdf(out: Path) -> tuple[float, float, float]:
    """Fresh-process times: ``run --pdf`` of the example workbook, ``check`` of it, bare import of the CLI."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    book = ROOT / "workbooks" / "example.xlsx"
    pdf_t = child([PY, "-m", "scrm_xl", "run", str(book), "-o", str(out / "ex.xlsx"), "--pdf",
                   str(out / "ex.pdf")], env=env)[0]  # fmt: skip
    check_t = child([PY, "-m", "scrm_xl", "check", str(book)], env=env)[0]
    import_t = child([PY, "-c", "import scrm_xl.cli"], env=env)[0]
    return pdf_t, check_t, import_t


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="add 1,048,000 return rows")
    ap.add_argument("--skip-openpyxl-1m", action="store_true", help="no openpyxl load+save at 1M (minutes)")
    ap.add_argument("--no-openpyxl", action="store_true", help="no openpyxl load+save at any size")
    ap.add_argument("--stages-1m", action="store_true", help="time the stages one by one at 1M too")
    ap.add_argument(
        "--shared-strings", action="store_true", help="texts in a shared-strings table, as Excel saves them"
    )
    ap.add_argument(
        "--repeat", type=int, default=1, metavar="N", help="below 1M: each run N times, fastest kept"
    )
    args = ap.parse_args(argv)
    cache = Path(tempfile.gettempdir()) / "scrm_xl_bench"
    cache.mkdir(exist_ok=True)
    sizes = (*SIZES, FULL) if args.full else SIZES
    version = sys.version.split()[0]
    texts = "shared-strings table" if args.shared_strings else "inline strings"
    best = f", fastest of {args.repeat} below 1M" if args.repeat > 1 else ""
    when = time.strftime("%Y-%m-%d %H:%M")
    print(f"bench_run: {when}, {os.cpu_count()} CPUs, Python {version}, {texts}{best}")
    rows_out = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for rows in sizes:
            skip = args.no_openpyxl or (rows >= FULL and args.skip_openpyxl_1m)
            stages, sst = rows < FULL or args.stages_1m, args.shared_strings
            repeat = 1 if rows >= FULL else max(args.repeat, 1)
            r = bench_size(rows, cache, out, not skip, stages, sst, repeat)
            rows_out.append(r)
            cal, run = r["calamine"][0], r["run"][0]
            print(f"  {rows:>9,} rows: calamine {cal:.2f} s, run {run:.2f} s; {r['stages']}")
        pdf_t, check_t, import_t = example_pdf(out)

    print()
    head = ("| return rows | file | calamine read | scrm-xl run | run / calamine | run peak RSS "
            "| openpyxl load+save | run / openpyxl |")  # fmt: skip
    print(head)
    print("|" + "---|" * 8)
    for r in rows_out:
        cal_t, cal_m = r["calamine"]
        run_t, run_m = r["run"]
        opx = r["openpyxl"]
        opx_s = f"{opx[0]:.1f} s ({mb(opx[1])})" if opx else "skipped"
        ratio_o = f"{run_t / opx[0]:.2f}x" if opx else "n/a"
        print(
            f"| {r['rows']:,} | {r['size'] / 1024**2:.1f} MB | {cal_t:.2f} s ({mb(cal_m)}) | {run_t:.2f} s "
            f"| {run_t / cal_t:.1f}x | {mb(run_m)} | {opx_s} | {ratio_o} |"
        )
    print()
    print("CPU seconds of the same processes (user + system; run also parses and deflates on a second core):")
    for r in rows_out:
        cal_c, run_c = r["cpu"]
        print(f"  {r['rows']:>9,}: calamine {cal_c:.2f} s, run {run_c:.2f} s ({run_c / cal_c:.1f}x)")
    print()
    print("stages (seconds, one child process; write = ROI/KPI/Ledger/Checks write-back):")
    for r in rows_out:
        print(f"  {r['rows']:>9,}: {r['stages']}")
    print()
    print(
        f"example workbook, fresh process: run --pdf {pdf_t:.2f} s; check {check_t:.2f} s; "
        f"import scrm_xl.cli {import_t:.2f} s"
    )
    print()
    print("targets:")
    for r in rows_out:
        ratio = r["run"][0] / r["calamine"][0]
        print(
            f"  {r['rows']:>9,}: run within 2x calamine: {'met' if ratio <= 2 else 'MISSED'} ({ratio:.1f}x)"
        )
        if r["rows"] >= FULL:
            ok = r["run"][1] < 2 * GB
            print(f"  {r['rows']:>9,}: peak under 2 GB: {'met' if ok else 'MISSED'} ({mb(r['run'][1])})")
    print(f"  example run --pdf under 3 s: {'met' if pdf_t < 3 else 'MISSED'} ({pdf_t:.2f} s)")


if __name__ == "__main__":
    main()
