"""The detectors: each is fed a document it must accept and ones it must reject."""
import statistics

import pytest

from report import checks

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
            '.</p><h2><span class="header-section-number">2.1</span> Results</h2><code>seed-0.json</code>')


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


@pytest.mark.parametrize("path, kind, digits, text", [
    ("mean(s@*.acc)", "pct", 2, f"{100 * statistics.fmean([0.8596, 0.8]):.2f}%"),
    ("sd(s@*.loss)", "num", 4, f"{statistics.stdev([0.1025, 0.2]):.4f}"),
    ("len(s.runs)", "int", None, "2"),
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
    import typst

    folder = tmp_path_factory.mktemp("pdf")
    (folder / "doc.typ").write_text("NetConv reached 85.96% with a loss of\n0.1025 and \u22121.5 on seed 8.\n")
    path = folder / "doc.pdf"
    path.write_bytes(typst.compile(str(folder / "doc.typ")))
    return path


def test_a_pdf_with_every_traced_number_passes(pdf):
    minus = {**LEDGER[0], "path": "s.delta", "text": "-1.5"}
    assert checks.verify_pdf(pdf, [*LEDGER, minus]) == []


def test_a_pdf_missing_a_number_names_it_even_when_its_first_digits_are_present(pdf):
    absent = {**LEDGER[1], "text": "0.1026"}
    assert checks.verify_pdf(pdf, [LEDGER[0], absent]) == [
        "report.pdf: s.loss = '0.1026' is missing from the PDF text"]


def test_untraced_numbers_skip_spans_code_figure_targets_and_front_matter(tmp_path):
    (tmp_path / "s.qmd.j2").write_text("It scored 97.5% on {{ r.s.acc | pct }}.\n")
    markdown = ('---\ntitle: "Report 2026"\n---\n'
                'It scored [85.96%]{#n1 .num title="s.acc"} in `seed-3.json`.\n'
                '![A caption](results/s/seed-0.abc/fig_1.png){#fig-1 width=90%}\n'
                '## Results {#sec-results-2}\n')
    assert checks.untraced_numbers(markdown, tmp_path) == []
    typed = checks.untraced_numbers(markdown + "It scored 97.5% overall.\n", tmp_path)
    assert len(typed) == 1 and "'97.5%'" in typed[0] and "s.qmd.j2:1" in typed[0]
    elsewhere = checks.untraced_numbers(markdown + "About 42 runs.\n", tmp_path)
    assert "a template (not found in the sources)" in elsewhere[0]
