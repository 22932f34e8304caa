"""Bad input and a hostile filesystem, run in process: a clear message and exit code, nothing
half-written, and the modes that only read create nothing."""
import json
import os
from pathlib import Path

import pytest
from conftest import PROJECT

from report import backends
from report.cli import main
from report.pipeline import Options, check


def run(argv, tmp_path, capsys):
    code = main(PROJECT, [*argv, "--out", str(tmp_path / "out")] if "--out" not in argv else argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["--set", "toy_mlp.seeds=[-1,2]"], "toy_mlp.seeds must be a non-empty list of distinct integers from 0"),
    (["--set", "toy_mlp.seeds=[99999999999999999999]"], "to 4294967295"),
    (["--set", "toy_mlp.seed=-3"], "toy_mlp.seed must be an integer from 0 to 4294967295, got -3"),
    (["--set", "toy_mlp.lr=inf"], "toy_mlp.lr='inf' is not a finite number"),
    (["--set", "kmnist.lr=nan"], "kmnist.lr='nan' is not a finite number"),
    (["--to", ""], "--to names no output format"),
    (["--executor", "dask", "--scheduler", "not a url"], "--scheduler 'not a url' is not a scheduler address"),
])
def test_bad_values_are_refused_before_anything_runs(argv, message, tmp_path, capsys, no_build):
    code, err = run(argv, tmp_path, capsys)
    assert code == 2 and message in err and "hint:" in err


def test_engine_quarto_without_quarto_is_refused_before_anything_trains(tmp_path, capsys, monkeypatch, no_build):
    monkeypatch.setattr(backends.shutil, "which", lambda name: None)
    code, err = run(["--engine", "quarto"], tmp_path, capsys)
    assert code == 2 and "no `quarto` executable" in err


@pytest.mark.parametrize("out", ["~nosuchuser-here/x", "loop/x"])
def test_an_output_path_that_cannot_be_resolved_is_named(out, tmp_path, capsys, monkeypatch, no_build):
    monkeypatch.chdir(tmp_path)
    os.symlink("loop", tmp_path / "loop")  # a link to itself
    code, err = run(["--out", out], tmp_path, capsys)
    assert code == 2 and err.startswith(f"error: --out {out}: ") and "hint:" in err


@pytest.mark.parametrize("make_lock", [
    lambda lock: lock.mkdir(),
    lambda lock: os.symlink(lock.parent / "gone" / "lock", lock),
], ids=["a folder", "a dangling link"])
def test_a_lock_file_that_cannot_be_opened_is_named_with_what_to_do(make_lock, tmp_path, capsys, no_build):
    out = tmp_path / "out"
    out.mkdir()
    make_lock(out / ".lock")
    code, err = run(["--to", "html", "--out", str(out)], tmp_path, capsys)
    assert code == 2 and f"cannot use the lock file {out / '.lock'}" in err and "remove it" in err


def test_check_and_list_of_a_folder_never_built_create_nothing(tmp_path, capsys):
    out = tmp_path / "never-built"
    assert main(PROJECT, ["--list", "--out", str(out)]) == 0
    assert main(PROJECT, ["--check", "--out", str(out)]) == 1
    assert "no report in" in capsys.readouterr().err and not out.exists()


def test_jobs_beyond_the_units_and_cores_are_capped_with_a_note(caplog):
    from report.runner import capped_jobs

    assert capped_jobs(1000, 3) == min(3, os.cpu_count())
    assert "--jobs 1000: running" in caplog.text
    assert capped_jobs(1, 3) == 1


@pytest.fixture(scope="module")
def quick_toy(tmp_path_factory):
    out = tmp_path_factory.mktemp("faults") / "out"
    assert main(PROJECT, ["toy_mlp", "--profile", "quick", "--to", "html", "--quiet", "--out", str(out)]) == 0
    return out


def checked(out, **changes):
    return check(PROJECT, Options(**{"profile": "quick", "out": out, "to": ["html"], **changes}))


def test_check_with_the_wrong_profile_says_so_in_one_line(quick_toy):
    (problem,) = checked(quick_toy, profile="full")
    assert problem == (f"the report in {quick_toy} was built with the quick profile; "
                       "check it with `python build.py --check --profile quick`")


@pytest.mark.parametrize("name,damage", [
    ("provenance.json", lambda path: path.unlink()),
    ("ledger.json", lambda path: path.write_text(path.read_text()[:100])),
])
def test_check_reports_a_missing_or_truncated_side_file_as_a_finding(quick_toy, name, damage):
    path = quick_toy / name
    original = path.read_bytes()
    damage(path)
    try:
        problems = checked(quick_toy)
    finally:
        path.write_bytes(original)
    assert f"{path} is missing or not valid JSON; the next `python build.py` writes it again" in problems


def test_check_reports_a_garbage_pdf_as_a_finding(quick_toy):
    from report.checks import verify_pdf

    pdf = quick_toy / "garbage.pdf"
    pdf.write_bytes(b"not a pdf at all")
    (problem,) = verify_pdf(pdf, json.loads((quick_toy / "ledger.json").read_text()))
    assert problem.startswith("report.pdf cannot be read as a PDF")


def test_sigterm_during_a_build_unwinds_like_ctrl_c(tmp_path, capsys, monkeypatch):
    import signal

    monkeypatch.setattr("report.cli.build", lambda project, options: os.kill(os.getpid(), signal.SIGTERM))
    handler = signal.getsignal(signal.SIGTERM)
    code, err = run([], tmp_path, capsys)
    assert code == 130 and err == "interrupted: the stored results and the last report are unchanged\n"
    assert signal.getsignal(signal.SIGTERM) is handler  # restored for whoever called main


