"""The per-workbook job of ``scrm-xl batch``: the pipeline for one workbook, inside a worker.

``workbook_job(task)`` runs read -> load -> compute -> write (a copy in the
output folder, or the workbook itself with ``in_place``) -> PDF (with
``pdf``), saves the ``run --json`` results as ``DIR/<stem>.json`` and returns
a small summary: what was written, the issue counts and the programme's
roll-up figures. ``judge`` then decides what the batch calls a failure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .batch import JobError, Outcome, Task
from .files import replacing
from .model import Severity

# the parts of the results the portfolio needs; the whole object is in DIR/<stem>.json
ROLLUP_KEYS = ("program", "totals")


def results_json(outcome) -> dict[str, Any]:
    """The object ``scrm-xl run --json`` prints for a pipeline RunOutcome."""
    from .export import results_to_json

    if outcome.results is None:
        return {"program": None, "issues": [i.to_json() for i in outcome.issues]}
    return results_to_json(replace(outcome.results, issues=outcome.issues))


def write_json(data: dict, path: Path) -> Path:
    """``path`` replaced whole: a temp file beside it, then a rename."""
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def _where(issue, path: Path | None = None) -> str:
    # a file-level issue is placed at the file's name, which the batch's report already shows
    if not issue.where or (path is not None and issue.where in (path.name, str(path))):
        return issue.message
    return f"{issue.where}: {issue.message}"


# what workbook_job's workers import: the engine and the chart writer; with PDFs, the briefing
# and WeasyPrint (imports every worker, and every renderer it forks, would repeat otherwise)
ENGINE_MODULES = ("scrm_xl.pipeline", "scrm_xl.read", "scrm_xl.load", "scrm_xl.compute", "scrm_xl.write",
                  "scrm_xl.export", "xlsxwriter")  # fmt: skip
BRIEFING_MODULES = ("scrm_xl.render", "scrm_xl.pdf")


def workbook_preload(options: Mapping[str, Any]) -> tuple[str, ...]:
    """The modules for ``run_batch(preload=...)`` when the job is ``workbook_job``: WeasyPrint only
    when the options ask for PDFs (it maps ~50 MB that a worker would carry for nothing)."""
    return ENGINE_MODULES + (BRIEFING_MODULES if options.get("pdf") else ())


def workbook_job(task: Task) -> dict[str, Any]:
    """One workbook through the pipeline; raises JobError (one line) when nothing could be computed."""
    from .files import WriteError
    from .pipeline import run

    opts = task.options
    in_place = bool(opts.get("in_place"))
    out_path = None if in_place else task.output(task.path.suffix.lower())
    pdf_path = task.output(".pdf") if opts.get("pdf") else None
    try:
        outcome = run(
            task.path,
            write=True,
            out_path=out_path,
            pdf_path=pdf_path,
            page_size=opts.get("page_size", "A4"),
        )
    except WriteError as exc:
        raise JobError(" ".join(str(exc).split())) from None
    data = results_json(outcome)
    json_path = write_json(data, task.output(".json"))
    errors = [i for i in outcome.issues if i.severity is Severity.ERROR]
    if outcome.results is None:
        first = _where(errors[0], task.path) if errors else "nothing could be calculated"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise JobError(first + more)
    goals = [{"id": g["id"], "measurable": g["measurable"]} for g in data["goals"]]
    return {
        "exit_code": outcome.exit_code,
        "errors": len(errors),
        "warnings": sum(1 for i in outcome.issues if i.severity is Severity.WARNING),
        "first_error": _where(errors[0]) if errors else None,
        "workbook": str(outcome.workbook) if outcome.workbook else None,
        "pdf": str(outcome.pdf) if outcome.pdf else None,
        "json": str(json_path),
        # enough for the portfolio line: figures, goal counts, error count
        "rollup": {
            **{k: data[k] for k in ROLLUP_KEYS},
            "goals": goals,
            "issues": [i.to_json() for i in errors],
        },
    }


def judge(outcome: Outcome) -> Outcome:
    """A workbook with errors is a failure of the batch, though its outputs were written.

    Its figures leave out what the errors touch, so finance ops must look at it;
    the reason names the first error, and the outputs stay for the Checks sheet.
    """
    result = outcome.result
    if not outcome.ok or not result or not result.get("errors"):
        return outcome
    n = result["errors"]
    reason = (
        f"{n} error{'s' if n != 1 else ''} (outputs written; see the Checks sheet): {result['first_error']}"
    )
    return replace(outcome, ok=False, reason=reason)


# --- send: one workbook's briefing, ready to mail ---------------------------------

# the essays' value KPIs, stated in the e-mail apart from ROI
VALUE_METRICS = ("Reach", "Engagements", "Influence score")


def value_figures(results) -> dict[str, float]:
    """Programme-wide value for the e-mail: flows summed over the period, stocks at their latest."""
    from .model import is_stock_metric

    figures: dict[str, float] = {}
    for name in VALUE_METRICS:
        rows = sorted((m.period, m.value) for m in results.metrics if m.goal_id is None and m.metric == name)
        if rows:
            figures[name] = rows[-1][1] if is_stock_metric(name) else sum(v for _, v in rows)
    return figures


def prepare_briefing(
    book: Path, tmp: Path, *, attach_workbook: bool = False, page_size: str = "A4", allow_errors: bool = False
):
    """Run one workbook for e-mail: the PDF (and the calculated copy, if attached) in ``tmp``.

    Returns (Headline, recipients, pdf, workbook or None, issues worth telling).
    Raises JobError with the reason this workbook cannot be sent: unreadable,
    errors in its figures (unless ``allow_errors``), or no valid Distribution.
    The workbook itself is never written.
    """
    from .files import WriteError
    from .mail import headline_from_json, parse_distribution
    from .pipeline import run

    book = Path(book)
    copy = tmp / book.name if attach_workbook else None
    try:
        outcome = run(
            book, write=attach_workbook, out_path=copy, pdf_path=tmp / f"{book.stem}.pdf", page_size=page_size
        )
    except WriteError as exc:
        raise JobError(" ".join(str(exc).split())) from None
    errors = [i for i in outcome.issues if i.severity is Severity.ERROR]
    if outcome.results is None:
        raise JobError(_where(errors[0]) if errors else "nothing could be calculated")
    if errors and not allow_errors:
        n = len(errors)
        raise JobError(
            f"not sent: {n} error{'s' if n != 1 else ''} in the workbook would make the briefing "
            f"incomplete; first: {_where(errors[0])}"
        )
    program = outcome.results.program
    recipients, problems = parse_distribution("; ".join(program.distribution), where="Program")
    if not recipients:
        why = "; ".join(_where(p) for p in problems) or "Program: Distribution is empty"
        raise JobError(f"nobody to send to ({why})")
    data = results_json(outcome)
    headline = headline_from_json(data, value=value_figures(outcome.results))
    return headline, recipients, outcome.pdf, outcome.workbook, problems
