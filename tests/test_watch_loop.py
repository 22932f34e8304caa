"""``--watch`` in-process: the command from first build to Ctrl-C, the loop over file events,
and what each batch of events does; watchfiles is replaced by a script of events."""
import html
import logging
import re
import signal
import sys
import threading
import time
import urllib.request

import pytest
from test_watch import STALE_LISTING, edit, shown, shown_text, start_watcher, tiny_options, wait_until
from watchfiles import Change as Event

from report.errors import UsageError
from report.pipeline import build
from report.preview import STYLE
from report.watch import CSS_URL, Retraining, build_script, watch


class Events:
    """Stands in for the ``watchfiles`` module: each ``watch(...)`` call is recorded and runs the
    next script, a generator function of the call that yields batches (Ctrl-C when none is left)."""

    def __init__(self, *scripts):
        self.scripts, self.calls = list(scripts), []

    def watch(self, *folders, **options):
        self.calls.append((set(folders), options))
        if not self.scripts:
            raise KeyboardInterrupt
        return self.scripts.pop(0)(options)


@pytest.fixture
def events(monkeypatch):
    def script(*scripts) -> Events:
        fake = Events(*scripts)
        monkeypatch.setattr("report.watch.watchfiles", fake)
        return fake
    monkeypatch.setattr("report.watch.WRITER_PAUSE_S", 60)  # the report files are never written during a test
    return script


@pytest.fixture
def logged(caplog):
    caplog.set_level(logging.INFO, logger="report")
    return lambda: [record.getMessage() for record in caplog.records if record.module == "watch"]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as reply:
        return reply.read().decode()


def words(page: str) -> str:
    """The words of a page, without its markup."""
    return " ".join(re.sub(r"<[^>]+>", "", page).split())


def served(project) -> str:
    """The address the running watcher recorded in the folder's ``.watch`` file."""
    return (project.root / "_build" / ".watch").read_text()


# --- the command, from the first build to Ctrl-C ---

def test_watch_builds_serves_the_page_and_its_style_and_on_ctrl_c_says_the_files_show_the_last_edit(
        tiny, events, logged, monkeypatch):
    monkeypatch.setattr(logging.getLogger("watchfiles"), "level", logging.NOTSET)
    pages = []

    def look(options):
        url = served(tiny)
        pages.append((url, words(fetch(url)), fetch(url.rstrip("/") + CSS_URL)))
        yield from ()

    events(look)
    summaries = []
    options = tiny_options(tiny, sets=["counting.upto=4"])
    assert watch(tiny, options, port=0, retrain=False, announce=summaries.append) == 0
    ((url, page, style),) = pages
    assert "Counting to 4 gives" in page and style == STYLE.read_text()  # the --set value, from the build it ran first
    assert list(summaries[0].outputs) == ["html"]  # what the closing table of a build reads
    assert [message for message in logged() if "page updated" not in message] == [f"serving the report on {url}; watching templates and the sections' sources (Ctrl-C stops)",
                        "stopping", f"stopped; the files in {tiny.root / '_build'} are whole and show the last edit"]
    assert logging.getLogger("watchfiles").level == logging.WARNING  # its "1 change detected" says less than ours


def test_watch_stopped_before_writing_an_edit_says_a_build_brings_the_files_up_to_date(tiny, events, logged):
    def save_a_template(options):
        edit(tiny.templates / "counting.qmd.j2", "that add up", "that, edited, add up")
        yield {(Event.modified, str(tiny.templates / "counting.qmd.j2"))}

    events(save_a_template)
    watch(tiny, tiny_options(tiny), port=0, retrain=False, announce=lambda summary: None)
    assert logged()[-1] == (f"stopped; the files in {tiny.root / '_build'} are whole; `python build.py` brings them "
                            "up to date with the last edit")


