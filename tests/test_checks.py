"""The detectors: each is fed a document it must accept and ones it must reject."""
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from report import checks
from report.errors import Mismatch

LEDGER = [
    {"id": "n1", "path": "s.acc", "value": 0.8596, "text": "85.96%", "kind": "pct", "digits": 2,
     "template": "s.qmd.j2", "line": 3},
    {"id": "n2", "path": "s.loss", "value": 0.1025, "text": "0.1025", "kind": "num", "digits": 4,
     "template": "s.qmd.j2", "line": 4},
]
RESULTS = {"s": {"acc": 0.8596, "loss": 0.1025, "runs": [1.0, 3.0]},
           "s@2": {"acc": 0.8, "loss": 0.2, "runs": [1.0]}}


def html(*body: str) -> str:
    return "<html><head><title>Report 2026</title><style>p{margin:0 1px}</style></head><body>" + \
        "".join(body) + "</body></html>"


def span(span_id: str, path: str, text: str) -> str:
    return f'<span id="{span_id}" class="num" title="{path}">{text}</span>'


GOOD = html("<p>NetConv reached ", span("n1", "s.acc", "85.96%"), " with loss ", span("n2", "s.loss", "0.1025"),
            '.</p><h2><span class="header-section-number">2.1</span> Results</h2><code class="literal">seed-0.json</code>')


def test_html_whose_traced_numbers_equal_the_store_passes():
    assert checks.verify_html(GOOD, LEDGER, RESULTS) == []


def test_a_number_outside_a_traced_span_is_reported():
    problems = checks.verify_html(GOOD.replace("</body>", "<p>about 97.5% of them</p></body>"), LEDGER, RESULTS)
    assert problems == ["report.html: number '97.5%' is not traced to a result"]


def test_a_traced_number_that_differs_from_the_store_names_its_template_line():
    problems = checks.verify_html(GOOD, LEDGER, {"s": {**RESULTS["s"], "acc": 0.8597}})
    assert problems == ["report.html #n1 (s.qmd.j2:3): prints '85.96%' from s.acc, the store gives '85.97%'"]


def test_a_span_missing_from_the_ledger_or_the_store_is_reported():
    orphan = GOOD.replace("</body>", span("n9", "s.acc", "85.96%") + "</body>")
    assert ["the store gives None" in p for p in checks.verify_html(orphan, LEDGER, RESULTS)] == [True]
    assert len(checks.verify_html(GOOD, LEDGER, {"s": {}})) == 2


def test_numbers_of_a_result_the_store_cannot_give_are_one_finding_not_one_per_number():
    assert checks.verify_html(GOOD, LEDGER, {"s@2": RESULTS["s@2"]}) == [
        "report.html prints 2 numbers of s, which has no readable stored result"]
    one = [{**LEDGER[0], "path": "len(s@2.runs)", "kind": "int", "digits": 0, "text": "1"}]
    page = html(span("n1", "len(s@2.runs)", "1"))
    assert checks.verify_html(page, one, {"s": RESULTS["s"]}) == [
        "report.html prints 1 number of s@2, which has no readable stored result"]
    assert checks.verify_html(page, one, RESULTS) == []


@pytest.mark.parametrize("path, kind, digits, text", [
    ("mean(s@*.acc)", "pct", 2, f"{100 * statistics.fmean([0.8596, 0.8]):.2f}%"),
    ("sd(s@*.loss)", "num", 4, f"{statistics.stdev([0.1025, 0.2]):.4f}"),
    ("len(s.runs)", "int", None, "2"),
    ("len(s.runs)", "num", 1, f"{2:.1f}"),  # a count in the format its ledger entry names
    ("literal:s.qmd.j2:7", "text", None, "10"),
])
def test_aggregates_counts_and_literals_are_recomputed(path, kind, digits, text):
    entry = {"id": "n1", "path": path, "value": None, "text": text, "kind": kind, "digits": digits,
             "template": "s.qmd.j2", "line": 1}
    assert checks.verify_html(html(span("n1", path, text)), [entry], RESULTS) == []
    if not path.startswith("literal:"):
        wrong = html(span("n1", path, text + "1"))
        assert len(checks.verify_html(wrong, [entry], RESULTS)) == 1


