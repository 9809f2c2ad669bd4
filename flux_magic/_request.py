"""Building one request from one row: call the mapping function, check what it returned.

Follows Flux's ``http.endpoint``: the mapping's record must have both ``headers`` and ``data``
(a missing one is that row's error, with a "did you mean" for ``header``/``body``; other
labels are ignored, as in Flux). Method POST, body = ``data`` verbatim, headers from the
``headers`` record, each value a string, keys canonicalised the way Go does
(``content-type`` -> ``Content-Type``; a later key with the same canonical form wins).
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import pandas as pd

from ._errors import HeaderError, MappingError, UsageError
from ._secrets import mask_url

__all__ = [
    "FRAMING_HEADERS",
    "Request",
    "build_request",
    "canonical_header",
    "check_url",
    "describe_row",
]

#: Headers a mapping may set but that are never sent: the framing is computed from the body
#: and the target from the URL, as Go's client (Flux) does, so a body can never become a
#: second request. The preview says so.
FRAMING_HEADERS = frozenset({"Content-Length", "Transfer-Encoding", "Trailer", "Host"})

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
#: RFC 9110 field values: no control characters but tab (CR, LF and NUL could inject headers).
_FORBIDDEN_IN_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_SHORT = 80
#: Header names that passed the checks, with their canonical form (the fast path's lookup).
_VALID_NAMES: dict[str, str] = {}
_VALID_NAMES_MAX = 4096
_MISSING: Any = object()
#: The labels Flux's http.endpoint reads from the mapping's record; others are ignored.
_REQUIRED = ("headers", "data")
#: Labels people write for the required ones.
_NEAR_MISSES = {
    "header": "headers",
    "head": "headers",
    "hdrs": "headers",
    "body": "data",
    "payload": "data",
    "content": "data",
}


class Request(NamedTuple):
    """One prepared POST: headers to add and the body bytes."""

    headers: dict[str, str]
    body: bytes


def check_url(url: object) -> str:
    """Return ``url`` if it can be posted to (http or https with a host), else explain.

    Examples
    --------
    >>> check_url("http://127.0.0.1:8080/hook")
    'http://127.0.0.1:8080/hook'
    """
    if not isinstance(url, str):
        raise UsageError(f"the URL must be a string such as 'http://host/path', not {url!r}.")
    shown = mask_url(url)
    if not url.strip():
        raise UsageError("the URL is empty; give one such as 'http://127.0.0.1:8080/hook'.")
    if url != url.strip() or any(c.isspace() for c in url):
        raise UsageError(
            f"the URL {shown!r} contains white space; remove it or percent-encode it as %20."
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"the URL {shown!r} cannot be parsed: {exc}.") from None
    if not parts.scheme:
        raise UsageError(
            f"the URL {shown!r} has no scheme; write it as 'http://{url}' or 'https://{url}'."
        )
    if parts.scheme.lower() not in ("http", "https"):
        raise UsageError(
            f"the URL {shown!r} uses {parts.scheme}://; flux_magic sends HTTP POST requests, "
            "so only http:// and https:// URLs work."
        )
    if not parts.hostname:
        raise UsageError(f"the URL {shown!r} has no host; write it as 'http://host[:port]/path'.")
    if port == 0:
        raise UsageError(f"the URL {shown!r} has port 0, which cannot be connected to.")
    host = parts.hostname
    if ":" in host:
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise UsageError(f"the URL {shown!r} has an invalid IPv6 host {host!r}.") from None
    return url


@functools.lru_cache(maxsize=1024)
def canonical_header(key: str) -> str:
    """Go's ``CanonicalMIMEHeaderKey``: ``content-type`` -> ``Content-Type``."""
    if not _TOKEN.match(key):
        return key
    return "-".join(p[:1].upper() + p[1:].lower() for p in key.split("-"))


def describe_row(label: Hashable, position: int) -> str:
    """How messages name a row: by index label, and by position when they differ."""
    if isinstance(label, int) and label == position:
        return f"row {label}"
    return f"row {label!r} (position {position})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHORT else text[: _SHORT - 3] + "..."


def build_request(
    map_fn: Callable[[Any], Any],
    row: Mapping[Hashable, Any],
    labels: Sequence[Hashable] | pd.Index,
    position: int,
) -> Request:
    """Call ``map_fn(row)`` and turn its record into a ``Request``, or raise ``MappingError``.

    ``labels`` is the DataFrame's index; it is only read when a message must name the row.
    """
    try:
        obj = map_fn(row)
    except (KeyboardInterrupt, SystemExit):
        raise
    except MappingError:
        raise
    except Exception as exc:
        label = labels[position]
        where = describe_row(label, position)
        hint = ""
        if isinstance(exc, AttributeError | KeyError) and "its columns are" not in str(exc):
            # (Row's own AttributeError already lists them)
            cols = ", ".join(repr(c) for c in row)
            hint = f" The row's columns are {cols}."
        raise MappingError(
            f"the mapping function raised {type(exc).__name__}: {exc} (at {where}).{hint}",
            row=label,
            position=position,
        ) from exc
    if type(obj) is dict:
        headers = obj.get("headers", _MISSING)
        data = obj.get("data", _MISSING)
        # The common case, checked without building any message: header names already seen
        # valid map to their canonical form; a printable value has no CR, LF or NUL (anything
        # else, a tab included, takes the exact checks of the slow path). When every name is
        # already canonical the mapping's own dict is used as is (it is never mutated).
        if type(data) is bytes and headers is not _MISSING:
            if headers is None:
                return tuple.__new__(Request, ({}, data))
            if type(headers) is dict:
                canonical = True
                for k, v in headers.items():
                    name = _VALID_NAMES.get(k)
                    if name is None or type(v) is not str or not v.isprintable():
                        break
                    if name is not k:
                        canonical = False
                else:
                    if not canonical:
                        headers = {_VALID_NAMES[k]: v for k, v in headers.items()}
                    return tuple.__new__(Request, (headers, data))  # Request(...), faster
    return _to_request(obj, labels[position], position)


