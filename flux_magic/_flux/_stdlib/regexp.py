"""Flux's ``regexp`` package, on Google's RE2 (the syntax and semantics of Go's ``regexp``).

A Flux regexp value is the compiled object ``re2.compile`` returns. Matching follows Go:
leftmost-first, ``All`` functions skip an empty match right after a previous match,
``replaceAllString`` expands ``$1``/``${name}`` in the replacement, and
``findStringIndex`` returns UTF-8 byte offsets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import re2

from flux_magic._flux._builtins import builtin, expect
from flux_magic._flux._diagnostics import FluxRuntimeError
from flux_magic._flux._values import type_name

__all__ = ["PATH", "compile_regexp", "is_regexp", "members"]

PATH = "regexp"

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the error becomes a Flux error; RE2's own log line is noise
_REGEXP_TYPE = type(re2.compile(""))
_META = frozenset("\\.+*?()|[]{}^$")
_EXPAND = re.compile(r"\$(?:\$|\{(\w+)\}|(\w+))")
# RE2's error texts, in Go's words (Go's regexp/syntax error codes).
_GO_ERRORS = {
    "missing )": "missing closing )",
    "unexpected )": "unexpected )",
    "missing ]": "missing closing ]",
    "invalid escape sequence": "invalid escape sequence",
    "invalid character class range": "invalid character class range",
    "invalid character class": "invalid character class",
    "bad repetition operator": "invalid nested repetition operator",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid repetition size": "invalid repeat count",
    "trailing \\": "trailing backslash at end of expression",
    "invalid named capture group": "invalid named capture",
    "invalid UTF-8": "invalid UTF-8",
}


def is_regexp(value: Any) -> bool:
    """Whether ``value`` is a Flux regexp (a compiled RE2 object)."""
    return isinstance(value, _REGEXP_TYPE)


def compile_regexp(source: str) -> Any:
    """Compile Go/RE2 syntax; a bad pattern is Go's ``error parsing regexp: ...``."""
    try:
        re2.compile(source, _OPTIONS)  # checked quietly first: RE2 logs every bad pattern
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", errors="replace")
        code, _, arg = str(detail).partition(": ")
        if code in _GO_ERRORS:
            detail = f"{_GO_ERRORS[code]}: `{arg}`" if arg else _GO_ERRORS[code]
        raise FluxRuntimeError(f"error parsing regexp: {detail}", param="v") from None
    return re2.compile(source)  # exactly what a regular expression literal evaluates to


def _regexp(value: Any, fn: str) -> Any:
    if not is_regexp(value):
        kind = type_name(value)
        raise FluxRuntimeError(
            f"regexp.{fn}: expected regexp for argument r but found {kind}",
            kind="type error",
            param="r",
            hint="Write a regular expression literal such as /ab+c/, or use "
            "regexp.compile(v: s) for a string.",
        )
    return value


def _string(value: Any, param: str, fn: str) -> str:
    result: str = expect(value, param, f"regexp.{fn}", "string")
    return result


def _matches(r: Any, v: str, limit: int = -1) -> Iterator[Any]:
    """Go's ``allMatches``: successive matches; an empty match right after one is skipped."""
    pos, found, previous_end = 0, 0, -1
    while (limit < 0 or found < limit) and pos <= len(v):
        match = r.search(v, pos)
        if match is None:
            return
        start, end = match.span()
        accept = True
        if end == start:
            accept = start != previous_end
            pos = end + 1
        else:
            pos = end
        previous_end = end
        if accept:
            found += 1
            yield match


def _expand(template: str, match: Any, groupindex: dict[str, int]) -> str:
    """Go's ``Regexp.Expand``: ``$1``, ``${1}``, ``$name``, ``${name}``, ``$$``."""

    def one(ref: re.Match[str]) -> str:
        name = ref.group(1) or ref.group(2)
        if name is None:
            return "$"
        if name.isdigit():
            index = int(name)
        elif name in groupindex:
            index = groupindex[name]
        else:
            return ""
        if index > match.re.groups:
            return ""
        return str(match.group(index) or "")

    return _EXPAND.sub(one, template)


