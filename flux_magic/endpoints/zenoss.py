"""Flux's ``contrib/bonitoo-io/zenoss`` package: ``endpoint`` and ``event``.

Each row is ``{"action":...,"data":[{"collector":...,"component":...,"device":...,
"evclass":...,"evclasskey":...,"message":...,"severity":...,"summary":...}],"method":...,
"tid":...,"type":...}`` (json.encode: keys sorted) with ``Content-Type: application/json``
and either ``Z-Api-Key: <apiKey>`` (when an API key is given) or ``Authorization: Basic ...``.
Any 2xx is sent.
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

__all__ = ["endpoint", "event"]

PATH = "contrib/bonitoo-io/zenoss"
FIELDS = ("severity",)
OPTIONAL: tuple[str, ...] = (
    "summary",
    "device",
    "component",
    "eventClass",
    "eventClassKey",
    "collector",
    "message",
)


def endpoint(
    *,
    url: str,
    username: str = "",
    password: str = "",
    apiKey: str = "",
    action: str = "EventsRouter",
    method: str = "add_event",
    type: str = "rpc",
    tid: int = 1,
    **options: Any,
) -> ServiceEndpoint:
    """Flux's ``zenoss.endpoint(url:, username:, password:, apiKey:, action:, method:, type:,
    tid:)``: one event per row.

    The mapping function returns severity (Critical, Warning, Info, Clear) and summary,
    device, component, eventClass, eventClassKey, collector, message.

    Examples
    --------
    >>> import pandas as pd
    >>> from flux_magic.endpoints import zenoss
    >>> send = zenoss.endpoint(url="http://127.0.0.1:9/", apiKey="k3y")(
    ...     lambda r: {"severity": "Critical", "summary": "s"})
    >>> send.preview(pd.DataFrame({"a": [1]}))["body"][0]
    '{"action":"EventsRouter","data":[{"collector":"","component":"","device":"","evclass":"","evclasskey":"","message":"","severity":"Critical","summary":"s"}],"method":"add_event","tid":1,"type":"rpc"}'
    """
    headers = {"Content-Type": "application/json"}
    if apiKey != "":
        headers["Z-Api-Key"] = apiKey
    else:
        headers["Authorization"] = basicAuth(username, password)

    def build(record: Mapping[str, Any], row: Mapping[Any, Any]) -> tuple[dict[str, str], bytes]:
        where = "zenoss.endpoint"

        def opt(name: str) -> Any:
            return field(record, name, where, FIELDS, "")

        event = {
            "summary": opt("summary"),
            "device": opt("device"),
            "component": opt("component"),
            "severity": field(record, "severity", where, FIELDS),
            "evclass": opt("eventClass"),
            "evclasskey": opt("eventClassKey"),
            "collector": opt("collector"),
            "message": opt("message"),
        }
        body = encode(
            {"action": action, "method": method, "data": [event], "type": type, "tid": tid}
        )
        return dict(headers), body

    hooks = Hooks(secrets=secrets_of(password, apiKey))
    return ServiceEndpoint("zenoss", url, build, options_2xx(options), hooks=hooks)


def event(
    *,
    url: str,
    severity: str,
    username: str = "",
    password: str = "",
    apiKey: str = "",
    action: str = "EventsRouter",
    method: str = "add_event",
    type: str = "rpc",
    tid: int = 1,
    summary: str = "",
    device: str = "",
    component: str = "",
    eventClass: str = "",
    eventClassKey: str = "",
    collector: str = "",
    message: str = "",
    **options: Any,
) -> int:
    """Flux's ``zenoss.event``: send one event now; returns the HTTP status code."""
    service = endpoint(
        url=url,
        username=username,
        password=password,
        apiKey=apiKey,
        action=action,
        method=method,
        type=type,
        tid=tid,
        **options,
    )
    record = {
        "severity": severity,
        "summary": summary,
        "device": device,
        "component": component,
        "eventClass": eventClass,
        "eventClassKey": eventClassKey,
        "collector": collector,
        "message": message,
    }
    return post_once(service, record)


CONFIG_DOCS = {
    "url": "Zenoss router endpoint URL (.../zport/dmd/evconsole_router).",
    "username": "Zenoss user (HTTP Basic authentication).",
    "password": "Zenoss password (HTTP Basic authentication).",
    "apiKey": "Zenoss Cloud API key; when given it is used instead of Basic authentication.",
    "action": "Zenoss router name.",
    "method": "EventsRouter method.",
    "type": "Event type.",
    "tid": "Temporary request transaction ID.",
}
SECRETS = frozenset({"password", "apiKey"})
TEMPLATE = """lambda r: {
    "summary": f"{r._check_name} on {r.host}",
    "device": r.host,
    "component": r._measurement,
    "severity": {"crit": "Critical", "warn": "Warning", "info": "Info"}.get(r._level, "Clear"),
    "eventClass": "/App",
    "eventClassKey": "",
    "collector": "",
    "message": r._message,
}"""
FLUX_TEMPLATE = """(r) => ({
    summary: "${r._check_name} on ${r.host}",
    device: r.host,
    component: r._measurement,
    severity: if r._level == "crit" then "Critical" else "Warning",
    eventClass: "/App",
    eventClassKey: "",
    collector: "",
    message: r._message,
})"""