def test_a_first_build_that_fails_is_logged_and_its_error_served(tiny, events, logged):
    edit(tiny.templates / "counting.qmd.j2", "that add up", "that add up {{ nosuch }}")
    pages = []

    def look(options):
        pages.append(words(fetch(served(tiny))))
        yield from ()

    events(look)
    summaries = []
    assert watch(tiny, tiny_options(tiny), port=0, retrain=False, announce=summaries.append) == 0
    assert not summaries and logged()[0].startswith("error: counting.qmd.j2:4: undefined value: 'nosuch' is undefined")
    assert "The report could not be rendered" in pages[0]


def test_watch_with_run_retrains_with_its_own_options_after_a_source_change(tiny, events, logged, monkeypatch):
    script = tiny.root / "build.py"
    script.write_text("import pathlib, sys; pathlib.Path(sys.argv[0]).with_suffix('.args').write_text("
                      "'\\n'.join(sys.argv[1:]))\n")
    monkeypatch.setattr(sys, "argv", [str(script), "--watch", "--run"])
    arguments = script.with_suffix(".args")

    def change_the_code(options):
        edit(tiny.root / "tiny_sections" / "counting.py", 'QUICK = {"upto": 3}', 'QUICK = {"upto": 4}')
        yield {(Event.modified, str(tiny.root / "tiny_sections" / "counting.py"))}
        deadline = time.monotonic() + 30
        while not arguments.exists() and time.monotonic() < deadline:  # a quiet tick until the build ran
            time.sleep(0.01)
            yield set()

    events(change_the_code)
    watch(tiny, tiny_options(tiny, out=tiny.root / "_build"), port=0, retrain=True, announce=lambda summary: None)
    assert [message for message in logged() if message.startswith("serving")][0].endswith(
        "watching templates and the sections' sources; retraining on change (Ctrl-C stops)")
    assert arguments.read_text().split("\n") == ["--profile", "quick", "--out", str(tiny.root / "_build"),
                                                 "--to", "html", "--engine", "auto", "--device", "auto", "--quiet"]


# --- which script --run starts ---

@pytest.mark.parametrize("argv", [[], [""], ["absent.py"], ["notes.txt"]])
def test_run_refuses_when_the_process_was_not_started_as_a_python_script(tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("")
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(UsageError) as refused:
        build_script()
    assert str(refused.value) == ("--run starts the build script again, but this process was not started as "
                                  "`python SCRIPT.py`\n  hint: run `python build.py --watch --run`")


def test_run_starts_the_script_this_process_runs_by_its_full_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "build.py").write_text("")
    monkeypatch.setattr(sys, "argv", ["build.py", "--watch", "--run"])
    assert build_script() == tmp_path / "build.py"


# --- the loop over file events ---

def start(project, built=True, command=None):
    return start_watcher(project, built, command, write=False)


@pytest.fixture
def running(tiny, monkeypatch):
    monkeypatch.setattr("report.watch.WRITER_PAUSE_S", 60)
    watchers = []

    def make(**kwargs):
        watchers.append(start(tiny, **kwargs))
        return watchers[-1]
    yield make
    for watcher in watchers:
        watcher.close()
        watcher.server.close()


def test_the_loop_watches_the_folders_of_the_report_and_watches_anew_when_a_plan_adds_one(tiny, running, events):
    watcher = running(built=False)
    results = (tiny.root / "_build" / "results" / "quick").resolve()

    def store_gets_a_result(options):
        yield set()  # a quiet tick: the same folders
        build(tiny, tiny_options(tiny))
        yield {(Event.added, str(results / "counting" / "seed-0.json"))}
        pytest.fail("the loop went on watching the old folders")

    fake = events(store_gets_a_result)
    with pytest.raises(KeyboardInterrupt):
        watcher.follow()
    assert [folders for folders, _ in fake.calls] == [{tiny.templates, tiny.root / "tiny_sections"},
                                                      {tiny.templates, tiny.root / "tiny_sections", results}]
    options = fake.calls[0][1]
    assert (options["step"], options["rust_timeout"], options["yield_on_timeout"]) == (20, 250, True)
    relevant = options["watch_filter"]
    assert relevant(Event.modified, str(tiny.templates / "counting.qmd.j2"))
    assert not relevant(Event.modified, str(tiny.templates / "notes.txt"))
    assert "Counting to" in shown(watcher)


