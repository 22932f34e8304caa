"""Backends: the quarto call (which cannot run here) by its argument list; choice of engine."""
import importlib.metadata
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import PROJECT

from report import backends
from report.backends.pandoc import ASSETS, PandocBackend
from report.backends.quarto import QuartoBackend
from report.errors import OutputError, RendererError


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
    with pytest.raises(RendererError) as caught:
        backends.choose("quarto", PROJECT)
    assert caught.value.message == "--engine quarto: no `quarto` executable on PATH"
    assert caught.value.hint == "install Quarto from quarto.org, or use --engine pandoc"
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
    with pytest.raises(RendererError, match="quarto render failed: bad") as caught:
        QuartoBackend(fake_quarto(tmp_path, half_then_fail)).render(document, ["html"])
    assert caught.value.hint == "run the printed command by hand, or use --engine pandoc"
    assert (tmp_path / "report.html").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quarto", "report.html", "report.qmd"]


def test_the_pdf_preamble_names_the_project_s_fonts_in_order():
    preamble = PandocBackend("pandoc", ("Libertinus Serif", "IPAexGothic")).typst_preamble()
    assert preamble.splitlines() == ['#set text(font: ("Libertinus Serif", "IPAexGothic",), lang: "en")',
                                     "#show figure.where(kind: table): set block(breakable: true)"]
    assert PandocBackend("pandoc").typst_preamble().startswith('#set text(lang: "en")')


def test_quarto_embeds_resources_and_numbers_sections_in_every_format():
    quarto = QuartoBackend("quarto")
    for fmt, to in (("html", "html"), ("pdf", "typst"), ("md", "gfm")):
        assert quarto.command(Path("/b/report.qmd"), fmt, ".out") == [
            "quarto", "render", "report.qmd", "--to", to, "--output", ".out",
            "-M", "embed-resources:true", "-M", "number-sections:true"]


def test_quarto_renders_each_format_asked_for_beside_the_document(tmp_path):
    document = tmp_path / "report.qmd"
    document.write_text("# Hi")
    writes_format = 'out=""; while [ -n "$1" ]; do [ "$1" = "--output" ] && out="$2"; [ "$1" = "--to" ] && to="$2"; ' \
                    'shift; done; echo "$to" > "$out"'
    outputs = QuartoBackend(fake_quarto(tmp_path, writes_format)).render(document, ["md", "pdf"])
    assert outputs == {"md": tmp_path / "report.md", "pdf": tmp_path / "report.pdf"}
    assert [outputs[f].read_text() for f in ("md", "pdf")] == ["gfm\n", "typst\n"]


MARKDOWN = ("---\ntitle: A test\n---\n\n# Results\n\n| a |\n|---|\n| x |\n\n: Counts {#tbl-counts}\n\n"
            "See @tbl-counts.\n")


@pytest.fixture
def document(tmp_path):
    path = tmp_path / "report.qmd"
    path.write_text(MARKDOWN)
    return path


def test_pandoc_writes_standalone_html_with_numbered_sections_and_the_report_s_style(document):
    outputs = PandocBackend.find().render(document, ["html", "md"])
    assert outputs == {"html": document.with_suffix(".html"), "md": document.with_suffix(".md")}
    html = outputs["html"].read_text()
    assert html.startswith("<!DOCTYPE html>") and "<title>A test</title>" in html
    assert 'class="header-section-number">1</span> Results' in html  # numbered
    assert 'id="TOC"' in html and (ASSETS / "report.css").read_text()[:40] in html  # contents; style inlined
    assert '<a href="#tbl-counts"><span class="xref-label">Table' in html  # the cross-reference, resolved by the crossref filter
    assert outputs["md"].read_text().startswith("---\ntitle: A test\n---") and "Results" in outputs["md"].read_text()


def test_pandoc_asks_for_nothing_when_no_format_is_asked_for(document):
    assert PandocBackend.find().render(document, []) == {}


