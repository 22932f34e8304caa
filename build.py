"""Build the report: ``python build.py [SECTION ...] [options]``; see ``--help``.

This file tells the engine (``report/``) what it builds: the sections in report order, the
templates, the libraries whose versions enter fingerprints and provenance, and the fonts
the PDF needs (Kuzushiji hiragana come from IPAexGothic, shipped by matplotlib-fontja).
"""
import importlib.util
import sys
from pathlib import Path

from experiments import SECTIONS
from report.cli import main
from report.project import Project

ROOT = Path(__file__).resolve().parent


def hiragana_fonts() -> tuple[Path, ...]:
    spec = importlib.util.find_spec("matplotlib_fontja")
    if spec is None or not spec.submodule_search_locations:
        return ()
    return (Path(spec.submodule_search_locations[0]) / "fonts",)


PROJECT = Project(
    root=ROOT,
    sections=SECTIONS,
    templates=ROOT / "templates",
    libraries=("torch", "torchvision", "numpy"),
    pdf_fonts=("Libertinus Serif", "IPAexGothic"),
    font_paths=hiragana_fonts(),
    protected=("tests", "bench", ".ci"),
)

if __name__ == "__main__":
    sys.exit(main(PROJECT))
