"""Flux's ``contrib/bonitoo-io/servicenow`` package: ``endpoint`` and ``event``.

Each row is ``{"records":[{"additional_info":...,"description":...,"message_key":...,
"metric_name":...,"node":...,"resource":...,"severity":...,"source":...,"type":...}]}``
(json.encode: keys sorted). Severities map to ServiceNow's codes: critical "1", major "2",
minor "3", warning "4", info "5", clear "0", anything else "". ``additional_info`` is the
JSON text of ``additionalInfo`` (a string), or "" when there is none. Headers
``Authorization: Basic ...`` and ``Content-Type: application/json``. Any 2xx is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flux_magic._endpoint import Hooks
from flux_magic.endpoints._common import (
    ServiceEndpoint,
    encode,
    field,
    options_2xx,
    post_once,
    secrets_of,
)
from flux_magic.endpoints.http import basicAuth

__all__ = ["SEVERITIES", "endpoint", "event"]

PATH = "contrib/bonitoo-io/servicenow"
FIELDS = ("description", "severity")
OPTIONAL = ("node", "metricType", "resource", "metricName", "messageKey", "additionalInfo")
SEVERITIES = {"critical": "1", "major": "2", "minor": "3", "warning": "4", "info": "5"}
SEVERITIES["clear"] = "0"


def event_body(record: Mapping[str, Any], source: str, where: str) -> bytes:
    """The body Flux's ``servicenow.event`` posts for a record of its parameters."""
    info = record.get("additionalInfo")
    severity = field(record, "severity", where, FIELDS)
    return encode(
        {
            "records": [
                {
                    "source": source,
                    "node": field(record, "node", where, FIELDS, ""),
                    "type": field(record, "metricType", where, FIELDS, ""),
                    "resource": field(record, "resource", where, FIELDS, ""),
                    "metric_name": field(record, "metricName", where, FIELDS, ""),
                    "message_key": field(record, "messageKey", where, FIELDS, ""),
                    "description": field(record, "description", where, FIELDS),
                    "severity": SEVERITIES.get(severity, "") if isinstance(severity, str) else "",
                    "additional_info": "" if info is None else encode(info).decode("utf-8"),
                }
            ]
        }
    )


def endpoint(
    *, url: str, username: str, password: str, source: str = "Flux", **options: Any
) -> ServiceEndpoint:
    """Flux's ``servicenow.endpoint(url:, username:, password:, source:)``: one event per row.

    The mapping function returns description and severity, and optionally node, metricType,
    resource, metricName, messageKey and additionalInfo (a dict).

    Examples
    --------
    >>> import pandas as pd
    >>> from flux_magic.endpoints import servicenow
    >>> send = servicenow.endpoint(url="http://127.0.0.1:9/", username="u", password="pw")(
    ...     lambda r: {"description": "d", "severity": "major", "additionalInfo": {"a": 1}})
    >>> send.preview(pd.DataFrame({"a": [1]}))["body"][0]
    '{"records":[{"additional_info":"{\\\\"a\\\\":1}","description":"d","message_key":"","metric_name":"","node":"","resource":"","severity":"2","source":"Flux","type":""}]}'
    """
    headers = {"Authorization": basicAuth(username, password), "Content-Type": "application/json"}

    def build(record: Mapping[str, Any], row: Mapping[Any, Any]) -> tuple[dict[str, str], bytes]:
        return dict(headers), event_body(record, source, "servicenow.endpoint")

    hooks = Hooks(secrets=secrets_of(password))
    return ServiceEndpoint("servicenow", url, build, options_2xx(options), hooks=hooks)


def event(
    *,
    url: str,
    username: str,
    password: str,
    description: str,
    severity: str,
    source: str = "Flux",
    node: str = "",
    metricType: str = "",
    resource: str = "",
    metricName: str = "",
    messageKey: str = "",
    additionalInfo: Mapping[str, Any] | None = None,
    **options: Any,
) -> int:
    """Flux's ``servicenow.event``: send one event now; returns the HTTP status code."""
    record = {
        "description": description,
        "severity": severity,
        "node": node,
        "metricType": metricType,
        "resource": resource,
        "metricName": metricName,
        "messageKey": messageKey,
        "additionalInfo": additionalInfo,
    }
    service = endpoint(url=url, username=username, password=password, source=source, **options)
    return post_once(service, record)


CONFIG_DOCS = {
    "url": "ServiceNow event web service URL (.../api/global/em/jsonv2).",
    "username": "ServiceNow user (HTTP Basic authentication).",
    "password": "ServiceNow password (HTTP Basic authentication).",
    "source": "Source name of the events.",
}
SECRETS = frozenset({"password"})
TEMPLATE = """lambda r: {
    "description": r._message,
    "severity": {"crit": "critical", "warn": "warning", "ok": "clear"}.get(r._level, "info"),
    "node": r.host,
    "metricType": r._measurement,
    "resource": r.host,
    "metricName": r._field,
    "messageKey": r._check_id,
}"""
FLUX_TEMPLATE = """(r) => ({
    description: r._message,
    severity: if r._level == "crit" then "critical" else "warning",
    node: r.host,
    metricType: r._measurement,
    resource: r.host,
    metricName: r._field,
    messageKey: r._check_id,
})"""