@pytest.fixture(scope="module")
def pdf(tmp_path_factory):
    # typst is compiled in a fresh interpreter: its compiler hangs in a process forked after it
    # ran once, which is how mutmut runs each mutant's tests.
    folder = tmp_path_factory.mktemp("pdf")
    (folder / "doc.typ").write_text(  # a narrow page, so lines break; an empty page inside a sentence
        "#set page(width: 3.2cm, height: auto, margin: 2mm)\nNetConv reached 85.96% with a\n#pagebreak()\n"
        "#pagebreak()\nloss of\n0.1025 and \u22121.5 on seed 8, trained on kuzushiji/characters.\n"
        "\nRun e00c14\u200baab573 ok.\n"  # a long word given a break opportunity, as in a narrow table cell
        '#set text(hyphenate: true, lang: "en")\nThe verdict: within tolerance, for s.pairs[3].predicted.\n')
    path = folder / "doc.pdf"
    subprocess.run([sys.executable, "-c", "import sys, typst; typst.compile(sys.argv[1], output=sys.argv[2])",
                    str(folder / "doc.typ"), str(path)], check=True, timeout=120)
    return path


def test_a_pdf_with_every_traced_number_passes(pdf):
    minus = {**LEDGER[0], "path": "s.delta", "text": "-1.5"}
    assert checks.verify_pdf(pdf, [*LEDGER, minus]) == []


def test_words_typst_hyphenated_at_a_line_end_are_found_whole_and_others_are_not(pdf):
    words = [{**LEDGER[0], "path": "s.verdict", "text": "within tolerance"},
             {**LEDGER[0], "path": "s.worst", "text": "s.pairs[3].predicted"}]
    assert checks.verify_pdf(pdf, words) == []
    assert checks.verify_pdf(pdf, [{**LEDGER[0], "path": "s.verdict", "text": "within toleration"}]) == [
        "report.pdf: s.verdict = 'within toleration' is missing from the PDF text"]


def test_a_pdf_missing_a_number_names_it_even_when_its_first_digits_are_present(pdf):
    absent = {**LEDGER[1], "text": "0.1026"}
    assert checks.verify_pdf(pdf, [LEDGER[0], absent]) == [
        "report.pdf: s.loss = '0.1026' is missing from the PDF text"]


def test_a_long_traced_word_given_break_opportunities_in_a_table_cell_is_found(pdf):
    fingerprint = {**LEDGER[1], "path": "provenance.fingerprint", "kind": "text", "text": "e00c14aab573"}
    assert checks.verify_pdf(pdf, [fingerprint]) == []


def test_untraced_numbers_skip_spans_literal_code_targets_references_exponents_and_front_matter(tmp_path):
    (tmp_path / "s.qmd.j2").write_text("It scored 97.5% on {{ r.s.acc | pct }}.\n")
    markdown = ('---\ntitle: "Report 2026"\n---\n'
                'It scored [85.96%]{#n1 .num title="s.acc"} in `seed-3.json`{.literal} (@sec-results-2, @fig-1).\n'
                '![A caption](results/s/seed-0.abc/fig_1.png){#fig-1 width=90%}\n'
                '## Results {#sec-results-2}\n\nOn a^n^b^2n^, see [the paper](https://arxiv.org/abs/1234.5678).\n'
                '```{.literal}\nseed 42\n```\n')
    assert checks.untraced_numbers(markdown, tmp_path) == []
    typed = checks.untraced_numbers(markdown + "It scored 97.5% overall.\n", tmp_path)
    assert len(typed) == 1 and "'97.5%'" in typed[0] and "s.qmd.j2:1" in typed[0]
    elsewhere = checks.untraced_numbers(markdown + "About 42 runs.\n", tmp_path)
    assert "a template (not found in the sources)" in elsewhere[0]


