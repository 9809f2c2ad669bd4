"""What a send did, in numbers and in one line: rows sent, not sent, statuses, elapsed time.

Computed from the result DataFrame alone (``_status``, ``_sent``, ``_error``), so the same
summary serves a complete send, an interrupted one and a strict-mode partial result.

Examples
--------
>>> import pandas as pd
>>> result = pd.DataFrame({"_status": ["200", "204"], "_sent": ["true", "false"],
...                        "_error": ["", ""]})
>>> summarize(result, elapsed=0.25).line()  # doctest: +ELLIPSIS
'1 of 2 rows sent, 1 not sent, in 0.25 s (status 200: 1, 204: 1). 1 row got 204, ...'
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._frames import PANDAS, frame_kind, to_pandas
from ._request import describe_row
from ._secrets import mask_url

if TYPE_CHECKING:
    from collections.abc import Hashable

    import pandas as pd

__all__ = ["Outcome", "SendSummary", "outcome_of", "summarize"]

_NOT_SENT = "not sent:"
_UNKNOWN = "outcome unknown:"
_SHOWN_ERROR = 160


#: Reasons of rows without an answer, by the first phrase of their ``_error`` that matches.
_REASONS = (
    ("timed out", "timeout"),
    ("refused by the URL policy", "URL policy"),
    ("connection refused", "refused"),
    ("resolve", "DNS"),
    ("DNS", "DNS"),
    ("TLS", "TLS"),
    ("SSL", "TLS"),
    ("certificate", "TLS"),
    ("reset", "connection reset"),
    ("closed the connection", "connection closed"),
    ("redirect", "redirects"),
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One class of outcomes: its label, how many rows, and its tone for display.

    ``tone`` is "ok" (2xx), "warn" (1xx, 3xx), "fail" (4xx, 5xx, no answer, mapping error)
    or "none" (never attempted).
    """

    label: str
    rows: int
    tone: str


def outcome_of(status: str, error: str) -> tuple[str, str]:
    """The class (label, tone) of one row: 2xx/3xx/4xx/5xx, or no answer by reason."""
    if status:
        tone = {"2": "ok", "4": "fail", "5": "fail"}.get(status[:1], "warn")
        return f"{status[:1]}xx", tone
    if error.startswith(_NOT_SENT):
        return "not sent", "none"
    if error.startswith(_UNKNOWN):
        return "no answer (outcome unknown)", "fail"
    if error.startswith("mapping error"):
        return "mapping error", "fail"
    for phrase, reason in _REASONS:
        if phrase.lower() in error.lower():
            return f"no answer ({reason})", "fail"
    return "no answer (other)", "fail"


def _order(outcome: Outcome) -> tuple[int, str]:
    rank = {"ok": 0, "warn": 1, "fail": 2, "none": 3}[outcome.tone]
    return rank, outcome.label


def _seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


