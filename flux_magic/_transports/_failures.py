"""Failure kinds and their wording: one sentence per kind, the same on every backend.

Each backend maps its own exception *types* to a ``TransportFailure`` (as httpx's
``map_httpcore_exceptions`` does); this module words it and says whether the request may
have reached the server (which decides retries). Nothing here reads exception messages.
"""

from __future__ import annotations

import socket
import ssl
from enum import Enum
from typing import TYPE_CHECKING

from ._protocol import MAYBE_SENT, NOT_SENT, Attempt

if TYPE_CHECKING:
    from .._options import Options

__all__ = ["RETRY", "Kind", "TransportFailure", "attempt_for", "from_os_error", "from_ssl_error"]


class Kind(Enum):
    """What went wrong (``RETRY`` says whether the request may have left)."""

    REFUSED = "refused"
    DNS = "dns"
    CONNECT = "connect"
    CONNECT_TIMEOUT = "connect timeout"
    TLS_VERIFY = "tls verify"
    TLS = "tls"
    TIMEOUT = "timeout"
    CLOSED = "closed"
    PROTOCOL = "protocol"
    HEAD_TOO_LARGE = "head too large"
    UPGRADE = "upgrade"
    POLICY = "policy"
    BAD_URL = "bad url"
    TOO_MANY_REDIRECTS = "too many redirects"
    REDIRECT_SCHEME = "redirect scheme"
    REDIRECT_LOCATION = "redirect location"
    UNEXPECTED = "unexpected"


#: Whether a failure's request surely never left (``NOT_SENT``), may have reached the server
#: (``MAYBE_SENT``), or retrying cannot help (None: the same answer would come back).
RETRY: dict[Kind, str | None] = {
    Kind.REFUSED: NOT_SENT,
    Kind.DNS: NOT_SENT,
    Kind.CONNECT: NOT_SENT,
    Kind.CONNECT_TIMEOUT: NOT_SENT,
    Kind.TIMEOUT: MAYBE_SENT,
    Kind.CLOSED: MAYBE_SENT,
    Kind.PROTOCOL: MAYBE_SENT,
    Kind.HEAD_TOO_LARGE: MAYBE_SENT,
    Kind.UPGRADE: MAYBE_SENT,
    Kind.UNEXPECTED: MAYBE_SENT,
}


class TransportFailure(Exception):
    """One hop failed: ``kind`` and a detail (already safe to show)."""

    def __init__(self, kind: Kind, detail: str = "") -> None:
        super().__init__(detail or kind.name)
        self.kind = kind
        self.detail = detail


def wording(kind: Kind, detail: str, options: Options) -> str:
    """The ``_error`` text of a failure."""
    timeout = options.timeout
    if kind is Kind.REFUSED:
        return "connection refused: nothing is listening at that host and port"
    if kind is Kind.DNS:
        return "cannot resolve the host name (DNS)"
    if kind is Kind.CONNECT:
        return f"could not connect: {detail}"
    if kind in (Kind.TIMEOUT, Kind.CONNECT_TIMEOUT):
        return f"timed out after {timeout:g} s" if timeout else "timed out"
    if kind is Kind.TLS_VERIFY:
        return f"TLS certificate verification failed ({detail})"
    if kind is Kind.TLS:
        return f"TLS error: {detail}"
    if kind is Kind.CLOSED:
        return "the server closed the connection before a complete answer"
    if kind is Kind.PROTOCOL:
        return f"invalid answer from the server: {detail}"
    if kind is Kind.HEAD_TOO_LARGE:
        return "the answer's head (status line and header fields) was too large; stopped reading it"
    if kind is Kind.UPGRADE:
        return (
            f"the server switched protocols ({detail}); flux_magic speaks HTTP/1.1 only, so "
            "this row has no answer"
        )
    if kind is Kind.TOO_MANY_REDIRECTS:
        return f"too many redirects (more than {options.max_redirects}); a redirect loop?"
    if kind is Kind.REDIRECT_SCHEME:
        return f"redirected to a URL that is not http:// or https:// ({detail}); not followed"
    if kind is Kind.REDIRECT_LOCATION:
        return f"redirected to a malformed Location ({detail}); not followed"
    if kind is Kind.BAD_URL:
        return f"the URL cannot be sent: {detail}"
    return detail  # POLICY (the policy's own sentence), UNEXPECTED


