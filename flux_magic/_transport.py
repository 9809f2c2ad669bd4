"""Sending prepared requests: sequentially over one httpx connection, or through a fixed pool
of aiohttp workers.

Both transports pull ``(position, Request)`` pairs from one shared iterator and report each
outcome to a ``Ledger`` (see ``_send.py``). They behave the same: the same default headers,
redirects (followed, at most ``max_redirects``), one timeout per request, TLS verification,
response bodies drained in chunks up to a cap and never kept unless asked, and the same
wording for every failure (``describe_exception``).

Why two libraries: on this kind of machine ``httpx.AsyncClient`` gets slower as concurrency
grows (httpcore's connection pool, encode/httpx#3215), while aiohttp with a few worker
coroutines is about 4x faster than ``httpx.Client``. Sequential mode keeps httpx, which is the
simpler and better-known client and matches Flux's one-request-at-a-time behaviour.

For plain ``http://`` targets without proxy, credentials or URL policy, the concurrent workers
skip aiohttp's per-request machinery: ``_transport_lean`` writes each request on a keep-alive
connection of its own and reads the answer with httptools (several times faster on loopback),
handing redirects and cookies over to aiohttp. The same tests run against both.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import io
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

from . import __version__
from ._options import Options
from ._policy import PolicyRefused
from ._request import Request
from ._retry import (
    ANSWERED,
    MAYBE_SENT,
    NOT_SENT,
    RETRY_STATUSES,
    Attempt,
    Retrier,
    parse_retry_after,
)
from ._secrets import mask_text, secret_values

if TYPE_CHECKING:
    import aiohttp

__all__ = ["DEFAULT_HEADERS", "Ledger", "Outcome", "describe_exception", "run_transport"]

#: Sent with every request unless the mapping sets them. No Content-Type is added, as in Flux.
DEFAULT_HEADERS = {
    "User-Agent": f"flux_magic/{__version__}",
    "Accept": "*/*",
    "Accept-Encoding": "identity",
}
_CHUNK = 64 * 1024
_LARGE_BODY = 1024 * 1024

Outcome = tuple[int, str, bytes | None]
"""(status or 0 when there was no answer, error text or "", kept response prefix or None)."""


class Ledger(Protocol):
    """Where transports report; implemented by ``_send.Run``."""

    @property
    def stopping(self) -> bool: ...

    def begin(self, position: int) -> None: ...

    def finish(self, position: int, outcome: Outcome, attempts: int = 1) -> None: ...

    def idempotency_key(self, position: int) -> str: ...

    abandon: Callable[[], None] | None


def run_transport(
    url: str, source: Iterator[tuple[int, Request]], ledger: Ledger, options: Options
) -> None:
    """Send every request ``source`` yields, until it ends or ``ledger.stopping``."""
    url, basic = _split_userinfo(url)
    if basic is not None:
        source = _with_basic_auth(source, basic)
    scrub = _ScrubLog(secret_values(url) + ([basic.split(" ", 1)[1]] if basic else []))
    logging.getLogger("httpx").addFilter(scrub)  # httpx logs every request's full URL
    try:
        if options.concurrency == 1:
            _run_sync(url, source, ledger, options)
        else:
            from . import _transport_lean

            lean = basic is None and _transport_lean.usable(url, options)
            _run_async(url, source, ledger, options, lean=lean)
    finally:
        logging.getLogger("httpx").removeFilter(scrub)


def _split_userinfo(url: str) -> tuple[str, str | None]:
    """The URL without ``user:password@``, and the Basic credentials it carried, if any.

    As in Go's client (Flux): URL credentials become ``Authorization: Basic ...`` only when
    the mapping sets no Authorization header itself (httpx would override the mapping's
    header, aiohttp would refuse the request).
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    hostport = parts.netloc.rpartition("@")[2]
    user = unquote(parts.username or "")
    password = unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return urlunsplit(parts._replace(netloc=hostport)), f"Basic {token}"


def _with_basic_auth(
    source: Iterator[tuple[int, Request]], basic: str
) -> Iterator[tuple[int, Request]]:
    for position, req in source:
        if "Authorization" not in req.headers:
            req = req._replace(headers={**req.headers, "Authorization": basic})
        yield position, req


