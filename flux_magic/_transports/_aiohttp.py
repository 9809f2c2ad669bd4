"""The aiohttp backend: for what the lean backend does not serve in concurrent mode (proxies,
URL credentials, the URL policy) and for the lean backend's hand-overs (other origins,
cookies). Redirects are not followed here: the driver follows them, the same way on every
backend.

A pooled connection the server closed while it sat idle is dropped before a request is written
on it (``_Connector``): aiohttp itself only knows of a close once the event loop has processed
it, and a request written on such a connection is lost ("closed before a complete answer").
One idle longer than ``IDLE_EXPIRY`` is not reused (aiohttp's ``keepalive_timeout``); the
server's ``Keep-Alive`` header is not read here (aiohttp has no public way to expire one
connection).

For the driver's one resend on a fresh connection (``_retry.resend_fresh``) the backend reports
whether the connection was pooled (aiohttp's reuse trace) and whether any answer bytes arrived;
whether any request bytes left is not known here (taken as "maybe"). The resend skips the pool
(``fresh``, read by ``_Connector``).
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import ssl
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import aiohttp
from yarl import URL

from .._policy import PolicyRefused
from ._env import env_can_matter
from ._failures import Kind, TransportFailure, from_os_error, from_ssl_error
from ._protocol import DEFAULT_HEADERS, IDLE_CHECK, IDLE_EXPIRY, Hop, Sink, readable

if TYPE_CHECKING:
    from .._options import Options
    from ._protocol import Backend

__all__ = ["AiohttpBackend", "map_exceptions"]

_CHUNK = 64 * 1024
_LARGE_BODY = 1024 * 1024


@contextlib.contextmanager
def map_exceptions(sink: Sink) -> Iterator[None]:
    """aiohttp's exception types -> ``TransportFailure`` kinds."""
    try:
        yield
    except TransportFailure:
        raise
    except PolicyRefused as exc:
        raise TransportFailure(Kind.POLICY, str(exc)) from exc
    except aiohttp.ClientConnectorCertificateError as exc:
        raise from_ssl_error(exc.certificate_error) from exc  # type: ignore[arg-type]
    except aiohttp.ClientConnectorDNSError as exc:
        raise TransportFailure(Kind.DNS) from exc
    except aiohttp.ClientConnectorError as exc:  # refused, TLS handshake, unreachable
        raise from_os_error(exc.os_error, connecting=True) from exc
    except aiohttp.ConnectionTimeoutError as exc:
        raise TransportFailure(Kind.CONNECT_TIMEOUT) from exc
    except aiohttp.ServerTimeoutError as exc:
        raise TransportFailure(Kind.TIMEOUT) from exc
    except aiohttp.ClientSSLError as exc:
        raise from_ssl_error(exc.os_error) from exc  # type: ignore[arg-type]
    except (aiohttp.InvalidUrlClientError, aiohttp.NonHttpUrlClientError) as exc:
        raise TransportFailure(Kind.BAD_URL, "not a valid http(s) URL") from exc
    except aiohttp.ClientResponseError as exc:  # the answer's head did not parse
        raise _head_failure(exc) from exc
    except aiohttp.ServerDisconnectedError as exc:
        if not isinstance(exc.message, str):  # the head of an answer had begun to arrive
            sink.heard = True
        raise TransportFailure(Kind.CLOSED) from exc
    except aiohttp.ClientPayloadError as exc:
        raise TransportFailure(Kind.CLOSED) from exc
    except aiohttp.ClientOSError as exc:
        raise from_os_error(exc, connecting=not sink.sending) from exc
    except ssl.SSLError as exc:
        raise from_ssl_error(exc) from exc
    except (ConnectionError, OSError) as exc:
        raise from_os_error(exc, connecting=not sink.sending) from exc
    except (UnicodeError, ValueError) as exc:  # e.g. a host name that is not valid IDNA
        raise TransportFailure(Kind.BAD_URL, type(exc).__name__) from exc


def _head_failure(exc: aiohttp.ClientResponseError) -> TransportFailure:
    from aiohttp import http_exceptions as hx

    cause: BaseException | None = exc
    for _ in range(6):
        cause = cause.__cause__ or cause.__context__ if cause is not None else None
        if isinstance(cause, hx.LineTooLong):
            return TransportFailure(Kind.HEAD_TOO_LARGE)
        if isinstance(cause, hx.BadStatusLine):
            return TransportFailure(Kind.PROTOCOL, "invalid status line")
    return TransportFailure(Kind.PROTOCOL, exc.message or "malformed head")


