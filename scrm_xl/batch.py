"""Batch runs: many workbooks, each in its own worker process with a time and
memory limit, so a hostile or broken file fails alone while the rest complete.

The runner is generic: it knows nothing of workbooks beyond their names. The
per-workbook work is a ``job(task)`` function, referenced by import path so a
fresh worker can find it; ``Task`` tells it where to read and what to name its
outputs. ``run_batch`` returns one ``Outcome`` per workbook, in input order,
whatever order the workers finished in.
"""

from __future__ import annotations

import contextlib
import faulthandler
import glob
import importlib
import multiprocessing as mp
import os
import pickle
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
DEFAULT_TIMEOUT_S = 300.0
DEFAULT_MEMORY_MB = 2048  # a worker with WeasyPrint loaded maps ~300 MB before reading anything
_KILL_GRACE_S = 2.0  # between SIGTERM and SIGKILL for a worker past its time
_LOG_TAIL = 4000  # characters of a worker's stderr kept in its Outcome


class BatchError(Exception):
    """The batch as a whole cannot run (no cluster to reach); one line for the user."""


class JobError(Exception):
    """A failure the job explains itself; its message is the whole reason (no exception name)."""


@dataclass(frozen=True, slots=True)
class Task:
    """One workbook to process: where it is, and the output stem unique within the batch."""

    path: Path
    stem: str
    out_dir: Path
    options: Mapping[str, Any] = field(default_factory=dict)

    def output(self, suffix: str) -> Path:
        """``out_dir/stem + suffix``: ``task.output(".pdf")``."""
        return self.out_dir / f"{self.stem}{suffix}"


@dataclass(frozen=True, slots=True)
class Outcome:
    path: Path
    stem: str
    ok: bool
    reason: str | None = None  # one line, when not ok
    result: Any = None  # what the job returned, when ok
    seconds: float = 0.0
    log: str = ""  # the tail of whatever the worker wrote to stdout/stderr


@dataclass(frozen=True, slots=True)
class BatchReport:
    outcomes: tuple[Outcome, ...]
    notes: tuple[str, ...] = ()  # inputs that were not workbooks, matched nothing, or were skipped

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    @property
    def succeeded(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.ok)


# --- which files --------------------------------------------------------------------


def _is_workbook_name(name: str) -> bool:
    return name.lower().endswith(WORKBOOK_SUFFIXES)


def _skip_reason(path: Path) -> str | None:
    if path.name.startswith("~$"):
        return "an Excel lock file (the workbook is open somewhere)"
    if path.name.startswith("._"):
        return "a macOS metadata file"
    return None


def expand_paths(items: Iterable[str | Path], *, exclude: Path | None = None) -> tuple[list[Path], list[str]]:
    """The workbooks named by files, folders (their .xlsx/.xlsm, not recursive) and globs.

    Sorted by resolved path, each once however often it was named. Files under
    ``exclude`` (the output folder) are left out of folders and globs, so a
    second run does not process the first run's outputs. Returns the paths and
    notes on what was skipped.
    """
    found: dict[Path, None] = {}
    notes: list[str] = []
    excluded = exclude.resolve() if exclude else None

    def add(path: Path, named: bool) -> None:
        why = _skip_reason(path)
        if why:
            notes.append(f"{path}: skipped, {why}")
            return
        resolved = path.resolve()
        if not named and excluded and resolved.is_relative_to(excluded):
            return
        found.setdefault(resolved, None)

    for item in items:
        text = str(item)
        path = Path(text).expanduser()
        if path.is_dir():
            children = sorted(p for p in path.iterdir() if p.is_file() and _is_workbook_name(p.name))
            if not children:
                notes.append(f"{text}: no .xlsx or .xlsm workbooks in this folder")
            for child in children:
                add(child, named=False)
        elif path.is_file():
            if _is_workbook_name(path.name):
                add(path, named=True)
            else:
                notes.append(f"{text}: not an .xlsx or .xlsm workbook")
        elif glob.has_magic(text):
            matches = sorted(
                Path(m) for m in glob.glob(os.path.expanduser(text), recursive=True) if _is_workbook_name(m)
            )
            matches = [m for m in matches if m.is_file()]
            if not matches:
                notes.append(f"{text}: matches no .xlsx or .xlsm workbook")
            for m in matches:
                add(m, named=False)
        else:
            notes.append(f"{text}: no such file or folder")
    return sorted(found, key=str), notes


