"""The engine stands alone: a second, tiny report project built through ``report.cli.main``.

Nothing here comes from this repository's report: the project below has its own one-section
registry, config and templates, exactly what the README's "Adding a section" describes.
"""
import json
import sys
import textwrap

import pytest

from report.cli import main
from report.project import Project

SECTION = '''
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

TEMPLATES = {
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

        {% for g in groups %}{% for e in g.entries %}- {{ echo(e) }} from `{{ e.path }}`
        {% endfor %}{% endfor %}""",
}


@pytest.fixture
def tiny(tmp_path, monkeypatch) -> Project:
    root = tmp_path / "tiny"
    (root / "tiny_sections").mkdir(parents=True)
    (root / "tiny_sections" / "__init__.py").write_text("")
    (root / "tiny_sections" / "counting.py").write_text(SECTION)
    (root / "templates").mkdir()
    for name, text in TEMPLATES.items():
        (root / "templates" / name).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(root))  # as `python build.py` in that folder would have it
    yield Project(root=root, sections={"counting": "tiny_sections.counting"}, templates=root / "templates")
    for name in [m for m in sys.modules if m.startswith("tiny_sections")]:
        del sys.modules[name]  # the next test writes its own tiny_sections


def test_a_second_project_builds_and_checks_through_the_engine_alone(tiny, capsys):
    out = tiny.root / "_build"
    assert main(tiny, ["--profile", "quick", "--to", "html", "--out", str(out), "--quiet"]) == 0
    html = (out / "report.html").read_text()
    assert "A tiny report" in html and "Counting to" in html
    ledger = {e["path"]: e["text"] for e in json.loads((out / "ledger.json").read_text())}
    assert ledger == {"counting.config.upto": "3", "len(counting.numbers)": "3", "counting.total": "6"}
    assert main(tiny, ["--check", "--profile", "quick", "--out", str(out)]) == 0
    assert "check passed" in capsys.readouterr().err


def test_the_second_project_s_fingerprint_covers_its_own_sources(tiny, capsys):
    out = tiny.root / "_build"
    assert main(tiny, ["--profile", "quick", "--to", "html", "--out", str(out), "--quiet"]) == 0
    source = tiny.root / "tiny_sections" / "counting.py"
    source.write_text(source.read_text().replace("sum(numbers)}", "sum(numbers) + 0}"))
    capsys.readouterr()
    assert main(tiny, ["--list", "--profile", "quick", "--out", str(out)]) == 0
    assert "stale    source tiny_sections/counting.py changed" in capsys.readouterr().out


def test_a_module_that_breaks_the_contract_is_named_with_what_it_lacks(tiny, capsys):
    (tiny.root / "tiny_sections" / "counting.py").write_text(SECTION.replace("def invariants", "def _invariants"))
    assert main(tiny, ["--list", "--out", str(tiny.root / "_build")]) == 2
    err = capsys.readouterr().err
    assert "section 'counting' (tiny_sections.counting) does not follow the section contract" in err
    assert "it lacks invariants" in err
