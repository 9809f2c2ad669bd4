"""Flux's ``timezone`` package: location records for ``date`` functions and ``option location``."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flux_magic._flux._builtins import builtin, expect
from flux_magic._flux._diagnostics import FluxRuntimeError
from flux_magic._flux._values import Duration

PATH = "timezone"


def _fixed(interp: Any, offset: Any) -> dict[str, Any]:
    expect(offset, "offset", "timezone.fixed", "duration")
    if offset.months:
        raise FluxRuntimeError(
            "timezone.fixed: offset must be a fixed duration, not months", param="offset"
        )
    return {"zone": "UTC", "offset": offset}


def _location(interp: Any, name: Any) -> dict[str, Any]:
    expect(name, "name", "timezone.location", "string")
    if name != "UTC":
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise FluxRuntimeError(f'unknown time zone "{name}"', param="name") from None
    return {"zone": name, "offset": Duration()}


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "utc": {"zone": "UTC", "offset": Duration()},
        "fixed": builtin("timezone.fixed", "offset", _fixed, example="timezone.fixed(offset: -5h)"),
        "location": builtin(
            "timezone.location",
            "name",
            _location,
            example='timezone.location(name: "Europe/Madrid")',
        ),
    }
