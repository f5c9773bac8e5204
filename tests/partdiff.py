"""Compare two workbooks part by part (for the parts that are not ours) and
cell by cell (for ours), as XlsxWriter's comparison tests do."""

from __future__ import annotations

import hashlib
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
