"""`scrm-xl run` / `report` end to end, as a real subprocess on the worked example workbook.

Expected figures are the hand-derived ones in docs/worked-example.md, recomputed here from the rows.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKED = ROOT / "workbooks" / "worked_example.xlsx"


def python(*args, cwd, no_fork: bool = False) -> subprocess.CompletedProcess:
    """A fresh interpreter on this tree: ``python ARGS`` (``-m scrm_xl ...``, ``-c CODE ...``)."""
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", **({"SCRM_XL_NO_FORK": "1"} if no_fork else {})}
    return subprocess.run(
        [sys.executable, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120, env=env
    )


def scrm(*args, cwd, no_fork: bool = False):
    return python("-m", "scrm_xl", *args, cwd=cwd, no_fork=no_fork)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def book(tmp_path):
    target = tmp_path / "worked.xlsx"
    shutil.copyfile(WORKED, target)
    return target


def test_run_json_matches_the_hand_derived_figures(book, tmp_path):
    before = sha(book)
    out = tmp_path / "calculated.xlsx"
    proc = scrm("run", book, "-o", out, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    # costs: 3,000 + 1,500 + 3,000 + 1,200 + 800 + 2,000; the 800 has no initiative
    investment = Decimal("3000") + 1500 + 3000 + 1200 + 800 + 2000
    # expected = High + Medium: 1,750 (5,000 x 35%) + 938.27 (2,345.67 x 40%) + 800 (4,000 x 50% x 40%)
    #   + 3,150 cost savings + 1,000 spending avoided; the Low 2,000 x 40% = 800 only in Optimistic
    new_revenue = Decimal("1750.00") + Decimal("938.27") + Decimal("800.00")
    expected = new_revenue + 3150 + 1000
    totals = data["totals"]
    assert Decimal(str(totals["investment"])) == investment
    assert Decimal(str(totals["unallocated_investment"])) == 800
    assert Decimal(str(totals["return"]["new_revenue"])) == new_revenue
    assert Decimal(str(totals["return"]["total"])) == expected
    assert Decimal(str(totals["net_return"])) == expected - investment
    assert totals["roi"]["expected"] == pytest.approx(float((expected - investment) / investment))
    assert totals["roi"]["optimistic"] == pytest.approx(float((expected + 800 - investment) / investment))
    assert totals["payback_months"] is None
    assert data["program"]["as_of"] == "2026-03-31"
    assert sha(book) == before, "-o must leave the input untouched"
    wb = openpyxl.load_workbook(out)
    assert {"ROI", "KPI", "Ledger", "Checks"} <= set(wb.sheetnames)
    assert wb.sheetnames[:8] == openpyxl.load_workbook(book).sheetnames[:8]


def test_run_in_place_twice_is_idempotent_and_keeps_input_sheets(book, tmp_path):
    costs_before = [list(r) for r in openpyxl.load_workbook(book)["Costs"].values]
    assert scrm("run", book, cwd=tmp_path).returncode == 0
    once = sha(book)
    assert scrm("run", book, cwd=tmp_path).returncode == 0
    assert sha(book) == once
    assert [list(r) for r in openpyxl.load_workbook(book)["Costs"].values] == costs_before


def test_report_writes_a_pdf_beside_the_book_and_leaves_the_book_alone(book, tmp_path):
    before = sha(book)
    proc = scrm("report", book, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    pdf = book.with_suffix(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert sha(book) == before
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Worked example" in text
    assert "11,500" in text  # the investment, in the programme's en_US locale


def test_run_on_a_book_with_errors_exits_1_and_names_the_cell(tmp_path):
    book = tmp_path / "bad.xlsx"
    wb = openpyxl.load_workbook(WORKED)
    ws = wb["Costs"]
    ws.cell(row=3, column=6).value = "12,5x"
    wb.save(book)
    proc = scrm("run", book, "--no-write", cwd=tmp_path)
    assert proc.returncode == 1
    assert "Costs!F3" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_attach_without_archival_variant_is_refused(book, tmp_path):
    proc = scrm("report", book, "--attach-workbook", cwd=tmp_path)
    assert proc.returncode == 2
    assert "pdf/a-3b" in proc.stderr


def test_pdf_rendered_beside_the_write_equals_the_sequential_one(tmp_path):
    outputs = {}
    for no_fork in (False, True):
        folder = tmp_path / ("sequential" if no_fork else "parallel")
        folder.mkdir()
        shutil.copyfile(WORKED, folder / "book.xlsx")
        proc = scrm("run", "book.xlsx", "-o", "out.xlsx", "--pdf", "out.pdf", cwd=folder, no_fork=no_fork)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == ""
        outputs[no_fork] = (sha(folder / "out.xlsx"), sha(folder / "out.pdf"))
    assert outputs[False] == outputs[True]


@pytest.mark.parametrize("no_fork", [False, True])
def test_a_failed_write_reports_one_line_and_leaves_no_renderer_behind(tmp_path, no_fork):
    shutil.copyfile(WORKED, tmp_path / "book.xlsx")
    (tmp_path / "~$book.xlsx").write_bytes(b"excel holds it")
    proc = scrm("run", "book.xlsx", "--pdf", "book.pdf", cwd=tmp_path, no_fork=no_fork)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "open" in proc.stderr.lower() or "lock" in proc.stderr.lower()
    # the process exited, so a renderer it forked either finished or was waited for: no temp files left
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".") or p.suffix == ".tmp") == []


@pytest.mark.parametrize("no_fork", [False, True])
def test_a_render_failure_is_one_error_after_the_sheets_are_written(tmp_path, monkeypatch, no_fork):
    # forked (when this process has no other thread) the child's failure must cross the pipe;
    # sequential, the render runs after the write: the same outcome either way
    from scrm_xl import pdf, pipeline

    if no_fork:
        monkeypatch.setenv("SCRM_XL_NO_FORK", "1")

    shutil.copyfile(WORKED, tmp_path / "book.xlsx")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pdf, "write_pdf", broken)
    with pytest.raises(pipeline.RenderError, match="OSError: disk full"):
        pipeline.run(tmp_path / "book.xlsx", out_path=tmp_path / "out.xlsx", pdf_path=tmp_path / "out.pdf")
    assert (tmp_path / "out.xlsx").exists()  # the sheets were still written


# pipeline.run in a fresh process: only a single-threaded process forks its renderer, and the
# test process may hold idle threads of earlier tests. Prints how often it forked, what run
# returned or raised, and the children still listed in /proc.
PROBE = """
import json, os, sys
from pathlib import Path
from scrm_xl import pipeline

