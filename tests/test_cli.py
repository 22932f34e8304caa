"""The command line: its options, its messages, and the exit code of each mode.

Bad input gets one clear paragraph and exit code 2, before anything runs.
"""
import contextlib
import dataclasses
import logging
import os
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import PROJECT
from report.cli import _print_out, list_sections, main, options_from, parser, print_summary, print_verification
from report.pipeline import Options, Summary
from report.status import Freshness, Outcome
from report.verify import Verified


@pytest.mark.parametrize("argv,message", [
    (["nosuch"], "unknown section 'nosuch'; valid sections: "),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["--set", "toy_mlp.lr"], "malformed --set"),
    (["--set", "toy_mlp.lr=fast"], "is not a valid float"),
    (["--set", "toy_mlp.nosuch=1"], "valid keys:"),
    (["--set", "toy_mlp.lr=-1"], "toy_mlp config: lr must be > 0, got -1.0"),
    (["--set", "toy_mlp.max_epochs=0"], "must be at least 1"),
    (["--to", "docx"], "unknown output format docx"),
    (["--jobs", "0"], "--jobs must be at least 1"),
    (["--worker-timeout", "0"], "--worker-timeout must be a positive number of seconds, got 0"),
    (["--worker-timeout", "nan"], "--worker-timeout must be a positive number of seconds, got nan"),
])
def test_bad_input_exits_2_with_a_message(argv, message, capsys, tmp_path, no_build):
    assert main(PROJECT, [*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and "hint:" in err


def test_out_pointing_at_the_source_tree_is_refused(capsys, no_build):
    for out in (PROJECT.root, PROJECT.root / "report", PROJECT.root / "templates" / "x"):
        assert main(PROJECT, ["--out", str(out)]) == 2
        assert "source tree" in capsys.readouterr().err


def test_unwritable_out_is_refused(capsys, tmp_path, no_build):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(PROJECT, ["--out", str(blocker / "sub")]) == 2
    assert "cannot write to the output folder" in capsys.readouterr().err


# --- the interface: every option, its default, and how the parsed flags become build options ---

HELP = {  # what `python build.py --help` says about each argument
    "SECTION": "rebuild only these sections (kmnist, toy_mlp, dynamics); the others come from the store",
    "-h, --help": "show this help message and exit",
    "--list": "show each section as fresh / stale / missing, and why",
    "--check": "verify the report against the stored results (trains nothing); exit 1 on any mismatch",
    "--verify": "rerun the sections (all, or those named) into a scratch store and compare every number with the "
                "stored one, within the sections' tolerances; exit 1 on any beyond",
    "--profile {quick,full}": "quick: tiny runs for tests (the report says so); full: the report's settings",
    "--force": "rerun the named sections (all, if none named)",
    "--set SECTION.KEY=VALUE": "override a config value, e.g. --set kmnist.lr=0.01 (repeatable)",
    "--to TO": "output formats: html,pdf,md (default html,pdf)",
    "--out OUT": "output folder (default _build)",
    "--engine {auto,quarto,pandoc}": "renderer: quarto when installed (auto), else pandoc+typst",
    "--jobs JOBS": "parallel jobs for stale sections and seeds",
    "--executor {local,dask}": "where units run: local processes, or a Dask cluster (--scheduler)",
    "--scheduler SCHEDULER": "Dask scheduler address, e.g. tcp://host:8786",
    "--worker-timeout SECONDS": "how long to wait for a Dask worker to join the scheduler (default 60)",
    "--device {auto,cpu,cuda}": "torch device",
    "--draft": "render false claims highlighted instead of failing",
    "--quiet": "no progress bars",
    "--diff [REF]": "the printed numbers that changed since the previous build, or since REF: a build kept in "
                    "OUT/history, a commit prefix, or another output folder (creates nothing)",
    "--format {text,md}": "--diff output: text for the terminal, md for a pull-request comment",
    "--export FILE.zip": "pack the report, its stored results and this environment into FILE.zip",
    "--import FILE.zip": "unpack an --export into the empty --out folder; then --check it there",
    "--watch": "build, then serve the report on http://127.0.0.1:PORT/ and show each edit (Ctrl-C stops)",
    "--port PORT": "--watch: the port to serve on (default 8765; a free one when taken)",
    "--run": "--watch: retrain sections a code change made stale, in a fresh process",
}


def test_help_describes_the_command_and_documents_every_argument(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one line per help text
    with pytest.raises(SystemExit) as done:
        main(PROJECT, ["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python build.py [-h] [--list] [--check] [--verify] [--profile {quick,full}] [--force] "
                          "[--set SECTION.KEY=VALUE] [--to TO] [--out OUT]")
    assert ("\n\nRun the experiments that are stale and render the report (HTML and PDF) from their stored "
            "results.\n\n") in out
    documented = dict(re.findall(r"^  (\S(?:.*?\S)?)(?: {2,}|\n {2,})(\S.*)$", out, re.M))
    assert documented == HELP


def test_with_no_flags_the_build_makes_html_and_pdf_of_the_full_profile_in_build():
    assert vars(parser(PROJECT).parse_args([])) == {
        "sections": [], "list": False, "check": False, "verify": False, "profile": "full", "force": False, "sets": [],
        "to": "html,pdf", "out": Path("_build"), "engine": "auto", "jobs": None, "executor": "local",
        "scheduler": None, "worker_timeout": 60.0, "device": "auto", "draft": False, "quiet": False, "diff": None,
        "format": "text", "export": None, "import_from": None, "watch": False, "port": 8765, "run": False}
    assert options_from(parser(PROJECT).parse_args([])) == Options(
        sections=[], profile="full", force=False, sets=[], to=["html", "pdf"], out=Path("_build"), engine="auto",
        jobs=None, scheduler=None, worker_timeout=60.0, device="auto", draft=False, show_progress=True)


def test_every_flag_reaches_the_build_options():
    args = parser(PROJECT).parse_args([
        "kmnist", "toy_mlp", "--profile", "quick", "--force", "--set", "kmnist.lr=0.1", "--set", "toy_mlp.hidden=3",
        "--to", " md, html,,", "--out", "/tmp/r", "--engine", "pandoc", "--jobs", "1", "--executor", "dask",
        "--scheduler", "tcp://host:8786", "--worker-timeout", "2.5", "--device", "cuda", "--draft", "--quiet"])
    assert options_from(args) == Options(
        sections=["kmnist", "toy_mlp"], profile="quick", force=True, sets=["kmnist.lr=0.1", "toy_mlp.hidden=3"],
        to=["md", "html"], out=Path("/tmp/r"), engine="pandoc", jobs=1, scheduler="tcp://host:8786",
        worker_timeout=2.5, device="cuda", draft=True, show_progress=False)
    modes = parser(PROJECT).parse_args(["--list", "--check", "--engine", "quarto", "--device", "cpu"])
    assert (modes.list, modes.check, modes.engine, modes.device) == (True, True, "quarto", "cpu")


def test_a_scheduler_is_ignored_unless_the_executor_is_dask():
    args = parser(PROJECT).parse_args(["--scheduler", "tcp://host:8786", "--executor", "local"])
    assert options_from(args).scheduler is None


def test_executor_dask_without_scheduler_names_the_flag_and_the_fix(capsys, tmp_path, no_build):
    assert main(PROJECT, ["--executor", "dask", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == ("error: --executor dask needs --scheduler tcp://HOST:PORT\n"
                                       "  hint: give the address of a running Dask scheduler\n")


@pytest.mark.parametrize("argv,message", [
    (["--executor", "dask", "--scheduler", "host:8786"],
     "error: --scheduler 'host:8786' is not a scheduler address\n"
     "  hint: write it as PROTOCOL://HOST:PORT, e.g. tcp://10.0.0.5:8786\n"),
    (["--list", "--check", "--diff", "--export", "a.zip", "--import", "b.zip"],
     "error: --list and --check and --diff and --export and --import cannot be combined\n"
     "  hint: give one of them per command\n"),
    (["--export", "a.zip", "--import", "b.zip"],
     "error: --export and --import cannot be combined\n  hint: give one of them per command\n"),
    (["--worker-timeout", "inf"], "error: --worker-timeout must be a positive number of seconds, got inf\n"
                                  "  hint: use --worker-timeout 60, say\n"),
])
def test_a_bad_combination_or_value_is_refused_saying_what_and_how_to_fix_it(argv, message, capsys, tmp_path,
                                                                             no_build):
    assert main(PROJECT, [*argv, "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == message


def test_jobs_below_one_is_refused_with_the_value_given(capsys, tmp_path, no_build):
    assert main(PROJECT, ["--jobs", "0", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "error: --jobs must be at least 1, got 0\n  hint: use --jobs 1 or more\n"


@pytest.mark.parametrize("argv,message", [
    (["--run"], "error: --run retrains on change, which only --watch follows\n  hint: use --watch --run\n"),
    (["--watch", "--list"], "error: --watch cannot be combined with --list or --check\n"
                            "  hint: give one of them per command\n"),
    (["--watch", "--check"], "error: --watch cannot be combined with --list or --check\n"),
    (["--watch", "--port", "65536"], "error: argument --port: '65536' is not a port number (0 to 65535; 0 picks a "
                                     "free one)\n  hint: see `python build.py --help`\n"),
    (["--watch", "--port", "-1"], "error: argument --port: '-1' is not a port number"),
])
def test_watch_flags_out_of_place_are_refused_before_anything_runs(argv, message, capsys, tmp_path, no_build):
    assert main(PROJECT, [*argv, "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(message)


def test_watch_serves_on_the_port_given_retrains_when_asked_and_returns_the_watcher_s_exit_code(monkeypatch,
                                                                                               tmp_path):
    calls = []
    monkeypatch.setattr("report.cli.watch", lambda *args: calls.append(args) or 130)
    assert main(PROJECT, ["--watch", "--port", "8001", "--run", "--profile", "quick", "--out", str(tmp_path)]) == 130
    assert main(PROJECT, ["--watch", "--out", str(tmp_path)]) == 130
    (project, options, port, run, on_build), (_, _, default_port, no_run, _) = calls
    assert (project, options.profile, options.out, port, run, on_build) == (PROJECT, "quick", tmp_path, 8001, True,
                                                                           print_summary)
    assert (default_port, no_run) == (8765, False)


def test_the_highest_port_is_accepted_as_a_number():
    assert parser(PROJECT).parse_args(["--watch", "--port", "65535"]).port == 65535


def test_a_bad_flag_points_at_help(capsys, no_build):
    assert main(PROJECT, ["--frobnicate"]) == 2
    assert capsys.readouterr().err == ("error: unrecognized arguments: --frobnicate\n"
                                       "  hint: see `python build.py --help`\n")


# --- what main does with each mode, and the exit code it returns ---

def unit(section, seed, outcome, wall_time=0.0, error="", log_path=None, user_error=False):
    return SimpleNamespace(section=section, seed=seed, outcome=outcome, wall_time=wall_time, error=error,
                           log_path=log_path, user_error=user_error, label=f"{section}[seed={seed}]")


@pytest.fixture
def built(monkeypatch):
    """Replace the build with one returning the units given; records the options it was called with."""
    calls = []

    def use(*units):
        def fake_build(project, options):
            calls.append(options)
            return Summary(list(units), {"md": Path("/r/report.md"), "html": Path("/r/report.html")}, 3.21)
        monkeypatch.setattr("report.cli.build", fake_build)
        return calls
    return use


def test_the_summary_shows_each_unit_the_failures_with_their_logs_and_the_outputs(capsys):
    print_summary(Summary([
        unit("kmnist", 1, Outcome.CACHED, wall_time=9.0),
        unit("toy_mlp", 0, Outcome.RAN, wall_time=1.25),
        unit("dynamics", 0, Outcome.FAILED, error="ValueError: diverged", log_path=Path("/r/logs/dynamics-0.log")),
        unit("dynamics", 1, Outcome.FAILED, error="KeyError: 'x'"),
    ], {"md": Path("/r/report.md"), "html": Path("/r/report.html")}, 3.25))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "section      seed  result    wall time\n"
        "---------  ------  --------  -----------\n"
        "kmnist          1  cached\n"
        "toy_mlp         0  ran       1.2 s\n"
        "dynamics        0  failed\n"
        "dynamics        1  failed\n"
        "FAILED dynamics[seed=0]: ValueError: diverged (log: /r/logs/dynamics-0.log)\n"
        "FAILED dynamics[seed=1]: KeyError: 'x'\n"
        "wrote /r/report.md\n"
        "wrote /r/report.html\n"
        "build took 3.2 s\n")


def test_a_build_where_everything_built_exits_0_and_prints_its_summary(built, capsys, tmp_path):
    calls = built(unit("toy_mlp", 0, Outcome.RAN, wall_time=1.0))
    assert main(PROJECT, ["toy_mlp", "--out", str(tmp_path)]) == 0
    assert calls[0].sections == ["toy_mlp"] and calls[0].out == tmp_path
    assert capsys.readouterr().err.endswith("wrote /r/report.md\nwrote /r/report.html\nbuild took 3.2 s\n")


def test_a_failed_section_exits_1(built, tmp_path):
    built(unit("toy_mlp", 0, Outcome.RAN), unit("dynamics", 0, Outcome.FAILED, error="boom"))
    assert main(PROJECT, ["--out", str(tmp_path)]) == 1


def test_a_section_failing_on_bad_input_exits_2(built, tmp_path):
    built(unit("toy_mlp", 0, Outcome.FAILED, error="boom"),
          unit("kmnist", 1, Outcome.FAILED, error="DataError: no KMNIST files", user_error=True))
    assert main(PROJECT, ["--out", str(tmp_path)]) == 2


def test_ctrl_c_exits_130_saying_nothing_was_changed(monkeypatch, capsys, tmp_path):
    def interrupted(project, options):
        raise KeyboardInterrupt
    monkeypatch.setattr("report.cli.build", interrupted)
    assert main(PROJECT, ["--out", str(tmp_path)]) == 130
    assert capsys.readouterr().err == "interrupted: the stored results and the last report are unchanged\n"


def test_a_hangup_unwinds_like_ctrl_c_and_the_caller_s_handler_is_restored(monkeypatch, capsys, tmp_path):
    import signal

    monkeypatch.setattr("report.cli.build", lambda project, options: os.kill(os.getpid(), signal.SIGHUP))
    def callers(signum, frame):  # were main to leave SIGHUP alone, this, not the default, would get it
        raise RuntimeError("SIGHUP reached the caller's handler")
    previous = signal.signal(signal.SIGHUP, callers)
    try:
        assert main(PROJECT, ["--out", str(tmp_path)]) == 130
        assert signal.getsignal(signal.SIGHUP) is callers
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert capsys.readouterr().err == "interrupted: the stored results and the last report are unchanged\n"


@pytest.fixture
def checked(monkeypatch):
    calls = []

    def use(problems):
        monkeypatch.setattr("report.cli.check", lambda project, options: calls.append(options) or problems)
        return calls
    return use


def test_check_that_finds_nothing_exits_0_and_says_what_it_verified(checked, capsys, tmp_path):
    calls = checked([])
    assert main(PROJECT, ["--check", "--profile", "quick", "--out", str(tmp_path)]) == 0
    assert calls[0].profile == "quick" and calls[0].out == tmp_path
    assert capsys.readouterr().err == ("check passed: every number in the report equals its stored result, "
                                       "every claim and invariant holds\n")


def test_check_that_finds_problems_exits_1_listing_them(checked, capsys, tmp_path):
    checked(["report.html: 0.93 is not 0.94"])
    assert main(PROJECT, ["--check", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        "error: the report does not match its results (1 problem):\n  - report.html: 0.93 is not 0.94\n"
        "  hint: rebuild with `python build.py`, or rerun the named sections with --force\n")


def test_list_on_an_empty_output_folder_shows_every_section_missing(capsys, tmp_path):
    assert main(PROJECT, ["--list", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out == (
        "section      seed  state    why\n"
        "---------  ------  -------  ----------------\n"
        "kmnist          1  missing  no stored result\n"
        "toy_mlp         0  missing  no stored result\n"
        "dynamics        0  missing  no stored result\n")


def test_list_gives_every_reason_a_unit_is_stale_on_one_line(monkeypatch, capsys, tmp_path):
    stale = SimpleNamespace(section="toy_mlp", seed=0, freshness=Freshness.STALE,
                            reasons=["config hidden: 5 -> 3", "config lr: 0.01 -> 0.5"])
    monkeypatch.setattr("report.cli.plan_all", lambda project, options, out, sets, **_: ([stale], None))
    list_sections(PROJECT, Options(out=tmp_path))
    assert capsys.readouterr().out.splitlines()[2].endswith("  stale    config hidden: 5 -> 3; config lr: 0.01 -> 0.5")


@contextlib.contextmanager
def unconfigured_logging():
    """The root logger as a fresh `python build.py` process finds it: no handler, level WARNING."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers[:] = []
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_progress_messages_are_printed_as_bare_lines_on_stderr(capsys):
    with unconfigured_logging():
        main(PROJECT, ["--frobnicate"])
        capsys.readouterr()
        logging.getLogger("report.runner").info("running toy_mlp[seed=0]")
    assert capsys.readouterr().err == "running toy_mlp[seed=0]\n"


def test_matplotlib_draws_off_screen_unless_the_user_chose_a_backend(monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)
    main(PROJECT, ["--frobnicate"])
    assert os.environ["MPLBACKEND"] == "Agg"
    monkeypatch.setenv("MPLBACKEND", "pdf")
    main(PROJECT, ["--frobnicate"])
    assert os.environ["MPLBACKEND"] == "pdf"


def test_list_and_the_summary_name_each_state_a_unit_can_be_in(tiny, capsys):
    (tiny.templates / "again.qmd.j2").write_text("# Again\n")
    project = dataclasses.replace(tiny, sections={**tiny.sections, "again": "tiny_sections.counting"})
    out = ["--profile", "quick", "--to", "md", "--quiet", "--out", str(tiny.root / "_build")]
    rows = {}
    for argv in (["again"], ["--list"], ["--list", "--set", "again.upto=4"], [], ["--force"]):
        capsys.readouterr()
        main(project, [*argv, *out])
        captured = capsys.readouterr()
        rows[" ".join(argv)] = [line.split()[2:4] for line in (captured.out or captured.err).splitlines()[2:4]]
    assert rows == {"again": [["not", "built"], ["ran", "0.0"]], "--list": [["missing", "no"], ["fresh"]],
                    "--list --set again.upto=4": [["missing", "no"], ["stale", "config"]],
                    "": [["ran", "0.0"], ["cached"]], "--force": [["ran", "0.0"], ["ran", "0.0"]]}
    record = tiny.root / "_build" / "results" / "quick" / "again" / "seed-0.json"
    record.write_text("")
    main(project, ["--list", *out])
    assert capsys.readouterr().out.splitlines()[3].split()[:3] == ["again", "0", "corrupt"]


def test_a_reader_that_stops_early_is_no_error_and_the_exit_s_flush_is_quiet(monkeypatch):
    read, write = os.pipe()
    os.close(read)  # `python build.py --diff | head` after head has its lines
    stream = open(write, "w")
    monkeypatch.setattr(sys, "stdout", stream)
    try:
        _print_out("counting: 1 changed")
        stream.flush()  # what the interpreter does as it exits
        assert os.path.samestat(os.fstat(write), os.stat(os.devnull))
    finally:
        stream.close()


def test_a_verify_prints_its_notes_and_summary_and_exits_by_what_failed(capsys, tmp_path):
    passed = Verified(rows=[], rules={}, notes=["counting[seed=0]: stored on vm"], recorded=tmp_path / "v.json")
    assert print_verification(passed) == 0
    assert capsys.readouterr() == ("0 numbers compared: 0 equal, 0 within tolerance, 0 beyond\n",
                                   "counting[seed=0]: stored on vm\n"
                                   f"recorded in {tmp_path / 'v.json'}; the next `python build.py` shows it in the "
                                   "report's appendix\n")
    crashed = unit("counting", 0, Outcome.FAILED, error="ZeroDivisionError: division by zero")
    no_data = unit("kmnist", 1, Outcome.FAILED, error="DataError: no KMNIST files", user_error=True)
    assert print_verification(Verified(rows=[], rules={}, failed=[crashed])) == 1
    assert print_verification(Verified(rows=[], rules={}, failed=[crashed, no_data])) == 2
    assert capsys.readouterr().err.splitlines() == ["FAILED counting[seed=0]: ZeroDivisionError: division by zero",
                                                    "FAILED counting[seed=0]: ZeroDivisionError: division by zero",
                                                    "FAILED kmnist[seed=1]: DataError: no KMNIST files"]
