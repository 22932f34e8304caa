"""Templates to Markdown: the ledger, traced spans, literals, tables and claims."""
import re
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import pytest

from report import checks
from report.errors import ClaimError, Mismatch, TemplateProblem
from report.render import Claim, Renderer, _traceback_location
from report.view import SectionView
from report.store import Record


def render(tmp_path, body: str, data: dict, draft=False, appendix: str = ""):
    (tmp_path / "report.qmd.j2").write_text(body)
    (tmp_path / "numbers.qmd.j2").write_text(appendix)
    record = Record("sec", 1, "fp", {}, data, {"profile_config": {"lr": 0.5}}, tmp_path / "art")
    return Renderer(tmp_path, tmp_path, draft=draft).render([SectionView("sec", [record])], {})


def test_filters_print_a_traced_span_and_record_the_path(tmp_path):
    doc = render(tmp_path, "Accuracy {{ r.sec.acc | pct(2) }}, lr {{ r.sec.config.lr | num(1) }}.", {"acc": 0.8596})
    assert doc.text == ('Accuracy [85.96%]{#n1 .num title="sec.acc"}, lr [0.5]{#n2 .num title="sec.config.lr"}.')
    assert [(e.path, e.text, e.template, e.line) for e in doc.ledger.entries] == [
        ("sec.acc", "85.96%", "report.qmd.j2", 1), ("sec.config.lr", "0.5", "report.qmd.j2", 1)]


def test_a_bare_number_is_a_template_error_naming_the_line_and_the_filters(tmp_path):
    with pytest.raises(TemplateProblem) as error:
        render(tmp_path, "ok\n{{ r.sec.acc }}", {"acc": 0.5})
    assert error.value.message == "report.qmd.j2:2: the number 0.5 is printed without a format filter"
    assert error.value.hint == "use | num(3), | pct(2), | int or lit(...)"


def test_a_derived_number_has_no_path_and_is_refused_pointing_to_the_experiment(tmp_path):
    with pytest.raises(TemplateProblem) as error:
        render(tmp_path, "{{ (r.sec.acc * 2) | num }}", {"acc": 0.5})
    assert error.value.message == f"report.qmd.j2:1: the value {0.5 * 2!r} has no result path"
    assert error.value.hint == ("print values taken from r.<section>...; compute derived numbers in the "
                                "experiment, or declare a literal with lit()")


@pytest.mark.parametrize("body", ["a\nb\n{{ r.sec.nothing | num }}", "a\nb\n{{ r.sec.nothing }}",
                                  "a\nb\n{% if r.sec.nothing %}x{% endif %}"])
def test_an_undefined_value_is_an_error_naming_the_template_line_even_where_it_would_print_nothing(tmp_path, body):
    with pytest.raises(TemplateProblem) as error:
        render(tmp_path, body, {"acc": 0.5})
    assert error.value.message.startswith("report.qmd.j2:3: undefined value: ")
    assert "'nothing'" in error.value.message
    assert error.value.hint == "check the name against the section's results (see _build/results)"


def test_a_syntax_error_names_the_template_and_line(tmp_path):
    with pytest.raises(TemplateProblem) as error:
        render(tmp_path, "a\n{% if %}", {})
    assert error.value.message.startswith("template syntax error in report.qmd.j2, line 2: ")
    assert error.value.hint == "fix the template at that line"


