"""Dask DataFrames: a lazy result with its columns declared up front, sent partition by partition.

``lazy_send`` returns ``ddf.map_partitions(...)`` with ``meta`` given, so building the graph
runs nothing: Dask never calls the mapping on made-up rows (it would without ``meta``), and no
request leaves. The meta is the engine's own result for the zero-row frame ``ddf._meta``: the
same columns and dtypes a pandas send gives, by construction.

Each partition is an ordinary pandas send (``send_frame``) inside its task, on a worker: the
connection pool is created there, nothing with a socket is pickled. ``concurrency`` counts per
worker: a worker that runs T tasks at once (``threads_per_worker``) gives each task
``concurrency // T`` (at least 1). The row identities that derive Idempotency-Keys carry the
partition number, so a task that Dask runs again (a worker died) sends the same keys.

``rate`` holds for the whole cluster: the send's clock lives on the scheduler. A task asks the
scheduler (``Client.run_on_scheduler``, one round trip) for the next free slots, times on the
clock ``1 / rate`` s apart for all tasks of the send; it hands them out to its requests and
asks again when they are used up. The scheduler runs one event loop, so no two tasks get the
same slot. Accuracy: a request starts no earlier than its slot and at most
max(1 / rate, 50 ms) after it (a later wake-up takes a new slot, see ``_transports._retry``), so a
one-second window holds at most about ``rate + 1 + rate * max(1 / rate, 0.05)`` starts; workers
on other machines add their clock difference (NTP: milliseconds). Slots a task leaves unused
are lost (fewer requests, never more).
Without ``dask.distributed`` (Dask's local schedulers) one clock per process is shared by the
tasks of that process.

``send_now`` is the eager form the magic and the widget use: it computes on the distributed
client when there is one, reports progress per finished partition, and turns a cancel or a
Ctrl-C into a ``distributed.Event`` every task watches, so each partition stops promptly and
still accounts for every row.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

from ._errors import SendInterrupted, UsageError
from ._send import POLL_SECONDS, ProgressCallback, send_frame
from ._transports import Pacer

if TYPE_CHECKING:
    from ._options import Options

__all__ = ["ClusterPacer", "lazy_send", "preview_head", "send_now"]

#: A task asks the scheduler for this many seconds' worth of rate slots at a time (at least 1).
BLOCK_SECONDS = 0.02
#: How often a task looks at the send's cancel Event while it sends.
CANCEL_POLL_SECONDS = 0.2


class Plan(NamedTuple):
    """What every task of one send shares; only names, so it pickles without sockets."""

    token: str  # names the send's rate clock on the scheduler
    cancel: str | None  # name of the distributed.Event that stops every partition


def lazy_send(
    ddf: Any,
    map_fn: Callable[[Any], Any],
    url: str,
    options: Options,
    *,
    cancel: Any = None,
) -> Any:
    """The lazy Dask result of sending every row of ``ddf``; building it sends nothing."""
    if options.strict:
        raise UsageError(
            'errors="raise" stops a send at its first failed row, and Dask partitions send '
            'at the same time, so there is no first: use errors="collect" and look at '
            "result['_sent'], or send a pandas DataFrame."
        )
    cancel_name = None
    if cancel is not None:
        cancel_name = getattr(cancel, "name", None)
        if type(cancel).__module__.partition(".")[0] != "distributed" or not cancel_name:
            raise UsageError(
                "cancel= for a lazy Dask result must be a distributed.Event (every worker can "
                "see it); for a threading.Event, send at once with sender.send(ddf, cancel=...)."
            )
    return _build(ddf, map_fn, url, options, Plan(uuid.uuid4().hex, cancel_name))


def _build(ddf: Any, map_fn: Callable[[Any], Any], url: str, options: Options, plan: Plan) -> Any:
    meta = send_frame(ddf._meta, map_fn, url, options)  # zero rows: no request, no mapping call
    return ddf.map_partitions(
        _send_partition, map_fn, url, options, plan, meta=meta, partition_info=True
    )


def preview_head(ddf: Any, n: int) -> pd.DataFrame:
    """The first ``n`` rows of the first partition only (the rest is not computed)."""
    head: pd.DataFrame = ddf.head(n, npartitions=1, compute=True)
    return head


# ----------------------------------------------------------------------- in the task
def _send_partition(
    part: pd.DataFrame,
    map_fn: Callable[[Any], Any],
    url: str,
    options: Options,
    plan: Plan,
    partition_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """One partition's send, on the worker that runs the task."""
    number = partition_info["number"] if partition_info else 0
    options = _per_worker(options)
    client = _worker_client() if options.rate or plan.cancel else None
    pacer = _pacer(client, plan.token, options.rate) if options.rate else None
    with _watch_cancel(client, plan.cancel) as cancel:
        return send_frame(
            part, map_fn, url, options, cancel=cancel, scope=f"partition {number}", pacer=pacer
        )


