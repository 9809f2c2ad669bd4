"""Flux's ``strings`` package: Go's ``strings`` functions over UTF-8 text.

Indexes returned by ``index``, ``indexAny``, ``lastIndex`` and ``lastIndexAny`` count UTF-8
bytes, as Go does; ``strlen`` and ``substring`` count characters (code points).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from flux_magic._flux._builtins import builtin, expect
from flux_magic._flux._diagnostics import FluxRuntimeError

PATH = "strings"

# Go's unicode.IsSpace: these plus the Unicode category Zs.
_GO_SPACE = "\t\n\v\f\r \x85\xa0"


def _is_space(ch: str) -> bool:
    return ch in _GO_SPACE or unicodedata.category(ch) in ("Zs", "Zl", "Zp")


def _strings(fn: str, **values: Any) -> None:
    for name, value in values.items():
        expect(value, name, f"strings.{fn}", "string")


def _int(value: Any, param: str, fn: str) -> int:
    result: int = expect(value, param, f"strings.{fn}", "int")
    return result


def _byte_index(text: str, chars: int) -> int:
    """The UTF-8 byte offset of the character offset ``chars`` (Go indexes bytes)."""
    return len(text[:chars].encode("utf-8"))


def _simple(ch: str, mapped: str) -> str:
    """Go maps one rune to one rune: a mapping that would change the length keeps the rune."""
    return mapped if len(mapped) == 1 else ch


def _upper(text: str) -> str:
    return "".join(_simple(ch, ch.upper()) for ch in text)


def _lower(text: str) -> str:
    return "".join(ch.lower()[0] for ch in text)


def _to_title(text: str) -> str:
    return "".join(_simple(ch, ch.title()) for ch in text)


def _title(text: str) -> str:
    """Go's ``strings.Title``: upper-case (title-case) the first letter of every word."""

    def separator(ch: str) -> bool:
        if ch <= "\x7f":
            return not (ch.isalnum() or ch == "_")
        if unicodedata.category(ch)[0] in ("L", "N"):
            return False
        return _is_space(ch)

    out: list[str] = []
    prev = " "
    for ch in text:
        out.append(_simple(ch, ch.title()) if separator(prev) else ch)
        prev = ch
    return "".join(out)


def _fold(ch: str) -> set[str]:
    return {ch, _simple(ch, ch.lower()), _simple(ch, ch.upper())}


def _equal_fold(v: str, t: str) -> bool:
    return len(v) == len(t) and all(
        a == b or _fold(a) & _fold(b) for a, b in zip(v, t, strict=True)
    )


def _split(v: str, t: str, n: int, *, after: bool) -> list[str]:
    """Go's ``SplitN``/``SplitAfterN``: n < 0 all pieces, n == 0 none, else at most n."""
    if n == 0:
        return []
    if t == "":
        limit = len(v) if n < 0 else min(n, len(v))
        return [*v[: limit - 1], v[limit - 1 :]] if limit else []
    pieces = v.split(t, -1 if n < 0 else n - 1)
    if after:
        pieces = [p + t for p in pieces[:-1]] + [pieces[-1]]
    return pieces


def _index_any(v: str, chars: str, *, last: bool) -> int:
    positions = [i for i, ch in enumerate(v) if ch in chars]
    if not positions:
        return -1
    return _byte_index(v, positions[-1] if last else positions[0])


def _single_rune(fn: str, test: Callable[[str], bool]) -> Any:
    def impl(interp: Any, v: Any) -> bool:
        _strings(fn, v=v)
        if len(v.encode("utf-8")) != 1:
            raise FluxRuntimeError(
                '"v" is not a valid argument: argument length is not equal to 1',
                param="v",
                hint=f"strings.{fn} tests a single ASCII character, e.g. "
                f"strings.{fn}(v: strings.substring(v: s, start: 0, end: 1)).",
            )
        return test(v)

    return builtin(f"strings.{fn}", "v", impl, example=f'strings.{fn}(v: "a")')


def _unary(fn: str, op: Callable[[str], Any]) -> Any:
    def impl(interp: Any, v: Any) -> Any:
        _strings(fn, v=v)
        return op(v)

    return builtin(f"strings.{fn}", "v", impl, example=f'strings.{fn}(v: "...")')


def _binary(fn: str, second: str, op: Callable[[str, str], Any]) -> Any:
    def impl(interp: Any, v: Any, **other: Any) -> Any:
        _strings(fn, v=v, **other)
        return op(v, other[second])

    return builtin(
        f"strings.{fn}", f"v, {second}", impl, example=f'strings.{fn}(v: "...", {second}: "...")'
    )


def _substring(interp: Any, v: Any, start: Any, end: Any) -> str:
    _strings("substring", v=v)
    lo = max(0, min(_int(start, "start", "substring"), len(v)))
    hi = max(lo, min(_int(end, "end", "substring"), len(v)))
    return str(v[lo:hi])


