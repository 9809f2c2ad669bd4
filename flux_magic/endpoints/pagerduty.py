"""Flux's ``pagerduty`` package: ``endpoint``, ``sendEvent``, ``dedupKey`` and the level maps.

Each row becomes one Events API v2 event (json.encode: keys sorted)::

    {"client":...,"client_url":...,"dedup_key":<r._pagerdutyDedupKey>,"event_action":...,
     "payload":{"class":...,"component":...,["custom_details":...,]"group":...,
                "severity":...,"source":...,"summary":...,"timestamp":...},
     "routing_key":...}

with ``Accept: application/vnd.pagerduty+json;version=2`` and
``Content-Type: application/json``. The dedup key is the SHA-256 (hex) of the row's group key
("column\\nvalue\\n" per column, sorted by name, without ``_start``, ``_stop``, ``_level``).
The result gains ``_pagerdutyDedupKey`` and ``_body`` (PagerDuty's answer); any 2xx is sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from flux_magic._endpoint import Hooks
from flux_magic._flux._values import (
    Duration,
    UInt,
    format_duration,
    format_float,
    format_time_rfc3339nano,
    from_python,
)
from flux_magic.endpoints._common import (
    ANSWER_BYTES,
    ServiceEndpoint,
    ServiceError,
    cut,
    encode,
    field,
    options_2xx,
    post_once,
)

__all__ = [
    "actionFromLevel",
    "actionFromSeverity",
    "dedupKey",
    "defaultURL",
    "endpoint",
    "sendEvent",
    "severityFromLevel",
]

PATH = "pagerduty"
defaultURL = "https://events.pagerduty.com/v2/enqueue"
FIELDS = (
    "routingKey",
    "client",
    "clientURL",
    "class",
    "group",
    "severity",
    "eventAction",
    "source",
    "summary",
    "timestamp",
)
OPTIONAL = ("component", "customDetails")
DEDUP_COLUMN = "_pagerdutyDedupKey"
SUMMARY_MAX = 1023
_EXCLUDE = ("_start", "_stop", "_level")


def severityFromLevel(level: str) -> str:
    """An InfluxDB level as a PagerDuty severity: crit critical, warn warning, info and ok
    info, anything else error (case-insensitive).

    Examples
    --------
    >>> [severityFromLevel(x) for x in ("CRIT", "warn", "ok", "unknown")]
    ['critical', 'warning', 'info', 'error']
    """
    return {"warn": "warning", "crit": "critical", "info": "info", "ok": "info"}.get(
        str(level).lower(), "error"
    )


def actionFromLevel(level: str) -> str:
    """``resolve`` for the level ok (any case), else ``trigger``."""
    return "resolve" if str(level).lower() == "ok" else "trigger"


def actionFromSeverity(severity: str) -> str:
    """``resolve`` for the severity ok (any case), else ``trigger``."""
    return "resolve" if str(severity).lower() == "ok" else "trigger"


def _key_text(value: Any, column: str) -> str:
    value = from_python(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, UInt | int):
        return str(int(value))
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, pd.Timestamp):
        return format_time_rfc3339nano(value)
    if isinstance(value, Duration):
        return format_duration(value)
    raise ServiceError(
        f"pagerduty.dedupKey: cannot convert {type(value).__name__} in group-key column "
        f"{column!r} to string"
    )


def dedupKey(tables: pd.DataFrame, *, exclude: Sequence[str] = _EXCLUDE) -> pd.DataFrame:
    """Flux's ``pagerduty.dedupKey()``: add ``_pagerdutyDedupKey``, the SHA-256 (hex) of each
    row's group key (``df.attrs["flux_group_key"]``; none: one key for every row).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"tag": ["t1"]}); df.attrs["flux_group_key"] = ["tag"]
    >>> dedupKey(df)["_pagerdutyDedupKey"][0][:16]
    '18fae60f7253ebb1'
    """
    key = tables.attrs.get("flux_group_key") or []
    columns = sorted(c for c in key if c not in exclude and c in tables.columns)
    out = tables.copy(deep=False)
    if not columns:
        digest = hashlib.sha256(b"").hexdigest()
        out[DEDUP_COLUMN] = pd.Series([digest] * len(out), index=out.index, dtype=object)
        return out
    cache: dict[tuple[Any, ...], str] = {}
    keys = []
    for values in zip(*(tables[c].tolist() for c in columns), strict=True):
        marker = tuple(
            (type(v).__name__, v) if not (isinstance(v, float) and np.isnan(v)) else "nan"
            for v in values
        )
        known = cache.get(marker)
        if known is None:
            text = "".join(
                f"{c}\n{_key_text(v, c)}\n" for c, v in zip(columns, values, strict=True)
            )
            known = cache[marker] = hashlib.sha256(text.encode("utf-8")).hexdigest()
        keys.append(known)
    out[DEDUP_COLUMN] = pd.Series(keys, index=out.index, dtype=object)
    return out


def _event(record: Mapping[str, Any], dedup: Any, where: str) -> bytes:
    def get(name: str) -> Any:
        return field(record, name, where, FIELDS)

    summary = get("summary")
    payload: dict[str, Any] = {
        "summary": cut(summary, SUMMARY_MAX) if isinstance(summary, str) else summary,
        "timestamp": get("timestamp"),
        "source": get("source"),
        "component": field(record, "component", where, FIELDS, ""),
        "severity": get("severity"),
        "group": get("group"),
        "class": get("class"),
    }
    details = record.get("customDetails")
    if details is not None:
        payload["custom_details"] = details
    return encode(
        {
            "payload": payload,
            "routing_key": get("routingKey"),
            "dedup_key": dedup,
            "event_action": get("eventAction"),
            "client": get("client"),
            "client_url": get("clientURL"),
        }
    )


HEADERS = {"Accept": "application/vnd.pagerduty+json;version=2", "Content-Type": "application/json"}


def _with_body(result: pd.DataFrame) -> pd.DataFrame:
    if "_response" in result.columns:
        answers = result["_response"].tolist()
        result = result.copy(deep=False)
        result["_body"] = pd.Series(
            [b.decode("utf-8", "replace") if b else "" for b in answers],
            index=result.index,
            dtype=object,
        )
    return result


def endpoint(*, url: str = defaultURL, **options: Any) -> ServiceEndpoint:
    """Flux's ``pagerduty.endpoint(url:)``: one Events API v2 event per row.

    The mapping function returns routingKey, client, clientURL, class, group, severity,
    eventAction, source, summary, timestamp (component and customDetails optional); the row
    it gets already has ``_pagerdutyDedupKey``. The result gains ``_pagerdutyDedupKey`` and
    ``_body`` (what PagerDuty answered).

    Examples
    --------
    >>> import pandas as pd
    >>> from flux_magic.endpoints import pagerduty
    >>> send = pagerduty.endpoint(url="http://127.0.0.1:9/")(lambda r: {
    ...     "routingKey": "R0UT1NG", "client": "c", "clientURL": "http://c", "class": "cpu",
    ...     "group": "g", "severity": "critical", "eventAction": "trigger", "source": "h",
    ...     "summary": "s", "timestamp": r._time})
    >>> df = pd.DataFrame({"_time": [pd.Timestamp("2021-01-01", tz="UTC")]})
    >>> send.preview(df)["body"][0][-70:]
    '"summary":"s","timestamp":"2021-01-01T00:00:00Z"},"routing_key":"***"}'
    """

    def build(record: Mapping[str, Any], row: Mapping[Any, Any]) -> tuple[dict[str, str], bytes]:
        return dict(HEADERS), _event(record, row.get(DEDUP_COLUMN, ""), "pagerduty.endpoint")

    hooks = Hooks(
        secret_fields=("routing_key",),
        keep_answer=ANSWER_BYTES,
        prepare=dedupKey,
        finish=_with_body,
    )
    return ServiceEndpoint("pagerduty", url, build, options_2xx(options), hooks=hooks)


def sendEvent(
    *,
    pagerdutyURL: str = defaultURL,
    routingKey: str,
    client: str,
    clientURL: str,
    dedupKey: str,
    group: str,
    severity: str,
    eventAction: str,
    source: str,
    summary: str,
    timestamp: Any,
    component: str = "",
    customDetails: Mapping[str, Any] | None = None,
    **rest: Any,
) -> int:
    """Flux's ``pagerduty.sendEvent``: send one event now; returns the HTTP status code.

    ``class`` is a Python keyword: pass it as ``**{"class": "cpu"}`` (or ``class_=``).
    """
    klass = rest.pop("class", rest.pop("class_", None))
    if klass is None:
        raise ServiceError('pagerduty.sendEvent: give the event class as **{"class": "..."}')
    record = {
        "routingKey": routingKey,
        "client": client,
        "clientURL": clientURL,
        "class": klass,
        "group": group,
        "severity": severity,
        "eventAction": eventAction,
        "source": source,
        "summary": summary,
        "timestamp": timestamp,
        "component": component,
        "customDetails": customDetails,
    }

    def build(record: Mapping[str, Any], row: Mapping[Any, Any]) -> tuple[dict[str, str], bytes]:
        return dict(HEADERS), _event(record, dedupKey, "pagerduty.sendEvent")

    service = ServiceEndpoint(
        "pagerduty",
        pagerdutyURL,
        build,
        options_2xx(rest),
        hooks=Hooks(secrets=(routingKey,) if len(routingKey) >= 3 else ()),
    )
    return post_once(service, record)


CONFIG_DOCS = {"url": "PagerDuty Events API v2 URL."}
SECRETS: frozenset[str] = frozenset()
TEMPLATE = """lambda r: {
    "routingKey": "YOUR-ROUTING-KEY",
    "client": "flux_magic",
    "clientURL": "https://example.com/checks",
    "class": r._check_name,
    "group": "example-group",
    "severity": pagerduty.severityFromLevel(r._level),
    "eventAction": pagerduty.actionFromLevel(r._level),
    "source": r.host,
    "summary": r._message,
    "timestamp": r._time,
}"""
FLUX_TEMPLATE = """(r) => ({
    routingKey: "YOUR-ROUTING-KEY",
    client: "flux",
    clientURL: "https://example.com/checks",
    class: r._check_name,
    group: "example-group",
    severity: pagerduty.severityFromLevel(level: r._level),
    eventAction: pagerduty.actionFromLevel(level: r._level),
    source: r.host,
    summary: r._message,
    timestamp: r._time,
})"""