def test_a_batch_of_edits_is_logged_by_their_paths_in_order_and_shown(tiny, running, logged):
    watcher = running()
    edit(tiny.templates / "counting.qmd.j2", "that add up", "that, as edited, add up")
    edit(tiny.templates / "numbers.qmd.j2", "# Every number", "# Each number")
    watcher.handle({(Event.modified, str(tiny.templates / name)) for name in ("numbers.qmd.j2", "counting.qmd.j2",
                                                                             "notes.txt")})
    assert "as edited" in shown(watcher)
    assert logged()[-2] == "templates/counting.qmd.j2, templates/notes.txt, templates/numbers.qmd.j2 changed"


def test_a_batch_of_files_the_report_does_not_read_changes_nothing(tiny, running, logged):
    watcher = running()
    before, messages = watcher.server.broadcast.version, logged()
    edit(tiny.templates / "counting.qmd.j2", "that add up", "that, as edited, add up")
    watcher.handle({(Event.modified, str(tiny.templates / "notes.txt"))})
    assert watcher.server.broadcast.version == before and logged() == messages


def test_a_template_change_shows_the_edit_and_starts_no_retraining(tiny, running):
    watcher = running(command=[sys.executable, "-c", "pass"])
    edit(tiny.templates / "counting.qmd.j2", "that add up", "that, as edited, add up")
    watcher.handle({(Event.modified, str(tiny.templates / "counting.qmd.j2"))})
    assert "as edited" in shown(watcher) and watcher.retraining.process is None


def test_a_code_change_logs_why_the_section_is_stale_and_how_to_retrain_it(tiny, running, logged):
    watcher = running()
    edit(tiny.root / "tiny_sections" / "counting.py", 'QUICK = {"upto": 3}', 'QUICK = {"upto": 4}')
    watcher.handle({(Event.modified, str(tiny.root / "tiny_sections" / "counting.py"))})
    assert ("counting[seed=0] is stale: source tiny_sections/counting.py changed; config upto: 3 -> 4 (the page says "
            "so; `--watch --run` retrains on change)") in logged()


def test_a_code_change_shows_the_section_stale_retrains_and_shows_the_new_result_once_retrained(
        tiny, running, logged):
    edit(tiny.templates / "report.qmd.j2", "{% for s in prov.sections %}", STALE_LISTING + "{% for s in prov.sections %}")
    watcher = running(command=[sys.executable, "-c", "pass"])
    edit(tiny.root / "tiny_sections" / "counting.py", 'QUICK = {"upto": 3}', 'QUICK = {"upto": 4}')
    watcher.handle({(Event.modified, str(tiny.root / "tiny_sections" / "counting.py"))})
    assert f"Stale: {html.escape('config upto: 3 -> 4')}" in shown_text(watcher) and watcher.retraining.process is not None
    assert ("counting[seed=0] is stale: source tiny_sections/counting.py changed; config upto: 3 -> 4"
            in logged())  # no advice: it is retraining
    build(tiny, tiny_options(tiny))  # what the retraining build does
    watcher.retraining.process.wait()
    watcher.handle(set())  # the next quiet tick
    assert "Stale" not in shown_text(watcher) and "Counting to 4" in shown_text(watcher)
    assert watcher.retraining.process is None


# --- the --run build ---

class Clock:
    """``time`` for report.watch's Retraining: ``perf_counter`` reads ``now``, which a test moves."""

    def __init__(self, now: float = 100.0):
        self.now = now

    def perf_counter(self) -> float:
        return self.now


def relays() -> list:
    return [thread for thread in threading.enumerate() if thread.name == "retraining-output"]


