# ruff: noqa: E501  (expected output lines are kept whole)
"""The scrm-xl command: output lines, JSON, exit status, `new` safety, no tracebacks."""

import ast
import io
import json
import subprocess
import sys
import types
from datetime import date
from pathlib import Path

import pytest
from helpers.book import base_sheets, set_cell, setting, write_book

from scrm_xl.cli import main

ROOT = Path(__file__).resolve().parents[1]


def cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_clean_book_exits_0(tmp_path):
    book = write_book(tmp_path / "ok.xlsx", base_sheets())
    code, out, _ = cli("check", str(book))
    assert code == 0
    assert out == f"{book}: no problems found\n"


def test_problems_print_one_per_line_errors_first_then_by_place(tmp_path):
    sheets = base_sheets()
    set_cell(sheets, "Returns", 2, "Amount", "12,5x")
    set_cell(sheets, "Costs", 3, "Amount", -40)
    set_cell(sheets, "Costs", 2, "Category", "Food")
    book = write_book(tmp_path / "bad.xlsx", sheets)
    code, out, _ = cli("check", str(book))
    assert code == 1
    assert out.splitlines() == [
        'Costs!D2: error: category "Food" is not one of People, Technology, Paid media, Agency, Content, '
        "Training, Other",
        'Returns!E2: error: amount "12,5x" is not a number',
        "Costs!F3: warning: negative amount -40 is counted as a credit",
    ]


def test_warnings_only_exit_0(tmp_path):
    sheets = base_sheets()
    set_cell(sheets, "Goals", 2, "KPI", None)
    code, out, _ = cli("check", str(write_book(tmp_path / "w.xlsx", sheets)))
    assert code == 0
    assert out == "Goals!A2: warning: goal G1 is not measurable: it has no KPI\n"


def test_json_has_program_and_issues(tmp_path):
    sheets = base_sheets()
    setting(sheets, "As of", date(2026, 3, 31))
    set_cell(sheets, "Costs", 2, "Amount", "abc")
    code, out, _ = cli("check", str(write_book(tmp_path / "j.xlsx", sheets)), "--json")
    assert code == 1
    data = json.loads(out)
    assert data["program"] == {
        "name": "Care & Community",
        "currency": "EUR",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "as_of": "2026-03-31",
        "attribution_model": "Linear",
    }
    assert data["issues"] == [
        {"severity": "error", "where": "Costs!F2", "message": 'amount "abc" is not a number'},
        {
            "severity": "warning",
            "where": "Returns!A4",
            "message": "return dated 2026-04-01 is after As of 2026-03-31; left out",
        },
    ]


def test_json_for_unreadable_file(tmp_path):
    bad = tmp_path / "x.xlsx"
    bad.write_text("hello")
    code, out, _ = cli("check", str(bad), "--json")
    assert code == 2
    data = json.loads(out)
    assert data["program"] is None
    assert data["issues"][0]["severity"] == "error" and "not a zip container" in data["issues"][0]["message"]


def test_new_refuses_to_overwrite_without_force(tmp_path, monkeypatch):
    calls = []
    fake = types.ModuleType("scrm_xl.template")
    fake.write_template = lambda path, example=False: (
        calls.append((Path(path), example)) or Path(path).write_text("x")
    )
    monkeypatch.setitem(sys.modules, "scrm_xl.template", fake)
    target = tmp_path / "book.xlsx"
    target.write_text("precious")
    code, _, err = cli("new", str(target))
    assert code == 2 and "already exists; use --force" in err
    assert target.read_text() == "precious" and calls == []
    code, out, _ = cli("new", str(target), "--example", "--force")
    assert code == 0 and calls == [(target, True)]
    code, _, _ = cli("new", str(tmp_path / "blank.xlsx"))
    assert code == 0 and calls[-1] == (tmp_path / "blank.xlsx", False)


