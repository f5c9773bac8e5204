from scrm_xl.model import CellRef, Goal, Issue, Severity, column_letter
from scrm_xl.schema import normalize_name


def test_column_letters():
    assert [column_letter(c) for c in (1, 26, 27, 52, 53, 702, 703, 16384)] == [
        "A",
        "Z",
        "AA",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
        "XFD",
    ]


def test_cellref_prints_as_excel_reference():
    assert str(CellRef("Costs", 14, 5)) == "Costs!E14"
    assert str(CellRef("My Costs", 2, 1)) == "'My Costs'!A2"
    assert str(CellRef("O'Brien", 3, 2)) == "'O''Brien'!B3"


def test_issue_prints_place_first():
    issue = Issue(Severity.ERROR, "Costs!E14", 'amount "12,5x" is not a number')
    assert str(issue) == 'Costs!E14: amount "12,5x" is not a number'
    assert issue.to_json() == {"severity": "error", "where": "Costs!E14", "message": issue.message}


def test_goal_is_measurable_only_with_kpi_target_and_date():
    from datetime import date

    assert Goal("G1", "x", kpi="NPS", target=40, target_date=date(2026, 12, 31)).measurable
    assert not Goal("G1", "x", kpi="NPS", target=40).measurable
    assert not Goal("G1", "x", target=40, target_date=date(2026, 12, 31)).measurable


def test_names_match_ignoring_case_and_nbsp():
    assert normalize_name("\u00a0Transaction  REF ") == normalize_name("transaction ref")
