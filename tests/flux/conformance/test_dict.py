"""The ``dict`` package: build a dictionary from pairs, get, insert, remove (docs' examples)."""

from __future__ import annotations

import pytest

from flux_magic._errors import FluxError

from .flux_eval import ev, fails

D = 'd = dict.fromList(pairs: [{key: 1, value: "foo"}, {key: 2, value: "bar"}])\n'


def test_get_returns_the_value_or_the_default() -> None:
    assert ev('dict.get(dict: d, key: 1, default: "")', "dict", prelude=D) == "foo"
    assert ev('dict.get(dict: d, key: 3, default: "none")', "dict", prelude=D) == "none"


def test_insert_returns_a_new_dictionary() -> None:
    prelude = D + 'e = dict.insert(dict: d, key: 3, value: "baz")\n'
    assert ev('dict.get(dict: e, key: 3, default: "")', "dict", prelude=prelude) == "baz"
    assert ev('dict.get(dict: d, key: 3, default: "")', "dict", prelude=prelude) == ""


def test_insert_overwrites_an_existing_key() -> None:
    prelude = D + 'e = dict.insert(dict: d, key: 1, value: "new")\n'
    assert ev('dict.get(dict: e, key: 1, default: "")', "dict", prelude=prelude) == "new"


def test_remove_returns_a_new_dictionary() -> None:
    prelude = D + "e = dict.remove(dict: d, key: 1)\n"
    assert ev('dict.get(dict: e, key: 1, default: "gone")', "dict", prelude=prelude) == "gone"
    assert ev('dict.get(dict: d, key: 1, default: "gone")', "dict", prelude=prelude) == "foo"
    assert repr(ev("e", "dict", prelude=prelude)) == '[2: "bar"]'


def test_string_keys_and_a_dict_in_map() -> None:
    df = ev(
        "sampledata.int() |> map(fn: (r) => ({r with name: dict.get(dict: names, key: r.tag, "
        'default: "?")}))',
        "dict",
        "sampledata",
        prelude='names = dict.fromList(pairs: [{key: "t1", value: "first"}])\n',
    )
    assert df["name"].tolist() == ["first"] * 6 + ["?"] * 6


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (
            'dict.fromList(pairs: [{key: 1, value: "a"}, {key: "b", value: "c"}])',
            "expected int but found string for the key",
        ),
        ("dict.insert(dict: d, key: 3, value: 4)", "expected string but found int"),
        ('dict.get(dict: {a: 1}, key: "a", default: 0)', "expected dict .* but found record"),
        ('dict.get(dict: d, key: 1.0, default: "")', "expected int but found float for the key"),
        ("dict.remove(dict: d, key: true)", "expected int but found bool for the key"),
    ],
)
def test_errors(expr: str, message: str) -> None:
    with pytest.raises(FluxError, match=message):
        ev(expr, "dict", prelude=D)


def test_fromlist_needs_key_and_value() -> None:
    fails('dict.fromList(pairs: [{k: 1, v: "a"}])', "dict", match="\\{key: ..., value: ...\\}")
