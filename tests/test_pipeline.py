"""The phases of one build, run in this process: invariants are enforced by the build and by --check."""
import copy
import dataclasses
import importlib
import json
import threading
import time

import pytest

import experiments.toy_mlp
from conftest import PROJECT
from report import store as store_module
from report.errors import CheckFailed, OutputError, UsageError
from report.paths import OutputPaths
from report.pipeline import Options, build, build_lock, check
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


def test_the_provenance_names_the_machines_and_the_renderers_versions(built):
    prov = json.loads((built / "provenance.json").read_text())
    assert prov["renderer"]["pandoc"][0].isdigit() and prov["renderer"]["typst"][0].isdigit()
    (toy,) = [m for m in prov["machines"] if m["runs"] == "toy_mlp seed 0"]
    assert "threads (torch)" in toy["threads"] and "torch: BLAS" in toy["libraries"]
    text = (built / "report.qmd").read_text()
    for printed in ("renderer.pandoc", "renderer.typst", "machine.cpu", "machine.cores", "machines[0].libraries"):
        assert f'title="provenance.{printed}"' in text


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


def test_a_record_copied_in_from_another_section_is_refused_by_check_and_build(built, caplog):
    copied = built / "results" / "quick" / "dynamics" / "seed-0.json"
    copied.parent.mkdir(parents=True)
    copied.write_text(record_file(built).read_text())  # toy_mlp's record, where dynamics keeps its own
    try:
        problems = check(PROJECT, options(built))
        summary = build(PROJECT, options(built))
    finally:
        copied.unlink()
    refused = f"{copied} holds the result of toy_mlp seed 0 (a record copied or moved by hand)"
    assert problems == [f"dynamics[seed=0]: {refused}"]
    assert refused in caplog.text and outcomes(summary)["dynamics"] is Outcome.SKIPPED


def test_check_names_a_hand_edited_record_its_invariants_cannot_read(tiny):
    build(tiny, tiny_options(tiny))
    path = tiny.root / "_build" / "results" / "quick" / "counting" / "seed-0.json"
    raw = json.loads(path.read_text())
    del raw["data"]["numbers"]
    path.write_text(json.dumps(raw))
    problems = check(tiny, tiny_options(tiny))
    assert ("counting[seed=0]: its data cannot be checked, the invariants fail with KeyError: 'numbers'"
            in problems)


def test_a_run_that_returns_inconsistent_data_is_marked_failed_and_not_shown(built, monkeypatch):
    stored = json.loads(record_file(built).read_text())["data"]
    monkeypatch.setattr(experiments.toy_mlp, "run", lambda config, ctx: flip_first_activation(stored))
    summary = build(PROJECT, options(built, force=True))
    (unit,) = summary.failed
    assert unit.section == "toy_mlp" and unit.record is None
    assert unit.error.startswith("invariants do not hold: the step network's activation table")
    html = (built / "report.html").read_text()
    assert "This section is missing from the report" in html and "invariants do not hold" in html


def test_a_result_that_breaks_its_invariants_is_never_stored_and_the_next_build_reruns_it(tmp_path, monkeypatch):
    out = tmp_path / "_build"
    build(PROJECT, options(out))
    good = json.loads(record_file(out).read_text())
    monkeypatch.setattr(experiments.toy_mlp, "run", lambda config, ctx: flip_first_activation(good["data"]))
    (failed,) = build(PROJECT, options(out, force=True)).failed
    assert json.loads(record_file(out).read_text()) == good  # the last good result stays
    assert "The result was not stored" in failed.log_path.read_text()
    monkeypatch.undo()
    rerun = build(PROJECT, options(out)).results
    assert [r.outcome for r in rerun if r.section == "toy_mlp"] == [Outcome.RAN]


