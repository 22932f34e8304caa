"""``--diff``: the printed numbers that changed between two builds, each with its sentence and source.

    >>> old, new = builds_to_compare(paths, ref="")    # the report in paths.root and the build before it
    >>> result = compare(old, new)
    >>> print(as_text(result))        # by section: changed, then added and removed
    >>> print(as_markdown(result))    # the same as one pipe table, for a pull-request comment

A number is the same number in both builds when the same template prints the same result
path for the same n-th time, so lines may move as prose is edited. Numbers are compared as
printed. Left out: the provenance appendix (commit, date, wall times change with every
build) and the appendix that prints every number again.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from report import history
from report.errors import UsageError
from report.history import Build, UnreadableBuild
from report.ledger import format_value
from report.paths import OutputPaths
from report.render import NUMBERS_TEMPLATE

WIDTH = 80  # characters of a sentence shown around its number
BUILD_METADATA = "provenance"  # the results key the provenance appendix prints from (view.results_view)
CHANGES = ("changed", "added", "removed")
# A traced number in the rendered Markdown: [printed text]{#n12 .num title="result.path"}
SPAN = re.compile(r"\[((?:\\.|[^\]\\])*)\]\{#(n\d+) \.num[^}]*\}")


@dataclass(frozen=True)
class Printed:
    """One number as a build printed it."""

    section: str
    path: str
    template: str
    line: int
    text: str
    value: object
    kind: str
    digits: int | None
    context: tuple[str, str, str]  # its sentence, shortened: the text before it, the number, the text after

    @property
    def where(self) -> str:
        return f"{self.template}:{self.line}"

    @property
    def sentence(self) -> str:
        before, number, after = self.context
        return f"{before}[{number}]{after}" if number else ""


@dataclass(frozen=True)
class Change:
    change: str  # one of CHANGES
    old: Printed | None
    new: Printed | None

    @property
    def shown(self) -> Printed:
        """The number as the newer build printed it, or the older one for a removed number."""
        return self.new or self.old

    @property
    def old_to_new(self) -> str:
        return " -> ".join(p.text for p in (self.old, self.new) if p)

    @property
    def difference(self) -> str:
        """new - old in the number's own format (percentage points for a percentage), when both are numbers."""
        if self.change != "changed" or not (_is_number(self.old.value) and _is_number(self.new.value)):
            return ""
        delta = self.new.value - self.old.value
        if self.new.kind not in ("num", "pct", "int", "sci"):
            return f"{delta:+g}"
        text = format_value(self.new.kind, abs(delta), self.new.digits)
        return ("+" if delta >= 0 else "-") + (text.replace("%", " pt") if self.new.kind == "pct" else text)


@dataclass(frozen=True)
class Diff:
    old: Build
    new: Build
    changes: list[Change]
    compared: int  # numbers printed by both builds

    def count(self, change: str) -> int:
        return sum(c.change == change for c in self.changes)

    def by_section(self) -> dict[str, list[Change]]:
        grouped: dict[str, list[Change]] = {}
        for change in self.changes:
            grouped.setdefault(change.shown.section, []).append(change)
        return grouped

    def summary(self) -> str:
        return (f"{self.count('changed')} of {self.compared} printed numbers changed, "
                f"{self.count('added')} added, {self.count('removed')} removed")


def builds_to_compare(paths: OutputPaths, ref: str = "") -> tuple[Build, Build]:
    """The earlier build (``ref``, or the build before the current report) and the current report.

    ``ref`` is a history entry's name or the start of it, a commit prefix, or a folder holding
    a build's ``ledger.json`` (another output folder, say).
    """
    if not paths.ledger.exists():
        raise UsageError(f"no report in {paths.root} to compare", "build it first with `python build.py`")
    current = Build(_shown(paths.root), paths.root)
    kept = history.builds(paths.history)
    return (_named(ref, kept, current, paths) if ref else _previous(current, kept, paths)), current