class _ScrubLog(logging.Filter):
    """Masks a send's secrets (URL password, token-like query values) in library log records."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = record.getMessage()
            masked = mask_text(text, self.secrets)
            if masked != text:
                record.msg, record.args = masked, ()
        return True


# ------------------------------------------------------------------ failure wording
def describe_exception(exc: BaseException, url: str, options: Options) -> str:
    """One line that says what happened to a request, the same for httpx and aiohttp."""
    name = type(exc).__name__
    text = str(exc)
    chain = [exc]
    cause = exc.__cause__ or exc.__context__
    while cause is not None and len(chain) < 6:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    kinds = {type(e).__name__ for e in chain}
    texts = " ".join(str(e) for e in chain).lower()

    for e in chain:
        if isinstance(e, PolicyRefused):
            return str(e)

    if name in ("TooManyRedirects",) or "redirect" in name.lower():
        return f"too many redirects (more than {options.max_redirects}); a redirect loop?"
    if (
        isinstance(exc, ssl.SSLError)
        or any(isinstance(e, ssl.SSLError) for e in chain)
        or "ssl" in name.lower()
        or "certificate" in texts
    ):
        if "certificate" in texts or "verify" in texts:
            return (
                "TLS certificate verification failed (self-signed or unknown issuer); "
                "pass verify=False only if you trust this server."
            )
        return f"TLS error: {text or name}"
    if (
        isinstance(exc, TimeoutError | httpx.TimeoutException | asyncio.TimeoutError)
        or "Timeout" in name
        or kinds & {"TimeoutError", "ReadTimeout", "ConnectTimeout", "WriteTimeout"}
    ):
        return f"timed out after {options.timeout:g} s" if options.timeout else "timed out"
    if (
        "ConnectionRefused" in " ".join(kinds)
        or "connection refused" in texts
        or ("connect call failed" in texts)
    ):
        return "connection refused: nothing is listening at that host and port"
    if (
        any(isinstance(e, socket.gaierror) for e in chain)
        or "name or service not known" in texts
        or "nodename nor servname" in texts
        or "name resolution" in texts
        or "no address associated" in texts
    ):
        return "cannot resolve the host name (DNS)"
    if (
        "RemoteProtocolError" in kinds
        or "ServerDisconnectedError" in kinds
        or "ClientPayloadError" in kinds
        or "ClientOSError" in kinds
        or "ReadError" in kinds
        or "connection reset" in texts
        or "disconnected" in texts
        or "peer closed" in texts
    ):
        return "the server closed the connection before a complete answer"
    if "ConnectError" in kinds or "ClientConnectorError" in kinds:
        return f"could not connect: {text or name}"
    return f"{name}: {text}" if text else name


def _failure(exc: BaseException, url: str, options: Options) -> Attempt:
    """A failed attempt without an answer, and whether the request may have left."""
    return Attempt((0, describe_exception(exc, url, options), None), _failure_kind(exc))


def _failure_kind(exc: BaseException) -> str | None:
    """``NOT_SENT`` when the request surely never left, ``MAYBE_SENT`` when it may have,
    None when retrying cannot help (policy refusal, too many redirects)."""
    chain: list[BaseException] = [exc]
    while (nxt := chain[-1].__cause__ or chain[-1].__context__) is not None and len(chain) < 6:
        chain.append(nxt)
    kinds = {type(e).__name__ for e in chain}
    if any(isinstance(e, PolicyRefused | ssl.SSLCertVerificationError) for e in chain) or kinds & {
        "TooManyRedirects",
        "ClientConnectorCertificateError",
    }:
        return None  # the same answer again: retrying cannot help
    if kinds & _NOT_SENT_ERRORS:
        return NOT_SENT
    return MAYBE_SENT


#: Exception types raised before any byte of the request left: connecting, resolving, TLS.
_NOT_SENT_ERRORS = frozenset(
    {
        "ConnectError",  # httpx: refused, DNS, TLS handshake
        "ConnectTimeout",
        "PoolTimeout",
        "ClientConnectorError",  # aiohttp, and its DNS / certificate / SSL subclasses
        "ClientConnectorDNSError",
        "ClientConnectorSSLError",
        "ClientSSLError",
        "ConnectionTimeoutError",  # aiohttp: sock_connect timeout
        "ConnectionRefusedError",
        "gaierror",
    }
)


def _answered(status: int, error: str, kept: bytes | None, retry_after: str | None) -> Attempt:
    """An attempt that got an answer; 429 and 503 may be retried (after ``Retry-After``)."""
    if status in RETRY_STATUSES and not error:
        return Attempt((status, error, kept), ANSWERED, parse_retry_after(retry_after))
    return Attempt((status, error, kept))


def _encode_headers(headers: dict[str, str]) -> dict[str, str | bytes]:
    return {k: (v if v.isascii() else v.encode("utf-8")) for k, v in headers.items()}


# ------------------------------------------------------------------ sequential: httpx
#: The URL parsed once, not once per request (httpx parses a str URL on every request).
_parsed_url = functools.lru_cache(maxsize=16)(httpx.URL)


class _Cookies(httpx.Cookies):
    """httpx's cookie store, skipping the per-answer work when there is no cookie to store.

    httpx wraps every response for ``http.cookiejar`` before the jar looks for Set-Cookie
    (about a tenth of the sequential path's time in a profile); without such a header the
    jar would store nothing, so the result is the same.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


def _run_sync(
    url: str, source: Iterator[tuple[int, Request]], ledger: Ledger, options: Options
) -> None:
    timeout = options.timeout
    cap = options.max_response_bytes
    keep = options.keep_response
    policy = options.policy
    transport = httpx.HTTPTransport(verify=options.verify, trust_env=not policy.active)
    if policy.block_private:
        policy.install_httpx(transport)
    with httpx.Client(
        headers=DEFAULT_HEADERS,
        timeout=httpx.Timeout(timeout),
        follow_redirects=options.max_redirects > 0,
        max_redirects=options.max_redirects,
        verify=options.verify,
        trust_env=not policy.active,
        transport=transport,
        event_hooks={"request": [policy.httpx_hook]} if policy.active else None,
    ) as client:
        client._cookies = _Cookies(client.cookies)  # same jar, less work per answer
        retrier = Retrier(options, ledger, secret_values(url))
        if not retrier.active:
            for position, req in source:
                ledger.begin(position)
                attempt = _send_sync(client, url, req, timeout, cap, keep, options)
                ledger.finish(position, attempt.outcome)
                if ledger.stopping:
                    break
            return

        def send(req: Request) -> Attempt:
            return _send_sync(client, url, req, timeout, cap, keep, options)

        for position, req in source:
            done = retrier.run_sync(position, req, send)
            if done is not None:
                ledger.finish(position, done[0], done[1])
            if ledger.stopping:
                break


def _send_sync(
    client: httpx.Client,
    url: str,
    req: Request,
    timeout: float | None,
    cap: int,
    keep: int,
    options: Options,
) -> Attempt:
    headers: Any = (
        req.headers
        if all(v.isascii() for v in req.headers.values())
        else (_encode_headers(req.headers))
    )
    started = time.monotonic()
    try:
        with client.stream("POST", _parsed_url(url), content=req.body, headers=headers) as resp:
            status = resp.status_code
            kept = bytearray() if keep else None
            size = 0
            try:
                for chunk in resp.iter_raw(_CHUNK):
                    size += len(chunk)
                    if kept is not None and len(kept) < keep:
                        kept += chunk[: keep - len(kept)]
                    if size > cap:
                        return Attempt((status, _over_cap(cap), _bytes(kept)))
                    if timeout is not None and time.monotonic() - started > timeout:
                        return Attempt((status, _late(timeout), _bytes(kept)), MAYBE_SENT)
            except (httpx.HTTPError, OSError) as exc:
                # the status line arrived, then the answer broke off: keep the status
                return Attempt(
                    (status, describe_exception(exc, url, options), _bytes(kept)), MAYBE_SENT
                )
            return _answered(status, "", _bytes(kept), resp.headers.get("Retry-After"))
    except httpx.TooManyRedirects:
        return Attempt((0, describe_exception(httpx.TooManyRedirects(""), url, options), None))
    except (httpx.HTTPError, OSError, ssl.SSLError, PolicyRefused) as exc:
        return _failure(exc, url, options)


def _late(timeout: float) -> str:
    return f"timed out after {timeout:g} s reading the answer"


def _over_cap(cap: int) -> str:
    return (
        f"the answer was larger than max_response_bytes ({cap:,} bytes); stopped reading it "
        "(the request itself was delivered)"
    )


def _bytes(kept: bytearray | None) -> bytes | None:
    return None if kept is None else bytes(kept)


# ------------------------------------------------------------------ concurrent: aiohttp
def _run_async(
    url: str,
    source: Iterator[tuple[int, Request]],
    ledger: Ledger,
    options: Options,
    *,
    lean: bool = False,
) -> None:
    """The concurrent mode: on lean keep-alive connections (``_transport_lean``) when the
    target allows it, else on aiohttp."""
    if lean:
        from ._transport_lean import run_lean

        def start(make: Callable[[], Any]) -> Any:
            return _run_workers(make, ledger, options)

        asyncio.run(
            run_lean(url, source, ledger, options, functools.partial(_session, options), start)
        )
    else:
        asyncio.run(_main_async(url, source, ledger, options))


def _env_can_matter() -> bool:
    """Whether aiohttp's ``trust_env`` can change anything: an env proxy or a netrc file.

    With ``trust_env`` on, aiohttp looks both up in a worker thread for every request: two
    thread round trips per row, which made the concurrent path ~5x slower on loopback. When
    neither exists those lookups always come back empty, so it stays off.
    """
    import os
    import urllib.request
    from pathlib import Path

    if any(k in ("http", "https", "ws", "wss") for k in urllib.request.getproxies()):
        return True
    if "NETRC" in os.environ:
        return True
    try:
        return (Path.home() / ".netrc").exists()
    except (RuntimeError, OSError):
        return False


def _session(options: Options) -> aiohttp.ClientSession:
    """The aiohttp session of a concurrent send (created inside the running loop)."""
    import aiohttp

    policy = options.policy
    connector = aiohttp.TCPConnector(
        limit=options.concurrency,
        ssl=options.verify,
        resolver=policy.aiohttp_resolver() if policy.block_private else None,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=options.timeout),
        headers=DEFAULT_HEADERS,
        skip_auto_headers=("Content-Type",),
        auto_decompress=False,
        trust_env=not policy.active and _env_can_matter(),
        middlewares=(policy.aiohttp_middleware,) if policy.active else (),
    )


