"""Run the benchmarks: every bench/bench_*.py, or the ones named.

python -m bench                   # all of them, default sizes
python -m bench writeback         # bench/bench_writeback.py only
python -m bench writeback --full  # arguments after the names go to each script
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(argv: list[str]) -> int:
    available = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    cut = next((k for k, a in enumerate(argv) if a.startswith("-")), len(argv))
    names, options = argv[:cut], argv[cut:]  # names first; everything from the first option on is passed
    unknown = [n for n in names if n.removeprefix("bench_") not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    status = 0
    for name in [n.removeprefix("bench_") for n in names] or available:
        print(f"\n=== bench_{name} ===", flush=True)
        # each in its own interpreter, so one bench's memory never shows in another's figures
        done = subprocess.run([sys.executable, "-m", f"bench.bench_{name}", *options], cwd=HERE.parent)
        status = status or done.returncode
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
