"""The exception tree of flux_magic.

::

    FluxMagicError                  every error flux_magic raises on purpose
    ├── UsageError (ValueError)     bad arguments: URL, options, DataFrame, mapping function
    │   └── JournalError            a journal that cannot be used: unwritable, full, corrupt
    ├── MappingError (ValueError)   the mapping raised or returned a bad shape, for one row
    │   └── HeaderError             a header name or value that cannot be sent
    ├── EndpointError               strict mode: the first failed row stops the send
    └── FluxError (ValueError)      Flux source that does not parse or evaluate
    SendInterrupted                 (a KeyboardInterrupt) Ctrl-C during a send; has the result

Every exception that concerns one row carries ``row`` (the index label) and ``position``
(0-based) attributes; messages name the row and never contain secret values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EndpointError",
    "FluxError",
    "FluxMagicError",
    "HeaderError",
    "JournalError",
    "MappingError",
    "SendInterrupted",
    "UsageError",
]


class FluxMagicError(Exception):
    """Base class of every error flux_magic raises on purpose."""


class UsageError(FluxMagicError, ValueError):
    """An argument is wrong: the URL, an option, the DataFrame or the mapping function."""


class JournalError(UsageError):
    """The journal (option ``journal=``) cannot be used: a path that cannot be written, a
    full disk, a file that is not a flux_magic journal, or the journal of another send.

    Raised before anything is sent; a journal file is never reset or overwritten to get past
    one of these.
    """


class MappingError(FluxMagicError, ValueError):
    """The mapping function failed or returned something that is not a request, for one row."""

    def __init__(self, message: str, *, row: Any = None, position: int | None = None) -> None:
        super().__init__(message)
        self.row = row
        self.position = position


class HeaderError(MappingError):
    """A header name or value that cannot be sent (not a string, a newline, a bad name)."""


class EndpointError(FluxMagicError):
    """Strict mode (``errors="raise"``): a row failed, so the send stopped there, as in Flux.

    Attributes
    ----------
    result : pandas.DataFrame
        The rows that were attempted before the send stopped, with ``_status`` and ``_sent``.
        Those rows were really sent; the rest of the input was not.
    row, position :
        Index label and 0-based position of the row that failed.
    reason : str
        What went wrong for that row.
    """

    def __init__(
        self,
        message: str,
        *,
        result: pd.DataFrame,
        row: Any,
        position: int,
        reason: str,
    ) -> None:
        super().__init__(message)
        self.result = result
        self.row = row
        self.position = position
        self.reason = reason


class FluxError(FluxMagicError, ValueError):
    """Flux source that does not parse or does not evaluate; the message points at line:column."""


class SendInterrupted(KeyboardInterrupt):
    """The send was interrupted (Ctrl-C, kernel interrupt). ``result`` holds every row.

    Rows that got an answer keep their ``_status``; rows that were never attempted have
    ``_sent`` "false" and an ``_error`` saying they were not sent; a row whose request was in
    flight says its outcome is unknown. The same DataFrame is also kept as ``sender.result``.
    """

    def __init__(self, message: str, *, result: pd.DataFrame) -> None:
        super().__init__(message)
        self.result = result
