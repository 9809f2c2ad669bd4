"""Regular expressions: ``/.../`` literals, ``=~`` and ``!~``, RE2 syntax (Flux's spec)."""

from __future__ import annotations

import pytest
import re2

from flux_magic._errors import FluxError

from .tables import INT_T1, INT_T2, run, value


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('"abc" =~ /b+/', True),
        ('"abc" !~ /^b/', True),
        ('"abc" =~ /^B/', False),
        ('"a/b" =~ /a\\/b/', True),  # \/ is an escaped slash in a regex literal
        ('"x9" =~ /\\d$/', True),
        ('"Straße" =~ /\\pL+/', True),  # RE2 Unicode classes
        ("10 / 2 / 5", 1),  # after an operand, / divides
        ("10 / 5 // a comment", 2),
    ],
)
def test_match_operators(expr: str, expected: object) -> None:
    assert value(f"x = {expr}") == expected


def test_a_regex_literal_is_re2_compiled() -> None:
    compiled = value("x = /a.c/")
    assert isinstance(compiled, type(re2.compile("")))
    assert compiled.pattern == "a.c"


def test_filter_with_a_regex() -> None:
    df = run("sampledata.int() |> filter(fn: (r) => r.tag =~ /2$/)")
    assert df["_value"].tolist() == INT_T2
    df = run("sampledata.int() |> filter(fn: (r) => r.tag !~ /2$/)")
    assert df["_value"].tolist() == INT_T1


@pytest.mark.parametrize(
    ("program", "message"),
    [
        ("x = 1 =~ /a/", "expected string but found int"),
        ('x = "a" =~ "a"', "expected regexp but found string"),
        ('x = "a" =~ /(/', "error parsing regexp: missing \\)"),
    ],
)
def test_regex_errors(program: str, message: str) -> None:
    with pytest.raises(FluxError, match=message):
        value(program)
