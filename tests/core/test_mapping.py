from __future__ import annotations

import pytest

from flux_magic._mapping import (
    DEFAULT_MAPPING,
    MappingSourceError,
    compile_mapping,
    is_flux_source,
    mapping_syntax_error,
)
from flux_magic._rows import Row


def test_python_lambda_and_function_name() -> None:
    def mine(r: object) -> dict[str, bytes]:
        return {"data": b"y"}

    assert compile_mapping('lambda r: {"data": b"x"}', {})({}) == {"data": b"x"}
    assert compile_mapping("\n\n   mine\n", {"mine": mine}) is mine


def test_default_mapping_is_the_flux_docs_example() -> None:
    fn = compile_mapping(DEFAULT_MAPPING, {})
    assert fn(Row(_value=7)) == {
        "headers": {"header1": "example1", "header2": "example2"},
        "data": b"The value is 7",
    }


def test_flux_literal_goes_to_the_flux_layer() -> None:
    source = '(r) => ({headers: {header1: "example1"}, data: bytes(v: "v=${r._value}")})'
    assert is_flux_source(source)
    assert not is_flux_source("lambda r: r")
    assert compile_mapping(source, {})(Row(_value=3))["data"] == b"v=3"


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("   \n", "is empty"),
        ("\n\nlambda r: {\n", r"not a valid Python expression \(line 3: 'lambda r: \{'"),
        ("x = 1", r"not a valid Python expression \(line 1"),
        ("no_such_name", r"raised NameError: name 'no_such_name' is not defined \(line 1\)"),
        ("'hello'", r"evaluated to 'hello' \(str\), not a function"),
        ("(r) => ({data: r._value +})", "error @1:"),
    ],
)
def test_every_mistake_is_one_clear_error(source: str, match: str) -> None:
    with pytest.raises(MappingSourceError, match=match):
        compile_mapping(source, {})


def test_syntax_check_evaluates_nothing() -> None:
    assert mapping_syntax_error("no_such_name") == ""  # a name error needs evaluation
    assert "(line 3: '}'" in mapping_syntax_error('lambda r: {\n  "data": b"x" +\n}')
    assert mapping_syntax_error("(r) => ({data: })") != ""
    assert mapping_syntax_error("") == ""