def test_new_with_a_name_the_template_refuses(tmp_path, monkeypatch):
    fake = types.ModuleType("scrm_xl.template")

    def write_template(path, example=False):
        raise ValueError(f"{path}: the template is an .xlsx workbook;\n name it book.xlsx")

    fake.write_template = write_template
    monkeypatch.setitem(sys.modules, "scrm_xl.template", fake)
    code, _, err = cli("new", str(tmp_path / "book.xlsm"))
    assert code == 2
    assert err == f"scrm-xl: {tmp_path / 'book.xlsm'}: the template is an .xlsx workbook; name it book.xlsx\n"


def test_new_into_missing_folder_is_one_line(tmp_path, monkeypatch):
    fake = types.ModuleType("scrm_xl.template")

    def write_template(path, example=False):
        open(path, "wb").close()

    fake.write_template = write_template
    monkeypatch.setitem(sys.modules, "scrm_xl.template", fake)
    code, _, err = cli("new", str(tmp_path / "no" / "such" / "book.xlsx"))
    assert code == 2
    assert err.count("\n") == 1 and "cannot access" in err and "Traceback" not in err


def test_internal_error_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    import scrm_xl.pipeline

    def boom(path):
        raise RuntimeError("unexpected\nstate")

    monkeypatch.setattr(scrm_xl.pipeline, "check", boom)
    code, _, err = cli("check", "x.xlsx")
    assert code == 2 and err == "scrm-xl: internal error: RuntimeError: unexpected state\n"


def test_check_starts_without_importing_parsers():
    code = "import sys, scrm_xl.cli; print(sorted(m for m in ('python_calamine', 'openpyxl', 'xlsxwriter', 'weasyprint') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def loaded_after_check(book: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh ``scrm-xl check`` of ``workbooks/<book>`` has imported."""
    code = (
        "import sys, io; from scrm_xl.cli import main; main(['check', sys.argv[1]], stdout=io.StringIO()); "
        f"print(sorted(m for m in {modules!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "workbooks" / book)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return ast.literal_eval(out.stdout.strip())


def test_check_of_a_workbook_imports_nothing_it_does_not_use():
    # the batch machinery (multiprocessing, rich), the writer, the renderer and the computation
    # (with the results' classes) stay unloaded
    unused = ("multiprocessing", "rich", "lxml", "xlsxwriter", "weasyprint", "scrm_xl.batch")
    unused += ("scrm_xl.results", "scrm_xl.compute", "scrm_xl.attribute")
    assert loaded_after_check("example.xlsx", unused) == []


def test_the_email_package_loads_only_for_a_distribution_list():
    # 15 ms of every start; the worked example has no Distribution setting, the example has one
    seen = [loaded_after_check(book, ("email.utils",)) for book in ("worked_example.xlsx", "example.xlsx")]
    assert seen == [[], ["email.utils"]]


def test_batch_limits_default_to_the_batch_modules_and_zero_means_no_timeout(tmp_path, monkeypatch):
    from scrm_xl import batch

    seen = []

    def fake_run_batch(paths, job, **kwargs):
        seen.append((kwargs["timeout_s"], kwargs["memory_mb"]))
        raise batch.BatchError("stopped here")

    monkeypatch.setattr(batch, "run_batch", fake_run_batch)
    out = str(tmp_path / "out")
    assert cli("batch", "x.xlsx", "--out", out)[0] == 2
    assert cli("batch", "x.xlsx", "--out", out, "--timeout", "0", "--memory-mb", "700")[0] == 2
    assert seen == [(batch.DEFAULT_TIMEOUT_S, batch.DEFAULT_MEMORY_MB), (None, 700)]


def test_new_example_passes_check(tmp_path):
    pytest.importorskip("scrm_xl.template")
    target = tmp_path / "example.xlsx"
    assert cli("new", str(target), "--example")[0] == 0
    code, out, _ = cli("check", str(target))
    assert code == 0, out
    assert " error: " not in out


def test_new_blank_template_is_readable(tmp_path):
    pytest.importorskip("scrm_xl.template")
    target = tmp_path / "blank.xlsx"
    assert cli("new", str(target))[0] == 0
    code, out, _ = cli("check", str(target))
    assert code in (0, 1), out  # blank Program values are errors, but the file reads
    assert "Traceback" not in out
