"""E-mail delivery of briefings: build messages, send them over SMTP or write
them as .eml files.

A face, like the CLI: it takes figures already computed and files already
written, and never imports the pipeline. The SMTP user and password come only
from the environment (``SCRM_XL_SMTP_USER``, ``SCRM_XL_SMTP_PASSWORD``) and are
scrubbed from every reason this module reports.
"""

from __future__ import annotations

import mimetypes
import os
import re
import smtplib
import socket
import ssl
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from email import errors, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path

from .export import ProgrammeTotals, totals_from_json
from .model import Issue, error, warning

SMTP_USER_ENV = "SCRM_XL_SMTP_USER"
SMTP_PASSWORD_ENV = "SCRM_XL_SMTP_PASSWORD"
SECURITY_MODES = ("none", "starttls", "ssl")

# mimetypes on a bare system may not know the Office types
_MIME_TYPES = {
    ".pdf": "application/pdf",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    ".json": "application/json",
}


class MailError(Exception):
    """A problem with the mail settings or a message, in one line, before anything is sent."""


# --- addresses ---------------------------------------------------------------


def validate_address(text: str) -> str | None:
    """The reason ``text`` is not a usable ``local@domain`` address, or None when it is."""
    if not text:
        return "is empty"
    if any(ch.isspace() for ch in text):
        return "contains a space"
    if text.count("@") != 1:
        return "must contain exactly one @" if "@" in text else "has no @"
    local, domain = text.split("@")
    if not local:
        return "has nothing before the @"
    if not domain:
        return "has no domain after the @"
    if "." not in domain:
        return f'has no dot in its domain "{domain}"'
    if domain.startswith(".") or domain.endswith(".") or ".." in domain:
        return f'has a malformed domain "{domain}"'
    try:
        addr = Address(addr_spec=text)
    except (errors.HeaderParseError, ValueError, IndexError):  # the header parser raises any of these
        return "is not a valid e-mail address"
    if addr.addr_spec.casefold() != text.casefold():
        return "is not a valid e-mail address"
    return None


def parse_distribution(text: str | None, where: str = "Program") -> tuple[tuple[str, ...], list[Issue]]:
    """Addresses from the Program sheet's Distribution cell, and the problems found.

    Entries are separated by ``;`` (commas are accepted too, as Outlook users
    paste them); ``Jane Doe <jane@example.com>`` keeps its display name.
    Duplicates (case-insensitive) are dropped with a warning; an entry that is
    not an address is an error at ``where`` and is left out.
    """
    if text is None or not str(text).strip():
        return (), []
    addresses: list[str] = []
    issues: list[Issue] = []
    seen: set[str] = set()
    for piece in str(text).replace("\u00a0", " ").split(";"):
        piece = piece.strip()
        if not piece:
            continue
        parsed = getaddresses([piece])
        if not parsed or all(not spec for _, spec in parsed):
            why = validate_address(piece) or "is not an e-mail address"
            issues.append(error(where, f'Distribution: "{piece}" {why}'))
            continue
        for name, spec in parsed:
            spec = spec.strip()
            reason = validate_address(spec)
            if reason:
                shown = spec or piece
                issues.append(error(where, f'Distribution: "{shown}" {reason}'))
                continue
            if spec.casefold() in seen:
                issues.append(warning(where, f'Distribution: "{spec}" is listed twice; sent once'))
                continue
            seen.add(spec.casefold())
            addresses.append(str(Address(display_name=name, addr_spec=spec)) if name else spec)
    return tuple(addresses), issues


def _addr_spec(entry: str) -> str:
    parsed = getaddresses([entry])
    return parsed[0][1] if len(parsed) == 1 else ""


# --- messages ------------------------------------------------------------------