@dataclass(frozen=True, slots=True)
class SendSummary:
    """The counts of one send.

    Attributes
    ----------
    rows : int
        Rows in the result.
    sent : int
        Rows with ``_sent`` "true".
    not_attempted : int
        Rows never attempted (the send was stopped before them).
    unknown : int
        Rows whose request was in flight when the send was stopped.
    statuses : dict
        ``_status`` value to number of rows ("" for rows without an answer).
    other_2xx : dict
        2xx statuses other than 200 of rows that were *not* counted as sent (Flux's
        ``http.endpoint`` counts only 200), to number of rows.
    refused : int
        Rows counted as sent (a 2xx, as the endpoint's Flux package counts them) whose answer
        said the service did not accept them (Slack's ``"ok": false``); ``_error`` says what
        it answered.
    first_error : str
        The first row's failure, naming the row ("" when no row has an ``_error``).
    elapsed : float
        Seconds the send took.
    outcomes : tuple of Outcome
        Rows by class: 2xx, 3xx, 4xx, 5xx, then no answer by reason, then not sent.
    latency : tuple of float, or None
        p50, p95 and max of ``_elapsed`` over the attempted rows (None without any).
    journal : str
        The journal's path, when the send had one (option ``journal=``).
    resumed : bool
        Whether the journal already had rows of this send (an earlier run of it).
    skipped : int
        Rows an earlier run had sent, so not sent again (their recorded outcome is shown).
    held_unknown : int
        Rows in flight when an earlier run stopped, not sent again (no ``retry_unknown``).
    resent_unknown : int
        Rows in flight when an earlier run stopped, sent again with their recorded key.
    """

    rows: int
    sent: int
    not_attempted: int = 0
    unknown: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    other_2xx: dict[str, int] = field(default_factory=dict)
    refused: int = 0
    first_error: str = ""
    elapsed: float = 0.0
    outcomes: tuple[Outcome, ...] = ()
    latency: tuple[float, float, float] | None = None
    journal: str = ""
    resumed: bool = False
    skipped: int = 0
    held_unknown: int = 0
    resent_unknown: int = 0

    @property
    def not_sent(self) -> int:
        """Rows with ``_sent`` "false", for whatever reason."""
        return self.rows - self.sent

    @property
    def attempted(self) -> int:
        """Rows whose request was tried (answered, failed, or in flight when stopped)."""
        return self.rows - self.not_attempted

    def line(
        self,
        *,
        url: str = "",
        sent_when_hint: str = 'sent_when="2xx"',
        retry_unknown_hint: str = "retry_unknown=True",
    ) -> str:
        """The summary as one line; ``url`` is shown masked, ``sent_when_hint`` and
        ``retry_unknown_hint`` are how the caller's front end spells those options
        (e.g. ``--sent-when 2xx``, ``--retry-unknown``)."""
        where = f" to {mask_url(url)}" if url else ""
        text = (
            f"{self.sent:,} of {_plural(self.rows, 'row')} sent, {self.not_sent:,} not sent, "
            f"in {self.elapsed:.2f} s{where}"
        )
        if self.statuses:
            shown = ", ".join(
                f"{code or 'no answer'}: {n:,}"
                for code, n in sorted(self.statuses.items(), key=lambda kv: (kv[0] == "", kv[0]))
            )
            text += f" (status {shown})"
        text += "."
        if self.other_2xx:
            codes = "/".join(sorted(self.other_2xx))
            n = sum(self.other_2xx.values())
            text += (
                f" {_plural(n, 'row')} got {codes}, which Flux's http.endpoint does not count "
                f"as sent (only 200 is); use {sent_when_hint} to count any 2xx as sent."
            )
        if self.refused:
            text += (
                f" {_plural(self.refused, 'row')} counted as sent got an answer saying the "
                "service did not accept it (see _error)."
            )
        if self.outcomes:
            text += " " + self.outcome_line()
        if self.first_error:
            text += f" First failure: {self.first_error}"
        resumed = self.resume_line(retry_unknown_hint=retry_unknown_hint)
        if resumed:
            text += " " + resumed
        return text

    def resume_line(self, *, retry_unknown_hint: str = "retry_unknown=True") -> str:
        """What a resumed journal changed, in a sentence or two ("" if nothing)."""
        if not self.resumed:
            return ""
        text = f"Resumed from journal {self.journal}: " + (
            f"{_plural(self.skipped, 'row')} already sent by an earlier run "
            f"{'was' if self.skipped == 1 else 'were'} skipped (not sent again)."
            if self.skipped
            else "no row had been sent by an earlier run."
        )
        if self.held_unknown:
            text += (
                f" {_plural(self.held_unknown, 'row')} in flight when an earlier run stopped "
                f"(outcome unknown) {'was' if self.held_unknown == 1 else 'were'} not sent "
                f"again; {retry_unknown_hint} sends them with their recorded Idempotency-Key."
            )
        if self.resent_unknown:
            text += (
                f" {_plural(self.resent_unknown, 'row')} in flight when an earlier run "
                f"stopped {'was' if self.resent_unknown == 1 else 'were'} sent again with "
                "the recorded Idempotency-Key."
            )
        return text

    def outcome_line(self) -> str:
        """The outcome by class and the latency, e.g. ``Outcome: 2xx 3, 5xx 1. Latency ...``."""
        text = "Outcome: " + ", ".join(f"{o.label} {o.rows:,}" for o in self.outcomes) + "."
        if self.latency is not None:
            p50, p95, most = (_seconds(v) for v in self.latency)
            text += f" Latency p50 {p50}, p95 {p95}, max {most}."
        return text

    def __str__(self) -> str:
        return self.line()


def _first_error(result: pd.DataFrame) -> str:
    if "_error" not in result.columns:
        return ""
    errors = result["_error"].tolist()
    for position, error in enumerate(errors):
        if error and not str(error).startswith((_NOT_SENT, _UNKNOWN)):
            label: Hashable = result.index[position]
            text = " ".join(str(error).split())
            if len(text) > _SHOWN_ERROR:
                text = text[: _SHOWN_ERROR - 3] + "..."
            where = describe_row(label, position)
            return text if where in text else f"{where}: {text}"
    return ""


def _latency(result: pd.DataFrame) -> tuple[float, float, float] | None:
    if "_elapsed" not in result.columns:
        return None
    seconds = result["_elapsed"].dropna()
    if seconds.empty:
        return None
    p50, p95 = (float(v) for v in seconds.quantile([0.5, 0.95]).tolist())
    return p50, p95, float(seconds.max())


def summarize(result: pd.DataFrame, elapsed: float = 0.0) -> SendSummary:
    """Count what a result DataFrame says about its send (no network, no display)."""
    if frame_kind(result) != PANDAS:  # a Polars result
        result = to_pandas(result)[0]
    status = [str(s) for s in result["_status"].tolist()]
    sent_flags = [s == "true" for s in result["_sent"].tolist()]
    errors = [str(e) for e in result["_error"].tolist()] if "_error" in result.columns else []
    other = Counter(
        code
        for code, was_sent in zip(status, sent_flags, strict=True)
        if not was_sent and code.startswith("2") and len(code) == 3 and code != "200"
    )
    classes = Counter(
        outcome_of(code, errors[i] if errors else "") for i, code in enumerate(status)
    )
    outcomes = tuple(
        sorted((Outcome(lb, n, tone) for (lb, tone), n in classes.items()), key=_order)
    )
    journal = result.attrs.get("flux_journal")
    note: dict[str, object] = journal if isinstance(journal, dict) else {}
    return SendSummary(
        rows=len(result),
        outcomes=outcomes,
        latency=_latency(result),
        sent=sum(sent_flags),
        not_attempted=sum(e.startswith(_NOT_SENT) for e in errors),
        unknown=sum(e.startswith(_UNKNOWN) for e in errors),
        statuses=dict(Counter(status)),
        other_2xx=dict(other),
        refused=sum(bool(e) and was_sent for e, was_sent in zip(errors, sent_flags, strict=False)),
        first_error=_first_error(result),
        elapsed=elapsed,
        journal=str(note.get("path", "")),
        resumed=bool(note.get("resumed", False)),
        skipped=_count(note.get("skipped")),
        held_unknown=_count(note.get("held_unknown")),
        resent_unknown=_count(note.get("resent_unknown")),
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) else 0
