"""``--set`` parsing and validation, against each field's type."""
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
