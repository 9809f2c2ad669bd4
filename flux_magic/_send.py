"""One send from start to finish: the ledger of every row, the sending thread, the caller's
wait loop (progress, cancel, Ctrl-C) and the result.

The transport runs in a thread of its own. The calling thread only waits, reports progress and
reacts to a cancel signal or a KeyboardInterrupt. Every row has exactly one entry in the
ledger, so whatever stops the send, the result accounts for every row:

* answered: ``_status`` is the status code;
* failed: ``_status`` "" (or the status, for a cut answer) and ``_error`` says why;
* never attempted: ``_error`` "not sent: ...";
* in flight when the send was stopped: ``_error`` "outcome unknown: ...".
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any

import pandas as pd

from ._errors import EndpointError, MappingError, SendInterrupted
from ._identity import RowIds, idempotency_keys, key_bytes, key_strings, row_ids
from ._journal import JournalWriter, open_journal
from ._options import Options
from ._request import Request, build_request, describe_row
from ._rows import iter_rows
from ._secrets import mask_text, mask_url, secret_values
from ._transports import Outcome, Pacing, run_transport

__all__ = [
    "CHECKED_ROWS",
    "AnswerCheck",
    "ProgressCallback",
    "Run",
    "check_head",
    "send_frame",
]

ProgressCallback = Callable[[int, int, int, int], Any]
"""``progress(done, total, sent, failed)``, called from the thread that called the sender."""

AnswerCheck = Callable[[int, "bytes | None"], str]
"""``check(status, kept_answer) -> ""`` or what the service said went wrong inside an answer
whose status counts as sent (Slack's ``"ok": false``). Such a row keeps ``_sent`` as Flux has
it; its ``_error`` carries the text."""

#: How often the caller's loop wakes up to report progress and look at the cancel signal.
POLL_SECONDS = 0.1
#: After a cancel or interrupt, how long requests already in flight may take to finish.
GRACE_SECONDS = 1.0
#: When each of the first this many rows fails to map, nothing is sent (``check_head``).
CHECKED_ROWS = 5

NOT_ATTEMPTED = 0
IN_FLIGHT = 1
DONE = 2


class Run:
    """The ledger of one send: per-row state, status, error and counters."""

    def __init__(
        self,
        total: int,
        options: Options,
        labels: pd.Index,
        url: str,
        *,
        ids: RowIds | None = None,
        keys: list[str] | None = None,
        answer_check: AnswerCheck | None = None,
        secrets: Sequence[str] = (),
        pacer: Pacing | None = None,
    ) -> None:
        self.total = total
        self.options = options
        self.labels = labels
        self.url = url
        self.state = bytearray(total)
        self.status = [0] * total
        self.error = [""] * total
        self.response: list[bytes | None] | None = [None] * total if options.keep_response else None
        self.attempts: list[int] | None = [0] * total if options.retries else None
        #: Seconds from a row's first attempt to its outcome (retries and waits included);
        #: NaN for a row never attempted.
        self.elapsed = [math.nan] * total
        self._began = [0.0] * total
        self.done = 0
        self.sent = 0
        self.stop_reason = ""  # "cancelled", "interrupted", "strict"
        self.failed_position: int | None = None
        self.failure: BaseException | None = None
        self.crash: BaseException | None = None
        #: Set by a transport that can cancel its in-flight requests from another thread.
        self.abandon: Callable[[], None] | None = None
        #: Set when the sending thread ends. Waiting on it rather than ``Thread.join`` matters:
        #: in Python 3.11 a Ctrl-C that interrupts ``join`` marks the thread as stopped while
        #: it still runs, so later joins return at once and in-flight rows get no grace.
        self.finished = threading.Event()
        self._frozen = False
        self._lock = threading.Lock()
        self._ok_any_2xx = options.sent_when == "2xx"
        self._secrets = [*secret_values(url), *(x for x in secrets if x)]
        self._answer_check = answer_check
        #: What the service said went wrong inside an answer counted as sent ("" if nothing).
        self.answer: list[str] | None = [""] * total if answer_check is not None else None
        #: Stable per-row identities (``_identity.row_ids``), when a feature needs them.
        self.ids = ids
        #: Each row's Idempotency-Key (derived from ``ids`` when first needed).
        self.keys: list[str] | None = keys
        #: The rate clock to use instead of one of this send's own (a Dask cluster's).
        self.pacer = pacer
        #: The journal's hooks (``_journal.JournalWriter``), when the send has a journal.
        self.journal: JournalWriter | None = None
        #: What the journal said about this send (``flux_journal`` in the result's attrs).
        self.journal_note: dict[str, object] | None = None

    # -- what transports call ---------------------------------------------------------
    @property
    def stopping(self) -> bool:
        return bool(self.stop_reason)

    def begin(self, position: int) -> None:
        if self.journal is not None:
            self.journal.began(position)  # the row's claim is committed: it may leave
        self._began[position] = time.perf_counter()
        self.state[position] = IN_FLIGHT

    def finish(self, position: int, outcome: Outcome, attempts: int = 1) -> None:
        status, error, response = outcome
        with self._lock:
            if self._frozen:
                return
            self.state[position] = DONE
            self.elapsed[position] = elapsed = time.perf_counter() - self._began[position]
            if self.attempts is not None:
                self.attempts[position] = attempts
            self.status[position] = status
            if error:
                self.error[position] = mask_text(error, self._secrets) if self._secrets else error
            if self.response is not None:
                self.response[position] = response
            if self.answer is not None and self._answer_check is not None and not error:
                note = self._answer_check(status, response)
                if note:
                    self.answer[position] = mask_text(note, self._secrets)
            if sent := self.is_sent(status) and not error:
                self.sent += 1
            elif error and self.options.strict and not self.stop_reason:
                self.stop("strict", position)
            if self.journal is not None:  # on record at once; the rest is read from here
                self.journal.outcome(position, status, sent, attempts, elapsed)
            self.done += 1  # counted once on record: progress never runs ahead of the journal

    def settle(
        self,
        position: int,
        status: int,
        error: str,
        attempts: int,
        elapsed: float,
        *,
        sent: bool = False,
    ) -> None:
        """A row whose outcome an earlier run recorded (a resumed journal): not sent again.

        For a row recorded as sent, ``error`` is what the service said inside its answer
        (``AnswerCheck``), shown in ``_error`` while ``_sent`` stays "true".
        """
        self.state[position] = DONE
        self.status[position] = status
        if sent and error:
            if self.answer is None:
                self.answer = [""] * self.total
            self.answer[position] = error
        else:
            self.error[position] = error
        self.elapsed[position] = elapsed
        if self.attempts is not None:
            self.attempts[position] = attempts
        self.done += 1
        if self.is_sent(status) and not self.error[position]:
            self.sent += 1

    def key_list(self) -> list[str]:
        """Every row's Idempotency-Key: derived from its identity (all rows at once, when first
        needed), so a re-run sends the same; a resumed journal's rows keep their recorded key."""
        if self.keys is None:
            if self.ids is None:
                raise RuntimeError("idempotency keys need the rows' identities")
            self.keys = idempotency_keys(self.url, self.ids)
        return self.keys

    def fail_mapping(self, position: int, exc: MappingError) -> None:
        with self._lock:
            if self._frozen:
                return
            self.state[position] = DONE
            self.done += 1
            text = str(exc)
            self.error[position] = "mapping error: " + (
                mask_text(text, self._secrets) if self._secrets else text
            )
            if self.options.strict and not self.stop_reason:
                self.failure = exc
                self.stop("strict", position)
            if self.journal is not None:
                self.journal.failed_mapping(position)

    # -- what the caller does -----------------------------------------------------------
    def is_sent(self, status: int) -> bool:
        return status == 200 or (self._ok_any_2xx and 200 <= status < 300)

    def stop(self, reason: str, position: int | None = None) -> None:
        if not self.stop_reason:
            self.stop_reason = reason
            self.failed_position = position

    def freeze(self) -> None:
        """Close the books: rows still in flight or never attempted get their reason."""
        with self._lock:
            self._frozen = True
            why = {"cancelled": "the send was cancelled", "strict": "an earlier row failed"}.get(
                self.stop_reason, "the send was interrupted"
            )
            for pos in range(self.total):
                state = self.state[pos]
                if state == NOT_ATTEMPTED:
                    self.error[pos] = f"not sent: {why} before this row was attempted"
                elif state == IN_FLIGHT:
                    self.elapsed[pos] = time.perf_counter() - self._began[pos]
                    self.error[pos] = (
                        f"outcome unknown: {why} while this request was in flight; "
                        "the server may or may not have received it"
                    )
        if self.journal is not None:
            self.journal.close()  # the last outcomes, and claims given back

    @property
    def failed(self) -> int:
        return self.done - self.sent

    def in_flight(self) -> int:
        return self.state.count(IN_FLIGHT)


