"""Real job functions for the batch tests: a worker process imports this module by name.

``summarise`` reads a workbook with openpyxl and writes a JSON summary. A
workbook with a sheet named "Hostile" instead does what its A1 says, standing
in for files that crash, hang or eat memory in a real reader.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from scrm_xl.batch import JobError, Task


def _hostile(task: Task, what: str) -> None:
    if what == "abort":
        os.abort()
    if what == "exit":
        os._exit(3)
    if what == "hang":
        time.sleep(3600)
    if what == "hang-ignoring-sigterm":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen(["sleep", "3600"])  # started by the job; must die with it
        task.output(".child-pid").write_text(str(child.pid))
        time.sleep(3600)
    if what == "hog":
        hoard = []
        while True:  # 64 MB at a time until the limit stops it
            hoard.append(bytearray(64 * 1024 * 1024))
    if what == "threads":  # like the read's parsing and the write's deflate threads, more of them
        import threading

        def vm_mb() -> int:  # address space in use, what RLIMIT_AS limits
            status = Path("/proc/self/status").read_text()
            return int(next(ln for ln in status.splitlines() if ln.startswith("VmSize:")).split()[1]) // 1024

        before, kept = vm_mb(), []

        together = threading.Barrier(12)

        def allocate() -> None:  # small blocks come from the thread's malloc arena, not mmap
            together.wait()  # all twelve at once, as the parsing threads run beside each other
            kept.append([bytearray(1_000) for _ in range(2_000)])

        workers = [threading.Thread(target=allocate) for _ in range(12)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        if len(kept) != 12:
            raise MemoryError("a thread could not allocate")
        task.output(".vm-growth").write_text(str(vm_mb() - before))
    if what == "refuse":
        raise JobError("Program!B2: currency is required")
    if what == "noise":
        print("a chatty library writes to stdout", flush=True)
        os.write(2, b"and to stderr\n")
        raise KeyError("Amount")


def summarise(task: Task) -> dict:
    """Per sheet: rows with data and the sum of numeric cells; written to STEM.json."""
    book = load_workbook(task.path, read_only=True, data_only=True)
    try:
        if "Hostile" in book.sheetnames:
            _hostile(task, str(book["Hostile"]["A1"].value))
        summary = {}
        for ws in book.worksheets:
            rows = total = 0
            for row in ws.iter_rows(values_only=True):
                if any(v is not None for v in row):
                    rows += 1
                total += sum(Decimal(str(v)) for v in row if isinstance(v, int | float))
            summary[ws.title] = {"rows": rows, "sum": str(total)}
    finally:
        book.close()
    out = task.output(".json")
    out.write_text(json.dumps({"source": task.path.name, "sheets": summary, "options": dict(task.options)},
                              sort_keys=True, indent=1))  # fmt: skip
    return summary


def unpicklable_result(task: Task):
    return lambda: None


# --- real workbooks for the CLI tests ------------------------------------------------

WORKBOOKS = Path(__file__).resolve().parents[1] / "workbooks"


def tweak(
    dst: Path, *, program: dict | None = None, cells: dict | None = None, src: Path | None = None
) -> Path:
    """A copy of the worked example with Program settings and cells changed, as a user would edit it."""
    from openpyxl import load_workbook as _load

    book = _load(src or WORKBOOKS / "worked_example.xlsx")
    ws = book["Program"]
    for setting, value in (program or {}).items():
        row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == setting)
        ws.cell(row, 2).value = value
    for ref, value in (cells or {}).items():
        sheet, cell = ref.split("!")
        book[sheet][cell] = value
    dst.parent.mkdir(parents=True, exist_ok=True)
    book.save(dst)
    return dst


def huge_dimension(src: Path, dst: Path) -> Path:
    """The Costs sheet claims a used range up to XFD1048576 (see test_hostile.py)."""
    import re
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        wb_xml = zin.read("xl/workbook.xml").decode()
        names = re.findall(r'<sheet [^>]*name="([^"]+)"', wb_xml)
        part = f"xl/worksheets/sheet{names.index('Costs') + 1}.xml"
        for name in zin.namelist():
            data = zin.read(name)
            if name == part:
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', data)
            zout.writestr(name, data)
    return dst


# modules a test asks the batch to preload; loaded_modules reports which a worker already has
WATCHED = ("scrm_xl.pipeline", "scrm_xl.write", "xlsxwriter", "weasyprint")


def loaded_modules(task: Task) -> list[str]:
    """Which of WATCHED were imported before this job started (by the server it forked from)."""
    import sys

    return [m for m in WATCHED if m in sys.modules]
