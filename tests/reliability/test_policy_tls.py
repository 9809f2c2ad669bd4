"""URL policy (block_private, allow_hosts; up front, after DNS, on every redirect) and TLS
verification against a real self-signed loopback server, through both transports."""

from __future__ import annotations

import ipaddress
from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

import flux_magic
from flux_magic import Receiver, Reply, UsageError, _policy
from flux_magic._policy import UrlPolicy

CONCURRENCY = [1, 4]


def frame(n: int = 2) -> pd.DataFrame:
    return pd.DataFrame({"n": range(n)})


def body(r: Any) -> dict[str, Any]:
    return {"headers": {}, "data": str(r.n).encode()}


def redirecting_to(location: str) -> Receiver:
    return Receiver(lambda req: Reply(307, headers={"Location": location}), host="127.0.0.2")


# ------------------------------------------------------------------ allow_hosts
def test_allow_hosts_refuses_the_url_up_front() -> None:
    with pytest.raises(UsageError, match=r"host '127\.0\.0\.1' is not in allow_hosts"):
        flux_magic.endpoint("http://127.0.0.1:9/", allow_hosts=["hooks.example.com"])


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_allow_hosts_is_checked_on_every_redirect(concurrency: int) -> None:
    with Receiver() as target:
        location = target.url.replace("127.0.0.1", "localhost")
        with redirecting_to(location) as first:
            out = flux_magic.endpoint(first.url, concurrency=concurrency, allow_hosts="127.0.0.2")(
                body
            )(frame())
            allowed = flux_magic.endpoint(
                first.url, concurrency=concurrency, allow_hosts=["127.0.0.2", "LOCALHOST"]
            )(body)(frame())
        arrived = target.count
    assert out["_sent"].tolist() == ["false", "false"]
    assert out["_error"].str.contains("host 'localhost' is not in allow_hosts").all()
    assert allowed["_sent"].tolist() == ["true", "true"]
    assert arrived == 2  # only the allowed run reached the redirect target


def test_allow_hosts_patterns() -> None:
    policy = UrlPolicy(allow_hosts=_policy.normalize_hosts("*.example.com, api.test, ::1"))
    assert policy.host_refusal("a.example.com") is None
    assert policy.host_refusal("b.a.EXAMPLE.com.") is None
    assert policy.host_refusal("example.com") is not None  # the wildcard needs a subdomain
    assert policy.host_refusal("evil-example.com") is not None
    assert policy.host_refusal("api.test") is None
    assert policy.host_refusal("[::1]") is None
    assert policy.host_refusal("api.test.evil") is not None


# ------------------------------------------------------------------ block_private
def test_block_private_refuses_a_private_literal_up_front() -> None:
    for url in ("http://127.0.0.1:9/", "http://[::1]:9/", "http://169.254.169.254/latest"):
        with pytest.raises(UsageError, match=r"refused by the URL policy: .* address"):
            flux_magic.endpoint(url, block_private=True)


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_block_private_checks_the_resolved_address(concurrency: int, receiver: Receiver) -> None:
    url = receiver.url.replace("127.0.0.1", "localhost")  # a name: checked after DNS
    out = flux_magic.endpoint(url, concurrency=concurrency, block_private=True)(body)(frame())
    assert out["_sent"].tolist() == ["false", "false"]
    assert (
        out["_error"]
        .str.contains("'localhost' resolves to 127.0.0.1, which is a loopback address")
        .all()
    )
    assert receiver.count == 0


@pytest.fixture
def only_127_0_0_2_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count 127.0.0.2 as public so a first hop can pass while only loopback traffic is used.

    Only the address classification changes; the connections, DNS lookups and redirects are
    real.
    """
    original = _policy._address_kind

    def kind(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        return None if str(addr) == "127.0.0.2" else original(addr)

    monkeypatch.setattr(_policy, "_address_kind", kind)


@pytest.mark.usefixtures("only_127_0_0_2_is_public")
@pytest.mark.parametrize("concurrency", CONCURRENCY)
@pytest.mark.parametrize("by", ["name", "literal"])
def test_block_private_is_checked_on_every_redirect(concurrency: int, by: str) -> None:
    with Receiver() as target:
        host = "localhost" if by == "name" else "127.0.0.1"
        with redirecting_to(target.url.replace("127.0.0.1", host)) as first:
            out = flux_magic.endpoint(first.url, concurrency=concurrency, block_private=True)(body)(
                frame()
            )
            assert first.count == 2  # the public first hop was allowed
        assert target.count == 0  # the private redirect target never got a request
    assert out["_sent"].tolist() == ["false", "false"]
    assert out["_error"].str.contains("refused by the URL policy").all()
    assert out["_error"].str.contains("loopback address").all()


@pytest.mark.usefixtures("only_127_0_0_2_is_public")
@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_block_private_lets_public_destinations_through(concurrency: int) -> None:
    with Receiver(host="127.0.0.2") as rx:
        out = flux_magic.endpoint(rx.url, concurrency=concurrency, block_private=True)(body)(
            frame()
        )
        assert rx.count == 2
    assert out["_sent"].tolist() == ["true", "true"]


def test_policy_refusals_are_not_retried(receiver: Receiver) -> None:
    url = receiver.url.replace("127.0.0.1", "localhost")
    out = flux_magic.endpoint(url, block_private=True, retries=3, backoff=0.01)(body)(frame(1))
    assert out["_attempts"].tolist() == [1]


# ------------------------------------------------------------------ TLS
@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_self_signed_tls_is_refused_by_default(concurrency: int, tls_server: HTTPServer) -> None:
    tls_server.clear()
    tls_server.expect_request("/hook", method="POST").respond_with_data("ok")
    url = tls_server.url_for("/hook")
    assert url.startswith("https://")
    out = flux_magic.endpoint(url, concurrency=concurrency, retries=2, backoff=0.01)(body)(frame())
    assert out["_sent"].tolist() == ["false", "false"]
    assert out["_status"].tolist() == ["", ""]
    assert out["_error"].str.startswith("TLS certificate verification failed").all()
    assert out["_error"].str.contains("verify=False").all()
    assert out["_attempts"].tolist() == [1, 1]  # the same certificate would come back
    assert len(tls_server.log) == 0


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_verify_false_sends_and_warns(concurrency: int, tls_server: HTTPServer) -> None:
    tls_server.clear()
    tls_server.expect_request("/hook", method="POST").respond_with_data("ok")
    with pytest.warns(UserWarning, match="verify=False: TLS certificates are not checked"):
        sender = flux_magic.endpoint(
            tls_server.url_for("/hook"), concurrency=concurrency, verify=False
        )(body)
    out = sender(frame())
    assert out["_sent"].tolist() == ["true", "true"]
    assert sorted(req.get_data() for req, _ in tls_server.log) == [b"0", b"1"]
