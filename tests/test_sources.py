"""The templates' typed text, read by Jinja's lexer: prose, string literals and number literals, with lines."""
import re

from report.sources import Piece, pieces, places


def test_prose_strings_and_numbers_are_found_with_their_lines_and_comments_and_names_are_not(tmp_path):
    (tmp_path / "a.qmd.j2").write_text('Scored 97.5%\n{{ figure(x, "Loss at epoch 3", "fig-a") }} <#-- 9 --#>\n'
                                       "{% if n > 8 %}two\nlines{% endif %}\n")
    (tmp_path / "notes.txt").write_text("not a template: 5")
    found = pieces(tmp_path)
    assert Piece("a.qmd.j2", 1, "Scored 97.5%\n", "prose") in found
    assert Piece("a.qmd.j2", 2, '"Loss at epoch 3"', "string") in found
    assert Piece("a.qmd.j2", 3, "8", "number") in found
    assert not any(piece.text in (" 9 ", "figure", "n") for piece in found)
    assert places(found, re.compile(r"lines")) == ["a.qmd.j2:4"]  # the second line of a piece of prose
    assert places(found, re.compile(r"\d")) == ["a.qmd.j2:1", "a.qmd.j2:2"]
    assert places(found, re.compile(r"\d"), ["number"]) == ["a.qmd.j2:3"]


def test_a_template_jinja_cannot_read_is_skipped(tmp_path):
    (tmp_path / "broken.qmd.j2").write_text("{{ unclosed\n")
    (tmp_path / "good.qmd.j2").write_text("fine\n")
    assert [piece.template for piece in pieces(tmp_path)] == ["good.qmd.j2"]


def test_templates_are_read_in_name_order_and_float_literals_are_numbers(tmp_path):
    (tmp_path / "b.qmd.j2").write_text("{{ lit(2.5) }}\n")
    (tmp_path / "a.qmd.j2").write_text("Typed 2.5 here\n")
    found = pieces(tmp_path)
    assert Piece("b.qmd.j2", 1, "2.5", "number") in found
    assert places(found, re.compile(r"2\.5"), ["prose", "number"]) == ["a.qmd.j2:1", "b.qmd.j2:1"]
