"""The writer over the engine's real Results: ``compute()`` on records built by the engine's own
tests (the worked example of docs/worked-example.md and generated programmes), written into
the reference workbooks of tests/data/."""

from __future__ import annotations

import shutil
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings

from scrm_xl.compute import compute
from scrm_xl.layout import layout
from scrm_xl.write import write_results
from tests import partdiff
from tests import test_worked_example as worked
from tests.test_compute_properties import programmes
from tests.test_write import DATA, EDITABLE, OURS, REFERENCES
from tests.writer_fixtures import HOSTILE_GOAL


def _variant():
    """The worked example by quarter, position-based, with a hostile goal name and a goal
    without investment (its ROI cells must stay blank, never a division error)."""
    r = worked.RECORDS
    return replace(
        r,
        program=replace(r.program, reporting_period="Quarter", attribution_model="Position based"),
        goals=(r.goals[0], replace(r.goals[1], name=HOSTILE_GOAL)),
        costs=tuple(c for c in r.costs if c.initiative_id != "I3"),
    )


CASES = {"worked": worked.RECORDS, "variant": _variant()}


def test_variant_really_has_a_goal_without_investment():
    results = compute(CASES["variant"])
    g2 = next(g for g in results.goals if g.id == "G2")
    assert g2.figures.investment == 0 and g2.figures.roi.expected is None
    assert g2.figures.returns_by_scenario.expected > 0


@pytest.mark.libreoffice
def test_computed_results_survive_every_reference_and_recalculate_to_their_cached_values(tmp_path):
    written = []
    for case, records in CASES.items():
        results = compute(records)
        for ref in REFERENCES:
            source = tmp_path / ref
            shutil.copy(DATA / ref, source)
            out = tmp_path / f"{case}-{ref.replace('.', '-')}.xlsx"
            issues = write_results(source, results, out_path=out)
            assert issues == [], (case, ref)  # no cached-vs-formula mismatch anywhere
            d = partdiff.diff_parts(source, out)
            assert d["changed"] <= EDITABLE and d["restored"] == set(), (case, ref)
            assert d["removed"] <= {"xl/calcChain.xml"}
            written.append(out)
    fresh = partdiff.recalculate(written, tmp_path)  # one LibreOffice run: it is slow to start
    for out in written:
        count, differences = partdiff.recalculation_differences(out, fresh / out.name, OURS)
        assert count > 100, out.name
        assert differences == [], out.name


def test_written_figures_are_the_worked_examples_hand_derived_ones(tmp_path):
    # docs/worked-example.md, steps 2 to 4 (figures derived by hand there, not by the engine)
    book = tmp_path / "book.xlsx"
    shutil.copy(DATA / "features.xlsx", book)
    write_results(book, compute(worked.RECORDS))
    roi = partdiff.sheet_values(book, "ROI")
    row = {}  # label in column A -> its first row (each table has a "Total"; the goals' comes first)
    for k, v in roi.items():
        if k.startswith("A") and isinstance(v, str):
            row.setdefault(v, int(k[1:]))

    def money(col, label):
        return Decimal(str(roi[f"{col}{row[label]}"])).quantize(Decimal("0.01"))

    assert [money(c, "G1") for c in "EFIJKL"] == [
        Decimal(x) for x in ("7500", "3175.52", "3175.52", "2375.52", "3975.52", "-4324.48")
    ]
    assert money("E", "Unallocated") == Decimal("800.00")
    assert [money(c, "Total") for c in "EFGHIJKL"][:8] == [
        Decimal(x) for x in ("11500", "3488.27", "3150", "1000", "7638.27", "5838.27", "8438.27", "-3861.73")
    ]
    assert roi[f"N{row['G2']}"] == pytest.approx(0.394609375)


@settings(max_examples=40, deadline=None)
@given(programmes())
def test_every_sumifs_over_the_ledger_gives_the_engines_figure(records):
    results = compute(records)
    lay, issues = layout(results)
    assert issues == []
    roi = next(s for s in lay.sheets if s.name == "ROI")
    assert sum(1 for c in roi.cells if c.formula and c.formula.startswith("SUMIFS")) >= 11
