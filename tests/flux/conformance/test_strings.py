"""The ``strings`` package, case by case from Flux's stdlib documentation.

Flux implements these with Go's ``strings`` package, so where the docs say "index" the value
is a byte offset, and case mappings change one character into one character.
"""

from __future__ import annotations

from typing import Any

import pytest

from .flux_eval import ev, fails

CASES: list[tuple[str, Any]] = [
    # split family (the docs' "foo, bar, baz, quz" examples)
    ('strings.split(v: "foo, bar, baz, quz", t: ", ")', ["foo", "bar", "baz", "quz"]),
    ('strings.splitN(v: "foo, bar, baz, quz", t: ", ", i: 3)', ["foo", "bar", "baz, quz"]),
    ('strings.splitN(v: "foo, bar, baz, quz", t: ", ", i: -1)', ["foo", "bar", "baz", "quz"]),
    ('strings.splitN(v: "foo, bar", t: ", ", i: 1)', ["foo, bar"]),
    ('strings.splitN(v: "foo, bar", t: ", ", i: 0)', []),
    ('strings.splitAfter(v: "foo, bar, baz, quz", t: ", ")', ["foo, ", "bar, ", "baz, ", "quz"]),
    ('strings.splitAfterN(v: "foo, bar, baz, quz", t: ", ", i: 3)', ["foo, ", "bar, ", "baz, quz"]),
    ('strings.split(v: "abc", t: "")', ["a", "b", "c"]),
    ('strings.split(v: "", t: ",")', [""]),
    ('strings.joinStr(arr: ["foo", "bar", "baz", "quz"], v: ", ")', "foo, bar, baz, quz"),
    ('strings.joinStr(arr: [], v: ", ")', ""),
    # case
    ('strings.toUpper(v: "ǳ")', "Ǳ"),
    ('strings.toTitle(v: "ǳ")', "ǲ"),
    ('strings.toLower(v: "ABC déF")', "abc déf"),
    ('strings.toUpper(v: "smpl_g9qczs")', "SMPL_G9QCZS"),
    ('strings.title(v: "her royal highness")', "Her Royal Highness"),
    ('strings.title(v: "smpl_g9qczs")', "Smpl_g9qczs"),
    ('strings.equalFold(v: "RJqcVGNlcJ", t: "rjQCvGNLCj")', True),
    ('strings.equalFold(v: "hBumdSljCQ", t: "unfbcNAXUA")', False),
    ('strings.equalFold(v: "HyXdjvrjgp", t: "hyxDJvrJGP")', True),
    # compare: -1, 0, 1
    ('strings.compare(v: "RJqcVGNlcJ", t: "rjQCvGNLCj")', -1),
    ('strings.compare(v: "unfbcNAXUA", t: "hBumdSljCQ")', 1),
    ('strings.compare(v: "ITcHyLZuqu", t: "ITcHyLZuqu")', 0),
    # search
    ('strings.containsStr(v: "smpl_5v3cce", substr: "5")', True),
    ('strings.containsStr(v: "smpl_g9qczs", substr: "5")', False),
    ('strings.containsAny(v: "smpl_g9qczs", chars: "a79")', True),
    ('strings.containsAny(v: "smpl_phw664", chars: "a79")', False),
    ('strings.hasPrefix(v: "smpl_5v3cce", prefix: "smpl_5")', True),
    ('strings.hasSuffix(v: "smpl_guvzy4", suffix: "4")', True),
    ('strings.hasSuffix(v: "smpl_g9qczs", suffix: "4")', False),
    ('strings.countStr(v: "smpl_phw664", substr: "p")', 2),
    ('strings.countStr(v: "aaaa", substr: "aa")', 2),
    ('strings.index(v: "smpl_g9qczs", substr: "g")', 5),
    ('strings.index(v: "smpl_phw664", substr: "g")', -1),
    ('strings.indexAny(v: "smpl_g9qczs", chars: "g7t")', 5),
    ('strings.indexAny(v: "smpl_0mgv9n", chars: "xyz")', -1),
    ('strings.lastIndex(v: "go gopher", substr: "go")', 3),
    ('strings.lastIndexAny(v: "smpl_5v3cce", chars: "g7tc")', 9),
    # byte offsets, as Go counts them: "é" is two bytes
    ('strings.index(v: "héllo", substr: "l")', 3),
    ('strings.lastIndex(v: "héllo", substr: "l")', 4),
    # single characters
    ('strings.isDigit(v: "7")', True),
    ('strings.isDigit(v: "a")', False),
    ('strings.isLetter(v: "a")', True),
    ('strings.isLetter(v: "4")', False),
    ('strings.isLower(v: "a")', True),
    ('strings.isLower(v: "B")', False),
    ('strings.isUpper(v: "B")', True),
    ('strings.isUpper(v: "e")', False),
    # building and replacing
    ('strings.repeat(v: "ha", i: 3)', "hahaha"),
    ('strings.repeat(v: "ha", i: 0)', ""),
    ('strings.replace(v: "smpl_phw664p", t: "p", u: "XX", i: 2)', "smXXl_XXhw664p"),
    ('strings.replace(v: "aaa", t: "a", u: "b", i: -1)', "bbb"),
    ('strings.replaceAll(v: "smpl_phw664p", t: "p", u: "XX")', "smXXl_XXhw664XX"),
    # length and substrings count characters (UTF code points)
    ('strings.strlen(v: "smpl_g9qczs")', 11),
    ('strings.strlen(v: "日本語")', 3),
    ('strings.substring(v: "smpl_g9qczs", start: 5, end: 9)', "g9qc"),
    ('strings.substring(v: "日本語です", start: 1, end: 3)', "本語"),
    ('strings.substring(v: "influx", start: -3, end: 3)', "inf"),
    ('strings.substring(v: "influx", start: 2, end: 100)', "flux"),
    ('strings.substring(v: "influx", start: 4, end: 2)', ""),
    # trimming
    ('strings.trim(v: ".smpl_g9qczs.", cutset: ".")', "smpl_g9qczs"),
    ('strings.trim(v: "smpl_g9qczs", cutset: "smpl_")', "g9qcz"),
    ('strings.trimLeft(v: "...abc...", cutset: ".")', "abc..."),
    ('strings.trimRight(v: "...abc...", cutset: ".")', "...abc"),
    ('strings.trimPrefix(v: "smpl_g9qczs", prefix: "smpl_")', "g9qczs"),
    ('strings.trimPrefix(v: "g9qczs", prefix: "smpl_")', "g9qczs"),
    ('strings.trimSuffix(v: "smpl_g9qczs_ex1", suffix: "_ex1")', "smpl_g9qczs"),
    ('strings.trimSpace(v: "   smpl_g9qczs \\t\\n")', "smpl_g9qczs"),
]


