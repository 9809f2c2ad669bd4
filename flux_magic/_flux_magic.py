"""``%%flux``: run a small Flux program in a notebook cell and show its tables as DataFrames.

The magic parses its flags, calls :func:`flux_magic._flux.run_program` and presents the
results; Flux errors become one ``UsageError`` with line:column and the text underlined.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from IPython.core.display import HTML
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from flux_magic._errors import FluxMagicError
from flux_magic._flux import run_program

__all__ = ["PARTIAL_NAME", "FluxMagic"]

#: Where a failed send leaves the rows it did send, when ``-o`` is not given.
PARTIAL_NAME = "_flux_partial"
_IDENT_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")


@magics_class
class FluxMagic(Magics):
    """The ``%%flux`` cell magic."""

    @magic_arguments()
    @argument(
        "-o",
        "--output",
        metavar="NAME",
        help="Store the result in this notebook variable: the DataFrame, or a dict of "
        "result name -> DataFrame when the program yields several.",
    )
    @argument(
        "--collect",
        action="store_true",
        help='Notebook mode for http.endpoint: a failed request gets _sent "false" and a '
        "reason in _error, and every other row is still sent. Default: Flux's strict "
        "behaviour, the first transport error stops the program.",
    )
    @argument(
        "--sent-when",
        choices=["200", "2xx"],
        default="200",
        help='Which statuses count as sent: "200" (Flux\'s http.endpoint, default) or "2xx".',
    )
    @argument(
        "--timeout",
        type=float,
        default=None,
        help="Seconds allowed per request (default: flux_magic's finite default; Flux has none).",
    )
    @argument(
        "--quiet",
        action="store_true",
        help="Do not display the results (useful with -o).",
    )
    @cell_magic
    def flux(self, line: str, cell: str) -> pd.DataFrame | None:
        """Run a Flux program; display the tables it yields as DataFrames.

        Usage: ``%%flux [-o NAME] [--collect] [--sent-when 200|2xx] [--timeout S] [--quiet]``

        Supported: ``import`` of http, json, sampledata, csv, array, strings, math, regexp, date,
        timezone, dict, types, experimental/array, internal/debug (README: Flux packages),
        assignments, ``option`` declarations, ``|>``, regular expressions (``/.../``, ``=~``,
        ``!~``), ``range``, ``filter``, ``map``, ``limit``, ``tail``, ``keep``, ``drop``,
        ``rename``, ``set``, ``duplicate``, ``fill``, ``group``, ``sort``, ``pivot``, ``count``,
        ``sum``, ``mean``, ``min``, ``max``, ``first``, ``last``, ``unique``, ``distinct``,
        ``columns``, ``keys``, ``top``, ``bottom``, ``spread``, ``reduce``, ``difference``,
        ``derivative``, ``elapsed``, ``cumulativeSum``, ``timeShift``, ``union``,
        ``aggregateWindow``, ``yield``, ``tableFind``, ``getColumn``, ``getRecord``, ``findColumn``,
        ``findRecord``, the ``toX()`` conversions, ``die``, ``http.endpoint(url:)(mapFn:)``,
        ``http.post``. The README's Flux section lists what is not supported. The notebook's
        DataFrames, strings, numbers and booleans are visible by name (``http.endpoint(url: url)``).

        Examples
        --------
        ::

            In [1]: %load_ext flux_magic
            In [2]: %%flux
               ...: import "sampledata"
               ...: sampledata.int() |> filter(fn: (r) => r._value > 10)

            In [3]: %%flux -o result
               ...: import "http"
               ...: import "sampledata"
               ...: sampledata.int()
               ...:     |> http.endpoint(url: "http://127.0.0.1:8080/")(
               ...:         mapFn: (r) => ({headers: {}, data: bytes(v: "${r._value}")}),
               ...:     )()
        """
        args = parse_argstring(self.flux, line)
        options: dict[str, Any] = {
            "sent_when": args.sent_when,
            "errors": "collect" if args.collect else "raise",
        }
        if args.timeout is not None:
            options["timeout"] = args.timeout
        try:
            result = run_program(cell, endpoint_options=options, variables=self._frames())
        except FluxMagicError as exc:
            partial = getattr(exc, "result", None)
            note = ""
            if isinstance(partial, pd.DataFrame):
                name = args.output or PARTIAL_NAME
                self._ns[name] = partial
                note = f"\n\nThe {len(partial)} row(s) handled before the failure are in {name}."
            raise UsageError(f"%%flux: {exc}{note}") from None
        tables = result.tables
        self._report_failures(tables)
        if args.output:
            stored: Any = result.frame() if len(tables) == 1 else dict(tables)
            self._ns[args.output] = stored
        if args.quiet or not tables:
            return None
        if len(tables) == 1:
            return next(iter(tables.values()))
        for name, frame in tables.items():
            display(HTML(f"<b>Result: {name}</b>"))
            display(frame)
        return None

    @property
    def _ns(self) -> dict[str, Any]:
        shell = self.shell
        if shell is None:  # pragma: no cover - IPython always sets it
            raise UsageError("%%flux needs an IPython shell")
        namespace: dict[str, Any] = shell.user_ns
        return namespace

    def _frames(self) -> dict[str, Any]:
        """The notebook's DataFrames, strings, numbers and booleans, by (identifier) name."""
        return {
            name: value
            for name, value in self._ns.items()
            if isinstance(value, pd.DataFrame | str | int | float)
            and name[:1] in _IDENT_START
            and name.isidentifier()
            and not name.startswith("_")
        }

    @staticmethod
    def _report_failures(tables: dict[str, pd.DataFrame]) -> None:
        """Collect mode: say how many requests failed, so no error goes unseen."""
        for name, frame in tables.items():
            if "_error" not in frame.columns:
                continue
            errors = frame["_error"].fillna("").astype(str)
            failed = int((errors != "").sum())
            if failed:
                first = errors[errors != ""].iloc[0]
                print(
                    f"%%flux: {failed} of {len(frame)} request(s) in {name} failed; "
                    f"see the _error column. First: {first}"
                )