async def _main_async(
    url: str, source: Iterator[tuple[int, Request]], ledger: Ledger, options: Options
) -> None:
    retrier = Retrier(options, ledger, secret_values(url))
    async with _session(options) as session:
        await _run_workers(
            lambda: _worker(session, url, source, ledger, options, retrier), ledger, options
        )


async def _run_workers(make: Callable[[], Any], ledger: Ledger, options: Options) -> None:
    """Run ``options.concurrency`` worker coroutines made by ``make`` until they end; the
    ledger's ``abandon`` hook cancels them from another thread."""
    workers = [asyncio.create_task(make()) for _ in range(options.concurrency)]
    loop = asyncio.get_running_loop()

    def cancel_workers() -> None:
        for w in workers:
            w.cancel()

    def abandon() -> None:  # called from the caller's thread
        loop.call_soon_threadsafe(cancel_workers)

    ledger.abandon = abandon
    try:
        await asyncio.gather(*workers)
    finally:
        for w in workers:
            w.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*workers, return_exceptions=True)


async def _worker(
    session: aiohttp.ClientSession,
    url: str,
    source: Iterator[tuple[int, Request]],
    ledger: Ledger,
    options: Options,
    retrier: Retrier,
) -> None:
    redirects = options.max_redirects
    if not retrier.active:
        for position, req in source:  # one shared iterator: each row is taken exactly once
            ledger.begin(position)
            attempt = await _send_async(session, url, req, redirects, options)
            ledger.finish(position, attempt.outcome)
            if ledger.stopping:
                return
        return

    async def send(req: Request) -> Attempt:
        return await _send_async(session, url, req, redirects, options)

    for position, req in source:
        done = await retrier.run_async(position, req, send)
        if done is not None:
            ledger.finish(position, done[0], done[1])
        if ledger.stopping:
            return