def _compile(interp: Any, v: Any) -> Any:
    return compile_regexp(_string(v, "v", "compile"))


def _quote_meta(interp: Any, v: Any) -> str:
    return "".join("\\" + ch if ch in _META else ch for ch in _string(v, "v", "quoteMeta"))


def _find_string(interp: Any, r: Any, v: Any) -> str:
    match = _regexp(r, "findString").search(_string(v, "v", "findString"))
    return "" if match is None else str(match.group(0))


def _find_string_index(interp: Any, r: Any, v: Any) -> list[int]:
    text = _string(v, "v", "findStringIndex")
    match = _regexp(r, "findStringIndex").search(text)
    if match is None:
        return []
    start, end = match.span()
    return [len(text[:start].encode("utf-8")), len(text[:end].encode("utf-8"))]


def _match_regexp_string(interp: Any, r: Any, v: Any) -> bool:
    return _regexp(r, "matchRegexpString").search(_string(v, "v", "matchRegexpString")) is not None


def _replace_all_string(interp: Any, r: Any, v: Any, t: Any) -> str:
    regexp = _regexp(r, "replaceAllString")
    text = _string(v, "v", "replaceAllString")
    template = _string(t, "t", "replaceAllString")
    out: list[str] = []
    last = 0
    for match in _matches(regexp, text):
        out.append(text[last : match.start()])
        out.append(_expand(template, match, dict(regexp.groupindex)))
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def _split_regexp(interp: Any, r: Any, v: Any, i: Any) -> list[str]:
    """Go's ``Regexp.Split``."""
    regexp = _regexp(r, "splitRegexp")
    text = _string(v, "v", "splitRegexp")
    n = expect(i, "i", "regexp.splitRegexp", "int")
    if n == 0:
        return []
    if regexp.pattern and text == "":
        return [""]
    pieces: list[str] = []
    begin = end = 0
    for match in _matches(regexp, text, n):
        if n > 0 and len(pieces) == n - 1:
            break
        end = match.start()
        if match.end() != 0:
            pieces.append(text[begin:end])
        begin = match.end()
    if end != len(text):
        pieces.append(text[begin:])
    return pieces


def _get_string(interp: Any, r: Any) -> str:
    return str(_regexp(r, "getString").pattern)


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "compile": builtin("regexp.compile", "v", _compile, example='regexp.compile(v: "a+b")'),
        "findString": builtin(
            "regexp.findString",
            "r, v",
            _find_string,
            example='regexp.findString(r: /a+/, v: "caab")',
        ),
        "findStringIndex": builtin(
            "regexp.findStringIndex",
            "r, v",
            _find_string_index,
            example='regexp.findStringIndex(r: /a+/, v: "caab")',
        ),
        "getString": builtin(
            "regexp.getString", "r", _get_string, example="regexp.getString(r: /a+/)"
        ),
        "matchRegexpString": builtin(
            "regexp.matchRegexpString",
            "r, v",
            _match_regexp_string,
            example='regexp.matchRegexpString(r: /a+/, v: "caab")',
        ),
        "quoteMeta": builtin(
            "regexp.quoteMeta", "v", _quote_meta, example='regexp.quoteMeta(v: "a.b")'
        ),
        "replaceAllString": builtin(
            "regexp.replaceAllString",
            "r, v, t",
            _replace_all_string,
            example='regexp.replaceAllString(r: /a+/, v: "caab", t: "x")',
        ),
        "splitRegexp": builtin(
            "regexp.splitRegexp",
            "r, v, i",
            _split_regexp,
            example='regexp.splitRegexp(r: /,/, v: "a,b", i: -1)',
        ),
    }
