"""The URL policy for shared servers: which hosts and addresses requests may go to.

Two opt-in rules, checked for the URL and again on every redirect:

* ``allow_hosts``: only these host names (``"hooks.example.com"``, or ``"*.example.com"`` for
  any subdomain, or an IP literal) may be contacted.
* ``block_private``: refuse destinations whose address is not public (private, loopback,
  link-local, unspecified, multicast, reserved, shared, documentation ranges), checked on the
  addresses the host name resolves to, at connect time, like Flux's hardened mode. The
  connection is then made to exactly the addresses that were checked, so a second DNS answer
  cannot sneak a private address in.

With either rule on, proxies from the environment are not used (the check must see the real
destination). Refusals are reported per row, like any other transport failure.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpcore
import httpx

from ._errors import UsageError
from ._secrets import mask_url

if TYPE_CHECKING:
    import aiohttp

__all__ = ["PolicyRefused", "UrlPolicy", "normalize_hosts"]

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class PolicyRefused(Exception):
    """A destination refused by the URL policy (raised inside the transports)."""


def normalize_hosts(value: object) -> tuple[str, ...]:
    """``allow_hosts`` as a tuple of lower-case patterns; a string is split on commas."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[object] = [p for p in value.split(",") if p.strip()]
    elif isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    else:
        raise UsageError(
            f"allow_hosts must be a list of host names such as ['hooks.example.com', "
            f"'*.example.org'], not {value!r}."
        )
    out: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise UsageError(
                f"allow_hosts entries must be non-empty host names, not {item!r}; "
                "e.g. ['hooks.example.com', '*.example.org']."
            )
        host = item.strip().lower().rstrip(".")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        bare = host[2:] if host.startswith("*.") else host
        if not bare or (any(c in bare for c in "/:@*? ") and not _is_ip(bare)):
            raise UsageError(
                f"allow_hosts entry {item!r} is not a host name; give the host only "
                "(no scheme, port or path), e.g. 'hooks.example.com' or '*.example.org'."
            )
        out.append(host)
    return tuple(out)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _address_kind(addr: _IPAddress) -> str | None:
    """Why an address is not public, or None when it is."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.is_loopback:
        return "a loopback address"
    if addr.is_link_local:
        return "a link-local address"
    if addr.is_unspecified:
        return "an unspecified address"
    if addr.is_multicast:
        return "a multicast address"
    if addr.is_private:
        return "a private address"
    if not addr.is_global:
        return "a non-public address"
    return None


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """The destinations requests may go to (see the module docstring)."""

    block_private: bool = False
    allow_hosts: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.block_private or bool(self.allow_hosts)

    # -- checks ---------------------------------------------------------------------------
    def host_refusal(self, host: str) -> str | None:
        """Why ``host`` (a name or IP literal from a URL) is refused, or None."""
        host = host.lower().rstrip(".")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if self.allow_hosts and not any(_matches(host, p) for p in self.allow_hosts):
            return (
                f"refused by the URL policy: host {host!r} is not in allow_hosts "
                f"({', '.join(self.allow_hosts)})"
            )
        if self.block_private and _is_ip(host):
            return self.address_refusal(host, host)
        return None

    def address_refusal(self, host: str, address: str) -> str | None:
        """Why connecting to ``address`` (resolved from ``host``) is refused, or None."""
        if not self.block_private:
            return None
        try:
            addr = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return f"refused by the URL policy: {host!r} resolved to an unparsable address"
        kind = _address_kind(addr)
        if kind is None:
            return None
        via = "" if host == address else f" resolves to {address}, which is"
        return (
            f"refused by the URL policy: {host!r}{via or ' is'} {kind} (block_private=True "
            "refuses private, loopback and link-local destinations)"
        )

    def check_url(self, url: str) -> None:
        """Refuse the endpoint URL up front when its host alone breaks the policy."""
        host = urlsplit(url).hostname or ""
        reason = self.host_refusal(host)
        if reason:
            raise UsageError(
                f"the URL {mask_url(url)!r} is {reason}. "
                "Change the URL, or the allow_hosts / block_private options."
            )

    def check_resolved(self, host: str, addresses: Iterable[str]) -> None:
        """Raise ``PolicyRefused`` when any address ``host`` resolved to is refused."""
        for address in addresses:
            reason = self.address_refusal(host, address)
            if reason:
                raise PolicyRefused(reason)

    # -- httpx (sequential backend) ---------------------------------------------------
    def httpx_hook(self, request: httpx.Request) -> None:
        """httpx request event hook: runs for the first request and every redirect."""
        reason = self.host_refusal(request.url.host)
        if reason:
            raise PolicyRefused(reason)

    async def httpx_async_hook(self, request: httpx.Request) -> None:
        """``httpx_hook`` as ``httpx.AsyncClient`` wants it."""
        self.httpx_hook(request)

    def install_httpx_async(self, transport: httpx.AsyncHTTPTransport) -> None:
        """Route the transport's connections through the policy's resolving backend."""
        pool: Any = transport._pool
        pool._network_backend = _AsyncGuardedBackend(self, pool._network_backend)

    # -- aiohttp (concurrent backend) -------------------------------------------------
    def aiohttp_resolver(self) -> aiohttp.abc.AbstractResolver:
        """A resolver that refuses host names resolving to refused addresses."""
        return _make_resolver(self)

    async def aiohttp_middleware(self, request: Any, handler: Any) -> Any:
        """aiohttp client middleware: runs for the first request and every redirect.

        Host names are checked here against ``allow_hosts``; IP literals (which aiohttp does
        not pass to the resolver) also against ``block_private``.
        """
        reason = self.host_refusal(request.url.raw_host or "")
        if reason:
            raise PolicyRefused(reason)
        return await handler(request)


def _matches(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


class _AsyncGuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolve, check every address, then connect to exactly those addresses."""

    def __init__(self, policy: UrlPolicy, inner: httpcore.AsyncNetworkBackend) -> None:
        self._policy = policy
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        import asyncio

        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except socket.gaierror as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        self._policy.check_resolved(host, addresses)
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address to connect to for {host!r}")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _make_resolver(policy: UrlPolicy) -> aiohttp.abc.AbstractResolver:
    import aiohttp
    import aiohttp.abc

    class _GuardedResolver(aiohttp.abc.AbstractResolver):
        def __init__(self) -> None:
            self._inner = aiohttp.ThreadedResolver()

        async def resolve(
            self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
        ) -> list[Any]:
            results: list[Any] = await self._inner.resolve(host, port, family)
            policy.check_resolved(host, [str(r["host"]) for r in results])
            return results

        async def close(self) -> None:
            await self._inner.close()

    return _GuardedResolver()
