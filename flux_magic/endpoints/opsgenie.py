"""Flux's ``contrib/sranka/opsgenie`` package: ``endpoint``, ``sendAlert``, ``respondersToJSON``.

The body is written as text, one field a line, in this order: message (cut to 130 code
points), alias (default: the message; 512), description (15000), responders, visibleTo (each
``user:x`` as ``{"type":"user","username":"x"}``, ``team:``/``escalation:``/``schedule:`` as
``{"type":...,"name":...}``), actions, tags, details (inserted as given: a JSON text), entity
(512), priority (2). Headers ``Content-Type: application/json; charset=utf-8`` and
``Authorization: GenieKey <apiKey>``; any 2xx is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flux_magic._endpoint import Hooks
from flux_magic.endpoints._common import (
    ServiceEndpoint,
    ServiceError,
    cut,
    encode,
    field,
    options_2xx,
    post_once,
    secrets_of,
)

__all__ = ["defaultURL", "endpoint", "respondersToJSON", "sendAlert"]

PATH = "contrib/sranka/opsgenie"
defaultURL = "https://api.opsgenie.com/v2/alerts"
FIELDS = (
    "message",
    "alias",
    "description",
    "priority",
    "responders",
    "tags",
    "actions",
    "details",
    "visibleTo",
)
_PREFIXES = (
    ("user:", "user", "username"),
    ("team:", "team", "name"),
    ("escalation:", "escalation", "name"),
    ("schedule:", "schedule", "name"),
)


def respondersToJSON(v: Sequence[str]) -> str:
    """Opsgenie responders as JSON: ``user:x`` -> ``{"type":"user","username":"x"}``, ``team:``,
    ``escalation:`` and ``schedule:`` -> ``{"type":...,"name":...}``.

    Examples
    --------
    >>> respondersToJSON(["user:john@example.com", "team:itcrowd"])
    '[{"type":"user","username":"john@example.com"},{"type":"team","name":"itcrowd"}]'
    """
    if isinstance(v, str) or not isinstance(v, Sequence):
        raise ServiceError(f"opsgenie: responders must be a list of strings, not {v!r}")
    items = []
    for item in v:
        if not isinstance(item, str):
            raise ServiceError(f"opsgenie: a responder must be a string, not {item!r}")
        for prefix, kind, key in _PREFIXES:
            if item.startswith(prefix):
                # struct field order: type first
                items.append(
                    '{"type":'
                    + encode(kind).decode()
                    + f',"{key}":'
                    + encode(item[len(prefix) :]).decode()
                    + "}"
                )
                break
        else:
            raise ServiceError(
                f'unsupported responder "{item}", it must start with one of '
                "['user:','team:','escalation:','schedule:']"
            )
    return "[" + ",".join(items) + "]"


def _cut_encode(value: Any, limit: int, default: str = "") -> str:
    text = value if isinstance(value, str) else ""
    if not isinstance(value, str):
        raise ServiceError(f"opsgenie: expected a string, not {value!r}")
    text = text if text else default
    return encode(cut(text, limit)).decode()


def alert_body(
    *,
    message: str,
    alias: str = "",
    description: str = "",
    priority: str = "P3",
    responders: Sequence[str] = (),
    tags: Sequence[Any] = (),
    entity: str = "",
    actions: Sequence[Any] = (),
    visibleTo: Sequence[str] = (),
    details: str = "{}",
) -> bytes:
    """The body Flux's ``opsgenie.sendAlert`` posts."""
    if not isinstance(details, str):
        raise ServiceError(
            f"opsgenie: details must be a JSON text such as '{{}}' (a string), not {details!r}"
        )
    return (
        "{\n"
        f'"message": {_cut_encode(message, 130)},\n'
        f'"alias": {_cut_encode(alias, 512, message)},\n'
        f'"description": {_cut_encode(description, 15000)},\n'
        f'"responders": {respondersToJSON(list(responders))},\n'
        f'"visibleTo": {respondersToJSON(list(visibleTo))},\n'
        f'"actions": {encode(list(actions)).decode()},\n'
        f'"tags": {encode(list(tags)).decode()},\n'
        f'"details": {details},\n'
        f'"entity": {_cut_encode(entity, 512)},\n'
        f'"priority": {_cut_encode(priority, 2)}\n'
        "}"
    ).encode()