@pytest.mark.parametrize("body,others,message,hint", [
    ("a\n{% include 'report.qmd.j2' %}", {}, "report.qmd.j2:2: templates include each other (or a macro calls "
     "itself) without end", "remove the include that leads back to a template already being rendered"),
    ("a\n{% include 'part.j2' %}", {"part.j2": "b\n\n{% include 'gone.j2' %}"}, "part.j2:3: no template 'gone.j2' in ",
     "create it, or correct the name in the include"),
    ('a\n{{ num("x") }}', {}, "report.qmd.j2:2: num is a filter, not a function",
     "write {{ r.<section>.<value> | num }}"),
    ("a\n\n{{ 1/0 }}", {}, "report.qmd.j2:3: ZeroDivisionError: division by zero", "fix the expression at that line"),
    ("{{ r.sec.acc | num('x') }}", {}, "report.qmd.j2:1: ValueError: ", "fix the expression at that line"),
], ids=["includes itself", "includes a missing file", "a filter called", "divides by zero", "a bad format"])
def test_a_template_that_fails_while_rendering_names_the_template_and_line(tmp_path, body, others, message, hint):
    for name, text in others.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(TemplateProblem) as error:
        render(tmp_path, body, {"acc": 0.5})
    assert error.value.message.startswith(message) and error.value.hint == hint


def test_comments_are_dropped_and_pandoc_attributes_and_the_final_newline_kept(tmp_path):
    doc = render(tmp_path, "A<#-- 5 runs --#>B\n## Results {#sec-results}\n", {})
    assert doc.text == "A" + "B\n## Results {#sec-results}\n"


def test_a_hand_typed_number_is_found_with_its_template_line(tmp_path):
    doc = render(tmp_path, "Accuracy {{ r.sec.acc | pct(1) }}\nbeats 85.96% by hand.", {"acc": 0.9})
    problems = checks.untraced_numbers(doc.text, tmp_path)
    assert len(problems) == 1 and "'85.96%'" in problems[0] and "report.qmd.j2:2" in problems[0]


def test_declared_literals_and_word_digits_are_not_untraced(tmp_path):
    doc = render(tmp_path, "h1 and x10 and fp16 and a^n^b^2n^ and H~2~O and {{ lit('100%') }}", {})
    assert checks.untraced_numbers(doc.text, tmp_path) == []


def test_tables_trace_every_cell(tmp_path):
    doc = render(tmp_path, '{{ table(r.sec.rows, [("name", "model", "label"), ("acc", "accuracy", "pct:1")], "Cap.", "tbl-x") }}',
                 {"rows": [{"name": "lin", "acc": 0.7}, {"name": "conv", "acc": 0.95}]})
    assert [e.path for e in doc.ledger.entries] == ["sec.rows[0].name", "sec.rows[0].acc", "sec.rows[1].name",
                                                    "sec.rows[1].acc"]
    assert "{#tbl-x}" in doc.text and '| [lin]{#n1 .num title="sec.rows[0].name"}' in doc.text


def test_a_false_claim_fails_the_build_naming_it(tmp_path):
    body = '{% call claim("conv beats lin", r.sec.conv > r.sec.lin) %}Conv wins.{% endcall %}'
    assert "Conv wins." in render(tmp_path, body, {"conv": 0.9, "lin": 0.7}).text
    with pytest.raises(ClaimError) as error:
        render(tmp_path, body, {"conv": 0.6, "lin": 0.7})
    assert error.value.message == "claim 'conv beats lin' (report.qmd.j2:1) does not hold in the results"
    assert error.value.hint == "rewrite the sentence for the new results, or build with --draft to see it marked"


def test_a_renderer_fails_on_a_false_claim_unless_asked_for_a_draft(tmp_path):
    (tmp_path / "report.qmd.j2").write_text('{% call claim("x is positive", r.sec.x > 0) %}X.{% endcall %}')
    (tmp_path / "numbers.qmd.j2").write_text("")
    record = Record("sec", 1, "fp", {}, {"x": -1}, {"profile_config": {}}, tmp_path)
    with pytest.raises(ClaimError):
        Renderer(tmp_path, tmp_path).render([SectionView("sec", [record])], {})


def test_draft_mode_marks_a_false_claim_instead_of_failing(tmp_path):
    body = '{% call claim("conv beats lin", r.sec.conv > r.sec.lin) %}Conv wins.{% endcall %}'
    doc = render(tmp_path, body, {"conv": 0.6, "lin": 0.7}, draft=True)
    assert "FALSE CLAIM" in doc.text and doc.claims[0].holds is False