def build_message(
    *,
    sender: str,
    recipients: Sequence[str],
    subject: str,
    body: str,
    attachments: Sequence[Path] = (),
    when: datetime | None = None,
) -> EmailMessage:
    """A plain-text message with files attached; raises MailError on a bad address or a missing file.

    ``when`` fixes the Date header (default: now, local time).
    """
    for label, entry in [("sender", sender)] + [("recipient", r) for r in recipients]:
        reason = validate_address(_addr_spec(entry))
        if reason:
            raise MailError(f'{label} "{entry}" {reason}')
    if not recipients:
        raise MailError(f'no recipients for "{subject}"')
    if "\n" in subject or "\r" in subject:
        raise MailError("the subject must be one line")
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when or datetime.now().astimezone())
    msg["Message-ID"] = make_msgid(domain=_addr_spec(sender).rpartition("@")[2] or None)
    msg.set_content(body)
    for path in attachments:
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MailError(f"{path}: cannot attach ({exc.strerror or exc})") from None
        mime = _MIME_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
        maintype, _, subtype = (mime or "application/octet-stream").partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    return msg


def briefing_subject(programme: str, as_of: date) -> str:
    return f"Social CRM ROI briefing \u2014 {programme} \u2014 as of {as_of.isoformat()}"


@dataclass(frozen=True, slots=True)
class Headline(ProgrammeTotals):
    """The figures a briefing e-mail states: ROI (transaction-linked, the programme's totals)
    apart from value (intangible: reach, engagements, influence score)."""

    value: Mapping[str, float] = field(default_factory=dict)


def headline_from_json(results: Mapping, value: Mapping[str, float] | None = None) -> Headline:
    """A Headline from the contract's ``--json`` object (its "program", "totals" and "issues")."""
    totals = totals_from_json(results)
    return Headline(**{f.name: getattr(totals, f.name) for f in fields(totals)}, value=dict(value or {}))


def _money(amount: Decimal, currency: str) -> str:
    q = Decimal(amount).quantize(Decimal("0.01"))
    sign = "-" if q < 0 else ""
    return f"{sign}{currency} {abs(q):,.2f}"


def _pct(fraction: Decimal | None) -> str:
    if fraction is None:
        return "n/a (no investment)"
    return f"{(Decimal(fraction) * 100).quantize(Decimal('0.1'))}%"


