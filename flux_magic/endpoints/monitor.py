"""Flux's ``monitor.notify`` (package ``influxdata/influxdb/monitor``): send check results
through an endpoint with the notification columns Flux adds.

``notify(df, endpoint=send, data={...})`` adds each ``data`` property (Flux's
``_notification_rule_id``, ``_notification_rule_name``, ``_notification_endpoint_id``,
``_notification_endpoint_name``) as a column and to the group key, sets ``_measurement`` to
"notifications", ``_status_timestamp`` to ``_time`` as integer nanoseconds and ``_time`` to
now, sends, and adds ``_sent`` to the group key. Flux then writes the rows to the
``_monitoring`` bucket; here they are returned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from flux_magic._errors import UsageError

__all__ = ["notify"]


def _nanoseconds(times: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(times, utc=True)
    return pd.Series(
        [None if pd.isna(t) else int(t.value) for t in stamps], index=times.index, dtype=object
    ).astype("Int64")


def notify(
    tables: pd.DataFrame,
    *,
    endpoint: Callable[[pd.DataFrame], pd.DataFrame],
    data: Mapping[str, Any] | None = None,
    now: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Send ``tables`` through ``endpoint`` (a sender) the way Flux's ``monitor.notify`` does.

    Examples
    --------
    >>> import pandas as pd
    >>> t0 = pd.Timestamp("2021-01-01", tz="UTC")
    >>> df = pd.DataFrame({"_time": [t0], "_level": ["crit"]})
    >>> out = notify(df, endpoint=lambda t: t.assign(_sent="true"),
    ...              data={"_notification_rule_name": "r"}, now=t0)
    >>> out[["_notification_rule_name", "_measurement"]].iloc[0].tolist()
    ['r', 'notifications']
    >>> int(out["_status_timestamp"].iloc[0])
    1609459200000000000
    >>> out.attrs["flux_group_key"]
    ['_notification_rule_name', '_sent']
    """
    if not callable(endpoint):
        raise UsageError(
            "monitor.notify: endpoint must be a sender, e.g. slack.endpoint(...)(mapFn)."
        )
    data = dict(data or {})
    out = tables.copy()
    key = [c for c in (tables.attrs.get("flux_group_key") or [])]
    for name, value in data.items():
        out[name] = value
        if name not in key:
            key.append(name)
    out["_measurement"] = "notifications"
    if "_time" in out.columns:
        out["_status_timestamp"] = _nanoseconds(out["_time"])
    stamp = now if now is not None else pd.Timestamp.now(tz="UTC")
    out["_time"] = pd.Series([stamp] * len(out), index=out.index)
    out.attrs["flux_group_key"] = key
    result = endpoint(out)
    result_key = [c for c in (result.attrs.get("flux_group_key") or key) if c != "_sent"]
    result.attrs["flux_group_key"] = [*result_key, "_sent"]
    return result
