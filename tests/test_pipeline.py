"""The phases of one build, run in this process: invariants are enforced by the build and by --check."""
import copy
import dataclasses
import importlib
import json

import pytest

import experiments.toy_mlp
from conftest import PROJECT
from report import store as store_module
from report.pipeline import Options, build, check
from report.status import Outcome


def options(out, **changes) -> Options:
    return Options(**{"sections": ["toy_mlp"], "profile": "quick", "out": out, "to": ["html"],
                      "show_progress": False, **changes})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("pipeline") / "_build"
    summary = build(PROJECT, options(out))
    assert [u.outcome for u in summary.results if u.section == "toy_mlp"] == [Outcome.RAN]
    return out


def record_file(out):
    return out / "results" / "quick" / "toy_mlp" / "seed-0.json"


def flip_first_activation(data: dict) -> dict:
    """The same result with one cell of the step network's activation table flipped."""
    changed = copy.deepcopy(data)
    row = changed["step"]["activations"][0]
    row["h1"] = 1.0 - row["h1"]
    return changed


def test_check_passes_on_a_fresh_build(built):
    assert check(PROJECT, options(built)) == []


def test_check_fails_on_a_stored_result_that_breaks_an_invariant_even_with_a_valid_checksum(built):
    path = record_file(built)
    original = path.read_text()
    raw = json.loads(original)
    raw["data"] = flip_first_activation(raw["data"])
    raw["checksum"] = store_module._checksum(raw)
    path.write_text(json.dumps(raw))
    try:
        problems = check(PROJECT, options(built))
    finally:
        path.write_text(original)
    assert "toy_mlp[seed=0]: the step network's activation table differs from its activations" in problems
    assert not any("checksum" in p for p in problems)


def test_a_run_that_returns_inconsistent_data_is_marked_failed_and_not_shown(built, monkeypatch):
    stored = json.loads(record_file(built).read_text())["data"]
    monkeypatch.setattr(experiments.toy_mlp, "run", lambda config, ctx: flip_first_activation(stored))
    summary = build(PROJECT, options(built, force=True))
    (unit,) = summary.failed
    assert unit.section == "toy_mlp" and unit.record is None
    assert unit.error.startswith("invariants do not hold: the step network's activation table")
    html = (built / "report.html").read_text()
    assert "This section is missing from the report" in html and "invariants do not hold" in html


BROKEN_SECTION = '''
from dataclasses import dataclass

TITLE = "A broken section"
QUICK = {}


@dataclass(frozen=True)
class Config:
    seed: int = 0


def run(config, ctx):
    raise RuntimeError("the experiment crashed on purpose")


def invariants(data):
    return []
'''


def test_a_failing_section_does_not_take_the_others_down(tmp_path, monkeypatch):
    (tmp_path / "broken_section.py").write_text(BROKEN_SECTION)
    monkeypatch.syspath_prepend(str(tmp_path))
    project = dataclasses.replace(PROJECT, sections={"broken": "broken_section", **PROJECT.sections})
    out = tmp_path / "_build"
    summary = build(project, options(out, sections=["broken", "toy_mlp"]))
    outcomes = {r.section: r.outcome for r in summary.results}
    assert outcomes["broken"] is Outcome.FAILED and outcomes["toy_mlp"] is Outcome.RAN
    html = (out / "report.html").read_text()
    assert "This section is missing from the report" in html and "crashed on purpose" in html
    assert "broken-seed-0.log" in html and "A trained sigmoid network" in html
    assert "RuntimeError" in (out / "logs" / "broken-seed-0.log").read_text()


# --- the tiny project of conftest: what a build reruns, re-renders, refuses and checks ---

def tiny_options(project, **changes) -> Options:
    return Options(**{"profile": "quick", "out": project.root / "_build", "to": ["html"], "show_progress": False,
                      **changes})


def outcomes(summary) -> dict:
    return {r.section: r.outcome for r in summary.results}


def shown_problems(project) -> dict:
    """``{section: why the report shows no result}`` from the rendered report's provenance."""
    provenance = json.loads((project.root / "_build" / "provenance.json").read_text())
    return {s["name"]: s["problem"] for s in provenance["sections"]}


@pytest.fixture
def twice(tiny):
    """The tiny project with a second section, ``again``, run by the same module."""
    (tiny.templates / "again.qmd.j2").write_text("# Again\n\nCounted again.\n")
    return dataclasses.replace(tiny, sections={**tiny.sections, "again": "tiny_sections.counting"})


def test_a_second_build_reruns_nothing_and_leaves_the_report_files_alone(tiny, caplog):
    build(tiny, tiny_options(tiny))
    html = tiny.root / "_build" / "report.html"
    written = html.stat().st_mtime_ns
    caplog.set_level("INFO", logger="report")
    assert outcomes(build(tiny, tiny_options(tiny))) == {"counting": Outcome.CACHED}
    assert "the report is up to date" in caplog.messages
    assert html.stat().st_mtime_ns == written


