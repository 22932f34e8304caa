"""What ``--verify`` prints: the numbers that differ, worst first, and the tolerances that applied."""
from report.compare import Rules, compare
from report.section import SectionSpec, Tolerance
from report.verify import Verified, table


def rules(tolerances=None, volatile=None) -> Rules:
    return Rules.of(SectionSpec("s", "s", "S", object, {}, lambda data: [], tolerances=tolerances or {},
                                volatile=volatile or {}))


def verified(stored, rerun, section_rules) -> Verified:
    return Verified(compare(stored, rerun, section_rules, []), section_rules)


def test_the_table_lists_what_differs_worst_first_then_each_tolerance_that_applied_once_with_its_reason():
    section = rules({"acc": Tolerance("seed noise", abs_tol=0.01), "loss": Tolerance("seed noise", rel_tol=0.1)},
                    {"secs": "wall time"})
    found = verified({"s": {"acc": 0.9, "loss": 2.0, "secs": 1.0, "n": 3, "m": 1}},
                     {"s": {"acc": 0.905, "loss": 2.0, "secs": 2.0, "n": 4, "m": 1}}, {"s": section})
    assert table(found).splitlines() == [
        "result path    printed at    stored    rerun    difference    tolerance    verdict",
        "-------------  ------------  --------  -------  ------------  -----------  ----------------",
        "s.n                          3         4        +1            exact        beyond",
        "s.acc                        0.9       0.905    +0.005        ±0.01        within tolerance",
        "s.secs                       1         2        +1            volatile     volatile",
        "tolerances that applied:",
        "s acc   ±0.01     seed noise",
        "s secs  volatile  wall time",
        "s loss  ±0.1 rel  seed noise"]  # in the order of the rows they applied to, equal ones included


def test_the_spread_of_the_stored_seeds_is_named_as_the_tolerance_it_gave():
    found = verified({"s": {"acc": 0.90}, "s@2": {"acc": 0.92}}, {"s": {"acc": 0.91}, "s@2": {"acc": 0.92}},
                     {"s": rules()})
    assert table(found).splitlines()[-2:] == [
        "tolerances that applied:", "seeds  3 sd  the spread of the stored seeds' values at the same path"]


def test_a_verify_where_every_number_is_equal_prints_no_table():
    assert table(verified({"s": {"a": 1}}, {"s": {"a": 1}}, {"s": rules()})) == ""


def test_a_tolerance_declared_for_a_key_with_a_space_is_named_in_the_legend():
    section = rules({"top 1": Tolerance("seed noise", abs_tol=0.01)})
    found = verified({"s": {"top 1": 0.9}}, {"s": {"top 1": 0.905}}, {"s": section})
    assert table(found).splitlines()[-1] == "s top 1  ±0.01  seed noise"