BROKEN_SECTION = '''
from dataclasses import dataclass

TITLE = "A broken section"
QUICK = {}


@dataclass(frozen=True)
class Config:
    seed: int = 0


def run(config, ctx):
    raise RuntimeError("the experiment's run crashed -- on purpose...")


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
    assert "This section is missing from the report" in html and "crashed" in html
    assert "broken-seed-0.log" in html and "A trained sigmoid network" in html
    assert "RuntimeError" in (out / "logs" / "broken-seed-0.log").read_text()
    assert check(project, options(out)) == []  # the placeholder's typeset prose still matches its source


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
    summary = build(tiny, tiny_options(tiny))
    assert outcomes(summary) == {"counting": Outcome.CACHED} and 0 < summary.wall_time < 30
    assert "the report is up to date" in caplog.messages
    assert html.stat().st_mtime_ns == written


def test_the_same_formats_asked_for_in_another_order_keep_the_report(tiny, caplog):
    build(tiny, tiny_options(tiny, to=["html", "md"]))
    assert not rerenders(tiny, tiny_options(tiny, to=["md", "html"]), caplog)


def test_the_build_hands_each_section_the_device_and_quiet_progress_asked_for(tiny, monkeypatch):
    module = importlib.import_module("tiny_sections.counting")
    monkeypatch.setattr(module, "run", lambda config, ctx: {"numbers": [1], "total": 1, "device": ctx.device,
                                                            "progress": ctx.show_progress})
    (result,) = build(tiny, tiny_options(tiny, device="cpu", to=["md"])).results
    assert (result.record.data["device"], result.record.data["progress"]) == ("cpu", False)


def test_a_build_for_a_dask_cluster_goes_to_its_scheduler(tiny, monkeypatch):
    def unreachable(address, timeout):
        raise OSError(f"no answer from {address}")
    monkeypatch.setattr("distributed.Client", unreachable)
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler at tcp://h:1: no answer from tcp://h:1"):
        build(tiny, tiny_options(tiny, scheduler="tcp://h:1"))


def test_a_worker_killed_under_one_seed_fails_that_seed_and_the_report_is_still_written(tiny):
    source = tiny.root / "tiny_sections" / "counting.py"
    source.write_text(source.read_text().replace("    numbers = list(", """\
    if config.seed == 2:
        import os, signal
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
    numbers = list("""))
    summary = build(tiny, tiny_options(tiny, jobs=2, sets=["counting.seeds=[1,2,3]"], to=["md"]))
    assert [r.outcome for r in summary.results] == [Outcome.RAN, Outcome.FAILED, Outcome.RAN]
    assert "out-of-memory killer" in summary.failed[0].error
    assert shown_problems(tiny)["counting"].startswith("it failed: the worker process running this unit died")
    assert (tiny.root / "_build" / "report.md").exists()


def test_a_build_gives_up_on_a_dask_cluster_without_workers_after_the_time_asked_for(tiny):
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        with pytest.raises(UsageError, match=r"no Dask worker joined the scheduler at \S+ in 0.25 s"):
            build(tiny, tiny_options(tiny, scheduler=cluster.scheduler_address, worker_timeout=0.25))


def test_every_broken_invariant_is_named_in_the_failure(tiny, monkeypatch):
    module = importlib.import_module("tiny_sections.counting")
    monkeypatch.setattr(module, "invariants", lambda data: ["the total is odd", "the numbers are few"])
    (result,) = build(tiny, tiny_options(tiny, to=["md"])).results
    assert result.error == "invariants do not hold: the total is odd; the numbers are few"


def test_a_number_typed_into_a_template_fails_the_build_naming_the_line_and_keeps_the_report(tiny):
    build(tiny, tiny_options(tiny))
    before = (tiny.root / "_build" / "report.html").read_text()
    edit(tiny.templates / "counting.qmd.j2", "\nIt took 42 seconds.\n")
    with pytest.raises(CheckFailed) as caught:
        build(tiny, tiny_options(tiny))
    assert caught.value.problems == ["number '42' is typed into counting.qmd.j2:6, not taken from results; "
                                     "print it from a result with a filter, or declare it with lit()"]
    assert (tiny.root / "_build" / "report.html").read_text() == before


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


@pytest.fixture
def drawn(twice, monkeypatch):
    """``twice`` whose counting section draws a figure that its template shows, built once."""
    def run_and_draw(config, ctx):
        import matplotlib.pyplot as plt

        numbers = list(range(1, config.upto + 1))
        return {"numbers": numbers, "total": sum(numbers), "figures": {"bars": ctx.save_figure(plt.figure(), "bars")}}
    monkeypatch.setattr(importlib.import_module("tiny_sections.counting"), "run", run_and_draw)
    edit(twice.templates / "counting.qmd.j2",
         '\nSee @fig-bars.\n\n{{ figure(r.counting.figures.bars, "Bars.", "fig-bars") }}\n')
    build(twice, tiny_options(twice, to=["html", "pdf"]))
    return twice


def test_a_damaged_figure_of_a_section_not_rebuilt_leaves_it_shown_as_stale_without_that_figure(drawn, caplog):
    (figure,) = (drawn.root / "_build" / "results" / "quick" / "counting").glob("seed-0.*/bars.png")
    figure.write_bytes(b"garbage")
    damage = f"artifact {figure} is missing or changed"
    assert check(drawn, tiny_options(drawn)) == [
        f"counting[seed=0]: {damage}, and the report does not say so; rebuild it with `python build.py counting`"]
    summary = build(drawn, tiny_options(drawn, sections=["again"], to=["html", "pdf"]))
    assert outcomes(summary) == {"counting": Outcome.CACHED, "again": Outcome.CACHED}
    assert (f"a stored figure is damaged, the report shows counting as stale, without that figure, until "
            f"`python build.py counting` recomputes it: {damage}") in caplog.messages
    provenance = json.loads((drawn.root / "_build" / "provenance.json").read_text())
    assert provenance["sections"][0]["stale"] == [damage]  # what the report's stale banner shows
    html = (drawn.root / "_build" / "report.html").read_text()
    assert 'class="missing-figure"' in html and "Figure 1" in html
    assert check(drawn, tiny_options(drawn, to=["html", "pdf"])) == []
    assert outcomes(build(drawn, tiny_options(drawn))) == {"counting": Outcome.RAN, "again": Outcome.CACHED}
    assert 'class="missing-figure"' not in (drawn.root / "_build" / "report.html").read_text()


def test_a_corrupt_record_of_a_section_not_rebuilt_is_named_in_its_placeholder(twice, caplog):
    build(twice, tiny_options(twice))
    record = twice.root / "_build" / "results" / "quick" / "counting" / "seed-0.json"
    record.write_text("{")
    build(twice, tiny_options(twice, sections=["again"]))
    reason = next(m for m in caplog.messages if m.startswith("ignoring a corrupt result, the report leaves counting "
                                                              "out until `python build.py counting` recomputes it: "))
    assert shown_problems(twice)["counting"] == (f"its stored result cannot be used ({reason.split(': ', 1)[1]}); "
                                                 "run `python build.py counting` to recompute it.")


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
        options = tiny_options(tiny, to=["html", "md"])
        build(project, options)
        (tiny.root / "_build" / "report.md").unlink()
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


def test_check_without_an_html_report_says_to_build_it_first(tiny):
    out = tiny.root / "_build"
    assert check(tiny, tiny_options(tiny)) == [f"no report in {out} to check; build it first with `python build.py`"]
    build(tiny, tiny_options(tiny, to=["md"]))
    assert check(tiny, tiny_options(tiny)) == [f"no report in {out} to check; build it first with `python build.py`"]


def test_check_names_a_corrupt_record_and_the_numbers_that_no_longer_match_it(tiny):
    build(tiny, tiny_options(tiny))
    path = tiny.root / "_build" / "results" / "quick" / "counting" / "seed-0.json"
    raw = json.loads(path.read_text())
    raw["data"]["total"] = 7  # edited by hand: the checksum no longer matches
    path.write_text(json.dumps(raw))
    problems = check(tiny, tiny_options(tiny))
    assert problems[0].startswith(f"counting[seed=0]: {path} ")
    assert any("counting.total" in p and "7" in p for p in problems[1:])


def test_check_compares_the_pdf_too_when_there_is_one(tiny, monkeypatch):
    build(tiny, tiny_options(tiny))
    monkeypatch.setattr("report.checks.verify_pdf", lambda pdf, ledger: [(pdf, ledger)])
    assert check(tiny, tiny_options(tiny)) == []
    build(tiny, tiny_options(tiny, to=["html", "pdf"]))
    ledger = json.loads((tiny.root / "_build" / "ledger.json").read_text())
    assert check(tiny, tiny_options(tiny)) == [(tiny.root / "_build" / "report.pdf", ledger)]


CLAIMED = ('{% call claim("the total is six", r.counting.total == 6) %}The total is the sum.{% endcall %}\n')


def test_check_names_a_claim_that_no_longer_holds_and_a_number_typed_into_a_template(tiny):
    template = tiny.templates / "counting.qmd.j2"
    template.write_text(template.read_text() + CLAIMED)
    build(tiny, tiny_options(tiny))
    template.write_text(template.read_text().replace("== 6", "== 7") + "\nIt took 42 seconds.\n")
    problems = check(tiny, tiny_options(tiny))
    assert problems[0] == "claim 'the total is six' (counting.qmd.j2:5) does not hold in the results"
    assert "42" in problems[1] and "counting.qmd.j2:7" in problems[1]


@pytest.mark.parametrize("changes,message,hint", [
    ({"profile": "medium"}, "unknown profile 'medium'", "use --profile quick or --profile full"),
    ({"to": ["html", "docx", "odt"]}, "unknown output format docx, odt",
     "--to takes a comma-separated list of html, pdf, md"),
    ({"sections": ["counting", "nosuch"]}, "unknown section 'nosuch'; valid sections: counting",
     "name one of the valid sections, or none to build them all"),
])
def test_bad_options_are_refused_before_anything_runs_or_is_written(tiny, changes, message, hint):
    with pytest.raises(UsageError) as caught:
        build(tiny, tiny_options(tiny, **changes))
    assert (caught.value.message, caught.value.hint) == (message, hint)
    assert not (tiny.root / "_build").exists()


@pytest.mark.parametrize("inside", ["..", ".", "templates/x", "tiny_sections", ".git/out", "protected/deep/out"])
def test_an_output_folder_in_or_around_the_sources_is_refused(tiny, inside):
    project = dataclasses.replace(tiny, protected=("protected",))
    out = tiny.root / inside
    with pytest.raises(UsageError) as caught:
        build(project, tiny_options(project, out=out))
    assert caught.value.message == f"--out {out.resolve()} points at the project's source tree"
    assert caught.value.hint == "use a folder of its own, such as _build (the default) or /tmp/report"


def test_an_output_folder_beside_the_sources_is_made_and_left_holding_only_the_build(tiny):
    out = tiny.root / "deep" / "out"
    build(tiny, tiny_options(tiny, out=out))
    assert sorted(p.name for p in out.iterdir()) == [
        ".cache", ".lock", ".render-key", "history", "ledger.json", "provenance.json", "report.html", "report.qmd",
        "results"]
    assert [p.name for p in (out / ".cache").iterdir()] == ["hashes.json"]


def test_an_output_folder_that_cannot_be_written_names_the_reason(tiny):
    (tiny.root / "file").write_text("")
    with pytest.raises(OutputError) as caught:
        build(tiny, tiny_options(tiny, out=tiny.root / "file" / "out"))
    assert caught.value.message == f"cannot write to the output folder {tiny.root / 'file' / 'out'}: Not a directory"
    assert caught.value.hint == "choose a writable folder with --out"


def test_a_second_build_on_the_same_folder_waits_for_the_first_and_says_so(tmp_path, caplog):
    paths = OutputPaths.under(tmp_path)
    order = []

    def second():
        with build_lock(paths):
            order.append("second")
    with build_lock(paths):
        waiting = threading.Thread(target=second)
        waiting.start()
        deadline = time.monotonic() + 10
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.01)
        order.append("first")
    waiting.join(10)
    assert order == ["first", "second"]
    assert caplog.messages == [f"another build is using {tmp_path}; waiting for it to finish"]
