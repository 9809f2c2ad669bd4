"""Sending prepared requests: one driver, three backends.

::

    run_transport(url, rows, ledger, options)
      └─ _driver.drive: N worker coroutines on one row iterator (N = concurrency; 1 = sequential)
           └─ Sender.send: one deadline per attempt, redirects, outcome wording, retries
                └─ Backend.exchange(hop, sink): one request, its answer's head, body -> Sink
                     ├─ _lean.LeanBackend     http:// and https://, one pool of keep-alive
                     │                         connections, httptools (the usual case)
                     ├─ _aiohttp.AiohttpBackend  concurrent mode when the lean backend cannot
                     │                         serve (proxy, URL credentials, URL policy), and
                     │                         the lean backend's hand-overs (other origins,
                     │                         cookies)
                     └─ _httpx.HttpxBackend    sequential mode when the lean backend cannot serve

Every backend maps its own exception types to a failure ``Kind`` (``_failures``), so the same
failure reads the same on every path. ``BACKEND`` forces one backend for every send (the test
suite runs the same scenarios on each).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

from .._secrets import mask_text, secret_values
from ._driver import Sender, SendState, drive
from ._protocol import DEFAULT_HEADERS, Ledger, Outcome
from ._retry import Pacer, Pacing, Retrier

if TYPE_CHECKING:
    from .._options import Options
    from .._request import Request
    from ._lean import LeanTarget
    from ._protocol import Backend, Hop

__all__ = [
    "BACKEND",
    "DEFAULT_HEADERS",
    "Ledger",
    "Outcome",
    "Pacer",
    "Pacing",
    "backend_name",
    "run_transport",
]

#: None: choose per send (``backend_name``); "lean", "aiohttp" or "httpx": force that backend
#: (the lean one still hands other origins and cookies over to aiohttp).
BACKEND: str | None = None


def backend_name(url: str, options: Options, *, credentials: bool = False) -> str:
    """The backend a send to ``url`` uses: "lean" when it can, else "httpx" (sequential) or
    "aiohttp" (concurrent)."""
    if BACKEND is not None:
        return BACKEND
    from ._env import env_can_matter
    from ._lean import usable_url

    if not credentials and not options.policy.active and usable_url(url) and not env_can_matter():
        return "lean"
    return "httpx" if options.concurrency == 1 else "aiohttp"


def run_transport(
    url: str, source: Iterator[tuple[int, Request]], ledger: Ledger, options: Options
) -> None:
    """Send every request ``source`` yields, until it ends or ``ledger.stopping``."""
    url, basic = _split_userinfo(url)
    if basic is not None:
        source = _with_basic_auth(source, basic)
    scrub = _ScrubLog(secret_values(url) + ([basic.split(" ", 1)[1]] if basic else []))
    name = backend_name(url, options, credentials=basic is not None)
    loggers = [logging.getLogger(n) for n in ("httpx", "aiohttp.client", "asyncio")]
    for logger in loggers:
        logger.addFilter(scrub)  # httpx logs every request's full URL
    try:
        asyncio.run(_send(name, url, source, ledger, options))
    finally:
        for logger in loggers:
            logger.removeFilter(scrub)


async def _send(
    name: str, url: str, source: Iterator[tuple[int, Request]], ledger: Ledger, options: Options
) -> None:
    from ._tls import tls_context

    contexts: list[ssl.SSLContext] = []

    def context() -> ssl.SSLContext:  # made when first needed: loading CA roots takes time
        if not contexts:
            contexts.append(tls_context(options.verify))
        return contexts[0]

    retrier = Retrier(options, ledger, secret_values(url))
    shared: list[Backend] = []
    pools: list[LeanTarget] = []

    def aiohttp_backend() -> Backend:
        from ._aiohttp import AiohttpBackend

        if not shared:
            shared.append(AiohttpBackend(options, context()))
        return shared[0]

    try:
        if name == "lean":
            from ._lean import LeanBackend, LeanTarget

            target = LeanTarget(url, context)
            pools.append(target)

            def keep_cookies(hop_url: str, cookies: list[str]) -> bool:
                from ._aiohttp import AiohttpBackend

                backend = aiohttp_backend()
                assert isinstance(backend, AiohttpBackend)
                return backend.keep_cookies(hop_url, cookies)

            state = SendState(keep_cookies)

            def make() -> Sender:
                return Sender(
                    url,
                    options,
                    LeanBackend(target),
                    target.serves,
                    aiohttp_backend,
                    state,
                    owns_primary=True,
                )

        else:
            if name == "httpx":
                from ._httpx import HttpxBackend

                backend: Backend = HttpxBackend(options, context())
                shared.append(backend)
            else:
                backend = aiohttp_backend()
            state = SendState()

            def make() -> Sender:
                return Sender(url, options, backend, _any_hop, None, state, owns_primary=False)

        await drive(source, ledger, options, retrier, make)
    finally:
        for backend in shared:
            await backend.aclose()
        for pool in pools:
            pool.close()
        await asyncio.sleep(0)  # let the transports just closed finish closing


def _any_hop(hop: Hop) -> bool:
    return True


def _split_userinfo(url: str) -> tuple[str, str | None]:
    """The URL without ``user:password@``, and the Basic credentials it carried, if any.

    As in Go's client (Flux): URL credentials become ``Authorization: Basic ...`` only when
    the mapping sets no Authorization header itself.
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