def test_an_empty_traced_text_needs_nothing_in_the_pdf(pdf):
    empty = {**LEDGER[0], "path": "s.note", "kind": "text", "text": " "}
    assert checks.verify_pdf(pdf, [empty]) == []


def test_a_traced_text_the_pdf_breaks_across_lines_or_pages_is_found(pdf):
    # typst breaks the line after "kuzushiji/" and puts an empty page between "with a" and "loss"
    texts = [{**LEDGER[1], "path": f"s.t{i}", "kind": "text", "text": t}
             for i, t in enumerate(["kuzushiji/characters", "85.96% with a loss of 0.1025"])]
    assert checks.verify_pdf(pdf, texts) == []
    assert checks.verify_pdf(pdf, [{**texts[0], "text": "kuzushiji characters"}]) == [
        "report.pdf: s.t0 = 'kuzushiji characters' is missing from the PDF text"]


def test_a_traced_text_the_pdf_hyphenates_at_a_line_end_is_found(tmp_path):
    # on so narrow a page typst breaks the line after "scipy-" and hyphenates "open-blas"
    (tmp_path / "doc.typ").write_text("#set page(width: 1.6cm, height: auto, margin: 2mm)\n"
                                      "#set text(hyphenate: true)\nnumpy: BLAS scipy-openblas 0.3.31\n")
    subprocess.run([sys.executable, "-c", "import sys, typst; typst.compile(sys.argv[1], output=sys.argv[2])",
                    str(tmp_path / "doc.typ"), str(tmp_path / "doc.pdf")], check=True, timeout=120)
    entry = {**LEDGER[1], "path": "provenance.machines[0].libraries", "kind": "text",
             "text": "numpy: BLAS scipy-openblas 0.3.31"}
    assert checks.verify_pdf(tmp_path / "doc.pdf", [entry]) == []
    assert len(checks.verify_pdf(tmp_path / "doc.pdf", [{**entry, "text": "scipy-openblas 0.3.32"}])) == 1


def test_every_typed_place_of_a_number_is_named_with_the_hint(tmp_path):
    (tmp_path / "a.qmd.j2").write_text("intro\nabout 42 runs\n")
    (tmp_path / "b.qmd.j2").write_text("42 more\n")
    assert checks.untraced_numbers("about 42 runs\n42 more\n", tmp_path) == [
        "number '42' is typed into a.qmd.j2:2, b.qmd.j2:1, not taken from results; "
        "print it from a result with a filter, or declare it with lit()"]
    assert checks.untraced_numbers("7 runs\n", tmp_path) == [
        "number '7' is typed into a template (not found in the sources), not taken from results; "
        "print it from a result with a filter, or declare it with lit()"]


def test_numbers_on_both_sides_of_a_horizontal_rule_after_front_matter_are_found(tmp_path):
    markdown = '---\ntitle: "Report"\n---\nabout 42 runs\n\n---\n\nand 7 seeds\n'
    assert [p.split(" is typed")[0] for p in checks.untraced_numbers(markdown, tmp_path)] == [
        "number '42'", "number '7'"]


def test_a_digit_typed_against_a_span_code_or_figure_target_is_found_at_its_line(tmp_path):
    (tmp_path / "s.qmd.j2").write_text("{{ r.s.n | num(2) }}0 runs <#-- 9 --#>{% if 8 %}\n`seed`5\n"
                                       "{{ figure(r.s.figures.loss, 'Loss at epoch 3', 'fig-loss') }}\n"
                                       "2 seeds, 9 and 8\n")
    markdown = ('[5.00]{#n1 .num title="s.n"}0 runs\n`seed`5\n'
                '![Loss at epoch 3](results/s/loss.png){#fig-loss width=90%}\n2 seeds, 9 and 8\n')
    found = {p.split("'")[1]: p.split(" is typed into ")[1].split(", not taken")[0]
             for p in checks.untraced_numbers(markdown, tmp_path)}
    # comments and {% %} are not where a typed number came from; a caption's string literal is
    assert found == {"0": "s.qmd.j2:1", "5": "s.qmd.j2:2", "3": "s.qmd.j2:3",
                     "2": "s.qmd.j2:4", "9": "s.qmd.j2:4", "8": "s.qmd.j2:4"}


