"""Cross-references: each @sec-, @fig- and @tbl- reference names a label the document defines."""
from report.crossref import unresolved

DOCUMENT = ("# Results {#sec-results}\n\n![Loss.](loss.png){#fig-loss width=90%}\n\n"
            "# Every number {.appendix #sec-numbers}\n\n| a |\n|---|\n| 1 |\n\n: Counts {#tbl-counts}\n")


def templates(tmp_path, text: str):
    (tmp_path / "s.qmd.j2").write_text(text)
    return tmp_path


def test_references_to_defined_labels_resolve(tmp_path):
    markdown = DOCUMENT + "See @sec-results, @sec-numbers, @fig-loss and @tbl-counts.\n"
    assert unresolved(markdown, templates(tmp_path, "")) is None


def test_an_unknown_label_is_named_with_its_template_line_and_the_labels_of_its_kind(tmp_path):
    source = templates(tmp_path, "# Results {#sec-results}\n\nAs @sec-nope shows,\nand @fig-nope.\n")
    problem = unresolved(DOCUMENT + "As @sec-nope shows,\nand @fig-nope.\n", source)
    assert problem.message == (
        "unknown cross-reference @sec-nope at s.qmd.j2:3: no section is labelled sec-nope (the section labels "
        "are sec-numbers, sec-results); unknown cross-reference @fig-nope at s.qmd.j2:4: no figure is labelled "
        "fig-nope (the figure labels are fig-loss)")
    assert problem.hint == ("correct the reference, or give that label to what it refers to: a heading "
                            "`# Title {#sec-name}`, or the label argument of figure(), table() or matrix()")


def test_a_reference_an_expression_completes_is_placed_where_it_begins(tmp_path):
    source = templates(tmp_path, "intro\n\nThe heat-maps, @fig-heat-{{ key }}, follow.\n")
    problem = unresolved("The heat-maps, @fig-heat-lin, follow.\n", source)
    assert problem.message == ("unknown cross-reference @fig-heat-lin at s.qmd.j2:3: no figure is labelled "
                               "fig-heat-lin (no figure has a label)")


def test_a_reference_not_typed_in_any_template_says_so(tmp_path):
    problem = unresolved("See @tbl-gone.\n", templates(tmp_path, "nothing here\n"))
    assert problem.message == ("unknown cross-reference @tbl-gone at a template (not found in the sources): "
                               "no table is labelled tbl-gone (no table has a label)")


def test_references_in_code_e_mail_addresses_and_other_citations_are_not_cross_references(tmp_path):
    markdown = ("Run `grep @sec-x` or\n\n```\n@fig-y\n```\n\nwrite to me@sec-z.org; as @knuth84 says.\n"
                "A sentence ends at @sec-results.\n" + DOCUMENT)
    assert unresolved(markdown, templates(tmp_path, "")) is None


def test_a_reference_typed_in_several_places_names_each_once(tmp_path):
    source = templates(tmp_path, "As @sec-nope shows (@sec-nope),\n\nand @sec-nope again.\n{{ x }} @sec-nope\n")
    problem = unresolved("As @sec-nope shows,\n\nand @sec-nope again.\n", source)
    assert problem.message == ("unknown cross-reference @sec-nope at s.qmd.j2:1, s.qmd.j2:3, s.qmd.j2:4: no section is "
                               "labelled sec-nope (no section has a label)")
