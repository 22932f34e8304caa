"""Bad input and a hostile filesystem, run in process: a clear message and exit code, nothing
half-written, and the modes that only read create nothing."""
import contextlib
import errno
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import PROJECT

from report import backends, pipeline
from report.cli import main
from report.errors import OutputError
from report.pipeline import Options, check
from report.store import Store


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


def test_an_unknown_matplotlib_backend_is_named_before_anything_runs(tmp_path, capsys, monkeypatch, no_build):
    monkeypatch.setenv("MPLBACKEND", "nonsense")
    code, err = run([], tmp_path, capsys)
    assert code == 2 and err.startswith("error: the environment variable MPLBACKEND='nonsense'")
    assert "hint: unset MPLBACKEND" in err


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


def someone_else_s_read_only_file(lock, monkeypatch):
    lock.write_text("")
    lock.chmod(0o444)
    real_open = open

    def open_as_another_user(file, mode="r", *args, **kwargs):  # root may write any file; they may not
        if file == lock and mode != "r":
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, mode, *args, **kwargs)
    monkeypatch.setattr(pipeline, "open", open_as_another_user, raising=False)


@pytest.mark.parametrize("make_lock", [
    lambda lock, monkeypatch: lock.mkdir(),
    lambda lock, monkeypatch: os.symlink(lock.parent / "gone" / "lock", lock),
    someone_else_s_read_only_file,
], ids=["a folder", "a dangling link", "someone else's read-only file"])
def test_a_lock_file_that_cannot_be_opened_is_named_with_what_to_do(make_lock, tmp_path, capsys, monkeypatch,
                                                                     no_build):
    out = tmp_path / "out"
    out.mkdir()
    make_lock(out / ".lock", monkeypatch)
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


# --- the filesystem: wrong kinds of paths, full disks, read-only folders, other users ---

A_FILE = "is not a folder, but the build keeps one there"
A_FOLDER = "is a folder, where the build writes a file"


@pytest.mark.parametrize("make,named,problem", [
    (lambda out: (out / "results").write_text(""), "results", A_FILE),
    (lambda out: ((out / "results" / "full").mkdir(parents=True), (out / "results" / "full" / "toy_mlp").write_text("")),
     "results/full/toy_mlp", A_FILE),
    (lambda out: (out / ".cache").write_text(""), ".cache", A_FILE),
    (lambda out: (out / "logs").symlink_to(out / "gone"), "logs", A_FILE),
    (lambda out: (out / "report.html").mkdir(), "report.html", A_FOLDER),
], ids=["results is a file", "a section's folder is a file", ".cache is a file", "logs is a dangling link",
        "report.html is a folder"])
def test_a_path_of_the_wrong_kind_is_named_before_anything_trains(make, named, problem, tmp_path, capsys, no_build):
    out = tmp_path / "out"
    out.mkdir()
    make(out)
    code, err = run(["toy_mlp", "--force", "--to", "html", "--out", str(out)], tmp_path, capsys)
    assert code == 2 and err == (f"error: {out / named} {problem}\n"
                                 "  hint: move it out of the way, or build in another folder with --out\n")


def mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def mounts():
    """Mount folders as root (a small tmpfs, a read-only bind), unmounted after the test;
    the test is skipped where this process may not mount."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small disk or a read-only folder needs root")
    mounted = []

    def make(target, *args):
        if not mount(*args, str(target)):
            pytest.skip(f"`mount {' '.join(args)}` is not allowed here")
        if "remount" not in args[-1]:
            mounted.append(target)
    yield make
    for target in reversed(mounted):
        subprocess.run(["umount", "-l", str(target)], check=True)


@pytest.fixture
def small_disk(tmp_path, mounts):
    """A 2 MB disk of its own."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounts(disk, "-t", "tmpfs", "-o", "size=2m", "tmpfs")
    return disk


def fill(disk):
    """Write to ``disk`` until it is full."""
    with open(disk / "filler", "ab", buffering=0) as handle:
        with contextlib.suppress(OSError):
            while True:
                handle.write(b"\0" * 4096)


@pytest.fixture
def read_only(mounts):
    """Make a folder read-only for everyone, root included, by binding it onto itself."""
    def make(folder):
        mounts(folder, "--bind", str(folder))
        mounts(folder, "-o", "remount,bind,ro")
    return make


def leftovers(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if ".tmp-" in p.name or
                  p.name.startswith(".staging-"))