def test_a_typed_number_is_found_in_a_template_with_non_ascii_prose_under_a_windows_locale(tmp_path, monkeypatch):
    (tmp_path / "s.qmd.j2").write_text("精度について 97.5% です\n", encoding="utf-8")
    read_text = Path.read_text
    monkeypatch.setattr(Path, "read_text",  # what Windows does when no encoding is given
                        lambda self, encoding=None, errors=None: read_text(self, encoding or "cp1252", errors))
    problems = checks.untraced_numbers("精度について 97.5% です\n", tmp_path)
    assert len(problems) == 1 and "typed into s.qmd.j2:1," in problems[0]


def test_numbers_in_scripts_styles_navigation_literal_code_exponents_and_section_numbers_are_not_prose():
    page = html('<nav><ul><li><a href="#s"><span class="toc-section-number">2</span> Results 2026</a></li></ul></nav>',
                '<script>var width = 1.5;</script><p>See <code class="literal">seed-3</code>, b<sup>2n</sup>.</p>',
                '<pre class="literal"><code>seed 42</code></pre>',
                '<h2><span class="header-section-number">2</span> Results</h2>',
                '<p>As in <a href="#fig-1"><span class="xref-label">Figure 3</span></a>.</p>')
    assert checks.verify_html(page, LEDGER, RESULTS) == []


def test_a_number_after_a_void_element_inside_code_is_still_reported():
    page = html("<p><code>x<br>y</code> about 42 runs</p>")
    assert checks.verify_html(page, LEDGER, RESULTS) == ["report.html: number '42' is not traced to a result"]


def test_numbers_in_adjacent_table_cells_are_each_reported():
    page = html("<table><tr><td>12</td><td>7</td></tr></table>")
    assert checks.verify_html(page, LEDGER, RESULTS) == ["report.html: number '12' is not traced to a result",
                                                         "report.html: number '7' is not traced to a result"]


def test_a_span_is_compared_by_all_its_text_even_when_markup_splits_it():
    split = html("<p>", span("n1", "s.acc", "85.<em>96</em>%"), "</p>")
    assert checks.verify_html(split, LEDGER, RESULTS) == []
    prefixed = html("<p>", span("n1", "s.acc", "9<em>85.96%</em>"), "</p>")
    assert checks.verify_html(prefixed, LEDGER, RESULTS) == [
        "report.html #n1 (s.qmd.j2:3): prints '985.96%' from s.acc, the store gives '85.96%'"]


def test_a_span_missing_from_the_ledger_is_reported_without_a_template_line():
    orphan = html(span("n9", "s.acc", "85.96%"))
    assert checks.verify_html(orphan, LEDGER, RESULTS) == [
        "report.html #n9: prints '85.96%' from s.acc, the store gives None"]


def test_an_aggregate_over_a_key_with_parentheses_is_recomputed():
    results = {"s": {"acc(top1)": 0.5}, "s@2": {"acc(top1)": 0.7}}
    text = f"{statistics.fmean([0.5, 0.7]):.3f}"
    entry = {"id": "n1", "path": "mean(s@*.acc(top1))", "value": None, "text": text, "kind": "num",
             "digits": None, "template": "s.qmd.j2", "line": 1}
    assert checks.verify_html(html(span("n1", entry["path"], text)), [entry], results) == []


