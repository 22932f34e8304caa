"""Templates to Markdown: the ledger, traced spans, literals, tables and claims."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import pytest

from report import checks
from report.errors import ClaimError, TemplateProblem
from report.render import Renderer, SectionView
from report.store import Record


def render(tmp_path, body: str, data: dict, draft=False, appendix: str = ""):
    (tmp_path / "report.qmd.j2").write_text(body)
    (tmp_path / "numbers.qmd.j2").write_text(appendix)
    record = Record("sec", 1, "fp", {}, data, {"profile_config": {"lr": 0.5}}, tmp_path / "art")
    return Renderer(tmp_path, tmp_path, draft=draft).render([SectionView("sec", "sec.qmd.j2", [record])], {})


def test_filters_print_a_traced_span_and_record_the_path(tmp_path):
    doc = render(tmp_path, "Accuracy {{ r.sec.acc | pct(2) }}, lr {{ r.sec.config.lr | num(1) }}.", {"acc": 0.8596})
    assert doc.text == ('Accuracy [85.96%]{#n1 .num title="sec.acc"}, lr [0.5]{#n2 .num title="sec.config.lr"}.')
    assert [(e.path, e.text, e.template, e.line) for e in doc.ledger.entries] == [
        ("sec.acc", "85.96%", "report.qmd.j2", 1), ("sec.config.lr", "0.5", "report.qmd.j2", 1)]


def test_a_bare_number_is_a_template_error_naming_the_line(tmp_path):
    with pytest.raises(TemplateProblem, match=r"report.qmd.j2:2.*without a format filter"):
        render(tmp_path, "ok\n{{ r.sec.acc }}", {"acc": 0.5})


def test_a_derived_number_has_no_path_and_is_refused(tmp_path):
    with pytest.raises(TemplateProblem, match="no result path"):
        render(tmp_path, "{{ (r.sec.acc * 2) | num }}", {"acc": 0.5})


def test_an_undefined_value_names_the_template_line(tmp_path):
    with pytest.raises(TemplateProblem, match=r"report.qmd.j2:3: undefined"):
        render(tmp_path, "a\nb\n{{ r.sec.nothing | num }}", {"acc": 0.5})


def test_a_syntax_error_names_the_template_line(tmp_path):
    with pytest.raises(TemplateProblem, match="line 2"):
        render(tmp_path, "a\n{% if %}", {})


def test_a_hand_typed_number_is_found_with_its_template_line(tmp_path):
    doc = render(tmp_path, "Accuracy {{ r.sec.acc | pct(1) }}\nbeats 85.96% by hand.", {"acc": 0.9})
    problems = checks.untraced_numbers(doc.text, tmp_path)
    assert len(problems) == 1 and "'85.96%'" in problems[0] and "report.qmd.j2:2" in problems[0]


def test_declared_literals_and_word_digits_are_not_untraced(tmp_path):
    doc = render(tmp_path, "h1 and x10 and a^n b^2n and {{ lit('100%') }}", {})
    assert checks.untraced_numbers(doc.text, tmp_path) == []


def test_tables_trace_every_cell(tmp_path):
    doc = render(tmp_path, '{{ table(r.sec.rows, [("name", "model", "label"), ("acc", "accuracy", "pct:1")], "Cap.", "tbl-x") }}',
                 {"rows": [{"name": "lin", "acc": 0.7}, {"name": "conv", "acc": 0.95}]})
    assert [e.path for e in doc.ledger.entries] == ["sec.rows[0].acc", "sec.rows[1].acc"]
    assert "{#tbl-x}" in doc.text and "| lin" in doc.text


def test_a_false_claim_fails_the_build_naming_it(tmp_path):
    body = '{% call claim("conv beats lin", r.sec.conv > r.sec.lin) %}Conv wins.{% endcall %}'
    assert "Conv wins." in render(tmp_path, body, {"conv": 0.9, "lin": 0.7}).text
    with pytest.raises(ClaimError, match="conv beats lin"):
        render(tmp_path, body, {"conv": 0.6, "lin": 0.7})


def test_draft_mode_marks_a_false_claim_instead_of_failing(tmp_path):
    body = '{% call claim("conv beats lin", r.sec.conv > r.sec.lin) %}Conv wins.{% endcall %}'
    doc = render(tmp_path, body, {"conv": 0.6, "lin": 0.7}, draft=True)
    assert "FALSE CLAIM" in doc.text and doc.claims[0].holds is False


def test_ranked_orders_items_by_their_value(tmp_path):
    doc = render(tmp_path, '{{ ranked(r.sec.models, "acc", kind="pct", digits=0) }}',
                 {"models": [{"name": "lin", "acc": 0.7}, {"name": "conv", "acc": 0.95}]})
    assert doc.text.startswith("conv ([95%]") and "> lin ([70%]" in doc.text


def test_the_numbers_appendix_lists_every_body_number_with_its_source(tmp_path):
    appendix = (ROOT / "templates" / "numbers.qmd.j2").read_text()
    body = "A {{ r.sec.a | num(1) }} and {% for v in r.sec.rows %}{{ v | int }} {% endfor %}."
    doc = render(tmp_path, body, {"a": 0.25, "rows": [1, 2500, 3, 4, 5, 6]}, appendix=appendix)
    assert '| [n1](#n1) | [{0}]{{#n8 .num title="sec.a"}} | `sec.a` | `report.qmd.j2:1` |'.format(f"{0.25:.1f}") in doc.text
    assert ('| [n2](#n2) to [n7](#n7) | [1]{#n9 .num title="sec.rows[0]"}, ..., [6]{#n10 .num title="sec.rows[5]"} '
            '| `sec.rows[*]` | `report.qmd.j2:1` |') in doc.text
    assert checks.untraced_numbers(doc.text, tmp_path) == []


def test_spread_gives_mean_sd_and_each_seed(tmp_path):
    (tmp_path / "report.qmd.j2").write_text("{{ spread(r.sec.acc, 'pct', 1) }}")
    (tmp_path / "numbers.qmd.j2").write_text("")
    records = [Record("sec", seed, "fp", {}, {"acc": acc}, {"profile_config": {}}, tmp_path)
               for seed, acc in ((1, 0.5), (2, 0.7), (3, 0.9))]
    doc = Renderer(tmp_path, tmp_path).render([SectionView("sec", "sec.qmd.j2", records)], {})
    texts = [e.text for e in doc.ledger.entries]
    assert texts[:2] == ["70.0%", "20.0%"] and texts[2:] == ["1", "50.0%", "2", "70.0%", "3", "90.0%"]
    results = doc.results
    ledger = [vars(e) for e in doc.ledger.entries]
    assert all(checks._expected_text(e, results) == e["text"] for e in ledger)