def check_head(failures: list[MappingError], secrets: list[str] | None = None) -> None:
    """The one rule every front end follows: when each of the first ``CHECKED_ROWS`` rows
    fails to map, nothing is sent and the send stops with one error that says so.

    ``failures`` are the mapping errors of the first rows, as long as no row has mapped.
    (A shorter DataFrame whose rows all fail sends nothing either; each row reports its own
    error, as any row that fails to map does.)
    """
    if len(failures) < CHECKED_ROWS:
        return
    first = failures[0]
    reason = mask_text(str(first), secrets) if secrets else str(first)
    raise MappingError(
        f"the mapping failed for each of the first {CHECKED_ROWS} rows, so nothing was sent. "
        f"The first: {reason} Fix the mapping and check it with a preview. (flux_magic stops "
        f"before sending when the first {CHECKED_ROWS} rows all fail to map; otherwise a row "
        "that fails to map gets its reason in _error and the other rows go.)",
        row=first.row,
        position=first.position,
    )


def _requests(
    df: pd.DataFrame, map_fn: Callable[[Any], Any], run: Run
) -> Iterator[tuple[int, Request]]:
    labels = run.labels
    state = run.state
    # the Idempotency-Key goes in here, in the mapping thread, once per row (the transports
    # send it on every attempt). With a journal every request carries the key the journal
    # records: only a key that went with the first request lets the server drop a resumed
    # send's duplicate.
    keyed = run.journal is not None or run.options.idempotency_key
    keys = run.key_list() if keyed else []
    # the mapping errors of the first rows, until one row maps (nothing has been sent till then)
    failures: list[MappingError] | None = []
    for position, row in enumerate(iter_rows(df)):
        if run.stopping:
            return
        if state[position]:  # settled from the journal: not sent again
            continue
        try:
            req = build_request(map_fn, row, labels, position)
        except MappingError as exc:
            if failures is not None:
                failures.append(exc)
                check_head(failures, run._secrets)
            run.fail_mapping(position, exc)
            continue
        if keyed:
            headers = req.headers
            if "Idempotency-Key" not in headers and "idempotency-key" not in headers:
                headers = {**headers, "Idempotency-Key": keys[position]}
                req = tuple.__new__(Request, (headers, req.body))  # Request(...), faster
        failures = None
        if run.stopping:  # stopped while the mapping ran: the row stays "not sent", truly
            return
        yield position, req