@pytest.mark.parametrize(("expr", "expected"), CASES)
def test_strings(expr: str, expected: Any) -> None:
    result = ev(expr, "strings")
    assert result == expected
    assert type(result) is type(expected)


def test_string_functions_in_map_over_sampledata() -> None:
    result = ev(
        "sampledata.string() |> map(fn: (r) => ({r with _value: strings.toUpper(v: r._value)}))",
        "sampledata",
        "strings",
    )
    assert result["_value"].tolist()[:2] == ["SMPL_G9QCZS", "SMPL_0MGV9N"]


def test_single_character_functions_need_one_character() -> None:
    fails(
        'strings.isDigit(v: "12")',
        "strings",
        match='"v" is not a valid argument: argument length is not equal to 1',
    )


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("strings.toUpper(v: 1)", "expected string for argument v but found int"),
        ('strings.repeat(v: "a", i: 1.5)', "expected int for argument i but found float"),
        ('strings.repeat(v: "a", i: -1)', "strings: negative Repeat count"),
        ('strings.joinStr(arr: [1, 2], v: ",")', "expected string for argument arr but found int"),
    ],
)
def test_type_errors(expr: str, message: str) -> None:
    fails(expr, "strings", match=message)


def test_strings_in_a_mapping_function_need_no_import() -> None:
    from flux_magic._flux import flux_fn

    fn = flux_fn('(r) => ({s: strings.splitN(v: r.tag, t: "-", i: 2)})')
    assert fn({"tag": "a-b-c"}) == {"s": ["a", "b-c"]}