def _headers(apiKey: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "Authorization": f"GenieKey {apiKey}",
    }


def endpoint(
    *, url: str = defaultURL, apiKey: str, entity: str = "", **options: Any
) -> ServiceEndpoint:
    """Flux's ``opsgenie.endpoint(url:, apiKey:, entity:)``: one alert per row.

    The mapping function returns message, alias, description, priority, responders, tags,
    actions, details and visibleTo (as ``sendAlert`` takes them).

    Examples
    --------
    >>> import pandas as pd
    >>> from flux_magic.endpoints import opsgenie
    >>> send = opsgenie.endpoint(url="http://127.0.0.1:9/", apiKey="k3y-123")(lambda r: {
    ...     "message": "m", "alias": "", "description": "", "priority": "P1",
    ...     "responders": ["team:ops"], "tags": [], "actions": [], "details": "{}",
    ...     "visibleTo": []})
    >>> send.preview(pd.DataFrame({"a": [1]}))["headers"][0]["Authorization"]
    'GenieKey ***'
    """

    def build(record: Mapping[str, Any], row: Mapping[Any, Any]) -> tuple[dict[str, str], bytes]:
        def get(name: str) -> Any:
            return field(record, name, "opsgenie.endpoint", FIELDS)

        body = alert_body(
            message=get("message"),
            alias=get("alias"),
            description=get("description"),
            priority=get("priority"),
            responders=get("responders"),
            tags=get("tags"),
            entity=entity,
            actions=get("actions"),
            visibleTo=get("visibleTo"),
            details=get("details"),
        )
        return _headers(apiKey), body

    hooks = Hooks(secrets=secrets_of(apiKey))
    return ServiceEndpoint("opsgenie", url, build, options_2xx(options), hooks=hooks)


def sendAlert(
    *,
    url: str = defaultURL,
    apiKey: str,
    message: str,
    alias: str = "",
    description: str = "",
    priority: str = "P3",
    responders: Sequence[str] = (),
    tags: Sequence[Any] = (),
    entity: str = "",
    actions: Sequence[Any] = (),
    visibleTo: Sequence[str] = (),
    details: str = "{}",
    **options: Any,
) -> int:
    """Flux's ``opsgenie.sendAlert``: send one alert now; returns the HTTP status code."""
    record = {
        "message": message,
        "alias": alias,
        "description": description,
        "priority": priority,
        "responders": list(responders),
        "tags": list(tags),
        "actions": list(actions),
        "details": details,
        "visibleTo": list(visibleTo),
    }
    return post_once(endpoint(url=url, apiKey=apiKey, entity=entity, **options), record)


CONFIG_DOCS = {
    "url": "Opsgenie Alert API URL.",
    "apiKey": "Opsgenie API key (sent as 'Authorization: GenieKey ...').",
    "entity": "Alert entity (the alert's domain).",
}
SECRETS = frozenset({"apiKey"})
TEMPLATE = """lambda r: {
    "message": f"{r._check_name} is {r._level}",
    "alias": f"{r._check_name}-{r._level}",
    "description": r._message,
    "priority": "P3",
    "responders": ["team:ops"],
    "tags": [],
    "actions": [],
    "details": "{}",
    "visibleTo": [],
}"""
FLUX_TEMPLATE = """(r) => ({
    message: "${r._check_name} is ${r._level}",
    alias: "${r._check_name}-${r._level}",
    description: r._message,
    priority: "P3",
    responders: ["team:ops"],
    tags: [],
    actions: [],
    details: "{}",
    visibleTo: [],
})"""