def _sending_thread(df: pd.DataFrame, map_fn: Callable[[Any], Any], run: Run) -> None:
    try:
        run_transport(run.url, _requests(df, map_fn, run), run, run.options)
    except KeyboardInterrupt:  # raised by the mapping function
        run.stop("interrupted")
    except BaseException as exc:  # a bug, not a row's failure: surface it to the caller
        if not (run.stopping and isinstance(exc, asyncio.CancelledError)):  # not abandon()
            run.crash = exc
            run.stop("crashed")
    finally:
        run.finished.set()


def send_frame(
    df: pd.DataFrame,
    map_fn: Callable[[Any], Any],
    url: str,
    options: Options,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    scope: str = "",
    answer_check: AnswerCheck | None = None,
    secrets: Sequence[str] = (),
    pacer: Pacing | None = None,
) -> pd.DataFrame:
    """Send one request per row of ``df`` and return the result DataFrame.

    ``scope`` keeps the identities of equal rows in different scopes (Dask partitions) apart.
    ``answer_check`` reads each kept answer (see ``AnswerCheck``); ``secrets`` are literal
    values masked in every error text. ``pacer`` replaces the send's own rate clock (one
    shared by a Dask cluster's tasks).
    """
    journal = (
        open_journal(
            options.journal, url, rows=len(df), scope=scope, concurrency=options.concurrency
        )
        if options.journal
        else None
    )
    needs_identity = options.idempotency_key or journal is not None
    ids = row_ids(df, scope=scope) if needs_identity else None
    run = Run(
        len(df),
        options,
        df.index,
        url,
        ids=ids,
        answer_check=answer_check,
        secrets=secrets,
        pacer=pacer,
    )
    if journal is not None and ids is not None:
        try:
            raw_keys = key_bytes(url, ids)
            run.journal_note = journal.resume(run, ids, raw_keys).note()  # may set raw_keys
            run.keys = key_strings(raw_keys)
            run.journal = journal.writer(run, ids, raw_keys)
        except BaseException:
            journal.close()
            raise
    if cancel is not None and cancel.is_set():
        run.stop("cancelled")  # cancelled before it began: nothing goes
    if run.total == 0 or run.stopping:
        run.freeze()
        return assemble(df, run)
    worker = threading.Thread(
        target=_sending_thread, args=(df, map_fn, run), name="flux_magic-send", daemon=True
    )
    interrupted = False
    worker.start()
    try:
        _wait(worker, run, progress, cancel)
    except KeyboardInterrupt:
        interrupted = True
        run.stop("interrupted")
        run.finished.wait(GRACE_SECONDS)
    except BaseException:  # e.g. a progress callback that raised: stop sending, then re-raise
        run.stop("interrupted")
        run.finished.wait(GRACE_SECONDS)
        _abandon(worker, run)
        run.freeze()
        raise
    _abandon(worker, run)
    run.freeze()
    if progress is not None:
        progress(run.done, run.total, run.sent, run.failed)
    if run.crash is not None:
        raise _with_partial_result(run.crash, assemble(df, run))
    if run.stop_reason == "strict":
        raise _strict_error(df, run)
    result = assemble(df, run)
    if interrupted or run.stop_reason == "interrupted":
        unknown = sum(e.startswith("outcome unknown") for e in run.error)
        raise SendInterrupted(
            f"interrupted after {run.done:,} of {run.total:,} rows ({run.sent:,} sent"
            + (f", {unknown} in flight with unknown outcome" if unknown else "")
            + "); every row is in the result: exc.result, or sender.result.",
            result=result,
        )
    return result