def test_force_reruns_the_named_sections_or_all_of_them(twice):
    assert outcomes(build(twice, tiny_options(twice))) == {"counting": Outcome.RAN, "again": Outcome.RAN}
    assert outcomes(build(twice, tiny_options(twice, sections=["again"], force=True))) == {
        "counting": Outcome.CACHED, "again": Outcome.RAN}
    assert outcomes(build(twice, tiny_options(twice, force=True))) == {"counting": Outcome.RAN, "again": Outcome.RAN}


def test_naming_a_section_builds_only_it_and_the_report_says_how_to_build_the_other(twice):
    summary = build(twice, tiny_options(twice, sections=["again"]))
    assert outcomes(summary) == {"counting": Outcome.SKIPPED, "again": Outcome.RAN}
    assert shown_problems(twice) == {"counting": "it has not been built yet; run `python build.py counting`.",
                                     "again": ""}


def test_a_corrupt_result_is_warned_about_and_recomputed(tiny, caplog):
    build(tiny, tiny_options(tiny))
    record = tiny.root / "_build" / "results" / "quick" / "counting" / "seed-0.json"
    record.write_text("{")
    assert outcomes(build(tiny, tiny_options(tiny))) == {"counting": Outcome.RAN}
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warning.startswith(f"ignoring a corrupt result, it will be recomputed: {record} is not valid JSON")


def rerenders(project, options, caplog) -> bool:
    """Whether a build renders the report again, rather than keeping the files it finds."""
    caplog.clear()
    caplog.set_level("INFO", logger="report")
    build(project, options)
    return "the report is up to date" not in caplog.messages


def edit(path, text=" Edited."):
    path.write_text(path.read_text() + text)


@pytest.mark.parametrize("change", [
    "report file deleted", "template edited", "another format", "draft", "another engine", "forced rerun",
    "new commit", "uncommitted changes", "library versions", "pdf fonts", "font folders",
])
def test_the_report_is_rendered_again_when_anything_it_shows_or_depends_on_changes(tiny, caplog, monkeypatch,
                                                                                   change):
    git = ["abc123", False]
    monkeypatch.setattr("report.provenance.git_state", lambda root: tuple(git))
    project, options = tiny, tiny_options(tiny)
    build(project, options)
    if change == "report file deleted":
        (tiny.root / "_build" / "report.html").unlink()
    elif change == "template edited":
        edit(tiny.templates / "counting.qmd.j2")
    elif change == "new commit":
        git[0] = "def456"
    elif change == "uncommitted changes":
        git[1] = True
    else:
        project, options = {
            "another format": (tiny, tiny_options(tiny, to=["html", "md"])),
            "draft": (tiny, tiny_options(tiny, draft=True)),
            "another engine": (tiny, tiny_options(tiny, engine="pandoc")),
            "forced rerun": (tiny, tiny_options(tiny, force=True)),
            "library versions": (dataclasses.replace(tiny, libraries=("pytest",)), options),
            "pdf fonts": (dataclasses.replace(tiny, pdf_fonts=("Libertinus Serif",)), options),
            "font folders": (dataclasses.replace(tiny, font_paths=(tiny.root / "fonts",)), options),
        }[change]
    assert rerenders(project, options, caplog)
    assert not rerenders(project, dataclasses.replace(options, force=False), caplog)  # and only once


def test_editing_engine_code_or_its_assets_renders_the_report_again_and_other_files_do_not(tiny, caplog,
                                                                                           monkeypatch, tmp_path):
    engine = tmp_path / "engine"
    (engine / "assets").mkdir(parents=True)
    for name in ("render.py", "assets/report.css", "notes.txt"):
        (engine / name).write_text("")
    monkeypatch.setattr("report.pipeline.ENGINE_DIR", engine)
    build(tiny, tiny_options(tiny))
    edit(engine / "notes.txt")
    assert not rerenders(tiny, tiny_options(tiny), caplog)
    edit(engine / "render.py")
    assert rerenders(tiny, tiny_options(tiny), caplog)
    edit(engine / "assets" / "report.css")
    assert rerenders(tiny, tiny_options(tiny), caplog)


def test_a_failure_and_each_new_error_render_the_report_again(tiny, caplog, monkeypatch):
    build(tiny, tiny_options(tiny))
    module = importlib.import_module("tiny_sections.counting")
    for error in ("first", "second"):
        monkeypatch.setattr(module, "run", lambda config, ctx, error=error: 1 / 0 if error == "first" else {}[error])
        assert rerenders(tiny, tiny_options(tiny, force=True), caplog)
    assert shown_problems(tiny)["counting"].startswith("it failed: KeyError: 'second' (log: ")


def test_a_stale_result_shown_renders_the_report_again_when_its_reasons_change(twice, caplog):
    build(twice, tiny_options(twice))
    for upto in (4, 5):
        assert rerenders(twice, tiny_options(twice, sections=["again"], sets=[f"counting.upto={upto}"]), caplog)
    provenance = json.loads((twice.root / "_build" / "provenance.json").read_text())
    assert provenance["sections"][0]["stale"] == ["config upto: 3 -> 5"]
