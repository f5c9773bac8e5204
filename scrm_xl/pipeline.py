"""One short path through the stages, shared by the CLI, the Excel button and the batch:

read (file -> tables) -> load (tables -> records + issues) -> compute -> write / render
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from .model import Issue, Records, Severity
from .results import Results

EXIT_CLEAN, EXIT_ERRORS, EXIT_UNREADABLE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``check`` found: the records it could load, every issue (errors first), the exit status."""

    records: Records | None
    issues: tuple[Issue, ...]
    exit_code: int

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity is Severity.ERROR)


def check_tables(tables) -> Outcome:
    """Load and check tables already read (the Excel button builds them from xlwings)."""
    from .checks import sort_issues
    from .load import load, missing_sheets

    records, issues = load(tables)
    if missing_sheets(tables):
        code = EXIT_UNREADABLE
    elif any(i.severity is Severity.ERROR for i in issues):
        code = EXIT_ERRORS
    else:
        code = EXIT_CLEAN
    return Outcome(records, tuple(sort_issues(issues)), code)


def check(path: str | os.PathLike[str]) -> Outcome:
    """Read and check one workbook file."""
    from .read import read_workbook

    tables, issues = read_workbook(path)
    if tables is None:
        return Outcome(None, tuple(issues), EXIT_UNREADABLE)
    return check_tables(tables)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What ``run`` did: the results (None when nothing could be computed), every issue, the exit status
    and the files it wrote."""

    results: Results | None
    issues: tuple[Issue, ...]
    exit_code: int
    workbook: Path | None = None
    pdf: Path | None = None


def calculate(outcome: Outcome) -> Results | None:
    """The engine over what ``check`` loaded; the results carry every issue, the loader's and the engine's."""
    from .checks import sort_issues
    from .compute import compute

    if outcome.records is None:
        return None
    results = compute(outcome.records)
    seen: set[tuple[str, str, str]] = set()
    merged = []
    for issue in (*outcome.issues, *results.issues):
        key = (str(issue.severity), issue.where, issue.message)
        if key not in seen:
            seen.add(key)
            merged.append(issue)
    return replace(results, issues=tuple(sort_issues(merged)))


def exit_code(issues: Iterable[Issue]) -> int:
    return EXIT_ERRORS if any(i.severity is Severity.ERROR for i in issues) else EXIT_CLEAN


def run(
    path: str | os.PathLike[str],
    *,
    write: bool = True,
    out_path: str | os.PathLike[str] | None = None,
    pdf_path: str | os.PathLike[str] | None = None,
    page_size: str = "A4",
    pdf_variant: str | None = None,
    attach_workbook: bool = False,
) -> RunOutcome:
    """read -> load -> compute -> write the four sheets (into ``path``, or a copy at ``out_path``)
    -> render the PDF briefing when ``pdf_path`` is given. The one path the CLI, the batch and
    tests share. Raises ``write.WriteError`` when the workbook cannot be written."""
    outcome = check(path)
    results = calculate(outcome)
    if results is None:
        return RunOutcome(None, outcome.issues, outcome.exit_code)
    workbook = Path(out_path) if out_path is not None else Path(path)

    def render() -> Path:
        from .render import render_pdf

        attach = workbook if attach_workbook else None
        return render_pdf(results, pdf_path, page_size=page_size, variant=pdf_variant, attach=attach)

    # the PDF does not depend on the written sheets (unless the workbook is attached to it), so it
    # renders on the second core while this process writes them
    pending = None
    if pdf_path is not None:
        pending = _Beside(render, Path(pdf_path), fork=not (write and attach_workbook))
    issues = results.issues
    if write:
        from .write import write_results

        try:
            # the layout re-derives every formula's value; a disagreement with the engine is reported
            issues += tuple(write_results(path, results, out_path=out_path))
        except BaseException:
            if pending is not None and pending.forked:  # never leave a renderer running behind a failed write
                with contextlib.suppress(RenderError):
                    pending.wait()
            raise
    pdf = pending.wait() if pending is not None else None
    return RunOutcome(results, issues, exit_code(issues), workbook if write else None, pdf)


class RenderError(Exception):
    """The PDF briefing could not be rendered; the message says why."""


class _Beside:
    """Run ``job`` (which writes ``result``) in a forked child while this process goes on.

    Forking is only safe in a single-threaded process (a lock held by another thread would
    stay locked in the child); elsewhere, and where there is no fork, ``wait`` runs the job
    here, after whatever the caller did in between, exactly as if it had been sequential.
    """

    def __init__(self, job: Callable[[], Path], result: Path, *, fork: bool = True) -> None:
        self.job, self.result, self.pid = job, result, 0
        unsafe = not hasattr(os, "fork") or threading.active_count() > 1
        if not fork or unsafe or os.environ.get("SCRM_XL_NO_FORK"):
            return
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: run, say what went wrong if anything, and leave without cleanup
            status, message = 0, b""
            try:
                os.close(read_end)
                job()
            except BaseException as exc:  # everything must reach the parent as one line
                status, message = 1, f"{type(exc).__name__}: {exc}".encode(errors="replace")
            finally:
                with contextlib.suppress(OSError):
                    os.write(write_end, message)
                os._exit(status)
        os.close(write_end)
        self.pid, self.pipe = pid, read_end

    @property
    def forked(self) -> bool:
        return self.pid != 0

    def wait(self) -> Path:
        if not self.forked:
            try:
                return self.job()
            except Exception as exc:
                raise RenderError(f"{type(exc).__name__}: {exc}") from exc
        with os.fdopen(self.pipe, "rb") as pipe:
            message = pipe.read().decode(errors="replace")
        _, status = os.waitpid(self.pid, 0)
        if message or status != 0:
            raise RenderError(message or f"the PDF renderer stopped unexpectedly (status {status})")
        return self.result
