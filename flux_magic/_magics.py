"""``%%flux_endpoint``: the cell magic, and the loading/unloading of every flux_magic magic.

The magic only parses, calls the engine (``flux_magic.endpoint``) and presents: a one-line
summary, a progress bar for long sends, the result DataFrame as the cell's value. Every
user mistake becomes a one-line ``UsageError`` with secrets masked.

The flags and the ``%config FluxEndpointMagic.<option>`` defaults are generated from
``flux_magic.Options`` and ``OPTION_DOCS``, so they always match the Python API.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import keyword
import re
import time
import warnings
from collections.abc import Callable
from typing import Any

import pandas as pd
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from traitlets import Bool, Float, Int, Unicode
from traitlets.config import Configurable

from ._endpoint import endpoint
from ._errors import EndpointError, FluxMagicError, SendInterrupted
from ._frames import frame_rows, is_frame
from ._mapping import MappingSourceError, compile_mapping
from ._option_specs import option_specs
from ._option_traits import option_traits
from ._request import describe_row
from ._resend import failed_rows
from ._secrets import mask_text, mask_url, mask_urls, secret_values
from ._summary import summarize

__all__ = ["PARTIAL_NAME", "FluxEndpointMagic", "load", "unload"]

#: Where an interrupted or strict-mode send leaves its partial result when ``-o`` is not given.
PARTIAL_NAME = "_flux_endpoint_partial"

MAGIC = "%%flux_endpoint"
USAGE = (
    f"{MAGIC} DF --url URL [-o NAME] [--preview [N]] [--limit N] [--sent-when 2xx] "
    "[--strict] ... (or --resend NAME instead of DF)"
)
_VARIABLE = re.compile(r"\$([A-Za-z_]\w*)|\{([A-Za-z_]\w*)\}")


# -- options: one flag and one trait per field of Options ------------------------------------


def _option_arguments(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the flag(s) of every sending option to a ``magic_arguments`` magic.

    Every flag defaults to ``None`` ("not given"), so the configured default applies.
    """
    for spec in reversed(option_specs()):
        for args, kwargs in reversed(spec.arguments(default=None)):
            func = argument(*args, **kwargs)(func)
    return func


# The configurable defaults of every sending option, named exactly as in Options.
_OptionDefaults: Any = type("_OptionDefaults", (Configurable,), option_traits(config=True))


# -- the magic --------------------------------------------------------------------------------