def test_ranked_orders_items_by_their_value(tmp_path):
    doc = render(tmp_path, '{{ ranked(r.sec.models, "acc", kind="pct", digits=0) }}',
                 {"models": [{"name": "lin", "acc": 0.7}, {"name": "conv", "acc": 0.95}]})
    assert re.sub(r"\{[^}]*\}", "", doc.text) == "[conv] ([95%]) > [lin] ([70%])"


def test_the_numbers_appendix_lists_every_body_number_with_its_source(tmp_path):
    appendix = (ROOT / "templates" / "numbers.qmd.j2").read_text()
    body = "A {{ r.sec.a | num(1) }} and {% for v in r.sec.rows %}{{ v | int }} {% endfor %}."
    doc = render(tmp_path, body, {"a": 0.25, "rows": [1, 2500, 3, 4, 5, 6]}, appendix=appendix)
    assert f'| [[n1](#n1)]{{#row-n1}} | [{0.25:.1f}]{{#n8 .num title="sec.a"}} | `sec.a`{{.literal}} | `report.qmd.j2:1`{{.literal}} |' in doc.text
    assert ('| [[n2](#n2)–[n7](#n7)]{#row-n2} | [1]{#n9 .num title="sec.rows[0]"}, ..., '
            '[6]{#n10 .num title="sec.rows[5]"} | `sec.rows[*]`{.literal} | `report.qmd.j2:1`{.literal} |') in doc.text
    assert [g["anchor"] for g in doc.groups] == ["row-n1", "row-n2"]  # what the HTML's cards link to
    assert checks.untraced_numbers(doc.text, tmp_path) == []


def test_spread_gives_mean_sd_and_each_seed(tmp_path):
    (tmp_path / "report.qmd.j2").write_text("{{ spread(r.sec.acc, 'pct', 1) }}")
    (tmp_path / "numbers.qmd.j2").write_text("")
    records = [Record("sec", seed, "fp", {}, {"acc": acc}, {"profile_config": {}}, tmp_path)
               for seed, acc in ((1, 0.5), (2, 0.7), (3, 0.9))]
    doc = Renderer(tmp_path, tmp_path).render([SectionView("sec", records)], {})
    texts = [e.text for e in doc.ledger.entries]
    assert texts[:2] == ["70.0%", "20.0%"] and texts[2:] == ["1", "50.0%", "2", "70.0%", "3", "90.0%"]
    results = doc.results
    ledger = [vars(e) for e in doc.ledger.entries]
    assert all(checks._expected_text(e, results) == e["text"] for e in ledger)


def render_seeds(tmp_path, body: str, data_by_seed: dict, out_dir=None, provenance=None):
    """Render ``body`` over one section with a result per seed (the first seed is the primary one)."""
    (tmp_path / "report.qmd.j2").write_text(body)
    (tmp_path / "numbers.qmd.j2").write_text("")
    out_dir = out_dir or tmp_path
    records = [Record("sec", seed, "fp", {}, data, {"profile_config": {}}, out_dir / "results" / "sec" / f"seed-{seed}")
               for seed, data in data_by_seed.items()]
    return Renderer(tmp_path, out_dir).render([SectionView("sec", records)], provenance or {})


def test_a_literal_prints_the_value_the_template_states_and_names_its_line(tmp_path):
    doc = render(tmp_path, "Digits\n{{ lit(10) }} classes", {})
    assert doc.text == 'Digits\n[10]{#n1 .num title="literal:report.qmd.j2:2"} classes'
    assert (doc.ledger.entries[0].value, doc.ledger.entries[0].text) == (10, "10")


