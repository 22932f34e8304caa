"""Writing templates, as a new section's author meets it: a sweep whose labels carry digits,
the typed-number guard, cross-references, and a failed render that keeps the last report.

Each project here is the ``tiny`` one of conftest with a second section, built through the
engine in tmp_path.
"""
import dataclasses
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT
from report.cli import main
from report.pipeline import Options, check

SWEEP_SECTION = '''
"""A sweep over hidden widths: the labels carry digits ("H = 16")."""
from dataclasses import dataclass

TITLE = "Effect of hidden width"
QUICK = {}


@dataclass(frozen=True)
class Config:
    seed: int = 3


def run(config, ctx):
    runs = [{"label": f"H = {width}", "width": width, "accuracy": round(1 - 4 / width, 4)} for width in (16, 64, 256)]
    return {"runs": runs, "seed_label": f"seed {config.seed}"}


def invariants(data):
    return []
'''

SWEEP_TEMPLATE = """
# Effect of hidden width {#sec-sweep}

Three widths, {{ r.sweep.seed_label | text }}. By test accuracy: {{ ranked(r.sweep.runs, "accuracy", label="label", digits=1) }}.
@tbl-sweep lists them; @sec-counting counted first.

{{ table(r.sweep.runs, [("label", "width", "label"), ("accuracy", "accuracy", "pct:1")], "Accuracy by hidden width.", "tbl-sweep") }}
"""


@pytest.fixture
def sweep(tiny):
    """The tiny project with a sweep section after its counting one, whose labels carry digits."""
    (tiny.root / "tiny_sections" / "sweep.py").write_text(SWEEP_SECTION)
    (tiny.templates / "sweep.qmd.j2").write_text(SWEEP_TEMPLATE)
    return dataclasses.replace(tiny, sections={**tiny.sections, "sweep": "tiny_sections.sweep"})


def build(project, *argv):
    return main(project, ["--profile", "quick", "--quiet", "--jobs", "1", "--out", str(project.root / "_build"), *argv])


def report_files(project, formats=("html",)):
    out = project.root / "_build"
    return {name: (out / name).read_bytes() for name in ("report.qmd", "ledger.json", *(f"report.{f}" for f in formats))}


def edit(project, old: str, new: str):
    template = project.templates / "sweep.qmd.j2"
    template.write_text(template.read_text().replace(old, new))


def test_a_sweep_whose_labels_carry_digits_builds_and_passes_check(sweep, capsys):
    assert build(sweep, "--to", "html") == 0
    html = " ".join((sweep.root / "_build" / "report.html").read_text().split())
    assert 'title="sweep.runs[2].label">H = 256</span> (<span' in html  # ranked: widest first
    assert '<td style="text-align: left;"><span id="n' in html and 'title="sweep.runs[0].label">H = 16</span>' in html
    assert 'title="sweep.seed_label">seed 3</span>' in html
    assert '<a href="#tbl-sweep"><span class="xref-label">Table 1</span></a>' in html
    assert '<a href="#sec-counting"><span class="xref-label">Section 1</span></a> counted' in html
    assert '<h1 data-number="2" id="sec-sweep">' in html
    assert check(sweep, Options(profile="quick", out=sweep.root / "_build", to=["html"])) == []


@pytest.mark.parametrize("typed, token", [
    ("the best run scored `58.50%` by hand.", "58.50%"),
    ("about 5k runs.", "5k"),
    ("it trains 16x faster.", "16x"),
    ('{{ "with 2 seeds" }}.', "2"),
    ("{{ table(r.sweep.runs, [('label', 'width', 'label')], 'The 3 widths.', 'tbl-widths') }}", "3"),
], ids=["in backticks", "glued to k", "glued to x", "in a template string", "in a caption"])
def test_a_typed_number_fails_the_build_naming_its_template_line_and_keeps_the_last_report(sweep, capsys,
                                                                                          typed, token):
    assert build(sweep, "--to", "html") == 0
    before = report_files(sweep)
    edit(sweep, "@tbl-sweep lists them", f"{typed}\n@tbl-sweep lists them")
    capsys.readouterr()
    assert build(sweep, "--to", "html") == 1
    err = capsys.readouterr().err
    assert (f"error: the report does not match its results (1 problem):\n  - number {token!r} is typed into "
            "sweep.qmd.j2:5, not taken from results;") in err
    assert ("hint: print the number from a result through a filter (| num, | pct, | int, | text), "
            "or declare it with lit()") in err
    assert report_files(sweep) == before


def test_a_result_s_text_printed_without_a_filter_is_named_with_its_path_and_line(sweep, capsys):
    edit(sweep, "{{ r.sweep.seed_label | text }}", "{{ r.sweep.seed_label }}")
    assert build(sweep, "--to", "html") == 1
    err = capsys.readouterr().err
    assert ("  - number '3' comes from sweep.seed_label = 'seed 3' at sweep.qmd.j2:4, printed without a filter, "
            "so it is not traced; print it with | text\n  hint: print the value through | text") in err


def test_an_unknown_section_reference_fails_before_any_output_changes(sweep, capsys):
    assert build(sweep, "--to", "html,md") == 0
    before = report_files(sweep, ("html", "md"))
    edit(sweep, "@sec-counting counted first.", "@sec-counting counted first,\nas @sec-nope says.")
    capsys.readouterr()
    assert build(sweep, "--to", "html,md") == 2
    err = capsys.readouterr().err
    assert ("error: unknown cross-reference @sec-nope at sweep.qmd.j2:6: no section is labelled sec-nope "
            "(the section labels are sec-counting, sec-sweep)\n  hint: correct the reference,") in err
    assert report_files(sweep, ("html", "md")) == before
    assert not list((sweep.root / "_build").glob(".*staged*"))


BUILD_SCRIPT = """\
import sys
from pathlib import Path

from report.cli import main
from report.project import Project

ROOT = Path(__file__).resolve().parent
PROJECT = Project(root=ROOT, sections={"counting": "tiny_sections.counting", "sweep": "tiny_sections.sweep"},
                  templates=ROOT / "templates")
sys.exit(main(PROJECT, sys.argv[1:]))
"""


@pytest.mark.e2e
def test_a_pdf_that_typst_cannot_compile_leaves_the_last_html_and_pdf_byte_identical(sweep):
    # typst runs in a subprocess: its compiler hangs a process forked after it ran once (mutmut's way)
    (sweep.root / "build.py").write_text(BUILD_SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(sweep.root), str(ROOT)]), "MPLBACKEND": "Agg"}

    def build_pdf():
        return subprocess.run([sys.executable, "build.py", "--profile", "quick", "--quiet", "--to", "html,pdf"],
                              cwd=sweep.root, env=env, capture_output=True, text=True, timeout=300)
    assert build_pdf().returncode == 0
    before = report_files(sweep, ("html", "pdf"))
    edit(sweep, "@tbl-sweep lists them", textwrap.dedent("""\
        A changed sentence.

        ```{=typst}
        #this-function-does-not-exist()
        ```

        @tbl-sweep lists them"""))
    failed = build_pdf()
    assert failed.returncode == 2 and "error: typst could not compile" in failed.stderr
    assert "this-function-does-not-exist" in failed.stderr and "Traceback" not in failed.stderr
    assert report_files(sweep, ("html", "pdf")) == before
