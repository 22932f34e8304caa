"""What ``--watch`` says about an error (the message naming file and line, the hint, the lines
around it) and how it writes the report files in the background, driven without a real process pool."""
import concurrent.futures
import logging
import os
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from report.errors import UsageError
from report.project import Project
from report.watch import ReportWriter, describe, excerpts


def raised(function):
    try:
        function()
    except Exception as exc:  # noqa: BLE001 - the test wants whatever it raised
        return exc
    raise AssertionError("it did not raise")


# --- the message and hint of an error ---

def test_an_engine_error_is_described_by_its_own_message_and_hint(tmp_path):
    assert describe(UsageError("no such section", "see --list"), tmp_path) == ("no such section", "see --list")


def test_code_that_does_not_parse_is_named_by_its_path_in_the_project_and_its_line(tmp_path):
    exc = raised(lambda: compile("x = 1\ndef f(:\n", str(tmp_path / "sections" / "a.py"), "exec"))
    assert describe(exc, tmp_path) == ("sections/a.py, line 2: invalid syntax",
                                       "fix the code at that line; the page comes back when it imports")


@pytest.mark.parametrize("filename,shown", [
    ("/elsewhere/lib.py", "/elsewhere/lib.py"),  # outside the project: as it is
    ("lib.py", "lib.py"),  # a relative name: as it is
    ("/any/where/templates/t.qmd.j2", "t.qmd.j2"),  # a template: by its name, as the engine names it
    ("", "a file"),  # no name at all
])
def test_a_file_outside_the_project_is_named_in_full_and_a_template_by_its_name(tmp_path, filename, shown):
    exc = raised(lambda: compile("def f(:\n", filename, "exec"))
    assert describe(exc, tmp_path)[0] == f"{shown}, line 1: invalid syntax"


def test_an_error_in_a_template_is_named_by_the_template_frame_not_the_innermost_one(tmp_path):
    template = tmp_path / "templates" / "t.qmd.j2"
    code = compile("\n\nhelper()\n", str(template), "exec")  # as jinja compiles a template: its lines, its name

    def helper():
        raise KeyError("total")
    exc = raised(lambda: exec(code, {"helper": helper}))
    assert describe(exc, tmp_path) == ("t.qmd.j2:3: KeyError: 'total'", "fix the template or code at that line")


# --- the lines around the place named ---

@pytest.fixture
def project(tmp_path) -> Project:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.qmd.j2").write_text("".join(f"line {n}\n" for n in range(1, 21)))
    (tmp_path / "code.py").write_text("a = 1\nb = 2\n")
    return Project(root=tmp_path, sections={}, templates=tmp_path / "templates")


@pytest.mark.parametrize("line,numbers", [(10, range(7, 14)), (2, range(1, 6)), (4, range(1, 8)),
                                          (18, range(15, 21)), (17, range(14, 21))])
def test_an_excerpt_is_three_lines_either_side_within_the_file(project, line, numbers):
    (excerpt,) = excerpts(f"t.qmd.j2:{line}: undefined value", project)
    assert (excerpt.file, excerpt.line) == ("templates/t.qmd.j2", line)
    assert excerpt.lines == [(n, f"line {n}") for n in numbers]


def test_each_place_named_gets_one_excerpt_in_order_and_unreadable_ones_none(project):
    message = "code.py, line 2: invalid syntax; t.qmd.j2:5: x; code.py, line 2 again; gone.py, line 1: y"
    found = excerpts(message, project)
    assert [(e.file, e.line) for e in found] == [("code.py", 2), ("templates/t.qmd.j2", 5)]
    assert found[0].lines == [(1, "a = 1"), (2, "b = 2")]


# --- the report files, written in the background ---

class Pool:
    """Stands in for ProcessPoolExecutor: records how it was made and runs the work here, or breaks."""

    made = []
    broken = False

    def __init__(self, workers, mp_context, initializer, initargs):
        Pool.made.append((workers, mp_context.get_start_method(), initializer, initargs))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, function, *args):
        future = concurrent.futures.Future()
        if Pool.broken:
            future.set_exception(BrokenProcessPool("interrupted"))
        else:
            future.set_result(function(*args))
        return future


@pytest.fixture
def writer(monkeypatch, caplog):
    """A ReportWriter whose pool is ``Pool`` and whose work is ``result`` (set by the test); no pause."""
    caplog.set_level(logging.INFO, logger="report")
    monkeypatch.setattr("report.watch.WRITER_PAUSE_S", 0)
    monkeypatch.setattr("report.watch.ProcessPoolExecutor", Pool)
    Pool.made, Pool.broken = [], False
    outcome = {"result": (["report.html"], "")}
    monkeypatch.setattr("report.watch.write_report", lambda *args: outcome["result"])
    statuses = []
    running = ReportWriter(Project(root=Path("/p"), sections={}, templates=Path("/p/t")), None, {}, statuses.append)
    running.statuses, running.outcome = statuses, outcome
    yield running
    running.close()


def until(condition) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "it did not happen"
        time.sleep(0.01)


def logged(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.module == "watch"]


def test_the_report_files_are_written_by_one_fresh_low_priority_process_and_the_status_cleared(writer, caplog):
    writer.request()
    until(lambda: writer.statuses)
    assert writer.statuses == [""] and logged(caplog) == ["wrote report.html"] and not writer.behind
    assert Pool.made == [(1, "spawn", os.nice, (10,))]


def test_report_files_that_cannot_be_written_say_why_on_the_page_and_in_the_log(writer, caplog):
    writer.outcome["result"] = ([], "counting.qmd.j2:4: undefined value")
    writer.request()
    until(lambda: writer.statuses)
    assert writer.statuses == ["The report files were not written: counting.qmd.j2:4: undefined value"]
    assert logged(caplog) == ["the report files were not written: counting.qmd.j2:4: undefined value"]


def test_a_write_broken_off_by_ctrl_c_leaves_the_files_behind_the_page(writer):
    Pool.broken = True
    writer.request()
    until(lambda: Pool.made)
    until(lambda: writer.behind)
    writer.close()
    assert writer.behind and writer.statuses == []


def test_a_writer_closed_with_nothing_asked_writes_nothing(writer):
    writer.close()
    assert not writer.behind and Pool.made == []


def test_a_file_named_that_is_not_text_gets_no_excerpt(project):
    (project.root / "code.py").write_bytes(b"caf\xe9 = 1\n")
    assert excerpts("code.py, line 1: invalid syntax", project) == []
