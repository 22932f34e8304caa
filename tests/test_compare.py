"""Stored results against a rerun, number by number: the verdicts, the tolerances and where they come from."""
import math
import statistics
import types

import pytest

from report.compare import (EXACT, MISSING, Rules, Verdict, compare, counts, leaves, pattern, printed_at,
                            summary_line, tolerance_text, verdict_of)
from report.errors import UsageError
from report.section import SectionSpec, Tolerance, load


def rules(tolerances=None, volatile=None) -> Rules:
    spec = SectionSpec("s", "s", "S", object, {}, lambda data: [], tolerances=tolerances or {},
                       volatile=volatile or {})
    return Rules.of(spec)


def by_path(rows) -> dict:
    return {row.path: row for row in rows}


@pytest.mark.parametrize("glob, path, matches", [
    ("models.*.accuracy", "models.conv.accuracy", True),
    ("models.*.accuracy", "models.conv.history.accuracy", False),  # one key, not several
    ("history.loss[*]", "history.loss[12]", True),
    ("confusion[*][*]", "confusion[3][4]", True),
    ("confusion[*][*]", "confusion[3]", False),
    ("**.truth", "models.lin.confused_pairs[0].truth", True),
    ("**", "anything.at[3].all", True),
    ("runs.*.seconds", "runs.srn.seconds_total", False),
    ("a.b", "aXb", False),  # dots are literal
])
def test_a_pattern_names_one_key_or_index_per_star_and_any_run_of_them_per_double_star(glob, path, matches):
    assert bool(pattern(glob).fullmatch(path)) is matches


def test_every_number_boolean_and_null_is_a_leaf_and_strings_are_labels():
    data = {"a": 1, "b": [0.5, {"c": None, "d": True}], "name": "NetLin", "e": {}}
    assert list(leaves(data)) == [("a", 1), ("b[0]", 0.5), ("b[1].c", None), ("b[1].d", True)]


@pytest.mark.parametrize("stored, rerun, verdict", [
    (0.5, 0.5, Verdict.EQUAL),
    (3, 3.0, Verdict.EQUAL),
    (math.nan, math.nan, Verdict.EQUAL),
    (None, None, Verdict.EQUAL),
    (0.5, 0.5 + 1e-12, Verdict.BEYOND),  # exact means exact
    (True, 1, Verdict.BEYOND),  # a boolean is not the number 1
    (True, False, Verdict.BEYOND),
    (None, 0, Verdict.BEYOND),
    (1, MISSING, Verdict.BEYOND),
    (MISSING, 1, Verdict.BEYOND),
])
def test_a_number_without_a_tolerance_must_reproduce_exactly(stored, rerun, verdict):
    assert verdict_of(stored, rerun, EXACT) is verdict


@pytest.mark.parametrize("tolerance, stored, rerun, verdict", [
    (Tolerance("noisy", abs_tol=0.01), 0.90, 0.905, Verdict.WITHIN),
    (Tolerance("noisy", abs_tol=0.01), 0.90, 0.92, Verdict.BEYOND),
    (Tolerance("noisy", rel_tol=0.1), 200, 215, Verdict.WITHIN),
    (Tolerance("noisy", rel_tol=0.1), -200, -225, Verdict.BEYOND),
    (Tolerance("noisy", abs_tol=1, rel_tol=0.1), 2, 2.9, Verdict.WITHIN),  # the larger of the two
    (Tolerance("noisy", abs_tol=1), 0.5, math.nan, Verdict.BEYOND),
    (Tolerance("noisy", abs_tol=1), True, False, Verdict.BEYOND),  # no tolerance bends a boolean
])
def test_a_declared_tolerance_allows_the_larger_of_its_absolute_and_relative_bound(tolerance, stored, rerun, verdict):
    assert verdict_of(stored, rerun, tolerance) is verdict


@pytest.mark.parametrize("changes, problem", [
    ({"reason": " "}, "a tolerance needs a one-line reason"),
    ({"abs_tol": -0.1}, "tolerances must be finite and >= 0"),
    ({"rel_tol": math.inf}, "tolerances must be finite and >= 0"),
])
def test_a_tolerance_needs_a_reason_and_finite_bounds(changes, problem):
    with pytest.raises(ValueError, match=problem):
        Tolerance(**{"reason": "why", **changes})


