"""``--set`` parsing and validation, against each field's type."""
import typing

import pytest

from conftest import PROJECT
from report import config as configs
from report.errors import ConfigError, UsageError


def toy():
    return PROJECT.section("toy_mlp")


def test_set_values_are_parsed_to_the_field_type():
    cfg = configs.resolve(toy(), "full", {"lr": "0.02", "hidden": "7", "step_b1": "[0.5,1.5,0.5,1.5]"})
    assert cfg.lr == 0.02 and cfg.hidden == 7 and cfg.step_b1 == (0.5, 1.5, 0.5, 1.5)


def test_quick_profile_applies_its_overrides_and_set_wins():
    assert configs.resolve(toy(), "quick", {}).patience == toy().quick["patience"]
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
        configs.parse_sets([text], PROJECT.names)


def test_set_for_an_unknown_section_names_the_valid_ones():
    with pytest.raises(UsageError, match="valid sections: .*toy_mlp"):
        configs.parse_sets(["nosuch.lr=1"], PROJECT.names)


def test_seeds_are_parsed_for_every_section():
    cfg = configs.resolve(toy(), "full", {"seeds": "[3,4]"})
    assert configs.seeds(toy(), cfg, {"seeds": "[3,4]"}) == (3, 4)
    assert configs.seeds(toy(), cfg, {}) == (cfg.seed,)
    with pytest.raises(ConfigError):
        configs.seeds(toy(), cfg, {"seeds": "[1,1]"})


def test_tuples_of_strings_need_no_quotes():
    kmnist = PROJECT.section("kmnist")
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
    kmnist = PROJECT.section("kmnist")
    cfg = configs.resolve(kmnist, "quick", {"models": "[lin,conv]"})
    full, fingerprinted = configs.as_json(cfg), configs.as_json(cfg, for_fingerprint=True)
    assert full["models"] == ["lin", "conv"] and "data_dir" in full
    assert "data_dir" not in fingerprinted and set(full) - set(fingerprinted) == {"data_dir"}


def test_an_unknown_section_name_lists_the_valid_ones():
    with pytest.raises(UsageError, match="unknown section 'nosuch'; valid sections: kmnist, toy_mlp"):
        PROJECT.section("nosuch")


def test_seeds_must_be_a_non_empty_list_of_distinct_integers():
    cfg = configs.resolve(toy(), "full", {})
    for bad in ("[]", "[1,1]", "[1.5]"):
        with pytest.raises(ConfigError, match="toy_mlp.seeds"):
            configs.seeds(toy(), cfg, {"seeds": bad})


def message(error_info) -> str:
    return str(error_info.value)


def test_parse_sets_groups_values_by_section_and_trims_them():
    assert configs.parse_sets(["toy_mlp.lr= 0.02 ", "kmnist.epochs=3", "toy_mlp.hidden=7"], PROJECT.names) == {
        "toy_mlp": {"lr": "0.02", "hidden": "7"}, "kmnist": {"epochs": "3"}}


def test_a_value_may_itself_contain_an_equals_sign():
    assert configs.parse_sets(["kmnist.data_dir=/mnt/run=3/data"], PROJECT.names) == {"kmnist": {"data_dir": "/mnt/run=3/data"}}


def test_a_dotted_key_is_reported_as_an_unknown_key_of_its_section():
    sets = configs.parse_sets(["toy_mlp.lr.x=1"], PROJECT.names)
    with pytest.raises(ConfigError) as error:
        configs.resolve(toy(), "full", sets["toy_mlp"])
    assert message(error).startswith("unknown key toy_mlp.lr.x; valid keys: seed, hidden, init_std, lr,")


def test_malformed_and_unknown_section_sets_say_how_to_write_one():
    with pytest.raises(UsageError) as error:
        configs.parse_sets(["toy_mlp.lr"], PROJECT.names)
    assert message(error) == ("malformed --set 'toy_mlp.lr': expected SECTION.KEY=VALUE\n"
                              "  hint: for example --set kmnist.lr=0.01")
    with pytest.raises(UsageError) as error:
        configs.parse_sets(["nosuch.lr=1"], PROJECT.names)
    assert message(error) == ("--set 'nosuch.lr=1': unknown section 'nosuch'; valid sections: kmnist, toy_mlp, "
                              "dynamics\n  hint: use one of the section names")


def test_an_unknown_section_hint_says_none_builds_them_all():
    with pytest.raises(UsageError) as error:
        PROJECT.section("nosuch")
    assert message(error) == ("unknown section 'nosuch'; valid sections: kmnist, toy_mlp, dynamics\n"
                              "  hint: name one of the valid sections, or none to build them all")


