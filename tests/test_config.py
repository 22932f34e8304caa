"""``--set`` parsing and validation, against each field's type."""
import typing

import pytest

from report import config as configs
from report.errors import ConfigError, UsageError


def toy():
    return configs.load_section("toy_mlp")


def test_set_values_are_parsed_to_the_field_type():
    cfg = configs.resolve(toy(), "full", {"lr": "0.02", "hidden": "7", "step_b1": "[0.5,1.5,0.5,1.5]"})
    assert cfg.lr == 0.02 and cfg.hidden == 7 and cfg.step_b1 == (0.5, 1.5, 0.5, 1.5)


def test_quick_profile_applies_its_overrides_and_set_wins():
    assert configs.resolve(toy(), "quick", {}).patience == toy().QUICK["patience"]
    assert configs.resolve(toy(), "quick", {"patience": "5"}).patience == 5


def test_unknown_key_lists_the_valid_keys():
    with pytest.raises(ConfigError) as error:
        configs.resolve(toy(), "full", {"learning_rate": "0.1"})
    assert "valid keys" in str(error.value) and "lr" in str(error.value) and "seeds" in str(error.value)


@pytest.mark.parametrize("key,value", [("hidden", "five"), ("hidden", "2.5"), ("lr", "fast"), ("step_b1", "[1,")])
def test_wrong_type_is_rejected(key, value):
    with pytest.raises(ConfigError):
        configs.resolve(toy(), "full", {key: value})


@pytest.mark.parametrize("key,value", [("lr", "-0.01"), ("max_epochs", "0")])
def test_out_of_range_value_is_rejected(key, value):
    with pytest.raises(ConfigError, match="invalid setting"):
        configs.resolve(toy(), "full", {key: value})


@pytest.mark.parametrize("text", ["toy_mlp.lr", "lr=0.1", "toy_mlp.=1", "toy_mlp.lr="])
def test_malformed_set_is_a_usage_error(text):
    with pytest.raises(UsageError, match="SECTION.KEY=VALUE"):
        configs.parse_sets([text])


def test_set_for_an_unknown_section_names_the_valid_ones():
    with pytest.raises(UsageError, match="valid sections: .*toy_mlp"):
        configs.parse_sets(["nosuch.lr=1"])


def test_seeds_are_parsed_for_every_section():
    cfg = configs.resolve(toy(), "full", {"seeds": "[3,4]"})
    assert configs.seeds(toy(), cfg, {"seeds": "[3,4]"}) == (3, 4)
    assert configs.seeds(toy(), cfg, {}) == (cfg.seed,)
    with pytest.raises(ConfigError):
        configs.seeds(toy(), cfg, {"seeds": "[1,1]"})


def test_tuples_of_strings_need_no_quotes():
    kmnist = configs.load_section("kmnist")
    assert configs.resolve(kmnist, "full", {"models": "[lin,conv]"}).models == ("lin", "conv")
    assert configs.resolve(kmnist, "full", {"models": "['full']"}).models == ("full",)


def test_tuple_items_without_brackets_are_parsed_to_the_item_type():
    cfg = configs.resolve(toy(), "full", {"step_b1": "0.5,1.5,0.5,1.5", "seeds": "1,2"})
    assert cfg.step_b1 == (0.5, 1.5, 0.5, 1.5) and all(type(b) is float for b in cfg.step_b1)
    assert configs.seeds(toy(), cfg, {"seeds": "1,2"}) == (1, 2)


@pytest.mark.parametrize("key,value,words", [
    ("step_b1", "0.5,x,0.5,1.5", "not a valid float"),
    ("hidden", "True", "not a valid int"),
    ("hidden", "[5]", "not a valid int"),
])
def test_items_and_scalars_of_the_wrong_type_name_the_key(key, value, words):
    with pytest.raises(ConfigError, match=f"toy_mlp.{key}=.*{words}"):
        configs.resolve(toy(), "full", {key: value})


def test_booleans_and_literals_are_parsed_in_their_spellings():
    assert [configs.parse_value("k", raw, bool) for raw in ("yes", "ON", "1", "off", "False")] == [
        True, True, True, False, False]
    with pytest.raises(ConfigError, match="not a valid bool"):
        configs.parse_value("k", "maybe", bool)
    assert configs.parse_value("k", "'fast'", str) == "fast"
    assert configs.parse_value("k", "(1, 2)", tuple[int, ...]) == (1, 2)
    with pytest.raises(ConfigError, match="not one of sgd, adam"):
        configs.parse_value("k", "rmsprop", typing.Literal["sgd", "adam"])
    with pytest.raises(ConfigError, match="not a valid tuple"):
        configs.parse_value("k", "(1)", tuple[int, ...])


def test_the_fingerprinted_config_leaves_out_fields_that_do_not_change_results():
    kmnist = configs.load_section("kmnist")
    cfg = configs.resolve(kmnist, "quick", {"models": "[lin,conv]"})
    full, fingerprinted = configs.as_json(cfg), configs.as_json(cfg, for_fingerprint=True)
    assert full["models"] == ["lin", "conv"] and "data_dir" in full
    assert "data_dir" not in fingerprinted and set(full) - set(fingerprinted) == {"data_dir"}


def test_an_unknown_section_name_lists_the_valid_ones():
    with pytest.raises(UsageError, match="unknown section 'nosuch'; valid sections: kmnist, toy_mlp"):
        configs.load_section("nosuch")


def test_seeds_must_be_a_non_empty_list_of_distinct_integers():
    cfg = configs.resolve(toy(), "full", {})
    for bad in ("[]", "[1,1]", "[1.5]"):
        with pytest.raises(ConfigError, match="toy_mlp.seeds"):
            configs.seeds(toy(), cfg, {"seeds": bad})
