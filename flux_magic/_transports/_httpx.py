"""The httpx backend: ``httpx.AsyncClient`` for what the lean backend does not serve in
sequential mode (proxies, URL credentials, the URL policy). Redirects are followed by the
driver, the same way on every backend.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import h11
import httpcore
import httpx

from .._policy import PolicyRefused
from ._failures import Kind, TransportFailure, from_os_error
from ._protocol import DEFAULT_HEADERS, Hop, Sink

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
        if not isinstance(inner, httpx.HTTPError | _HTTPCORE_ERRORS):
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
        if isinstance(inner, h11.RemoteProtocolError) and not sink.status:
            if inner.error_status_hint == 431:
                raise TransportFailure(Kind.HEAD_TOO_LARGE) from exc
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


def _encode_headers(headers: dict[str, str]) -> Any:
    if all(v.isascii() for v in headers.values()):
        return headers
    return {k: (v if v.isascii() else v.encode("utf-8")) for k, v in headers.items()}


class HttpxBackend:
    """One ``httpx.AsyncClient`` shared by the workers of a send (implements ``Backend``)."""

    def __init__(self, options: Options, context: ssl.SSLContext) -> None:
        policy = options.policy
        transport = httpx.AsyncHTTPTransport(verify=context, trust_env=not policy.active)
        if policy.block_private:
            policy.install_httpx_async(transport)
        self.client = httpx.AsyncClient(
            headers=DEFAULT_HEADERS,
            timeout=httpx.Timeout(None),
            follow_redirects=False,
            verify=context,
            trust_env=not policy.active,
            transport=transport,
            event_hooks={"request": [policy.httpx_async_hook]} if policy.active else None,
        )

    async def exchange(self, hop: Hop, sink: Sink) -> None:
        async def trace(event: str, info: Any) -> None:
            if event.startswith("http11.send_request_headers"):
                sink.sending = True

        with map_exceptions(sink):
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
                async for chunk in response.aiter_raw(_CHUNK):
                    if sink.feed(chunk):
                        break
            finally:
                await response.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()


if TYPE_CHECKING:
    _check: type[Backend] = HttpxBackend