async def _send_async(
    session: aiohttp.ClientSession,
    url: str,
    req: Request,
    redirects: int,
    options: Options,
    *,
    method: str = "POST",
    timeout: aiohttp.ClientTimeout | None = None,
) -> Attempt:
    """One request through aiohttp, following at most ``redirects`` redirects. ``method`` and
    ``timeout`` (the time left) serve the lean path when it hands a redirect over (a GET after
    301/302/303 carries no body)."""
    import aiohttp

    cap = options.max_response_bytes
    keep = options.keep_response
    try:
        async with session.request(
            method,
            url,
            # aiohttp warns (ResourceWarning) about raw bytes over 1 MB; a BytesIO of the same
            # bytes is sent the same way, with a Content-Length
            data=(
                None
                if method == "GET"
                else req.body
                if len(req.body) <= _LARGE_BODY
                else io.BytesIO(req.body)
            ),
            headers=req.headers,
            # ``redirects`` more may be followed; aiohttp stops when its count reaches
            # max_redirects, so allow one more than that to follow exactly ``redirects``
            # (as httpx does with the same number)
            allow_redirects=options.max_redirects > 0,
            max_redirects=redirects + 1,
            timeout=session.timeout if timeout is None else timeout,
        ) as resp:
            status = resp.status
            retry_after = resp.headers.get("Retry-After")
            kept = bytearray() if keep else None
            try:
                length = resp.content_length
                if length is not None and length <= cap and (keep == 0 or length <= keep):
                    body = await resp.read()
                    return _answered(status, "", (body if keep else None), retry_after)
                size = 0
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    size += len(chunk)
                    if kept is not None and len(kept) < keep:
                        kept += chunk[: keep - len(kept)]
                    if size > cap:
                        resp.close()
                        return Attempt((status, _over_cap(cap), _bytes(kept)))
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                # the status line arrived, then the answer broke off: keep the status
                text = (
                    _late(options.timeout)
                    if isinstance(exc, TimeoutError) and options.timeout
                    else describe_exception(exc, url, options)
                )
                return Attempt((status, text, _bytes(kept)), MAYBE_SENT)
            return _answered(status, "", _bytes(kept), retry_after)
    except (TimeoutError, aiohttp.ClientError, OSError, ssl.SSLError, PolicyRefused) as exc:
        return _failure(exc, url, options)