def _replace(interp: Any, v: Any, t: Any, u: Any, i: Any) -> str:
    _strings("replace", v=v, t=t, u=u)
    count = _int(i, "i", "replace")
    return str(v).replace(t, u, count if count >= 0 else -1)


def _replace_all(interp: Any, v: Any, t: Any, u: Any) -> str:
    _strings("replaceAll", v=v, t=t, u=u)
    return str(v).replace(t, u)


def _split_n(fn: str, *, after: bool) -> Any:
    def impl(interp: Any, v: Any, t: Any, i: Any) -> list[str]:
        _strings(fn, v=v, t=t)
        return _split(v, t, _int(i, "i", fn), after=after)

    return builtin(
        f"strings.{fn}", "v, t, i", impl, example=f'strings.{fn}(v: "a,b,c", t: ",", i: 2)'
    )


def _split_all(fn: str, *, after: bool) -> Any:
    def impl(interp: Any, v: Any, t: Any) -> list[str]:
        _strings(fn, v=v, t=t)
        return _split(v, t, -1, after=after)

    return builtin(f"strings.{fn}", "v, t", impl, example=f'strings.{fn}(v: "a,b,c", t: ",")')


def _join_str(interp: Any, arr: Any, v: Any) -> str:
    expect(arr, "arr", "strings.joinStr", "array")
    _strings("joinStr", v=v)
    for item in arr:
        expect(item, "arr", "strings.joinStr", "string")
    return str(v).join(arr)


def _repeat(interp: Any, v: Any, i: Any) -> str:
    _strings("repeat", v=v)
    count = _int(i, "i", "repeat")
    if count < 0:
        raise FluxRuntimeError("strings: negative Repeat count", param="i")
    return str(v) * count


def _compare(v: str, t: str) -> int:
    return (v > t) - (v < t)


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "compare": _binary("compare", "t", _compare),
        "containsAny": _binary("containsAny", "chars", lambda v, c: any(ch in v for ch in c)),
        "containsStr": _binary("containsStr", "substr", lambda v, s: s in v),
        "countStr": _binary("countStr", "substr", str.count),
        "equalFold": _binary("equalFold", "t", _equal_fold),
        "hasPrefix": _binary("hasPrefix", "prefix", str.startswith),
        "hasSuffix": _binary("hasSuffix", "suffix", str.endswith),
        "index": _binary(
            "index", "substr", lambda v, s: _byte_index(v, v.find(s)) if s in v else -1
        ),
        "indexAny": _binary("indexAny", "chars", lambda v, c: _index_any(v, c, last=False)),
        "isDigit": _single_rune("isDigit", lambda ch: "0" <= ch <= "9"),
        "isLetter": _single_rune("isLetter", str.isalpha),
        "isLower": _single_rune("isLower", lambda ch: "a" <= ch <= "z"),
        "isUpper": _single_rune("isUpper", lambda ch: "A" <= ch <= "Z"),
        "joinStr": builtin("strings.joinStr", "arr, v", _join_str),
        "lastIndex": _binary(
            "lastIndex", "substr", lambda v, s: _byte_index(v, v.rfind(s)) if s in v else -1
        ),
        "lastIndexAny": _binary("lastIndexAny", "chars", lambda v, c: _index_any(v, c, last=True)),
        "repeat": builtin("strings.repeat", "v, i", _repeat),
        "replace": builtin("strings.replace", "v, t, u, i", _replace),
        "replaceAll": builtin("strings.replaceAll", "v, t, u", _replace_all),
        "split": _split_all("split", after=False),
        "splitAfter": _split_all("splitAfter", after=True),
        "splitAfterN": _split_n("splitAfterN", after=True),
        "splitN": _split_n("splitN", after=False),
        "strlen": _unary("strlen", len),
        "substring": builtin(
            "strings.substring",
            "v, start, end",
            _substring,
            example='strings.substring(v: "influx", start: 0, end: 3)',
        ),
        "title": _unary("title", _title),
        "toLower": _unary("toLower", _lower),
        "toTitle": _unary("toTitle", _to_title),
        "toUpper": _unary("toUpper", _upper),
        "trim": _binary("trim", "cutset", str.strip),
        "trimLeft": _binary("trimLeft", "cutset", str.lstrip),
        "trimPrefix": _binary("trimPrefix", "prefix", str.removeprefix),
        "trimRight": _binary("trimRight", "cutset", str.rstrip),
        "trimSpace": _unary("trimSpace", lambda v: _trim_space(v)),
        "trimSuffix": _binary("trimSuffix", "suffix", str.removesuffix),
    }


def _trim_space(v: str) -> str:
    start, end = 0, len(v)
    while start < end and _is_space(v[start]):
        start += 1
    while end > start and _is_space(v[end - 1]):
        end -= 1
    return v[start:end]
