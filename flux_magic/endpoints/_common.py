"""What every notification endpoint shares: the sender it builds, Flux's value formatting and
JSON encoding, code-point truncation, field checks and single-shot sends."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from flux_magic._endpoint import Endpoint, Hooks, Sender
from flux_magic._errors import EndpointError, UsageError
from flux_magic._flux._values import (
    Duration,
    format_duration,
    format_float,
    format_time,
    from_python,
    json_encode,
)
from flux_magic._options import Options

__all__ = [
    "Build",
    "ServiceEndpoint",
    "ServiceError",
    "cut",
    "encode",
    "field",
    "flux_string",
    "nanoseconds",
    "options_2xx",
    "post_once",
    "secrets_of",
]

Build = Callable[[Mapping[str, Any], Mapping[Any, Any]], tuple[dict[str, str], bytes]]
"""``build(record, row) -> (headers, body)``: the request a Flux package makes for a record."""

#: Answer bytes kept for a package that reads the service's answer.
ANSWER_BYTES = 16 * 1024


class ServiceError(ValueError):
    """A record the Flux package would refuse (a missing field, a bad color, ...)."""


def options_2xx(options: dict[str, Any]) -> Options:
    """Sending options for a notification endpoint: any 2xx counts as sent, as in Flux."""
    return Options.from_kwargs(**{"sent_when": "2xx", **options})


def secrets_of(*values: Any) -> tuple[str, ...]:
    """The configured credentials worth masking (strings of 3 characters or more)."""
    return tuple(v for v in values if isinstance(v, str) and len(v) >= 3)


def flux_string(value: Any) -> str | None:
    """Flux's ``string(v:)`` of a basic value (null stays null)."""
    value = from_python(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, pd.Timestamp):
        return format_time(value)
    if isinstance(value, Duration):
        return format_duration(value)
    if value is None:
        return None
    raise ServiceError(f"cannot convert {type(value).__name__} {value!r} to a string")


def encode(value: Any) -> bytes:
    """Flux's ``json.encode(v:)``: compact, keys sorted, ``<>&`` escaped, times RFC 3339."""
    try:
        return json_encode(from_python(value))
    except ValueError as exc:
        raise ServiceError(str(exc)) from None


def cut(text: str, limit: int) -> str:
    """The first ``limit`` code points of ``text`` (Flux's ``strings.substring``)."""
    return text[:limit]


def nanoseconds(value: Any, name: str, package: str) -> int:
    """Flux's ``uint(v: time)``: nanoseconds since the Unix epoch of a time value."""
    if isinstance(value, str):
        try:
            value = pd.Timestamp(value)
        except ValueError:
            raise ServiceError(
                f"{package}: {name} must be a time, e.g. r._time or now(), not {value!r}"
            ) from None
    if isinstance(value, pd.Timestamp | _dt.datetime | np.datetime64):
        ts = pd.Timestamp(value)
        ns = int((ts.tz_localize("UTC") if ts.tzinfo is None else ts).value)
    elif isinstance(value, int | np.integer) and not isinstance(value, bool):
        ns = int(value)
    else:
        raise ServiceError(
            f"{package}: {name} must be a time, e.g. r._time or now(), not {value!r}"
        )
    if ns < 0:
        raise ServiceError(f"{package}: {name} {value!r} is before 1970 and cannot be a uint")
    return ns


def field(
    record: Mapping[str, Any],
    name: str,
    package: str,
    needed: Iterable[str],
    default: Any = ...,
    *,
    nullable: bool = False,
) -> Any:
    """``record[name]``; a missing required field is Flux's error, with the fix.
    ``nullable``: a field present with a null value is that null (Flux passes it on)."""
    if name in record and (record[name] is not None or nullable):
        return record[name]
    if default is not ...:
        return default
    fields = ", ".join(needed)
    raise ServiceError(
        f"{package}: the mapping function's record has no {name!r}; it must give {fields}"
    )


class ServiceEndpoint(Endpoint):
    """A Flux notification endpoint waiting for its mapping function.

    ``ServiceEndpoint(mapFn)`` returns a ``Sender`` whose mapping function is ``mapFn``
    followed by the package's request builder.
    """

    def __init__(
        self,
        package: str,
        url: str,
        build: Build,
        options: Options,
        *,
        hooks: Hooks | None = None,
    ) -> None:
        self.package = package
        self.build = build
        self.hooks = hooks or Hooks()
        try:
            super().__init__(url, options)
        except UsageError as exc:  # the URL may carry the token (Telegram, Discord)
            raise UsageError(f"{package}: {self.hooks.mask(str(exc))}") from None

    def __call__(
        self,
        map_fn: Callable[[Any], Any] | None = None,
        /,
        *,
        mapFn: Callable[[Any], Any] | None = None,
        **kwargs: Any,
    ) -> Sender:
        plain = super().__call__(map_fn, mapFn=mapFn, **kwargs)
        user_fn = plain.map_fn
        package, build = self.package, self.build

        def mapping(row: Mapping[Any, Any]) -> dict[str, Any]:
            record = user_fn(row)
            if not isinstance(record, Mapping):
                raise ServiceError(
                    f"{package}: the mapping function must return a dict of the package's "
                    f"fields, not {type(record).__name__}"
                )
            headers, body = build(record, row)
            return {"headers": headers, "data": body}

        mapping.__name__ = getattr(user_fn, "__name__", "mapping")
        return Sender(self.url, mapping, self.options, hooks=self.hooks)

    def __repr__(self) -> str:
        return f"{self.package}.endpoint(url={self.hooks.mask(self.url)!r})"


def post_once(service: ServiceEndpoint, record: Mapping[str, Any]) -> int:
    """Send ``record`` once now (Flux's single-shot functions such as ``slack.message``);
    returns the HTTP status code. A failure raises ``EndpointError``, as Flux stops there."""
    sender = service(lambda r: record)
    strict = Sender(
        sender.url, sender.map_fn, sender.options.replace(errors="raise"), hooks=sender.hooks
    )
    try:
        result = strict(pd.DataFrame({"_row": [0]}))
    except EndpointError as exc:
        raise EndpointError(
            f"{service.package}: the request failed: {exc.reason}",
            result=exc.result,
            row=exc.row,
            position=exc.position,
            reason=exc.reason,
        ) from None
    status = str(result["_status"].iloc[0]) if "_status" in result.columns else ""
    return int(status) if status else 0
