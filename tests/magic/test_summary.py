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
        "as sent (only 200 is); use --sent-when 2xx to count any 2xx as sent."
    )
    assert 'sent_when="2xx"' in str(s)


def test_line_without_answers_or_errors() -> None:
    assert summarize(frame([], [], [])).line() == "0 of 0 rows sent, 0 not sent, in 0.00 s."
    s = summarize(frame(["200"], ["true"]))  # strict-mode results have no _error column
    assert s.line() == "1 of 1 row sent, 0 not sent, in 0.00 s (status 200: 1)."
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
