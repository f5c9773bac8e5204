"""Hostile files: each gives one line and exit status 2, never a crash, a hang or a traceback.

The CLI runs as a real subprocess, so an abort inside a parser (python-calamine
aborts the process on an absurd used range) would show here as a signal."""

import random
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers.book import base_sheets, write_book

ROOT = Path(__file__).resolve().parents[1]


def run_check(path):
    proc = subprocess.run(
        [sys.executable, "-m", "scrm_xl", "check", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def rewrite(src: Path, dst: Path, change: dict) -> Path:
    """Copy a workbook, replacing (or adding) parts: {part name: bytes or function(bytes) -> bytes}."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        names = zin.namelist()
        for name in names:
            data = zin.read(name)
            if name in change:
                data = change[name](data) if callable(change[name]) else change[name]
            zout.writestr(name, data)
        for name, data in change.items():
            if name not in names:
                zout.writestr(name, data)
    return dst


@pytest.fixture
def good(tmp_path):
    return write_book(tmp_path / "good.xlsx", base_sheets())


def sheet_part(book: Path, name: str) -> str:
    # write_book adds sheets in base_sheets order
    return f"xl/worksheets/sheet{list(base_sheets()).index(name) + 1}.xml"


def huge_dimension(good, tmp_path):
    part = sheet_part(good, "Costs")
    return rewrite(
        good,
        tmp_path / "dim.xlsx",
        {part: lambda d: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', d)},
    )


def far_cell(good, tmp_path):
    # no dimension claim, but one real cell at XFD1048576: calamine would allocate 17 billion cells
    part = sheet_part(good, "Costs")

    def change(d):
        d = re.sub(rb'<dimension ref="[^"]*"/>', b"", d)
        return d.replace(
            b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
        )

    return rewrite(good, tmp_path / "far.xlsx", {part: change})


def far_cell_r_not_first(good, tmp_path):
    part = sheet_part(good, "Costs")

    def change(d):
        d = re.sub(rb'<dimension ref="[^"]*"/>', b"", d)
        return d.replace(
            b"</sheetData>", b'<row r="700000"><c s="0" r="XFD700000"><v>1</v></c></row></sheetData>'
        )

    return rewrite(good, tmp_path / "far2.xlsx", {part: change})


def far_cell_first(good, tmp_path):
    # rows in any order: the far one opens sheetData
    part = sheet_part(good, "Costs")

    def change(d):
        d = re.sub(rb'<dimension ref="[^"]*"/>', b"", d)
        return re.sub(rb"<sheetData>", b'<sheetData><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>', d)

    return rewrite(good, tmp_path / "far3.xlsx", {part: change})


def far_cell_after_a_long_gap(good, tmp_path):
    # the far cell comes after megabytes without a row (a comment of incompressible text), so
    # the scan passes chunks in which it finds no row at all before it reaches it
    part = sheet_part(good, "Costs")
    gap = b"<!--" + random.Random(8).randbytes(3 * 1024 * 1024).hex().encode() + b"-->"

    def change(d):
        d = re.sub(rb'<dimension ref="[^"]*"/>', b"", d)
        return d.replace(
            b"</sheetData>", gap + b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
        )

    return rewrite(good, tmp_path / "far4.xlsx", {part: change})


def zip_bomb(good, tmp_path):
    # 300 MB of zeros in one part compresses about 1000 to 1
    path = rewrite(good, tmp_path / "bomb.xlsx", {})
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z,
        z.open("xl/media/pad.bin", "w", force_zip64=True) as f,
    ):
        block = bytes(1024 * 1024)
        for _ in range(300):
            f.write(block)
    return path


def bomb_in_sheet_rels(good, tmp_path):
    # a sheet's relationships sit beside the worksheets but are always sized up
    padding = b'<?xml version="1.0"?><Relationships><!--' + b" " * (40 * 1024 * 1024) + b"--></Relationships>"
    return rewrite(good, tmp_path / "rels_bomb.xlsx", {"xl/worksheets/_rels/sheet1.xml.rels": padding})


def lying_bomb(good, tmp_path):
    # the directory says a sheet is small; its deflate stream inflates to 60 MB
    part = sheet_part(good, "Costs")

    def pad(d):
        return d.replace(b"</worksheet>", b"<!--" + b" " * (60 * 1024 * 1024) + b"--></worksheet>")

    path = rewrite(good, tmp_path / "liar.xlsx", {part: pad})
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(part)
    struct.pack_into("<I", data, info.header_offset + 22, 5000)  # local header: uncompressed size
    name = part.encode()
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        n = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46 : pos + 46 + n] == name:
            struct.pack_into("<I", data, pos + 24, 5000)  # central directory: uncompressed size
        pos = data.find(b"PK\x01\x02", pos + 4)
    path.write_bytes(bytes(data))
    return path


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>'
)


def billion_laughs(good, tmp_path):
    return rewrite(good, tmp_path / "laughs.xlsx", {"xl/sharedStrings.xml": LAUGHS})


def laughs_in_sheet(good, tmp_path):
    part = sheet_part(good, "Goals")
    return rewrite(
        good,
        tmp_path / "laughs2.xlsx",
        {
            part: lambda d: d.replace(
                b"<worksheet",
                b'<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><worksheet',
                1,
            )
        },
    )


def xxe(good, tmp_path):
    return rewrite(
        good,
        tmp_path / "xxe.xlsx",
        {
            "xl/workbook.xml": lambda d: d.replace(
                b"<workbook", b'<!DOCTYPE workbook [<!ENTITY x SYSTEM "file:///etc/passwd">]><workbook', 1
            )
        },
    )


def not_zip(good, tmp_path):
    p = tmp_path / "notes.xlsx"
    p.write_text("Date,Amount\n2026-01-01,100\n")
    return p


def empty(good, tmp_path):
    p = tmp_path / "empty.xlsx"
    p.write_bytes(b"")
    return p


def truncated(good, tmp_path):
    p = tmp_path / "cut.xlsx"
    p.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return p


CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def encrypted(good, tmp_path):
    # an encrypted .xlsx is an OLE compound file holding EncryptionInfo and EncryptedPackage streams
    p = tmp_path / "locked.xlsx"
    p.write_bytes(
        CFB
        + bytes(504)
        + "EncryptionInfo".encode("utf-16-le")
        + bytes(100)
        + "EncryptedPackage".encode("utf-16-le")
        + bytes(4000)
    )
    return p


def old_xls(good, tmp_path):
    p = tmp_path / "old.xlsx"
    p.write_bytes(CFB + bytes(504) + "Workbook".encode("utf-16-le") + bytes(4000))
    return p


def missing_sheet(good, tmp_path):
    sheets = base_sheets()
    del sheets["Returns"]
    return write_book(tmp_path / "noreturns.xlsx", sheets)


def no_workbook_part(good, tmp_path):
    p = tmp_path / "other.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    return p


def absent(good, tmp_path):
    return tmp_path / "does-not-exist.xlsx"


HOSTILE = [
    (huge_dimension, "claims a used range up to XFD1048576"),
    (far_cell, "uses cells up to XFD1048576"),
    (far_cell_r_not_first, "uses cells up to XFD700000"),
    (far_cell_first, "uses cells up to XFD1048576"),
    (far_cell_after_a_long_gap, "uses cells up to XFD1048576"),
    (zip_bomb, "looks like a zip bomb"),
    (bomb_in_sheet_rels, "looks like a zip bomb"),
    (lying_bomb, "unpacks to more than its declared size"),
    (billion_laughs, "declares a DTD or entities"),
    (laughs_in_sheet, "declares a DTD or entities"),
    (xxe, "declares a DTD or entities"),
    (not_zip, "not a zip container"),
    (empty, "not a zip container"),
    (truncated, "not a zip container"),
    (encrypted, "password-protected"),
    (old_xls, "old-format"),
    (missing_sheet, "Returns: error: the Returns sheet is missing"),
    (no_workbook_part, "no xl/workbook.xml"),
    (absent, "cannot be read"),
]


@pytest.mark.parametrize("make, words", HOSTILE, ids=[h[0].__name__ for h in HOSTILE])
def test_hostile_file_gives_one_line_and_exit_2(make, words, good, tmp_path):
    code, output = run_check(make(good, tmp_path))
    assert code == 2, output
    assert "Traceback" not in output
    assert len(output.splitlines()) == 1, output
    assert words in output


def test_a_sheet_scrm_xl_does_not_read_is_never_inflated_or_sized_up(good, tmp_path):
    # a previous run's Ledger passes a gigabyte near Excel's row limit, and nothing here parses
    # it: a 1000-to-1 padding and a DTD in it must not stop the next run, while the same
    # padding in an input sheet still does
    calculated = tmp_path / "calculated.xlsx"
    subprocess.run(
        [sys.executable, "-m", "scrm_xl", "run", str(good), "-o", str(calculated)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )

    def pad(d):
        d = d.replace(b"<worksheet", b'<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">]><worksheet', 1)
        return d.replace(b"</worksheet>", b"<!--" + b" " * (40 * 1024 * 1024) + b"--></worksheet>")

    ledger = tmp_path / "ledger_padded.xlsx"
    rewrite(calculated, ledger, {"xl/worksheets/scrm_xl_ledger.xml": pad})
    with zipfile.ZipFile(ledger) as z:
        info = z.getinfo("xl/worksheets/scrm_xl_ledger.xml")
        assert info.file_size > 200 * info.compress_size  # what the limits would refuse
    code, output = run_check(ledger)
    assert code == 0, output
    costs = rewrite(calculated, tmp_path / "costs_padded.xlsx", {sheet_part(good, "Costs"): pad})
    code, output = run_check(costs)
    assert code == 2 and "looks like a zip bomb" in output, output
