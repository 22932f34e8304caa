"""Result data as templates see it: every value remembers the path it was read from."""
import copy

import pytest

from report.values import DictView, ListView, TrackedFloat, TrackedInt, TrackedStr, lookup, seed_values, track

DATA = {"acc": 0.85, "n": 3, "name": "lin", "ok": True, "none": None,
        "models": [{"name": "conv", "acc": 0.9}, {"name": "full", "acc": 0.8}]}


def test_every_value_read_through_a_view_carries_its_result_path():
    view = track(DATA, "sec")
    assert isinstance(view.acc, TrackedFloat) and view.acc == 0.85 and view.acc.path == "sec.acc"
    assert isinstance(view["n"], TrackedInt) and view["n"] == 3 and view["n"].path == "sec.n"
    assert isinstance(view.name, TrackedStr) and view.name == "lin" and view.name.path == "sec.name"
    assert view.models.path == "sec.models" and isinstance(view.models, ListView)
    assert view.models[1].acc.path == "sec.models[1].acc" and view.models[1].acc == 0.8
    assert view.models[0].path == "sec.models[0]" and isinstance(view.models[0], DictView)


def test_booleans_and_none_stay_plain_so_templates_can_test_them():
    view = track(DATA, "sec")
    assert view.ok is True and view.none is None


def test_a_view_iterates_and_counts_like_the_result_dict():
    view = track(DATA, "sec")
    assert list(view) == list(DATA) and len(view) == len(DATA)
    assert len(view.models) == 2 and [m.name for m in view.models] == ["conv", "full"]


def test_a_missing_key_names_the_path_it_was_looked_up_in():
    view = track(DATA, "sec")
    with pytest.raises(AttributeError) as missing:
        view.models[0].loss
    assert str(missing.value) == "sec.models[0] has no key 'loss'"
    with pytest.raises(KeyError):
        view["loss"]


def test_underscore_names_are_not_result_keys_so_python_protocols_see_a_plain_object():
    view = track({"_private": 1, "acc": 0.5}, "sec")
    with pytest.raises(AttributeError, match="^_private$"):
        view._private
    assert copy.copy(view)["acc"].path == "sec.acc"


def test_a_value_that_is_not_json_data_is_refused_naming_its_path():
    with pytest.raises(TypeError, match=r"^sec\.when: result values must be JSON data, got object$"):
        track({"when": object()}, "sec").when


def test_lookup_follows_keys_and_indices():
    results = {"sec": {"models": [{"acc": 0.9}, {"acc": 0.8, "m": [[1, 2], [3, 4]]}]}}
    assert lookup(results, "sec.models[1].acc") == 0.8
    assert lookup(results, "sec.models[1].m[1][0]") == 3
    assert lookup(results, "sec") is results["sec"]


def test_seed_values_reads_every_seed_of_one_section_only():
    results = {"sec": {"acc": 1}, "sec@2": {"acc": 0.5}, "sec2": {"acc": 9.0}, "sec2@2": {"acc": 8.0},
               "other@sec": {"acc": 7.0}}
    values = seed_values(results, "sec", "acc")
    assert values == {"sec": 1.0, "sec@2": 0.5} and list(values) == ["sec", "sec@2"]
    assert all(type(v) is float for v in values.values())
