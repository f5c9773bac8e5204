"""The ``scrm-xl`` command: parse arguments, call the library, print. Nothing else lives here."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TextIO


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scrm-xl", description="Social CRM ROI from the standardized workbook.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("check", help="check a workbook and list every problem with its cell")
    c.add_argument("book", metavar="BOOK", help="an .xlsx or .xlsm workbook")
    c.add_argument("--json", action="store_true", help="print the programme and issues as JSON")

    r = sub.add_parser("run", help="calculate: write the ROI, KPI, Ledger and Checks sheets (and a PDF)")
    r.add_argument("book", metavar="BOOK", help="an .xlsx or .xlsm workbook")
    r.add_argument("-o", "--output", metavar="OUT", help="write a calculated copy; BOOK stays untouched")
    r.add_argument("--json", action="store_true", help="print the results as JSON")
    r.add_argument("--no-write", action="store_true", help="do not write the sheets (with --json or --pdf)")
    r.add_argument(
        "--pdf",
        nargs="?",
        const="",
        metavar="FILE",
        help="also render the PDF (default: beside OUT)",
    )
    _pdf_options(r)

    rp = sub.add_parser("report", help="render the PDF briefing only; the workbook is not written")
    rp.add_argument("book", metavar="BOOK", help="an .xlsx or .xlsm workbook")
    rp.add_argument("-o", "--output", metavar="FILE.pdf", help="the PDF (default: beside BOOK)")
    _pdf_options(rp)

    n = sub.add_parser("new", help="write the blank standardized workbook")
    n.add_argument("path", metavar="PATH", help="where to write the .xlsx")
    n.add_argument("--example", action="store_true", help="fill it with realistic example rows")
    n.add_argument("--force", action="store_true", help="replace PATH if it exists")
    n.add_argument(
        "--excel", action="store_true", help="macro-enabled NAME.xlsm with a Calculate ROI button (+ NAME.py)"
    )
    return p


def _pdf_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--page-size", choices=("A4", "Letter"), default="A4", help="paper size (default A4)")
    p.add_argument("--pdf-variant", choices=("pdf/a-3b",), help="archival PDF/A-3b")
    p.add_argument(
        "--attach-workbook", action="store_true", help="embed the workbook in the PDF (needs --pdf-variant)"
    )


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            return _check(args, out)
        if args.command in ("run", "report"):
            return _run(args, out, err)
        if args.command == "new":
            return _new(args, out, err)
    except KeyboardInterrupt:
        print("scrm-xl: interrupted", file=err)
        return 130
    except OSError as exc:
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"scrm-xl: cannot access{where}: {exc.strerror or exc}", file=err)
        return 2
    except MemoryError:
        print("scrm-xl: out of memory: the workbook is too large", file=err)
        return 2
    except Exception as exc:  # a bug must still not print a traceback to a finance user
        print(f"scrm-xl: internal error: {type(exc).__name__}: {' '.join(str(exc).split())}", file=err)
        return 2
    return 2


def _check(args, out: TextIO) -> int:
    from .pipeline import check

    outcome = check(args.book)
    if args.json:
        json.dump(
            {
                "program": program_json(outcome.records.program if outcome.records else None),
                "issues": [i.to_json() for i in outcome.issues],
            },
            out,
            indent=2,
            ensure_ascii=False,
        )
        out.write("\n")
    else:
        for issue in outcome.issues:
            print(format_issue(issue), file=out)
        if not outcome.issues:
            print(f"{args.book}: no problems found", file=out)
    return outcome.exit_code


def _run(args, out: TextIO, err: TextIO) -> int:
    from pathlib import Path

    from .pipeline import run
    from .write import WriteError

    if args.attach_workbook and not args.pdf_variant:
        print("scrm-xl: --attach-workbook needs --pdf-variant pdf/a-3b", file=err)
        return 2
    book = Path(args.book)
    report_only = args.command == "report"
    write = not report_only and not args.no_write
    workbook = Path(args.output) if (args.output and not report_only) else book
    if report_only:
        pdf = Path(args.output) if args.output else book.with_suffix(".pdf")
    elif args.pdf is None:
        pdf = None
    else:
        pdf = Path(args.pdf) if args.pdf else workbook.with_suffix(".pdf")
    try:
        outcome = run(
            book,
            write=write,
            out_path=args.output if write else None,
            pdf_path=pdf,
            page_size=args.page_size,
            pdf_variant=args.pdf_variant,
            attach_workbook=args.attach_workbook,
        )
    except WriteError as exc:
        print(f"scrm-xl: {exc}", file=err)
        return exc.exit_code
    if getattr(args, "json", False):
        from .export import results_to_json

        if outcome.results is None:
            data = {"program": None, "issues": [i.to_json() for i in outcome.issues]}
        else:
            data = results_to_json(replace(outcome.results, issues=outcome.issues))
        json.dump(data, out, indent=2, ensure_ascii=False)
        out.write("\n")
        for issue in outcome.issues:
            if issue.severity == "error":
                print(format_issue(issue), file=err)
    else:
        for issue in outcome.issues:
            print(format_issue(issue), file=out)
        if outcome.workbook is not None:
            print(f"wrote {outcome.workbook}", file=out)
        if outcome.pdf is not None:
            print(f"wrote {outcome.pdf}", file=out)
    return outcome.exit_code


def format_issue(issue) -> str:
    """``Costs!E14: error: amount "12,5x" is not a number``; file-level issues have no place."""
    return (
        f"{issue.where}: {issue.severity}: {issue.message}"
        if issue.where
        else f"{issue.severity}: {issue.message}"
    )


def program_json(program) -> dict | None:
    if program is None:
        return None
    return {
        "name": program.name,
        "currency": program.currency,
        "period_start": program.period_start.isoformat(),
        "period_end": program.period_end.isoformat(),
        "as_of": program.as_of.isoformat(),
        "attribution_model": program.attribution_model,
    }


def _new(args, out: TextIO, err: TextIO) -> int:
    from pathlib import Path

    path = Path(args.path)
    if path.exists() and not args.force:
        print(f"scrm-xl: {path} already exists; use --force to replace it", file=err)
        return 2
    from .template import write_template
    from .xlsm import write_excel_template

    try:
        if args.excel:
            module = path.with_suffix(".py")
            if module.exists() and not args.force:
                print(f"scrm-xl: {module} already exists; use --force to replace it", file=err)
                return 2
            written = write_excel_template(path, example=args.example)
        else:
            write_template(path, example=args.example)
            written = (path,)
    except ValueError as exc:  # e.g. a name Excel would refuse; the message says what to do
        print(f"scrm-xl: {' '.join(str(exc).split())}", file=err)
        return 2
    for p in written:
        print(f"wrote {p}", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