@pytest.fixture
def retraining(monkeypatch):
    """A Retraining of a Python one-liner, on a clock the test moves; its statuses in ``.statuses``."""
    clock, made = Clock(), []
    monkeypatch.setattr("report.watch.time", clock)

    def make(code: str) -> Retraining:
        statuses = []
        made.append(Retraining([sys.executable, "-c", code], statuses.append))
        made[-1].statuses, made[-1].clock = statuses, clock
        return made[-1]
    yield make
    for run in made:
        if run.process is not None:
            run.process.kill()
            run.process.wait()


def test_a_retraining_starts_only_when_wanted_and_says_so(retraining, logged):
    run = retraining("pass")
    assert run.tick() is None and run.process is None and run.statuses == []
    run.want()
    assert run.tick() is None and run.process is not None
    assert run.statuses == ["Retraining…"] and logged() == ["retraining: -c pass"]


def test_a_change_while_a_retraining_runs_starts_one_more_once_it_ends_not_two_at_once(retraining):
    run = retraining("import time; time.sleep(0.5)")
    run.want()
    run.tick()
    first = run.process
    run.want()
    assert run.tick() is None and run.process is first  # one at a time
    first.wait()
    assert run.tick() == 0 and run.process is not first and run.process is not None
    second = run.process
    second.wait()
    assert run.tick() == 0 and run.process is None  # no change meanwhile: no third run


def test_a_retraining_that_succeeds_clears_the_status_and_logs_its_time(retraining, logged):
    run = retraining("pass")
    run.want()
    run.tick()
    run.clock.now += 2.5
    run.process.wait()
    assert run.tick() == 0 and run.statuses[-1] == "" and logged()[-1] == "retraining finished in 2.5 s"


def test_a_retraining_that_fails_says_its_exit_code_on_the_page_and_in_the_log(retraining, logged):
    run = retraining("raise SystemExit(3)")
    run.want()
    run.tick()
    run.clock.now += 1.25
    run.process.wait()
    assert run.tick() == 3 and run.statuses[-1] == "Retraining failed (exit code 3); see the terminal."
    assert logged()[-1] == "retraining failed (exit code 3) after 1.2 s; the page shows what the store holds"


def test_the_last_line_a_retraining_writes_to_either_stream_reaches_the_page_undecodable_bytes_replaced(
        retraining, capfd):
    run = retraining("import sys; sys.stdout.buffer.write(b'loading caf\\xe9\\n'); sys.stdout.flush(); "
                     "sys.stderr.write('epoch 1 of 2\\r'); sys.stderr.flush()")
    run.want()
    run.tick()
    run.clock.now += 7
    run.process.wait()
    wait_until(lambda: not relays(), timeout=10)  # the relay ends with the build's output
    assert run.statuses[-1] == "Retraining (7 s): epoch 1 of 2"
    assert "loading caf\ufffd\nepoch 1 of 2\r" in capfd.readouterr().err


def test_the_relay_of_a_running_retraining_never_holds_the_watcher_open(retraining):
    run = retraining("import time; time.sleep(0.5)")
    run.want()
    run.tick()
    assert [thread.daemon for thread in relays()] == [True]
    run.process.wait()
    wait_until(lambda: not relays(), timeout=10)


def test_stopping_ends_a_running_retraining_as_ctrl_c_would_and_waits_for_it(retraining):
    retraining("pass").stop()  # none started: nothing to stop
    run = retraining("import time; time.sleep(30)")
    run.want()
    run.tick()
    run.stop()
    assert run.process.returncode == -signal.SIGTERM


def test_a_save_that_changes_nothing_the_report_says_reloads_no_page(tiny, running, logged):
    watcher = running()
    before = watcher.server.broadcast.version
    template = tiny.templates / "counting.qmd.j2"
    template.write_text(template.read_text())
    watcher.handle({(Event.modified, str(template))})
    assert watcher.server.broadcast.version == before and logged()[-1] == "templates/counting.qmd.j2 changed"