def _abandon(worker: threading.Thread, run: Run) -> None:
    """Requests still in flight after the grace period are cancelled where the transport can."""
    if not run.finished.is_set() and run.abandon is not None:
        run.abandon()


def _wait(
    worker: threading.Thread,
    run: Run,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> None:
    deadline: float | None = None
    while True:
        if run.finished.wait(POLL_SECONDS):
            return
        if progress is not None:
            progress(run.done, run.total, run.sent, run.failed)
        if cancel is not None and cancel.is_set() and not run.stopping:
            run.stop("cancelled")
        if run.stopping and run.stop_reason != "strict":
            deadline = deadline or time.monotonic() + GRACE_SECONDS
            if time.monotonic() >= deadline:
                return  # leave the stragglers: freeze() reports them as outcome unknown


def assemble(df: pd.DataFrame, run: Run, *, positions: list[int] | None = None) -> pd.DataFrame:
    """The input columns plus ``_status``, ``_sent``, ``_error`` and ``_elapsed``."""
    status = run.status
    error = run.error
    elapsed = run.elapsed
    if run.answer is not None:  # a service-level failure inside a sent answer
        error = [e or a for e, a in zip(error, run.answer, strict=True)]
    if positions is not None:
        out = df.iloc[positions].copy()
        status = [status[p] for p in positions]
        error = [error[p] for p in positions]
        elapsed = [elapsed[p] for p in positions]
    else:
        out = df.copy(deep=False)
    codes = {s: str(s) for s in set(status)}
    codes[0] = ""
    out["_status"] = pd.Series([codes[s] for s in status], index=out.index, dtype=object)
    failed = run.error if positions is None else [run.error[p] for p in positions]
    sent = [
        "true" if run.is_sent(s) and not e else "false" for s, e in zip(status, failed, strict=True)
    ]
    out["_sent"] = pd.Series(sent, index=out.index, dtype=object)
    out["_error"] = pd.Series(error, index=out.index, dtype=object)
    out["_elapsed"] = pd.Series(elapsed, index=out.index, dtype="float64")
    if run.response is not None:
        kept = run.response if positions is None else [run.response[p] for p in positions]
        out["_response"] = pd.Series(kept, index=out.index, dtype=object)
    if run.attempts is not None:
        tries = run.attempts if positions is None else [run.attempts[p] for p in positions]
        out["_attempts"] = pd.Series(tries, index=out.index, dtype="int64")
    if run.journal_note is not None:
        out.attrs["flux_journal"] = dict(run.journal_note)
    key = df.attrs.get("flux_group_key")
    if isinstance(key, list | tuple):
        out.attrs["flux_group_key"] = [*(c for c in key if c != "_sent"), "_sent"]
    return out


def _with_partial_result(exc: BaseException, result: pd.DataFrame) -> BaseException:
    """``exc`` (flux_magic itself failed mid-send) carrying every row as ``exc.result``: rows
    the server already got keep their status, the others say they were not sent."""
    try:
        exc.result = result  # type: ignore[attr-defined]
    except AttributeError:  # an exception type without a __dict__: the note still says it
        return exc
    exc.add_note(
        "flux_magic failed during the send; every row is in exc.result (also sender.result), "
        "with the status of those the server already got."
    )
    return exc


def _strict_error(df: pd.DataFrame, run: Run) -> EndpointError:
    pos = run.failed_position if run.failed_position is not None else 0
    attempted = [p for p in range(run.total) if run.state[p] == DONE and p != pos]
    result = assemble(df, run, positions=attempted)
    label: Hashable = run.labels[pos]
    reason = run.error[pos] or "failed"
    return EndpointError(
        f"{describe_row(label, pos)} failed, so the send stopped there (strict mode, as Flux): "
        f"{reason}. {len(attempted):,} row(s) were sent before it; they are in exc.result. "
        'Use errors="collect" to send every row and report failures per row.',
        result=result,
        row=label,
        position=pos,
        reason=reason,
    )


def masked_url(url: str) -> str:
    return mask_url(url)
