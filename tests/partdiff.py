"""Compare two workbooks part by part (for the parts that are not ours) and
cell by cell (for ours), as XlsxWriter's comparison tests do."""

from __future__ import annotations

import hashlib
import subprocess
import zipfile
from pathlib import Path

from scrm_xl.write import _Package


def part_hashes(path: str | Path) -> dict[str, str]:
    """sha256 of every part's uncompressed content."""
    with zipfile.ZipFile(path) as z:
        return {n: hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist()}


def raw_entries(path: str | Path) -> dict[str, bytes]:
    """Every entry's local header + compressed bytes, exactly as stored."""
    pkg = _Package(Path(path).read_bytes(), str(path))
    return {e.name: e.local for e in pkg.entries}


def diff_parts(before: str | Path, after: str | Path) -> dict[str, set[str]]:
    """Which parts were removed, added, or changed in content or in raw storage."""
    a, b = part_hashes(before), part_hashes(after)
    ra, rb = raw_entries(before), raw_entries(after)
    common = a.keys() & b.keys()
    return {
        "removed": set(a) - set(b),
        "added": set(b) - set(a),
        "changed": {n for n in common if a[n] != b[n]},
        "restored": {n for n in common if a[n] == b[n] and ra[n] != rb[n]},  # same content, not copied raw
    }


def sheet_values(path: str | Path, sheet: str) -> dict[str, object]:
    """Cell values of one sheet as python-calamine reads them (cached values for formulas)."""
    from python_calamine import CalamineWorkbook

    from scrm_xl.model import column_letter

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    return {
        f"{column_letter(c + 1)}{r + 1}": v
        for r, row in enumerate(rows)
        for c, v in enumerate(row)
        if v != ""
    }


# --- LibreOffice recalculation ---------------------------------------------------------

RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item></oor:items>
"""


def recalculate(paths: list[Path], tmp_path: Path) -> Path:
    """Open the files in one LibreOffice headless run with 'always recalculate' and save them
    as xlsx into the returned folder (same base names, so give the inputs distinct names)."""
    profile = tmp_path / "lo-profile"
    (profile / "user").mkdir(parents=True)
    # LibreOffice ignores fullCalcOnLoad and by default trusts cached values of xlsx files
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS)
    out = tmp_path / "recalculated"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            *map(str, paths),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


def formula_cells(path: str | Path, sheets: set[str]) -> list[tuple[str, str]]:
    """(sheet, cell) of every formula cell on the given sheets."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    return [
        (ws.title, c.coordinate)
        for ws in wb
        if ws.title in sheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"  # not user text that merely starts with "="
    ]


def recalculation_differences(
    written: str | Path, recalculated: str | Path, sheets: set[str]
) -> tuple[int, list[tuple[str, str, object, object]]]:
    """(number of formula cells, [(sheet, cell, cached, recalculated)] where they differ)."""
    import openpyxl

    cached = openpyxl.load_workbook(written, data_only=True)
    fresh = openpyxl.load_workbook(recalculated, data_only=True)
    cells = formula_cells(written, sheets)
    bad = []
    for sheet, ref in cells:
        want, got = cached[sheet][ref].value, fresh[sheet][ref].value
        if want in (None, ""):  # an empty-text result ("" from IF) reads back as None
            same = got in (None, "")
        elif isinstance(want, str):
            same = got == want
        else:
            same = isinstance(got, (int, float)) and abs(float(got) - float(want)) <= 1e-9
        if not same:
            bad.append((sheet, ref, want, got))
    return len(cells), bad
