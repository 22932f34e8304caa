"""Tables that fit the page and links that resolve: the pandoc backend's filters (report/assets/*.lua)."""
import re
import subprocess

import pytest

from report.backends.pandoc import ASSETS, FILTERS

ZWSP = "\u200b"
PATH = "kmnist.models.lin.param_layers[0].factors[*]"


@pytest.fixture(scope="module")
def pandoc():
    pypandoc = pytest.importorskip("pypandoc")
    return pypandoc.get_pandoc_path()


def convert(pandoc, markdown: str, to: str) -> str:
    filters = [arg for name in FILTERS for arg in ("--lua-filter", str(ASSETS / name))]
    return subprocess.run([pandoc, "--from", "markdown", "--to", to, "--wrap=none", *filters],
                          input=markdown, capture_output=True, text=True, check=True).stdout


def table(cells: str, attributes: str = "{#tbl-x}") -> str:
    """A pipe table with a line past pandoc's 72 columns, which makes pandoc take its widths from the dashes."""
    return (f"| numbers | printed | result path |\n|:--|------------------------------:|:--|\n| {cells} |\n"
            f"| a row | long enough | to pass the seventy-two columns of pandoc's default text width |\n\n"
            f": Caption. {attributes}\n")


def test_every_table_is_sized_by_its_content_except_one_that_asks_for_its_dashes_widths(pandoc):
    auto = convert(pandoc, table("n1 | 5 | `a.b`"), "typst")
    assert re.search(r"columns: 3,", auto) and "%" not in auto.split("columns:")[1].split("\n")[0]
    assert "<colgroup>" not in convert(pandoc, table("n1 | 5 | `a.b`"), "html")
    fixed = convert(pandoc, table("n1 | 5 | `a.b`", "{#tbl-numbers .widths}"), "typst")
    assert re.search(r"columns: \(\d+(\.\d+)?%, \d+(\.\d+)?%, \d+(\.\d+)?%\)", fixed)
    assert "#[#set text(size: 0.85em)" in fixed  # set smaller in the PDF
    assert "<colgroup>" in convert(pandoc, table("n1 | 5 | `a.b`", "{#tbl-numbers .widths}"), "html")


def test_a_result_path_in_a_table_cell_may_break_after_each_dot_bracket_and_underscore(pandoc):
    typst = convert(pandoc, table(f"n1 | 5 | `{PATH}`"), "typst")
    assert f"kmnist.{ZWSP}models.{ZWSP}lin.{ZWSP}param_{ZWSP}layers{ZWSP}[0]{ZWSP}.{ZWSP}factors{ZWSP}[*]" in typst
    html = convert(pandoc, table(f"n1 | 5 | `{PATH}`"), "html")
    code = re.search(r"<code>(.*?)</code>", html).group(1)
    assert "<wbr>" in code and code.replace("<wbr>", "") == PATH  # a reader copying it copies the path
    assert ZWSP not in html
    prose = convert(pandoc, f"The path `{PATH}` in prose.\n", "typst")
    assert ZWSP not in prose


def test_code_given_break_points_keeps_its_classes_so_the_guard_still_reads_it_as_literal(pandoc):
    html = convert(pandoc, table("n1 | 5 | `toy.qmd.j2:22`{.literal}"), "html")
    assert re.search(r'<code class="literal">toy.<wbr>qmd.<wbr>j2:<wbr>22</code>', html)
    assert "<code>toy" in convert(pandoc, table("n1 | 5 | `toy.qmd.j2:22`"), "html")


def test_a_word_of_twenty_letters_or_more_breaks_every_ten_letters_but_shorter_ones_never(pandoc):
    commit = "36ed88887ab8e8952d775e37abcea0c7bceb850c"
    typst = convert(pandoc, table(f"n1 | {commit} | `a_very_long_namewithoutanybreakatall`", "{.widths}"), "typst")
    assert ZWSP.join(re.findall(".{1,10}", commit)) in typst
    assert f"namewithou{ZWSP}tanybreaka{ZWSP}tall" in typst
    short = convert(pandoc, table("n1 | 0.0010, 1,000,000 | `x`", "{.widths}"), "typst")
    assert "0.0010, 1,000,000" in short


def test_tables_in_the_pdf_are_neither_hyphenated_nor_justified_and_keep_their_caption(pandoc):
    typst = convert(pandoc, table("n1 | 5 | `a`"), "typst")
    rules = typst.split("#figure")[0]
    assert "#show table: set text(hyphenate: false)" in rules
    assert "#show table: set par(justify: false)" in rules
    assert "#show figure.caption.where(kind: table): it => block(sticky: true, it)" in rules
    assert "hyphenate" not in convert(pandoc, table("n1 | 5 | `a`"), "html")


def test_a_link_to_an_id_the_document_lacks_is_plain_text_in_the_pdf_and_left_in_the_html(pandoc):
    markdown = ("# Numbers {#sec-numbers}\n\n| n |\n|--|\n| [n1]{#row-n1} |\n\n"
                "See [its row](#row-n1), [the appendix](#sec-numbers) and [a row never written](#row-n9).\n")
    typst = convert(pandoc, markdown, "typst")
    assert "#link(<row-n1>)[its row]" in typst and "#link(<sec-numbers>)[the appendix]" in typst
    assert "a row never written" in typst and "row-n9" not in typst
    assert 'href="#row-n9"' in convert(pandoc, markdown, "html")