forks, real_fork = [], os.fork
def counting_fork():
    forks.append(1)
    return real_fork()
os.fork = counting_fork
if sys.argv[3] == "full-disk":
    import scrm_xl.render  # noqa: F401 (Jinja2 calls pickle.dumps on import: load it before the disk fills)
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")
    import pickle  # the renderer pickles the HTML for its child
    pickle.dumps = full_disk
if sys.argv[3] == "bad-html":
    from scrm_xl import render
    def bad_html(*args, **kwargs):
        raise ValueError("no HTML today")
    render.prepare_pdf = bad_html
if sys.argv[3] == "interrupted":  # Ctrl-C while the parent waits for a child still laying out
    import signal, time
    from scrm_xl import files, pdf
    def half_written(html, out, **options):
        with files.replacing(out) as tmp:
            tmp.write_bytes(b"%PDF-1.7 half")
            time.sleep(60)
    pdf.write_pdf = half_written
    def interrupt(*args):
        raise KeyboardInterrupt
    signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 4)
if sys.argv[3].startswith("read-fails"):  # the disk goes away while the workbook is read
    def failing_read(path):
        raise OSError(5, "Input/output error")
    pipeline._check = failing_read
book = Path(sys.argv[1])
options = {"out_path": book.with_name("out.xlsx"), "pdf_path": sys.argv[2]}
if sys.argv[3] == "read-fails-early":
    options.update(renderer=pipeline.Renderer())
if sys.argv[3] == "attach-early":  # a renderer forked by the caller, but the written workbook is attached
    options.update(renderer=pipeline.Renderer(), pdf_variant="pdf/a-3b", attach_workbook=True)
if sys.argv[3] == "no-pdf-early":  # a renderer forked by the caller, and no PDF asked for
    options.update(renderer=pipeline.Renderer(), pdf_path=None)
try:
    out = pipeline.run(book, **options)
    result = [out.exit_code, out.results is None, out.pdf is None]
except OSError as exc:
    result = ["OSError", exc.strerror]
except pipeline.RenderError as exc:
    result = ["RenderError", str(exc), Path(book.with_name("out.xlsx")).exists()]
except KeyboardInterrupt:
    result = ["KeyboardInterrupt"]
kids = []
for task in Path("/proc/self/task").iterdir():
    if not (task / "children").exists():
        kids = None
        break
    kids += (task / "children").read_text().split()
