"""What the engine is told about the report it builds: ``build.py`` describes it once.

    >>> project = Project(root=Path(__file__).parent, sections={"toy": "sections.toy"},
    ...                   templates=Path(__file__).parent / "templates")
    >>> project.section("toy").title

The engine knows nothing else about the report: not its sections, not the libraries that
compute it, not the fonts its PDF needs.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from report import section as sections
from report.errors import UsageError
from report.fingerprint import ENGINE_DIR


@dataclass(frozen=True)
class Project:
    root: Path                      # the source tree; fingerprints name files relative to it
    sections: Mapping[str, str]     # section name -> module name, in report order
    templates: Path                 # holds report.qmd.j2, numbers.qmd.j2 and the sections' templates
    libraries: tuple[str, ...] = ()  # packages whose versions enter fingerprints and provenance
    pdf_fonts: tuple[str, ...] = ()  # font families for the PDF, first choice first
    font_paths: tuple[Path, ...] = ()  # folders with fonts the PDF needs beyond the system's
    protected: tuple[str, ...] = ()  # more folders under root that --out must never point into

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root).resolve())
        object.__setattr__(self, "templates", Path(self.templates).resolve())

    @property
    def names(self) -> list[str]:
        return list(self.sections)

    def section(self, name: str) -> sections.SectionSpec:
        """A section by name; an unknown name lists the valid ones."""
        if name not in self.sections:
            raise UsageError(f"unknown section {name!r}; valid sections: {', '.join(self.sections)}",
                             "name one of the valid sections, or none to build them all")
        return sections.load(name, self.sections[name])

    def source_dirs(self) -> list[Path]:
        """Folders an output folder must stay out of: templates, section packages, the engine."""
        packages = {self.root / module.partition(".")[0] for module in self.sections.values()}
        named = {self.root / name for name in (".git", *self.protected)}
        return sorted({self.templates, ENGINE_DIR, *packages, *named})

