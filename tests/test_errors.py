"""What the command line prints for an error: the message, then its hint on the next line."""
import re
from pathlib import Path

import pytest

from report.errors import (HINTS, BuildError, CheckFailed, ClaimError, ConfigError, DataError, Finding, Interrupted,
                           Mismatch, OutputError, RendererError, TemplateProblem, UsageError)


def test_an_error_without_a_hint_is_just_its_message():
    assert str(BuildError("the data folder is empty")) == "the data folder is empty"


def test_the_hint_follows_the_message_on_its_own_indented_line():
    error = ConfigError("toy_mlp.lr='fast' is not a valid float", "give toy_mlp.lr a float value")
    assert str(error) == "toy_mlp.lr='fast' is not a valid float\n  hint: give toy_mlp.lr a float value"
    assert (error.message, error.hint) == ("toy_mlp.lr='fast' is not a valid float", "give toy_mlp.lr a float value")


def test_repr_shows_the_message_like_any_exception():
    assert repr(UsageError("unknown section 'x'", "name a valid one")) == "UsageError(\"unknown section 'x'\")"


@pytest.mark.parametrize("kind,code", [(UsageError, 2), (ConfigError, 2), (DataError, 2), (TemplateProblem, 2),
                                       (RendererError, 2), (OutputError, 2), (ClaimError, 1)])
def test_bad_input_exits_2_and_a_report_that_no_longer_holds_exits_1(kind, code):
    assert issubclass(kind, BuildError) and kind("m").exit_code == code


def test_check_failed_lists_every_problem_and_says_how_to_fix_them():
    error = CheckFailed(["toy_mlp[seed=0]: stored result corrupt", "report.html: 0.93 is not 0.94"])
    assert str(error) == (
        "the report does not match its results (2 problems):\n"
        "  - toy_mlp[seed=0]: stored result corrupt\n"
        "  - report.html: 0.93 is not 0.94\n"
        "  hint: rebuild with `python build.py`, or rerun the named sections with --force")
    assert error.problems == ["toy_mlp[seed=0]: stored result corrupt", "report.html: 0.93 is not 0.94"]
    assert error.exit_code == 1


def test_one_problem_is_one_problem():
    assert CheckFailed(["report.html: 0.93 is not 0.94"]).message.startswith(
        "the report does not match its results (1 problem):\n")


def test_every_kind_of_finding_has_a_hint():
    assert set(HINTS) == set(Mismatch)


@pytest.mark.parametrize("kind, hint", [
    (Mismatch.TYPED, "print the number from a result through a filter (| num, | pct, | int, | text), "
                     "or declare it with lit()"),
    (Mismatch.UNFILTERED, "print the value through | text, so its digits are traced"),
    (Mismatch.STALE, "rebuild the report from the store with `python build.py`; if a stored result is out of date, "
                     "rerun its section with `python build.py SECTION --force`"),
    (Mismatch.CLAIM, "rerun the section if its result is out of date, or change the sentence to what the results say"),
])
def test_a_check_failure_hints_at_the_fix_for_its_kind_of_problem(kind, hint):
    error = CheckFailed([Finding("a problem", kind), Finding("another", kind)])
    assert error.hint == hint and error.problems == ["a problem", "another"]


def test_problems_of_several_kinds_get_each_kind_s_hint_in_the_order_found():
    error = CheckFailed([Finding("report.html: number '42' is not traced to a result", Mismatch.TYPED),
                         "toy_mlp[seed=0]: stored result corrupt",
                         Finding("report.html: number '7' is not traced to a result", Mismatch.TYPED)])
    assert error.hint == (f"for a typed number, {HINTS[Mismatch.TYPED]}; for a damaged, missing or left-over file, "
                          f"or a broken invariant, {HINTS[Mismatch.OTHER]}")


def test_no_message_or_skip_reason_names_the_folders_of_this_project_s_own_ci():
    """A user has the official KMNIST files and KMNIST_ROOT, not the ../shared folder of our CI."""
    root = Path(__file__).resolve().parent.parent
    places = [root / "build.py", root / "README.md", *root.glob("report/**/*.py"), *root.glob("report/assets/*"),
              *root.glob("experiments/**/*.py"), *root.glob("templates/*.j2"), *root.glob("tests/*.py")]
    ci_folder = re.compile(r"\.\./shared|shared/data")
    named = [f"{place.relative_to(root)}:{number}" for place in places if place != Path(__file__).resolve()
             for number, line in enumerate(place.read_text(encoding="utf-8").splitlines(), 1)
             if ci_folder.search(line)]
    assert named == []


def test_an_interrupted_build_that_changed_nothing_says_so():
    assert str(Interrupted()) == "the stored results and the last report are unchanged"


def test_an_interrupted_build_names_the_results_it_stored_and_that_it_replaced_the_report():
    assert str(Interrupted(stored=["toy_mlp[seed=0]", "kmnist[seed=1]"], replaced=True)) == (
        "stored the new results of toy_mlp[seed=0], kmnist[seed=1]; the other stored results are unchanged; "
        "the report was replaced by this build's, with its ledger and provenance")


def test_an_interrupted_build_says_which_failures_it_recorded_for_the_next_build_to_rerun():
    assert str(Interrupted(stored=["a[seed=0]"], failed=["b[seed=0]"])) == (
        "stored the new results of a[seed=0]; the other stored results and the last report are unchanged; "
        "recorded that b[seed=0] failed, so the next build reruns it")
    assert str(Interrupted(failed=["b[seed=0]", "c[seed=0]"])).endswith(
        "; recorded that b[seed=0], c[seed=0] failed, so the next build reruns them")


def test_an_interrupted_build_is_a_keyboard_interrupt_keeping_what_it_was_told():
    stopped = Interrupted(("a",), ("b",), True)
    assert isinstance(stopped, KeyboardInterrupt)
    assert (stopped.stored, stopped.failed, stopped.replaced) == (["a"], ["b"], True)


def test_a_finding_is_of_no_particular_kind_unless_told():
    assert Finding("report.html: a stray file").kind is Mismatch.OTHER
    assert CheckFailed([Finding("x")]).hint == HINTS[Mismatch.OTHER]