def _per_worker(options: Options) -> Options:
    """``concurrency`` counts per worker: a worker running T tasks at once gives each 1/T."""
    try:
        from distributed import get_worker

        threads = int(get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):
        return options  # not on a distributed worker
    if threads <= 1 or options.concurrency <= 1:
        return options
    return options.replace(concurrency=max(1, options.concurrency // threads))


def _worker_client() -> Any:
    """The distributed client of the worker running this task, or None outside a cluster."""
    try:
        from distributed import get_client, get_worker
    except ImportError:
        return None
    try:
        get_worker()
    except ValueError:
        return None
    return get_client()


_LOCAL_PACERS: dict[str, Pacer] = {}
_LOCAL_LOCK = threading.Lock()


def _pacer(client: Any, token: str, rate: float) -> Any:
    if client is not None:
        return ClusterPacer(client, token, rate)
    with _LOCAL_LOCK:  # Dask's local schedulers: one clock for the tasks of this process
        if token not in _LOCAL_PACERS and len(_LOCAL_PACERS) >= 1000:
            _LOCAL_PACERS.clear()  # clocks of earlier sends (each build has its own token)
        return _LOCAL_PACERS.setdefault(token, Pacer(rate))


@contextlib.contextmanager
def _watch_cancel(client: Any, name: str | None) -> Iterator[threading.Event | None]:
    """A local Event that is set once the send's distributed Event is set."""
    if name is None or client is None:
        yield None
        return
    from distributed import Event

    remote = Event(name, client=client)
    local = threading.Event()
    if remote.is_set():
        local.set()
        yield local
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(CANCEL_POLL_SECONDS):
            with contextlib.suppress(Exception):  # the scheduler is going away: stop watching
                if remote.is_set():
                    local.set()
                    return

    watcher = threading.Thread(target=watch, name="flux_magic-cancel", daemon=True)
    watcher.start()
    try:
        yield local
    finally:
        done.set()


class ClusterPacer:
    """``Pacer`` for a whole cluster: the slots come from the send's clock on the scheduler."""

    def __init__(self, client: Any, token: str, rate: float) -> None:
        self.client = client
        self.token = token
        self.interval = 1.0 / rate
        self.block = max(1, int(rate * BLOCK_SECONDS))
        self._slots: deque[float] = deque()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take the next free slot of the cluster; return how many seconds to wait for it."""
        with self._lock:
            if not self._slots:
                first = self.client.run_on_scheduler(
                    reserve_slots, self.token, self.interval, self.block
                )
                self._slots.extend(first + i * self.interval for i in range(self.block))
            return max(0.0, self._slots.popleft() - time.time())


#: On the scheduler: each send's next free slot (seconds since the epoch).
_CLOCKS: dict[str, float] = {}


def reserve_slots(token: str, interval: float, count: int) -> float:
    """Run on the scheduler: reserve ``count`` slots; the time of the first (epoch seconds).

    Slots are times on the clock (not waits), so a reply that arrives late does not shift
    them: workers on the scheduler's machine share its clock, other machines agree with it to
    within their clock synchronisation (NTP: milliseconds).
    """
    now = time.time()
    if len(_CLOCKS) > 1000:  # forget sends whose clock stood still for a minute
        for key in [k for k, v in _CLOCKS.items() if v < now - 60]:
            del _CLOCKS[key]
    first = max(now, _CLOCKS.get(token, 0.0))
    _CLOCKS[token] = first + count * interval
    return first


# ----------------------------------------------------------------------- eager form
def send_now(
    ddf: Any,
    map_fn: Callable[[Any], Any],
    url: str,
    options: Options,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> pd.DataFrame:
    """Send every row of ``ddf`` now and return the pandas result (every row accounted for)."""
    try:
        from distributed import default_client

        client = default_client()
    except (ImportError, ValueError):
        client = None
    if client is None:
        return _send_locally(ddf, map_fn, url, options, progress, cancel)
    return _send_on_cluster(client, ddf, map_fn, url, options, progress, cancel)


def _send_locally(
    ddf: Any,
    map_fn: Callable[[Any], Any],
    url: str,
    options: Options,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> pd.DataFrame:
    """Without a cluster: one partition after the other, in this process."""
    if options.strict:
        lazy_send(ddf, map_fn, url, options)  # raises the explanation
    stop = cancel or threading.Event()
    lengths = _lengths(ddf) if progress is not None else None
    total = sum(lengths) if lengths else 0
    parts: list[pd.DataFrame] = []
    counts = [0, 0, 0]  # done, sent, failed in finished partitions
    interrupted = False
    for number in range(ddf.npartitions):
        part = ddf.get_partition(number).compute()
        report = None
        if progress is not None:

            def report(done: int, _t: int, sent: int, failed: int) -> None:
                progress(counts[0] + done, total, counts[1] + sent, counts[2] + failed)

        try:
            out = send_frame(
                part,
                map_fn,
                url,
                options,
                progress=report,
                cancel=stop,
                scope=f"partition {number}",
            )
        except SendInterrupted as exc:
            out, interrupted = exc.result, True
            stop.set()  # the partitions after this one are not sent
        parts.append(out)
        _count(counts, out)
    result = _concat(parts, ddf)
    if interrupted:
        raise SendInterrupted(_interrupted_message(result), result=result)
    return result


def _send_on_cluster(
    client: Any,
    ddf: Any,
    map_fn: Callable[[Any], Any],
    url: str,
    options: Options,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> pd.DataFrame:
    """On the distributed cluster; a cancel or Ctrl-C stops every partition, accounted."""
    from distributed import Event, wait

    if options.strict:
        lazy_send(ddf, map_fn, url, options)  # raises the explanation
    name = f"flux_magic-cancel-{uuid.uuid4().hex}"
    stop = Event(name, client=client)
    lazy = _build(ddf, map_fn, url, options, Plan(uuid.uuid4().hex, name))
    lengths = _lengths(ddf) if progress is not None else None
    total = sum(lengths) if lengths else 0
    if cancel is not None and cancel.is_set():
        stop.set()  # cancelled before it began: every task sees it at its start, nothing goes
    futures = client.compute(lazy.to_delayed())
    counts = [0, 0, 0]
    counted: set[int] = set()
    interrupted = False
    try:
        while True:
            try:
                wait(futures, timeout=POLL_SECONDS, return_when="ALL_COMPLETED")
                break
            except TimeoutError:
                pass
            except KeyboardInterrupt:
                if interrupted:
                    raise
                interrupted = True
                stop.set()
            for i, future in enumerate(futures):
                if i not in counted and future.status == "finished":
                    counted.add(i)
                    _count(counts, future.result())
            if progress is not None:
                progress(counts[0], total, counts[1], counts[2])
            if cancel is not None and cancel.is_set():
                stop.set()
        parts = client.gather(futures)
    finally:
        with contextlib.suppress(Exception):
            stop.clear()
    result = _concat(parts, ddf)
    if progress is not None:
        sent, failed = _sent_failed(result)
        progress(sent + failed, len(result), sent, failed)
    if interrupted:
        raise SendInterrupted(_interrupted_message(result), result=result)
    return result


def _lengths(ddf: Any) -> list[int]:
    return [int(n) for n in ddf.map_partitions(len).compute()]


def _sent_failed(result: pd.DataFrame) -> tuple[int, int]:
    sent = int((result["_sent"] == "true").sum())
    attempted = int((~result["_error"].str.startswith(("not sent:", "outcome unknown:"))).sum())
    return sent, attempted - sent


def _count(counts: list[int], part: pd.DataFrame) -> None:
    sent, failed = _sent_failed(part)
    counts[0] += sent + failed
    counts[1] += sent
    counts[2] += failed


def _concat(parts: list[pd.DataFrame], ddf: Any) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=ddf.columns)
    return pd.concat(parts) if len(parts) > 1 else parts[0]


def _interrupted_message(result: pd.DataFrame) -> str:
    sent, failed = _sent_failed(result)
    return (
        f"interrupted after {sent + failed:,} of {len(result):,} rows ({sent:,} sent); every "
        "row is in the result: exc.result, or sender.result."
    )
