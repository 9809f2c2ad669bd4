"""Flux's ``influxdata/influxdb/monitor`` package: ``notify`` and the level names, delegating
to ``flux_magic.endpoints.monitor`` (Flux then writes to the ``_monitoring`` bucket; here the
notified rows are the result)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from flux_magic._flux._builtins import builtin, expect
from flux_magic._flux._diagnostics import FluxRuntimeError
from flux_magic._flux._interpreter import Builtin, Interpreter
from flux_magic._flux._values import to_python, type_name
from flux_magic.endpoints import monitor

PATH = "influxdata/influxdb/monitor"


def _notify(interp: Interpreter, tables: Any, endpoint: Any, data: Any = None) -> pd.DataFrame:
    if not isinstance(tables, pd.DataFrame):
        raise FluxRuntimeError(
            f"expected a stream of tables but found {type_name(tables)}", kind="type error"
        )
    if not isinstance(endpoint, Builtin):
        raise FluxRuntimeError(
            "endpoint must be an endpoint with its mapFn, e.g. "
            "slack.endpoint(token: t)(mapFn: (r) => ({...}))",
            kind="type error",
            param="endpoint",
        )
    values = {} if data is None else to_python(expect(data, "data", "monitor.notify", "record"))

    def send(frame: pd.DataFrame) -> pd.DataFrame:
        result: pd.DataFrame = endpoint.impl(interp, tables=frame)
        return result

    return monitor.notify(tables, endpoint=send, data=values, now=interp.now())


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "notify": builtin(
            "monitor.notify",
            "tables=?, endpoint, data=?",
            _notify,
            pipe="tables",
            example='monitor.notify(data: {_notification_rule_name: "r"}, endpoint: e)',
        ),
        "levelOK": "ok",
        "levelInfo": "info",
        "levelWarn": "warn",
        "levelCrit": "crit",
        "levelUnknown": "unknown",
    }