def _to_request(obj: Any, label: Hashable, position: int) -> Request:
    where = describe_row(label, position)
    if not isinstance(obj, Mapping):
        raise MappingError(
            f"the mapping function returned {_short(obj)} ({type(obj).__name__}) for {where}; "
            'it must return a dict such as {"headers": {"Content-Type": "text/plain"}, '
            '"data": b"..."}.',
            row=label,
            position=position,
        )
    _check_labels(obj, where, label, position)
    headers = _headers(obj.get("headers"), where, label, position)
    data = obj["data"]
    if isinstance(data, bytes):
        body = data
    elif isinstance(data, bytearray | memoryview):
        body = bytes(data)
    elif isinstance(data, str):
        body = data.encode("utf-8")
    else:
        fix = (
            "json.dumps(...).encode() for JSON"
            if isinstance(data, dict | list)
            else "str(...).encode() for text"
        )
        if data is None:
            fix = 'b"" for an empty body, or leave "data" out'
        raise MappingError(
            f'"data" must be bytes (or str, sent as UTF-8) but is {_short(data)} '
            f"({type(data).__name__}) for {where}; use {fix}.",
            row=label,
            position=position,
        )
    return Request(headers, body)


def _check_labels(obj: Mapping[Any, Any], where: str, label: Hashable, position: int) -> None:
    """Flux's record needs both ``headers`` and ``data``; other labels are ignored (as Flux)."""
    missing = [k for k in _REQUIRED if k not in obj]
    if not missing:
        return
    others = [k for k in obj if isinstance(k, str) and k not in _REQUIRED]
    fixes = []
    for key in missing:
        near = [k for k in others if _NEAR_MISSES.get(k.lower()) == key]
        near = near or difflib.get_close_matches(key, others, n=1, cutoff=0.6)
        if near:
            fixes.append(f'"{key}" instead of "{near[0]}"')
    hint = f"; did you mean {' and '.join(fixes)}?" if fixes else ""
    key = missing[0]
    both = ' (and "data")' if len(missing) == 2 else ""
    example = '{"headers": {"Content-Type": "text/plain"}, "data": b"..."}'
    empty = '"headers": {} for no headers' if key == "headers" else '"data": b"" for no body'
    raise MappingError(
        f'the mapping function returned a dict without "{key}"{both} for {where}{hint or "."} '
        f"Flux's http.endpoint needs both labels, e.g. {example} (use {empty}); "
        f"it has {', '.join(repr(k) for k in obj) or 'no keys'}.",
        row=label,
        position=position,
    )


def _headers(raw: Any, where: str, label: Hashable, position: int) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise HeaderError(
            f'"headers" must be a dict of header name to string value, not {_short(raw)} '
            f'({type(raw).__name__}), for {where}; e.g. {{"Content-Type": "text/plain"}}.',
            row=label,
            position=position,
        )
    out: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not _TOKEN.match(key):
            raise HeaderError(
                f"invalid header name {_short(key)} for {where}: header names are letters, "
                "digits and !#$%&'*+-.^_`|~ only (no spaces or colons).",
                row=label,
                position=position,
            )
        if not isinstance(value, str):
            # Flux's own wording, then the row and the fix.
            raise HeaderError(
                f'header value "{key}" must be a string, got {type(value).__name__} for '
                f"{where}; convert it, e.g. str(...).",
                row=label,
                position=position,
            )
        bad = _FORBIDDEN_IN_VALUE.search(value)
        if bad:
            what = (
                "a line break or NUL"
                if bad.group() in "\r\n\x00"
                else f"the control character {bad.group()!r}"
            )
            raise HeaderError(
                f'header value "{key}" contains {what} for {where}; header values may not '
                "contain control characters (they could inject extra headers), so it is "
                "refused. Remove or escape them.",
                row=label,
                position=position,
            )
        name = canonical_header(key)
        if type(key) is str and len(_VALID_NAMES) < _VALID_NAMES_MAX:
            # a name that is already canonical maps to itself, so the fast path can tell
            _VALID_NAMES[key] = key if name == key else name
        out[name] = value
    return out
