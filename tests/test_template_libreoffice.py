"""The template opens in LibreOffice headless, as a colleague without Excel
would open an e-mailed workbook."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from scrm_xl.template import write_template

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.libreoffice


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        pytest.fail(
            "LibreOffice is not installed: ./dev.sh test installs it (or deselect -m 'not libreoffice')"
        )
    return found


def _convert(source: Path, target_format: str, tmp_path: Path) -> Path:
    outdir = tmp_path / "out"
    outdir.mkdir(exist_ok=True)
    # a private profile: never touch the user's, and no first-start lock clashes between runs
    profile = (tmp_path / "lo-profile").as_uri()
    done = subprocess.run(
        [_soffice(), f"-env:UserInstallation={profile}", "--headless", "--norestore",
         "--convert-to", target_format, "--outdir", str(outdir), str(source)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    extension = target_format.split(":")[0]
    converted = outdir / f"{source.stem}.{extension}"
    assert converted.exists(), f"LibreOffice wrote nothing: {done.stdout} {done.stderr}"
    assert "error" not in done.stderr.lower(), done.stderr
    return converted


def test_blank_template_opens_and_its_instructions_survive(tmp_path):
    book = tmp_path / "scrm_template.xlsx"
    write_template(book)
    converted = _convert(book, "csv", tmp_path)  # csv holds the first sheet: Instructions
    with converted.open(newline="", encoding="utf-8", errors="replace") as f:
        cells = [cell for row in csv.reader(f) for cell in row if cell]
    text = "\n".join(cells)
    assert cells[0] == "Social CRM ROI workbook"
    assert "ROI counts only money linked to a business transaction" in text
    assert "Reach, engagement, influence and referrals are value" in text
    for sheet in ("Program", "Goals", "Initiatives", "Costs", "Returns", "Touchpoints", "Metrics"):
        assert sheet in cells


def test_example_workbook_survives_a_libreoffice_round_trip(tmp_path):
    source = tmp_path / "example.xlsx"
    shutil.copy(ROOT / "workbooks" / "example.xlsx", source)
    converted = _convert(source, "xlsx:Calc MS Excel 2007 XML", tmp_path)
    original = openpyxl.load_workbook(source, read_only=True)
    resaved = openpyxl.load_workbook(converted, read_only=True)
    assert resaved.sheetnames == original.sheetnames
    for sheet in ("Goals", "Returns", "Touchpoints", "Metrics"):
        want = list(original[sheet].iter_rows(values_only=True))
        got = [row for row in resaved[sheet].iter_rows(values_only=True) if any(v is not None for v in row)]
        assert len(got) == len(want), sheet
        assert got[0] == want[0], f"{sheet} headers"
        assert got[-1] == want[-1], f"{sheet} last row"


def test_instructions_print_on_one_page(tmp_path):
    book = tmp_path / "scrm_template.xlsx"
    write_template(book)
    pdf = _convert(book, "pdf", tmp_path)
    pages = [
        subprocess.run(
            ["pdftotext", "-layout", "-f", str(n), "-l", str(n), str(pdf), "-"],
            capture_output=True, text=True, check=True,
        ).stdout
        for n in (1, 2)
    ]  # fmt: skip
    first = " ".join(pages[0].split())
    assert first.startswith("Social CRM ROI workbook")
    assert "How to run scrm_xl" in first and "scrm-xl new workbook.xlsx" in first
    assert "Page 1 of" in first
    assert pages[1].split()[:2] == ["Setting", "Value"], "the Program sheet starts on page 2"