def _number(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() or abs(x) >= 1000 else f"{x:,.2f}"


def briefing_body(h: Headline, *, attached: Sequence[str] = ()) -> str:
    """The plain-text body: ROI figures first, then value, kept apart as the contract asks."""
    lines = [
        f"Social CRM ROI briefing for {h.programme}",
        f"Period {h.period_start.isoformat()} to {h.period_end.isoformat()}, "
        f"figures as of {h.as_of.isoformat()}.",
        "",
        "ROI (returns linked to business transactions, expected scenario)",
        f"  Investment:        {_money(h.investment, h.currency)}",
        f"  New revenue:       {_money(h.new_revenue, h.currency)} (after gross margin)",
        f"  Cost savings:      {_money(h.cost_savings, h.currency)}",
        f"  Spending avoided:  {_money(h.spending_avoided, h.currency)}",
        f"  Total return:      {_money(h.total_return, h.currency)}",
        f"  Net return:        {_money(h.net_return, h.currency)}",
        f"  ROI:               {_pct(h.roi[1])}"
        + (
            f" (range {_pct(h.roi[0])} conservative to {_pct(h.roi[2])} optimistic)"
            if h.roi[1] is not None
            else ""
        ),
        "  Payback:           "
        + (f"{h.payback_months} months" if h.payback_months is not None else "not reached"),
    ]
    if h.value:
        lines += ["", "Value (real but intangible; not part of ROI)"]
        width = max(len(k) for k in h.value) + 1
        lines += [f"  {name + ':':<{width}}  {_number(v)}" for name, v in h.value.items()]
    if h.errors:
        lines += [
            "",
            f"The workbook has {h.errors} error{'s' if h.errors != 1 else ''}; the figures they touch are "
            "left out. See the Checks sheet.",
        ]
    if attached:
        lines += ["", "Attached: " + ", ".join(attached)]
    lines += ["", "Generated by scrm_xl from the programme's standardized workbook."]
    return "\n".join(lines) + "\n"


def briefing_message(
    h: Headline,
    *,
    sender: str,
    recipients: Sequence[str],
    pdf: Path,
    workbook: Path | None = None,
    when: datetime | None = None,
) -> EmailMessage:
    """The briefing e-mail for one programme: its PDF and, optionally, the calculated workbook."""
    files = [Path(pdf)] + ([Path(workbook)] if workbook else [])
    return build_message(
        sender=sender,
        recipients=recipients,
        subject=briefing_subject(h.programme, h.as_of),
        body=briefing_body(h, attached=[f.name for f in files]),
        attachments=files,
        when=when,
    )


# --- .eml files ------------------------------------------------------------------


def eml_stem(programme: str, as_of: date | None = None) -> str:
    """A file-name stem from the programme: ``Acme Loyalty (EU)`` -> ``Acme-Loyalty-EU``."""
    text = unicodedata.normalize("NFKD", programme).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "programme"
    text = text[:80]
    return f"{text}-{as_of.isoformat()}" if as_of else text


def write_eml(
    messages: Iterable[tuple[str, EmailMessage]], directory: Path, *, overwrite: bool = False
) -> list[Path]:
    """Write each (stem, message) as ``directory/stem.eml``; returns the paths in order.

    Stems repeated within one call get ``-2``, ``-3``...; a file that already
    exists is an error (MailError, nothing written) unless ``overwrite``.
    Each file appears whole or not at all.
    """
    directory = Path(directory)
    planned: list[tuple[Path, EmailMessage]] = []
    used: set[str] = set()
    for stem, msg in messages:
        base = eml_stem(stem)
        name, n = base, 1
        while name.casefold() in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name.casefold())
        planned.append((directory / f"{name}.eml", msg))
    if not overwrite:
        existing = [str(p) for p, _ in planned if p.exists()]
        if existing:
            raise MailError(f"{existing[0]} already exists; not overwritten (use a new folder or overwrite)")
    directory.mkdir(parents=True, exist_ok=True)
    for path, msg in planned:
        data = msg.as_bytes(policy=policy.SMTP)  # CRLF line ends, as mail clients expect in .eml
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".eml", dir=directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if overwrite:
                os.replace(tmp, path)
            else:
                # link() fails if the name appeared meanwhile: no silent overwrite even in a race
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    raise MailError(f"{path} already exists; not overwritten") from None
                os.unlink(tmp)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return [p for p, _ in planned]


# --- sending ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """What happened to one message: ok, or the one-line reason it was not (fully) delivered."""

    subject: str
    recipients: tuple[str, ...]
    ok: bool
    reason: str | None = None
    delivered: tuple[str, ...] = ()  # addresses the server accepted
    refused: tuple[str, ...] = ()  # addresses the server refused

    def __str__(self) -> str:
        return f"{self.subject}: {'sent' if self.ok else self.reason}"


