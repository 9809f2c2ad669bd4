"""The httpx backend: ``httpx.AsyncClient`` for what the lean backend does not serve in
sequential mode (proxies, URL credentials, the URL policy). Redirects are followed by the
driver, the same way on every backend.

httpcore checks an idle connection for the server's close before reusing it; one idle longer
than ``IDLE_EXPIRY`` is not reused (``keepalive_expiry``). For the driver's one resend on a
fresh connection (``_retry.resend_fresh``) the backend reports whether the connection was
pooled (no connect in the request's trace) and whether any answer bytes arrived; whether any
request bytes left is not known here (taken as "maybe"). The resend first closes the idle
connections to the origin, so httpcore opens a new one.
"""

from __future__ import annotations

import contextlib
import contextvars
import ssl
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import h11
import httpcore
import httpx

from .._policy import PolicyRefused
from ._failures import Kind, TransportFailure, from_os_error
from ._protocol import DEFAULT_HEADERS, IDLE_EXPIRY, Hop, Sink
from ._redirects import shown_location

if TYPE_CHECKING:
    from .._options import Options
    from ._protocol import Backend

__all__ = ["HttpxBackend", "map_exceptions"]

_CHUNK = 64 * 1024
_HTTPCORE_ERRORS = (
    httpcore.NetworkError,
    httpcore.TimeoutException,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    httpcore.ProxyError,
)


def _cause(exc: BaseException) -> BaseException | None:
    """The lower-level exception httpx/httpcore wrapped, if any."""
    seen = 0
    inner = exc.__cause__ or exc.__context__
    while inner is not None and seen < 6:
        if not isinstance(inner, (httpx.HTTPError, *_HTTPCORE_ERRORS)):
            return inner
        inner = inner.__cause__ or inner.__context__
        seen += 1
    return None


@contextlib.contextmanager
def map_exceptions(sink: Sink) -> Iterator[None]:
    """httpx's exception types -> ``TransportFailure`` kinds."""
    try:
        yield
    except TransportFailure:
        raise
    except PolicyRefused as exc:
        raise TransportFailure(Kind.POLICY, str(exc)) from exc
    except httpx.ConnectTimeout as exc:
        raise TransportFailure(Kind.CONNECT_TIMEOUT) from exc
    except httpx.TimeoutException as exc:
        raise TransportFailure(Kind.TIMEOUT) from exc
    except httpx.ConnectError as exc:  # refused, DNS, TLS handshake
        inner = _cause(exc)
        if inner is None:
            raise TransportFailure(Kind.CONNECT, "no connection") from exc
        raise from_os_error(inner, connecting=True) from exc
    except httpx.RemoteProtocolError as exc:
        inner = _cause(exc)
        if isinstance(inner, httpx.InvalidURL) and sink.location is not None:
            # httpx builds the next request of a redirect even when not following it
            raise TransportFailure(Kind.REDIRECT_LOCATION, shown_location(sink.location)) from exc
        if isinstance(inner, h11.RemoteProtocolError) and not sink.status:
            if inner.error_status_hint == 431:
                raise TransportFailure(Kind.HEAD_TOO_LARGE) from exc
            if sink.raw_head.split(b" ", 2)[1:2] == [b"101"]:
                raise TransportFailure(Kind.UPGRADE, "status 101") from exc
            raise TransportFailure(Kind.PROTOCOL, "invalid status line") from exc
        raise TransportFailure(Kind.CLOSED) from exc
    except (httpx.ReadError, httpx.WriteError, httpx.CloseError) as exc:
        raise TransportFailure(Kind.CLOSED) from exc
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise TransportFailure(Kind.BAD_URL, "not a valid http(s) URL") from exc
    except httpx.LocalProtocolError as exc:
        raise TransportFailure(Kind.BAD_URL, "the request cannot be written") from exc
    except ssl.SSLError as exc:
        raise from_os_error(exc, connecting=not sink.sending) from exc
    except OSError as exc:
        raise from_os_error(exc, connecting=not sink.sending) from exc
    except (UnicodeError, ValueError) as exc:  # e.g. a host name that is not valid IDNA
        raise TransportFailure(Kind.BAD_URL, type(exc).__name__) from exc