seen = {"forks": len(forks), "result": result, "children": kids}
if sys.argv[3] == "attach-early":
    seen["rendered here"] = "weasyprint" in sys.modules
print(json.dumps(seen))
"""


def probe(book: Path, mode: str, *, no_fork: bool = False) -> dict:
    proc = python("-c", PROBE, book, book.with_name("out.pdf"), mode, cwd=book.parent, no_fork=no_fork)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    if seen["children"] is None:
        pytest.skip("this kernel does not list a task's children in /proc")
    return seen


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("no_fork", [False, True])
def test_nothing_to_render_stops_the_early_renderer_and_leaves_nothing(tmp_path, no_fork):
    # the renderer is forked before the workbook is read; an unreadable workbook must stop it
    # without a PDF, a temporary file or a child left behind
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    seen = probe(bad, "unreadable", no_fork=no_fork)
    assert seen == {"forks": 0 if no_fork else 1, "result": [2, True, True], "children": []}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.xlsx"]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_a_failure_handing_over_the_results_stops_the_early_renderer(tmp_path):
    shutil.copyfile(WORKED, tmp_path / "book.xlsx")
    seen = probe(tmp_path / "book.xlsx", "full-disk")
    assert seen == {"forks": 1, "result": ["OSError", "No space left on device"], "children": []}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("mode", ["read-fails", "read-fails-early"])
def test_a_read_that_raises_stops_the_renderer_whoever_forked_it(tmp_path, mode):
    # forked by run itself or by its caller (the CLI), the child must not outlive the error
    shutil.copyfile(WORKED, tmp_path / "book.xlsx")
    seen = probe(tmp_path / "book.xlsx", mode)
    assert seen == {"forks": 1, "result": ["OSError", "Input/output error"], "children": []}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_html_that_cannot_be_made_stops_the_early_renderer_after_the_sheets(tmp_path):
    # the parent makes the HTML; when that fails the forked child is stopped at once, the sheets
    # are still written, and the failure is one RenderError, as a failed layout would be
    shutil.copyfile(WORKED, tmp_path / "book.xlsx")
    seen = probe(tmp_path / "book.xlsx", "bad-html")
    assert seen == {"forks": 1, "result": ["RenderError", "ValueError: no HTML today", True], "children": []}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "out.xlsx"]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_an_interrupt_while_waiting_for_the_renderer_stops_it(tmp_path):
    # the interrupt reaches the caller as itself, and the child still writing is stopped and
    # removes its half-written PDF
    shutil.copyfile(WORKED, tmp_path / "book.xlsx")
    seen = probe(tmp_path / "book.xlsx", "interrupted")
    assert seen == {"forks": 1, "result": ["KeyboardInterrupt"], "children": []}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "out.xlsx"]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_a_renderer_forked_early_is_stopped_when_the_written_workbook_is_attached(tmp_path):
    # the PDF must then embed the workbook as written, so it renders here after the write; the
    # caller's child is stopped, and what is attached is out.xlsx, not the input
    from pypdf import PdfReader

    shutil.copyfile(WORKED, tmp_path / "book.xlsx")
    seen = probe(tmp_path / "book.xlsx", "attach-early")
    assert seen == {"forks": 1, "result": [0, False, False], "children": [], "rendered here": True}
    attached = PdfReader(tmp_path / "out.pdf").attachments
    assert attached == {"out.xlsx": [(tmp_path / "out.xlsx").read_bytes()]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "out.pdf", "out.xlsx"]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_a_renderer_forked_early_is_stopped_when_no_pdf_is_asked_for(tmp_path):
    shutil.copyfile(WORKED, tmp_path / "book.xlsx")
    seen = probe(tmp_path / "book.xlsx", "no-pdf-early")
    assert seen == {"forks": 1, "result": [0, False, True], "children": []}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "out.xlsx"]


def test_run_attaches_the_written_workbook_without_forking(book, tmp_path):
    # the CLI forks early only when the PDF does not need the written workbook
    code = (
        "import os, sys\n"
        "forks, real = [], os.fork\n"
        "os.fork = lambda: forks.append(1) or real()\n"
        "from scrm_xl.cli import main\n"
        "code = main(['run', sys.argv[1], '-o', 'out.xlsx', '--pdf', 'out.pdf',\n"
        "             '--pdf-variant', 'pdf/a-3b', '--attach-workbook'])\n"
        "print('forks', len(forks), 'code', code)\n"
    )
    proc = python("-c", code, book, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "forks 0 code 0"
    from pypdf import PdfReader

    attached = PdfReader(tmp_path / "out.pdf").attachments
    assert attached == {"out.xlsx": [(tmp_path / "out.xlsx").read_bytes()]}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the renderer forks only where there is fork")
def test_the_cli_forks_its_renderer_before_the_pipeline_and_the_engine_load(tmp_path):
    # the child's import of WeasyPrint is on the critical path of run --pdf; whatever the parent
    # loads before the fork delays it, so the CLI forks before the pipeline and the engine load
    shutil.copyfile(WORKED, tmp_path / "book.xlsx")
    code = (
        "import os, sys, json\n"
        "seen, real = [], os.fork\n"
        "def fork():\n"
        "    late = ('scrm_xl.write', 'scrm_xl.read', 'scrm_xl.render', 'lxml', 'python_calamine',\n"
        "            'jinja2', 'weasyprint', 'scrm_xl.pipeline', 'scrm_xl.model', 'scrm_xl.results',\n"
        "            'dataclasses')\n"
        "    seen.append(sorted(m for m in late if m in sys.modules))\n"
        "    return real()\n"
        "os.fork = fork\n"
        "from scrm_xl.cli import main\n"
        "code = main(['run', 'book.xlsx', '-o', 'out.xlsx', '--pdf', 'out.pdf'])\n"
        "print(json.dumps([code, seen]))\n"
    )
    proc = python("-c", code, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [0, [[]]]
    assert (tmp_path / "out.pdf").stat().st_size > 10_000 and (tmp_path / "out.xlsx").exists()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the renderer forks only where there is fork")
def test_the_forked_renderer_imports_and_lays_out_without_the_collector(tmp_path):
    # the child lives for one document: collections there only walk WeasyPrint's modules and
    # boxes again (a tenth of its import and layout). gc.callbacks is inherited by the fork,
    # so each process counts its own collections
    shutil.copyfile(WORKED, tmp_path / "book.xlsx")
    code = (
        "import gc, os, sys\n"
        "parent = os.getpid()\n"
        "def count(phase, info):\n"
        "    if phase == 'start':\n"
        "        with open('parent' if os.getpid() == parent else 'child', 'a') as f:\n"
        "            f.write('x')\n"
        "gc.callbacks.append(count)\n"
        "from scrm_xl.cli import main\n"
        "print(main(['run', 'book.xlsx', '-o', 'out.xlsx', '--pdf', 'out.pdf']))\n"
    )
    proc = python("-c", code, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.splitlines()[-1] == "0", proc.stderr
    assert (tmp_path / "out.pdf").stat().st_size > 10_000
    assert not (tmp_path / "child").exists()
    assert len((tmp_path / "parent").read_text()) > 10  # the counter works: the parent collects


def test_the_command_freezes_what_the_run_made_before_the_interpreter_exits(tmp_path):
    # the exit's last collection would walk everything the run left (0.1-0.15 s after run --pdf);
    # main() called in a process that goes on (tests, the Excel button) must keep its collector
    shutil.copyfile(WORKED, tmp_path / "book.xlsx")
    code = (
        "import atexit, gc, sys\n"
        "from scrm_xl.cli import command, main\n"
        "assert main(['check', 'book.xlsx']) == 0\n"
        "print('after main', gc.get_freeze_count(), flush=True)\n"
        "atexit.register(lambda: print('at exit', gc.get_freeze_count(), len(gc.get_objects())))\n"
        "sys.argv = ['scrm-xl', 'run', 'book.xlsx', '-o', 'out.xlsx', '--pdf', 'out.pdf']\n"
        "command()\n"
    )
    proc = python("-c", code, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "after main 0" in lines
    assert "wrote out.xlsx" in lines and "wrote out.pdf" in lines  # printed and flushed before the exit
    frozen, tracked = map(int, lines[-1].removeprefix("at exit ").split())
    assert frozen > 20_000 and tracked < 1_000, lines[-1]
    assert (tmp_path / "out.pdf").stat().st_size > 10_000


def test_a_reader_that_goes_away_gets_one_line_and_no_traceback(book, tmp_path):
    # `scrm-xl run --json BOOK | true`: the pipe is closed before the JSON comes
    proc = subprocess.Popen(
        [sys.executable, "-m", "scrm_xl", "run", str(book), "--no-write", "--json"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 2
    assert err == "scrm-xl: cannot access: Broken pipe\n"
