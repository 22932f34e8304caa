"""The ledger's formats: the printed text of a number, the same in the document and in the checks."""
import math

import pytest

from report.ledger import FORMATS, Ledger, format_value


@pytest.mark.parametrize("kind, value, digits, text", [
    ("num", 0.123456, None, "0.123"),          # three decimals unless told
    ("num", 0.123456, 1, "0.1"),
    ("num", 9_999.5, 2, "9999.50"),            # below ten thousand: no separator
    ("num", 10_000.0, 1, "10,000.0"),          # from ten thousand on: thousands separated
    ("num", -12_345.678, 0, "-12,346"),        # ... for negative numbers too
    ("num", -9_999.0, 0, "-9999"),
    ("pct", 0.8596, None, "85.96%"),           # two decimals unless told
    ("pct", 0.8596, 1, "86.0%"),
    ("int", 1234567, None, "1,234,567"),
    ("int", 7, 3, "7"),                        # digits mean nothing to an integer
    ("sci", 0.000123456, None, "1.23e-04"),    # two decimals unless told
    ("sci", 0.000123456, 4, "1.2346e-04"),
    ("text", "Adam", None, "Adam"),
])
def test_each_format_prints_the_text_a_reader_sees(kind, value, digits, text):
    assert format_value(kind, value, digits) == text


@pytest.mark.parametrize("kind", ["num", "pct", "sci", "int"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_value_that_is_not_finite_prints_as_python_writes_it_instead_of_failing(kind, value):
    assert format_value(kind, value, 2) == str(value)


def test_text_prints_a_non_finite_float_through_its_own_format():
    assert format_value("text", math.inf) == FORMATS["text"](math.inf, None) == "inf"


def test_ledger_entries_are_numbered_in_order_and_keep_where_they_were_printed():
    ledger = Ledger()
    first = ledger.add("s.acc", 0.8596, "pct", 1, ("s.qmd.j2", 3))
    second = ledger.add("s.n", 12000, "int", None, ("s.qmd.j2", 9))
    assert [first.id, second.id] == ["n1", "n2"]
    assert ledger.entries == [first, second]
    assert ledger.as_json() == [
        {"id": "n1", "path": "s.acc", "value": 0.8596, "text": f"{100 * 0.8596:.1f}%", "kind": "pct",
         "digits": 1, "template": "s.qmd.j2", "line": 3},
        {"id": "n2", "path": "s.n", "value": 12000, "text": f"{12000:,}", "kind": "int",
         "digits": None, "template": "s.qmd.j2", "line": 9},
    ]
