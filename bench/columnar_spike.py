"""What a columnar engine would cost: a measurement for issue 8, not part of scrm_xl.

    python -m venv /tmp/spike && /tmp/spike/bin/pip install polars fastexcel python-calamine
    /tmp/spike/bin/python bench/columnar_spike.py BENCH_WORKBOOK.xlsx [--lines OUT.csv]

BENCH_WORKBOOK is one of bench/gen.py's workbooks (bench_run.py caches them in
$TMPDIR/scrm_xl_bench). Not run by ``python -m bench``: polars and fastexcel are not
dependencies of scrm_xl.

Each figure is one fresh process. The floor is the same bare python-calamine read as
bench_run.py's. The spike reads Returns and Touchpoints with fastexcel into polars, credits the
returns without an initiative Position based through their touchpoints in integer cents
(largest remainder, ties to the lower Initiative ID), adds up the counted return by initiative,
month, type and confidence, and makes the Ledger's sheet XML (the cells scrm_xl writes, one
row per line) natively a chunk at a time, deflated on a second thread. It leaves out what the
record engine also does: the hostile-file pre-scan, the input rules and their messages, the
other sheets, the natural order of refs, the zip itself. ``--lines`` writes (ref, initiative,
cents) of every line, to compare with the record engine's Ledger.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

CALAMINE = """
import sys, python_calamine as pc
wb = pc.CalamineWorkbook.from_path(sys.argv[1])
print(sum(len(wb.get_sheet_by_name(s).to_python()) for s in wb.sheet_names))
"""

SPIKE = r"""
import io, queue, sys, threading, time, zlib
t0 = time.perf_counter()
import fastexcel, polars as pl

marks = [("import", time.perf_counter())]
def mark(name):
    marks.append((name, time.perf_counter()))

LOOKBACK, DEFAULT_MARGIN = 90, 3800  # the bench workbooks' Program: days, and 0.38 in 1/10,000
r = fastexcel.read_excel(sys.argv[1])
ret = r.load_sheet_by_name("Returns").to_polars()
tp = r.load_sheet_by_name("Touchpoints").to_polars()
mark("read")

