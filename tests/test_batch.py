"""The batch runner with real worker processes, real workbooks and real failures."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import batch_jobs
import pytest
from openpyxl import Workbook
from rich.console import Console

from scrm_xl.batch import (
    assign_stems,
    expand_paths,
    print_summary,
    resolve_job,
    run_batch,
)

JOB = "batch_jobs:summarise"


def make_book(path: Path, rows: list[list], hostile: str | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Costs"
    for row in rows:
        ws.append(row)
    if hostile:
        wb.create_sheet("Hostile")["A1"] = hostile
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


@pytest.fixture
def inbox(tmp_path) -> Path:
    """Good, broken, hostile and duplicate-named workbooks, as finance ops receive them."""
    box = tmp_path / "inbox"
    make_book(box / "north" / "acme.xlsx", [["Date", "Amount"], ["2026-01-05", 1200.5], ["2026-02-01", 300]])
    make_book(box / "south" / "acme.xlsx", [["Date", "Amount"], ["2026-01-09", 10], [None, None], ["x", 5]])
    make_book(box / "beta.xlsm", [["Amount"], [1], [2], [3]])
    (box / "broken.xlsx").write_bytes(b"this is not a zip file at all")
    (box / "~$beta.xlsm").write_bytes(b"lock")
    (box / "notes.txt").write_text("not a workbook")
    for name in ("abort", "exit", "hog", "refuse", "noise", "hang-ignoring-sigterm", "threads"):
        make_book(box / "hostile" / f"{name}.xlsx", [["Amount"], [1]], hostile=name)
    return box


def run(inbox: Path, out: Path, jobs: int):
    items = [inbox / "north", inbox / "south" / "*.xlsx", inbox, inbox / "hostile", inbox / "beta.xlsm"]
    return run_batch(
        items, JOB, out_dir=out, options={"pdf": False}, jobs=jobs, timeout_s=3, memory_mb=400, progress=False
    )


EXPECTED = {
    "acme--north": (True, None),
    "acme--south": (True, None),
    "beta": (True, None),
    "broken": (False, "BadZipFile: File is not a zip file"),
    "abort": (False, "the worker crashed (SIGABRT)"),
    "exit": (False, "the worker exited with status 3 before finishing"),
    "hang-ignoring-sigterm": (False, "timed out after 3 s; stopped"),
    "hog": (False, "out of memory (limit 400 MB)"),
    "noise": (False, "KeyError: 'Amount'"),
    "refuse": (False, "Program!B2: currency is required"),
    "threads": (True, None),  # threads' malloc arenas must not count against the limit
}


def test_a_hostile_or_broken_file_fails_alone_and_runs_agree(inbox, tmp_path):
    reports = {jobs: run(inbox, tmp_path / f"out{jobs}", jobs) for jobs in (1, 3)}
    for jobs, report in reports.items():
        got = {o.stem: (o.ok, o.reason) for o in report.outcomes}
        assert got == EXPECTED, jobs
        # input order (sorted resolved paths), whatever order the workers finished in
        assert [o.path for o in report.outcomes] == sorted(o.path for o in report.outcomes)
        assert len(report.failed) == 7 and len(report.succeeded) == 4
        assert report.notes == (
            f"{inbox / '~$beta.xlsm'}: skipped, an Excel lock file (the workbook is open somewhere)",
        )

    one, three = tmp_path / "out1", tmp_path / "out3"
    if Path("/proc/self/status").exists():
        # twelve threads that each allocated 2 MB in small blocks: without one malloc arena, glibc
        # would reserve 64 MB of address space per thread, all of it counted against the limit
        assert int((one / "threads.vm-growth").read_text()) < 100
    outputs = sorted(p.name for p in one.glob("*.json"))
    assert outputs == ["acme--north.json", "acme--south.json", "beta.json", "threads.json"]
    for name in outputs:
        assert (one / name).read_bytes() == (three / name).read_bytes()

    # figures computed by hand from the rows written above
    north = json.loads((one / "acme--north.json").read_text())
    assert north["sheets"]["Costs"] == {"rows": 3, "sum": "1500.5"}
    south = json.loads((one / "acme--south.json").read_text())
    assert south["sheets"]["Costs"] == {"rows": 3, "sum": "15"}
    assert json.loads((one / "beta.json").read_text())["sheets"]["Costs"] == {"rows": 4, "sum": "6"}
    assert north["options"] == {"pdf": False}
    ok = {o.stem: o.result for o in reports[1].outcomes if o.ok}
    assert ok["beta"] == {"Costs": {"rows": 4, "sum": "6"}}

    # the timed-out job's own child process was stopped with it
    pid = int((one / "hang-ignoring-sigterm.child-pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)

    noise = next(o for o in reports[1].outcomes if o.stem == "noise")
    assert "a chatty library writes to stdout" in noise.log and "and to stderr" in noise.log
    abort = next(o for o in reports[1].outcomes if o.stem == "abort")
    assert "Fatal Python error: Aborted" in abort.log


def test_a_plain_hang_is_stopped_at_the_time_limit(tmp_path):
    make_book(tmp_path / "in" / "hang.xlsx", [["x"]], hostile="hang")
    make_book(tmp_path / "in" / "fine.xlsx", [["Amount"], [7]])
    report = run_batch([tmp_path / "in"], batch_jobs.summarise, out_dir=tmp_path / "out", timeout_s=1.5,
                       jobs=2, progress=False)  # fmt: skip
    assert [(o.stem, o.ok, o.reason) for o in report.outcomes] == [
        ("fine", True, None),
        ("hang", False, "timed out after 1.5 s; stopped"),
    ]


def test_expand_paths_dedupes_sorts_and_explains(tmp_path, monkeypatch):
    a = make_book(tmp_path / "a" / "z.xlsx", [[1]])
    b = make_book(tmp_path / "a" / "B.XLSX", [[1]])
    c = make_book(tmp_path / "c" / "deep" / "m.xlsm", [[1]])
    out = tmp_path / "a" / "out"
    make_book(out / "old-output.xlsx", [[1]])
    (tmp_path / "link.xlsx").symlink_to(a)
    monkeypatch.chdir(tmp_path)
    files, notes = expand_paths(
        ["a", "a/z.xlsx", str(a), "link.xlsx", "c/**/*.xls*", "missing.xlsx", "c/*.xlsx", "a/../a/B.XLSX"],
        exclude=out,
    )
    assert files == sorted([a.resolve(), b.resolve(), c.resolve()], key=str)
    assert notes == ["missing.xlsx: no such file or folder", "c/*.xlsx: matches no .xlsx or .xlsm workbook"]
    # the output folder's files are left out of folders and globs, but a file named on purpose is taken
    assert expand_paths([out / "old-output.xlsx"], exclude=out)[0] == [(out / "old-output.xlsx").resolve()]
    assert expand_paths([tmp_path / "a"], exclude=None)[0] == sorted([a.resolve(), b.resolve()], key=str)


def test_duplicate_file_names_get_distinct_stems():
    paths = [
        Path("/in/north/acme.xlsx"),
        Path("/in/south/Acme.xlsx"),
        Path("/x/a/book.xlsx"),
        Path("/y/a/book.xlsx"),
        Path("/q/plan.xlsx"),
        Path("/q/plan.xlsm"),
        Path("/q/solo.xlsx"),
        Path("/r/acme--north.xlsx"),
    ]
    assert assign_stems(paths) == [
        "acme--north",
        "Acme--south",
        "book--x-a",
        "book--y-a",
        "plan--xlsx",
        "plan--xlsm",
        "solo",
        "acme--north-2",  # its own name was taken by a disambiguated one
    ]


def test_job_must_be_reachable_from_a_worker():
    with pytest.raises(ValueError, match="top-level function"):
        resolve_job(lambda task: None)

    def local(task):
        return None

    with pytest.raises(ValueError, match="top-level function"):
        resolve_job(local)
    with pytest.raises(ValueError, match='job "batch_jobs:nope" cannot be found'):
        resolve_job("batch_jobs:nope")
    with pytest.raises(ValueError, match="must look like"):
        resolve_job("summarise")
    assert resolve_job("batch_jobs.summarise") is batch_jobs.summarise


def test_unpicklable_result_is_a_failure_of_that_file(tmp_path):
    make_book(tmp_path / "one.xlsx", [[1]])
    report = run_batch([tmp_path / "one.xlsx"], "batch_jobs:unpicklable_result", out_dir=tmp_path / "o",
                       progress=False)  # fmt: skip
    assert not report.outcomes[0].ok
    assert report.outcomes[0].reason.startswith("the job's result could not be sent back")


def test_progress_bar_and_summary_table(tmp_path):
    make_book(tmp_path / "in" / "good.xlsx", [["Amount"], [2]])
    (tmp_path / "in" / "bad.xlsx").write_bytes(b"nope")
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120, color_system=None)
    report = run_batch([tmp_path / "in"], JOB, out_dir=tmp_path / "out", console=console, jobs=2)
    shown = screen.getvalue()
    assert "2/2" in shown and "1 ok" in shown and "1 failed" in shown and "ETA" in shown

    table = io.StringIO()
    print_summary(report, Console(file=table, width=160, color_system=None))
    text = table.getvalue()
    assert "2 workbooks: 1 ok, 1 failed" in text
    assert "bad.xlsx" in text and "good.xlsx" in text and "BadZipFile: File is not a zip file" in text


def test_nothing_to_do_is_no_error(tmp_path):
    report = run_batch([tmp_path / "nothing*.xlsx"], JOB, out_dir=tmp_path / "out", progress=False)
    assert report.outcomes == ()
    assert report.notes == (f"{tmp_path / 'nothing*.xlsx'}: matches no .xlsx or .xlsm workbook",)
    assert not (tmp_path / "out").exists()


# run_batch in a fresh process: the forkserver is started once per process with the preload
# list of that moment, and this test process may have started one already
PRELOAD_PROBE = """
import json, sys
from pathlib import Path
from scrm_xl.batch import run_batch
from scrm_xl.jobs import workbook_preload
preload = workbook_preload({"pdf": True}) if sys.argv[2] == "preload" else ()
report = run_batch([sys.argv[1]], "batch_jobs:loaded_modules", out_dir=Path(sys.argv[1]) / "out",
                   jobs=1, progress=False, preload=preload)
print(json.dumps([o.result for o in report.outcomes]))
"""


@pytest.mark.parametrize("mode", ["preload", "bare"])
def test_workers_start_with_the_preloaded_modules_and_only_those(inbox, mode):
    import subprocess
    import sys

    tests = Path(__file__).parent
    proc = subprocess.run(
        [sys.executable, "-c", PRELOAD_PROBE, str(inbox), mode], capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": os.pathsep.join([str(tests.parent), str(tests)]), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(results) == 2  # beta.xlsm and broken.xlsx: the job opens neither
    expected = list(batch_jobs.WATCHED) if mode == "preload" else []
    assert all(r == expected for r in results), results


def test_every_module_the_workbook_job_preloads_exists():
    # a name the forkserver cannot import is skipped without a word, so a typo would go unseen
    import importlib

    from scrm_xl.jobs import workbook_preload

    with_pdf, without = workbook_preload({"pdf": True}), workbook_preload({"pdf": False})
    assert set(without) < set(with_pdf) and "scrm_xl.pdf" in with_pdf and "scrm_xl.pdf" not in without
    for name in with_pdf:
        assert importlib.import_module(name).__name__ == name