def credentials_from_env(env: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """(user, password) from the environment, None when neither is set; MailError when only one is."""
    env = os.environ if env is None else env
    user, password = env.get(SMTP_USER_ENV) or "", env.get(SMTP_PASSWORD_ENV) or ""
    if not user and not password:
        return None
    if not user:
        raise MailError(f"{SMTP_PASSWORD_ENV} is set but {SMTP_USER_ENV} is not")
    if not password:
        raise MailError(f"{SMTP_USER_ENV} is set but {SMTP_PASSWORD_ENV} is not")
    return user, password


def _server_text(code: int | None, text: bytes | str | None) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = " ".join((text or "").split())
    return f"{code} {text}".strip() if code else text


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


def _reason(exc: BaseException, host: str, port: int, timeout: float) -> str:
    where = f"{host}:{port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return (
            f"authentication failed at {where} for the user in {SMTP_USER_ENV} "
            f"(server said: {_server_text(exc.smtp_code, exc.smtp_error)})"
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{where}: {exc}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(f"{a} ({_server_text(c, t)})" for a, (c, t) in exc.recipients.items())
        return f"every recipient was refused: {refused}"
    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code == 530:
        return f"{where} requires authentication: set {SMTP_USER_ENV} and {SMTP_PASSWORD_ENV}"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"sender {exc.sender} refused (server said: {_server_text(exc.smtp_code, exc.smtp_error)})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{where} refused the message (server said: {_server_text(exc.smtp_code, exc.smtp_error)})"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"{where} closed the connection unexpectedly"
    if isinstance(exc, ConnectionRefusedError):
        return f"cannot connect to {where}: connection refused (is the SMTP server running on that port?)"
    if isinstance(exc, socket.gaierror):
        return f'cannot connect to {where}: unknown host "{host}"'
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"{where} did not answer within {timeout:g} s"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS error with {where}: certificate not trusted ({exc.verify_message or exc.reason})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error with {where}: {exc.reason or exc}"
    if isinstance(exc, OSError):
        return f"cannot connect to {where}: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"


def _connect(host: str, port: int, security: str, timeout: float, context: ssl.SSLContext) -> smtplib.SMTP:
    if security == "ssl":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    client = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if security == "starttls":
            client.ehlo()
            if not client.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS")
            client.starttls(context=context)
            client.ehlo()
    except BaseException:
        client.close()
        raise
    return client


def send_messages(
    messages: Iterable[EmailMessage],
    *,
    host: str,
    port: int,
    security: str = "none",
    timeout: float = 30.0,
    tls_context: ssl.SSLContext | None = None,
    env: Mapping[str, str] | None = None,
) -> list[Delivery]:
    """Send each message over its own SMTP connection; one Delivery per message, in order.

    A failure with one message (refused recipient, dropped connection) never
    stops the others. Credentials come from ``SCRM_XL_SMTP_USER`` /
    ``SCRM_XL_SMTP_PASSWORD`` in ``env`` (default: the process environment)
    and never appear in a reason. ``tls_context`` defaults to the system's
    trusted certificates with host-name checking.
    """
    if security not in SECURITY_MODES:
        raise MailError(f'security must be one of {", ".join(SECURITY_MODES)}, not "{security}"')
    creds = credentials_from_env(env)
    secrets = list(creds) if creds else []
    context = tls_context or ssl.create_default_context()
    deliveries: list[Delivery] = []
    for msg in messages:
        subject = str(msg.get("Subject", ""))
        rcpts = tuple(spec for _, spec in getaddresses(msg.get_all("To", []) + msg.get_all("Cc", [])) if spec)
        try:
            client = _connect(host, port, security, timeout, context)
            try:
                if creds:
                    if not client.has_extn("auth"):
                        client.ehlo_or_helo_if_needed()
                    if not client.has_extn("auth"):
                        hint = " without TLS; try --starttls or --ssl" if security == "none" else ""
                        raise smtplib.SMTPNotSupportedError(
                            f"the server does not offer authentication{hint}, but {SMTP_USER_ENV} is set"
                        )
                    client.login(*creds)
                refused = client.send_message(msg)
            finally:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    client.close()
        except (smtplib.SMTPException, OSError) as exc:
            reason = _scrub(_reason(exc, host, port, timeout), secrets)
            deliveries.append(Delivery(subject, rcpts, False, reason, refused=_refused_of(exc, rcpts)))
            continue
        if refused:
            bad = tuple(refused)
            why = "; ".join(f"{a} ({_server_text(c, t)})" for a, (c, t) in refused.items())
            reason = _scrub(f"refused {why}; delivered to the others", secrets)
            ok_to = tuple(r for r in rcpts if r not in refused)
            deliveries.append(Delivery(subject, rcpts, False, reason, delivered=ok_to, refused=bad))
        else:
            deliveries.append(Delivery(subject, rcpts, True, delivered=rcpts))
    return deliveries


def _refused_of(exc: BaseException, rcpts: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return tuple(exc.recipients)
    return ()