#: The sink of the exchange running in this task: the recording stream writes to it.
_CURRENT: contextvars.ContextVar[Sink | None] = contextvars.ContextVar("sink", default=None)


class _RecordingStream(httpcore.AsyncNetworkStream):
    """A network stream that keeps the first bytes of each answer in the current sink, so a
    head h11 refuses can still be told apart (101, an invalid status line)."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = await self._inner.read(max_bytes, timeout)
        sink = _CURRENT.get()
        if sink is not None and len(sink.raw_head) < 16:
            sink.raw_head += data[: 16 - len(sink.raw_head)]
            sink.heard = sink.heard or bool(data)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _RecordingStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _RecordingBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _RecordingStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _on_response(response: httpx.Response) -> None:
    """Record the head in the sink before httpx looks at a redirect's Location."""
    sink = _CURRENT.get()
    if sink is not None:
        sink.location = response.headers.get("Location") or response.headers.get("URI")


def _encode_headers(headers: dict[str, str]) -> Any:
    if all(v.isascii() for v in headers.values()):
        return headers
    return {k: (v if v.isascii() else v.encode("utf-8")) for k, v in headers.items()}


class HttpxBackend:
    """One ``httpx.AsyncClient`` shared by the workers of a send (implements ``Backend``)."""

    def __init__(self, options: Options, context: ssl.SSLContext) -> None:
        policy = options.policy
        transport = httpx.AsyncHTTPTransport(
            verify=context,
            trust_env=not policy.active,
            limits=httpx.Limits(keepalive_expiry=IDLE_EXPIRY),
        )
        if policy.block_private:
            policy.install_httpx_async(transport)
        self.pool: Any = transport._pool
        self.pool._network_backend = _RecordingBackend(self.pool._network_backend)
        self.client = httpx.AsyncClient(
            headers=DEFAULT_HEADERS,
            timeout=httpx.Timeout(None),
            follow_redirects=False,
            verify=context,
            trust_env=not policy.active,
            transport=transport,
            event_hooks={
                "request": [policy.httpx_async_hook] if policy.active else [],
                "response": [_on_response],
            },
        )

    async def exchange(self, hop: Hop, sink: Sink, fresh: bool = False) -> None:
        connected = False

        async def trace(event: str, info: Any) -> None:
            nonlocal connected
            if event.startswith("connection.connect_tcp"):
                connected = True
            elif event.startswith("http11.send_request_headers"):
                sink.sending = True
                sink.reused = not connected

        _CURRENT.set(sink)
        with map_exceptions(sink):
            if fresh:
                await self._drop_idle(hop.url)
            request = self.client.build_request(
                hop.method,
                hop.url,
                content=None if hop.method == "GET" else hop.body,
                headers=_encode_headers(hop.headers),
                extensions={"trace": trace},
            )
            response = await self.client.send(request, stream=True)
            try:
                sink.status = response.status_code
                headers = response.headers
                sink.location = headers.get("Location") or headers.get("URI")
                sink.retry_after = headers.get("Retry-After")
                if response.status_code == 101:  # the driver fails the row
                    return
                async for chunk in response.aiter_raw(_CHUNK):
                    if sink.feed(chunk):
                        break
            finally:
                await response.aclose()
                await self._drop_unread()

    async def _drop_idle(self, url: str) -> None:
        """Close the idle connections to ``url``'s origin: the next request opens a new one."""
        origin = httpcore.URL(url).origin
        for conn in list(getattr(self.pool, "connections", ())):
            if conn.is_idle() and conn.can_handle_request(origin):
                await conn.aclose()

    async def _drop_unread(self) -> None:
        """Close idle connections holding bytes nobody asked for (an extra answer in the same
        packet): httpcore would read them as the next request's answer."""
        for conn in list(getattr(self.pool, "connections", ())):
            state = getattr(getattr(conn, "_connection", None), "_h11_state", None)
            if isinstance(state, h11.Connection) and state.trailing_data[0] and conn.is_idle():
                await conn.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()


if TYPE_CHECKING:
    _check: type[Backend] = HttpxBackend
