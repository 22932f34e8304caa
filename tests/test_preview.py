"""The preview page: the document read in pieces gives the HTML pandoc gives for the whole,
and only the pieces that changed are read again."""
import subprocess
import textwrap

import pytest

from report import preview
from report.backends.pandoc import HTML_PAGE, NUMBERING, PandocBackend
from report.errors import RendererError
from report.preview import PreviewHtml, split_at_headings

DOCUMENT = textwrap.dedent("""\
    ---
    title: "A report"
    # a YAML comment, not a heading
    ---

    # First {#sec-first}

    As @fig-one shows, and @sec-second says.

    ![A figure.](results/one.png){#fig-one width=50%}

    ```python
    # a comment in code, not a heading
    ```

    ::: {.banner}
    # A heading inside a div

    Stays with its div.
    :::

    Some text
    # not a heading: no blank line before it

    # Second {#sec-second}

    | a | b |
    |--:|--:|
    | 1 | 2 |

    : A table. {#tbl-one}

    See @tbl-one.
    """)


@pytest.fixture(scope="module")
def pandoc() -> str:
    return PandocBackend.find().pandoc


def whole(pandoc: str, markdown: str) -> str:
    """The HTML pandoc writes reading the whole document, with the preview's options."""
    return subprocess.run([pandoc, "--from", "markdown", "--to", "html5", *NUMBERING, *HTML_PAGE, "--css", "/s.css"],
                          input=markdown, capture_output=True, text=True, check=True).stdout


def test_the_document_is_cut_before_top_level_headings_outside_code_divs_and_paragraphs():
    pieces = split_at_headings(DOCUMENT)
    assert [piece.splitlines()[0] for piece in pieces] == ["---", "# First {#sec-first}", "# Second {#sec-second}"]
    assert "".join(pieces) == DOCUMENT


def test_a_document_with_reference_definitions_stays_whole():
    text = "# One\n\nA [link][x].\n\n# Two\n\n[x]: https://example.org\n"
    assert split_at_headings(text) == [text]


def test_an_unclosed_code_fence_keeps_the_rest_in_its_piece():
    assert len(split_at_headings("# One\n\n~~~~\ncode\n~~~\n\n# Not cut\n")) == 1
    assert len(split_at_headings("# One\n\n~~~\ncode\n~~~~\n\n# Cut\n")) == 2


def test_the_page_equals_what_pandoc_writes_reading_the_whole_document(pandoc):
    page = PreviewHtml(pandoc, "/s.css").html(DOCUMENT)
    assert page == whole(pandoc, DOCUMENT)
    assert 'href="#fig-one"' in page and 'src="results/one.png"' in page and 'href="/s.css"' in page


def test_only_the_pieces_that_changed_are_read_again(pandoc, monkeypatch):
    converter = PreviewHtml(pandoc, "/s.css")
    converter.html(DOCUMENT)
    read = []
    parse = converter._parse
    monkeypatch.setattr(converter, "_parse", lambda piece: read.append(piece) or parse(piece))
    edited = DOCUMENT.replace("See @tbl-one.", "See @tbl-one, and a new sentence.")
    page = converter.html(edited)
    assert len(read) == 1 and read[0].startswith("# Second")
    assert page == whole(pandoc, edited)


def test_a_pandoc_failure_is_a_renderer_error_naming_the_preview(monkeypatch):
    with pytest.raises(RendererError, match=r"pandoc failed \(1\) on the preview"):
        PreviewHtml("false", "/s.css").html(DOCUMENT)


def test_the_style_sheet_linked_is_the_one_report_html_embeds():
    assert preview.STYLE.name == "report.css" and preview.STYLE.is_file()


@pytest.mark.parametrize("markdown,pieces", [
    ("# One\n\ntext\n\n# Two\n", ["# One\n\ntext\n\n", "# Two\n"]),  # no empty piece before the first heading
    ("---\ntitle: x\n...\n# One\n", ["---\ntitle: x\n...\n", "# One\n"]),  # YAML may close with "..."
    ("---\ntitle: x\n\n# One\n", ["---\ntitle: x\n\n# One\n"]),  # metadata never closed: all of it is metadata
    ("# One\n\n```\n~~~\n\n# In code\n```python\n\n# In code\n```\n\n# Two\n",  # only its own mark closes a fence
     ["# One\n\n```\n~~~\n\n# In code\n```python\n\n# In code\n```\n\n", "# Two\n"]),
    ("# One\n\n::: {.a}\n::: {.b}\n:::\n\n# In a\n:::\n\n# Two\n",  # fenced divs nest
     ["# One\n\n::: {.a}\n::: {.b}\n:::\n\n# In a\n:::\n\n", "# Two\n"]),
    ("# One\n\n:::\n\n# Two\n", ["# One\n\n:::\n\n", "# Two\n"]),  # a closing mark with no div open opens none
])
def test_a_document_is_cut_where_pandoc_would_see_a_top_level_heading(markdown, pieces):
    assert split_at_headings(markdown) == pieces


def test_a_pandoc_failure_says_its_exit_code_and_message_without_pandoc_s_backtrace(tmp_path):
    pandoc = tmp_path / "pandoc"
    pandoc.write_text("#!/bin/sh\necho 'Unknown extension: foo' >&2\necho 'HasCallStack backtrace:' >&2\n"
                      "echo '  at Main.hs:3' >&2\nexit 64\n")
    pandoc.chmod(0o755)
    with pytest.raises(RendererError) as failed:
        PreviewHtml(str(pandoc), "/s.css").html("# One\n")
    assert str(failed.value) == ("pandoc failed (64) on the preview: Unknown extension: foo\n  hint: fix the Markdown "
                                 "at the place pandoc names (the report.qmd of a build shows it)")


def test_a_long_pandoc_complaint_is_cut_to_its_first_2000_characters(tmp_path):
    pandoc = tmp_path / "pandoc"
    pandoc.write_text("#!/bin/sh\nprintf 'x%.0s' $(seq 3000) >&2\nexit 1\n")
    pandoc.chmod(0o755)
    with pytest.raises(RendererError) as failed:
        PreviewHtml(str(pandoc), "/s.css").html("# One\n")
    assert failed.value.message == "pandoc failed (1) on the preview: " + "x" * 2000


def test_wide_characters_reach_the_page_as_they_are(pandoc):
    assert "<p>おきすつな</p>" in PreviewHtml(pandoc, "/s.css").html("# One\n\nおきすつな\n")