def assign_stems(paths: Sequence[Path]) -> list[str]:
    """Output stems, unique within the batch (ignoring case, as Windows and macOS do).

    A name used once keeps its stem. Names shared by several files all get
    the shortest tail of their folder path that tells them apart
    (``book--north``, ``book--south``), then the extension if that is what
    differs (``book--xlsm``), then a number; so a stem depends only on the
    files that share its name.
    """
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(paths):
        groups.setdefault(p.stem.casefold(), []).append(i)
    stems = [p.stem for p in paths]
    for members in groups.values():
        if len(members) == 1:
            continue
        depth = max(len(paths[i].parent.parts) for i in members)

        def tail(i: int, k: int) -> str:
            return "-".join(paths[i].parent.parts[-k:]).strip("/") if k else ""

        def ext(i: int) -> str:
            return paths[i].suffix.lstrip(".").lower()

        candidates = [[f"{paths[i].stem}--{tail(i, k)}" for i in members] for k in range(1, depth + 1)]
        candidates += [
            [f"{paths[i].stem}--{'-'.join(filter(None, (tail(i, k), ext(i))))}" for i in members]
            for k in range(0, depth + 1)
        ]
        # same folder, same name, same extension, different case: number them
        candidates.append([f"{paths[i].stem}--{n}" for n, i in enumerate(members, 1)])
        chosen = next(c for c in candidates if len({x.casefold() for x in c}) == len(c))
        for i, stem in zip(members, chosen, strict=True):
            stems[i] = stem
    # a disambiguated stem could still equal another file's plain stem; number the later one
    seen: set[str] = set()
    for i, stem in enumerate(stems):
        base, n = stem, 1
        while stem.casefold() in seen:
            n += 1
            stem = f"{base}-{n}"
        seen.add(stem.casefold())
        stems[i] = stem
    return stems


# --- the job reference -------------------------------------------------------------


def resolve_job(job: str | Callable) -> Callable:
    """The job function from ``"package.module:function"`` (or a function), checked to reach a worker."""
    if isinstance(job, str):
        module, sep, name = job.partition(":")
        if not sep:
            module, _, name = job.rpartition(".")
        if not module or not name:
            raise ValueError(f'job "{job}" must look like "package.module:function"')
        try:
            func = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f'job "{job}" cannot be found: {exc}') from None
        if not callable(func):
            raise ValueError(f'job "{job}" is not a function')
        return func
    if not callable(job):
        raise ValueError(f"job must be a function or an import path, not {type(job).__name__}")
    qualname = getattr(job, "__qualname__", "")
    if "<" in qualname:
        raise ValueError(f"job {qualname} must be a top-level function of a module (a worker imports it)")
    try:
        pickle.dumps(job)
    except Exception as exc:  # pickling raises several unrelated types
        raise ValueError(f"job {qualname or job!r} cannot be sent to a worker: {exc}") from None
    return job


def _job_reference(job: str | Callable) -> str | Callable:
    resolve_job(job)  # fail once, here, rather than once per workbook
    return job


# --- the worker ------------------------------------------------------------------------


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    if not isinstance(exc, JobError):
        text = f"{type(exc).__name__}: {text}"
    return text[:300]


