"""Each printed number's provenance card: gathered from the ledger and the store, written into the HTML."""
import json
import re

import pytest

from report import card
from report.render import Renderer
from report.store import Record
from report.view import SectionView

PROVENANCE = {"commit": "0ab152df968b527997d391c172feb352c0a5c955", "dirty": True,
              "sections": [{"name": "sec", "title": "A section", "units": [
                  {"seed": 2, "fingerprint": "e00c14aab573", "wall_time": 995.74, "outcome": "ran",
                   "finished": "2026-11-26T01:56:07+00:00", "device": "cpu"},
                  {"seed": 1, "fingerprint": "a7e605cc1d6d", "wall_time": 2.0, "outcome": "cached",
                   "finished": "2026-11-25T10:00:00+00:00", "device": "cuda"}]}]}
BODY = """Accuracy {{ r.sec.acc | num(3) }}.
{{ lit("28 × 28") }} pixels, {{ r.sec.model | text }}.
{{ spread(r.sec.acc) }}"""
APPENDIX = "{% for g in groups %}{% for e in g.entries %}{{ echo(e) }}{% endfor %}{% endfor %}"


def render(tmp_path, seeds_and_accuracies, body=BODY, provenance=PROVENANCE, extra=lambda seed: {}):
    (tmp_path / "report.qmd.j2").write_text(body)
    (tmp_path / "numbers.qmd.j2").write_text(APPENDIX)
    records = [Record("sec", seed, "fp", {}, {"acc": acc, "model": "NetLin", **extra(seed)}, {"profile_config": {}},
                      tmp_path)
               for seed, acc in seeds_and_accuracies]
    return Renderer(tmp_path, tmp_path).render([SectionView("sec", records)], provenance)


@pytest.fixture
def document(tmp_path):
    """A report over a section with two seeds (2 is the primary one), and its appendix."""
    return render(tmp_path, [(2, 0.1 + 0.2), (1, 0.7)])


def card_of(cards: dict, path: str) -> dict:
    return next(number for number in cards["numbers"].values() if number["path"] == path)


def test_a_number_s_card_holds_what_it_printed_its_full_stored_value_path_template_line_and_row(document):
    cards = card.cards(document)
    assert cards["numbers"]["n1"] == {
        "printed": "0.300", "stored": "0.30000000000000004", "path": "sec.acc", "where": "report.qmd.j2:1",
        "runs": ["sec"], "row": "row-n1",
        "spread": "mean 0.5 ± sd 0.282843 over 2 seeds (seed 2: 0.3, seed 1: 0.7)"}
    assert (cards["commit"], cards["dirty"]) == (PROVENANCE["commit"], True)


def test_the_run_behind_each_result_has_its_seed_fingerprint_wall_time_and_finishing_time(document):
    runs = card.cards(document)["runs"]
    assert runs == {
        "sec": {"section": "sec", "title": "A section", "seed": 2, "fingerprint": "e00c14aab573",
                "wall_time": 995.74, "outcome": "ran", "device": "cpu", "finished": "2026-11-26 01:56 UTC"},
        "sec@1": {"section": "sec", "title": "A section", "seed": 1, "fingerprint": "a7e605cc1d6d",
                  "wall_time": 2.0, "outcome": "cached", "device": "cuda", "finished": "2026-11-25 10:00 UTC"}}


def test_a_literal_text_an_aggregate_and_a_fact_of_the_build_each_say_what_they_are(document):
    cards = card.cards(document)
    literal = card_of(cards, "literal:report.qmd.j2:2")
    assert literal["origin"].startswith("stated by the template itself") and "runs" not in literal
    assert card_of(cards, "sec.model") == {"printed": "NetLin", "stored": "NetLin", "path": "sec.model",
                                           "where": "report.qmd.j2:2", "runs": ["sec"], "row": "row-n3"}
    mean = card_of(cards, "mean(sec@*.acc)")
    assert mean["runs"] == ["sec", "sec@1"] and mean["origin"] == "the mean over the section's seeds"
    assert mean["spread"].startswith("mean 0.5 ± sd 0.282843")
    assert card_of(cards, "provenance.seeds.sec")["origin"].startswith("a fact of this build")
    assert card_of(cards, "sec@1.acc")["runs"] == ["sec@1"]


def test_a_number_of_a_section_with_one_seed_says_it_has_no_spread_and_a_text_says_nothing(tmp_path):
    cards = card.cards(render(tmp_path, [(2, 0.25)]))
    assert card_of(cards, "sec.acc")["spread"] == "none: one seed"
    assert "spread" not in card_of(cards, "sec.model")


