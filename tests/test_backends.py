"""Backends: the quarto call (which cannot run here) by its argument list; choice of engine."""
from pathlib import Path

import pytest

from report import backends
from report.backends.pandoc import PandocBackend
from report.backends.quarto import QuartoBackend
from report.errors import RendererError


def test_quarto_is_called_with_an_argument_list_per_format():
    args = QuartoBackend("/opt/quarto/bin/quarto").command(Path("/tmp/b/report.qmd"), "pdf")
    assert args[:4] == ["/opt/quarto/bin/quarto", "render", "report.qmd", "--to"] and args[4] == "typst"


def test_pandoc_is_called_with_an_argument_list_and_the_crossref_filter():
    args = PandocBackend("pandoc").command(Path("/tmp/b/report.qmd"), "html5", Path("out.html"))
    assert args[0] == "pandoc" and "--lua-filter" in args and args[args.index("--to") + 1] == "html5"


def test_auto_prefers_quarto_when_it_is_on_path(monkeypatch):
    monkeypatch.setattr(backends.shutil, "which", lambda name: "/usr/bin/quarto")
    assert isinstance(backends.choose("auto"), QuartoBackend)
    assert isinstance(backends.choose("pandoc"), PandocBackend)


def test_engine_quarto_without_quarto_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(backends.shutil, "which", lambda name: None)
    with pytest.raises(RendererError, match="no `quarto` executable"):
        backends.choose("quarto")
    assert isinstance(backends.choose("auto"), PandocBackend)
