"""``--watch`` in a real browser: Debian's chromium, driven by Playwright for Python.

The page is opened once and never reloaded by the test: an edit to a template shows up in it,
a broken template turns it into the error page with the template's line, and the fix brings
the report back. Playwright drives the chromium that .ci/run installs with apt-get (no browser
of its own is downloaded).
"""
import shutil
from contextlib import contextmanager

import pytest
from conftest import watching

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed: "
                               'pip install -e ".[test]"')
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH: "
                                                  "`apt-get install -y chromium` (.ci/run does)")]
SHOWN_WITHIN_MS = 15_000


@contextmanager
def browser_page():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])  # as root in CI
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_an_edit_a_broken_template_and_its_fix_show_in_the_open_page(project_with_toy):
    expect = sync_api.expect
    template = project_with_toy / "templates" / "toy_mlp.qmd.j2"
    good = template.read_text()
    broken_line = len(good.splitlines()) + 2
    with watching(project_with_toy, "toy_mlp", "--profile", "quick", "--to", "html") as (url, lines), \
            browser_page() as page:
        page.goto(url)
        expect(page.get_by_role("heading", name="A toy MLP task")).to_be_visible()

        template.write_text(good + "\nThis sentence was written while the page was open.\n")
        expect(page.get_by_text("This sentence was written while the page was open.")).to_be_visible(
            timeout=SHOWN_WITHIN_MS)

        template.write_text(good + "\n{{ r.toy_mlp.no_such_value | num(2) }}\n")
        expect(page.get_by_role("heading", name="The report could not be rendered")).to_be_visible(
            timeout=SHOWN_WITHIN_MS)
        expect(page.get_by_text(f"toy_mlp.qmd.j2:{broken_line}: undefined value")).to_be_visible()
        expect(page.get_by_role("heading", name=f"templates/toy_mlp.qmd.j2, line {broken_line}")).to_be_visible()
        expect(page.locator(".at")).to_contain_text("{{ r.toy_mlp.no_such_value | num(2) }}")

        template.write_text(good)
        expect(page.get_by_role("heading", name="A toy MLP task")).to_be_visible(timeout=SHOWN_WITHIN_MS)
        expect(page.get_by_text("This sentence was written")).to_have_count(0)