def test_a_pandoc_failure_names_pandoc_s_complaint_and_the_document_and_keeps_the_old_output(document, tmp_path):
    document.with_suffix(".html").write_text("old")
    broken = tmp_path / "pandoc"
    broken.write_text("#!/bin/bash\necho 'unexpected end of input' >&2\nexit 64\n")
    broken.chmod(0o755)
    with pytest.raises(RendererError) as caught:
        PandocBackend(str(broken)).render(document, ["html"])
    assert caught.value.message == "pandoc failed (64): unexpected end of input"
    assert caught.value.hint == f"inspect {tmp_path / 'report.qmd'} at the place pandoc names"
    assert document.with_suffix(".html").read_text() == "old"


def test_without_pypandoc_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pypandoc", None)
    with pytest.raises(RendererError) as caught:
        PandocBackend.find()
    assert caught.value.message.startswith("no pandoc renderer available (")
    assert caught.value.hint == "pip install pypandoc-binary typst, or install quarto"


@pytest.fixture
def fake_typst(monkeypatch):
    """``typst.compile_with_warnings`` replaced: a real compile hangs a process forked after one (see bench/mutation.py)."""
    calls = TypstCalls()

    def compile_with_warnings(typ, root, font_paths):
        calls.append((Path(typ).read_text(), root, font_paths))
        return b"%PDF-1.7 fake", calls.warnings
    monkeypatch.setattr("typst.compile_with_warnings", compile_with_warnings)
    return calls


class TypstCalls(list):
    """What the stand-in typst was asked to compile, and the warnings it is to give."""

    def __init__(self):
        super().__init__()
        self.warnings = []


def test_the_pdf_is_typst_from_pandoc_on_a4_with_the_fonts_and_font_folders_of_the_project(document, fake_typst,
                                                                                            tmp_path):
    backend = PandocBackend.find(("Libertinus Serif",), (tmp_path / "fonts",))
    assert backend.render(document, ["pdf"]) == {"pdf": document.with_suffix(".pdf")}
    assert document.with_suffix(".pdf").read_bytes() == b"%PDF-1.7 fake"
    ((typ, root, font_paths),) = fake_typst
    assert '#set text(font: ("Libertinus Serif",), lang: "en")' in typ and '"a4"' in typ
    assert "#outline(" in typ and "Results" in typ
    assert (root, font_paths) == (str(tmp_path), [str(tmp_path / "fonts")])


def test_a_font_typst_cannot_find_is_named_once_and_the_pdf_still_written(document, fake_typst, caplog):
    font = SimpleNamespace(message="unknown font family: ipaexgothic")
    fake_typst.warnings.extend([font, font, SimpleNamespace(message="block may not occur inside of a paragraph")])
    PandocBackend.find().render(document, ["pdf"])
    assert document.with_suffix(".pdf").read_bytes() == b"%PDF-1.7 fake"
    assert [r.getMessage() for r in caplog.records] == [
        "the PDF was typeset without a font it asks for (typst: unknown font family: ipaexgothic); install that "
        "font, or name a folder holding it in the project's font_paths"]


def test_a_typst_error_names_the_typ_file_and_keeps_the_old_pdf(document, monkeypatch):
    document.with_suffix(".pdf").write_bytes(b"old")

    def fails(typ, root, font_paths):
        raise RuntimeError("unknown font family")
    monkeypatch.setattr("typst.compile_with_warnings", fails)
    with pytest.raises(RendererError) as caught:
        PandocBackend.find().render(document, ["pdf"])
    typ = document.with_suffix(".typ")
    assert caught.value.message == f"typst could not compile {typ}: unknown font family"
    assert caught.value.hint == "inspect the .typ file"
    assert document.with_suffix(".pdf").read_bytes() == b"old"


def test_a_document_named_relative_to_the_working_folder_renders_beside_itself(document, monkeypatch):
    monkeypatch.chdir(document.parent.parent)
    relative = Path(document.parent.name) / document.name
    assert PandocBackend.find().render(relative, ["md"]) == {"md": document.with_suffix(".md")}
    assert document.with_suffix(".md").exists()