def test_count_prints_the_length_of_a_result_list_traced_to_it(tmp_path):
    doc = render(tmp_path, "{{ r.sec.clusters | count }} clusters", {"clusters": [3, 1, 4]})
    assert doc.text == '[3]{#n1 .num title="len(sec.clusters)"} clusters'
    assert checks._expected_text(vars(doc.ledger.entries[0]), doc.results) == "3"


def test_spread_of_a_nested_value_prints_mean_sd_and_each_seed_in_the_default_format(tmp_path):
    doc = render_seeds(tmp_path, "{{ spread(r.sec.m.acc) }}", {1: {"m": {"acc": 0.5}}, 2: {"m": {"acc": 0.75}}})
    mean, sd = statistics.fmean([0.5, 0.75]), statistics.stdev([0.5, 0.75])
    assert doc.text == (f'(mean [{mean:.3f}]{{#n1 .num title="mean(sec@*.m.acc)"}} '
                        f'± [{sd:.3f}]{{#n2 .num title="sd(sec@*.m.acc)"}} over seeds; '
                        '[1]{#n3 .num title="provenance.seeds.sec"}: [0.500]{#n4 .num title="sec.m.acc"}, '
                        '[2]{#n5 .num title="provenance.seeds.sec@2"}: [0.750]{#n6 .num title="sec@2.m.acc"})')
    assert all(checks._expected_text(vars(e), doc.results) == e.text for e in doc.ledger.entries)


def test_spread_over_a_single_seed_prints_nothing(tmp_path):
    doc = render_seeds(tmp_path, "acc{{ spread(r.sec.acc) }}.", {4: {"acc": 0.5}})
    assert doc.text == "acc." and doc.ledger.entries == []


SOURCE = ('[Source: [loss.png]{#n1 .num title="sec.figures.loss"} in the stored result of sec, '
          'seed [1]{#n2 .num title="provenance.seeds.sec"}; [its row in the appendix](#row-n1).]{.figure-source}')


def test_a_figure_links_its_artifact_relative_to_the_document(tmp_path):
    doc = render_seeds(tmp_path, "{{ figure(r.sec.figures.loss, 'Loss per epoch.', 'fig-loss') }}",
                       {1: {"figures": {"loss": "loss.png"}}}, out_dir=tmp_path / "_build")
    assert doc.text == f"![Loss per epoch. {SOURCE}](results/sec/seed-1/loss.png){{#fig-loss width=90%}}\n"
    doc = render_seeds(tmp_path, "{{ figure(r.sec.figures.loss, 'Loss.', 'fig-loss', width='40%') }}",
                       {1: {"figures": {"loss": "loss.png"}}}, out_dir=tmp_path / "_build")
    assert doc.text == f"![Loss. {SOURCE}](results/sec/seed-1/loss.png){{#fig-loss width=40%}}\n"


def test_a_figure_names_its_result_seed_and_run_fingerprint_traced_and_links_its_appendix_row(tmp_path):
    units = [{"seed": 1, "fingerprint": "aaaaaaaaaaaa"}, {"seed": 2, "fingerprint": "bbbbbbbbbbbb"}]
    figures = {"figures": {"loss": "loss.png"}}
    doc = render_seeds(tmp_path, "{{ r.sec.figures.loss | text }}\n{{ figure(r.sec.figures.loss, 'Loss.', 'fig-a') }}"
                       "\n{{ figure(r.sec.figures.loss, 'Again.', 'fig-b') }}", {2: figures, 1: figures},
                       provenance={"sections": [{"name": "other", "units": []}, {"name": "sec", "units": units}]})
    source = re.findall(r"\[Source: .*?\]\{\.figure-source\}", doc.text)
    assert source[0] == ('[Source: [loss.png]{#n2 .num title="sec.figures.loss"} in the stored result of sec, '
                         'seed [2]{#n3 .num title="provenance.seeds.sec"}, fingerprint [bbbbbbbbbbbb]{#n4 .num '
                         'title="provenance.sections[1].units[1].fingerprint"}; [its row in the appendix](#row-n2).]'
                         '{.figure-source}')
    assert source[1].endswith("; [its row in the appendix](#row-n5).]{.figure-source}")  # its own template line
    assert all(checks._expected_text(vars(e), doc.results) == e.text for e in doc.ledger.entries)
    assert checks.untraced_numbers(doc.text, tmp_path) == []


