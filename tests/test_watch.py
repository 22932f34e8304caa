"""``--watch``: what each kind of change shows, errors that go to the page and away again,
and the report files on disk left clean and whole. The browser itself: test_watch_browser.py."""
import dataclasses
import html
import importlib
import py_compile
import re
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import PROJECT, run_build, watching

from report.backends.pandoc import PandocBackend
from report.cli import options_from, parser
from report.errors import UsageError
from report.pipeline import Options, build, check_out_dir, plan_all
from report.preview import PreviewHtml
from report.serve import PreviewServer
from report.watch import (CSS_URL, Change, ReportWriter, Retraining, Watcher, WatchedFiles, claim, describe,
                          forget_modules, run_command, write_report)

STALE_LISTING = "{% for s in prov.sections %}{% for reason in s.stale %}Stale: {{ reason | text }}\n{% endfor %}{% endfor %}\n"


def tiny_options(project, **changes) -> Options:
    return Options(**{"profile": "quick", "out": project.root / "_build", "to": ["html"], "show_progress": False,
                      **changes})


def start_watcher(project, built: bool = True, command=None, write: bool = True):
    """A watcher of ``project`` (built first, unless not ``built``) serving on a free port, as --watch starts it
    (retraining with ``command`` when given; ``write=False`` leaves the report files unwritten)."""
    options = tiny_options(project)
    if built:
        build(project, options)
    paths = check_out_dir(project, options.out)
    server = PreviewServer.start(paths.root, port=0)
    watcher = Watcher(project, options, paths, {}, server, PreviewHtml(PandocBackend.find().pandoc, CSS_URL), command)
    watcher.refresh({Change.RESULTS}, write=write)
    return watcher


@pytest.fixture
def watcher(tiny):
    running = start_watcher(tiny)
    yield running
    running.close()
    running.server.close()


def shown(watcher) -> str:
    """The page served, its lines joined (pandoc wraps long ones)."""
    return " ".join(watcher.server.page()[0].split())


def shown_text(watcher) -> str:
    """The words of the page served, without its markup."""
    return " ".join(re.sub(r"<[^>]+>", "", watcher.server.page()[0]).split())


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


# --- what each change shows ---

def test_the_page_shows_the_report_with_its_numbers_and_links_the_style_sheet(watcher):
    assert "Counting to" in shown(watcher) and ">3</span> gives" in shown(watcher)
    assert f'href="{CSS_URL}"' in shown(watcher)


def test_a_template_edit_shows_the_new_sentence_without_planning_again(watcher, tiny, monkeypatch):
    monkeypatch.setattr("report.watch.plan_all", lambda *args, **kwargs: pytest.fail("planned again"))
    before = watcher.server.broadcast.version
    edit(tiny.templates / "counting.qmd.j2", "that add up", "that, as a new sentence says, add up")
    watcher.refresh({Change.TEMPLATE})
    assert "as a new sentence says" in shown(watcher) and watcher.server.broadcast.version != before


def test_a_change_to_a_section_s_config_shows_it_stale_in_the_words_of_list(watcher, tiny):
    edit(tiny.templates / "report.qmd.j2", "{% for s in prov.sections %}", STALE_LISTING + "{% for s in prov.sections %}")
    edit(tiny.root / "tiny_sections" / "counting.py", 'QUICK = {"upto": 3}', 'QUICK = {"upto": 4}')  # same size
    watcher.refresh({Change.SOURCE})
    units, _ = plan_all(tiny, tiny_options(tiny), watcher.paths, {}, remember=False)  # what --list says
    assert units[0].reasons == ("source tiny_sections/counting.py changed", "config upto: 3 -> 4")
    for reason in units[0].reasons:  # the config read anew, not the one imported before
        assert f"Stale: {html.escape(reason)}" in shown_text(watcher)


def test_a_result_new_in_the_store_is_shown(tiny):
    watcher = start_watcher(tiny, built=False)
    try:
        assert "Missing: it has not been built yet" in shown_text(watcher)
        build(tiny, tiny_options(tiny))  # as the --run build or one in another terminal would
        watcher.refresh({Change.RESULTS})
        assert "Counting to" in shown(watcher)
    finally:
        watcher.close()
        watcher.server.close()


# --- errors go to the page, and away again ---