async def _on_sending(session: Any, ctx: Any, params: Any) -> None:
    sink = ctx.trace_request_ctx
    if isinstance(sink, Sink):
        sink.sending = True


async def _on_reuse(session: Any, ctx: Any, params: Any) -> None:
    sink = ctx.trace_request_ctx
    if isinstance(sink, Sink):
        sink.sending = sink.reused = True


#: Set while an exchange must go out on a new connection (the driver's resend).
_FRESH: contextvars.ContextVar[bool] = contextvars.ContextVar("fresh", default=False)


class _Connector(aiohttp.TCPConnector):
    """aiohttp's connector, checking an idle connection for the server's close before reuse,
    and taking none from the pool for a resend (``_FRESH``)."""

    async def _get(self, key: Any, *args: Any, **kwargs: Any) -> Any:
        if _FRESH.get():
            return None  # no pooled connection: aiohttp opens a new one
        # ``_get`` and ``_conns`` are aiohttp's own (3.12 to 3.14): if a later release changes
        # their shape, skip the check rather than fail the send (aiohttp then finds the closed
        # connection itself, as it did before this check existed).
        with contextlib.suppress(AttributeError, TypeError, ValueError):
            self._drop_closed_idle(key)
        return await super()._get(key, *args, **kwargs)

    def _drop_closed_idle(self, key: Any) -> None:
        conns = self._conns.get(key)
        if not conns:
            return
        now = time.monotonic()  # aiohttp stamps idle connections with this clock
        for entry in list(conns):
            proto, since = entry
            transport = proto.transport
            if now - since <= IDLE_CHECK or transport is None:
                continue
            sock = transport.get_extra_info("socket")
            if sock is None or readable(sock.fileno()):
                conns.remove(entry)
                proto.close()
        if not conns:
            del self._conns[key]


class AiohttpBackend:
    """One aiohttp session shared by the workers of a send (implements ``Backend``)."""

    def __init__(self, options: Options, context: ssl.SSLContext) -> None:
        policy = options.policy
        trace = aiohttp.TraceConfig()
        trace.on_connection_create_end.append(_on_sending)
        trace.on_connection_reuseconn.append(_on_reuse)
        connector = _Connector(
            limit=options.concurrency,
            keepalive_timeout=IDLE_EXPIRY,
            ssl=context,
            resolver=policy.aiohttp_resolver() if policy.block_private else None,
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            # cookies from IP-address hosts too, as httpx and browsers keep them: the same
            # cookies go back on every path
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=None),
            headers=DEFAULT_HEADERS,
            skip_auto_headers=("Content-Type",),
            auto_decompress=False,
            trust_env=not policy.active and env_can_matter(),
            middlewares=(policy.aiohttp_middleware,) if policy.active else (),
            trace_configs=[trace],
        )

    def keep_cookies(self, url: str, cookies: list[str]) -> bool:
        """Store Set-Cookie fields another backend received; True if the jar kept any."""
        jar = self.session.cookie_jar
        jar.update_cookies_from_headers(cookies, URL(url))
        return len(jar) > 0

    async def exchange(self, hop: Hop, sink: Sink, fresh: bool = False) -> None:
        if not fresh:
            await self._exchange(hop, sink)
            return
        token = _FRESH.set(True)
        try:
            await self._exchange(hop, sink)
        finally:
            _FRESH.reset(token)

    async def _exchange(self, hop: Hop, sink: Sink) -> None:
        body = hop.body
        with map_exceptions(sink):
            async with self.session.request(
                hop.method,
                hop.url,
                # aiohttp warns (ResourceWarning) about raw bytes over 1 MB; a BytesIO of the
                # same bytes is sent the same way, with a Content-Length
                data=(
                    None
                    if hop.method == "GET"
                    else body
                    if len(body) <= _LARGE_BODY
                    else io.BytesIO(body)
                ),
                headers=hop.headers,
                allow_redirects=False,
                trace_request_ctx=sink,
            ) as resp:
                sink.sending = True
                sink.status = resp.status
                headers = resp.headers
                sink.location = headers.get("Location") or headers.get("URI")
                sink.retry_after = headers.get("Retry-After")
                if resp.status == 101:  # the driver fails the row: nothing more to read
                    resp.close()
                    return
                length = resp.content_length
                if length is not None and length <= sink.cap and length <= _CHUNK:
                    sink.feed(await resp.read())
                    return
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    if sink.feed(chunk):
                        resp.close()
                        return

    async def aclose(self) -> None:
        await self.session.close()


if TYPE_CHECKING:
    _check: type[Backend] = AiohttpBackend
