"""Flux-style error messages: ``error @line:col-line:col: message`` and the text underlined."""

from __future__ import annotations

from flux_magic._errors import FluxError

__all__ = ["FluxRuntimeError", "flux_error", "line_col"]


class FluxRuntimeError(Exception):
    """Raised inside builtins; the evaluator adds the position and turns it into FluxError."""

    def __init__(
        self,
        message: str,
        *,
        kind: str = "error",
        param: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.param = param
        self.hint = hint


def line_col(source: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    offset = max(0, min(offset, len(source)))
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return line, column


def flux_error(
    source: str,
    start: int,
    end: int,
    message: str,
    *,
    kind: str = "error",
    hint: str | None = None,
) -> FluxError:
    """Build a FluxError pointing at ``source[start:end]``.

    The message reads like Flux's own (``error @1:8-1:11: undefined identifier foo``), followed
    by the offending line with the span underlined and, when given, a hint.
    """
    end = max(end, start + 1) if start < len(source) else max(end, start)
    line, column = line_col(source, start)
    end_line, end_column = line_col(source, end)
    head = f"{kind} @{line}:{column}-{end_line}:{end_column}: {message}"
    lines = source.split("\n")
    text = lines[line - 1] if line - 1 < len(lines) else ""
    width = (end_column - column) if end_line == line else max(1, len(text) - column + 1)
    gutter = f"{line:>3} | "
    underline = " " * (len(gutter) - 2) + "| " + " " * (column - 1) + "^" * max(1, width)
    parts = [head, "", gutter + text, underline]
    if hint:
        parts += ["", hint]
    error = FluxError("\n".join(parts))
    error.line = line  # type: ignore[attr-defined]
    error.column = column  # type: ignore[attr-defined]
    error.span = (start, end)  # type: ignore[attr-defined]
    error.kind = kind  # type: ignore[attr-defined]
    error.brief = message  # type: ignore[attr-defined]
    return error