@pytest.mark.parametrize("broken,message", [
    ("{% if %}", r"template syntax error in counting.qmd.j2, line 6: Expected an expression"),
    ("{{ r.counting.nosuch | int }}", r"counting.qmd.j2:6: undefined value: .* has no attribute 'nosuch'"),
    ("It took 42 seconds.", r"number '42' is typed into counting.qmd.j2:6, not taken from results"),
    ('{{ r.counting.total + "x" }}', r"counting.qmd.j2:6: TypeError: unsupported operand"),
])
def test_a_broken_template_shows_its_line_on_the_page_and_the_fix_brings_the_report_back(
        watcher, tiny, broken, message):
    template = tiny.templates / "counting.qmd.j2"
    good, report = template.read_text(), (tiny.root / "_build" / "report.html").read_text()
    template.write_text(good + "\n" + broken + "\n")  # line 6
    watcher.refresh({Change.TEMPLATE})
    page = shown(watcher)
    assert "The report could not be rendered" in page and re.search(message, page.replace("&#x27;", "'"))
    assert "<h2>templates/counting.qmd.j2, line 6</h2>" in page
    assert f'<span class="at"> 6 {html.escape(broken)}</span>' in page
    template.write_text(good)
    watcher.refresh({Change.TEMPLATE})
    assert "Counting to" in shown(watcher)
    assert (tiny.root / "_build" / "report.html").read_text() == report  # the page, not the file


def test_a_section_that_no_longer_imports_shows_its_file_and_line_and_planning_is_tried_again(watcher, tiny):
    source = tiny.root / "tiny_sections" / "counting.py"
    good = source.read_text()
    source.write_text(good.replace("def run(config, ctx):", "def run(config, ctx)"))
    watcher.refresh({Change.SOURCE})
    line = good.splitlines().index("def run(config, ctx):") + 1
    assert f"tiny_sections/counting.py, line {line}: expected &#x27;:&#x27;" in shown(watcher)
    assert f'<span class="at"> {line} def run(config, ctx)</span>' in shown(watcher)
    source.write_text(good)
    watcher.refresh({Change.TEMPLATE})  # the failed plan is not kept: any change plans again
    assert "Counting to" in shown(watcher)


def test_an_error_outside_templates_is_named_by_its_innermost_frame(tmp_path):
    def fail():
        raise ValueError("no good")
    try:
        fail()
    except ValueError as exc:
        message, hint = describe(exc, Path(__file__).parent)
    assert re.fullmatch(r"test_watch.py:\d+: ValueError: no good", message) and hint


# --- which files are watched, and what they are ---

def test_files_are_sorted_into_templates_sources_inputs_and_results(tiny, tmp_path):
    build(tiny, tiny_options(tiny))
    units, store = plan_all(tiny, tiny_options(tiny), check_out_dir(tiny, tiny.root / "_build"), {})
    files = dataclasses.replace(WatchedFiles.of(tiny, units, store.root),
                                inputs=frozenset({tmp_path / "data.gz", tmp_path / "absent" / "more.gz"}))
    results = store.root.resolve()
    kinds = {path: files.kind(path) for path in [
        tiny.templates / "counting.qmd.j2", tiny.templates / ".counting.qmd.j2.swp", tiny.templates / "notes.txt",
        tiny.root / "tiny_sections" / "counting.py", tiny.root / "tiny_sections" / "unused.py", tmp_path / "data.gz",
        results / "counting" / "seed-0.json", results / "counting" / "seed-0.failed",
        results / "counting" / ".staging-1" / "seed-0.json", tiny.root / "_build" / "report.html"]}
    assert list(kinds.values()) == [Change.TEMPLATE, None, None, Change.SOURCE, None, Change.INPUT,
                                    Change.RESULTS, Change.RESULTS, None, None]
    assert files.folders() == {tiny.templates, results, tiny.root / "tiny_sections", tmp_path}  # not tmp_path/absent


def test_forgetting_a_section_s_modules_drops_them_and_their_bytecode(tiny):
    module = importlib.import_module("tiny_sections.counting")
    file = Path(module.__file__).resolve()
    bytecode = Path(py_compile.compile(str(file)))  # as an import writes it where PYTHONDONTWRITEBYTECODE is unset
    forget_modules(frozenset({file}))
    assert "tiny_sections.counting" not in sys.modules and not bytecode.exists()
    assert "tiny_sections" in sys.modules  # a package whose file did not change stays


# --- the report files, the --run build, the folder's one watcher ---

def test_the_report_files_are_written_as_a_build_writes_them_with_no_reload_script(tiny):
    build(tiny, tiny_options(tiny))
    edit(tiny.templates / "counting.qmd.j2", "that add up", "that, written later, add up")
    assert write_report(tiny, tiny_options(tiny), {}) == (["report.html"], "")
    written = " ".join((tiny.root / "_build" / "report.html").read_text().split())
    assert "written later" in written and "EventSource" not in written and "data-version" not in written
    edit(tiny.templates / "counting.qmd.j2", "written later", "{{ nosuch }}")
    written, problem = write_report(tiny, tiny_options(tiny), {})
    assert not written and problem.startswith("counting.qmd.j2:4: undefined value: 'nosuch' is undefined\n  hint: ")
    assert "written later" in " ".join((tiny.root / "_build" / "report.html").read_text().split())