def compare(old: Build, new: Build, sections: list[str] | None = None) -> Diff:
    """Each number printed differently, printed only by ``new`` (added) or only by ``old`` (removed)."""
    try:
        before, after = printed_numbers(old), printed_numbers(new)
    except UnreadableBuild as exc:
        raise UsageError(str(exc), "name another build to compare with, or build again") from None
    changes = [Change("changed" if key in before else "added", before.get(key), number)
               for key, number in after.items() if key not in before or before[key].text != number.text]
    changes += [Change("removed", number, None) for key, number in before.items() if key not in after]
    order = {name: i for i, name in enumerate(dict.fromkeys(p.section for p in [*after.values(), *before.values()]))}
    changes.sort(key=lambda c: (order[c.shown.section], CHANGES.index(c.change)))
    if sections:
        changes = [c for c in changes if c.shown.section in sections]
    return Diff(old, new, changes, len(before.keys() & after.keys()))


def printed_numbers(build: Build) -> dict[tuple[str, str, int], Printed]:
    """Every number a build printed, by (result path, template, n-th time that template printed it)."""
    around = sentences(build.document())
    seen: Counter = Counter()
    numbers = {}
    for entry in build.ledger():
        section = section_of(entry["path"], entry["template"])
        if entry["template"] == NUMBERS_TEMPLATE or section == BUILD_METADATA:
            continue
        key = (entry["path"], entry["template"])
        numbers[(*key, seen[key])] = Printed(section, entry["path"], entry["template"], entry["line"],
                                             entry["text"], entry["value"], entry["kind"], entry["digits"],
                                             around.get(entry["id"], ("", "", "")))
        seen[key] += 1
    return numbers


def section_of(path: str, template: str) -> str:
    """The section a printed number belongs to: ``mean(kmnist@*.x)`` and ``provenance.seeds.kmnist@2``
    to ``kmnist``; a literal to its template's."""
    if path.startswith("literal:"):
        return template.split(".")[0]
    inner = re.sub(r"^\w+\((.*)\)$", r"\1", path).removeprefix(f"{BUILD_METADATA}.seeds.")
    return re.split(r"[.@\[]", inner, maxsplit=1)[0]  # pragma: no mutate (any maxsplit: the first piece is the same)


def sentences(document: str) -> dict[str, tuple[str, str, str]]:
    """Each traced number's id -> the sentence (or table row) around it as plain text, shortened:
    the text before the number, the number, the text after."""
    found = {}
    for block in _blocks(document):
        plain, places = _unwrap(block)
        for number_id, (start, end) in places.items():
            found[number_id] = _around(plain, start, end)
    return found


def as_text(diff: Diff) -> str:
    """For the terminal: per section, one line per number and its sentence below it."""
    lines = [f"--diff: {_label(diff.new)}", f"   against {_label(diff.old)}", ""]
    for section, changes in diff.by_section().items():
        counts = Counter(c.change for c in changes)
        lines.append(f"{section}: " + ", ".join(f"{counts[kind]} {kind}" for kind in CHANGES if counts[kind]))
        for change in changes:
            shown = change.shown
            difference = f"  ({change.difference})" if change.difference else ""
            lines.append(f"  {change.change:<8} {shown.where}  {shown.path}  {change.old_to_new}{difference}")
            lines.append(f"           {shown.sentence}")
        lines.append("")
    lines.append(diff.summary() if diff.changes else f"no printed number changed ({diff.summary()})")
    return "\n".join(lines)