ret = ret.with_row_index("row", offset=2).with_columns(
    cents=(pl.col("Amount") * 100).round(0).cast(pl.Int64),
    m=pl.when(pl.col("Return type") == "New revenue")
    .then((pl.col("Gross margin").fill_null(DEFAULT_MARGIN / 10_000) * 10_000).round(0))
    .otherwise(10_000)
    .cast(pl.Int64),
    a=(pl.col("Attribution").fill_null(1.0) * 10_000).round(0).cast(pl.Int64),
    day=pl.col("Date").dt.date(),
)
# counted = cents x attribution x margin, rounded half up, in integers
ret = ret.with_columns(counted=(pl.col("cents") * pl.col("a") * pl.col("m") + 50_000_000) // 100_000_000)
mark("load")

columns = ["row", "day", "Transaction ref", "Return type", "Confidence", "cents", "a", "m"]
direct = ret.filter(pl.col("Initiative ID").is_not_null()).select(
    *columns[:5], "Initiative ID", *columns[5:],
    pl.lit(1).alias("num"), pl.lit(1).alias("den"), pl.col("counted").alias("line"),
    pl.lit("direct").alias("model"), pl.lit(None, pl.UInt32).alias("touch_row"),
)
tp = tp.with_row_index("touch_row", offset=2).with_columns(tday=pl.col("Timestamp").dt.date())
via = ret.filter(pl.col("Initiative ID").is_null()).select(*columns, "counted").join(
    tp.select("Transaction ref", pl.col("Initiative ID").alias("init"), "Timestamp", "tday", "touch_row"),
    on="Transaction ref",
)
age = (pl.col("day") - pl.col("tday")).dt.total_days()
via = via.filter((age >= 0) & (age <= LOOKBACK)).sort("row", "Timestamp", "init")
via = via.with_columns(pos=pl.int_range(pl.len()).over("row"), n=pl.len().over("row"))
n, pos = pl.col("n"), pl.col("pos")
# Position based as rationals: 40 % first, 40 % last, 20 % shared by the middle; one touch 100 %,
# two 50 % each
via = via.with_columns(
    num=pl.when(n <= 2).then(1).when((pos == 0) | (pos == n - 1)).then(2 * (n - 2)).otherwise(1),
    den=pl.when(n == 1).then(1).when(n == 2).then(2).otherwise(5 * (n - 2)),
)
per = via.group_by("row", "init").agg(
    pl.col(*columns[1:], "counted", "den").first(), pl.col("num").sum(), pl.col("touch_row").last()
)
whole = pl.col("counted") * pl.col("num")
per = per.sort("row", "init").with_columns(floor=whole // pl.col("den"), rest=whole % pl.col("den"))
per = per.with_columns(
    left=pl.col("counted") - pl.col("floor").sum().over("row"),
    place=pl.col("rest").rank("ordinal", descending=True).over("row"),
)
per = per.with_columns(line=pl.col("floor") + (pl.col("place") <= pl.col("left")).cast(pl.Int64))
credited = per.select(
    *columns[:5], pl.col("init").alias("Initiative ID"), *columns[5:], "num", "den", "line",
    pl.lit("Position based").alias("model"), "touch_row",
)
ledger = pl.concat([direct, credited.cast(direct.schema)]).sort("day", "Transaction ref", "Initiative ID")
mark("attribute")

sums = ledger.group_by("Initiative ID", pl.col("day").dt.truncate("1mo"), "Return type", "Confidence").agg(
    pl.col("line").sum()
)
mark("aggregate")


def text(col, s):
    return pl.concat_str([pl.lit(f'<c s="{s}" t="inlineStr"><is><t>'), col, pl.lit("</t></is></c>")])


def num(col, s):
    return pl.concat_str([pl.lit(f'<c s="{s}"><v>'), col.cast(pl.String), pl.lit("</v></c>")])


def money(c):
    return pl.format("{}.{}", c // 100, (c % 100).cast(pl.String).str.zfill(2))


serial = (pl.col("day") - pl.date(1899, 12, 30)).dt.total_days()
row_xml = pl.concat_str(
    [
        pl.lit('<row r="'), pl.col("r").cast(pl.String), pl.lit('">'),
        text(pl.lit("Return"), 22), text(pl.lit("Returns!A") + pl.col("row").cast(pl.String), 22),
        num(serial, 23), text(pl.col("day").dt.strftime("%Y-%m"), 22), text(pl.lit("G1"), 22),
        text(pl.col("Initiative ID"), 22), text(pl.lit("X"), 22), text(pl.col("Return type"), 22),
        text(pl.col("Confidence"), 22), text(pl.col("Transaction ref"), 22), num(money(pl.col("cents")), 24),
        num(pl.col("a") / 10_000, 25), num(pl.col("m") / 10_000, 25),
        num(pl.col("num") / pl.col("den"), 25), num(money(pl.col("line")), 24), text(pl.col("model"), 33),
        pl.when(pl.col("touch_row").is_not_null())
        .then(text(pl.lit("Touchpoints!A") + pl.col("touch_row").cast(pl.String), 22))
        .otherwise(pl.lit("")),
        pl.lit("</row>"),
    ],
    ignore_nulls=True,
)  # fmt: skip
chunks = queue.Queue(4)
sizes = {"xml": 0, "deflated": 0}


def deflate():
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    while (data := chunks.get()) is not None:
        sizes["xml"] += len(data)
        sizes["deflated"] += len(z.compress(data))
    sizes["deflated"] += len(z.flush())


worker = threading.Thread(target=deflate)
worker.start()
numbered = ledger.with_row_index("r", offset=5)
for start in range(0, len(numbered), 100_000):
    buf = io.BytesIO()
    numbered.slice(start, 100_000).select(row_xml).write_csv(buf, include_header=False, quote_style="never")
    chunks.put(buf.getvalue())
chunks.put(None)
mark("xml")
worker.join()
mark("deflate")
if len(sys.argv) > 2:
    ledger.select("Transaction ref", "Initiative ID", "line").write_csv(sys.argv[2])
stages = " ".join(f"{k}={v - p:.2f}" for (k, v), p in zip(marks, [t0] + [m[1] for m in marks]))
xml_mb, deflated_mb = sizes["xml"] / 1e6, sizes["deflated"] / 1e6
print(f"{len(ledger):,} lines, {xml_mb:.0f} MB of XML deflated to {deflated_mb:.1f} MB, "
      f"counted {ledger['line'].sum()} cents; {stages}")
"""


def child(args: list[str]) -> tuple[float, int, str]:
    """(wall seconds, peak RSS bytes, stdout) of one fresh process."""
    t = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    proc.stdout.close()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{args[:3]} failed:\n{err[-2000:]}")
    return wall, usage.ru_maxrss * 1024, out.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("book")
    ap.add_argument("--lines", help="write every Ledger line's (ref, initiative, cents) here")
    ap.add_argument("--repeat", type=int, default=3, help="fastest of N, alternating (default 3)")
    args = ap.parse_args()
    floor, spike = [], []
    for _ in range(args.repeat):
        floor.append(child([sys.executable, "-c", CALAMINE, args.book]))
        spike.append(child([sys.executable, "-c", SPIKE, args.book, *([args.lines] if args.lines else [])]))
    f, s = min(floor), min(spike)
    print(f"calamine read {f[0]:.2f} s ({f[1] / 2**20:,.0f} MB); columnar spike {s[0]:.2f} s "
          f"({s[1] / 2**20:,.0f} MB), {s[0] / f[0]:.2f}x the read")  # fmt: skip
    print(f"  {s[2]}")


if __name__ == "__main__":
    main()
