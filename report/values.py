"""Result data as templates see it: every value remembers the result path it came from.

``r.toy_mlp.trained.final_loss`` is a ``TrackedFloat`` whose ``.path`` is
``"toy_mlp.trained.final_loss"``; the number filters need that path to record where a
printed number came from. Arithmetic on a tracked number gives a plain number without a
path, which the filters refuse: derived numbers belong in the experiment's results.
"""
from __future__ import annotations

import statistics
from collections.abc import Mapping


class TrackedFloat(float):
    path: str


class TrackedInt(int):
    path: str


class TrackedStr(str):
    path: str


class DictView(Mapping):
    """A read-only view of a result dict; attribute or item access both work."""

    def __init__(self, data: dict, path: str):
        self._data, self.path = data, path

    def __getitem__(self, key):
        return track(self._data[key], f"{self.path}.{key}")

    def __getattr__(self, key):
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"{self.path} has no key {key!r}") from None

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)


class ListView(tuple):
    """A read-only list whose items are tracked with their index in the path."""

    def __new__(cls, items: list, path: str):
        view = super().__new__(cls, (track(item, f"{path}[{i}]") for i, item in enumerate(items)))
        view.path = path
        return view


def track(value, path: str):
    """Wrap ``value`` so it carries ``path``; booleans and ``None`` stay as they are."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, dict):
        return DictView(value, path)
    if isinstance(value, list):
        return ListView(value, path)
    for plain, tracked in ((int, TrackedInt), (float, TrackedFloat), (str, TrackedStr)):
        if isinstance(value, plain):
            wrapped = tracked(value)
            wrapped.path = path
            return wrapped
    raise TypeError(f"{path}: result values must be JSON data, got {type(value).__name__}")


def lookup(results: dict, path: str):
    """The plain value at ``path`` (``"a.b[2].c"``) in ``{section: data}``."""
    value = results
    for part in path.replace("[", ".[").split("."):
        value = value[int(part[1:-1])] if part.startswith("[") else value[part]
    return value


def seed_values(results: dict, section: str, rest: str) -> dict:
    """``{key: value}`` at ``rest`` in every seed's result of ``section`` (the primary seed first)."""
    keys = [k for k in results if k == section or k.startswith(section + "@")]
    return {k: float(lookup(results, f"{k}.{rest}")) for k in keys}


def evaluate(results: dict, path: str):
    """The value a ledger path names: a result (``"a.b[2]"``), a list's length (``len(a.b)``), or
    the mean or sd over every seed of a section (``mean(kmnist@*.models.lin.accuracy)``)."""
    if path.startswith(("mean(", "sd(")):
        function, _, inner = path[:-1].partition("(")
        section, _, rest = inner.partition("@*.")
        values = list(seed_values(results, section, rest).values())
        return statistics.fmean(values) if function == "mean" else statistics.stdev(values)
    if path.startswith("len("):
        return len(lookup(results, path[4:-1]))
    return lookup(results, path)
