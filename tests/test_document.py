"""The document a reader holds, from one quick build of this project: its log off a terminal, the PDF's
appendix of numbers, and the HTML in a real browser (the provenance card on hover and keyboard focus,
the page at desktop and phone widths, offline)."""
import json
import re
import shutil
from itertools import groupby

import pytest
from conftest import HAVE_KMNIST, copy_project, needs_kmnist, run_build

pytestmark = pytest.mark.e2e  # runs `python build.py` in a subprocess

KERNING = 1.0  # points two letters of one word may overlap (typst kerns "Ta" by about half a point)
PHONE, DESKTOP = 375, 1280


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The project's quick report, built with stderr written to a file, as in a CI log."""
    project = copy_project(tmp_path_factory.mktemp("reader") / "project")
    with open(project / "stderr.log", "w", encoding="utf-8") as log:
        result = run_build(project, "--profile", "quick", timeout=900, stderr=log)
    assert result.returncode == (0 if HAVE_KMNIST else 2), (project / "stderr.log").read_text()
    return project


def test_off_a_terminal_a_build_logs_a_line_as_each_step_starts_and_ends_not_bar_redraws(built):
    log = (built / "stderr.log").read_text(encoding="utf-8")
    assert "\r" not in log and "\x1b[" not in log  # no carriage returns, no cursor movements
    lines = log.splitlines()
    started = [line for line in lines if re.search(r": started(, [\d,]+ to do)?$", line)]
    ended = [line for line in lines if re.search(r": (finished|stopped at) [\d,]+.* in [\d.]+ s", line)]
    steps = 6 if HAVE_KMNIST else 5  # toy_mlp and four dynamics runs; kmnist adds its data and models
    assert len(started) >= steps and len(ended) == len(started)
    assert len(log.encode()) < 3_000, log  # the whole quick build: 1.8 KB; tqdm's redraws made it 3.4 KB


def appendix_rows(pdf_file):
    """The lines of the PDF's appendix of numbers, each as its characters left to right, with its page."""
    pdfplumber = pytest.importorskip("pdfplumber", reason="pdfplumber reads text positions (pip install pdfplumber)")
    with pdfplumber.open(pdf_file) as pdf:
        first = next(i for i, page in enumerate(pdf.pages)
                     if "Every number in the report and where it came from" in (page.extract_text() or ""))
        for page in pdf.pages[first:]:
            chars = sorted((c for c in page.chars if c["text"].strip() and c["x1"] > c["x0"]),
                           key=lambda c: (round(c["top"]), c["x0"]))
            for _, line in groupby(chars, key=lambda c: round(c["top"])):
                yield page, list(line)


def test_no_two_cells_on_a_row_of_the_pdf_appendix_overlap_nor_leave_the_page(built):
    overprinted, off_page, rows = [], [], 0
    for page, line in appendix_rows(built / "_build" / "report.pdf"):
        rows += 1
        text = "".join(c["text"] for c in line)
        overprinted += [f"page {page.page_number}: {text!r} at {a['text']}{b['text']}"
                        for a, b in zip(line, line[1:]) if b["x0"] < a["x1"] - KERNING]
        if line[-1]["x1"] > page.width - 20:
            off_page.append(f"page {page.page_number}: {text!r}")
    assert rows > 200  # the appendix was found and read
    assert overprinted == [] and off_page == []


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python drives the browser "
                                   "(pip install playwright; it uses the system's chromium, nothing is downloaded)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium on PATH to open the report in (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        yield browser
        browser.close()


@pytest.fixture
def open_report(browser, built):
    """A page at a given width showing the built report, and every request it made beyond the file."""
    pages = []

    def open_at(width: int):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.fetched = []
        page.on("request", lambda request: page.fetched.append(request.url)
                if not request.url.startswith(("file:", "data:")) else None)
        page.goto((built / "_build" / "report.html").as_uri())
        pages.append(page)
        return page
    yield open_at
    for page in pages:
        page.close()


def card_facts(page) -> dict:
    """What the shown card says: its printed value, then each of its labelled facts."""
    page.wait_for_selector("#number-card:not([hidden])")
    return page.eval_on_selector("#number-card", """card => Object.fromEntries([
        ["printed", card.querySelector(".card-printed").textContent],
        ...[...card.querySelectorAll("dt")].map(dt => [dt.textContent, dt.nextElementSibling.textContent]),
        ["row", card.querySelector("a.card-row") && card.querySelector("a.card-row").getAttribute("href")]])""")


