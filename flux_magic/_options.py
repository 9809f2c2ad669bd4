"""The sending options, their defaults and their validation — in one place.

The Python API (`flux_magic.endpoint(url, **options)`), the ``%%flux_endpoint`` flags and the
widget all use these names and defaults.
"""

from __future__ import annotations

import math
import os
import ssl
import warnings
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from ._errors import UsageError
from ._policy import UrlPolicy, normalize_hosts

__all__ = ["DEFAULT_TIMEOUT", "OPTION_DOCS", "Options"]

DEFAULT_TIMEOUT = 30.0
MAX_RETRIES = 20

#: One line per option: the reference that README.md, the magic's help and the widget quote.
OPTION_DOCS: dict[str, str] = {
    "concurrency": "Requests in flight at once. 1 (default) sends one at a time, in row order, "
    "as Flux does; N > 1 uses a fixed pool of N workers. The result is always in row order.",
    "timeout": "Seconds allowed for each request (connect, send, answer). Default 30; None for "
    "no limit (Flux has none).",
    "sent_when": '"200" (default, Flux\'s http.endpoint: only status 200 counts as sent) or '
    '"2xx" (any 2xx counts, like Flux\'s slack/teams/... endpoints).',
    "errors": '"collect" (default): a failed row gets _sent "false" and a reason in _error, every '
    'other row still goes. "raise" (strict, Flux): the first failure raises EndpointError, which '
    "carries the rows sent so far.",
    "max_redirects": "Redirects followed per request (default 10, as Flux); 0 disables.",
    "max_response_bytes": "Response bodies are read and thrown away; past this many bytes "
    "(default 100 MB, as Flux) reading stops and _error says so.",
    "keep_response": "Keep the first N bytes of each response body in a _response column, for "
    "debugging (default 0: keep nothing).",
    "verify": "Verify TLS certificates (default True, against certifi's CA roots). A path to a "
    "CA bundle file or directory (e.g. a corporate CA) verifies against it instead; an "
    "ssl.SSLContext is used as given. False sends to self-signed servers and warns.",
    "retries": "Extra attempts per row (default 0: none, as Flux) on 429, 503 and failures "
    "before the request left (refused, DNS, connect timeout), with exponential "
    "backoff and jitter, honouring Retry-After. The result gains an _attempts column.",
    "retry_unknown": "Also retry failures after the request may have reached the server (a "
    "timeout waiting for the answer, a connection dropped or reset before or while answering). "
    "Default False: such a retry can deliver a row twice; pair it with idempotency_key=True. "
    "With it, a row whose reused connection closed before any answer is also sent once more "
    "on a fresh connection.",
    "backoff": "Seconds before the first retry (default 0.5); each further retry waits twice "
    "as long, plus random jitter up to this much, at most 30 s.",
    "idempotency_key": "Add an Idempotency-Key header so the server can drop duplicates "
    "(default False). The key is derived from the URL and the row's index label and content: "
    "the same on every retry of that row and in a later run of the same send. A key set by "
    "the mapping is kept. A keyed row whose reused connection closed before any answer is "
    "sent once more on a fresh connection, with the same key.",
    "rate": "At most this many requests per second across all workers, retries included "
    "(default None: no limit); e.g. rate=1 for Slack.",
    "block_private": "Refuse destinations that are not public (private, loopback, link-local, "
    "...) after DNS resolution and on every redirect, like Flux's hardened mode; for shared "
    "servers (default False). Proxies from the environment are then not used.",
    "allow_hosts": "Only these hosts may be contacted, checked on every redirect too: a list "
    "(or comma-separated string) of names, '*.example.com' for subdomains, or IP literals "
    "(default empty: any host). Proxies from the environment are then not used.",
    "journal": "Path of an SQLite journal of the send (default None: none). Each row's identity "
    "and Idempotency-Key are recorded before its request leaves, its outcome when known; "
    "running the same send again with the same journal resumes it: rows already sent are "
    "not sent again. With a journal, every request carries its Idempotency-Key.",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Options:
    """Validated sending options. See ``OPTION_DOCS`` for what each one means."""

    concurrency: int = 1
    timeout: float | None = DEFAULT_TIMEOUT
    sent_when: Literal["200", "2xx"] = "200"
    errors: Literal["collect", "raise"] = "collect"
    max_redirects: int = 10
    max_response_bytes: int = 100 * 1024 * 1024
    keep_response: int = 0
    verify: bool | str | ssl.SSLContext = True
    retries: int = 0
    retry_unknown: bool = False
    backoff: float = 0.5
    idempotency_key: bool = False
    rate: float | None = None
    block_private: bool = False
    allow_hosts: tuple[str, ...] = ()
    journal: str | None = None

    def __post_init__(self) -> None:
        _check_int("concurrency", self.concurrency, minimum=1)
        _check_int("max_redirects", self.max_redirects, minimum=0)
        _check_int("max_response_bytes", self.max_response_bytes, minimum=0)
        _check_int("keep_response", self.keep_response, minimum=0)
        if self.timeout is not None:
            if isinstance(self.timeout, bool) or not isinstance(self.timeout, int | float):
                raise UsageError(
                    f"timeout must be a number of seconds or None, not {self.timeout!r}."
                )
            if not math.isfinite(self.timeout) or self.timeout <= 0:
                raise UsageError(
                    f"timeout must be a positive number of seconds (or None for no limit), "
                    f"not {self.timeout!r}."
                )
        if str(self.sent_when) not in ("200", "2xx"):
            raise UsageError(
                f'sent_when must be "200" (Flux: only 200 counts) or "2xx", not {self.sent_when!r}.'
            )
        if self.errors not in ("collect", "raise"):
            raise UsageError(
                f'errors must be "collect" (report per row) or "raise" (strict, as Flux), '
                f"not {self.errors!r}."
            )
        _check_verify(self)
        for flag in ("retry_unknown", "idempotency_key", "block_private"):
            if not isinstance(getattr(self, flag), bool):
                raise UsageError(f"{flag} must be True or False, not {getattr(self, flag)!r}.")
        _check_int("retries", self.retries, minimum=0)
        if self.retries > MAX_RETRIES:
            raise UsageError(
                f"retries must be at most {MAX_RETRIES}, not {self.retries!r}; a row that "
                "fails that often will not get through by trying harder."
            )
        _check_seconds("backoff", self.backoff, allow_zero=True)
        if self.rate is not None:
            _check_seconds("rate", self.rate, allow_zero=False, unit="requests per second")
        # a list, set or comma-separated string becomes a normalised (hashable) tuple
        object.__setattr__(self, "allow_hosts", normalize_hosts(self.allow_hosts))
        object.__setattr__(self, "journal", _journal_path(self.journal))

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> Options:
        """Build options from keyword arguments, naming any unknown one."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise UsageError(
                f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                f"the options are: {', '.join(sorted(known))}."
            )
        if "sent_when" in kwargs and kwargs["sent_when"] == 200:
            kwargs["sent_when"] = "200"
        opts = cls(**kwargs)
        if not opts.verify:
            warnings.warn(
                "verify=False: TLS certificates are not checked; anyone on the path can read "
                "and change these requests.",
                stacklevel=3,
            )
        return opts

    def replace(self, **changes: Any) -> Options:
        """A copy with some options changed (validated again)."""
        return replace(self, **changes)

    @property
    def strict(self) -> bool:
        return self.errors == "raise"

    @property
    def policy(self) -> UrlPolicy:
        """The URL policy these options set (``block_private``, ``allow_hosts``)."""
        return UrlPolicy(block_private=self.block_private, allow_hosts=self.allow_hosts)


def _journal_path(value: object) -> str | None:
    """The journal option as a path string (``~`` expanded), or None for no journal."""
    if value is None:
        return None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise UsageError(
            f'journal must be the path of an SQLite file (e.g. "sends.sqlite") or None, '
            f"not {value!r}."
        )
    return os.path.expanduser(value.strip())


def _check_verify(options: Options) -> None:
    """``verify``: a bool, an ``ssl.SSLContext``, or a CA bundle path that loads."""
    value = options.verify
    if isinstance(value, bool | ssl.SSLContext):
        return
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
        object.__setattr__(options, "verify", value)
    if not isinstance(value, str) or not value:
        raise UsageError(
            "verify must be True, False, a path to a CA bundle (a PEM file or a directory) or "
            f"an ssl.SSLContext, not {value!r}."
        )
    try:
        if os.path.isdir(value):
            ssl.create_default_context(capath=value)
        else:
            ssl.create_default_context(cafile=value)
    except (OSError, ssl.SSLError) as exc:
        why = "does not exist" if isinstance(exc, FileNotFoundError) else "is not a CA bundle"
        raise UsageError(
            f"verify={value!r} {why}; give the path of a PEM file (or directory) of CA "
            "certificates, or True to use the default roots."
        ) from None


def _check_seconds(name: str, value: object, *, allow_zero: bool, unit: str = "seconds") -> None:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and (value >= 0 if allow_zero else value > 0)
    )
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        none = " (or None for no limit)" if name == "rate" else ""
        raise UsageError(f"{name} must be a number of {unit} {bound}{none}, not {value!r}.")


def _check_int(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UsageError(f"{name} must be a whole number >= {minimum}, not {value!r}.")
