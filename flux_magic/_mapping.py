"""Mapping functions from source text: a Python expression or a Flux function literal.

The ``%%flux_endpoint`` cell body and the widget's editor both hold text; this module turns it
into the callable the engine wants, with one wording for every mistake. Nothing here imports
IPython or ipywidgets; the front ends only prefix or place the message.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable
from typing import Any

from ._errors import UsageError

__all__ = [
    "DEFAULT_MAPPING",
    "MappingSourceError",
    "compile_mapping",
    "is_flux_source",
    "mapping_syntax_error",
]

#: Flux's ``http.endpoint`` docs example (``sampledata.int()`` posted as "The value is
#: ${r._value}" with two fixed headers), in Python form.
DEFAULT_MAPPING = """lambda r: {
    "headers": {"header1": "example1", "header2": "example2"},
    "data": f"The value is {r._value}".encode(),
}"""

_FILENAME = "<mapping>"
_SHORT = 60


class MappingSourceError(UsageError):
    """The mapping text does not parse, does not evaluate, or is not a function."""


def is_flux_source(source: str) -> bool:
    """Whether ``source`` is a Flux function literal (``(r) => ...``) rather than Python."""
    from ._flux import looks_like_flux

    return bool(looks_like_flux(source))


def _normalise(source: str) -> tuple[str, int]:
    """The source without leading blank lines or common indentation, and how many were cut."""
    lines = source.split("\n")
    skipped = 0
    while skipped < len(lines) and not lines[skipped].strip():
        skipped += 1
    return textwrap.dedent("\n".join(lines[skipped:])).rstrip(), skipped


def _syntax_message(exc: SyntaxError, what: str, skipped: int) -> str:
    where = f"line {(exc.lineno or 1) + skipped}"
    code = (exc.text or "").strip()
    shown = f": {code[:80]!r}" if code else ""
    return (
        f"{what} is not a valid Python expression ({where}{shown}: {exc.msg}). It is one "
        "expression: a lambda, or the name of a function defined in another cell."
    )


def _flux(source: str) -> Callable[[Any], Any]:
    from ._errors import FluxMagicError
    from ._flux import flux_fn

    try:
        return flux_fn(source)
    except FluxMagicError as exc:
        raise MappingSourceError(str(exc)) from None


def mapping_syntax_error(source: str, what: str = "the mapping") -> str:
    """The syntax error of ``source`` as a message, or "" — nothing is evaluated."""
    text, skipped = _normalise(source)
    if not text:
        return ""
    if is_flux_source(text):
        try:
            _flux(text)  # parsing and checking Flux runs no row
        except MappingSourceError as exc:
            return str(exc)
        return ""
    try:
        ast.parse(text, _FILENAME, mode="eval")
    except SyntaxError as exc:
        return _syntax_message(exc, what, skipped)
    return ""


def compile_mapping(
    source: str, namespace: dict[str, Any], what: str = "the mapping"
) -> Callable[[Any], Any]:
    """The mapping function ``source`` stands for, evaluated in ``namespace``.

    Raises ``MappingSourceError`` (a ``UsageError``) naming the line for every mistake.

    Examples
    --------
    >>> fn = compile_mapping('lambda r: {"data": b"x"}', {})
    >>> fn({})
    {'data': b'x'}
    """
    text, skipped = _normalise(source)
    if not text:
        raise MappingSourceError(
            f"{what} is empty; write a function of one row r, e.g. "
            'lambda r: {"headers": {}, "data": f"{r._value}".encode()}'
        )
    if is_flux_source(text):
        return _check_callable(_flux(text), "the Flux function")
    try:
        tree = ast.parse(text, _FILENAME, mode="eval")
    except SyntaxError as exc:
        raise MappingSourceError(_syntax_message(exc, what, skipped)) from None
    try:
        fn = eval(compile(tree, _FILENAME, "eval"), namespace)
    except Exception as exc:
        line = _error_line(exc) + skipped
        raise MappingSourceError(
            f"evaluating {what} raised {type(exc).__name__}: {exc} (line {line})"
        ) from None
    return _check_callable(fn, what)


def _check_callable(fn: Any, what: str) -> Callable[[Any], Any]:
    if not callable(fn):
        shown = repr(fn)
        shown = shown if len(shown) <= _SHORT else shown[: _SHORT - 3] + "..."
        raise MappingSourceError(
            f"{what} evaluated to {shown} ({type(fn).__name__}), not a function; it must be "
            'a function of one row, e.g. lambda r: {"headers": {}, "data": b"..."}, or the '
            "name of one."
        )
    return fn  # type: ignore[no-any-return]


def _error_line(exc: BaseException) -> int:
    tb = exc.__traceback__
    line = 1
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
