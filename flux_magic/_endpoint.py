"""``endpoint(url)(map_fn)(df)``: Flux's ``http.endpoint`` with the same currying."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, overload

import pandas as pd

from ._errors import EndpointError, SendInterrupted, UsageError
from ._frames import DASK, frame_kind, require, to_pandas
from ._options import Options
from ._preview import preview_frame
from ._request import check_url
from ._rows import check_frame
from ._secrets import mask_text, mask_url
from ._send import AnswerCheck, ProgressCallback, send_frame

__all__ = ["Endpoint", "Hooks", "Sender", "endpoint"]


@dataclass(frozen=True, slots=True)
class Hooks:
    """What an endpoint built on ``Sender`` (``flux_magic.endpoints``) adds to every send.

    Attributes
    ----------
    secrets : tuple of str
        Literal values (tokens, keys) masked in previews, curl, reprs and errors.
    secret_fields : tuple of str
        JSON body fields whose values previews mask (e.g. ``routing_key``).
    answer_check : callable or None
        ``check(status, answer_bytes) -> str``: a service-level failure inside an answer
        counted as sent goes to ``_error`` (``_sent`` unchanged). Needs ``keep_answer``.
    keep_answer : int
        Answer bytes kept for ``answer_check`` / ``finish`` even when ``keep_response`` is 0
        (``_response`` then stays out of the result).
    prepare : callable or None
        ``prepare(df) -> df`` before rows are mapped (e.g. a dedup-key column).
    finish : callable or None
        ``finish(result) -> result`` after a send (extra or fewer columns).
    """

    secrets: tuple[str, ...] = ()
    secret_fields: tuple[str, ...] = ()
    answer_check: AnswerCheck | None = None
    keep_answer: int = 0
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    finish: Callable[[pd.DataFrame], pd.DataFrame] | None = None

    def mask(self, text: str) -> str:
        """``text`` with these secrets and URL credentials masked."""
        return mask_text(mask_url(text), self.secrets)


def endpoint(url: str, **options: Any) -> Endpoint:
    """Flux's ``http.endpoint(url:)``: returns a function of the mapping function.

    Parameters
    ----------
    url : str
        Where every row is POSTed (http or https). Checked now, before anything is sent.
    **options
        concurrency=1, timeout=30.0, sent_when="200", errors="collect", max_redirects=10,
        max_response_bytes=100 MB, keep_response=0, verify=True, retries=0,
        retry_unknown=False, backoff=0.5, idempotency_key=False, rate=None,
        block_private=False, allow_hosts=(), journal=None. See ``flux_magic.OPTION_DOCS``.

    Examples
    --------
    >>> import flux_magic, pandas as pd
    >>> df = pd.DataFrame({"_value": [1, 2]})
    >>> send = flux_magic.endpoint(url="http://127.0.0.1:9/")(
    ...     lambda r: {"headers": {"X-A": "1"}, "data": f"v={r._value}".encode()})
    >>> send.preview(df)["body"].tolist()
    ['v=1', 'v=2']
    """
    mapping = sorted(k for k in options if k.lower() in _MAPPING_NAMES)
    if mapping:
        raise UsageError(
            f"endpoint() takes the URL and sending options; the mapping function goes to what "
            f"it returns, as in Flux's http.endpoint(url: ...)(mapFn: ...): write "
            f"endpoint(url)({mapping[0]}=f), or endpoint(url)(f)."
        )
    return Endpoint(url, Options.from_kwargs(**options))


_MAPPING_NAMES = frozenset({"mapfn", "map_fn", "fn"})
_WHERE_MAPPING = (
    "give the endpoint its mapping function first: endpoint(url)(mapFn)(df), "
    "endpoint(url)(mapFn).preview(df), as in Flux's http.endpoint(url: ...)(mapFn: ...)(tables)."
)


class Endpoint:
    """An endpoint waiting for its mapping function: ``Endpoint(map_fn) -> Sender``."""

    def __init__(self, url: str, options: Options | None = None) -> None:
        self.url = check_url(url)
        self.options = options or Options()
        self.options.policy.check_url(self.url)

    def __call__(
        self,
        map_fn: Callable[[Any], Any] | None = None,
        /,
        *,
        mapFn: Callable[[Any], Any] | None = None,
        **kwargs: Any,
    ) -> Sender:
        given = [f for f in (map_fn, mapFn, kwargs.pop("map_fn", None)) if f is not None]
        if "mapfn" in kwargs:
            warnings.warn(
                "mapfn= is a typo in Flux's docs; the parameter is mapFn (accepted here).",
                stacklevel=2,
            )
            given.append(kwargs.pop("mapfn"))
        if kwargs:
            raise UsageError(
                f"unexpected argument(s) {', '.join(sorted(kwargs))}; pass the mapping "
                "function positionally, or as mapFn= / map_fn=. Options go to endpoint()."
            )
        if any(isinstance(f, pd.DataFrame) for f in given):
            raise UsageError(f"that is a DataFrame, not a mapping function; {_WHERE_MAPPING}")
        if len(given) != 1:
            raise UsageError(
                "pass exactly one mapping function, e.g. endpoint(url=...)(lambda r: "
                '{"headers": {}, "data": b"..."}).'
            )
        return Sender(self.url, given[0], self.options)

    def preview(self, *_args: Any, **_kwargs: Any) -> pd.DataFrame:
        """Not here yet: an endpoint previews once it has its mapping function."""
        raise UsageError(f"an endpoint without a mapping function cannot preview; {_WHERE_MAPPING}")

    def __repr__(self) -> str:
        return f"Endpoint(url={mask_url(self.url)!r})"


class Sender:
    """Sends one POST per row: ``sender(df)`` or ``df.pipe(sender)``.

    Attributes
    ----------
    result : pandas.DataFrame or None
        The last result, also after an interrupt or a strict-mode failure (partial then).
    """

    def __init__(
        self,
        url: str,
        map_fn: Callable[[Any], Any],
        options: Options,
        *,
        hooks: Hooks | None = None,
    ) -> None:
        if not callable(map_fn):
            raise UsageError(
                f"the mapping function must be callable (e.g. a lambda r: {{...}}), "
                f"not {type(map_fn).__name__}."
            )
        self.url = url
        self.map_fn = map_fn
        self.options = options
        self.hooks = hooks or Hooks()
        self.result: Any = None

    @overload
    def __call__(
        self,
        df: pd.DataFrame,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame: ...

    @overload
    def __call__(
        self,
        df: Any,
        *,
        progress: ProgressCallback | None = None,
        cancel: Any = None,
        limit: int | None = None,
    ) -> Any: ...

    def __call__(
        self,
        df: Any,
        *,
        progress: ProgressCallback | None = None,
        cancel: Any = None,
        limit: int | None = None,
    ) -> Any:
        """Send every row of ``df``; return it with ``_status``, ``_sent``, ``_error`` and
        ``_elapsed``.

        ``df`` may be a pandas or Polars DataFrame (or a Polars LazyFrame, collected once);
        the result is of the same library. For a Dask DataFrame the result is a lazy Dask
        DataFrame: building it sends nothing, each ``compute()`` sends every row (again); its
        ``cancel`` may be a ``distributed.Event``. ``sender.send(ddf)`` sends at once instead.

        ``progress(done, total, sent, failed)`` is called from this thread about ten times a
        second and once at the end. Setting ``cancel`` (a ``threading.Event``) stops the send
        promptly; the result still has every row. Ctrl-C raises ``SendInterrupted``, whose
        ``result`` (also ``self.result``) has every row. ``limit=n`` sends only the first
        ``n`` rows, as Flux's ``limit(n:)`` before the endpoint: the result has those rows.
        """
        kind = frame_kind(df)
        if kind == DASK:
            if progress is not None:
                raise UsageError(
                    "sender(ddf) builds a lazy result and sends nothing yet, so there is no "
                    "progress to report; use sender.send(ddf, progress=...) to send at once."
                )
            require(DASK)
            from ._dask import lazy_send

            self._plain_only("a Dask DataFrame")
            if limit is not None:
                raise UsageError(
                    "limit= is for pandas and Polars frames; for a Dask DataFrame take the "
                    "rows first, e.g. sender(ddf.head(n, npartitions=-1, compute=False))."
                )
            check_frame(df._meta)
            return lazy_send(df, self.map_fn, self.url, self.options, cancel=cancel)
        if kind is None:
            check_frame(df)  # explains what is wrong with it
        converted, back = to_pandas(df)
        hooks = self.hooks
        frame = check_frame(converted)
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise UsageError(f"limit must be a whole number >= 0, not {limit!r}.")
            frame = frame.iloc[:limit]
        if hooks.prepare is not None:
            frame = hooks.prepare(frame)
        options = self.options
        forced = hooks.keep_answer > options.keep_response
        if forced:
            options = options.replace(keep_response=hooks.keep_answer)
        try:
            self.result = back(
                self._finish(
                    send_frame(
                        frame,
                        self.map_fn,
                        self.url,
                        options,
                        progress=progress,
                        cancel=cancel,
                        answer_check=hooks.answer_check,
                        secrets=hooks.secrets,
                    ),
                    forced,
                )
            )
        except (EndpointError, SendInterrupted) as exc:
            exc.result = self.result = back(self._finish(exc.result, forced))
            raise
        except Exception as exc:  # flux_magic itself failed: the rows already sent are kept
            partial = getattr(exc, "result", None)
            if isinstance(partial, pd.DataFrame):
                self.result = partial
            raise
        return self.result

    def resend_failed(
        self,
        result: Any,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Any:
        """Send again the rows of an earlier ``result`` whose ``_sent`` is not "true".

        Returns the whole result, in its order and with its index, those rows updated (their
        ``_status``, ``_sent``, ``_error``, ``_elapsed``...); the other rows are as they were.
        A Polars result comes back as Polars; a lazy Dask result must be computed first.
        The rows keep their index labels, so ``idempotency_key=True`` sends the keys of the
        first attempt. An interrupt raises ``SendInterrupted`` whose ``result`` is the whole
        result, merged the same way.

        Examples
        --------
        >>> import flux_magic, pandas as pd
        >>> with flux_magic.Receiver() as rx:  # doctest: +SKIP
        ...     send = flux_magic.endpoint(rx.url)(lambda r: {"headers": {}, "data": b"x"})
        ...     result = send(df)
        ...     result = send.resend_failed(result)
        """
        from ._errors import SendInterrupted
        from ._resend import failed_rows, merge_rows

        kind = frame_kind(result)
        if kind == DASK:
            raise UsageError(
                "resend_failed needs a computed result, and this Dask result is lazy: compute "
                "it once (result = lazy.compute(), or result = sender.send(ddf)), then "
                "sender.resend_failed(result)."
            )
        if kind is None:
            failed_rows(result)  # not a frame: raises, saying what resend_failed needs
        result, back = to_pandas(result)
        positions, rows = failed_rows(result)
        if not positions:
            unchanged = back(result.copy())
            self.result = unchanged
            return unchanged
        try:
            again = self(rows, progress=progress, cancel=cancel)
        except SendInterrupted as exc:
            self.result = back(merge_rows(result, positions, exc.result))
            raise SendInterrupted(str(exc), result=self.result) from None
        merged = back(merge_rows(result, positions, again))
        self.result = merged
        return merged

    def _finish(self, result: pd.DataFrame, forced: bool) -> pd.DataFrame:
        if self.hooks.finish is not None:
            result = self.hooks.finish(result)
        if forced and "_response" in result.columns:
            result = result.drop(columns="_response")
        return result

    def _plain_only(self, what: str) -> None:
        """Dask sends run the plain engine on workers; endpoints with hooks need pandas."""
        if self.hooks != Hooks():
            raise UsageError(
                f"this endpoint does not send {what}; compute it into pandas first "
                "(ddf.compute()), or use flux_magic.endpoint(url)(map_fn)."
            )

    def send(
        self,
        df: Any,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        limit: int | None = None,
    ) -> Any:
        """Send every row of ``df`` now, whatever its library; a Dask result comes as pandas.

        For pandas and Polars frames this is ``sender(df)``. A Dask DataFrame is computed at
        once (on the ``dask.distributed`` client when there is one, else partition after
        partition here), with ``progress`` per finished partition; ``cancel`` and Ctrl-C stop
        every partition promptly, and the result accounts for every row.

        Examples
        --------
        >>> import flux_magic, pandas as pd
        >>> with flux_magic.Receiver() as rx:
        ...     send = flux_magic.endpoint(url=rx.url)(lambda r: {"headers": {}, "data": b"x"})
        ...     send.send(pd.DataFrame({"v": [1, 2]}))["_sent"].tolist()
        ['true', 'true']
        """
        if frame_kind(df) != DASK:
            return self(df, progress=progress, cancel=cancel, limit=limit)
        require(DASK)
        self._plain_only("a Dask DataFrame")
        if limit is not None:
            self(df, limit=limit)  # raises the explanation
        from ._dask import send_now

        try:
            self.result = send_now(
                df, self.map_fn, self.url, self.options, progress=progress, cancel=cancel
            )
        except SendInterrupted as exc:
            self.result = exc.result
            raise
        return self.result

    def preview(self, df: Any, n: int = 10, *, reveal: bool = False) -> Any:
        """The requests the first ``n`` rows would make; nothing is sent.

        Columns: row, method, url, headers, body, size, curl, error. Secrets are masked
        unless ``reveal=True`` (for a paste-able curl command). A Polars frame gives a Polars
        table; a Dask DataFrame is read from its first partition only.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise UsageError(f"n must be a whole number >= 0, not {n!r}.")
        kind = frame_kind(df)
        back: Callable[[Any], Any] | None = None
        if kind == DASK:
            require(DASK)
            from ._dask import preview_head

            head = preview_head(df, n)
        else:
            if kind is None:
                check_frame(df)  # explains what is wrong with it
            head, back = to_pandas(df, head=n)
        frame = check_frame(head)
        if self.hooks.prepare is not None:
            frame = self.hooks.prepare(frame.iloc[:n])
        table = preview_frame(
            frame,
            self.map_fn,
            self.url,
            n,
            reveal=reveal,
            secrets=self.hooks.secrets,
            secret_fields=self.hooks.secret_fields,
        )
        return back(table) if back is not None else table

    def __repr__(self) -> str:
        name = getattr(self.map_fn, "__name__", type(self.map_fn).__name__)
        url = self.hooks.mask(self.url)
        return f"{type(self).__name__}(url={url!r}, map_fn={name}, {self.options!r})"