@pytest.mark.parametrize("tool", ["pandoc", "quarto"])
def test_a_tool_s_complaint_is_cut_to_its_first_2000_characters(document, tmp_path, tool):
    talkative = tmp_path / tool
    talkative.write_text("#!/bin/bash\nprintf 'x%.0s' $(seq 3000) >&2\nexit 1\n")
    talkative.chmod(0o755)
    backend = PandocBackend(str(talkative)) if tool == "pandoc" else QuartoBackend(str(talkative))
    with pytest.raises(RendererError) as caught:
        backend.render(document, ["md"])
    assert caught.value.message.endswith(": " + "x" * 2000)


def test_the_quarto_found_on_path_is_the_one_run_and_pandoc_gets_the_project_s_fonts(monkeypatch, document,
                                                                                     fake_typst):
    monkeypatch.setattr(backends.shutil, "which", lambda name: f"/opt/{name}/bin/{name}")
    assert backends.choose("auto", PROJECT).command(Path("/b/report.qmd"), "html", "o")[0] == "/opt/quarto/bin/quarto"
    backends.choose("pandoc", PROJECT).render(document, ["pdf"])
    ((typ, _, font_paths),) = fake_typst
    assert '#set text(font: ("Libertinus Serif", "IPAexGothic",)' in typ
    assert font_paths == [str(p) for p in PROJECT.font_paths]


HASKELL_NO_SPACE = """pandoc: {out}: hPutBuf: resource exhausted (No space left on device)
HasCallStack backtrace:
  collectBacktraces, called at libraries/ghc-internal/src/GHC/Internal/Exception.hs:169:13 in ghc-internal
  throwIO, called at libraries/ghc-internal/src/GHC/Internal/IO/Exception.hs:315:19 in ghc-internal"""


def fake_tool(tmp_path, name: str, stderr: str, writes_half: bool = True) -> str:
    """A stand-in pandoc or quarto that writes half its output, prints ``stderr`` and fails."""
    half = 'while [ "$1" != "--output" ]; do shift; done; echo half > "$2"\n' if writes_half else ""
    tool = tmp_path / name
    tool.write_text(f"#!/bin/bash\n{half}cat >&2 <<'END'\n{stderr}\nEND\nexit 1\n")
    tool.chmod(0o755)
    return str(tool)


@pytest.mark.parametrize("tool,fmt", [("pandoc", "html"), ("pandoc", "md"), ("pandoc", "pdf"), ("quarto", "html")])
def test_a_tool_that_fills_the_disk_says_no_space_left_on_the_output_and_leaves_nothing_half_written(
        document, tmp_path, tool, fmt):
    out = document.with_suffix(f".{fmt}")
    out.write_text("old")
    program = fake_tool(tmp_path, tool, HASKELL_NO_SPACE.format(out=tmp_path / ".report.tmp-1.html"))
    backend = PandocBackend(program) if tool == "pandoc" else QuartoBackend(program)
    with pytest.raises(OutputError) as caught:
        backend.render(document, [fmt])
    written = document.with_suffix(".typ") if fmt == "pdf" else out  # pandoc writes Typst for the PDF
    assert caught.value.message == f"no space left on {written}"
    assert caught.value.hint.startswith(f"free some space on that disk (`df -h {tmp_path}`")
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([tool, "report.qmd", out.name])


def test_a_pandoc_failure_is_told_without_haskell_s_call_stack(document, tmp_path):
    complaint = HASKELL_NO_SPACE.format(out="report.html").replace("resource exhausted (No space left on device)",
                                                                   "invalid argument")
    with pytest.raises(RendererError) as caught:
        PandocBackend(fake_tool(tmp_path, "pandoc", complaint, writes_half=False)).render(document, ["html"])
    assert caught.value.message == "pandoc failed (1): pandoc: report.html: hPutBuf: invalid argument"


