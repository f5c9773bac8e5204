"""Build the committed workbooks, byte for byte the same on every run.

    python workbooks/build.py [OUTDIR]

writes scrm_template.xlsx (blank), example.xlsx (the realistic programme) and
worked_example.xlsx (the small programme of docs/worked-example.md) into
OUTDIR, by default this folder. tests/test_examples_build.py rebuilds them and
fails if the committed files drifted.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# run as a script from a clone: make the package importable without installing it
sys.path.insert(0, str(HERE.parent))

from scrm_xl.examples import realistic, worked  # noqa: E402
from scrm_xl.template import write_workbook  # noqa: E402

BOOKS = {
    "scrm_template.xlsx": lambda: None,
    "example.xlsx": realistic,
    "worked_example.xlsx": worked,
}


def build(outdir: Path) -> list[Path]:
    """Write every workbook into ``outdir``; return their paths."""
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in BOOKS.items():
        path = outdir / name
        write_workbook(path, make())
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    outdir = Path(argv[1]) if len(argv) > 1 else HERE
    for path in build(outdir):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