def test_the_full_profile_is_the_dataclass_defaults():
    assert configs.resolve(toy(), "full", {}) == toy().config()


def test_seeds_in_the_sets_do_not_stop_the_other_keys_from_applying():
    cfg = configs.resolve(toy(), "full", {"seeds": "[1,2]", "lr": "0.5", "hidden": "3"})
    assert (cfg.lr, cfg.hidden) == (0.5, 3)


def test_an_unknown_key_message_lists_every_valid_key_and_the_hint():
    with pytest.raises(ConfigError) as error:
        configs.resolve(PROJECT.section("dynamics"), "full", {"nosuch": "1"})
    keys = ", ".join([*typing.get_type_hints(PROJECT.section("dynamics").config), "seeds"])
    assert message(error) == f"unknown key dynamics.nosuch; valid keys: {keys}\n  hint: check the spelling of the key"
    assert keys.startswith("seed, max_n, blocks, ")


def test_an_out_of_range_value_names_the_section_and_the_rule():
    with pytest.raises(ConfigError) as error:
        configs.resolve(toy(), "full", {"max_epochs": "0"})
    assert message(error).startswith("invalid setting for section toy_mlp: ")
    assert message(error).endswith("\n  hint: change the --set value to one in range")


def test_bad_seeds_get_an_example_of_good_ones():
    with pytest.raises(ConfigError) as error:
        configs.seeds(toy(), toy().config(), {"seeds": "[1,1]"})
    assert message(error) == ("toy_mlp.seeds must be a non-empty list of distinct integers from 0 to 4294967295, "
                              "got '[1,1]'\n  hint: for example --set toy_mlp.seeds=[1,2,3]")


@pytest.mark.parametrize("raw,kind,expected", [
    ("[1,", tuple[float, ...], "cannot parse toy_mlp.step_b1='[1,'\n  hint: write a Python literal, e.g. [1,2,3]"),
    ("(1)", tuple[float, ...], "toy_mlp.step_b1='(1)' is not a valid tuple\n  hint: give toy_mlp.step_b1 a value of type tuple"),
    ("maybe", bool, "toy_mlp.step_b1='maybe' is not a valid bool\n  hint: give toy_mlp.step_b1 a value of type bool"),
    ("five", int, "toy_mlp.step_b1='five' is not a valid int\n  hint: give toy_mlp.step_b1 a value of type int"),
    ("[5]", int, "toy_mlp.step_b1='[5]' is not a valid int\n  hint: give toy_mlp.step_b1 a value of type int"),
    ("2.5", int, "toy_mlp.step_b1='2.5' is not a valid int\n  hint: give toy_mlp.step_b1 a value of type int"),
    ("fast", float, "toy_mlp.step_b1='fast' is not a valid float\n  hint: give toy_mlp.step_b1 a value of type float"),
    ("rmsprop", typing.Literal["sgd", "adam"],
     "toy_mlp.step_b1='rmsprop' is not one of sgd, adam\n  hint: pick one of the listed values"),
])
def test_a_value_that_does_not_parse_names_the_key_the_value_and_the_type(raw, kind, expected):
    with pytest.raises(ConfigError) as error:
        configs.parse_value("toy_mlp.step_b1", raw, kind)
    assert message(error) == expected


def test_a_non_number_for_an_int_field_says_it_is_not_an_int_rather_than_asking_for_a_literal():
    """Bug fixed: ``hidden=five`` used to get "cannot parse" with the hint "write a Python literal, e.g. [1,2,3]"."""
    with pytest.raises(ConfigError) as error:
        configs.resolve(toy(), "full", {"hidden": "five"})
    assert message(error) == "toy_mlp.hidden='five' is not a valid int\n  hint: give toy_mlp.hidden a value of type int"


def test_a_listed_literal_value_is_accepted():
    assert configs.parse_value("k", "adam", typing.Literal["sgd", "adam"]) == "adam"


def test_every_spelling_of_true_and_false_is_accepted():
    assert [configs.parse_value("k", raw, bool) for raw in ("true", "True", "1", "yes", "on", "ON")] == [True] * 6
    assert [configs.parse_value("k", raw, bool) for raw in ("false", "FALSE", "0", "no", "off", "Off")] == [False] * 6


def test_strings_lose_their_quotes_and_nothing_else():
    assert [configs.parse_value("k", raw, str) for raw in ("XOR", "'XOR'", '"lin"')] == ["XOR", "XOR", "lin"]


def test_quoted_string_items_may_contain_commas():
    assert configs.parse_value("k", "['a,b', 'c']", tuple[str, ...]) == ("a,b", "c")
    assert configs.parse_value("k", '["a,b", "c"]', tuple[str, ...]) == ("a,b", "c")
