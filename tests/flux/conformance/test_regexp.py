"""The ``regexp`` package: the docs' examples, with Go's RE2 semantics.

The docs write regular expression literals (``/foo.?/``); here the same patterns go through
``regexp.compile`` so the package is tested on its own.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import re2

from flux_magic import sampledata
from flux_magic._flux import run_program

from .flux_eval import ev, fails


def rx(pattern: str) -> str:
    """A Flux expression compiling ``pattern`` (given as Flux string text)."""
    return f'regexp.compile(v: "{pattern}")'


# Flux string text for patterns with backslashes (a Flux string writes \\ for one backslash)
NAMED = rx("(?P<k>\\\\w+)=(?P<v>\\\\w+)")
LETTERS = rx("\\\\pL+")
LAST_CHAR = rx("\\\\S{1}$")
DIGITS = rx("^\\\\d+$")
UNDERSCORE_DIGIT = rx("_\\\\d")

CASES: list[tuple[str, Any]] = [
    (f'regexp.findString(r: {rx("foo.?")}, v: "seafood fool")', "food"),
    (f'regexp.findString(r: {rx("xyz")}, v: "seafood fool")', ""),
    (f'regexp.findStringIndex(r: {rx("ab?")}, v: "tablet")', [1, 3]),
    (f'regexp.findStringIndex(r: {rx("xyz")}, v: "tablet")', []),
    # byte offsets, as Go's FindStringIndex returns them
    (f'regexp.findStringIndex(r: {rx("l+")}, v: "héllo")', [3, 5]),
    (f'regexp.matchRegexpString(r: {rx("(gopher){2}")}, v: "gophergophergopher")', True),
    (f'regexp.matchRegexpString(r: {rx("(gopher){4}")}, v: "gophergophergopher")', False),
    (f'regexp.replaceAllString(r: {rx("a(x*)b")}, v: "-ab-axxb-", t: "T")', "-T-T-"),
    # Go's template expansion: $1, ${1} (\${ in a Flux string); $1W names a group "1W",
    # which does not exist
    (f'regexp.replaceAllString(r: {rx("a(x*)b")}, v: "-ab-axxb-", t: "\\${{1}}W")', "-W-xxW-"),
    (f'regexp.replaceAllString(r: {rx("a(x*)b")}, v: "-ab-axxb-", t: "$1W")', "---"),
    (
        f'regexp.replaceAllString(r: {NAMED}, v: "a=1", t: "$v=$k")',
        "1=a",
    ),
    # an empty match right after a match is skipped, as in Go
    (f'regexp.replaceAllString(r: {rx("a*")}, v: "baaac", t: "X")', "XbXcX"),
    (f'regexp.replaceAllString(r: {rx("smpl_")}, v: "smpl_g9qczs", t: "")', "g9qczs"),
    (
        f'regexp.splitRegexp(r: {rx("a*")}, v: "abaabaccadaaae", i: -1)',
        ["", "b", "b", "c", "c", "d", "e"],
    ),
    (f'regexp.splitRegexp(r: {rx(",")}, v: "a,b,c", i: 2)', ["a", "b,c"]),
    (f'regexp.splitRegexp(r: {rx(",")}, v: "a,b,c", i: 0)', []),
    (f'regexp.splitRegexp(r: {rx(",")}, v: "", i: -1)', [""]),
    ('regexp.quoteMeta(v: ".+*?()|[]{}^$")', "\\.\\+\\*\\?\\(\\)\\|\\[\\]\\{\\}\\^\\$"),
    (f"regexp.getString(r: {rx('[a-zA-Z]')})", "[a-zA-Z]"),
    (f"regexp.getString(r: {rx('abcd')})", "abcd"),
    # RE2 syntax: Unicode classes and \\S work; \\d is ASCII only
    (f'regexp.findString(r: {LETTERS}, v: "12héllo3")', "héllo"),
    (f'regexp.findString(r: {LAST_CHAR}, v: "smpl_g9qczs")', "s"),
    (f'regexp.matchRegexpString(r: {DIGITS}, v: "١٢")', False),
]


@pytest.mark.parametrize(("expr", "expected"), CASES)
def test_regexp(expr: str, expected: Any) -> None:
    assert ev(expr, "regexp") == expected


def test_compile_returns_an_re2_regexp() -> None:
    value = ev(rx("ab+"), "regexp")
    assert isinstance(value, type(re2.compile("")))
    assert value.pattern == "ab+"


def test_a_compiled_re2_value_is_a_flux_regexp() -> None:
    """Regular expression literals are ``re2.compile`` objects too: the package takes them."""
    program = 'import "regexp"\nx = regexp.findString(r: pattern, v: "seafood fool")\n'
    result = run_program(program, variables={"pattern": re2.compile("foo.?")})
    assert result.values["x"] == "food"


def test_filter_rows_by_regexp_over_sampledata() -> None:
    df = ev(
        "sampledata.string() |> filter(fn: (r) => "
        f"regexp.matchRegexpString(r: {UNDERSCORE_DIGIT}, v: r._value))",
        "regexp",
        "sampledata",
    )
    values = sampledata.string()["_value"].tolist()
    assert df["_value"].tolist() == [v for v in values if re.search(r"_\d", v)]
    assert 0 < len(df) < len(values)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(", "error parsing regexp: missing closing \\): `\\(`"),
        ("a**", "error parsing regexp: invalid nested repetition operator: `\\*\\*`"),
        ("(?=x)", "error parsing regexp: invalid or unsupported Perl syntax: `\\(\\?=`"),
        ("[z-a]", "error parsing regexp: invalid character class range: `z-a`"),
    ],
)
def test_compile_errors_in_gos_words(pattern: str, message: str) -> None:
    fails(rx(pattern), "regexp", match=message)


def test_a_string_where_a_regexp_belongs_is_a_type_error() -> None:
    error = fails(
        'regexp.findString(r: "foo", v: "food")',
        "regexp",
        match="expected regexp for argument r but found string",
    )
    assert "regexp.compile" in str(error)