def _one_malloc_arena() -> None:
    """The limit counts address space: glibc gives each thread that allocates (the read's
    parsing threads, the write's deflate thread) its own malloc arena, reserving 64 MB of
    address space each, which would count against the limit without holding any data. One
    arena for all threads, where the C library has the setting (glibc); elsewhere nothing."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # no such C library function here
        ctypes.CDLL(None).mallopt(-8, 1)  # M_ARENA_MAX


def _worker(job_ref, task: Task, conn, memory_mb: int | None, timeout_s: float | None, log_path: str) -> None:
    # own process group: a timeout kills whatever the job started too (LibreOffice, ...)
    if hasattr(os, "setpgrp"):  # POSIX only
        os.setpgrp()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    faulthandler.enable()  # a crash in C code leaves a Python traceback in the log
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core files from aborts
        if memory_mb:
            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            _one_malloc_arena()
    except (ImportError, ValueError, OSError):  # not on Windows; or a hard limit already lower
        pass
    if timeout_s and hasattr(signal, "alarm"):
        # backstop if the parent dies: SIGALRM's default action ends the process
        signal.alarm(int(timeout_s + _KILL_GRACE_S) + 3)
    try:
        func = resolve_job(job_ref)
        result = func(task)
        message: tuple[str, Any] = ("ok", result)
    except MemoryError:
        message = ("fail", f"out of memory (limit {memory_mb} MB)" if memory_mb else "out of memory")
    except SystemExit as exc:
        message = ("fail", f"the job called exit({exc.code})")
    except BaseException as exc:
        message = ("fail", _one_line(exc))
    try:
        conn.send(message)
    except Exception as exc:  # an unpicklable result
        conn.send(("fail", f"the job's result could not be sent back: {_one_line(exc)}"))
    conn.close()


def _context():
    methods = mp.get_all_start_methods()
    # forkserver: a clean, small parent for every worker, without re-importing per worker like spawn
    return mp.get_context("forkserver" if "forkserver" in methods else "spawn")


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def _exit_reason(exitcode: int | None) -> str:
    if exitcode is None:
        return "the worker did not finish"
    if exitcode < 0:
        sig = -exitcode
        if sig == signal.SIGKILL:
            return "the worker was killed (SIGKILL), perhaps by the system for using too much memory"
        if sig == getattr(signal, "SIGALRM", None):
            return "the worker stopped itself at its time limit"
        return f"the worker crashed ({_signal_name(sig)})"
    return f"the worker exited with status {exitcode} before finishing"


def _kill_group(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError, AttributeError):
        proc.terminate()
    proc.join(_KILL_GRACE_S)
    if proc.is_alive():
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, AttributeError):
            proc.kill()
        proc.join()


@dataclass(slots=True)
class _Running:
    index: int
    task: Task
    proc: Any
    conn: Any
    started: float
    log_path: str
    message: tuple[str, Any] | None = None
    eof: bool = False


def _read_tail(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - _LOG_TAIL))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _finish(run: _Running, timed_out_after: float | None) -> Outcome:
    elapsed = time.monotonic() - run.started
    log = _read_tail(run.log_path)
    common = dict(path=run.task.path, stem=run.task.stem, seconds=round(elapsed, 3), log=log)
    if timed_out_after is not None:
        return Outcome(ok=False, reason=f"timed out after {timed_out_after:g} s; stopped", **common)
    if run.message is not None:
        status, payload = run.message
        if status == "ok":
            return Outcome(ok=True, result=payload, **common)
        return Outcome(ok=False, reason=payload, **common)
    return Outcome(ok=False, reason=_exit_reason(run.proc.exitcode), **common)


# --- the runner --------------------------------------------------------------------


def _plan(paths, out_dir: Path, options) -> tuple[list[Task], list[str]]:
    files, notes = expand_paths(paths, exclude=out_dir)
    stems = assign_stems(files)
    opts = dict(options or {})
    return [Task(p, s, out_dir, opts) for p, s in zip(files, stems, strict=True)], notes


def run_batch(
    paths: Iterable[str | Path],
    job: str | Callable,
    *,
    out_dir: Path,
    options: Mapping[str, Any] | None = None,
    jobs: int | None = None,
    timeout_s: float | None = DEFAULT_TIMEOUT_S,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
    progress: bool | None = None,
    console=None,
    judge: Callable[[Outcome], Outcome] | None = None,
    scheduler: str | None = None,
    preload: Sequence[str] = (),
) -> BatchReport:
    """Run ``job(task)`` once per workbook found in ``paths``, each in its own worker process.

    ``jobs`` workers at a time (default: every core available). A worker past
    ``timeout_s`` is stopped (with whatever it started); one that maps more
    than ``memory_mb`` gets a MemoryError. Either way only that workbook fails.
    ``progress``: a progress bar (default: only on a terminal). ``judge`` may
    turn a finished job's outcome into a failure (a workbook with errors) before
    it is counted. ``scheduler`` (``tcp://HOST:PORT``) runs the same isolated
    job on a Dask distributed cluster instead of local processes. ``preload``: modules every
    local worker needs, imported once by the server the workers fork from, so each starts with
    them (a module that fails to import there is simply imported by the job as usual).
    """
    job_ref = _job_reference(job)
    out_dir = Path(out_dir)
    tasks, notes = _plan(paths, out_dir, options)
    if not tasks:
        return BatchReport((), tuple(notes))
    out_dir.mkdir(parents=True, exist_ok=True)

    if console is None:
        from rich.console import Console

        console = Console(stderr=True)
    show = console.is_terminal if progress is None else progress
    bar = _Progress(console, len(tasks)) if show else None
    outcomes: list[Outcome | None] = [None] * len(tasks)

    def done(index: int, outcome: Outcome) -> None:
        if judge is not None:
            outcome = judge(outcome)
        outcomes[index] = outcome
        if bar:
            bar.advance(outcome.ok)

    try:
        if bar:
            bar.start()
        if scheduler:
            _run_on_dask(scheduler, tasks, job_ref, timeout_s, memory_mb, done)
        else:
            width = max(1, min(jobs or default_jobs(), len(tasks)))
            _run_tasks(tasks, job_ref, width, timeout_s, memory_mb, done, preload)
    finally:
        if bar:
            bar.stop()
    return BatchReport(tuple(o for o in outcomes if o is not None), tuple(notes))


def _run_tasks(
    tasks: Sequence[Task], job_ref, width: int, timeout_s, memory_mb, done, preload: Sequence[str] = ()
) -> None:
    """The local pool: at most ``width`` worker processes; ``done(index, outcome)`` as each ends."""
    ctx = _context()
    if ctx.get_start_method() == "forkserver":
        # workers fork from a server that has already imported the job's module and what it
        # asked for (once per server: a server already running keeps what it has)
        module = job_ref.__module__ if callable(job_ref) else job_ref.partition(":")[0]
        if ":" not in str(job_ref) and not callable(job_ref):
            module = job_ref.rpartition(".")[0]
        ctx.set_forkserver_preload([m for m in (module, *preload) if m != "__main__"])
    pending = deque(enumerate(tasks))
    running: dict[int, _Running] = {}  # by sentinel
    with tempfile.TemporaryDirectory(prefix="scrm-xl-batch-") as logs:
        try:
            while pending or running:
                while pending and len(running) < width:
                    index, task = pending.popleft()
                    receiver, sender = ctx.Pipe(duplex=False)
                    log_path = os.path.join(logs, f"{index}.log")
                    proc = ctx.Process(
                        target=_worker,
                        args=(job_ref, task, sender, memory_mb, timeout_s, log_path),
                        name=f"scrm-xl-batch-{index}",
                        daemon=True,
                    )
                    proc.start()
                    sender.close()  # so the receiver sees EOF if the worker dies before sending
                    running[proc.sentinel] = _Running(index, task, proc, receiver, time.monotonic(), log_path)

                now = time.monotonic()
                wait_s = None
                if timeout_s:
                    wait_s = max(0.0, min(r.started + timeout_s for r in running.values()) - now)
                waitables = [r.conn for r in running.values() if r.message is None and not r.eof]
                ready = set(wait(list(running) + waitables, wait_s))
                for sentinel, run in list(running.items()):
                    if run.conn in ready or (sentinel in ready and run.message is None):
                        _receive(run)
                    timed_out = bool(timeout_s) and time.monotonic() - run.started >= timeout_s
                    stopped_at = None
                    if sentinel in ready:
                        run.proc.join()
                    elif timed_out:
                        _kill_group(run.proc)
                        if run.message is None:
                            _receive(run)  # it may have answered just in time
                        if run.message is None:
                            stopped_at = timeout_s
                    else:
                        continue
                    outcome = _finish(run, stopped_at)
                    run.conn.close()
                    run.proc.close()
                    del running[sentinel]
                    done(run.index, outcome)
        finally:
            for run in running.values():  # interrupted: stop every worker still going
                _kill_group(run.proc)


# --- on a Dask cluster ------------------------------------------------------------


def run_isolated(job_ref, task: Task, timeout_s, memory_mb) -> Outcome:
    """One task in its own worker process with the usual limits, on whatever machine calls it.

    This is what a Dask worker runs: the cluster spreads the workbooks, and each
    one is still isolated there, so a hostile file fails alone on that machine
    too. A daemonic Dask worker (the default under a nanny) may not start
    processes; there the job runs in the worker itself, and the cluster's own
    nanny limits (memory, restarts) are the isolation.
    """
    if mp.current_process().daemon:
        started = time.monotonic()
        try:
            result = resolve_job(job_ref)(task)
        except Exception as exc:
            return Outcome(task.path, task.stem, False, _one_line(exc), seconds=time.monotonic() - started)
        return Outcome(
            task.path, task.stem, True, result=result, seconds=round(time.monotonic() - started, 3)
        )
    box: list[Outcome] = []
    _run_tasks([task], job_ref, 1, timeout_s, memory_mb, lambda _i, o: box.append(o))
    return box[0]


def _run_on_dask(scheduler: str, tasks: Sequence[Task], job_ref, timeout_s, memory_mb, done) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise BatchError("--scheduler needs Dask distributed: pip install 'scrm-xl[dask]'") from None
    try:
        # a client of our own for an address; a test may hand over a Client already connected
        client = (
            scheduler if not isinstance(scheduler, str) else Client(scheduler)
        )  # connect timeout: distributed.comm.timeouts.connect
    except (OSError, TimeoutError) as exc:
        raise BatchError(f"cannot connect to the Dask scheduler at {scheduler}: {_one_line(exc)}") from None
    own = isinstance(scheduler, str)
    try:
        futures = {
            client.submit(
                run_isolated, job_ref, task, timeout_s, memory_mb, pure=False, key=f"scrm-xl-{i}-{task.stem}"
            ): i
            for i, task in enumerate(tasks)
        }
        for future in as_completed(futures):
            index = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # the Dask worker itself died (e.g. killed by its nanny)
                task = tasks[index]
                outcome = Outcome(task.path, task.stem, False, f"on the cluster: {_one_line(exc)}")
            done(index, outcome)
    finally:
        if own:
            client.close()


def _receive(run: _Running) -> None:
    try:
        if run.conn.poll():
            run.message = run.conn.recv()
    except (EOFError, OSError):
        run.eof = True  # the worker died without a word
    except Exception as exc:  # a result that cannot be unpickled here
        run.message = ("fail", f"the job's result could not be read: {_one_line(exc)}")


class _Progress:
    """A rich progress bar with ok/failed counts and an ETA."""

    def __init__(self, console, total: int):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.ok = self.failed = 0
        self.progress = Progress(
            TextColumn("workbooks"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[green]{task.fields[ok]} ok[/] [red]{task.fields[failed]} failed[/]"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
        )
        self.task = self.progress.add_task("batch", total=total, ok=0, failed=0)

    def start(self) -> None:
        self.progress.start()

    def stop(self) -> None:
        self.progress.stop()

    def advance(self, ok: bool) -> None:
        if ok:
            self.ok += 1
        else:
            self.failed += 1
        self.progress.update(self.task, advance=1, ok=self.ok, failed=self.failed)


# --- the summary -------------------------------------------------------------------


def summary_table(report: BatchReport, *, relative_to: Path | None = None):
    """A rich Table: one row per workbook with its output stem, status, time and reason."""
    from rich.table import Table

    base = (relative_to or Path.cwd()).resolve()
    ok, failed = len(report.succeeded), len(report.failed)
    table = Table(title=f"{len(report.outcomes)} workbooks: {ok} ok, {failed} failed", title_justify="left")
    for name, kw in (
        ("Workbook", {}),
        ("Output", {}),
        ("Status", {}),
        ("Seconds", {"justify": "right"}),
        ("Reason", {"overflow": "fold"}),
    ):
        table.add_column(name, **kw)
    for o in report.outcomes:
        shown = o.path.relative_to(base) if o.path.is_relative_to(base) else o.path
        status = "[green]ok[/]" if o.ok else "[red]failed[/]"
        table.add_row(str(shown), o.stem, status, f"{o.seconds:.1f}", o.reason or "")
    return table


def print_summary(report: BatchReport, console=None) -> None:
    """The summary table, then any notes on skipped inputs."""
    if console is None:
        from rich.console import Console

        console = Console()
    if report.outcomes:
        console.print(summary_table(report))
    for note in report.notes:
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
