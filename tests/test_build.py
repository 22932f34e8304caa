"""End to end: ``python build.py`` on a throwaway copy of the project, with the real renderer."""
from pathlib import Path

import pytest
from conftest import read_json, run_build, summary_rows

from report import checks
from report.store import Store
from report.view import SectionView, results_view

pytestmark = pytest.mark.e2e  # runs `python build.py` in a subprocess


def stored_results(out: Path) -> dict:
    record = Store(out / "results", "quick").load("toy_mlp", 0)
    return results_view([SectionView("toy_mlp", [record])], read_json(out / "provenance.json")).results


def test_quick_build_writes_html_pdf_and_markdown(toy_project):
    out = toy_project / "_build"
    for name in ("report.html", "report.pdf", "report.md", "report.qmd", "ledger.json"):
        assert (out / name).stat().st_size > 0
    html = (out / "report.html").read_text()
    assert "Quick profile" in html and html.count("<figure") >= 5 and html.count("<table") >= 4
    assert 'Figure 1' in html and 'Table 1' in html and "data:image/png;base64" in html


def test_every_ledger_number_is_in_the_html_and_equals_the_stored_result(toy_project):
    out = toy_project / "_build"
    ledger = read_json(out / "ledger.json")
    assert len(ledger) > 100
    assert checks.verify_html((out / "report.html").read_text(), ledger, stored_results(out)) == []


def test_every_ledger_number_is_in_the_pdf_text(toy_project):
    out = toy_project / "_build"
    assert checks.verify_pdf(out / "report.pdf", read_json(out / "ledger.json")) == []


def test_a_changed_stored_number_is_caught_against_the_html(toy_project):
    out = toy_project / "_build"
    results = stored_results(out)
    results["toy_mlp"]["trained"]["final_loss"] += 0.5
    problems = checks.verify_html((out / "report.html").read_text(), read_json(out / "ledger.json"), results)
    assert len(problems) == 2  # in the body and in the appendix of numbers
    assert all("from toy_mlp.trained.final_loss" in p for p in problems)
    assert "toy_mlp.qmd.j2" in problems[0] and "numbers.qmd.j2" in problems[1]


def test_a_second_build_is_all_cached(toy_project):
    result = run_build(toy_project, "toy_mlp", "--profile", "quick", "--quiet")
    assert result.returncode == 0 and summary_rows(result.stderr)["toy_mlp"] == "cached"


def test_template_edit_rerenders_without_rerunning_the_section(toy_project):
    template = toy_project / "templates" / "toy_mlp.qmd.j2"
    template.write_text(template.read_text() + "\nAn added sentence.\n")
    result = run_build(toy_project, "toy_mlp", "--profile", "quick", "--quiet")
    assert result.returncode == 0 and summary_rows(result.stderr)["toy_mlp"] == "cached"
    assert "An added sentence." in (toy_project / "_build" / "report.html").read_text()


def test_a_hand_typed_number_in_a_template_fails_the_build_naming_the_line(toy_project):
    template = toy_project / "templates" / "toy_mlp.qmd.j2"
    original = template.read_text()
    template.write_text(original + "\nThe network reached 97.5% accuracy.\n")
    before = (toy_project / "_build" / "report.html").read_text()
    try:
        result = run_build(toy_project, "toy_mlp", "--profile", "quick", "--quiet")
    finally:
        template.write_text(original)
    assert result.returncode == 1
    assert "'97.5%'" in result.stderr and f"toy_mlp.qmd.j2:{len(original.splitlines()) + 2}" in result.stderr
    assert (toy_project / "_build" / "report.html").read_text() == before


def test_list_shows_fresh_and_the_reason_for_stale(toy_project):
    fresh = run_build(toy_project, "--list", "--profile", "quick")
    assert "toy_mlp" in fresh.stdout and "fresh" in fresh.stdout
    changed = run_build(toy_project, "--list", "--profile", "quick", "--set", "toy_mlp.lr=0.02")
    assert "stale" in changed.stdout and "config lr: 0.01 -> 0.02" in changed.stdout


def test_source_edit_reruns_that_section(tmp_path):
    from conftest import copy_project

    project = copy_project(tmp_path / "project")
    assert run_build(project, "toy_mlp", "--profile", "quick", "--quiet", "--to", "md").returncode == 0
    source = project / "experiments" / "toy_mlp" / "section.py"
    source.write_text(source.read_text() + "\n# an edit\n")
    listed = run_build(project, "--list", "--profile", "quick")
    assert "source experiments/toy_mlp/section.py changed" in listed.stdout
    rebuilt = run_build(project, "toy_mlp", "--profile", "quick", "--quiet", "--to", "md")
    assert rebuilt.returncode == 0 and summary_rows(rebuilt.stderr)["toy_mlp"] == "ran"


def test_check_passes_on_a_fresh_build_and_names_a_tampered_number(toy_project):
    # the fixture's formats: a build of fewer leaves the others stale, and --check says so
    assert run_build(toy_project, "toy_mlp", "--profile", "quick", "--quiet", "--to", "html,pdf,md").returncode == 0
    assert run_build(toy_project, "--check", "--profile", "quick").returncode == 0
    record = toy_project / "_build" / "results" / "quick" / "toy_mlp" / "seed-0.json"
    original = record.read_text()
    data = read_json(record)
    epoch = data["data"]["trained"]["epochs_run"]
    record.write_text(original.replace(f'"epochs_run": {epoch}', f'"epochs_run": {epoch + 1}'))
    try:
        result = run_build(toy_project, "--check", "--profile", "quick")
    finally:
        record.write_text(original)
    assert result.returncode == 1
    assert "checksum mismatch" in result.stderr
    assert f"prints '{epoch:,}' from toy_mlp.trained.epochs_run, the store gives '{epoch + 1:,}'" in result.stderr


def test_a_rerun_that_makes_a_claim_false_fails_the_build_or_marks_it_in_draft(tmp_path):
    from conftest import copy_project

    project = copy_project(tmp_path / "project")
    assert run_build(project, "toy_mlp", "--profile", "quick", "--quiet", "--to", "html").returncode == 0
    before = (project / "_build" / "report.html").read_text()
    broken_design = ("toy_mlp", "--profile", "quick", "--quiet", "--to", "html", "--set", "toy_mlp.step_b2=-1.5")
    failed = run_build(project, *broken_design)
    assert failed.returncode == 1
    assert "claim 'the step network classifies every point correctly'" in failed.stderr
    assert (project / "_build" / "report.html").read_text() == before
    draft = run_build(project, *broken_design, "--draft")
    assert draft.returncode == 0 and summary_rows(draft.stderr)["toy_mlp"] == "cached"
    html = " ".join((project / "_build" / "report.html").read_text().split())
    assert "FALSE CLAIM (the step network classifies every point correctly)" in html