def test_quarto_names_its_own_version_and_those_of_the_pandoc_and_typst_it_bundles(tmp_path):
    quarto = fake_quarto(tmp_path, 'case "$1" in pandoc) echo "pandoc 3.4";; typst) echo "typst 0.11.0 (abc)";;'
                                   ' *) echo "1.6.39";; esac')
    assert QuartoBackend(quarto).versions() == {"quarto": "1.6.39", "pandoc": "3.4", "typst": "0.11.0"}


SECTIONS = ("# Intro {#sec-intro}\n\nSee @sec-sub, @sec-results and @sec-later.\n\n## Sub {#sec-sub}\n\n"
            "# Results {#sec-results}\n\n# Later {.unnumbered #sec-later}\n\nEnd.\n")


def test_section_references_read_as_pandoc_numbers_the_headings_and_unnumbered_ones_by_title(document):
    document.write_text(SECTIONS)
    html = " ".join(PandocBackend.find().render(document, ["html"])["html"].read_text().split())
    assert ('See <a href="#sec-sub"><span class="xref-label">Section 1.1</span></a>, <a href="#sec-results">'
            '<span class="xref-label">Section 2</span></a> and <a href="#sec-later"><span class="xref-label">'
            'Later</span></a>.') in html
    assert '<h2 data-number="1.1" id="sec-sub">' in html and '<h1 data-number="2" id="sec-results">' in html


def test_section_references_become_typst_references_and_links(document, tmp_path):
    document.write_text(SECTIONS)
    backend = PandocBackend.find()
    subprocess.run(backend.command(document, "typst", tmp_path / "out.typ"), cwd=tmp_path, check=True)
    typst_source = (tmp_path / "out.typ").read_text()
    assert "See @sec-sub, @sec-results and #link(<sec-later>)[Later]." in typst_source
    assert "= Results\n<sec-results>" in typst_source


def test_a_reference_to_no_label_stops_pandoc_naming_it(document):
    document.write_text("# Intro {#sec-intro}\n\nSee @sec-nope.\n")
    with pytest.raises(RendererError) as caught:
        PandocBackend.find().render(document, ["html"])
    assert "unknown cross-reference @sec-nope: nothing has that label" in caught.value.message


def test_quarto_reports_its_own_version_and_those_of_the_pandoc_and_typst_it_bundles(tmp_path):
    answers = 'case "$*" in "--version") echo 1.5.57;; "pandoc --version") echo "pandoc 3.1.11";; ' \
              '"typst --version") echo "typst 0.11.0 (2bf9f95d)";; esac'
    quarto = QuartoBackend(fake_quarto(tmp_path, answers))
    assert quarto.versions() == {"quarto": "1.5.57", "pandoc": "3.1.11", "typst": "0.11.0"}


def test_pandoc_reports_its_version_and_that_of_the_typst_it_compiles_with(tmp_path):
    pandoc = tmp_path / "pandoc"
    pandoc.write_text('#!/bin/bash\n[ "$*" = "--version" ] && echo "pandoc 3.1.11"\n')
    pandoc.chmod(0o755)
    assert PandocBackend(str(pandoc)).versions() == {"pandoc": "3.1.11", "typst": importlib.metadata.version("typst")}


def test_the_chosen_backend_runs_the_quarto_found_on_path_or_pandoc_with_the_project_s_fonts(monkeypatch):
    monkeypatch.setattr(backends.shutil, "which", {"quarto": "/usr/bin/quarto"}.get)
    assert backends.choose("quarto", PROJECT).command(Path("report.qmd"), "md", "out.md")[0] == "/usr/bin/quarto"
    pandoc = backends.choose("pandoc", PROJECT)
    assert pandoc.typst_preamble() == PandocBackend("pandoc", PROJECT.pdf_fonts).typst_preamble()
    assert pandoc.font_paths == PROJECT.font_paths and PROJECT.pdf_fonts and PROJECT.font_paths
