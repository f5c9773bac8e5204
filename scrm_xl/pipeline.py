"""One short path through the stages, shared by the CLI, the Excel button and the batch:

read (file -> tables) -> load (tables -> records + issues) -> compute -> write / render
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

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
    from .bulk import released

    with released():
        return _check(path)


def _check(path: str | os.PathLike[str]) -> Outcome:
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
    tests share. Raises ``files.WriteError`` (also ``write.WriteError``) when the workbook cannot
    be written."""
    from .bulk import released

    with released():
        return _run(path, write, out_path, pdf_path, page_size, pdf_variant, attach_workbook)


def _run(path, write, out_path, pdf_path, page_size, pdf_variant, attach_workbook) -> RunOutcome:
    workbook = Path(out_path) if out_path is not None else Path(path)
    # the briefing does not depend on the written sheets (unless the workbook is attached to it):
    # a forked child imports WeasyPrint while this process reads and computes, then renders
    # while this process writes the sheets
    renderer = _Renderer(fork=not (write and attach_workbook)) if pdf_path is not None else None
    try:
        outcome = _check(path)
        results = calculate(outcome)
    except BaseException:
        if renderer is not None:
            renderer.cancel()
        raise
    if results is None:
        if renderer is not None:
            renderer.cancel()
        return RunOutcome(None, outcome.issues, outcome.exit_code)
    if renderer is not None:
        attach = workbook if attach_workbook else None
        renderer.give(results, Path(pdf_path), page_size=page_size, variant=pdf_variant, attach=attach)
    issues = results.issues
    if write:
        from .write import write_results

        try:
            # the layout re-derives every formula's value; a disagreement with the engine is reported
            issues += tuple(write_results(path, results, out_path=out_path))
        except BaseException:
            # never leave a renderer running behind a failed write
            if renderer is not None and renderer.forked:
                with contextlib.suppress(RenderError):
                    renderer.wait()
            raise
    pdf = renderer.wait() if renderer is not None else None
    return RunOutcome(results, issues, exit_code(issues), workbook if write else None, pdf)


class RenderError(Exception):
    """The PDF briefing could not be rendered; the message says why."""


class _Renderer:
    """Renders the briefing in a child forked before the workbook is read, so WeasyPrint's
    import (most of a second) overlaps reading and computing, and the layout overlaps writing
    the sheets. This process makes the briefing's HTML (Jinja2 and Babel stay out of the
    child); the HTML reaches the child through a spool file made before the fork, and a byte
    on a pipe says it is there (no byte: nothing to render).

    Forking is only safe in a single-threaded process (a lock held by another thread would
    stay locked in the child); elsewhere, and where there is no fork, ``wait`` renders here,
    after whatever the caller did in between, exactly as if it had been sequential.
    """

    def __init__(self, *, fork: bool = True) -> None:
        self.pid = 0
        self.go: int | None = None
        self.job: tuple | None = None  # (results, pdf, options), when rendering here
        self.pdf: Path | None = None
        self.failed = ""  # why the HTML could not be made, for wait()
        unsafe = not hasattr(os, "fork") or threading.active_count() > 1
        if not fork or unsafe or os.environ.get("SCRM_XL_NO_FORK"):
            return
        self.spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by wait() or cancel())
        go_read, self.go = os.pipe()
        self.status, status_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(self.go)
            os.close(self.status)
            _render_child(go_read, self.spool, status_write)  # never returns
        os.close(go_read)
        os.close(status_write)
        self.pid = pid

    @property
    def forked(self) -> bool:
        return self.pid != 0

    def give(self, results: Results, pdf: Path, **options) -> None:
        """The results to render into ``pdf``; the forked child starts at once."""
        self.pdf = pdf
        if not self.forked:
            self.job = (results, pdf, options)
            return
        try:
            from .render import prepare_pdf

            html, pdf_options = prepare_pdf(results, **options)
        except Exception as exc:  # reported by wait(), after the sheets, as a failed layout would be
            self.failed = f"{type(exc).__name__}: {exc}"
            self.cancel()
            return
        except BaseException:
            self.cancel()
            raise
        try:
            payload = pickle.dumps((html, pdf, pdf_options), protocol=pickle.HIGHEST_PROTOCOL)
            self.spool.write(payload)
            self.spool.flush()
        except BaseException:  # a full disk under the spool, say: no renderer left waiting
            self.cancel()
            raise
        with contextlib.suppress(OSError):  # a child that already died says why in wait()
            os.write(self.go, b"1")
        self._close_go()

    def cancel(self) -> None:
        """Nothing to render: the child, which has written nothing yet, is stopped and reaped."""
        if self.forked:
            self._close_go()
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            os.close(self.status)
            self.spool.close()

    def wait(self) -> Path:
        if not self.forked:
            assert self.job is not None, "give() comes before wait()"
            results, pdf, options = self.job
            try:
                from .render import render_pdf

                return render_pdf(results, pdf, **options)
            except Exception as exc:
                raise RenderError(f"{type(exc).__name__}: {exc}") from exc
        if self.failed:
            raise RenderError(self.failed)
        self._close_go()
        with os.fdopen(self.status, "rb") as pipe:
            message = pipe.read().decode(errors="replace")
        _, status = os.waitpid(self.pid, 0)
        self.spool.close()
        if message or status != 0:
            raise RenderError(message or f"the PDF renderer stopped unexpectedly (status {status})")
        assert self.pdf is not None, "give() comes before wait()"
        return self.pdf

    def _close_go(self) -> None:
        if self.go is not None:
            os.close(self.go)
            self.go = None


def _render_child(go: int, spool, status: int) -> NoReturn:
    """The forked renderer: import WeasyPrint, wait for the HTML, lay it out, report one line."""
    code, message = 0, b""
    try:
        from . import pdf  # the slow import, while the parent reads and computes

        if os.read(go, 1):
            spool.seek(0)
            html, out, options = pickle.loads(spool.read())
            pdf.write_pdf(html, out, **options)
    except BaseException as exc:  # everything must reach the parent as one line
        code, message = 1, f"{type(exc).__name__}: {exc}".encode(errors="replace")
    finally:
        with contextlib.suppress(OSError):
            os.write(status, message)
        os._exit(code)