@magics_class
class FluxEndpointMagic(Magics, _OptionDefaults):
    """``%%flux_endpoint``; its defaults are set with ``%config FluxEndpointMagic.<name>``."""

    url = Unicode("", help="Default URL when the cell gives no --url.").tag(config=True)
    quiet = Bool(False, help="Print no summary and show no progress bar.").tag(config=True)
    preview_rows = Int(10, help="Rows shown by --preview without a number.").tag(config=True)
    progress_after = Float(
        0.5, help="Seconds a send must run before its progress bar appears (0: always)."
    ).tag(config=True)

    @magic_arguments(name=MAGIC[1:])  # the usage line reads %%flux_endpoint
    @argument(
        "df",
        nargs="?",
        default=None,
        help="Name of the DataFrame to send, one POST per row (not with --resend).",
    )
    @argument("--url", default=None, help="Where to POST (http/https); $var and {var} work.")
    @argument(
        "-o",
        "--out",
        default=None,
        metavar="NAME",
        help=f"Store the cell's value under NAME (a partial result too; default {PARTIAL_NAME}"
        " for interrupted and strict-mode sends).",
    )
    @argument(
        "--preview",
        nargs="?",
        type=int,
        const=-1,
        default=None,
        metavar="N",
        help="Show the requests of the first N rows (default 10) and send nothing.",
    )
    @argument(
        "--strict",
        dest="errors",
        action="store_const",
        const="raise",
        help="Stop at the first failed row, as Flux does (same as --errors raise).",
    )
    @argument(
        "--limit",
        type=int,
        default=None,
        metavar="N",
        help="Send only the first N rows, as Flux's limit(n: N) before the endpoint: a test "
        "send (--limit 1).",
    )
    @argument(
        "--resend",
        default=None,
        metavar="NAME",
        help="Send again the rows of the earlier result NAME whose _sent is not true; the "
        "whole result comes back with those rows updated and is stored under NAME (or -o).",
    )
    @argument("--quiet", action="store_true", default=None, help="No summary, no progress bar.")
    @_option_arguments
    @cell_magic
    def flux_endpoint(self, line: str, cell: str) -> Any:
        """Send one HTTP POST per row of a DataFrame, like Flux's ``http.endpoint(url)(mapFn)``.

        The magic line names the DataFrame and the URL; the cell body is the mapping function:
        a Python expression evaluated in the notebook (a lambda, or the name of a function)
        that turns a row ``r`` into ``{"headers": {...}, "data": b"..."}``. Columns read as
        ``r._value`` or ``r["my col"]``. A Flux function literal ``(r) => ({...})`` works too
        when the Flux layer is installed.

        The cell's value is the input with Flux's ``_status`` and ``_sent`` columns (strings;
        ``_sent`` is "true" only for status 200, as in Flux) and ``_error``, preceded by a
        one-line summary. With ``--preview`` nothing is sent: the value is the table of
        requests. Long sends show a progress bar. Interrupting the kernel stops the send;
        the partial result, every row accounted for, is stored under ``-o NAME`` (or
        ``_flux_endpoint_partial``). Strict mode (``--strict``) stores its partial result the
        same way. Defaults of every option: ``%config FluxEndpointMagic.<option> = value``.

        Examples
        --------
        ::

            In [1]: %load_ext flux_magic
            In [2]: rx = flux_magic.Receiver().start(); url = rx.url
            In [3]: %%flux_endpoint df --url $url --preview 3
               ...: lambda r: {"headers": {"Content-Type": "text/plain"},
               ...:            "data": f"The value is {r._value}".encode()}
            In [4]: %%flux_endpoint df --url $url -o result
               ...: lambda r: {"headers": {"Content-Type": "text/plain"},
               ...:            "data": f"The value is {r._value}".encode()}
            In [5]: %%flux_endpoint df --url {url} --sent-when 2xx --concurrency 8
               ...: my_mapping
            In [6]: %config FluxEndpointMagic.timeout = 5
        """
        args = self._parse(line)
        namespace = self._user_ns
        if args.df is None and args.resend is None:
            raise UsageError(
                f"{MAGIC}: name the DataFrame to send (or --resend NAME). Usage: {USAGE}"
            )
        url = args.url if args.url is not None else self.url
        if not url:
            raise UsageError(
                f"{MAGIC}: give the URL to POST to, e.g. --url http://127.0.0.1:8080/hook "
                "(or --url $variable)."
            )
        _check_variables(url, namespace)
        secrets = secret_values(url)
        out = args.out
        if out is not None and (not out.isidentifier() or keyword.iskeyword(out)):
            raise UsageError(f"{MAGIC}: -o needs a Python name such as result, not {out!r}.")
        quiet = self.quiet if args.quiet is None else True
        if args.limit is not None and args.limit < 0:
            raise UsageError(f"{MAGIC}: --limit needs a whole number >= 0, not {args.limit}.")
        previous: pd.DataFrame | None = None
        if args.resend is not None:
            if args.df is not None:
                raise UsageError(
                    f"{MAGIC}: give either a DataFrame or --resend NAME (an earlier result), "
                    "not both."
                )
            previous = _frame(args.resend, namespace, option="--resend")
            positions, df = failed_rows(previous)
            out = out or args.resend
        else:
            assert args.df is not None
            df = _frame(args.df, namespace)
        if args.limit is not None:
            df = df.iloc[: args.limit]
        map_fn = _mapping(cell, namespace)
        with _one_line_errors(secrets):
            sender = endpoint(url, **self._options(args))(map_fn)
            if args.preview is not None:
                return self._preview(sender, df, args.preview, url, out, quiet)
        bar = _Progress(after=self.progress_after, enabled=not quiet)
        started = time.perf_counter()
        try:
            if previous is not None:
                result = sender.resend_failed(previous, progress=bar)
            else:
                result = sender.send(df, progress=bar)
        except SendInterrupted as exc:
            bar.close()
            name = out or PARTIAL_NAME
            self._user_ns[name] = exc.result
            s = summarize(exc.result, time.perf_counter() - started)
            when = (
                f"after {s.attempted:,} of {s.rows:,} rows ({s.sent:,} sent)"
                if s.attempted
                else "before anything was sent"
            )
            raise UsageError(
                f"{MAGIC}: interrupted {when}; the result, every row accounted for, is in "
                f"{name} (_error says why a row was not sent)."
            ) from None
        except EndpointError as exc:
            bar.close()
            name = out or PARTIAL_NAME
            self._user_ns[name] = exc.result
            where = describe_row(exc.row, exc.position)
            raise UsageError(
                f"{MAGIC}: {where} failed, so the send stopped there (--strict, as Flux): "
                f"{_sentence(_clean(exc.reason, secrets))} The {len(exc.result):,} row(s) "
                "attempted before "
                f"it are in {name}; without --strict every row is sent and failures are "
                "reported per row."
            ) from None
        except FluxMagicError as exc:  # e.g. the first rows all failed to map: nothing sent
            raise UsageError(f"{MAGIC}: {_clean(str(exc), secrets)}") from None
        finally:
            bar.close()
        elapsed = time.perf_counter() - started
        if not quiet:
            line = summarize(result, elapsed).line(
                url=url, sent_when_hint="--sent-when 2xx", retry_unknown_hint="--retry-unknown"
            )
            if previous is not None:
                line = f"Resent the {len(positions):,} failed rows of {args.resend}: {line}"
            if out:
                line += f" The result is in {out}."
            print(line)
        return self._store(out, result)

    def _preview(
        self,
        sender: Any,
        df: Any,
        rows: int,
        url: str,
        out: str | None,
        quiet: bool,
    ) -> Any:
        """``--preview``: the table of requests, and their curl commands in full."""
        n = self.preview_rows if rows < 0 else rows
        table = sender.preview(df, n=n)
        if not quiet:
            total = frame_rows(df)  # None for Dask and LazyFrames: not counted
            print(
                f"Preview of {len(table):,}{f' of {total:,}' if total is not None else ''} "
                f"requests to {mask_url(url)}; nothing was sent."
            )
            curls = [c for c in table["curl"].to_list() if c]
            if curls:
                print("The same requests as curl commands (secrets masked):")
                print("\n".join(curls))
        return self._store(out, table)

    # -- helpers: parse, options, store ---------------------------------------------------
    @property
    def _user_ns(self) -> dict[str, Any]:
        assert self.shell is not None, "the magic is registered with a shell"
        return self.shell.user_ns  # type: ignore[no-any-return]

    def _parse(self, line: str) -> argparse.Namespace:
        try:
            return parse_argstring(self.flux_endpoint, line)  # type: ignore[no-any-return]
        except UsageError as exc:
            raise UsageError(
                f"{MAGIC}: {_clean(str(exc), [])}. Usage: {USAGE} (see {MAGIC}?)"
            ) from None
        except ValueError as exc:  # unbalanced quotes
            raise UsageError(f"{MAGIC}: cannot read the magic line: {exc}.") from None

    def _options(self, args: argparse.Namespace) -> dict[str, Any]:
        options = {}
        for name in (spec.name for spec in option_specs()):
            given = getattr(args, name, None)
            options[name] = given if given is not None else getattr(self, name)
        return options

    def _store(self, name: str | None, value: pd.DataFrame) -> pd.DataFrame:
        if name:
            self._user_ns[name] = value
        return value


