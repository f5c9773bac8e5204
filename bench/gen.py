"""Generate large, realistic workbooks for the benchmarks.

    .venv/bin/python bench/gen.py ROWS OUT.xlsx

The shapes come from ``scrm_xl.examples.realistic()`` (5 goals, 9 initiatives,
monthly costs and metrics, ~2,400 returns of which a third are credited
through touchpoints). Its returns are repeated, each copy with its own
Transaction ref, until the Returns sheet holds ROWS rows; a return credited
through touchpoints brings its touchpoints along (so about a third of the
returns have touchpoints, 1-6 each). XlsxWriter's constant_memory mode writes
row by row, so a million rows need little memory.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scrm_xl.examples import realistic  # noqa: E402
from scrm_xl.schema import INPUT_SHEETS, PROGRAM_SETTINGS  # noqa: E402


def _cell(ws, r: int, c: int, value: object, fmt) -> None:
    if value is None:
        return
    if isinstance(value, datetime):
        ws.write_datetime(r, c, value, fmt["datetime"])
    elif isinstance(value, date):
        ws.write_datetime(r, c, datetime(value.year, value.month, value.day), fmt["date"])
    elif isinstance(value, Decimal):
        ws.write_number(r, c, float(value))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        ws.write_number(r, c, value)
    else:
        ws.write_string(r, c, str(value))


def generate(path: str | Path, returns: int) -> dict[str, int]:
    """Write a workbook with ``returns`` rows on Returns; returns the row count of each sheet."""
    import xlsxwriter

    example = realistic()
    sheets = {s.name: s for s in INPUT_SHEETS}
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    fmt = {
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": wb.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
    }
    counts: dict[str, int] = {}

    ws = wb.add_worksheet("Program")
    ws.write_string(0, 0, "Setting")
    ws.write_string(0, 1, "Value")
    r = 1
    for setting in PROGRAM_SETTINGS:
        value = example.program.get(setting.name)
        if value is not None:
            ws.write_string(r, 0, setting.name)
            _cell(ws, r, 1, value, fmt)
            r += 1
    counts["Program"] = r - 1

    def header(name: str):
        ws = wb.add_worksheet(name)
        for c, col in enumerate(sheets[name].columns):
            ws.write_string(0, c, col.name)
        return ws, [col.name for col in sheets[name].columns]

    for name in ("Goals", "Initiatives", "Costs"):
        ws, cols = header(name)
        for r, row in enumerate(example.rows[name], start=1):
            for c, col in enumerate(cols):
                _cell(ws, r, c, row.get(col), fmt)
        counts[name] = len(example.rows[name])

    # Returns and Touchpoints are written together, each sheet row by row
    touches_of: dict[str, list[dict]] = defaultdict(list)
    for t in example.rows["Touchpoints"]:
        touches_of[t["Transaction ref"]].append(t)
    base = example.rows["Returns"]
    ws_r, cols_r = header("Returns")
    ws_t, cols_t = header("Touchpoints")
    tr = 1
    for i in range(returns):
        row = base[i % len(base)]
        copy = i // len(base)
        ref = row["Transaction ref"] if copy == 0 else f"{row['Transaction ref']}-{copy}"
        for c, col in enumerate(cols_r):
            _cell(ws_r, i + 1, c, ref if col == "Transaction ref" else row.get(col), fmt)
        if row["Initiative ID"] is None:
            for t in touches_of[row["Transaction ref"]]:
                ws_t.write_string(tr, 0, ref)
                ws_t.write_string(tr, 1, t["Initiative ID"])
                ws_t.write_datetime(tr, 2, t["Timestamp"], fmt["datetime"])
                tr += 1
    counts["Returns"] = returns
    counts["Touchpoints"] = tr - 1

    ws, cols = header("Metrics")
    for r, row in enumerate(example.rows["Metrics"], start=1):
        for c, col in enumerate(cols):
            _cell(ws, r, c, row.get(col), fmt)
    counts["Metrics"] = len(example.rows["Metrics"])
    wb.close()
    return counts


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        sys.exit("usage: bench/gen.py ROWS OUT.xlsx")
    counts = generate(argv[1], int(argv[0].replace("_", "").replace(",", "")))
    print(", ".join(f"{k} {v:,}" for k, v in counts.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
