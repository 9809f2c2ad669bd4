"""Flux's ``contrib/bonitoo-io/alerta`` package: ``endpoint`` and ``alert``.

Each row is ``{"attributes":...,"createTime":...,"environment":...,"event":...,"group":...,
"origin":...,"resource":...,"service":[...],"severity":...,"tags":[...],"text":...,
"type":...,"value":...}`` (json.encode: keys sorted). ``createTime`` is the timestamp with
milliseconds (``YYYY-MM-DDThh:mm:ss.sssZ``: Flux cuts ``string(v: timestamp)`` after 23
characters and appends "Z"). Headers ``Authorization: Key <apiKey>`` and
``Content-Type: application/json``. Any 2xx is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from flux_magic._endpoint import Hooks
from flux_magic.endpoints._common import (
    ServiceEndpoint,
    ServiceError,
    encode,
    field,
    flux_string,
    options_2xx,
    post_once,
    secrets_of,
)

__all__ = ["alert", "create_time", "endpoint"]

PATH = "contrib/bonitoo-io/alerta"
FIELDS = (
    "resource",
    "event",
    "severity",
    "service",
    "group",
    "value",
    "text",
    "tags",
    "attributes",
    "type",
    "timestamp",
)


def create_time(timestamp: Any) -> str:
    """Alerta's ``createTime``: ``string(v: timestamp)`` cut to 23 characters, plus "Z".

    Examples
    --------
    >>> import pandas as pd
    >>> create_time(pd.Timestamp("2021-01-01T10:20:30.123456789Z"))
    '2021-01-01T10:20:30.123Z'
    """
    text = flux_string(timestamp)
    if text is None:
        raise ServiceError("alerta: timestamp is null; give a time such as r._time or now()")
    return text[:23] + "Z"


def alert_body(record: Mapping[str, Any], environment: str, origin: str, where: str) -> bytes:
    """The body Flux's ``alerta.alert`` posts for a record of its parameters."""
    return encode(
        {
            "resource": field(record, "resource", where, FIELDS),
            "event": field(record, "event", where, FIELDS),
            "environment": environment,
            "severity": field(record, "severity", where, FIELDS),
            "service": field(record, "service", where, FIELDS, []),
            "group": field(record, "group", where, FIELDS, ""),
            "value": field(record, "value", where, FIELDS, ""),
            "text": field(record, "text", where, FIELDS, ""),
            "tags": field(record, "tags", where, FIELDS, []),
            "attributes": field(record, "attributes", where, FIELDS),
            "origin": origin,
            "type": field(record, "type", where, FIELDS, ""),
            "createTime": create_time(field(record, "timestamp", where, FIELDS)),
        }
    )


def endpoint(
    *, url: str, apiKey: str, environment: str = "", origin: str = "", **options: Any
) -> ServiceEndpoint:
    """Flux's ``alerta.endpoint(url:, apiKey:, environment:, origin:)``: one alert per row.

    The mapping function returns resource, event, severity, service, group, value, text,
    tags, attributes, type and timestamp.

    Examples
    --------
    >>> import pandas as pd
    >>> from flux_magic.endpoints import alerta
    >>> send = alerta.endpoint(url="http://127.0.0.1:9/alert", apiKey="k3y")(lambda r: {
    ...     "resource": "h", "event": "e", "severity": "major", "service": ["s"],
    ...     "group": "g", "value": "v", "text": "t", "tags": [], "attributes": {},
    ...     "type": "x", "timestamp": r._time})
    >>> df = pd.DataFrame({"_time": [pd.Timestamp("2021-01-01T00:00:00.5Z")]})
    >>> send.preview(df)["body"][0][:57]
    '{"attributes":{},"createTime":"2021-01-01T00:00:00.500Z",'
    """
    headers = {"Authorization": f"Key {apiKey}", "Content-Type": "application/json"}

    def build(record: Mapping[str, Any], row: Mapping[Any, Any]) -> tuple[dict[str, str], bytes]:
        return dict(headers), alert_body(record, environment, origin, "alerta.endpoint")

    hooks = Hooks(secrets=secrets_of(apiKey))
    return ServiceEndpoint("alerta", url, build, options_2xx(options), hooks=hooks)


def alert(
    *,
    url: str,
    apiKey: str,
    resource: str,
    event: str,
    severity: str,
    attributes: Mapping[str, Any],
    environment: str = "",
    service: list[str] | None = None,
    group: str = "",
    value: str = "",
    text: str = "",
    tags: list[str] | None = None,
    origin: str = "InfluxDB",
    type: str = "",
    timestamp: Any = None,
    **options: Any,
) -> int:
    """Flux's ``alerta.alert``: send one alert now (timestamp default now()); the status."""
    record = {
        "resource": resource,
        "event": event,
        "severity": severity,
        "service": service or [],
        "group": group,
        "value": value,
        "text": text,
        "tags": tags or [],
        "attributes": dict(attributes),
        "type": type,
        "timestamp": pd.Timestamp.now(tz="UTC") if timestamp is None else timestamp,
    }
    service_ = endpoint(url=url, apiKey=apiKey, environment=environment, origin=origin, **options)
    return post_once(service_, record)


CONFIG_DOCS = {
    "url": "Alerta alert API URL, e.g. https://alerta.example.com:8080/alert.",
    "apiKey": "Alerta API key (sent as 'Authorization: Key ...').",
    "environment": "Alerta environment: Production, Development or empty.",
    "origin": "Origin of the alerts.",
}
SECRETS = frozenset({"apiKey"})
TEMPLATE = """lambda r: {
    "resource": r.host,
    "event": r._check_name,
    "severity": {"crit": "critical", "warn": "warning"}.get(r._level, "ok"),
    "service": ["example-service"],
    "group": "example-group",
    "value": str(r._value),
    "text": r._message,
    "tags": [],
    "attributes": {},
    "type": "exampleAlertType",
    "timestamp": r._time,
}"""
FLUX_TEMPLATE = """(r) => ({
    resource: r.host,
    event: r._check_name,
    severity: if r._level == "crit" then "critical" else "warning",
    service: ["example-service"],
    group: "example-group",
    value: string(v: r._value),
    text: r._message,
    tags: [],
    attributes: {},
    type: "exampleAlertType",
    timestamp: r._time,
})"""