def test_the_report_writer_writes_in_a_fresh_process_after_a_pause(tiny):
    build(tiny, tiny_options(tiny))
    edit(tiny.templates / "counting.qmd.j2", "that add up", "that, written in the background, add up")
    statuses = []
    writer = ReportWriter(tiny, tiny_options(tiny), {}, statuses.append)
    try:
        writer.request()
        deadline = time.monotonic() + 60
        while "in the background" not in " ".join((tiny.root / "_build" / "report.html").read_text().split()):
            assert time.monotonic() < deadline, statuses
            time.sleep(0.2)
    finally:
        writer.close()
    assert statuses[-1:] == [""] and not writer.behind


def test_a_retraining_build_runs_one_at_a_time_and_its_last_line_reaches_the_page(capfd):
    statuses = []
    retraining = Retraining([sys.executable, "-c", "import sys; print('running toy_mlp'); sys.exit(3)"],
                            statuses.append)
    retraining.want()
    assert retraining.tick() is None and retraining.process is not None
    retraining.want()  # a change while it runs: one more run once it ends
    retraining.process.wait()
    wait_until(lambda: "Retraining (0 s): running toy_mlp" in statuses, timeout=10)  # its output relayed
    assert retraining.tick() == 3 and retraining.process is not None
    retraining.stop()
    assert "Retraining failed (exit code 3); see the terminal." in statuses
    assert "running toy_mlp" in capfd.readouterr().err


def test_the_run_build_has_every_option_of_the_watcher_but_force():
    options = Options(sections=["toy_mlp"], profile="quick", force=True, sets=["toy_mlp.lr=0.02"], to=["html", "pdf"],
                      out=Path("/o"), engine="pandoc", jobs=2, scheduler="tcp://h:1", worker_timeout=5.0, device="cpu",
                      draft=True, show_progress=False)
    command = run_command(Path("/p/build.py"), options)
    assert command[:2] == [sys.executable, "/p/build.py"]
    assert options_from(parser(PROJECT).parse_args(command[2:])) == dataclasses.replace(options, force=False)
    assert {f.name for f in dataclasses.fields(Options)} == {  # a new option: make run_command pass it on
        "sections", "profile", "force", "sets", "to", "out", "engine", "jobs", "scheduler", "worker_timeout", "device",
        "draft", "show_progress"}


def test_a_second_watch_on_a_folder_is_told_where_the_first_one_serves(tmp_path):
    paths = check_out_dir(PROJECT, tmp_path / "out")
    with claim(paths) as record_address:
        record_address("http://127.0.0.1:8765/")
        with pytest.raises(UsageError, match=r"another `--watch` already serves .*/out at http://127.0.0.1:8765/"):
            with claim(paths):
                pass
    with claim(paths):
        pass  # free again


# --- the real command, end to end ---

def get(url: str) -> str:
    """The page served, its lines joined (pandoc wraps long ones)."""
    with urllib.request.urlopen(url, timeout=30) as reply:
        return " ".join(reply.read().decode().split())


def wait_until(condition, timeout: float = 60, lines=()) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "".join(lines)
        time.sleep(0.1)


@pytest.mark.e2e
def test_watch_serves_the_report_follows_an_edit_and_ctrl_c_leaves_the_files_whole_and_clean(project_with_toy):
    template = project_with_toy / "templates" / "toy_mlp.qmd.j2"
    report = project_with_toy / "_build" / "report.html"
    with watching(project_with_toy, "toy_mlp", "--profile", "quick", "--to", "html") as (url, lines):
        assert "A toy MLP task" in get(url) and "new EventSource" in get(url)
        second = run_build(project_with_toy, "--watch", "--profile", "quick")
        assert second.returncode == 2 and f"already serves {project_with_toy / '_build'} at {url}" in second.stderr
        template.write_text(template.read_text() + "\nA sentence written while watching.\n")
        wait_until(lambda: "written while watching" in get(url), lines=lines)
        wait_until(lambda: "wrote report.html" in "".join(lines), lines=lines)
        assert "written while watching" in " ".join(report.read_text().split())
    assert "stopped; the files in" in "".join(lines) and "are whole and show the last edit" in "".join(lines)
    assert "EventSource" not in report.read_text() and report.read_text().rstrip().endswith("</html>")
    assert (project_with_toy / "_build" / ".watch").exists()


@pytest.mark.e2e
def test_a_config_change_shows_the_stale_banner_in_the_words_of_list_and_run_retrains(project_with_toy):
    config = project_with_toy / "experiments" / "toy_mlp" / "__init__.py"
    with watching(project_with_toy, "toy_mlp", "--profile", "quick", "--to", "html", "--run", "--quiet") as (url, lines):
        edit(config, "lr: float = 0.01", "lr: float = 0.02")
        wait_until(lambda: "config lr: 0.01 -&gt; 0.02" in get(url), lines=lines)
        assert "Stale results" in get(url)
        wait_until(lambda: "retraining finished" in "".join(lines), timeout=120, lines=lines)
        wait_until(lambda: "Stale results" not in get(url), lines=lines)
    listing = run_build(project_with_toy, "--list", "--profile", "quick").stdout
    assert re.search(r"toy_mlp\s+0\s+fresh", listing), listing