def test_numbers_printed_by_the_appendix_itself_link_to_no_row(document):
    cards = card.cards(document)["numbers"]
    appendix = [number for number in cards.values() if number["where"].startswith("numbers.qmd.j2")]
    assert appendix and all("row" not in number for number in appendix)
    assert len(cards) == len(document.ledger.entries)


HTML = "<html><head><title>r</title></head><body><p>x</p></body></html>"


def test_the_cards_go_into_the_html_as_data_an_element_and_a_script_of_its_own():
    data = {"commit": "c", "dirty": False, "runs": {}, "numbers": {"n1": {"printed": "</script><b>", "path": "p"}}}
    html = card.embed(HTML, data)
    head, body = html.split("</head>")
    assert "#number-card" in head and "<style>" in head
    payload = re.search(r'<script type="application/json" id="number-cards">(.*?)</script>', body, re.S).group(1)
    assert json.loads(payload) == data and "<" not in payload  # nothing in it can end the script early
    assert body.count('<div id="number-card" class="number-card" role="tooltip" hidden></div>') == 1
    assert body.endswith("</script>\n</body></html>")
    assert not re.search(r"<script[^>]*\ssrc=|<link|@import|https?://", html)  # nothing fetched


def test_an_sd_and_a_count_each_say_what_they_are_and_which_runs_made_them(tmp_path):
    body = "{{ spread(r.sec.acc) }} {{ r.sec.layers | count }}"
    cards = card.cards(render(tmp_path, [(2, 0.1 + 0.2), (1, 0.7)], body, extra=lambda seed: {"layers": [1, 2, 3]}))
    sd = card_of(cards, "sd(sec@*.acc)")
    assert (sd["origin"], sd["runs"]) == ("the standard deviation over the section's seeds", ["sec", "sec@1"])
    assert sd["spread"] == "mean 0.5 ± sd 0.282843 over 2 seeds (seed 2: 0.3, seed 1: 0.7)"
    count = card_of(cards, "len(sec.layers)")
    assert {k: count[k] for k in ("printed", "stored", "runs", "origin")} == {
        "printed": "3", "stored": "3", "runs": ["sec"], "origin": "the number of items in sec.layers"}
    assert "spread" not in count  # a list has no mean


def test_a_literal_and_a_fact_of_the_build_say_so_in_full_and_name_no_run(document):
    cards = card.cards(document)
    assert card_of(cards, "literal:report.qmd.j2:2")["origin"] == (
        "stated by the template itself (lit()), not read from a result")
    fact = card_of(cards, "provenance.seeds.sec")
    assert fact["origin"] == "a fact of this build (its provenance), not of a run"
    assert "runs" not in fact and "spread" not in fact and fact["stored"] == "2"


@pytest.mark.parametrize("body,extra", [
    ("{{ r.sec.only | num(1) }}", lambda seed: {"only": 1.5} if seed == 2 else {}),
    ("{{ r.sec.only[1] | num(1) }}", lambda seed: {"only": [1.5] * seed})], ids=["one-seed-lacks-it", "shorter-list"])
def test_a_value_that_not_every_seed_has_shows_no_spread(tmp_path, body, extra):
    cards = card.cards(render(tmp_path, [(2, 0.3), (1, 0.7)], body, extra=extra))
    assert "spread" not in cards["numbers"]["n1"] and cards["numbers"]["n1"]["runs"] == ["sec"]


def test_a_finishing_time_is_shown_in_utc_and_an_unknown_one_stays_empty(tmp_path):
    units = [{**PROVENANCE["sections"][0]["units"][0], "finished": "2026-11-26T03:56:07+02:00"},
             {**PROVENANCE["sections"][0]["units"][1], "finished": ""}]
    provenance = {**PROVENANCE, "sections": [{**PROVENANCE["sections"][0], "units": units}]}
    runs = card.cards(render(tmp_path, [(2, 0.3), (1, 0.7)], provenance=provenance))["runs"]
    assert (runs["sec"]["finished"], runs["sec@1"]["finished"]) == ("2026-11-26 01:56 UTC", "")


def test_the_cards_style_goes_last_in_the_head_and_their_parts_last_in_the_body():
    data = {"numbers": {"n1": {"printed": "0.5 ± 0.1"}}}
    css, js = ((card.ASSETS / name).read_text(encoding="utf-8") for name in ("card.css", "card.js"))
    assert card.embed(HTML, data) == (
        f"<html><head><title>r</title><style>\n{css}</style>\n</head><body><p>x</p>"
        '<div id="number-card" class="number-card" role="tooltip" hidden></div>\n'
        '<script type="application/json" id="number-cards">{"numbers":{"n1":{"printed":"0.5 ± 0.1"}}}</script>\n'
        f"<script>\n{js}</script>\n</body></html>")
