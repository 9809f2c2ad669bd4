"""Flux's ``contrib/sranka/sensu`` package: ``endpoint``, ``event`` and ``toSensuName``.

Each row is one POST to ``url + "/api/core/v2/namespaces/" + namespace + "/events"`` with
(json.encode: keys sorted)::

    {"check":{"handlers":[...],"interval":60,"metadata":{"name":<toSensuName(checkName)>},
              "output":<text>,"state":"passing"|"failing","status":<status>},
     "entity":{"entity_class":"proxy","metadata":{"name":<toSensuName(entityName)>}}}

``state`` is "passing" for status 0, else "failing". Headers
``Content-Type: application/json; charset=utf-8`` and ``Authorization: Key <apiKey>``. Any
2xx is sent; as in Flux the result has ``_sent`` but no ``_status``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from flux_magic._endpoint import Hooks
from flux_magic._flux._values import from_python
from flux_magic.endpoints._common import (
    ServiceEndpoint,
    ServiceError,
    encode,
    field,
    options_2xx,
    post_once,
    secrets_of,
)

__all__ = ["endpoint", "event", "toSensuName"]

PATH = "contrib/sranka/sensu"
FIELDS = ("checkName", "text", "status")
_NOT_IN_NAME = re.compile(r"[^a-zA-Z0-9_.\-]")


def toSensuName(v: str) -> str:
    """``v`` with every character other than ``[a-zA-Z0-9_.-]`` replaced by ``_`` ("" -> "_").

    Examples
    --------
    >>> toSensuName("Example name conversion")
    'Example_name_conversion'
    """
    if not isinstance(v, str):
        raise ServiceError(f"sensu.toSensuName: v must be a string, not {v!r}")
    return _NOT_IN_NAME.sub("_", v) if v else "_"


def event_body(
    *,
    checkName: str,
    text: str,
    handlers: Sequence[str] = (),
    status: int = 0,
    state: str = "",
    entityName: str = "influxdb",
) -> bytes:
    """The body Flux's ``sensu.event`` posts."""
    status = from_python(status)  # numpy integers too
    if isinstance(status, bool) or not isinstance(status, int):
        raise ServiceError(
            f"sensu: status must be an integer (0 OK, 1 WARNING, 2 CRITICAL), not {status!r}"
        )
    return encode(
        {
            "entity": {"entity_class": "proxy", "metadata": {"name": toSensuName(entityName)}},
            "check": {
                "output": text,
                "state": state if state != "" else ("passing" if status == 0 else "failing"),
                "status": int(status),
                "handlers": list(handlers),
                "interval": 60,
                "metadata": {"name": toSensuName(checkName)},
            },
        }
    )


def _drop_status(result: pd.DataFrame) -> pd.DataFrame:
    return result.drop(columns="_status") if "_status" in result.columns else result


def endpoint(
    *,
    url: str,
    apiKey: str,
    handlers: Sequence[str] = (),
    namespace: str = "default",
    entityName: str = "influxdb",
    **options: Any,
) -> ServiceEndpoint:
    """Flux's ``sensu.endpoint(url:, apiKey:, handlers:, namespace:, entityName:)``.

    The mapping function returns ``{"checkName": ..., "text": ..., "status": ...}``.

    Examples
    --------
    >>> import pandas as pd
    >>> from flux_magic.endpoints import sensu
    >>> send = sensu.endpoint(url="http://127.0.0.1:9", apiKey="k3y")(
    ...     lambda r: {"checkName": "disk usage", "text": "full", "status": 2})
    >>> send.preview(pd.DataFrame({"a": [1]}))["url"][0]
    'http://127.0.0.1:9/api/core/v2/namespaces/default/events'
    """
    headers = {"Content-Type": "application/json; charset=utf-8", "Authorization": f"Key {apiKey}"}
    handler_list = list(handlers)

    def build(record: Mapping[str, Any], row: Mapping[Any, Any]) -> tuple[dict[str, str], bytes]:
        body = event_body(
            checkName=field(record, "checkName", "sensu.endpoint", FIELDS),
            text=field(record, "text", "sensu.endpoint", FIELDS),
            handlers=handler_list,
            status=field(record, "status", "sensu.endpoint", FIELDS),
            entityName=entityName,
        )
        return dict(headers), body

    target = f"{url}/api/core/v2/namespaces/{namespace}/events"
    hooks = Hooks(secrets=secrets_of(apiKey), finish=_drop_status)
    return ServiceEndpoint("sensu", target, build, options_2xx(options), hooks=hooks)


def event(
    *,
    url: str,
    apiKey: str,
    checkName: str,
    text: str,
    handlers: Sequence[str] = (),
    status: int = 0,
    state: str = "",
    namespace: str = "default",
    entityName: str = "influxdb",
    **options: Any,
) -> int:
    """Flux's ``sensu.event``: send one event now; returns the HTTP status code."""
    service = endpoint(
        url=url,
        apiKey=apiKey,
        handlers=handlers,
        namespace=namespace,
        entityName=entityName,
        **options,
    )
    if state:
        body = event_body(
            checkName=checkName,
            text=text,
            handlers=handlers,
            status=status,
            state=state,
            entityName=entityName,
        )
        plain = service.build
        service.build = lambda record, row: (plain(record, row)[0], body)
    return post_once(service, {"checkName": checkName, "text": text, "status": status})


CONFIG_DOCS = {
    "url": "Sensu API base URL, without a trailing slash, e.g. http://localhost:8080.",
    "apiKey": "Sensu API key (sent as 'Authorization: Key ...').",
    "handlers": "Sensu handlers to run for each event.",
    "namespace": "Sensu namespace.",
    "entityName": "Event source; characters other than [a-zA-Z0-9_.-] become _.",
}
SECRETS = frozenset({"apiKey"})
TEMPLATE = """lambda r: {
    "checkName": r._check_name,
    "text": r._message,
    "status": {"ok": 0, "warn": 1, "crit": 2}.get(r._level, 3),
}"""
FLUX_TEMPLATE = """(r) => ({
    checkName: r._check_name,
    text: r._message,
    status: if r._level == "crit" then 2 else if r._level == "warn" then 1 else 0,
})"""
