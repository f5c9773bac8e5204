"""Render time of the example briefing (workbooks/example.xlsx): cold and warm, and the CLI end to end.

    .venv/bin/python bench/bench_render.py [runs]

Prints figures and asserts nothing (speed is not a unit test). Targets: warm render under 1.5 s;
``scrm-xl run --pdf`` on the example in a fresh process under 3 s.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EXAMPLE = ROOT / "workbooks" / "example.xlsx"


def fresh(args: list[str]) -> tuple[float, float]:
    """Wall and CPU time (user + sys) of a command in a fresh Python process (imports included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timed(fn) -> tuple[float, float]:
    """Wall and CPU time of ``fn()`` in this process; CPU time is steadier on a shared machine."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def show(label: str, pairs: list[tuple[float, float]]) -> str:
    wall = statistics.median(p[0] for p in pairs)
    cpu = statistics.median(p[1] for p in pairs)
    print(
        f"{label:<40} {wall:5.2f} s wall, {cpu:5.2f} s CPU"
        + (f" (median of {len(pairs)})" if len(pairs) > 1 else "")
    )
    return wall


def main(runs: int = 7) -> None:
    bare = [fresh(["-c", "pass"]) for _ in range(3)]
    weasy = [fresh(["-c", "import weasyprint"]) for _ in range(3)]
    # what the renderer imports: WeasyPrint without ctypes' library search (scrm_xl/pdf.py)
    guarded = [fresh(["-c", "import scrm_xl.pdf"]) for _ in range(3)]
    engine = [
        fresh(["-c", "import scrm_xl.pipeline, scrm_xl.read, scrm_xl.compute, scrm_xl.write"])
        for _ in range(3)
    ]

    t0 = time.perf_counter()
    from pypdf import PdfReader

    import scrm_xl.pdf  # noqa: F401 (render_pdf would import it at the first render otherwise)
    from scrm_xl.pipeline import calculate, check
    from scrm_xl.render import render_html, render_pdf

    imported = time.perf_counter() - t0
    holder = {}
    computed = timed(lambda: holder.update(results=calculate(check(EXAMPLE))))
    results = holder["results"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "briefing.pdf"
        cold = timed(lambda: render_pdf(results, out))
        warm = [timed(lambda: render_pdf(results, out)) for _ in range(runs)]
        html = [timed(lambda: render_html(results)) for _ in range(runs)]
        size = out.stat().st_size
        pages = len(PdfReader(out).pages)
        book = Path(tmp) / "example.xlsx"
        book.write_bytes(EXAMPLE.read_bytes())
        cli_run = [
            fresh(["-m", "scrm_xl", "run", str(book), "--pdf", str(Path(tmp) / "run.pdf")]) for _ in range(3)
        ]
        cli_report = [
            fresh(["-m", "scrm_xl", "report", str(book), "-o", str(Path(tmp) / "r.pdf")]) for _ in range(3)
        ]

    print(f"example workbook: {EXAMPLE.name}, {len(results.periods)} periods, {len(results.goals)} goals, "
          f"{len(results.initiatives)} initiatives, {len(results.ledger)} ledger lines; load average "
          f"{' '.join(f'{x:.2f}' for x in __import__('os').getloadavg())}")  # fmt: skip
    show("python startup (python -c pass)", bare)
    show("import weasyprint, fresh process", weasy)
    show("import scrm_xl.pdf, fresh process", guarded)
    show("import the engine (no weasyprint)", engine)
    print(f"{'import scrm_xl.pdf and .render here':<40} {imported:5.2f} s wall")
    show("read + load + compute the example", [computed])
    show("cold render (first PDF in process)", [cold])
    median = show("warm render", warm)
    show("HTML only (Jinja + SVG charts)", html)
    run_wall = show("scrm-xl run --pdf, fresh process", cli_run)
    show("scrm-xl report, fresh process", cli_report)
    print(f"PDF: {pages} pages, {size / 1024:.0f} KiB")
    print(
        f"target warm < 1.5 s: {'met' if median < 1.5 else 'MISSED'}; "
        f"target run --pdf < 3 s: {'met' if run_wall < 3 else 'MISSED'}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
