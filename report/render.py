"""Jinja templates to Quarto-flavoured Markdown, with every printed number in the ledger.

    >>> doc = Renderer(Path("templates"), out_dir=Path("_build")).render(section_views, provenance)
    >>> doc.text        # report.qmd
    >>> doc.ledger      # every number: result path, value, printed text, template line

Numbers leave results only through the filters ``num``, ``pct``, ``int``, ``sci`` and
``text``; each wraps its output in a span ``[85.96%]{#n12 .num title="kmnist.lin.accuracy"}``
that names its source, so the HTML carries its own provenance and the checks can compare
it with the store. Printing a bare number is a template error; a number the template
itself must say goes through ``lit()``, so such literals are visible and rare. The helpers
trace the text they take from results too (a label "H = 16" in ``ranked()`` or a table), so
its digits are a traced value, never a typed number.
Jinja comments are written ``<#-- ... --#>``, because ``{#`` opens Pandoc attributes.
"""
from __future__ import annotations

import functools
import os
import re
import statistics
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from markupsafe import Markup
from tabulate import tabulate

from report import crossref, sources
from report.checks import SPAN
from report.errors import BuildError, ClaimError, TemplateProblem
from report.ledger import FORMATS, Ledger
from report.values import TrackedFloat, TrackedInt, TrackedStr, seed_values, track
from report.view import SectionView, results_view

NUMBER_TYPES = (int, float)
NUMBERS_TEMPLATE = "numbers.qmd.j2"  # the appendix that prints every number again


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in memory by name and source checksum, so that a process that
    renders again (``--watch``) compiles only the templates that changed."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])  # ignored when the source changed

    def dump_bytecode(self, bucket):
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED = CompiledTemplates()


@dataclass
class Claim:
    name: str
    holds: bool
    template: str
    line: int


@dataclass(frozen=True)
class Unfiltered:
    """A result's text with digits in it, printed without a filter (``{{ row.name }}``): untraced."""

    text: str
    path: str
    template: str
    line: int


@dataclass
class Document:
    text: str
    ledger: Ledger
    claims: list[Claim]
    results: dict  # {"toy_mlp": data, "toy_mlp@2": data of seed 2, "provenance": with the seeds}
    unfiltered: list[Unfiltered]
    groups: list = field(default_factory=list)  # the appendix's rows (``group_entries``)


