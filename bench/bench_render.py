"""Render time of the example briefing: cold (first render in a fresh process) and warm.

    /work/venv/bin/python bench/bench_render.py [runs]

Target: warm render under 1.5 s. Prints figures; asserts nothing (speed is not a unit test).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

t0 = time.perf_counter()
from scrm_xl.render import render_html, render_pdf  # noqa: E402
from tests.pdf_fixtures import make_results  # noqa: E402

imported = time.perf_counter() - t0


def main(runs: int = 5) -> None:
    results = make_results()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "briefing.pdf"
        t = time.perf_counter()
        render_pdf(results, out)
        cold = time.perf_counter() - t
        warm = []
        for _ in range(runs):
            t = time.perf_counter()
            render_pdf(results, out)
            warm.append(time.perf_counter() - t)
        t = time.perf_counter()
        for _ in range(runs):
            render_html(results)
        html = (time.perf_counter() - t) / runs
        size = out.stat().st_size
    warm.sort()
    print(f"import scrm_xl.render (weasyprint): {imported:.2f} s")
    print(f"cold render (first PDF in process):   {cold:.2f} s")
    print(f"warm render, median of {runs}:          {warm[len(warm) // 2]:.2f} s (best {warm[0]:.2f} s)")
    print(f"HTML only (Jinja + SVG charts):       {html * 1000:.0f} ms")
    verdict = "met" if warm[len(warm) // 2] < 1.5 else "MISSED"
    print(f"PDF size: {size / 1024:.0f} KiB; target warm < 1.5 s: {verdict}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
