"""Section configs: defaults from each section's dataclass, the profile's overrides, then ``--set``.

    >>> overrides = parse_sets(["toy_mlp.lr=0.02"], project.names)  # {"toy_mlp": {"lr": "0.02"}}
    >>> cfg = resolve(project.section("toy_mlp"), "quick", overrides["toy_mlp"])

Every ``--set`` value is parsed once, here, against the field's type; an unknown key or a
wrong type is rejected with the list of valid keys. ``seeds`` is accepted for every section:
the engine runs the section once per seed.
"""
from __future__ import annotations

import ast
import dataclasses
import math
import typing
from collections.abc import Sequence

from report.errors import ConfigError, UsageError
from report.section import SectionSpec

PROFILES = ("quick", "full")
SEEDS_KEY = "seeds"
SEED_RANGE = range(2**32)  # what NumPy and PyTorch generators accept


def parse_sets(assignments: list[str], names: Sequence[str]) -> dict[str, dict[str, str]]:
    """Split ``section.key=value`` strings into ``{section: {key: raw value}}``."""
    parsed: dict[str, dict[str, str]] = {}
    for text in assignments:
        target, _, value = text.partition("=")
        section, _, key = target.strip().partition(".")
        if not key or not value.strip():  # no "." leaves the key empty, no "=" the value
            raise UsageError(f"malformed --set {text!r}: expected SECTION.KEY=VALUE",
                             "for example --set kmnist.lr=0.01")
        if section not in names:
            raise UsageError(f"--set {text!r}: unknown section {section!r}; valid sections: "
                             f"{', '.join(names)}", "use one of the section names")
        parsed.setdefault(section, {})[key] = value.strip()
    return parsed


def resolve(section: SectionSpec, profile: str, sets: dict[str, str]):
    """The section's config for a profile, with ``--set`` values (``seeds`` excluded) applied."""
    values = dict(section.quick) if profile == "quick" else {}
    hints = typing.get_type_hints(section.config)
    for key, raw in sets.items():
        if key == SEEDS_KEY:
            continue
        if key not in hints:
            raise ConfigError(f"unknown key {section.name}.{key}; valid keys: "
                              f"{', '.join([*hints, SEEDS_KEY])}", "check the spelling of the key")
        values[key] = parse_value(f"{section.name}.{key}", raw, hints[key])
    if "seed" in values and values["seed"] not in SEED_RANGE:  # else the dataclass default
        raise ConfigError(f"{section.name}.seed must be an integer from 0 to {SEED_RANGE[-1]}, "
                          f"got {values['seed']}", f"for example --set {section.name}.seed=1")
    try:
        return section.config(**values)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"invalid setting for section {section.name}: {exc}",
                          "change the --set value to one in range") from None


def seeds(section: SectionSpec, config, sets: dict[str, str]) -> tuple[int, ...]:
    """The seeds to run: ``--set SECTION.seeds=[...]``, else the config's own seed."""
    if SEEDS_KEY not in sets:
        return (config.seed,)
    chosen = parse_value(f"{section.name}.seeds", sets[SEEDS_KEY], tuple[int, ...])
    if not chosen or len(set(chosen)) != len(chosen) or any(seed not in SEED_RANGE for seed in chosen):
        raise ConfigError(f"{section.name}.seeds must be a non-empty list of distinct integers from 0 "
                          f"to {SEED_RANGE[-1]}, got {sets[SEEDS_KEY]!r}",
                          f"for example --set {section.name}.seeds=[1,2,3]")
    return chosen


def parse_value(key: str, raw: str, kind):
    """Parse ``raw`` as ``kind`` (int, float, str, bool, or a tuple of one of those)."""
    origin = typing.get_origin(kind)
    if origin is tuple:
        item_kind = typing.get_args(kind)[0]
        items = _items(key, raw, item_kind)
        if not isinstance(items, (list, tuple)):
            raise _wrong_type(key, raw, kind)
        return tuple(parse_value(key, str(item).strip(), item_kind) for item in items)
    if origin is typing.Literal:
        if raw not in typing.get_args(kind):
            raise ConfigError(f"{key}={raw!r} is not one of {', '.join(typing.get_args(kind))}",
                              "pick one of the listed values")
        return raw
    return _scalar(key, raw, kind)


def _items(key: str, raw: str, item_kind) -> list:
    """``[1,2,3]``, ``1,2,3``, and for strings also ``[lin,conv]`` without quotes."""
    if not raw.startswith(("[", "(")):
        return raw.split(",")
    if item_kind is str and "'" not in raw and '"' not in raw:
        return [item for item in raw[1:-1].split(",") if item.strip()]
    return _literal(key, raw)


def _scalar(key: str, raw: str, kind):
    if kind is str:
        return raw.strip("'\"")
    if kind is bool:
        lowered = raw.lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise _wrong_type(key, raw, kind)
    try:
        value = kind(raw)  # int("2.5"), int("True") and float("fast") raise ValueError
    except ValueError:
        raise _wrong_type(key, raw, kind) from None
    if kind is float and not math.isfinite(value):
        raise ConfigError(f"{key}={raw!r} is not a finite number", f"give {key} a finite value")
    return value


def _literal(key: str, raw: str):
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        raise ConfigError(f"cannot parse {key}={raw!r}", "write a Python literal, e.g. [1,2,3]") from None


def _wrong_type(key: str, raw: str, kind) -> ConfigError:
    name = kind.__name__  # int, float, bool, or tuple for tuple[float, ...]
    return ConfigError(f"{key}={raw!r} is not a valid {name}", f"give {key} a value of type {name}")


def as_json(config, for_fingerprint: bool = False) -> dict:
    """The config as plain JSON data; ``for_fingerprint`` drops fields that don't affect results."""
    return {f.name: _jsonable(getattr(config, f.name)) for f in dataclasses.fields(config)
            if not (for_fingerprint and f.metadata.get("fingerprint") is False)}


def _jsonable(value):
    return list(value) if isinstance(value, tuple) else value
