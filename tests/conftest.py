"""Shared fixtures: a throwaway copy of the project, and helpers to run its build."""
from __future__ import annotations

import contextlib
import functools
import gc
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from report.project import Project

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    # mutmut (bench/mutation.py) forks each mutant's test run from a process that has already
    # collected the whole suite (a heap of ~600 MB with torch). pytest calls gc.collect() five
    # times as it ends, and each pass over that heap costs ~0.3 s: freezing the inherited objects
    # out of the collector makes a killed mutant cost 0.1 s instead of 1.4 s. Objects the tests
    # create are still collected as usual.
    if "MUTANT_UNDER_TEST" in os.environ:
        gc.freeze()


def pytest_collection_modifyitems(items):
    # Under mutmut, a mutant costs the time to its first failing test. mutmut orders tests by the
    # time of their own body, which leaves out fixtures: a test reading a section run once per
    # module (a fixture of module or session scope) looks instant but pays for that run in each
    # mutant's fresh process. Those go last, so a mutant the plain tests catch never pays for them.
    if "MUTANT_UNDER_TEST" in os.environ:
        items.sort(key=uses_a_shared_fixture)


def uses_a_shared_fixture(item) -> bool:
    """Whether a test needs one of this suite's fixtures built once per module or session."""
    definitions = item._fixtureinfo.name2fixturedefs.values()
    # pytest's own fixtures (tmp_path_factory) have no baseid; ours name the folder they live in
    return any(d.scope != "function" and d.baseid for defs in definitions for d in defs)


PROJECT_PARTS = ("build.py", "experiments", "report", "templates")
KMNIST_ROOT = Path(os.environ.get("KMNIST_ROOT") or ROOT / "data")
KMNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                "t10k-labels-idx1-ubyte.gz")
HAVE_KMNIST = all((KMNIST_ROOT / "KMNIST" / "raw" / name).exists() for name in KMNIST_FILES)
needs_kmnist = pytest.mark.skipif(not HAVE_KMNIST, reason=f"the KMNIST files are not in {KMNIST_ROOT}/KMNIST/raw "
                                  "(copy the four official files there from github.com/rois-codh/kmnist, "
                                  "or set KMNIST_ROOT to a folder holding KMNIST/raw)")


def _load_build_script():
    """build.py as a module (by path: ``import build`` could find PyPA's ``build`` package)."""
    spec = importlib.util.spec_from_file_location("build_script", ROOT / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def _project() -> Project:
    return _load_build_script().PROJECT


def __getattr__(name: str):
    """``PROJECT``: the report this repository builds, as build.py describes it, made on first use.

    Not made at import: mutmut checks its setup with a run in which every engine call raises,
    and a conftest that cannot be imported stops pytest before any test can fail.
    """
    if name == "PROJECT":
        return _project()
    raise AttributeError(name)


@pytest.fixture
def no_build(monkeypatch):
    """Bad input must be refused before any section runs."""
    def refuse(*args, **kwargs):
        raise AssertionError("bad input got as far as running sections")
    monkeypatch.setattr("report.pipeline.Runner", refuse)


def copy_project(target: Path) -> Path:
    """A copy of the code (not the results) that a test may edit freely."""
    target.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / part)
    return target


def run_build(project: Path, *args: str, timeout: float = 300, stderr=subprocess.PIPE) -> subprocess.CompletedProcess:
    """``python build.py ARGS`` in ``project``, as a user would run it; ``stderr`` may be a file."""
    env = {"KMNIST_ROOT": str(KMNIST_ROOT), **os.environ, "PYTHONPATH": str(project), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "build.py", *args], cwd=project, env=env,
                          stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=timeout)


def summary_rows(stderr: str) -> dict[str, str]:
    """``{section: result}`` from the closing summary table."""
    rows = {}
    for line in stderr.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2] in ("cached", "ran", "failed", "not"):
            rows[parts[0]] = parts[2]
    return rows


def read_json(path: Path):
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def toy_project(tmp_path_factory) -> Path:
    """A project copy with the quick toy_mlp report built once (HTML, PDF, Markdown)."""
    project = copy_project(tmp_path_factory.mktemp("toy") / "project")
    result = run_build(project, "toy_mlp", "--profile", "quick", "--quiet", "--to", "html,pdf,md")
    assert result.returncode == 0, result.stderr
    return project