def pipe_table(text: str) -> tuple[list[list[str]], list[str], str]:
    """A pipe table's rows of stripped cells (header first), its column alignments, and what follows it."""
    table, _, rest = text.partition("\n\n")
    lines = table.splitlines()
    cells = [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]
    align = [{(True, False): "left", (False, True): "right"}[(c.startswith(":"), c.endswith(":"))] for c in cells[1]]
    return [cells[0], *cells[2:]], align, rest


def test_a_table_aligns_labels_left_and_numbers_right_and_traces_labels_verbatim(tmp_path):
    doc = render(tmp_path, '{{ table(r.sec.rows, [("name", "model", "label"), ("acc", "accuracy", "pct:1")], '
                 '"Accuracy by model.", "tbl-acc") }}',
                 {"rows": [{"name": "0.10", "acc": 0.7}, {"name": "1.00", "acc": 0.95}]})
    rows, align, caption = pipe_table(doc.text)
    assert rows == [["model", "accuracy"],
                    ['[0.10]{#n1 .num title="sec.rows[0].name"}', f'[{100 * 0.7:.1f}%]{{#n2 .num title="sec.rows[0].acc"}}'],
                    ['[1.00]{#n3 .num title="sec.rows[1].name"}', f'[{100 * 0.95:.1f}%]{{#n4 .num title="sec.rows[1].acc"}}']]
    assert align == ["left", "right"] and caption == ": Accuracy by model. {#tbl-acc}\n"


def test_a_table_label_is_escaped_so_a_pipe_cannot_break_the_row(tmp_path):
    doc = render(tmp_path, '{{ table(r.sec.rows, [("name", "model", "label")], "Models.", "tbl-m") }}',
                 {"rows": [{"name": "a|b"}, {"name": "XOR"}]})
    assert pipe_table(doc.text)[0] == [["model"], ['[a\\|b]{#n1 .num title="sec.rows[0].name"}'],
                                       ['[XOR]{#n2 .num title="sec.rows[1].name"}']]


def test_a_matrix_traces_row_labels_that_look_like_numbers_and_has_an_empty_corner_by_default(tmp_path):
    doc = render(tmp_path, "{{ matrix(r.sec.m, r.sec.labels, ['low', 'high'], 'Counts.', 'tbl-c') }}",
                 {"m": [[1, 2], [3, 4]], "labels": ["0.10", "1.00"]})
    rows, _, _ = pipe_table(doc.text)
    assert [row[0] for row in rows] == ["", '[0.10]{#n1 .num title="sec.labels[0]"}',
                                        '[1.00]{#n4 .num title="sec.labels[1]"}'] and rows[0] == ["", "low", "high"]
    assert checks.untraced_numbers(doc.text, tmp_path) == []


def test_a_matrix_traces_every_cell_and_escapes_its_labels(tmp_path):
    doc = render(tmp_path, "{{ matrix(r.sec.confusion, r.sec.labels, [0, 1], 'Confusion.', 'tbl-conf', corner='true') }}",
                 {"confusion": [[5, 1200], [0, 7]], "labels": ["a_b", "c"]})
    rows, align, caption = pipe_table(doc.text)
    assert rows == [["true", "0", "1"],  # column labels the template typed stay as typed
                    ['[a\\_b]{#n1 .num title="sec.labels[0]"}', '[5]{#n2 .num title="sec.confusion[0][0]"}',
                     f'[{1200:,}]{{#n3 .num title="sec.confusion[0][1]"}}'],
                    ['[c]{#n4 .num title="sec.labels[1]"}', '[0]{#n5 .num title="sec.confusion[1][0]"}',
                     '[7]{#n6 .num title="sec.confusion[1][1]"}']]
    assert align == ["left", "right", "right"] and caption == ": Confusion. {#tbl-conf}\n"


