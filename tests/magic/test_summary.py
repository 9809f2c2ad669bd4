"""``flux_magic._summary``: the counts and the one-line summary of a result DataFrame."""

from __future__ import annotations

import pandas as pd

from flux_magic._summary import SendSummary, summarize


def frame(status: list[str], sent: list[str], error: list[str] | None = None) -> pd.DataFrame:
    data = {"_value": range(len(status)), "_status": status, "_sent": sent}
    if error is not None:
        data["_error"] = error
    return pd.DataFrame(data, index=[f"r{i}" for i in range(len(status))])


def test_counts() -> None:
    s = summarize(
        frame(
            ["200", "204", "500", "", "", "201"],
            ["true", "false", "false", "false", "false", "true"],
            ["", "", "", "connection refused", "not sent: the send was interrupted", ""],
        ),
        elapsed=1.5,
    )
    assert (s.rows, s.sent, s.not_sent, s.not_attempted, s.attempted) == (6, 2, 4, 1, 5)
    assert s.statuses == {"200": 1, "204": 1, "500": 1, "": 2, "201": 1}
    assert s.other_2xx == {"204": 1}  # 201 was counted as sent (sent_when 2xx), 204 not
    assert s.first_error == "row 'r3' (position 3): connection refused"


def test_line_mentions_flux_only_counting_200() -> None:
    s = summarize(frame(["204", "204", "200"], ["false", "false", "true"], ["", "", ""]), 0.1234)
    line = s.line(url="http://u:pw-secret@127.0.0.1:1/", sent_when_hint="--sent-when 2xx")
    assert line == (
        "1 of 3 rows sent, 2 not sent, in 0.12 s to http://u:***@127.0.0.1:1/ "
        "(status 200: 1, 204: 2). 2 rows got 204, which Flux's http.endpoint does not count "
        "as sent (only 200 is); use --sent-when 2xx to count any 2xx as sent. Outcome: 2xx 3."
    )
    assert 'sent_when="2xx"' in str(s)


def test_line_without_answers_or_errors() -> None:
    assert summarize(frame([], [], [])).line() == "0 of 0 rows sent, 0 not sent, in 0.00 s."
    s = summarize(frame(["200"], ["true"]))  # strict-mode results have no _error column
    assert s.line() == "1 of 1 row sent, 0 not sent, in 0.00 s (status 200: 1). Outcome: 2xx 1."
    assert s.first_error == ""


def test_first_error_is_one_short_line_and_keeps_the_engines_row_name() -> None:
    long = "mapping error: boom at row 'r0' (position 0).\n" + "x" * 500
    s = summarize(frame(["", "500"], ["false", "false"], [long, "other"]))
    assert "\n" not in s.first_error
    assert s.first_error.startswith("mapping error: boom at row 'r0' (position 0). xxx")
    assert s.first_error.endswith("...")
    assert len(s.first_error) == 160
    assert "no answer: 1" in s.line()


def test_summary_is_a_plain_value() -> None:
    assert SendSummary(rows=2, sent=1).not_sent == 1


def test_outcome_by_class_and_latency_from_elapsed() -> None:
    nan = float("nan")
    result = frame(
        ["200", "201", "404", "503", "", "", "", "", ""],
        ["true", "true", "false", "false", "false", "false", "false", "false", "false"],
        [
            "",
            "",
            "",
            "",
            "connection refused: nothing is listening at that host and port",
            "timed out after 5 s",
            "mapping error: the mapping function raised KeyError: 'x' (at row 6)",
            "outcome unknown: the send was cancelled while this request was in flight",
            "not sent: the send was cancelled before this row was attempted",
        ],
    )
    result["_elapsed"] = [0.010, 0.020, 0.030, 0.040, 0.001, 5.0, nan, 1.0, nan]
    s = summarize(result, 6.0)
    assert [(o.label, o.rows, o.tone) for o in s.outcomes] == [
        ("2xx", 2, "ok"),
        ("4xx", 1, "fail"),
        ("5xx", 1, "fail"),
        ("mapping error", 1, "fail"),
        ("no answer (outcome unknown)", 1, "fail"),
        ("no answer (refused)", 1, "fail"),
        ("no answer (timeout)", 1, "fail"),
        ("not sent", 1, "none"),
    ]
    assert s.latency is not None
    p50, p95, most = s.latency
    assert p50 == 0.03  # the median of the 7 attempted rows' _elapsed
    assert most == 5.0
    assert 1.0 < p95 < 5.0
    assert s.outcome_line() == (
        "Outcome: 2xx 2, 4xx 1, 5xx 1, mapping error 1, no answer (outcome unknown) 1, "
        "no answer (refused) 1, no answer (timeout) 1, not sent 1. "
        f"Latency p50 30.0 ms, p95 {p95:.2f} s, max 5.00 s."
    )
    assert s.outcome_line() in s.line()
