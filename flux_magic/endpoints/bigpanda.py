"""Flux's ``contrib/rhajek/bigpanda`` package: ``endpoint``, ``sendAlert``, ``statusFromLevel``.

Each row's body is the whole record the mapping function returned, plus ``app_key`` and
``status`` (json.encode: keys sorted), with ``Authorization: Bearer <token>`` and
``Content-Type: application/json; charset=utf-8``. Any 2xx is sent.
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

__all__ = ["defaultTokenPrefix", "defaultUrl", "endpoint", "sendAlert", "statusFromLevel"]

PATH = "contrib/rhajek/bigpanda"
defaultUrl = "https://api.bigpanda.io/data/v2/alerts"
defaultTokenPrefix = "Bearer"
FIELDS = ("status",)


def statusFromLevel(level: str) -> str:
    """An InfluxDB level as a BigPanda status: warn warning, crit critical, info and ok ok,
    anything else critical (case-insensitive).

    Examples
    --------
    >>> [statusFromLevel(x) for x in ("WARN", "crit", "info", "ok", "unknown")]
    ['warning', 'critical', 'ok', 'ok', 'critical']
    """
    return {"warn": "warning", "crit": "critical", "info": "ok", "ok": "ok"}.get(
        str(level).lower(), "critical"
    )


def _request(
    token: str, appKey: str, status: Any, record: Mapping[str, Any]
) -> tuple[dict[str, str], bytes]:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Authorization": f"{defaultTokenPrefix} {token}".strip(),
    }
    return headers, encode({**record, "app_key": appKey, "status": status})


def endpoint(*, url: str = defaultUrl, token: str, appKey: str, **options: Any) -> ServiceEndpoint:
    """Flux's ``bigpanda.endpoint(url:, token:, appKey:)``: one alert per row.

    The mapping function returns a record with ``status`` (ok, critical, warning,
    acknowledged) and any other alert fields (host, check, description, ...).

    Examples
    --------
    >>> import pandas as pd
    >>> from flux_magic.endpoints import bigpanda
    >>> send = bigpanda.endpoint(url="http://127.0.0.1:9/", token="t0k", appKey="app-key-1")(
    ...     lambda r: {"status": "critical", "host": "h", "check": "cpu"})
    >>> send.preview(pd.DataFrame({"a": [1]}))["body"][0]
    '{"app_key":"***","check":"cpu","host":"h","status":"critical"}'
    """

    def build(record: Mapping[str, Any], row: Mapping[Any, Any]) -> tuple[dict[str, str], bytes]:
        status = field(record, "status", "bigpanda.endpoint", FIELDS)
        return _request(token, appKey, status, record)

    hooks = Hooks(secrets=secrets_of(token, appKey), secret_fields=("app_key",))
    return ServiceEndpoint("bigpanda", url, build, options_2xx(options), hooks=hooks)


def sendAlert(
    *,
    url: str = defaultUrl,
    token: str,
    appKey: str,
    status: str,
    rec: Mapping[str, Any],
    **options: Any,
) -> int:
    """Flux's ``bigpanda.sendAlert``: send one alert now; returns the HTTP status code."""
    service = endpoint(url=url, token=token, appKey=appKey, **options)
    service.build = lambda record, row: _request(token, appKey, status, rec)
    return post_once(service, dict(rec))


CONFIG_DOCS = {
    "url": "BigPanda alerts API URL.",
    "token": "BigPanda API token (sent as 'Authorization: Bearer ...').",
    "appKey": "BigPanda app key (sent in the body as app_key).",
}
SECRETS = frozenset({"token", "appKey"})
TEMPLATE = """lambda r: {
    "status": bigpanda.statusFromLevel(r._level),
    "host": r.host,
    "check": r._check_name,
    "description": r._message,
}"""
FLUX_TEMPLATE = """(r) => ({
    status: bigpanda.statusFromLevel(level: r._level),
    host: r.host,
    check: r._check_name,
    description: r._message,
})"""