def test_a_full_disk_during_a_build_says_no_space_left_and_keeps_the_last_results(tiny, small_disk, capsys):
    out = small_disk / "out"
    assert main(tiny, ["--profile", "quick", "--to", "html", "--quiet", "--out", str(out)]) == 0
    store = Store(out / "results", "quick")
    fill(small_disk)
    capsys.readouterr()
    assert main(tiny, ["--profile", "quick", "--to", "html", "--quiet", "--force", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    record = store.record_path("counting", 0)
    assert f"error: no space left on {record}\n  hint: free some space on that disk (`df -h {record.parent}`" in err
    assert "Traceback" not in err and leftovers(out) == []
    assert store.load("counting", 0).data["total"] == 6
    (small_disk / "filler").unlink()
    assert main(tiny, ["--profile", "quick", "--to", "html", "--quiet", "--check", "--out", str(out)]) == 0


def test_pandoc_on_a_full_disk_says_no_space_left_and_keeps_the_old_report(small_disk):
    document = small_disk / "report.qmd"
    document.write_text("# Results\n\n" + "Every number has its source. " * 2000)
    (small_disk / "report.html").write_text("old")
    fill(small_disk)
    with pytest.raises(OutputError) as caught:
        backends.PandocBackend.find().render(document, ["html"])
    assert caught.value.message == f"no space left on {small_disk / 'report.html'}"
    assert "HasCallStack" not in str(caught.value) and leftovers(small_disk) == []
    assert (small_disk / "report.html").read_text() == "old"


def test_a_read_only_results_folder_is_refused_before_anything_trains(tiny, read_only, capsys, monkeypatch):
    out = tiny.root / "out"
    assert main(tiny, ["--profile", "quick", "--to", "html", "--quiet", "--out", str(out)]) == 0
    read_only(out / "results")
    monkeypatch.setattr("report.pipeline.Runner", None)  # calling it would fail the test
    capsys.readouterr()
    assert main(tiny, ["--profile", "quick", "--to", "html", "--force", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"error: cannot write {out / 'results' / 'quick' / 'counting'}: Read-only file system\n"
        "  hint: make it writable for you, or build in another folder with --out\n")


def test_check_and_list_work_on_a_read_only_output_folder(tiny, read_only, capsys):
    out = tiny.root / "out"
    assert main(tiny, ["--profile", "quick", "--to", "html", "--quiet", "--out", str(out)]) == 0
    read_only(out)
    assert main(tiny, ["--profile", "quick", "--check", "--out", str(out)]) == 0
    assert main(tiny, ["--profile", "quick", "--list", "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split() == ["counting", "0", "fresh"]


def snapshot(folder):
    return {str(p.relative_to(folder)): (p.stat().st_mode, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def test_check_and_list_change_nothing_in_a_built_folder_and_create_nothing_elsewhere(tiny, tmp_path, capsys,
                                                                                   monkeypatch):
    out = tiny.root / "out"
    assert main(tiny, ["--profile", "quick", "--to", "html", "--quiet", "--out", str(out)]) == 0
    before = snapshot(out)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for mode in ("--check", "--list"):
        main(tiny, ["--profile", "quick", mode, "--out", str(out)])
        main(tiny, ["--profile", "quick", mode])  # into ./_build, never built here
    assert snapshot(out) == before and list(elsewhere.iterdir()) == []
    assert f"no report in {elsewhere / '_build'} to check" in capsys.readouterr().err


def test_temporary_files_of_a_build_killed_outright_are_removed_by_the_next(tiny):
    out = tiny.root / "out"
    killed = [out / ".report.tmp-99999.html", out / ".cache" / ".hashes.tmp-99999.json",
              out / "logs" / ".counting-seed-0.tmp-99999.log"]
    for file in killed:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text("half")
    assert main(tiny, ["--profile", "quick", "--to", "html", "--quiet", "--out", str(out)]) == 0
    assert leftovers(out) == []


def test_what_a_build_writes_is_readable_by_whom_the_umask_allows(tiny):
    out = tiny.root / "out"
    previous = os.umask(0o022)  # a shared store: everyone may read
    try:
        assert main(tiny, ["--profile", "quick", "--to", "html", "--quiet", "--out", str(out)]) == 0
    finally:
        os.umask(previous)
    modes = {str(p.relative_to(out)): stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*")}
    assert {name: oct(mode) for name, mode in modes.items() if mode not in (0o755, 0o644)} == {}


def test_check_of_a_folder_whose_report_html_is_a_folder_says_there_is_no_report(quick_toy, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(quick_toy, out)
    (out / "report.html").unlink()
    (out / "report.html").mkdir()
    assert main(PROJECT, ["--check", "--profile", "quick", "--out", str(out)]) == 1
    assert f"no report in {out} to check" in capsys.readouterr().err


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
        def versions(self):
            return {}

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
