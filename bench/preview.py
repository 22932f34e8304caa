"""From saving a template to the page showing it: ``--watch`` against a build of the HTML and a reload.

    python bench/preview.py              # the quick report of every section (builds it first: about a minute)
    python bench/preview.py toy_mlp      # only these sections built; the others are placeholders

Both ways edit ``templates/toy_mlp.qmd.j2`` 10 times, adding a new sentence each time, and time
from the save until chromium (Debian's, driven by Playwright) has painted that sentence, by the
page's own clock:

1. ``python build.py --watch --profile quick``: the open page updates itself;
2. ``python build.py --profile quick --to html``, then the page loaded again: what a writer did
   before ``--watch``, without the time a person takes to switch windows and reload.

Prints the median and the worst of each, and their ratios. Goal: ``--watch`` median under 1 s.
"""
from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright
from rebuild import copy_project  # bench/rebuild.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
EDITS = 10
PAUSE_S = 2.0  # between saves, as a writer reads what changed before the next edit
WORDS = ["amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "heath", "inlet", "juniper"]
PAINTED = "() => new Promise(done => requestAnimationFrame(() => setTimeout(() => done(Date.now()))))"
WATCH_FOR = """sentence => { window.benchShown = new Promise(done => {  // when the sentence is first painted
  const painted = () => requestAnimationFrame(() => setTimeout(() => done(Date.now())));
  new MutationObserver((changes, observer) => {
    if (document.body.textContent.includes(sentence)) { observer.disconnect(); painted(); }
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
}); }"""
SERVING = re.compile(r"serving the report on (http://127\.0\.0\.1:\d+/)")


def environment(project: Path) -> dict[str, str]:
    return {"KMNIST_ROOT": str(ROOT / "data"), **os.environ, "PYTHONPATH": str(project), "MPLBACKEND": "Agg"}


def build(project: Path, *args: str) -> None:
    result = subprocess.run([sys.executable, "build.py", "--profile", "quick", "--quiet", *args], cwd=project,
                            env=environment(project), capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"the build failed:\n{result.stderr[-2000:]}")


def timed_edits(template: Path, page, after_save, shown) -> list[float]:
    """Seconds from each save of ``template`` until ``page`` has painted the sentence it added,
    by the page's own clock (the harness's polling is not counted)."""
    original, seconds = template.read_text(), []
    for word in WORDS[:EDITS]:
        sentence = f"The {word} sentence is new."
        page.evaluate(WATCH_FOR, sentence)
        start = time.time()
        template.write_text(original + f"\n{sentence}\n")
        after_save()
        seconds.append(shown(sentence) / 1000 - start)
        time.sleep(PAUSE_S)
    template.write_text(original)
    return seconds


def with_watch(project: Path, out: Path, page) -> list[float]:
    watcher = subprocess.Popen([sys.executable, "build.py", "--watch", "--profile", "quick", "--quiet", "--port", "0",
                                "--out", str(out)], cwd=project, env=environment(project),
                               stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: [lines.append(line) for line in watcher.stderr], daemon=True).start()
    try:
        page.goto(wait_for_url(watcher, lines))
        return timed_edits(project / "templates" / "toy_mlp.qmd.j2", page, lambda: None,
                           lambda sentence: page.evaluate("() => window.benchShown"))
    finally:
        watcher.terminate()
        watcher.wait()


def wait_for_url(watcher: subprocess.Popen, lines: list[str]) -> str:
    while watcher.poll() is None:
        found = [match.group(1) for line in lines if (match := SERVING.search(line))]
        if found:
            return found[0]
        time.sleep(0.1)
    sys.exit("--watch stopped:\n" + "".join(lines))


def with_build_and_reload(project: Path, out: Path, page) -> list[float]:
    page.goto((out / "report.html").as_uri())

    def build_and_reload():
        build(project, "--to", "html", "--out", str(out))
        page.reload()

    def painted(sentence: str) -> float:
        assert sentence in page.content()
        return page.evaluate(PAINTED)
    return timed_edits(project / "templates" / "toy_mlp.qmd.j2", page, build_and_reload, painted)


def main(sections: list[str]) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-preview-"))
    project, out = copy_project(work / "project"), work / "out"
    build(project, *sections, "--out", str(out))
    chromium = shutil.which("chromium") or sys.exit("no chromium on PATH: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        watch = with_watch(project, out, browser.new_page())
        rebuild = with_build_and_reload(project, out, browser.new_page())
        browser.close()
    shutil.rmtree(work, ignore_errors=True)
    report(watch, rebuild, sections)


def report(watch: list[float], rebuild: list[float], sections: list[str]) -> None:
    print(f"save to page shown, {EDITS} edits of templates/toy_mlp.qmd.j2 "
          f"(quick profile, {', '.join(sections) or 'every section'} built):")
    for name, seconds in (("--watch, the page updates itself", watch),
                          ("build --to html, then reload the page", rebuild)):
        print(f"  {name:<40} median {statistics.median(seconds):5.2f} s   worst {max(seconds):5.2f} s")
    print(f"  --watch is {statistics.median(rebuild) / statistics.median(watch):.1f}x faster (median), "
          f"{max(rebuild) / max(watch):.1f}x (worst); goal: --watch median under 1 s")


if __name__ == "__main__":
    main(sys.argv[1:])