# --- a tiny project of its own, for fast in-process builds through the engine ---

TINY_SECTION = '''
"""Counts to a number: the smallest section that follows the contract."""
from dataclasses import dataclass

TITLE = "Counting"
QUICK = {"upto": 3}


@dataclass(frozen=True)
class Config:
    seed: int = 0
    upto: int = 10  # how far to count

    def __post_init__(self):
        if self.upto < 1:
            raise ValueError("upto must be at least 1")


def run(config, ctx):
    numbers = list(range(1, config.upto + 1))
    return {"numbers": numbers, "total": sum(numbers)}


def invariants(data):
    return [] if data["total"] == sum(data["numbers"]) else ["the total is not the sum of the numbers"]
'''

TINY_TEMPLATES = {
    "report.qmd.j2": """\
        ---
        title: "A tiny report"
        ---
        {% for s in prov.sections %}{% if s.ok %}{% include s.name ~ ".qmd.j2" %}{% else %}
        # {{ s.title | text }}

        Missing: {{ s.problem | text }}
        {% endif %}{% endfor %}
        """,
    "counting.qmd.j2": """\
        # Counting {#sec-counting}

        Counting to {{ r.counting.config.upto | int }} gives {{ r.counting.numbers | count }} numbers
        that add up to {{ r.counting.total | int }}.
        """,
    "numbers.qmd.j2": """\

        # Every number

        {% for g in groups %}{% for e in g.entries %}- {{ echo(e) }} from `{{ e.path }}`{.literal}
        {% endfor %}{% endfor %}""",
}


@pytest.fixture
def tiny(tmp_path, monkeypatch) -> Project:
    """A one-section project of its own in tmp_path (its registry, config, templates): builds in about a second."""
    root = tmp_path / "tiny"
    (root / "tiny_sections").mkdir(parents=True)
    (root / "tiny_sections" / "__init__.py").write_text("")
    (root / "tiny_sections" / "counting.py").write_text(TINY_SECTION)
    (root / "templates").mkdir()
    for name, text in TINY_TEMPLATES.items():
        (root / "templates" / name).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(root))  # as `python build.py` in that folder would have it
    yield Project(root=root, sections={"counting": "tiny_sections.counting"}, templates=root / "templates")
    for name in [m for m in sys.modules if m.startswith("tiny_sections")]:
        del sys.modules[name]  # the next test writes its own tiny_sections


# --- `python build.py --watch` in a subprocess, for the tests of the live preview ---

@pytest.fixture
def project_with_toy(tmp_path, toy_project) -> Path:
    """A project copy of its own (a test edits it) whose store holds the quick toy_mlp result."""
    project = copy_project(tmp_path / "project")
    shutil.copytree(toy_project / "_build" / "results", project / "_build" / "results")
    return project


SERVING = re.compile(r"serving the report on (http://127\.0\.0\.1:\d+/)")


@contextlib.contextmanager
def watching(project: Path, *args: str, timeout: float = 120):
    """``python build.py --watch --port 0 ARGS`` in ``project``: yields its URL and a list that
    fills with its stderr lines; Ctrl-C ends it when the block does (its exit code is then in
    ``watcher.returncode``)."""
    env = {"KMNIST_ROOT": str(KMNIST_ROOT), **os.environ, "PYTHONPATH": str(project), "MPLBACKEND": "Agg"}
    watcher = subprocess.Popen([sys.executable, "build.py", "--watch", "--port", "0", *args], cwd=project,
                               env=env, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    threading.Thread(target=_collect, args=(watcher.stderr, lines), daemon=True).start()
    try:
        yield _wait_for_url(watcher, lines, timeout), lines
    finally:
        if watcher.poll() is None:
            watcher.send_signal(signal.SIGINT)
        watcher.wait(60)


def _collect(stream, lines: list[str]) -> None:
    for line in stream:  # one at a time, so the test sees each line as it comes
        lines.append(line)


def _wait_for_url(watcher: subprocess.Popen, lines: list[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and watcher.poll() is None:
        found = [match.group(1) for line in lines if (match := SERVING.search(line))]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError("--watch did not start serving:\n" + "".join(lines))