class Renderer:
    def __init__(self, template_dir: Path, out_dir: Path, draft: bool = False):
        self.template_dir, self.out_dir, self.draft = template_dir, out_dir, draft
        self.ledger, self.claims, self.unfiltered, self._texts = Ledger(), [], [], []
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(template_dir),
                                      undefined=jinja2.StrictUndefined, finalize=self._finalize,
                                      autoescape=False, bytecode_cache=COMPILED, **sources.SYNTAX)
        for kind in FORMATS:
            self.env.filters[kind] = self._formatter(kind)
        self.env.filters["count"] = self.count
        self.env.globals.update(figure=self.figure, table=self.table, matrix=self.matrix,
                                claim=self.claim, lit=self.lit, spread=self.spread, ranked=self.ranked,
                                product_sum=self.product_sum)

    # -- numbers -------------------------------------------------------------------------
    def _formatter(self, kind: str):
        def format_filter(value, digits: int | None = None):
            return self.record(value, kind, digits)
        format_filter.__name__ = kind
        return format_filter

    def record(self, value, kind: str, digits=None, path: str | None = None) -> Markup:
        """Print a traced value and add it to the ledger."""
        path = path or getattr(value, "path", None)
        if path is None:
            raise TemplateProblem(f"{self._where_text()}: the value {value!r} has no result path",
                                  "print values taken from r.<section>...; compute derived "
                                  "numbers in the experiment, or declare a literal with lit()")
        plain = _plain(value)
        entry = self.ledger.add(path, plain, kind, digits, self._where())
        return Markup(f'[{_escape(entry.text)}]{{#{entry.id} .num title="{path}"}}')

    def count(self, items) -> Markup:
        """How many items a result list has: ``{{ r.dynamics.fsm.clusters | count }}``."""
        return self.record(len(items), "int", path=f"len({items.path})")

    def lit(self, value) -> Markup:
        """A number the template states itself (a class count in a heading, say): visible, rare."""
        return self.record(value, "text", path=f"literal:{self._where_text()}")

    def spread(self, value, kind: str = "num", digits=None) -> Markup:
        """Mean ± sd over the section's seeds, with each seed's value; empty for one seed."""
        section, _, rest = value.path.partition(".")
        per_seed = seed_values(self._view.results, section, rest)
        if len(per_seed) < 2:
            return Markup("")
        mean = self.record(statistics.fmean(per_seed.values()), kind, digits, path=f"mean({section}@*.{rest})")
        sd = self.record(statistics.stdev(per_seed.values()), kind, digits, path=f"sd({section}@*.{rest})")
        listing = ", ".join(f"{self._seed_label(key)}: {self.record(v, kind, digits, path=f'{key}.{rest}')}"
                            for key, v in per_seed.items())
        return Markup(f"(mean {mean} ± {sd} over seeds; {listing})")

    def _seed_label(self, key: str) -> Markup:
        name, _, seed = key.partition("@")
        return self.record(int(seed) if seed else self._view.primary_seed[name], "int",
                           path=f"provenance.seeds.{key}")

    def _finalize(self, value):
        if isinstance(value, NUMBER_TYPES) and not isinstance(value, bool):
            raise TemplateProblem(f"{self._where_text()}: the number {value!r} is printed without "
                                  "a format filter", "use | num(3), | pct(2), | int or lit(...)")
        if isinstance(value, TrackedStr) and any(c.isdigit() for c in value):
            self.unfiltered.append(Unfiltered(str(value), value.path, *self._where()))
        return value

    def _label(self, value) -> str:
        """A label: traced when it comes from a result, so its digits are not typed numbers; one
        the template states (a column header, a plain list) stays as typed, for the guard to read."""
        if getattr(value, "path", None) is None:
            return _escape(self._passed(str(value)))
        return self.record(value, "text")

    def _passed(self, text: str) -> str:
        """Text a template passed to a helper (a caption, a label it built). A result's text joined
        into it with ``~`` has lost its trace: it is noted, so that the guard names that result and
        this line rather than calling its digits typed."""
        untraced = SPAN.sub("", text)
        self.unfiltered += [Unfiltered(value, path, *self._where())
                            for value, path in self._texts if value in untraced]
        return text

    # -- figures, tables, claims ----------------------------------------------------------
    def figure(self, file: TrackedStr, caption: str, label: str, width: str = "90%") -> Markup:
        """A result's figure with a numbered caption: ``{{ figure(r.s.figures.loss, "...", "fig-loss") }}``."""
        section, caption = file.path.partition(".")[0], self._passed(caption)
        path = self._view.artifact_dirs[section] / str(file)
        if path in self._view.damaged:
            return self._damaged_figure(file, section.partition("@")[0], caption, label)
        target = os.path.relpath(path, self.out_dir)
        return Markup(f"![{caption} {self._source(file)}]({target}){{#{label} width={width}}}\n")

    def _source(self, file: TrackedStr) -> Markup:
        """A figure caption's last sentence: the stored result the figure was drawn from, its seed
        and its run's fingerprint, all traced, and a link to the figure's row in the appendix."""
        key = file.path.partition(".")[0]
        printed = self.record(file, "text")
        row = self._row_of(self.ledger.entries[-1])
        run = f", seed {self._seed_label(key)}"
        fingerprint = self._fingerprint(key)
        run += f", fingerprint {fingerprint}" if fingerprint else ""
        return Markup(f"[Source: {printed} in the stored result of {_escape(key.partition('@')[0])}{run}; "
                      f"[its row in the appendix](#{row}).]{{.figure-source}}")

    def _row_of(self, entry) -> str:
        """The anchor of the appendix row that will list ``entry``."""
        return next(group["anchor"] for group in group_entries(self.ledger.entries) if entry in group["entries"])

    def _fingerprint(self, key: str) -> Markup:
        """The fingerprint of the run that made the result ``key``, traced to the provenance; empty
        where the provenance does not list that run."""
        provenance = self._view.results["provenance"]
        wanted = (key.partition("@")[0], provenance["seeds"][key])
        for i, section in enumerate(provenance.get("sections", [])):
            for j, unit in enumerate(section["units"]):
                if (section["name"], unit["seed"]) == wanted:
                    return self.record(unit["fingerprint"], "text",
                                       path=f"provenance.sections[{i}].units[{j}].fingerprint")
        return Markup("")

    def _damaged_figure(self, file: TrackedStr, section: str, caption: str, label: str) -> Markup:
        """A numbered figure without its image (the assets' filter makes it one), saying why.
        No code span in it: typst would number a figure holding code as a listing."""
        return Markup(f"::: {{#{label} .missing-figure}}\n**The stored figure "
                      f"{self.record(file, 'text')} is missing or damaged;** "
                      f"*python build.py {section}* draws it again.\n\n{caption}\n:::\n")

    def table(self, rows, columns, caption: str, label: str) -> Markup:
        """A pipe table from result rows; ``columns`` is a list of (key, header, "kind:digits")."""
        body = [[self._cell(row[key], spec) for key, _, spec in columns] for row in rows]
        headers = [header for _, header, _ in columns]
        align = ["left" if spec == "label" else "right" for _, _, spec in columns]
        text = tabulate(body, headers, tablefmt="pipe", colalign=align, disable_numparse=True)
        return Markup(f"{text}\n\n: {self._passed(caption)} {{#{label}}}\n")

    def matrix(self, values, row_labels, col_labels, caption: str, label: str, corner: str = "") -> Markup:
        """A labelled matrix (a confusion matrix, say) as a table of traced integers."""
        body = [[self._label(r), *(self.record(v, "int") for v in row)] for r, row in zip(row_labels, values)]
        text = tabulate(body, [corner, *map(self._label, col_labels)], tablefmt="pipe",
                        colalign=["left", *["right"] * len(col_labels)], disable_numparse=True)
        return Markup(f"{text}\n\n: {self._passed(caption)} {{#{label}}}\n")

    def _cell(self, value, spec: str):
        if spec == "label":
            return self._label(value)
        kind, _, digits = spec.partition(":")
        return self.record(value, kind, int(digits) if digits else None)

    def claim(self, name: str, holds: bool, caller=None) -> Markup:
        """A sentence that must hold in the data: ``{% call claim("x beats y", r.x > r.y) %}...{% endcall %}``."""
        template, line = self._where()
        self.claims.append(Claim(name, bool(holds), template, line))
        text = caller() if caller else ""
        if holds:
            return Markup(text)
        if not self.draft:
            raise ClaimError(f"claim {name!r} ({template}:{line}) does not hold in the results",
                             "rewrite the sentence for the new results, or build with --draft to see it marked")
        return Markup(f"[**FALSE CLAIM ({_escape(name)}):** {text}]{{.claim-false}}")

    def ranked(self, items, key: str, label: str = "name", kind: str = "pct", digits=None,
               descending: bool = True) -> Markup:
        """Items ordered by a result value, each with its label: ``NetConv (94.10%) > NetFull (...) > ...``."""
        order = sorted(items, key=lambda item: item[key], reverse=descending)
        sign = " > " if descending else " < "
        return Markup(sign.join(f"{self._label(item[label])} ({self.record(item[key], kind, digits)})"
                                for item in order))

    def product_sum(self, terms, factors: str = "factors", addend: str = "addend") -> Markup:
        """A sum of products, every operand traced: ``(784 × 10 + 10) + (10 × 5 + 5)``.

        ``terms`` is a result list whose items hold a list of factors and a number added to
        their product (a layer's weight shape and its bias count, say).
        """
        return Markup(" + ".join(
            "(" + " × ".join(self.record(f, "int") for f in term[factors])
            + f" + {self.record(term[addend], 'int')})" for term in terms))

    # -- rendering -----------------------------------------------------------------------
    def render(self, sections: list[SectionView], provenance: dict, **context) -> Document:
        """The report, then an appendix listing every number printed before it."""
        self._view = results_view(sections, provenance)
        self._texts = list(_texts_with_digits(self._view.results))
        shown = {s.name: track(self._view.results[s.name], s.name) for s in sections if s.ok}
        text = self._render("report.qmd.j2", r=shown, prov=track(self._view.results["provenance"], "provenance"),
                            **context)
        groups = group_entries(self.ledger.entries)
        text += self._render(NUMBERS_TEMPLATE, groups=groups, echo=self._echo)
        unresolved = crossref.unresolved(text, self.template_dir)
        if unresolved:
            raise unresolved
        return Document(text, self.ledger, self.claims, self._view.results, self.unfiltered, groups)

    def _render(self, template: str, **context) -> str:
        try:
            return self.env.get_template(template).render(**context)
        except BuildError:
            raise  # already names its template line
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateProblem(f"template syntax error in {exc.name or exc.filename}, line {exc.lineno}: "
                                  f"{exc.message}", "fix the template at that line") from None
        except jinja2.UndefinedError as exc:
            raise self._undefined(exc) from None
        except jinja2.TemplateNotFound as exc:
            raise TemplateProblem(f"{_traceback_location()}: no template {exc.name!r} in {self.template_dir}",
                                  "create it, or correct the name in the include") from None
        except RecursionError:
            raise TemplateProblem(f"{_traceback_location()}: templates include each other "
                                  "(or a macro calls itself) without end",
                                  "remove the include that leads back to a template already being rendered") from None
        except Exception as exc:  # any expression a template evaluates: 1/0, a bad format spec, ...
            raise TemplateProblem(f"{_traceback_location()}: {type(exc).__name__}: {exc}",
                                  "fix the expression at that line") from None

    def _undefined(self, exc: jinja2.UndefinedError) -> TemplateProblem:
        name = re.match(r"'(\w+)' is undefined", exc.message or "")
        if name and name.group(1) in self.env.filters:  # {{ num(x) }} for {{ x | num }}
            return TemplateProblem(f"{_traceback_location()}: {name.group(1)} is a filter, not a function",
                                   f"write {{{{ r.<section>.<value> | {name.group(1)} }}}}")
        return TemplateProblem(f"{_traceback_location()}: undefined value: {exc.message}",
                               "check the name against the section's results (see _build/results)")

    def _echo(self, entry) -> Markup:
        """An earlier ledger entry printed again, for the appendix of numbers."""
        return self.record(entry.value, entry.kind, entry.digits, path=entry.path)

    def _where(self) -> tuple[str, int]:
        return _template_frame() or ("?", 0)

    def _where_text(self) -> str:
        template, line = self._where()
        return f"{template}:{line}"