def test_prose_that_pandoc_typeset_with_curly_quotes_dashes_and_ellipses_still_matches_but_other_words_do_not():
    ledger = [{"id": "n1", "path": "s.why", "value": "it's --force ...", "text": "it's --force ...", "kind": "text",
               "digits": None, "template": "s.qmd.j2", "line": 1}]
    results = {"s": {"why": "it's --force ..."}}
    typeset = html(span("n1", "s.why", "it\u2019s \u2013force \u2026"))
    assert checks.verify_html(typeset, ledger, results) == []
    assert len(checks.verify_html(html(span("n1", "s.why", "its \u2013force \u2026")), ledger, results)) == 1


@pytest.mark.parametrize("prose, tokens", [
    ("about 5k runs, 16x faster, the 3rd restart, a 3x3 kernel, 1e-3, 10ms, 16倍", ["5k", "16x", "3rd", "3x", "1e", "3",
                                                                                 "10ms", "16倍"]),
    ("h1, x10, fp16, float32, NetConv2, b^2n^, H~2~O, seed_3 and @fig-width-16", []),
    ("typed `58.50%` in code, and `seed-3.json`{.literal} marked literal", ["58.50%"]),
    ("```\nseed 42\n```\n\n```{.literal}\nseed 43\n```\n\n~~~ literal\nseed 44\n~~~\n", ["42"]),
], ids=["glued", "names and notation", "inline code", "code blocks"])
def test_what_counts_as_a_typed_number(tmp_path, prose, tokens):
    found = checks.untraced_numbers(prose + "\n", tmp_path)
    assert [p.split("'")[1] for p in found] == sorted(tokens) and all(p.kind is Mismatch.TYPED for p in found)


def test_a_number_in_code_not_marked_literal_is_reported_in_the_html():
    page = html("<p>It scored <code>58.50%</code>.</p>", '<pre><code>seed 42</code></pre>')
    assert checks.verify_html(page, LEDGER, RESULTS) == ["report.html: number '58.50%' is not traced to a result",
                                                         "report.html: number '42' is not traced to a result"]


def test_findings_carry_their_kind():
    stale = checks.verify_html(GOOD, LEDGER, {"s": {**RESULTS["s"], "acc": 0.8597}})
    typed = checks.verify_html(GOOD.replace("</body>", "<p>42</p></body>"), LEDGER, RESULTS)
    assert [p.kind for p in stale] == [Mismatch.STALE] and [p.kind for p in typed] == [Mismatch.TYPED]


def test_a_false_claim_is_a_finding_of_its_own_kind_naming_its_line():
    from report.render import Claim

    found = checks.false_claims([Claim("conv wins", True, "s.qmd.j2", 3), Claim("lin loses", False, "s.qmd.j2", 4)])
    assert found == ["claim 'lin loses' (s.qmd.j2:4) does not hold in the results"]
    assert found[0].kind is Mismatch.CLAIM


def test_a_typed_number_is_placed_at_the_number_literal_when_no_prose_or_string_holds_it(tmp_path):
    (tmp_path / "s.qmd.j2").write_text("intro\n{{ matrix(r.s.m, r.s.labels, [0, 7], 'C.', 'tbl-c') }}\n")
    assert checks.untraced_numbers("| | 0 | 7 |\n", tmp_path)[1].startswith("number '7' is typed into s.qmd.j2:2,")


def test_a_number_in_prose_the_check_does_not_read_is_not_named_as_its_source(tmp_path):
    (tmp_path / "s.qmd.j2").write_text("See @fig-width-16 and `16`{.literal}.\nAbout 16 runs.\n")
    assert checks.untraced_numbers("About 16 runs.\n", tmp_path)[0].startswith("number '16' is typed into s.qmd.j2:2,")


def test_a_pdf_that_cannot_be_read_is_one_problem_saying_to_rebuild(tmp_path):
    (tmp_path / "report.pdf").write_text("<html>not a pdf</html>")
    for pdf in (tmp_path / "report.pdf", tmp_path / "missing.pdf"):
        [problem] = checks.verify_pdf(pdf, LEDGER)
        assert problem.startswith("report.pdf cannot be read as a PDF (")
        assert problem.endswith("); rebuild it with `python build.py`")