def test_a_template_that_fails_while_rendering_exits_2_naming_the_template_and_line(tiny, capsys):
    (tiny.templates / "counting.qmd.j2").write_text("# Counting\n\n{{ 1/0 }}\n")
    code = main(tiny, ["--profile", "quick", "--to", "md", "--quiet", "--out", str(tiny.root / "_build")])
    err = capsys.readouterr().err
    assert code == 2 and "error: counting.qmd.j2:3: ZeroDivisionError: division by zero" in err
    assert "hint: fix the expression at that line" in err and "Traceback" not in err


# --- the report, its ledger and provenance: one unit, replaced together ---

def tiny_main(tiny, *argv):
    return main(tiny, ["--profile", "quick", "--quiet", "--jobs", "1", "--out", str(tiny.root / "_build"), *argv])


def report_unit(out):
    return {name: (out / name).read_bytes() for name in ("report.html", "report.qmd", "ledger.json", "provenance.json")}


@pytest.fixture
def twice_built(tiny):
    """The tiny project with a second section run by the same module, built once."""
    import dataclasses

    (tiny.templates / "again.qmd.j2").write_text("# Again\n\nCounted again.\n")
    project = dataclasses.replace(tiny, sections={**tiny.sections, "again": "tiny_sections.counting"})
    assert tiny_main(project, "--to", "html") == 0
    return project


def test_ctrl_c_while_the_report_renders_keeps_the_last_report_and_says_what_was_stored(twice_built, capsys,
                                                                                        monkeypatch):
    out = twice_built.root / "_build"
    before = report_unit(out)

    class InterruptedWhileRendering:
        def render(self, document, formats):
            document.with_suffix(".html").write_text("half")  # pandoc's output, beside the staged document
            raise KeyboardInterrupt
    monkeypatch.setattr(backends, "choose", lambda engine, project: InterruptedWhileRendering())
    capsys.readouterr()
    assert tiny_main(twice_built, "--to", "html", "--force", "counting") == 130
    assert capsys.readouterr().err.splitlines()[-1] == ("interrupted: stored the new results of counting[seed=0]; "
                                                        "the other stored results and the last report are unchanged")
    assert report_unit(out) == before and not list(out.glob(".*staged*"))
    monkeypatch.undo()
    assert check(twice_built, Options(profile="quick", out=out, to=["html"])) == []


def test_ctrl_c_in_a_later_section_names_the_results_already_stored(twice_built, capsys, monkeypatch):
    import importlib

    module = importlib.import_module("tiny_sections.counting")
    first_run, calls = module.run, []

    def stopped_at_the_second(config, ctx):
        calls.append(config)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return first_run(config, ctx)
    monkeypatch.setattr(module, "run", stopped_at_the_second)
    before = report_unit(twice_built.root / "_build")
    capsys.readouterr()
    assert tiny_main(twice_built, "--to", "html", "--force") == 130
    assert capsys.readouterr().err.splitlines()[-1] == ("interrupted: stored the new results of counting[seed=0]; "
                                                        "the other stored results and the last report are unchanged")
    assert report_unit(twice_built.root / "_build") == before


def test_sigterm_while_the_report_is_replaced_waits_for_all_of_it_and_says_so(twice_built, capsys, monkeypatch):
    import signal

    from report import publish

    out = twice_built.root / "_build"
    real_replace, seen = os.replace, []

    def replace_and_get_terminated(source, target):
        if not Path(target).name.startswith("."):  # a staged file taking its final name
            if not seen:
                os.kill(os.getpid(), signal.SIGTERM)
            seen.append(Path(target).name)
            assert not (out / ".render-key").exists()  # a kill between the renames makes the next build render again
        real_replace(source, target)
    monkeypatch.setattr(publish.os, "replace", replace_and_get_terminated)
    (twice_built.templates / "again.qmd.j2").write_text("# Again\n\nCounted once more.\n")
    capsys.readouterr()
    assert tiny_main(twice_built, "--to", "html") == 130
    assert capsys.readouterr().err.splitlines()[-1] == (
        "interrupted: the stored results are unchanged; the report was replaced by this build's, "
        "with its ledger and provenance")
    assert sorted(seen) == ["ledger.json", "provenance.json", "report.html", "report.qmd"]
    assert "once more" in (out / "report.html").read_text() and (out / ".render-key").exists()
    assert check(twice_built, Options(profile="quick", out=out, to=["html"])) == []


def test_a_format_not_rebuilt_is_named_as_stale_by_the_build_and_by_check(tiny, caplog):
    out = tiny.root / "_build"
    assert tiny_main(tiny, "--to", "html,md") == 0
    assert check(tiny, Options(profile="quick", out=out)) == []
    assert tiny_main(tiny, "--to", "html", "--set", "counting.upto=4") == 0
    assert (f"{out / 'report.md'} is left from an earlier build (this one wrote --to html): `--check` reports it "
            "as stale; build with --to html,md, or delete it") in caplog.messages
    assert check(tiny, Options(profile="quick", out=out, sets=["counting.upto=4"])) == [
        "report.md is left from an earlier build: the last build wrote html only; rebuild with `--to html,md`, "
        "or delete it"]


def test_check_names_a_report_file_that_is_not_the_one_written_with_its_ledger(tiny):
    out = tiny.root / "_build"
    assert tiny_main(tiny, "--to", "html,md") == 0
    (out / "report.md").write_text("an older report")
    (out / "report.html").write_text((out / "report.html").read_text().replace("</body>", "<p>x</p></body>"))
    problems = check(tiny, Options(profile="quick", out=out))
    assert problems == [f"report.{fmt} is not the file the last build wrote with this ledger (changed since, or a "
                        "build was killed while replacing the report); rebuild with `python build.py`"
                        for fmt in ("html", "md")]
