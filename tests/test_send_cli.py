"""``scrm-xl send`` end to end: the real CLI in a subprocess against an aiosmtpd server on
127.0.0.1 started here, and ``--eml`` files parsed back with the standard library."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from batch_jobs import tweak
from helpers.loopback import Recorder, free_port
from openpyxl import load_workbook
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[1]
SENDER = "finance-ops@example.com"
SUBJECT = "Social CRM ROI briefing \u2014 {} \u2014 as of 2026-03-31"


def cli(*args, env=None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SCRM_XL_")}
    return subprocess.run(
        [sys.executable, "-m", "scrm_xl", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**environ, **(env or {})},
    )


@pytest.fixture
def smtp():
    handler = Recorder()
    ctl = Controller(handler, hostname="127.0.0.1", port=free_port())
    ctl.start()
    yield handler, ctl.port
    ctl.stop()


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("books")
    return {
        "care": tweak(
            d / "care.xlsx",
            program={
                "Program name": "Customer care",
                "Distribution": "cfo@example.com; ana@example.com",
            },
        ),
        "partly": tweak(
            d / "partly.xlsx",
            program={"Program name": "Forum", "Distribution": "cmo@example.com;nobody@example.com"},
        ),
        "nobody": tweak(d / "nobody.xlsx", program={"Program name": "No list"}),
        "broken": tweak(
            d / "broken.xlsx",
            program={"Program name": "Typo", "Distribution": "cfo@example.com"},
            cells={"Costs!F3": "12,5x"},
        ),
    }


def attachments(msg) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in msg.iter_attachments()}


def test_send_reaches_each_distribution_and_one_failure_does_not_stop_the_others(smtp, books, tmp_path):
    handler, port = smtp
    before = {k: p.read_bytes() for k, p in books.items()}
    proc = cli("send", books["nobody"], books["broken"], books["care"], books["partly"],
               "--smtp", f"127.0.0.1:{port}", "--from", SENDER)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert {k: p.read_bytes() for k, p in books.items()} == before  # nothing written into a workbook

    err = proc.stderr
    assert f"failed: {books['nobody']}: nobody to send to (Program: Distribution is empty)" in err
    assert f"failed: {books['broken']}: not sent: 1 error in the workbook" in err and "Costs!F3" in err
    assert f"failed: {books['partly']}: refused nobody@example.com (550 5.1.1 no such user here)" in err
    assert "3 of 4 not sent" in err
    assert f"{books['care']}: sent to cfo@example.com, ana@example.com" in proc.stdout

    # what the server received: two messages, each to its own workbook's Distribution
    assert [sorted(e.rcpt_tos) for e in handler.envelopes] == [
        ["ana@example.com", "cfo@example.com"],
        ["cmo@example.com"],
    ]
    care = BytesParser(policy=policy.default).parsebytes(handler.envelopes[0].content)
    assert handler.envelopes[0].mail_from == SENDER
    assert care["Subject"] == SUBJECT.format("Customer care")
    assert [a for _, a in getaddresses([care["To"]])] == ["cfo@example.com", "ana@example.com"]
    files = attachments(care)
    assert list(files) == ["care.pdf"]
    pdf = PdfReader(io.BytesIO(files["care.pdf"]))
    assert "Customer care" in pdf.pages[0].extract_text()

    # the attached PDF is byte for byte the briefing `scrm-xl report` renders for that workbook
    report = cli("report", books["care"], "-o", tmp_path / "care.pdf")
    assert report.returncode == 0, report.stderr
    assert files["care.pdf"] == (tmp_path / "care.pdf").read_bytes()


def test_eml_files_parse_back_with_the_workbook_attached(books, tmp_path):
    outbox = tmp_path / "outbox"
    proc = cli("send", books["care"], "--eml", outbox, "--from", SENDER, "--attach-workbook")
    assert proc.returncode == 0, proc.stderr
    [path] = sorted(outbox.iterdir())
    assert path.name == "Customer-care-2026-03-31.eml"
    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert msg["From"] == SENDER and msg["Subject"] == SUBJECT.format("Customer care")
    assert [a for _, a in getaddresses([msg["To"]])] == ["cfo@example.com", "ana@example.com"]
    files = attachments(msg)
    assert sorted(files) == ["care.pdf", "care.xlsx"]
    assert files["care.pdf"].startswith(b"%PDF-")
    calculated = tmp_path / "calculated.xlsx"
    calculated.write_bytes(files["care.xlsx"])
    assert {"ROI", "KPI", "Ledger", "Checks"} <= set(load_workbook(calculated).sheetnames)
    assert "ROI" not in load_workbook(books["care"]).sheetnames  # the original stays as it was
    body = msg.get_body(("plain",)).get_content()
    assert "ROI (returns linked to business transactions" in body
    assert "Value (real but intangible; not part of ROI)" in body


def test_refused_connection_and_bad_settings_are_one_line(books, tmp_path):
    port = free_port()  # nothing listens there
    proc = cli("send", books["care"], books["partly"], "--smtp", f"127.0.0.1:{port}", "--from", SENDER)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.startswith("failed: ")]
    assert len(lines) == 2 and all("connection refused" in line for line in lines)

    proc = cli("send", books["care"], "--smtp", "127.0.0.1:25", "--from", "finance-ops")
    assert proc.returncode == 2 and proc.stderr.strip() == 'scrm-xl: the sender "finance-ops" has no @'
    proc = cli("send", books["care"], "--smtp", "nohost", "--from", SENDER)
    assert proc.returncode == 2 and "must look like HOST:PORT" in proc.stderr
    proc = cli("send", books["care"], "--from", SENDER)
    assert proc.returncode == 2 and "either --smtp" in proc.stderr
    # the sender may come from the environment
    proc = cli("send", books["care"], "--eml", tmp_path / "o", env={"SCRM_XL_MAIL_FROM": SENDER})
    assert proc.returncode == 0, proc.stderr


def test_credentials_come_from_the_environment_and_are_never_printed(books):
    # a plain server without AUTH: a set user means the login cannot happen, said without the secret
    handler = Recorder()
    ctl = Controller(handler, hostname="127.0.0.1", port=free_port())
    ctl.start()
    try:
        proc = cli("send", books["care"], "--smtp", f"127.0.0.1:{ctl.port}", "--from", SENDER,
                   env={"SCRM_XL_SMTP_USER": "ana", "SCRM_XL_SMTP_PASSWORD": "s3cret-Pa55"})  # fmt: skip
    finally:
        ctl.stop()
    assert proc.returncode == 1
    assert "does not offer authentication" in proc.stderr
    assert "s3cret-Pa55" not in proc.stdout + proc.stderr
    assert handler.envelopes == []
