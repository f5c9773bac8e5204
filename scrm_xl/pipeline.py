"""One short path through the stages, shared by the CLI, the Excel button and the batch:

read (file -> tables) -> load (tables -> records + issues) -> compute -> write / render
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .model import Issue, Records, Severity

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


# run() will be: outcome = check(path); results = compute(outcome.records) when records exist;
# then write/render. The engine's compute(records) -> Results plugs in here.
