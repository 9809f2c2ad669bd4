"""``%flux_endpoint_ui``: open the endpoint widget from a line magic.

Registered by ``%load_ext flux_magic`` through :func:`register`; parsing and the usage
message live here, the widget in :mod:`flux_magic.widget`.
"""

from __future__ import annotations

import argparse
import functools
import shlex
from typing import Any, NoReturn

from ._errors import FluxMagicError
from ._frames import is_frame
from ._option_specs import option_specs

__all__ = ["USAGE", "flux_endpoint_ui", "register"]

USAGE = "%flux_endpoint_ui [df] [--url URL] [--concurrency N] [--timeout S] [--sent-when 2xx] \
[--strict] [--retries N] [--idempotency-key] [--no-verify] ... [-o NAME]"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes become one-line IPython usage errors."""

    def error(self, message: str) -> NoReturn:
        from IPython.core.error import UsageError

        raise UsageError(f"%flux_endpoint_ui: {message}. Usage: {USAGE}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        from IPython.core.error import UsageError

        raise UsageError(message or self.format_help())


def _parser() -> _Parser:
    parser = _Parser(prog="%flux_endpoint_ui", add_help=True, description="Open the widget.")
    parser.add_argument("df", nargs="?", default="", help="DataFrame to choose at first.")
    parser.add_argument("--url", default="", help="Where to POST.")
    parser.add_argument("--strict", action="store_true", help="Stop at the first failed row.")
    parser.add_argument("-o", "--output", default="", help="Assign the result to this name.")
    _add_option_flags(parser)
    return parser


def _add_option_flags(parser: argparse.ArgumentParser) -> None:
    """The flags of every sending option, as ``%%flux_endpoint`` spells them (generated from
    ``flux_magic.Options``); a flag not given leaves no attribute, so the widget's defaults
    (those of ``Options``) apply."""
    for spec in option_specs():
        for args, kwargs in spec.arguments(default=argparse.SUPPRESS):
            parser.add_argument(*args, **kwargs)


def flux_endpoint_ui(line: str, shell: Any) -> Any:
    """Open the endpoint widget: pick a DataFrame, map, preview, send, cancel.

    Usage: ``%flux_endpoint_ui [df] [--url URL] [--concurrency N] [--timeout S]
    [--sent-when 2xx] [--strict] [--retries N] ... [-o NAME]``. The options are those of
    ``flux_magic.endpoint`` and ``%%flux_endpoint``, with the same flags (generated from
    ``flux_magic.Options``); ``-o`` also assigns the result.

    Examples
    --------
    ::

        In [1]: %load_ext flux_magic
        In [2]: %flux_endpoint_ui
        In [3]: %flux_endpoint_ui alerts --url http://127.0.0.1:8080/hook -o result
    """
    from IPython.core.error import UsageError

    from .widget import EndpointWidget

    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"%flux_endpoint_ui: {exc}. Usage: {USAGE}") from None
    args = _parser().parse_args(words)
    namespace: dict[str, Any] = shell.user_ns
    df: Any = None
    if args.df:
        if args.df not in namespace:
            raise UsageError(f"%flux_endpoint_ui: no variable named {args.df!r} in the notebook.")
        value = namespace[args.df]
        if not is_frame(value):
            raise UsageError(
                f"%flux_endpoint_ui: {args.df!r} is a {type(value).__name__}, "
                "not a DataFrame (pandas, Polars or Dask)."
            )
        df = value
    options = {s.name: getattr(args, s.name) for s in option_specs() if hasattr(args, s.name)}
    if args.strict:
        options["errors"] = "raise"
    try:
        return EndpointWidget(
            df,
            url=args.url,
            namespace=namespace,
            output_name=args.output,
            **options,
        )
    except FluxMagicError as exc:
        raise UsageError(f"%flux_endpoint_ui: {exc}") from None


def register(shell: Any) -> None:
    """Register ``%flux_endpoint_ui`` with ``shell`` (called by ``%load_ext flux_magic``)."""
    magic = functools.partial(flux_endpoint_ui, shell=shell)
    functools.update_wrapper(magic, flux_endpoint_ui)
    shell.register_magic_function(magic, magic_kind="line", magic_name="flux_endpoint_ui")