# -- helpers: the DataFrame, the mapping function, errors, progress ---------------------------


def _check_variables(url: str, namespace: dict[str, Any]) -> None:
    """A ``$var`` or ``{var}`` left in the URL names a variable IPython could not expand."""
    for match in _VARIABLE.finditer(url):
        name = match.group(1) or match.group(2)
        if name not in namespace:
            close = difflib.get_close_matches(name, [k for k in namespace if k[:1] != "_"], n=1)
            hint = f" Did you mean ${close[0]}?" if close else " Define it in a cell first."
            raise UsageError(
                f"{MAGIC}: --url uses the variable {name!r} ({match.group(0)}), which is not "
                f"defined in the notebook.{hint}"
            )


def _frame(name: str, namespace: dict[str, Any], option: str = "") -> Any:
    if name not in namespace:
        frames = [k for k, v in namespace.items() if is_frame(v)]
        public = [k for k in frames if not k.startswith("_")]
        close = difflib.get_close_matches(name, frames, n=3) or difflib.get_close_matches(
            name, [k for k in namespace if not k.startswith("_")], n=3
        )
        if close:
            hint = f"; did you mean {' or '.join(close)}?"
        elif public:
            hint = f"; the DataFrames here are {', '.join(sorted(public)[:10])}."
        else:
            hint = "; define one first, e.g. df = pd.DataFrame({'_value': [1, 2, 3]})."
        raise UsageError(f"{MAGIC}: there is no variable named {name!r}{hint}")
    value = namespace[name]
    if isinstance(value, pd.Series):
        raise UsageError(
            f"{MAGIC}: {name!r} is a pandas Series, not a DataFrame; use {name}.to_frame() "
            "or select with df[[column]]."
        )
    if not is_frame(value):
        raise UsageError(
            f"{MAGIC}: {name!r} is a {type(value).__name__}, not a DataFrame "
            "(pandas, Polars or Dask)."
        )
    if option and "_sent" not in value.columns:
        raise UsageError(
            f"{MAGIC}: {option} {name} needs an earlier result (with a _sent column); "
            f"{name!r} has none."
        )
    return value


#: The quoted source line of a Flux error (``  2 | data: ...``): its columns must stay aligned.
_FLUX_GUTTER = re.compile(r"\s*\d+ \| ")


