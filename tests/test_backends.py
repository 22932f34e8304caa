"""Backends: the quarto call (which cannot run here) by its argument list; choice of engine."""
from pathlib import Path

import pytest
from conftest import PROJECT

from report import backends
from report.backends.pandoc import PandocBackend
from report.backends.quarto import QuartoBackend
from report.errors import RendererError


def test_quarto_is_called_with_an_argument_list_per_format():
    args = QuartoBackend("/opt/quarto/bin/quarto").command(Path("/tmp/b/report.qmd"), "pdf", ".report.tmp.pdf")
    assert args[:4] == ["/opt/quarto/bin/quarto", "render", "report.qmd", "--to"] and args[4] == "typst"
    assert args[args.index("--output") + 1] == ".report.tmp.pdf"


def test_pandoc_is_called_with_an_argument_list_and_the_crossref_filter():
    args = PandocBackend("pandoc").command(Path("/tmp/b/report.qmd"), "html5", Path("out.html"))
    assert args[0] == "pandoc" and "--lua-filter" in args and args[args.index("--to") + 1] == "html5"


def test_auto_prefers_quarto_when_it_is_on_path(monkeypatch):
    monkeypatch.setattr(backends.shutil, "which", lambda name: "/usr/bin/quarto")
    assert isinstance(backends.choose("auto", PROJECT), QuartoBackend)
    assert isinstance(backends.choose("pandoc", PROJECT), PandocBackend)


def test_engine_quarto_without_quarto_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(backends.shutil, "which", lambda name: None)
    with pytest.raises(RendererError, match="no `quarto` executable"):
        backends.choose("quarto", PROJECT)
    assert isinstance(backends.choose("auto", PROJECT), PandocBackend)


def fake_quarto(tmp_path, script: str) -> str:
    """A stand-in ``quarto`` executable running ``script`` (bash) with the render arguments."""
    quarto = tmp_path / "quarto"
    quarto.write_text(f"#!/bin/bash\n{script}\n")
    quarto.chmod(0o755)
    return str(quarto)


def test_quarto_output_is_renamed_into_place_once_it_is_written(tmp_path):
    document = tmp_path / "report.qmd"
    document.write_text("# Hi")
    writes_output = 'while [ "$1" != "--output" ]; do shift; done; echo "<p>new</p>" > "$2"'
    outputs = QuartoBackend(fake_quarto(tmp_path, writes_output)).render(document, ["html"])
    assert outputs == {"html": tmp_path / "report.html"}
    assert (tmp_path / "report.html").read_text() == "<p>new</p>\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quarto", "report.html", "report.qmd"]


def test_a_failing_quarto_leaves_the_previous_output_whole(tmp_path):
    document = tmp_path / "report.qmd"
    document.write_text("# Hi")
    (tmp_path / "report.html").write_text("old")
    half_then_fail = 'while [ "$1" != "--output" ]; do shift; done; echo half > "$2"; echo bad >&2; exit 1'
    with pytest.raises(RendererError, match="quarto render failed: bad"):
        QuartoBackend(fake_quarto(tmp_path, half_then_fail)).render(document, ["html"])
    assert (tmp_path / "report.html").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quarto", "report.html", "report.qmd"]


def test_the_pdf_preamble_names_the_project_s_fonts_in_order():
    preamble = PandocBackend("pandoc", ("Libertinus Serif", "IPAexGothic")).typst_preamble()
    assert '#set text(font: ("Libertinus Serif", "IPAexGothic",), lang: "en")' in preamble
    assert PandocBackend("pandoc").typst_preamble().startswith('#set text(lang: "en")')