def ledger_entry(built, path: str) -> dict:
    return next(e for e in json.loads((built / "_build" / "ledger.json").read_text()) if e["path"] == path)


def seed_of(built, section: str) -> str:
    provenance = json.loads((built / "_build" / "provenance.json").read_text())
    return str(next(s for s in provenance["sections"] if s["name"] == section)["units"][0]["seed"])


def test_pointing_at_a_number_shows_its_card_with_its_path_stored_value_and_seed(built, open_report):
    entry = ledger_entry(built, "toy_mlp.trained.final_loss")
    page = open_report(DESKTOP)
    page.hover(f"#{entry['id']}")
    facts = card_facts(page)
    assert facts["printed"] == entry["text"] and facts["result path"] == entry["path"]
    assert facts["stored value"] == repr(entry["value"]) and facts["seed"] == seed_of(built, "toy_mlp")
    assert facts["template"] == f"{entry['template']}:{entry['line']}"
    assert facts["run"].startswith("fingerprint ") and facts["commit"]
    page.click("#number-card a.card-row")
    assert page.evaluate("location.hash") == facts["row"] and facts["row"].startswith("#row-n")
    assert page.fetched == []  # everything the card needs is in the file


def test_a_number_reached_with_the_keyboard_shows_its_card_as_its_accessible_description(built, open_report):
    entry = ledger_entry(built, "dynamics.config.max_n")
    page = open_report(DESKTOP)
    number = page.locator(f"#{entry['id']}")
    assert number.get_attribute("tabindex") == "0" and number.get_attribute("aria-describedby") == "number-card"
    assert page.get_attribute("#number-card", "role") == "tooltip"
    number.focus()
    facts = card_facts(page)
    assert (facts["result path"], facts["stored value"], facts["seed"]) == (
        entry["path"], repr(entry["value"]), seed_of(built, "dynamics"))
    page.keyboard.press("Tab")  # the next number in reading order, and the card follows it
    following = page.evaluate("document.activeElement.id")
    assert following != entry["id"] and card_facts(page)["printed"] == page.inner_text(f"#{following}")
    page.keyboard.press("Escape")
    assert page.locator("#number-card").is_hidden()


OVERFLOWING = """() => {
    const width = document.documentElement.clientWidth;
    const scrolled = el => { for (let p = el.parentElement; p; p = p.parentElement)
        if (getComputedStyle(p).overflowX !== "visible") return true; return false; };
    return [...document.body.querySelectorAll("*")]
        .filter(el => { const box = el.getBoundingClientRect();
                        return box.width > 0 && box.right > width + 1 && !scrolled(el); })
        .map(el => `${el.tagName.toLowerCase()}#${el.id}.${el.className} ends at ${el.getBoundingClientRect().right}`);
}"""


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_no_element_overflows_the_page_at_desktop_and_phone_widths(built, open_report, width, tmp_path):
    page = open_report(width)
    page.screenshot(path=tmp_path / f"report-{width}.png", full_page=True)
    assert page.evaluate(OVERFLOWING) == []  # a wide table scrolls in its own box
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    rightmost = page.evaluate("""() => [...document.querySelectorAll("span.num")].reduce(
        (best, span) => span.getBoundingClientRect().right > best.getBoundingClientRect().right ? span : best).id""")
    page.hover(f"#{rightmost}")
    card_facts(page)
    assert page.evaluate("document.getElementById('number-card').getBoundingClientRect().right") <= width


@needs_kmnist  # the hiragana are KMNIST's class names
def test_the_hiragana_are_drawn_from_the_font_the_html_carries(built, open_report):
    page = open_report(DESKTOP)
    faces = page.evaluate("""() => document.fonts.ready.then(() =>
        [...document.fonts].filter(face => face.family.replace(/"/g, "") === "IPAexGothic").map(face => face.status))""")
    assert faces == ["loaded"]
    assert page.evaluate("document.fonts.check('16px IPAexGothic', 'おきすつなはまやれを')")
