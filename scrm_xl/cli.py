"""The ``scrm-xl`` command: parse arguments, call the library, print. Nothing else lives here."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO


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

    _batch_parser(sub)
    _send_parser(sub)
    return p


def _pdf_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--page-size", choices=("A4", "Letter"), default="A4", help="paper size (default A4)")
    p.add_argument("--pdf-variant", choices=("pdf/a-3b",), help="archival PDF/A-3b")
    p.add_argument(
        "--attach-workbook", action="store_true", help="embed the workbook in the PDF (needs --pdf-variant)"
    )


def command() -> NoReturn:
    """The ``scrm-xl`` program (``main`` on this process's arguments), and its exit status.

    Everything is written and flushed when ``main`` returns, so what the run made is frozen
    out of the collector first: the interpreter's exit would otherwise walk it all once more
    to free what the process is about to give back anyway (0.1-0.15 s after ``run --pdf``).
    Only here: ``main`` called from a test or a long-lived process keeps its collector."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        # a reader that went away (| head) is main's to report; the exit tries once more, as before
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.flush()
    gc.freeze()
    sys.exit(code)


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
        if args.command == "batch":
            return _batch(args, out, err)
        if args.command == "send":
            return _send(args, out, err)
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

    from .renderer import Renderer, RenderError

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
    # the renderer's WeasyPrint import is the slow end of run --pdf: fork it before the engine
    # loads (pipeline.run stops it if the run renders here, with the written workbook attached)
    renderer = Renderer() if pdf is not None and not (write and args.attach_workbook) else None
    try:
        from .files import WriteError
        from .pipeline import run
    except BaseException:
        if renderer is not None:
            renderer.cancel()
        raise
    try:
        outcome = run(
            book,
            write=write,
            out_path=args.output if write else None,
            pdf_path=pdf,
            page_size=args.page_size,
            pdf_variant=args.pdf_variant,
            attach_workbook=args.attach_workbook,
            renderer=renderer,
        )
    except WriteError as exc:
        print(f"scrm-xl: {exc}", file=err)
        return exc.exit_code
    except RenderError as exc:
        print(f"scrm-xl: cannot render the PDF briefing: {exc}", file=err)
        return 2
    if getattr(args, "json", False):
        from dataclasses import replace

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


# --- batch and send (issue 7) ----------------------------------------------------------


def _batch_parser(sub) -> None:
    # the defaults live in batch.py, imported only when a batch runs (it brings multiprocessing)
    b = sub.add_parser(
        "batch", help="calculate many workbooks, each isolated; write DIR/portfolio.xlsx and .pdf"
    )
    b.add_argument("paths", nargs="+", metavar="PATHS", help="workbooks, folders and globs (.xlsx/.xlsm)")
    b.add_argument("--out", required=True, metavar="DIR", help="where the outputs and the portfolio go")
    b.add_argument("--pdf", action="store_true", help="also render each programme's PDF briefing")
    b.add_argument("--jobs", type=_positive_int, metavar="N", help="workbooks at a time (default: all cores)")
    b.add_argument("--in-place", action="store_true", help="write each workbook itself, not a copy in DIR")
    b.add_argument("--timeout", type=float, metavar="S", help="seconds per workbook (0: no limit)")
    b.add_argument("--memory-mb", type=_positive_int, metavar="M", help="memory per workbook")
    b.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on a Dask distributed cluster")
    b.add_argument("--page-size", choices=("A4", "Letter"), default="A4", help="paper size (default A4)")


def _send_parser(sub) -> None:
    s = sub.add_parser("send", help="e-mail each programme's PDF briefing to its Distribution")
    s.add_argument("books", nargs="+", metavar="BOOK", help="calculated or raw .xlsx/.xlsm workbooks")
    s.add_argument("--smtp", metavar="HOST:PORT", help="the SMTP server (user/password from environment)")
    tls = s.add_mutually_exclusive_group()
    tls.add_argument("--starttls", action="store_true", help="upgrade the connection with STARTTLS")
    tls.add_argument("--ssl", action="store_true", help="implicit TLS (usually port 465)")
    s.add_argument("--from", dest="sender", metavar="ADDR", help="the sender (default: $SCRM_XL_MAIL_FROM)")
    s.add_argument("--attach-workbook", action="store_true", help="attach the calculated workbook too")
    s.add_argument("--eml", metavar="DIR", help="write the messages as DIR/*.eml instead of sending")
    s.add_argument("--send-with-errors", action="store_true", help="send even when a workbook has errors")
    s.add_argument("--page-size", choices=("A4", "Letter"), default="A4", help="paper size (default A4)")
    s.add_argument("--timeout", type=float, default=30.0, metavar="S", help="SMTP timeout (default 30 s)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def _batch(args, out: TextIO, err: TextIO) -> int:
    from pathlib import Path

    from rich.console import Console

    from .batch import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, BatchError, print_summary, run_batch
    from .jobs import judge, workbook_preload
    from .portfolio import write_portfolio, write_portfolio_pdf

    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        print(f"scrm-xl: --out {out_dir} is a file, not a folder", file=err)
        return 2
    options = {"pdf": args.pdf, "in_place": args.in_place, "page_size": args.page_size}
    try:
        report = run_batch(
            args.paths,
            "scrm_xl.jobs:workbook_job",
            out_dir=out_dir,
            options=options,
            jobs=args.jobs,
            timeout_s=DEFAULT_TIMEOUT_S if args.timeout is None else (args.timeout or None),
            memory_mb=DEFAULT_MEMORY_MB if args.memory_mb is None else args.memory_mb,
            console=Console(file=err, stderr=True),
            judge=judge,
            scheduler=args.scheduler,
            preload=workbook_preload(options),
        )
    except BatchError as exc:
        print(f"scrm-xl: {exc}", file=err)
        return 2
    print_summary(report, Console(file=out, width=max(100, Console(file=out).width)))
    if not report.outcomes:
        print("scrm-xl: no workbooks to process", file=err)
        return 2
    # calculated programmes (with errors too: the Errors column says so); the others are listed apart
    rows = [(o.result["rollup"], f"{o.stem}{o.path.suffix.lower()}") for o in report.outcomes if o.result]
    left_out = [(o.path.name, o.reason or "") for o in report.outcomes if not o.result]
    for path in (write_portfolio(rows, out_dir), write_portfolio_pdf(rows, out_dir, failed=left_out)):
        print(f"wrote {path}", file=out)
    for o in report.failed:
        print(f"failed: {o.path}: {o.reason}", file=err)
    return 1 if report.failed else 0


def _send(args, out: TextIO, err: TextIO) -> int:
    import os
    import tempfile
    from pathlib import Path

    from .batch import JobError
    from .jobs import prepare_briefing
    from .mail import MailError, briefing_message, eml_stem, send_messages, validate_address, write_eml

    if bool(args.smtp) == bool(args.eml):
        print("scrm-xl: give either --smtp HOST:PORT to send, or --eml DIR to write .eml files", file=err)
        return 2
    host = port = None
    if args.smtp:
        host, _, port_text = args.smtp.rpartition(":")
        if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            print(
                f'scrm-xl: --smtp "{args.smtp}" must look like HOST:PORT, e.g. smtp.example.com:587', file=err
            )
            return 2
        port = int(port_text)
    sender = args.sender or os.environ.get("SCRM_XL_MAIL_FROM", "")
    why = validate_address(sender) if sender else "is not given (use --from or SCRM_XL_MAIL_FROM)"
    if why:
        print(f'scrm-xl: the sender "{sender}" {why}' if sender else f"scrm-xl: the sender {why}", file=err)
        return 2
    security = "ssl" if args.ssl else "starttls" if args.starttls else "none"
    failures = 0
    for book in args.books:
        with tempfile.TemporaryDirectory(prefix="scrm-xl-send-") as tmp:
            try:
                headline, recipients, pdf, workbook, problems = prepare_briefing(
                    Path(book),
                    Path(tmp),
                    attach_workbook=args.attach_workbook,
                    page_size=args.page_size,
                    allow_errors=args.send_with_errors,
                )
                for p in problems:
                    print(f"{book}: {format_issue(p)}", file=err)
                msg = briefing_message(
                    headline, sender=sender, recipients=recipients, pdf=pdf, workbook=workbook
                )
                if args.eml:
                    [path] = write_eml([(eml_stem(headline.programme, headline.as_of), msg)], Path(args.eml))
                    print(f"{book}: wrote {path} for {', '.join(recipients)}", file=out)
                    continue
                [delivery] = send_messages(
                    [msg], host=host, port=port, security=security, timeout=args.timeout
                )
            except (JobError, MailError) as exc:
                failures += 1
                print(f"failed: {book}: {exc}", file=err)
                continue
        if delivery.ok:
            print(f"{book}: sent to {', '.join(delivery.delivered)}", file=out)
        else:
            failures += 1
            print(f"failed: {book}: {delivery.reason}", file=err)
    if failures:
        print(f"scrm-xl: {failures} of {len(args.books)} not sent", file=err)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
