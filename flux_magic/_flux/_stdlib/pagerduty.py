"""Flux's ``pagerduty`` package, delegating to
``flux_magic.endpoints.pagerduty``."""

from __future__ import annotations

from typing import Any

import pandas as pd

from flux_magic._flux._builtins import builtin
from flux_magic._flux._interpreter import Interpreter
from flux_magic._flux._stdlib._notify import endpoint_builtin, function_builtin
from flux_magic.endpoints import pagerduty

PATH = "pagerduty"
_DEFAULTS: dict[str, str] = {"defaultURL": "url"}


def _dedup(interp: Interpreter, tables: Any, exclude: Any = None) -> pd.DataFrame:
    if exclude is None:
        return pagerduty.dedupKey(tables)
    return pagerduty.dedupKey(tables, exclude=[str(c) for c in exclude])


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "defaultURL": pagerduty.defaultURL,
        "sendEvent": function_builtin(
            "pagerduty.sendEvent",
            "pagerdutyURL=?, routingKey, client, clientURL, dedupKey, class, group, severity, "
            "eventAction, source, component=?, summary, timestamp, customDetails=?",
            pagerduty.sendEvent,
            sends=True,
            package="pagerduty",
            option_defaults={"defaultURL": "pagerdutyURL"},
        ),
        "dedupKey": builtin("pagerduty.dedupKey", "tables=?, exclude=?", _dedup, pipe="tables"),
        "severityFromLevel": function_builtin(
            "pagerduty.severityFromLevel", "level", pagerduty.severityFromLevel, strings=("level",)
        ),
        "actionFromLevel": function_builtin(
            "pagerduty.actionFromLevel", "level", pagerduty.actionFromLevel, strings=("level",)
        ),
        "actionFromSeverity": function_builtin(
            "pagerduty.actionFromSeverity",
            "severity",
            pagerduty.actionFromSeverity,
            strings=("severity",),
        ),
        "endpoint": endpoint_builtin(
            "pagerduty.endpoint",
            "url=?",
            pagerduty.endpoint,
            package="pagerduty",
            option_defaults=_DEFAULTS,
        ),
    }
