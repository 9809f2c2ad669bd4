"""Flux's ``contrib/bonitoo-io/victorops`` package (Splunk On-Call): ``endpoint`` and ``alert``.

Each row is ``{"entity_display_name":...,"entity_id":...,"message_type":...,
"monitoring_tool":...,"state_message":...,"state_start_time":<Unix seconds>}`` (json.encode:
keys sorted; the timestamp's nanoseconds divided by 10^9, rounded down) with
``Content-Type: application/json``. The REST endpoint URL carries the API and routing keys
in its path (``.../alert/<api_key>/<routing_key>``); both are masked wherever the URL is
shown. Any 2xx is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from flux_magic._endpoint import Hooks
from flux_magic._secrets import secret_values
from flux_magic.endpoints._common import (
    ServiceEndpoint,
    encode,
    field,
    nanoseconds,
    options_2xx,
    post_once,
)

__all__ = ["alert", "endpoint"]

PATH = "contrib/bonitoo-io/victorops"
FIELDS = ("messageType", "entityID", "entityDisplayName", "stateMessage", "timestamp")
HEADERS = {"Content-Type": "application/json"}


def alert_body(record: Mapping[str, Any], monitoringTool: str, where: str) -> bytes:
    """The body Flux's ``victorops.alert`` posts for a record of its parameters."""
    stamp = field(record, "timestamp", where, FIELDS)
    return encode(
        {
            "message_type": field(record, "messageType", where, FIELDS),
            "entity_id": field(record, "entityID", where, FIELDS, ""),
            "entity_display_name": field(record, "entityDisplayName", where, FIELDS, ""),
            "state_message": field(record, "stateMessage", where, FIELDS, ""),
            "state_start_time": nanoseconds(stamp, "timestamp", where) // 1_000_000_000,
            "monitoring_tool": monitoringTool,
        }
    )


def endpoint(*, url: str, monitoringTool: str = "InfluxDB", **options: Any) -> ServiceEndpoint:
    """Flux's ``victorops.endpoint(url:, monitoringTool:)``: one alert per row.

    The mapping function returns messageType (CRITICAL, WARNING, INFO), entityID,
    entityDisplayName, stateMessage and timestamp (a time).

    Examples
    --------
    >>> import pandas as pd
    >>> from flux_magic.endpoints import victorops
    >>> send = victorops.endpoint(url="http://127.0.0.1:9/")(lambda r: {
    ...     "messageType": "CRITICAL", "entityID": "e", "entityDisplayName": "E",
    ...     "stateMessage": "m", "timestamp": r._time})
    >>> df = pd.DataFrame({"_time": [pd.Timestamp("2021-01-01T00:00:01.9Z")]})
    >>> send.preview(df)["body"][0]
    '{"entity_display_name":"E","entity_id":"e","message_type":"CRITICAL","monitoring_tool":"InfluxDB","state_message":"m","state_start_time":1609459201}'
    """

    def build(record: Mapping[str, Any], row: Mapping[Any, Any]) -> tuple[dict[str, str], bytes]:
        return dict(HEADERS), alert_body(record, monitoringTool, "victorops.endpoint")

    hooks = Hooks(secrets=tuple(secret_values(url)))
    return ServiceEndpoint("victorops", url, build, options_2xx(options), hooks=hooks)


def alert(
    *,
    url: str,
    messageType: str,
    entityID: str = "",
    entityDisplayName: str = "",
    stateMessage: str = "",
    timestamp: Any = None,
    monitoringTool: str = "InfluxDB",
    **options: Any,
) -> int:
    """Flux's ``victorops.alert``: send one alert now (timestamp default now()); the status."""
    record = {
        "messageType": messageType,
        "entityID": entityID,
        "entityDisplayName": entityDisplayName,
        "stateMessage": stateMessage,
        "timestamp": pd.Timestamp.now(tz="UTC") if timestamp is None else timestamp,
    }
    return post_once(endpoint(url=url, monitoringTool=monitoringTool, **options), record)


CONFIG_DOCS = {
    "url": "REST endpoint integration URL, .../alert/<api_key>/<routing_key> (credentials).",
    "monitoringTool": "Monitoring tool name sent with each alert.",
}
SECRETS = frozenset({"url"})
TEMPLATE = """lambda r: {
    "messageType": {"crit": "CRITICAL", "warn": "WARNING"}.get(r._level, "INFO"),
    "entityID": f"{r._check_id}-{r.host}",
    "entityDisplayName": f"{r._check_name} on {r.host}",
    "stateMessage": r._message,
    "timestamp": r._time,
}"""
FLUX_TEMPLATE = """(r) => ({
    messageType: if r._level == "crit" then "CRITICAL" else "WARNING",
    entityID: "${r._check_id}-${r.host}",
    entityDisplayName: "${r._check_name} on ${r.host}",
    stateMessage: r._message,
    timestamp: r._time,
})"""
