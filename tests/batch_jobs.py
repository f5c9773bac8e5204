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
