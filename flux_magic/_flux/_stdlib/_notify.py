"""What the Flux notification packages share: ``endpoint(config)(mapFn)(tables)`` and the
single-shot functions as Flux builtins, each delegating to its ``flux_magic.endpoints`` module
(one implementation for Python and Flux).

Any 2xx counts as sent, as in these Flux packages (whatever ``--sent-when`` says for
``http.endpoint``). A package option such as ``option slack.defaultURL = "..."`` or
``option discord.discordURL = "..."`` is used as the default it names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from flux_magic._errors import EndpointError, FluxError, MappingError, UsageError
from flux_magic._flux._builtins import builtin, expect
from flux_magic._flux._diagnostics import FluxRuntimeError
from flux_magic._flux._interpreter import Builtin, Closure, Interpreter
from flux_magic._flux._values import from_python, to_python, type_name

__all__ = ["endpoint_builtin", "function_builtin", "package_options"]


def package_options(interp: Interpreter, package: str, names: Mapping[str, str]) -> dict[str, Any]:
    """Config defaults set by ``option <package>.<option> = ...``: ``names`` maps the Flux
    option to the parameter it is the default of."""
    found = {}
    for option, param in names.items():
        value = interp.options.get(f"{package}.{option}")
        if value is not None:
            found[param] = to_python(value)
    return found


def _send_options(interp: Interpreter) -> dict[str, Any]:
    return {**interp.endpoint_options, "sent_when": "2xx"}


def _map_row(fn: Closure, failures: list[FluxError]) -> Callable[[Mapping[Any, Any]], Any]:
    def map_row(row: Mapping[Any, Any]) -> Any:
        try:
            record = fn(r={str(k): from_python(v) for k, v in row.items()})
        except FluxError as exc:
            failures.append(exc)
            raise
        return to_python(record)

    return map_row


def _run(name: str, sender: Any, tables: pd.DataFrame, failures: list[FluxError]) -> pd.DataFrame:
    try:
        result: pd.DataFrame = sender(tables)
    except (EndpointError, MappingError) as exc:
        partial = getattr(exc, "result", None)
        if failures:
            failures[0].result = partial  # type: ignore[attr-defined]
            raise failures[0] from None
        error = FluxRuntimeError(
            f"failed to evaluate map function: {getattr(exc, 'reason', exc)}",
            hint=f"Flux stops the whole query at the first failed {name} request; rows sent "
            "before it stay sent. Run %%flux --collect to send every row and see each failure "
            "in _error.",
        )
        error.result = partial  # type: ignore[attr-defined]
        raise error from exc
    drop = ["_elapsed"]
    # Flux's columns only; _error stays when a service refused a row inside a 2xx answer
    if sender.options.strict and not result["_error"].astype(bool).any():
        drop.append("_error")
    return result.drop(columns=[c for c in drop if c in result.columns])


def endpoint_builtin(
    flux_name: str,
    params: str,
    make: Callable[..., Any],
    *,
    package: str,
    option_defaults: Mapping[str, str] | None = None,
    example: str = "",
) -> Builtin:
    """``<package>.endpoint(config)`` as a Flux builtin: returns ``(mapFn) => (tables=<-)``.

    ``make(**config, **send_options)`` is the ``flux_magic.endpoints`` module's ``endpoint``.
    """

    def configure(interp: Interpreter, **config: Any) -> Builtin:
        given = {
            **package_options(interp, package, option_defaults or {}),
            **{k: to_python(v) for k, v in config.items()},
        }
        try:
            service = make(**given, **_send_options(interp))
        except (UsageError, ValueError) as exc:
            raise FluxRuntimeError(f"{flux_name}: {exc}") from None

        def with_map_fn(interp: Interpreter, mapFn: Any) -> Builtin:
            if not isinstance(mapFn, Closure):
                raise FluxRuntimeError(
                    f"mapFn must be a function literal such as (r) => ({{...}}), "
                    f"not {type_name(mapFn)}",
                    kind="type error",
                    param="mapFn",
                )

            def send(interp: Interpreter, tables: Any) -> pd.DataFrame:
                if not isinstance(tables, pd.DataFrame):
                    raise FluxRuntimeError(
                        f"expected a stream of tables but found {type_name(tables)}",
                        kind="type error",
                    )
                failures: list[FluxError] = []
                return _run(flux_name, service(_map_row(mapFn, failures)), tables, failures)

            return builtin(f"{flux_name}(...)(mapFn)", "tables=?", send, pipe="tables")

        return builtin(f"{flux_name}(...)", "mapFn", with_map_fn, aliases={"mapfn": "mapFn"})

    return builtin(flux_name, params, configure, example=example)


def function_builtin(
    flux_name: str,
    params: str,
    fn: Callable[..., Any],
    *,
    sends: bool = False,
    package: str = "",
    option_defaults: Mapping[str, str] | None = None,
    strings: tuple[str, ...] = (),
) -> Builtin:
    """A package function as a Flux builtin: Flux values in, ``fn``'s result back as a Flux
    value. ``sends``: it posts (``slack.message``), so the %%flux send options apply."""

    def impl(interp: Interpreter, **args: Any) -> Any:
        for name in strings:
            if name in args:
                expect(args[name], name, flux_name, "string")
        given = {k: to_python(v) for k, v in args.items()}
        if sends:
            given = {
                **package_options(interp, package, option_defaults or {}),
                **given,
                **_send_options(interp),
            }
        try:
            return from_python(fn(**given))
        except EndpointError as exc:
            raise FluxRuntimeError(f"{flux_name}: {exc.reason}") from None
        except (UsageError, ValueError) as exc:
            raise FluxRuntimeError(f"{flux_name}: {exc}") from None

    return builtin(flux_name, params, impl)