def group_entries(entries: list) -> list[dict]:
    """Entries grouped by template line and result path with indices wildcarded, in order of appearance.

    A confusion matrix printed by one template line becomes one group, ``...confusion[*][*]``.
    ``anchor`` is the id of the group's row in the appendix, which the HTML's cards link to.
    """
    groups: dict[tuple, list] = {}
    for entry in entries:
        stem = re.sub(r"\[\d+\]", "[*]", entry.path)
        groups.setdefault((stem, entry.template, entry.line), []).append(entry)
    return [{"stem": key[0], "template": key[1], "line": key[2], "entries": members,
             "anchor": f"row-{members[0].id}"} for key, members in groups.items()]


def _texts_with_digits(data, path: str = ""):
    """``(text, path)`` of each result string that holds a digit and a letter (a label, "H = 16")."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _texts_with_digits(value, f"{path}.{key}" if path else key)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _texts_with_digits(value, f"{path}[{index}]")
    elif isinstance(data, str) and any(c.isdigit() for c in data) and any(c.isalpha() for c in data):
        yield data, path


def _template_frame() -> tuple[str, int] | None:
    """The template name and line of the innermost template code on the call stack."""
    frame = sys._getframe(1)
    while frame is not None:
        template = frame.f_globals.get("__jinja_template__")
        if template is not None:
            return template.name, _template_line(template, frame.f_lineno)
        frame = frame.f_back
    return None


@functools.lru_cache(maxsize=4096)
def _template_line(template: jinja2.Template, code_line: int) -> int:
    """The template line of a line of its compiled code; Jinja reads its line table anew on each call."""
    return template.get_corresponding_lineno(code_line)


def _traceback_location() -> str:
    """``template:line`` of the innermost template frame in the exception being handled."""
    frames = [f for f in traceback.extract_tb(sys.exc_info()[2]) if f.filename.endswith(".j2")]
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "a template"


def _plain(value):
    for tracked, plain in ((TrackedFloat, float), (TrackedInt, int), (TrackedStr, str)):
        if isinstance(value, tracked):
            return plain(value)
    return value


def _escape(text: str) -> str:
    """Escape the Markdown characters that could break a span or a table cell."""
    return "".join("\\" + c if c in "[]|*_<>`$\\" else c for c in text)


__all__ = ["Renderer", "Document", "Claim"]
