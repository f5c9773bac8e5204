"""One short path through the stages, shared by the CLI, the Excel button and the batch:

read (file -> tables) -> load (tables -> records + issues) -> compute -> write / render
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .model import Issue, Records, Severity
from .renderer import Renderer, RenderError

if TYPE_CHECKING:  # check() never needs the results' classes, and they take a while to define
    from .results import Results

__all__ = ["Outcome", "RenderError", "Renderer", "RunOutcome", "calculate", "check", "check_tables", "run"]

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
    renderer: Renderer | None = None,
) -> RunOutcome:
    """read -> load -> compute -> write the four sheets (into ``path``, or a copy at ``out_path``)
    -> render the PDF briefing when ``pdf_path`` is given. The one path the CLI, the batch and
    tests share. Raises ``files.WriteError`` (also ``write.WriteError``) when the workbook cannot
    be written. ``renderer``: one the caller forked earlier (the CLI does, before this module
    loads); it is used, or stopped when this run renders here or nothing."""
    # the briefing does not depend on the written sheets (unless the workbook is attached to it):
    # a forked child imports WeasyPrint while this process reads and computes, then renders
    # while this process writes the sheets
    fork = not (write and attach_workbook)
    try:
        if renderer is not None and (pdf_path is None or (renderer.forked and not fork)):
            renderer.cancel()
            renderer = None
        if renderer is None and pdf_path is not None:
            renderer = Renderer(fork=fork)
        from .bulk import released

        with released():
            return _run(path, write, out_path, pdf_path, page_size, pdf_variant, attach_workbook, renderer)
    except BaseException:
        if renderer is not None:  # stopped unless _run already waited for it or stopped it
            renderer.cancel()
        raise


def _run(path, write, out_path, pdf_path, page_size, pdf_variant, attach_workbook, renderer) -> RunOutcome:
    workbook = Path(out_path) if out_path is not None else Path(path)
    outcome = _check(path)
    results = calculate(outcome)
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