#: Failures whose status line (101, a redirect that cannot be followed) is not the answer.
_NOT_AN_ANSWER = frozenset(
    {Kind.UPGRADE, Kind.TOO_MANY_REDIRECTS, Kind.REDIRECT_SCHEME, Kind.REDIRECT_LOCATION}
)


def attempt_for(
    failure: TransportFailure,
    options: Options,
    *,
    status: int = 0,
    kept: bytes | None = None,
    hop: int = 0,
) -> Attempt:
    """The attempt a failure makes; ``status`` when the head of the answer had arrived, ``hop``
    when it happened on a redirect hop (the first request was answered: it may count)."""
    kind = failure.kind
    text = wording(kind, failure.detail, options)
    if kind in _NOT_AN_ANSWER:
        status, kept = 0, None  # a switch of protocols or a redirect not followed: no answer
    retry = RETRY.get(kind)
    if status and kind is Kind.TIMEOUT:
        text = f"{text} reading the answer"
    if hop:
        text = f"redirect hop {hop}: {text}"
        if retry == NOT_SENT:
            retry = MAYBE_SENT  # the first request was answered: the server may have it
    if status or hop:
        return Attempt((status, text, kept), retry and MAYBE_SENT)
    return Attempt((0, text, None), retry)


# ------------------------------------------------------------------ shared classifiers
_VERIFY_CODES = {
    10: "the certificate has expired",
    18: "self-signed certificate; pass verify= a CA bundle path that contains it, or "
    "verify=False only if you trust this server",
    19: "self-signed certificate in the chain; pass verify= a CA bundle path that contains "
    "its root, or verify=False only if you trust this server",
    20: "unknown issuer; if it is a corporate or private CA, pass verify= a CA bundle path, "
    "or verify=False only if you trust this server",
    21: "unknown issuer; if it is a corporate or private CA, pass verify= a CA bundle path, "
    "or verify=False only if you trust this server",
    62: "the certificate is not for this host name (hostname mismatch); use the name the "
    "certificate was issued for",
    64: "the certificate is not for this IP address (hostname mismatch); use the name the "
    "certificate was issued for",
}


def from_ssl_error(exc: ssl.SSLError) -> TransportFailure:
    """A TLS failure by its type, verification code and OpenSSL reason code."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = _VERIFY_CODES.get(
            exc.verify_code,
            f"{exc.verify_message or 'not trusted'}; pass verify= a CA bundle path, or "
            "verify=False only if you trust this server",
        )
        return TransportFailure(Kind.TLS_VERIFY, detail)
    reason = getattr(exc, "reason", None)
    if reason in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "RECORD_LAYER_FAILURE"):
        return TransportFailure(
            Kind.TLS, "the server does not speak TLS here; did you mean http://?"
        )
    return TransportFailure(Kind.TLS, str(reason or exc.strerror or type(exc).__name__))


def from_os_error(exc: BaseException, *, connecting: bool) -> TransportFailure:
    """A socket-level failure by its type (``connecting``: before the request was written);
    the most telling type in its chain of causes wins (a refusal inside "all connection
    attempts failed")."""
    exc = _most_telling(exc)
    if isinstance(exc, ssl.SSLError):
        return from_ssl_error(exc)
    if isinstance(exc, socket.gaierror):
        return TransportFailure(Kind.DNS)
    if isinstance(exc, ConnectionRefusedError):
        return TransportFailure(Kind.REFUSED)
    if isinstance(exc, TimeoutError):
        return TransportFailure(Kind.CONNECT_TIMEOUT if connecting else Kind.TIMEOUT)
    if connecting:
        return TransportFailure(Kind.CONNECT, getattr(exc, "strerror", None) or type(exc).__name__)
    return TransportFailure(Kind.CLOSED)


_TELLING = (ssl.SSLError, socket.gaierror, ConnectionRefusedError, TimeoutError)


def _most_telling(exc: BaseException) -> BaseException:
    """The first exception of a telling type among ``exc``, its causes and grouped ones."""
    todo = [exc]
    seen = 0
    while todo and seen < 12:
        current = todo.pop(0)
        seen += 1
        if isinstance(current, _TELLING):
            return current
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        inner = current.__cause__ or current.__context__
        if inner is not None:
            todo.append(inner)
    return exc