_CARET_THEN_TEXT = re.compile(r"(\n\s*\| +\^+) +(\S)")


def _caret_apart(text: str) -> str:
    """What follows a Flux error's caret line goes on a line of its own."""
    return _CARET_THEN_TEXT.sub(lambda m: f"{m.group(1)}\n{m.group(2)}", text)


def _mapping(body: str, namespace: dict[str, Any]) -> Callable[[Any], Any]:
    """The mapping function the cell body stands for: Flux literal or Python expression."""
    try:
        return compile_mapping(body, namespace, what="the cell body")
    except MappingSourceError as exc:
        raise UsageError(f"{MAGIC}: {_clean(str(exc), [])}") from None


def _clean(text: str, secrets: list[str]) -> str:
    """One line, URLs and known secrets masked; a Flux error keeps its source line and caret."""
    text = mask_urls(text)
    text = mask_text(text, secrets) if secrets else text
    lines = _caret_apart(text).split("\n")
    if any(_FLUX_GUTTER.match(line) for line in lines):
        return "\n".join(line.rstrip() for line in lines).strip("\n")
    return " ".join(text.split())


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


class _one_line_errors:
    """Turn flux_magic's own errors into one-line IPython ``UsageError`` messages."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = secrets

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, FluxMagicError) and not isinstance(exc, EndpointError):
            raise UsageError(f"{MAGIC}: {_clean(str(exc), self.secrets)}") from None
        if isinstance(exc, KeyboardInterrupt):  # while previewing: no request has left
            raise UsageError(f"{MAGIC}: interrupted before anything was sent.") from None


class _Progress:
    """The sender's ``progress`` callback: a tqdm.auto bar, shown only for long sends."""

    def __init__(self, *, after: float, enabled: bool) -> None:
        self.after = after
        self.enabled = enabled
        self.started = time.monotonic()
        self.bar: Any = None

    def __call__(self, done: int, total: int, sent: int, failed: int) -> None:
        if self.bar is None:
            if not self.enabled or done >= total:
                return
            if time.monotonic() - self.started < self.after:
                return
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit="row", desc="sending", leave=False)
        self.bar.update(done - self.bar.n)
        self.bar.set_postfix(sent=sent, failed=failed, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# -- %load_ext / %unload_ext -----------------------------------------------------------------

#: Optional magics of other modules: (module, Magics class name, name of a register function).
_OPTIONAL = (
    ("flux_magic._flux_magic", "FluxMagic", "register"),
    ("flux_magic._widget_magic", "WidgetMagics", "register"),
)


def _is_ours(obj: object, module_name: str = "flux_magic") -> bool:
    """Whether ``obj`` (a magic function, partial, bound method or class) comes from flux_magic
    (or from ``module_name`` within it)."""
    target = getattr(obj, "func", obj)  # functools.partial
    module = getattr(target, "__module__", None) or type(target).__module__
    return bool(module == module_name or module.startswith(module_name + "."))


def _has_magics_of(shell: Any, module_name: str) -> bool:
    table = shell.magics_manager.magics
    return any(_is_ours(fn, module_name) for kind in table for fn in table[kind].values())


def load(shell: Any) -> None:
    """Register ``%%flux_endpoint`` and, when importable, ``%%flux`` and ``%flux_endpoint_ui``.

    Calling it again is harmless: what is registered already stays (with its ``%config``).
    """
    if not _has_magics_of(shell, __name__):
        shell.register_magics(FluxEndpointMagic(shell=shell))
    for module_name, class_name, function_name in _OPTIONAL:
        if _has_magics_of(shell, module_name):
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                _warn_unavailable(module_name, exc)
            continue  # not part of this installation
        except Exception as exc:
            _warn_unavailable(module_name, exc)
            continue
        magics = getattr(module, class_name, None)
        register = getattr(module, function_name, None)
        if isinstance(magics, type) and issubclass(magics, Magics):
            shell.register_magics(magics(shell=shell))
        elif callable(register):
            register(shell)


def _warn_unavailable(module_name: str, exc: BaseException) -> None:
    warnings.warn(
        f"flux_magic: the magics of {module_name} are not available: {type(exc).__name__}: {exc}",
        stacklevel=3,
    )


def unload(shell: Any) -> None:
    """Remove every magic, registry entry and configurable flux_magic added."""
    manager = shell.magics_manager
    for kind in manager.magics:
        for name, fn in list(manager.magics[kind].items()):
            if _is_ours(fn):
                del manager.magics[kind][name]
    for key, instance in list(manager.registry.items()):
        if _is_ours(type(instance)):
            del manager.registry[key]
    shell.configurables[:] = [c for c in shell.configurables if not _is_ours(type(c))]