def test_tolerances_print_as_a_reader_can_check_them():
    assert [tolerance_text(t) for t in (EXACT, Tolerance("r", abs_tol=0.015), Tolerance("r", rel_tol=1e-9),
                                        Tolerance("r", abs_tol=1e-12, rel_tol=1e-9))] == [
        "exact", "±0.015", "±1e-09 rel", "±1e-12 / 1e-09 rel"]


def test_volatile_numbers_are_shown_and_never_judged_and_declared_noise_is_within_tolerance():
    stored = {"s": {"seconds": 12.0, "accuracy": 0.90, "count": 7}}
    rerun = {"s": {"seconds": 99.0, "accuracy": 0.905, "count": 7}}
    found = compare(stored, rerun, {"s": rules({"accuracy": Tolerance("seed noise", abs_tol=0.01)},
                                               {"seconds": "wall time"})}, [])
    rows = by_path(found)
    assert [rows[p].verdict for p in ("s.seconds", "s.accuracy", "s.count")] == [
        Verdict.VOLATILE, Verdict.WITHIN, Verdict.EQUAL]
    assert rows["s.seconds"].tolerance.reason == "wall time" and rows["s.accuracy"].basis == "s accuracy"
    assert summary_line(found) == ("2 numbers compared: 1 equal, 1 within tolerance, 0 beyond; "
                                   "1 volatile (shown, not judged)")


def test_a_leaf_the_rerun_lacks_or_adds_is_beyond():
    rows = by_path(compare({"s": {"xs": [1, 2]}}, {"s": {"xs": [1, 2, 3], "new": 0}}, {"s": rules()}, []))
    assert rows["s.xs[2]"].stored is MISSING and rows["s.xs[2]"].verdict is Verdict.BEYOND
    assert rows["s.new"].verdict is Verdict.BEYOND and rows["s.xs[0]"].verdict is Verdict.EQUAL


def test_with_several_seeds_stored_their_spread_gives_the_tolerance_unless_the_section_declares_one():
    stored = {"s": {"acc": 0.90, "loss": 0.30}, "s@2": {"acc": 0.92, "loss": 0.20}, "s@3": {"acc": 0.91, "loss": 0.25}}
    rerun = {"s": {"acc": 0.93, "loss": 0.33}, "s@2": {"acc": 0.92, "loss": 0.20}, "s@3": {"acc": 0.91, "loss": 0.25}}
    rows = by_path(compare(stored, rerun, {"s": rules({"loss": Tolerance("declared", abs_tol=0.01)})}, []))
    spread = statistics.stdev([0.90, 0.92, 0.91])
    assert rows["s.acc"].tolerance.abs_tol == pytest.approx(3 * spread) and rows["s.acc"].basis == "seeds"
    assert rows["s.acc"].verdict is Verdict.WITHIN  # 0.03 <= 3 sd = 0.03
    assert rows["s.loss"].verdict is Verdict.BEYOND and rows["s.loss"].basis == "s loss"  # declared wins
    one_seed = by_path(compare({"s": {"acc": 0.90}}, {"s": {"acc": 0.93}}, {"s": rules()}, []))
    assert one_seed["s.acc"].tolerance is EXACT and one_seed["s.acc"].verdict is Verdict.BEYOND


def test_numbers_the_report_derives_from_seeds_are_compared_with_the_tolerance_of_their_parts():
    stored = {"s": {"acc": 0.90, "runs": [1, 2]}, "s@2": {"acc": 0.80, "runs": [1]}}
    rerun = {"s": {"acc": 0.905, "runs": [1, 2]}, "s@2": {"acc": 0.80, "runs": [1, 5]}}
    ledger = [{"path": p, "template": "s.qmd.j2", "line": 4} for p in ("mean(s@*.acc)", "sd(s@*.acc)", "len(s@2.runs)")]
    rows = by_path(compare(stored, rerun, {"s": rules({"acc": Tolerance("noisy", abs_tol=0.01)})}, ledger))
    assert rows["mean(s@*.acc)"].verdict is Verdict.WITHIN and rows["mean(s@*.acc)"].where == "s.qmd.j2:4"
    assert rows["sd(s@*.acc)"].tolerance.abs_tol == pytest.approx(0.01 * math.sqrt(2))  # sd moves up to sqrt(n/(n-1))x
    assert rows["len(s@2.runs)"].verdict is Verdict.BEYOND and rows["len(s@2.runs)"].tolerance is EXACT


