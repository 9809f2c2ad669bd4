"""Shared pieces of the reliability suite: a fault-injecting handler for the embedded Receiver
and a loopback TLS server with a self-signed certificate."""

from __future__ import annotations

import datetime
import ipaddress
import random
import ssl
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_httpserver import HTTPServer

from flux_magic import Received, Reply

from .hostile import HostileServer, Scenario

#: Fault kinds the receiver can be told to produce for a row.
OK = "ok"  # 200, answered at once
ERROR_500 = "500"
SLOW = "slow"  # answered after SLOW_DELAY, past the client's timeout
RESET = "reset"  # TCP RST before answering
DROP = "drop"  # connection closed before answering
CUT = "cut"  # headers and half the body, then closed
MAPPING = "mapping"  # the mapping function raises for this row: never sent

TIMEOUT = 0.5
SLOW_DELAY = 1.0


def row_id(i: int) -> str:
    return f"row-{i:05d}"


@dataclass
class FaultPlan:
    """Which fault each row gets, and what the receiver actually did, per row id.

    ``transient`` rows fail only on their first attempt (then answer 200), for the retry runs.
    """

    kinds: dict[str, str]
    transient: frozenset[str] = frozenset()
    log: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    keys: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(
        cls, n: int, counts: dict[str, int], *, seed: int, transient_share: float = 0.0
    ) -> FaultPlan:
        rng = random.Random(seed)
        kinds = [k for k, c in counts.items() for _ in range(c)]
        kinds += [OK] * (n - len(kinds))
        rng.shuffle(kinds)
        plan = {row_id(i): k for i, k in enumerate(kinds)}
        faulty = [r for r, k in plan.items() if k not in (OK, MAPPING)]
        transient = frozenset(rng.sample(faulty, int(len(faulty) * transient_share)))
        return cls(plan, transient)

    def handler(self, req: Received) -> Reply:
        rid = req.body.decode()
        kind = self.kinds[rid]
        with self.lock:
            attempt = len(self.log[rid])
            if rid in self.transient and attempt > 0:
                kind = OK
            self.log[rid].append(kind)
            self.keys[rid].append(req.headers.get("Idempotency-Key", ""))
        return reply_for(kind)

    @property
    def injected(self) -> int:
        """Faulty answers the receiver gave (every attempt counts)."""
        return sum(k not in (OK,) for kinds in self.log.values() for k in kinds)


def reply_for(kind: str) -> Reply:
    if kind == OK:
        return Reply(200)
    if kind == ERROR_500:
        return Reply(500, body=b"boom")
    if kind == SLOW:
        return Reply(200, delay=SLOW_DELAY)
    if kind == RESET:
        return Reply(200, fault="reset")
    if kind == DROP:
        return Reply(200, fault="drop")
    if kind == CUT:
        return Reply(200, body_size=4096, fault="cut")
    raise AssertionError(kind)


# ------------------------------------------------------------------ self-signed TLS
@dataclass(frozen=True)
class CertFiles:
    cert: Path
    key: Path


def make_self_signed(
    directory: Path, names: tuple[str, ...] = ("localhost", "127.0.0.1"), stem: str = "cert"
) -> CertFiles:
    """A self-signed certificate for ``names`` (host names or IP literals), made with
    ``cryptography``; by default for localhost / 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    alt: list[x509.GeneralName] = []
    for host in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt.append(x509.DNSName(host))
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .sign(key, hashes.SHA256())
    )
    files = CertFiles(directory / f"{stem}.pem", directory / f"{stem}-key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@pytest.fixture(scope="session")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HTTPServer]:
    """A real HTTPS server on 127.0.0.1 with a self-signed certificate."""
    files = make_self_signed(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.cert, files.key)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


# ------------------------------------------------------------------ scripted hostile servers
@dataclass(frozen=True)
class HostileTLS:
    """The server side of the hostile servers' TLS, and the CA bundle clients verify with."""

    server: ssl.SSLContext
    ca_bundle: str


@pytest.fixture(scope="session")
def hostile_tls(tmp_path_factory: pytest.TempPathFactory) -> HostileTLS:
    files = make_self_signed(tmp_path_factory.mktemp("hostile-tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.cert, files.key)
    return HostileTLS(context, str(files.cert))


@pytest.fixture
def hostile(hostile_tls: HostileTLS) -> Iterator[Callable[..., HostileServer]]:
    """``hostile(scenario, tls=False)``: a scripted server (``hostile.HostileServer``) playing
    ``scenario`` on every connection; stopped after the test."""
    servers: list[HostileServer] = []

    def make(scenario: Scenario, *, tls: bool = False) -> HostileServer:
        servers.append(HostileServer(scenario, hostile_tls.server if tls else None))
        return servers[-1]

    yield make
    for server in servers:
        server.close()