def test_a_matrix_prints_row_labels_the_template_typed_exactly_as_typed(tmp_path):
    doc = render(tmp_path, "{{ matrix(r.sec.m, ['0.50', '1.00'], ['x'], 'By rate.', 'tbl-r') }}", {"m": [[1], [2]]})
    assert [row[0] for row in pipe_table(doc.text)[0]] == ["", "0.50", "1.00"]


def test_every_claim_is_recorded_with_its_line_and_one_without_a_body_prints_nothing(tmp_path):
    body = ("a\n{% call claim('conv beats lin', r.sec.conv > r.sec.lin) %}Conv wins.{% endcall %}\n"
            "{{ claim('lin is positive', r.sec.lin > 0) }}.")
    doc = render(tmp_path, body, {"conv": 0.9, "lin": 0.7})
    assert doc.text == "a\nConv wins.\n."
    assert doc.claims == [Claim("conv beats lin", True, "report.qmd.j2", 2),
                          Claim("lin is positive", True, "report.qmd.j2", 3)]


def test_ranked_ascending_joins_with_less_than_and_prints_percentages_by_default(tmp_path):
    doc = render(tmp_path, '{{ ranked(r.sec.models, "loss", descending=False) }}',
                 {"models": [{"name": "lin", "loss": 0.3}, {"name": "conv", "loss": 0.1}]})
    assert doc.text == ('[conv]{#n1 .num title="sec.models[1].name"} ([10.00%]{#n2 .num title="sec.models[1].loss"}) < '
                        '[lin]{#n3 .num title="sec.models[0].name"} ([30.00%]{#n4 .num title="sec.models[0].loss"})')


def test_an_error_with_no_template_frame_is_placed_in_a_template():
    try:
        raise KeyError("x")
    except KeyError:
        assert _traceback_location() == "a template"


def test_a_label_escapes_every_markdown_character_that_could_break_a_span_or_a_cell(tmp_path):
    label = "a[b]c|d*e_f<g>h`i$j\\k XOR"
    doc = render(tmp_path, "{{ matrix(r.sec.m, r.sec.labels, [0], 'C.', 'tbl-c') }}", {"labels": [label], "m": [[1]]})
    escaped = "".join("\\" + c if c in "[]|*_<>`$\\" else c for c in label)
    assert pipe_table(doc.text)[0][1][0] == f'[{escaped}]{{#n1 .num title="sec.labels[0]"}}'
    assert escaped == r"a\[b\]c\|d\*e\_f\<g\>h\`i\$j\\k XOR"


def test_a_number_recorded_outside_any_template_is_placed_at_question_mark_line_zero(tmp_path):
    renderer = Renderer(tmp_path, tmp_path)
    assert renderer.lit(3) == '[3]{#n1 .num title="literal:?:0"}'
    assert (renderer.ledger.entries[0].template, renderer.ledger.entries[0].line) == ("?", 0)


def test_a_product_sum_traces_every_factor_and_addend(tmp_path):
    doc = render(tmp_path, "{{ product_sum(r.sec.layers, 'shape', 'bias') }}",
                 {"layers": [{"shape": [784, 10], "bias": 10}, {"shape": [10, 5], "bias": 5}]})
    assert re.sub(r"\{[^}]*\}", "", doc.text) == "([784] × [10] + [10]) + ([10] × [5] + [5])"
    assert [e.path for e in doc.ledger.entries][:3] == ["sec.layers[0].shape[0]", "sec.layers[0].shape[1]",
                                                        "sec.layers[0].bias"]


def test_a_product_sum_reads_factors_and_addend_unless_told_other_keys(tmp_path):
    doc = render(tmp_path, "{{ product_sum(r.sec.layers) }}", {"layers": [{"factors": [3, 2], "addend": 2}]})
    assert re.sub(r"\{[^}]*\}", "", doc.text) == "([3] × [2] + [2])"


