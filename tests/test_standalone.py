"""The engine stands alone: a second, tiny report project built through ``report.cli.main``.

Nothing here comes from this repository's report: the project below has its own one-section
registry, config and templates, exactly what the README's "Adding a section" describes.
"""
import json

from conftest import TINY_SECTION
from report.cli import main

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
    (tiny.root / "tiny_sections" / "counting.py").write_text(TINY_SECTION.replace("def invariants", "def _invariants"))
    assert main(tiny, ["--list", "--out", str(tiny.root / "_build")]) == 2
    err = capsys.readouterr().err
    assert "section 'counting' (tiny_sections.counting) does not follow the section contract" in err
    assert "it lacks invariants" in err
