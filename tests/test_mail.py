"""Mail delivery against real SMTP servers (aiosmtpd) on 127.0.0.1, and .eml files read back."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from decimal import Decimal
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from helpers.loopback import Recorder, free_port

from scrm_xl import mail
from scrm_xl.mail import (
    Headline,
    MailError,
    briefing_body,
    briefing_message,
    build_message,
    parse_distribution,
    send_messages,
    write_eml,
)

SENDER = "finance-ops@example.com"
USER, PASSWORD = "ana", "s3cret-Pa55"
WHEN = dt.datetime(2026, 4, 2, 9, 30, tzinfo=dt.UTC)


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


@pytest.fixture
def server_factory():
    started = []

    def start(**kwargs):
        handler = Recorder()
        ctl = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
        ctl.start()
        started.append(ctl)
        return handler, ctl.port

    yield start
    for ctl in started:
        ctl.stop()


@pytest.fixture(scope="module")
def pdf_file(tmp_path_factory) -> Path:
    from weasyprint import HTML

    path = tmp_path_factory.mktemp("pdf") / "Acme-Loyalty.pdf"
    path.write_bytes(HTML(string="<h1>Briefing</h1><p>ROI 25%</p>").write_pdf())
    return path


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed certificate for localhost / 127.0.0.1, made with `cryptography`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    d = tmp_path_factory.mktemp("tls")
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(d / "cert.pem", d / "key.pem")
    client = ssl.create_default_context(cafile=str(d / "cert.pem"))
    return server, client


def headline(**over) -> Headline:
    values = dict(
        programme="Acme Loyalty",
        currency="USD",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
        as_of=dt.date(2026, 3, 31),
        investment=Decimal("10000"),
        new_revenue=Decimal("6000"),
        cost_savings=Decimal("5000"),
        spending_avoided=Decimal("1500"),
        total_return=Decimal("12500"),
        net_return=Decimal("2500"),
        roi=(Decimal("0.1"), Decimal("0.25"), Decimal("0.4")),  # conservative, expected, optimistic
        payback_months=3,
        goals=3,
        measurable_goals=2,
        errors=0,
        value={"Reach": 120000, "Engagements": 5400, "Influence score": 61.5},
    )
    values.update(over)
    return Headline(**values)


def message(pdf: Path, to: list[str], programme: str = "Acme Loyalty"):
    return briefing_message(headline(programme=programme), sender=SENDER, recipients=to, pdf=pdf, when=WHEN)


def parsed(envelope):
    return BytesParser(policy=policy.default).parsebytes(envelope.content)


def attachments(msg) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in msg.iter_attachments()}


# --- addresses -------------------------------------------------------------------


def test_distribution_splits_on_semicolons_keeps_names_and_reports_bad_entries():
    addresses, issues = parse_distribution(
        " Jane Doe <jane@example.com>; bob@ ;cfo@example.com; CFO@Example.com;;a@localhost; nonsense ",
        where="Program!B14",
    )
    assert addresses == ("Jane Doe <jane@example.com>", "cfo@example.com")
    assert [str(i) for i in issues] == [
        'Program!B14: Distribution: "bob@" has no domain after the @',
        'Program!B14: Distribution: "CFO@Example.com" is listed twice; sent once',
        'Program!B14: Distribution: "a@localhost" has no dot in its domain "localhost"',
        'Program!B14: Distribution: "nonsense" has no @',
    ]
    assert [i.severity.value for i in issues] == ["error", "warning", "error", "error"]


def test_empty_distribution_is_no_recipients_and_no_issue():
    assert parse_distribution(None) == ((), [])
    assert parse_distribution("  \u00a0 ") == ((), [])


def test_build_message_rejects_bad_addresses_and_missing_files(pdf_file, tmp_path):
    with pytest.raises(MailError, match='recipient "bob@example" has no dot'):
        build_message(sender=SENDER, recipients=["bob@example"], subject="s", body="b")
    with pytest.raises(MailError, match="no recipients"):
        build_message(sender=SENDER, recipients=[], subject="s", body="b")
    with pytest.raises(MailError, match="missing.pdf: cannot attach"):
        build_message(
            sender=SENDER, recipients=["a@example.com"], subject="s", body="b",
            attachments=[tmp_path / "missing.pdf"],
        )  # fmt: skip


# --- body ----------------------------------------------------------------------


def test_body_states_roi_figures_apart_from_value():
    body = briefing_body(headline(), attached=["Acme-Loyalty.pdf"])
    # 6000 + 5000 + 1500 = 12500 returned on 10000 invested: net 2500, ROI 25.0 %
    assert "Investment:        USD 10,000.00" in body
    assert "Total return:      USD 12,500.00" in body
    assert "Net return:        USD 2,500.00" in body
    assert "ROI:               25.0% (range 10.0% conservative to 40.0% optimistic)" in body
    assert "Payback:           3 months" in body
    roi_at, value_at = body.index("ROI (returns linked"), body.index("Value (real but intangible")
    assert roi_at < body.index("Net return") < value_at < body.index("Reach:")
    assert "120,000" in body and "61.50" in body
    assert "Attached: Acme-Loyalty.pdf" in body


def test_body_without_investment_says_roi_does_not_exist():
    body = briefing_body(
        headline(investment=Decimal(0), roi=(None, None, None), payback_months=None, errors=2, value={})
    )  # fmt: skip
    assert "ROI:               n/a (no investment)\n" in body
    assert "Payback:           not reached" in body
    assert "The workbook has 2 errors" in body
    assert "Value (" not in body


def test_headline_from_contract_json():
    h = mail.headline_from_json(
        {
            "program": {"name": "Acme", "currency": "EUR", "period_start": "2026-01-01",
                        "period_end": "2026-06-30", "as_of": "2026-03-31", "attribution_model": "Linear"},
            "totals": {"investment": 800.5, "unallocated_investment": 0,
                       "return": {"new_revenue": 100, "cost_savings": 200.25, "spending_avoided": 0,
                                  "total": 300.25},
                       "net_return": -500.25,
                       "roi": {"conservative": None, "expected": -0.625, "optimistic": 1},
                       "payback_months": None, "npv": None},
            "issues": [{"severity": "error", "where": "Costs!E3", "message": "x"},
                       {"severity": "warning", "where": "Costs!E4", "message": "y"}],
        }
    )  # fmt: skip
    assert h.total_return == Decimal("300.25")
    assert h.roi == (None, Decimal("-0.625"), Decimal(1))
    assert h.errors == 1 and h.as_of == dt.date(2026, 3, 31)
    assert (
        mail.briefing_subject(h.programme, h.as_of)
        == "Social CRM ROI briefing \u2014 Acme \u2014 as of 2026-03-31"
    )


# --- sending -------------------------------------------------------------------


def test_send_delivers_pdf_to_each_recipient(server_factory, pdf_file):
    handler, port = server_factory()
    msgs = [
        message(pdf_file, ["Jane Doe <jane@example.com>", "cfo@example.com"]),
        message(pdf_file, ["ops@example.org"], programme="Beta Care"),
    ]
    deliveries = send_messages(msgs, host="127.0.0.1", port=port, env={})
    assert [d.ok for d in deliveries] == [True, True]
    assert [sorted(e.rcpt_tos) for e in handler.envelopes] == [
        ["cfo@example.com", "jane@example.com"],
        ["ops@example.org"],
    ]
    assert handler.envelopes[0].mail_from == SENDER
    got = parsed(handler.envelopes[0])
    assert got["Subject"] == "Social CRM ROI briefing \u2014 Acme Loyalty \u2014 as of 2026-03-31"
    assert parsed(handler.envelopes[1])["Subject"].startswith("Social CRM ROI briefing \u2014 Beta Care")
    files = attachments(got)
    assert list(files) == ["Acme-Loyalty.pdf"]
    assert files["Acme-Loyalty.pdf"] == pdf_file.read_bytes()
    assert files["Acme-Loyalty.pdf"].startswith(b"%PDF-")
    assert "ROI:               25.0%" in got.get_body(("plain",)).get_content()


def test_attach_workbook_too(server_factory, pdf_file, tmp_path):
    handler, port = server_factory()
    book = tmp_path / "Acme.xlsx"
    book.write_bytes(b"PK\x03\x04 not really a zip but bytes are bytes")
    msg = briefing_message(
        headline(), sender=SENDER, recipients=["a@example.com"], pdf=pdf_file, workbook=book
    )
    assert send_messages([msg], host="127.0.0.1", port=port, env={})[0].ok
    parts = {p.get_filename(): p for p in parsed(handler.envelopes[0]).iter_attachments()}
    assert parts["Acme.xlsx"].get_content_type() == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert parts["Acme.xlsx"].get_content() == book.read_bytes()
    assert parts["Acme-Loyalty.pdf"].get_content_type() == "application/pdf"


def test_refused_recipient_does_not_stop_the_other_messages(server_factory, pdf_file):
    handler, port = server_factory()
    msgs = [
        message(pdf_file, ["nobody@example.com"], programme="All refused"),
        message(pdf_file, ["cfo@example.com", "nobody@example.net"], programme="Half refused"),
        message(pdf_file, ["ops@example.org"], programme="Fine"),
    ]
    d = send_messages(msgs, host="127.0.0.1", port=port, env={})
    assert [x.ok for x in d] == [False, False, True]
    assert d[0].reason == "every recipient was refused: nobody@example.com (550 5.1.1 no such user here)"
    assert d[0].refused == ("nobody@example.com",)
    assert d[1].reason == "refused nobody@example.net (550 5.1.1 no such user here); delivered to the others"
    assert d[1].delivered == ("cfo@example.com",) and d[1].refused == ("nobody@example.net",)
    assert [e.rcpt_tos for e in handler.envelopes] == [["cfo@example.com"], ["ops@example.org"]]


def test_connection_refused_is_one_clear_line_per_message(pdf_file):
    port = free_port()  # nothing listens here any more
    d = send_messages([message(pdf_file, ["a@example.com"])] * 2, host="127.0.0.1", port=port, env={})
    assert [x.ok for x in d] == [False, False]
    assert d[0].reason == (
        f"cannot connect to 127.0.0.1:{port}: connection refused (is the SMTP server running on that port?)"
    )


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_authentication_failure_never_shows_the_password(server_factory, pdf_file):
    handler, port = server_factory(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    env = {mail.SMTP_USER_ENV: USER, mail.SMTP_PASSWORD_ENV: "wrong-" + PASSWORD}
    d = send_messages([message(pdf_file, ["a@example.com"])], host="127.0.0.1", port=port, env=env)
    assert not d[0].ok
    assert d[0].reason.startswith(
        f"authentication failed at 127.0.0.1:{port} for the user in SCRM_XL_SMTP_USER"
    )
    assert PASSWORD not in d[0].reason and "wrong-" not in d[0].reason
    assert handler.envelopes == []

    no_creds = send_messages([message(pdf_file, ["a@example.com"])], host="127.0.0.1", port=port, env={})
    assert not no_creds[0].ok and "requires authentication" in no_creds[0].reason

    env[mail.SMTP_PASSWORD_ENV] = PASSWORD
    ok = send_messages([message(pdf_file, ["a@example.com"])], host="127.0.0.1", port=port, env=env)
    assert ok[0].ok and [e.rcpt_tos for e in handler.envelopes] == [["a@example.com"]]


def test_half_set_credentials_are_a_settings_error():
    with pytest.raises(MailError, match="SCRM_XL_SMTP_PASSWORD is set but SCRM_XL_SMTP_USER is not"):
        send_messages([], host="127.0.0.1", port=1, env={mail.SMTP_PASSWORD_ENV: "x"})
    with pytest.raises(MailError, match="security must be one of"):
        send_messages([], host="127.0.0.1", port=1, security="tls", env={})


def test_starttls_with_a_trusted_certificate(server_factory, pdf_file, tls_files):
    server_ctx, client_ctx = tls_files
    handler, port = server_factory(tls_context=server_ctx, require_starttls=True)
    d = send_messages(
        [message(pdf_file, ["a@example.com"])], host="127.0.0.1", port=port, security="starttls",
        tls_context=client_ctx, env={},
    )  # fmt: skip
    assert d[0].ok, d[0].reason
    assert attachments(parsed(handler.envelopes[0]))["Acme-Loyalty.pdf"] == pdf_file.read_bytes()


def test_starttls_with_an_untrusted_certificate_is_a_tls_error(server_factory, pdf_file, tls_files):
    server_ctx, _ = tls_files
    handler, port = server_factory(tls_context=server_ctx, require_starttls=True)
    d = send_messages(
        [message(pdf_file, ["a@example.com"])], host="127.0.0.1", port=port, security="starttls", env={}
    )
    assert not d[0].ok
    assert d[0].reason.startswith(f"TLS error with 127.0.0.1:{port}: certificate not trusted")
    assert handler.envelopes == []


def test_starttls_asked_of_a_server_without_it(server_factory, pdf_file):
    _, port = server_factory()
    d = send_messages(
        [message(pdf_file, ["a@example.com"])], host="127.0.0.1", port=port, security="starttls", env={}
    )
    assert d[0].reason == f"127.0.0.1:{port}: the server does not offer STARTTLS"


def test_implicit_ssl(server_factory, pdf_file, tls_files):
    server_ctx, client_ctx = tls_files
    handler, port = server_factory(ssl_context=server_ctx)
    msgs = [message(pdf_file, ["a@example.com"]), message(pdf_file, ["b@example.com"], programme="B")]
    d = send_messages(msgs, host="127.0.0.1", port=port, security="ssl", tls_context=client_ctx, env={})
    assert [x.ok for x in d] == [True, True]
    assert [e.rcpt_tos for e in handler.envelopes] == [["a@example.com"], ["b@example.com"]]


def test_ssl_asked_of_a_plain_server_is_a_tls_error(server_factory, pdf_file):
    _, port = server_factory()
    d = send_messages(
        [message(pdf_file, ["a@example.com"])], host="127.0.0.1", port=port, security="ssl", env={}, timeout=5
    )
    assert not d[0].ok and d[0].reason.startswith(f"TLS error with 127.0.0.1:{port}")


# --- .eml ----------------------------------------------------------------------


def test_eml_files_parse_back_with_the_standard_library(pdf_file, tmp_path):
    out = tmp_path / "outbox"
    msgs = [
        ("Acme Loyalty", message(pdf_file, ["cfo@example.com"])),
        ("Acme Loyalty", message(pdf_file, ["ops@example.com"])),
        ("Caf\u00e9 / Care (EU)", message(pdf_file, ["eu@example.com"], programme="Caf\u00e9 Care")),
    ]
    paths = write_eml(msgs, out)
    assert [p.name for p in paths] == ["Acme-Loyalty.eml", "Acme-Loyalty-2.eml", "Cafe-Care-EU.eml"]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)  # no temp files left
    back = [BytesParser(policy=policy.default).parse(p.open("rb")) for p in paths]
    assert [m["To"] for m in back] == ["cfo@example.com", "ops@example.com", "eu@example.com"]
    assert back[2]["Subject"] == "Social CRM ROI briefing \u2014 Caf\u00e9 Care \u2014 as of 2026-03-31"
    assert back[0]["Date"].datetime == WHEN
    assert attachments(back[0])["Acme-Loyalty.pdf"] == pdf_file.read_bytes()
    assert b"\r\n" in paths[0].read_bytes()


def test_eml_never_overwrites_silently(pdf_file, tmp_path):
    first = write_eml([("Acme", message(pdf_file, ["a@example.com"]))], tmp_path)
    before = first[0].read_bytes()
    with pytest.raises(MailError, match="Acme.eml already exists; not overwritten"):
        write_eml([("Other", message(pdf_file, ["b@example.com"])), ("Acme", message(pdf_file, ["c@x.org"]))],
                  tmp_path)  # fmt: skip
    assert first[0].read_bytes() == before
    assert not (tmp_path / "Other.eml").exists()  # all or nothing
    again = write_eml([("Acme", message(pdf_file, ["c@example.org"]))], tmp_path, overwrite=True)
    assert BytesParser(policy=policy.default).parse(again[0].open("rb"))["To"] == "c@example.org"