def test_a_result_s_text_printed_without_a_filter_is_noted_with_its_path_and_line_when_it_holds_digits(tmp_path):
    doc = render(tmp_path, "{{ r.sec.name }} and\n{{ r.sec.label }}", {"name": "NetConv", "label": "H = 16"})
    assert doc.text == "NetConv and\nH = 16" and doc.ledger.entries == []
    assert [(u.text, u.path, u.template, u.line) for u in doc.unfiltered] == [("H = 16", "sec.label", "report.qmd.j2", 2)]
    (found,) = checks.untraced_numbers(doc.text, tmp_path, doc.unfiltered)
    assert found == ("number '16' comes from sec.label = 'H = 16' at report.qmd.j2:2, printed without a filter, "
                     "so it is not traced; print it with | text")


def test_ranked_traces_labels_with_digits_so_the_guard_finds_nothing_typed(tmp_path):
    doc = render(tmp_path, '{{ ranked(r.sec.runs, "acc", label="seed", digits=0) }}',
                 {"runs": [{"seed": 3, "acc": 0.5}, {"seed": "lr 0.01", "acc": 0.75}]})
    assert re.sub(r"\{[^}]*\}", "", doc.text) == "[lr 0.01] ([75%]) > [3] ([50%])"
    assert [e.path for e in doc.ledger.entries] == ["sec.runs[1].seed", "sec.runs[1].acc", "sec.runs[0].seed",
                                                    "sec.runs[0].acc"]
    assert checks.untraced_numbers(doc.text, tmp_path) == []
    assert all(checks._expected_text(vars(e), doc.results) == e.text for e in doc.ledger.entries)


def test_an_unknown_cross_reference_is_a_template_error(tmp_path):
    with pytest.raises(TemplateProblem) as error:
        render(tmp_path, "# A {#sec-a}\n\nSee @sec-a,\nthen @sec-b.\n", {})
    assert error.value.message == ("unknown cross-reference @sec-b at report.qmd.j2:4: no section is labelled "
                                   "sec-b (the section labels are sec-a)")


@pytest.mark.parametrize("call", [
    "{{ figure(r.sec.figures.loss, r.sec.runs[0].label ~ ': loss per epoch.', 'fig-loss') }}",
    "{{ table(r.sec.runs, [('acc', 'accuracy', 'pct:1')], 'Accuracy of ' ~ r.sec.runs[0].label ~ '.', 'tbl-a') }}",
    "{{ matrix(r.sec.m, [r.sec.runs[0].label ~ ' wide'], ['x'], 'C.', 'tbl-c') }}",
], ids=["figure caption", "table caption", "matrix label"])
def test_a_result_s_text_joined_into_a_caption_or_label_is_named_with_its_path_and_line(tmp_path, call):
    doc = render_seeds(tmp_path, "intro\n" + call, {1: {"figures": {"loss": "loss.png"},
                                                        "runs": [{"label": "H = 16", "acc": 0.5}], "m": [[1]]}})
    (found,) = checks.untraced_numbers(doc.text, tmp_path, doc.unfiltered)
    assert found.startswith("number '16' comes from sec.runs[0].label = 'H = 16' at report.qmd.j2:2, printed "
                            "without a filter") and found.kind is Mismatch.UNFILTERED


def test_a_traced_label_in_a_caption_is_not_noted(tmp_path):
    doc = render(tmp_path, "{{ table(r.sec.runs, [('acc', 'accuracy', 'pct:1')], 'For ' ~ (r.sec.runs[0].label | text)"
                           " ~ '.', 'tbl-a') }}", {"runs": [{"label": "H = 16", "acc": 0.5}]})
    assert doc.unfiltered == [] and checks.untraced_numbers(doc.text, tmp_path) == []
