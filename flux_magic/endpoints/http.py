"""Flux's ``http`` package helpers: ``basicAuth``, ``pathEscape`` and ``endpoint``
(``flux_magic.endpoint``: the mapping function returns headers and data itself)."""

from __future__ import annotations

import base64
from typing import Any

from flux_magic._endpoint import Endpoint
from flux_magic._endpoint import endpoint as _plain_endpoint

__all__ = ["basicAuth", "endpoint", "pathEscape"]

PATH = "http"
FIELDS = ("headers", "data")
_PATH_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~$&+:=@")


def basicAuth(u: str, p: str) -> str:
    """``"Basic " + base64(u + ":" + p)``, the value of an Authorization header.

    Examples
    --------
    >>> basicAuth("Aladdin", "open sesame")
    'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=='
    """
    return "Basic " + base64.b64encode(f"{u}:{p}".encode()).decode("ascii")


def pathEscape(inputString: str) -> str:
    """Escape ``inputString`` for a URL path segment, as Go's ``url.PathEscape`` (``/`` too).

    Examples
    --------
    >>> pathEscape("a b/c?d")
    'a%20b%2Fc%3Fd'
    """
    return "".join(
        chr(b) if b in _PATH_SAFE else f"%{b:02X}" for b in str(inputString).encode("utf-8")
    )


def endpoint(*, url: str, **options: Any) -> Endpoint:
    """Flux's ``http.endpoint(url:)``: the mapping function returns ``headers`` and ``data``;
    only status 200 counts as sent (``sent_when="2xx"`` to count any 2xx)."""
    return _plain_endpoint(url, **options)


CONFIG_DOCS = {"url": "Where every row is POSTed."}
SECRETS: frozenset[str] = frozenset()
TEMPLATE = """lambda r: {
    "headers": {"Content-Type": "text/plain"},
    "data": f"{r._check_name} is {r._level}".encode(),
}"""
FLUX_TEMPLATE = """(r) => ({
    headers: {"Content-Type": "text/plain"},
    data: bytes(v: "${r._check_name} is ${r._level}"),
})"""
