"""The committed workbooks are exactly what workbooks/build.py makes."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOKS = ("scrm_template.xlsx", "example.xlsx", "worked_example.xlsx")


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rebuilt")
    # run it the way the docs say, from the repository root, as a script
    done = subprocess.run(
        [sys.executable, "workbooks/build.py", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(BOOKS)
    return out


def _differing_parts(a: Path, b: Path) -> list[str]:
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        names = sorted(set(za.namelist()) | set(zb.namelist()))
        return [
            n for n in names
            if n not in za.namelist() or n not in zb.namelist() or za.read(n) != zb.read(n)
        ]  # fmt: skip


@pytest.mark.parametrize("name", BOOKS)
def test_committed_workbook_is_byte_identical_to_a_rebuild(rebuilt, name):
    committed = ROOT / "workbooks" / name
    assert committed.exists(), f"run: python workbooks/build.py (missing {committed})"
    fresh = rebuilt / name
    if committed.read_bytes() != fresh.read_bytes():
        parts = _differing_parts(committed, fresh)
        pytest.fail(f"workbooks/{name} drifted from workbooks/build.py in {parts}; rebuild and commit it")