def test_where_a_number_is_printed_comes_from_the_ledger_leaving_out_the_appendix_of_every_number():
    ledger = [{"path": "s.a", "template": "s.qmd.j2", "line": 3}, {"path": "s.a", "template": "s.qmd.j2", "line": 9},
              {"path": "s.a", "template": "numbers.qmd.j2", "line": 12},
              {"path": "s.b", "template": "numbers.qmd.j2", "line": 12}]
    assert printed_at(ledger) == {"s.a": "s.qmd.j2:3, s.qmd.j2:9"}


def test_rows_come_worst_first():
    stored = {"s": {"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0, "t": 1.0}}
    rerun = {"s": {"a": 1.0, "b": 1.5, "c": 1.09, "d": 1.02, "t": 5.0}}
    found = compare(stored, rerun, {"s": rules({g: Tolerance("noisy", abs_tol=0.1) for g in "cd"}, {"t": "time"})}, [])
    assert [row.path for row in found] == ["s.b", "s.c", "s.d", "s.t", "s.a"]
    assert counts(found) == {"beyond": 1, "within": 2, "volatile": 1, "equal": 1}


def test_a_row_prints_its_values_difference_tolerance_and_verdict():
    (row,) = compare({"s": {"a": 0.9}}, {"s": {"a": 0.905}}, {"s": rules({"a": Tolerance("noise", abs_tol=0.01)})},
                     [{"path": "s.a", "template": "s.qmd.j2", "line": 2}])
    assert row.cells() == {"result": "s.a", "where": "s.qmd.j2:2", "stored": "0.9", "rerun": "0.905",
                           "difference": "+0.005", "tolerance": "±0.01", "verdict": "within tolerance"}


def test_a_section_declaring_something_other_than_tolerances_is_refused(monkeypatch):
    module = types.ModuleType("fake_section")
    module.Config, module.TITLE, module.QUICK = object, "Fake", {}
    module.run, module.invariants = (lambda config, ctx: {}), (lambda data: [])
    module.TOLERANCES = {"acc": 0.01}
    monkeypatch.setitem(__import__("sys").modules, "fake_section", module)
    with pytest.raises(UsageError, match="TOLERANCES of acc is not a Tolerance"):
        load("fake", "fake_section")
    module.TOLERANCES, module.VOLATILE = {"acc": Tolerance("noise", abs_tol=0.01)}, {"seconds": "wall time"}
    spec = load("fake", "fake_section")
    assert spec.tolerances["acc"].abs_tol == 0.01 and spec.volatile == {"seconds": "wall time"}


def test_a_row_the_rerun_lacks_prints_missing_with_no_difference():
    rows = by_path(compare({"s": {"a": 0.5, "b": 1}}, {"s": {"b": 1}}, {"s": rules()}, []))
    assert rows["s.a"].cells() == {"result": "s.a", "where": "", "stored": "0.5", "rerun": "missing",
                                   "difference": "", "tolerance": "exact", "verdict": "beyond"}


def test_a_volatile_row_prints_where_it_is_said_and_both_values_and_no_tolerance():
    (row,) = compare({"s": {"seconds": 12.0}}, {"s": {"seconds": 99.0}}, {"s": rules(volatile={"seconds": "wall time"})},
                     [{"path": "s.seconds", "template": "s.qmd.j2", "line": 7}])
    assert row.cells() == {"result": "s.seconds", "where": "s.qmd.j2:7", "stored": "12", "rerun": "99",
                           "difference": "+87", "tolerance": "volatile", "verdict": "volatile"}


def test_a_section_the_rerun_lacks_makes_each_of_its_numbers_beyond_and_adds_none():
    rows = compare({"s": {"a": 1, "b": [2]}}, {}, {"s": rules()}, [])
    assert [(row.path, row.rerun, row.verdict) for row in rows] == [
        ("s.a", MISSING, Verdict.BEYOND), ("s.b[0]", MISSING, Verdict.BEYOND)]


def test_the_summary_leaves_out_volatile_numbers_when_there_are_none():
    rows = compare({"s": {"a": 1, "b": 2}}, {"s": {"a": 1, "b": 3}}, {"s": rules()}, [])
    assert summary_line(rows) == "2 numbers compared: 1 equal, 0 within tolerance, 1 beyond"


def test_a_row_names_the_basis_of_its_tolerance_volatile_declared_seeds_or_none():
    stored = {"s": {"t": 1.0, "acc": 0.5, "loss": 0.2, "n": 3}, "s@2": {"t": 2.0, "acc": 0.5, "loss": 0.4, "n": 3}}
    found = by_path(compare(stored, stored, {"s": rules({"acc": Tolerance("noise", abs_tol=0.1)}, {"t": "time"})}, []))
    assert [found[p].basis for p in ("s.t", "s.acc", "s.loss", "s.n")] == ["s t", "s acc", "seeds", ""]
    assert found["s.loss"].tolerance.abs_tol == pytest.approx(3 * statistics.stdev([0.2, 0.4]))  # two seeds suffice


def test_an_sd_over_seeds_gets_each_bound_of_its_parts_widened_by_sqrt_n_over_n_minus_1():
    stored = {"s": {"m": {"acc": 0.90}}, "s@2": {"m": {"acc": 0.80}}, "s@3": {"m": {"acc": 0.70}}}
    ledger = [{"path": "sd(s@*.m.acc)", "template": "s.qmd.j2", "line": 4}]
    row = by_path(compare(stored, stored, {"s": rules({"m.acc": Tolerance("noisy", abs_tol=0.01, rel_tol=0.1)})},
                          ledger))["sd(s@*.m.acc)"]
    assert (row.tolerance.abs_tol, row.tolerance.rel_tol) == pytest.approx((0.01 * math.sqrt(1.5), 0.1 * math.sqrt(1.5)))


def test_derived_numbers_print_where_the_report_says_them_and_a_length_is_exact_even_in_a_noisy_list():
    stored = {"s": {"acc": 0.90, "runs": [1, 2]}, "s@2": {"acc": 0.80, "runs": [1]}}
    rerun = {"s": {"acc": 0.90, "runs": [1, 2]}, "s@2": {"acc": 0.80, "runs": [1, 5]}}
    ledger = [{"path": p, "template": t, "line": 4} for p, t in [
        ("mean(other@*.acc)", "o.qmd.j2"),  # a section not verified: left out
        ("len(s@3.runs)", "s.qmd.j2"),  # nothing stored for it: left out
        ("mean(s@*.acc)", "numbers.qmd.j2"), ("len(s.runs)", "s.qmd.j2"), ("len(s@2.runs)", "numbers.qmd.j2")]]
    noisy = rules({"runs": Tolerance("noisy", abs_tol=5)}, {"**.runs[*]": "noisy"})
    rows = compare(stored, rerun, {"s": noisy}, ledger)
    derived = [row.cells() for row in rows if "(" in row.path]
    assert derived == [
        {"result": "len(s@2.runs)", "where": "", "stored": "1", "rerun": "2", "difference": "+1",
         "tolerance": "exact", "verdict": "beyond"},
        {"result": "len(s.runs)", "where": "s.qmd.j2:4", "stored": "2", "rerun": "2", "difference": "+0",
         "tolerance": "exact", "verdict": "equal"},
        {"result": "mean(s@*.acc)", "where": "", "stored": "0.85", "rerun": "0.85", "difference": "+0",
         "tolerance": "±0.212", "verdict": "equal"}]  # 3 sd of the seeds' values
    assert [row.basis for row in rows if row.path.startswith("len(")] == ["", ""]


def test_a_derived_number_over_a_key_with_parentheses_is_compared_too():
    stored = {"s": {"acc(top1)": 0.9}, "s@2": {"acc(top1)": 0.8}}
    rows = by_path(compare(stored, stored, {"s": rules()}, [{"path": "mean(s@*.acc(top1))", "template": "t", "line": 1}]))
    assert rows["mean(s@*.acc(top1))"].verdict is Verdict.EQUAL
