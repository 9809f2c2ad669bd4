"""Following a redirect: the next hop's method, URL and headers, the same on every backend.

The rules are Go's and aiohttp's (Flux follows redirects with Go's client): 301, 302 and 303
turn a POST into a GET without a body; 307 and 308 repeat the POST with its body; a relative
``Location`` is resolved against the hop's URL; credentials (``Authorization``, ``Cookie``,
``Proxy-Authorization``) are not sent to another origin; only ``http`` and ``https`` are
followed.
"""

from __future__ import annotations

from yarl import URL

from ._failures import Kind, TransportFailure
from ._protocol import Hop

__all__ = ["REDIRECTS", "next_hop", "shown_location"]

REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CREDENTIALS = ("Authorization", "Cookie", "Proxy-Authorization")
_STRIP = "".join(map(chr, range(33)))


def next_hop(hop: Hop, status: int, location: str) -> Hop:
    """The request a redirect asks for; ``TransportFailure`` when it cannot be followed."""
    shown = shown_location(location)
    cleaned = location.strip(_STRIP).replace("\t", "").replace("\n", "").replace("\r", "")
    if not cleaned:
        raise TransportFailure(Kind.REDIRECT_LOCATION, "an empty Location")
    try:
        target = URL(cleaned, encoded=False)
    except (TypeError, ValueError) as exc:
        raise TransportFailure(Kind.REDIRECT_LOCATION, shown) from exc
    scheme = target.scheme.lower()
    if scheme not in ("http", "https", ""):
        raise TransportFailure(Kind.REDIRECT_SCHEME, f"{scheme}:")
    current = URL(hop.url)
    try:
        if not target.is_absolute():
            target = current.join(target)
        origin = target.origin()
        if not target.raw_host:
            raise ValueError("no host")
        target.port  # noqa: B018 (raises for a bad port)
        url = str(target)
        url.encode("ascii")
    except (TypeError, ValueError, UnicodeError) as exc:
        raise TransportFailure(Kind.REDIRECT_LOCATION, shown) from exc
    headers = hop.headers
    if origin != current.origin():
        headers = {k: v for k, v in headers.items() if k not in _CREDENTIALS}
    method, body = hop.method, hop.body
    if status == 303 or (status in (301, 302) and method == "POST"):
        method, body = "GET", b""
    return Hop(method, url, headers, body)


def shown_location(location: str) -> str:
    """The Location as it may appear in a message: printable, short."""
    text = location.encode("ascii", "backslashreplace").decode("ascii")
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return repr(text if len(text) <= 80 else text[:77] + "...")