def as_markdown(diff: Diff) -> str:
    """One pipe table for a pull-request comment, preceded by what was compared."""
    lines = [f"**{_md(diff.summary())}**: {_code(diff.new.name)} against {_code(diff.old.name)}", ""]
    if not diff.changes:
        return "\n".join(lines + ["No printed number changed."]) + "\n"
    lines += ["| section | change | printed | template | result path | old | new | difference |",
              "|:--|:--|:--|:--|:--|--:|--:|--:|"]
    for change in diff.changes:
        shown = change.shown
        cells = [shown.section, change.change, _md_sentence(shown.context), _code(shown.where), _code(shown.path),
                 _md(change.old.text) if change.old else "", _md(change.new.text) if change.new else "",
                 _md(change.difference)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# -- which builds ---------------------------------------------------------------------------
def _previous(current: Build, kept: list[Build], paths: OutputPaths) -> Build:
    """The build before the current report: the entry before its own, or the newest when it has none."""
    own = [i for i, build in enumerate(kept) if _same(build, current)]
    earlier = kept[:own[-1]] if own else kept
    if not earlier:
        raise UsageError(f"no earlier build of {paths.root} to compare with: {paths.history} holds none before this report",
                         "build again after a change (each build is kept there), or name a build "
                         "folder: --diff OTHER_OUT")
    return earlier[-1]


def _named(ref: str, kept: list[Build], current: Build, paths: OutputPaths) -> Build:
    folder = Path(ref).expanduser()
    if (folder / history.LEDGER).is_file():
        return Build(str(folder), folder)
    exact = [b for b in kept if b.name == ref]
    earlier = [b for b in kept if not _same(b, current)]  # a prefix means a build other than this one
    by_commit = [b for b in earlier if re.fullmatch(r"[0-9a-f]{4,40}", ref) and history.commit_of(b).startswith(ref)]
    by_start = [b for b in earlier if b.name.startswith(ref)]
    for matches in (exact, by_commit, by_start):
        if matches:
            return matches[-1]
    recent = ", ".join(b.name for b in kept[-3:]) or "none yet"
    raise UsageError(f"--diff {ref}: no build of that name or commit in {paths.history}, "
                     "and no build folder (with ledger.json) at that path",
                     f"name a kept build (the latest: {recent}), a commit prefix, or another output folder")


def _shown(folder: Path) -> str:
    """A folder as the user would name it: relative to the working directory when inside it."""
    return str(folder.relative_to(Path.cwd())) if folder.is_relative_to(Path.cwd()) else str(folder)


def _same(build: Build, current: Build) -> bool:
    try:
        return build.same_report_as(current)
    except OSError:
        return False


def _label(build: Build) -> str:
    try:
        prov = build.provenance()
    except UnreadableBuild:
        return build.name
    commit = str(prov.get("commit", "?"))[:7] + ("-dirty" if prov.get("dirty") else "")
    return f"{build.name} (commit {commit}, {prov.get('date', '?')}, {prov.get('profile', '?')} profile)"


# -- sentences ------------------------------------------------------------------------------
def _blocks(document: str):
    """Table rows one by one; other lines joined into paragraphs."""
    paragraph: list[str] = []
    for line in document.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("|"):
            paragraph.append(stripped)
            continue
        if paragraph:
            yield " ".join(paragraph)
            paragraph = []
        if stripped:
            yield stripped.strip("|").strip()
    if paragraph:
        yield " ".join(paragraph)


def _unwrap(block: str) -> tuple[str, dict[str, tuple[int, int]]]:
    """The block as plain text, and where each traced number's text lies in it."""
    plain, places, last = "", {}, 0
    for span in SPAN.finditer(block):
        plain += _plain(block[last:span.start()])
        text = _unescape(span.group(1))
        places[span.group(2)] = (len(plain), len(plain) + len(text))
        plain += text
        last = span.end()
    return plain + _plain(block[last:]), places


def _plain(markdown: str) -> str:
    """Markdown between numbers, without attributes, emphasis and escapes."""
    markdown = re.sub(r"\{[#.][^}]*\}", "", markdown)
    return re.sub(r"\s+", " ", _unescape(markdown.replace("**", "")))


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _around(plain: str, start: int, end: int) -> tuple[str, str, str]:
    """The sentence holding plain[start:end], cut to about ``WIDTH`` characters around it."""
    begin = plain[:start].rfind(". ")
    begin = 0 if begin < 0 else begin + 2
    finish = plain.find(". ", end)
    finish = len(plain) if finish < 0 else finish + 1
    room = max(0, WIDTH - (end - start)) // 2  # pragma: no mutate (max(1, x) // 2 == max(0, x) // 2 for any integer x)
    left, right = plain[max(begin, start - room):start], plain[end:min(finish, end + room)]
    if start - room > begin:
        left = "..." + left.partition(" ")[2]
    if end + room < finish:
        right = right.rpartition(" ")[0] + "..."
    return left.lstrip(), plain[start:end], right.rstrip()


# -- formatting -----------------------------------------------------------------------------
def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _md(text: str) -> str:
    """Text safe in a pipe-table cell."""
    return "".join("\\" + c if c in "\\|*_`[]<>" else c for c in str(text))


def _code(text: str) -> str:
    """Text as code in a pipe-table cell: a code span takes no escapes but the table's pipe."""
    return "`" + str(text).replace("|", "\\|") + "`"


def _md_sentence(context: tuple[str, str, str]) -> str:
    """The sentence with its number in bold."""
    before, number, after = context
    return f"{_md(before)}**{_md(number)}**{_md(after)}" if number else ""
