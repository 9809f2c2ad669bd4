"""The endpoint widget, driven the way its buttons are: set ``.value``s, ``.click()``, wait.

Every send goes to a real loopback Receiver.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pandas as pd
from widget_helpers import all_text, make, send

import flux_magic
from flux_magic.widget import EndpointWidget


def test_picker_lists_dataframes_with_row_counts(namespace: dict[str, Any]) -> None:
    w = EndpointWidget(namespace=namespace, url="http://127.0.0.1:9/")
    assert w.df_picker.options == (("alerts — 3 rows", "alerts"),)
    assert w.send_button.description == "Send 3 requests"
    namespace["big"] = pd.DataFrame({"_value": range(1234)})
    w.refresh_button.click()
    assert w.df_picker.value == "alerts", "refresh keeps the choice"
    w.df_picker.value = "big"
    assert w.send_button.description == "Send 1,234 requests"


def test_dataframe_passed_in_directly() -> None:
    df = pd.DataFrame({"_value": [1]})
    w = EndpointWidget(df, url="http://127.0.0.1:9/", namespace={})
    assert w.send_button.description == "Send 1 request"
    assert "(passed in)" in w.df_picker.options[0][0]


def test_url_is_checked_as_typed(namespace: dict[str, Any], receiver: flux_magic.Receiver) -> None:
    w = make(namespace, receiver.url)
    assert "✔" in w.url_status.value
    w.url_text.value = "ftp://example.org/x"
    assert "✘" in w.url_status.value
    assert "http" in w.url_status.value
    w.url_text.value = "127.0.0.1:8080"
    assert "✘" in w.url_status.value
    send(w)
    assert "URL" in w.message.value
    assert w.result is None
    assert receiver.count == 0


def test_preview_shows_requests_and_sends_nothing(
    namespace: dict[str, Any], receiver: flux_magic.Receiver
) -> None:
    w = make(namespace, receiver.url, preview_rows=2)
    w.preview_button.click()
    assert w.preview_frame is not None
    assert len(w.preview_frame) == 2
    table = w.preview_table.value
    assert "First 2 of 3 requests" in table
    assert "a=81.5" in table
    assert "b=92.0" in table
    assert "c=99.9" not in table
    assert "X-Host: a" in table
    assert "curl" in table
    assert receiver.count == 0


def test_preview_highlights_row_errors(
    namespace: dict[str, Any], receiver: flux_magic.Receiver
) -> None:
    mapping = 'lambda r: {"headers": {}, "data": b"ok" if r.host != "b" else 1 / 0}'
    w = make(namespace, receiver.url, mapping=mapping)
    w.preview_button.click()
    table = w.preview_table.value
    assert "1 with a mapping error" in table
    assert "ZeroDivisionError" in table or "division by zero" in table
    assert table.count("background:#fde7e9") == 1
    assert "Traceback" not in all_text(w)


def test_send_marks_sent_and_receiver_gets_every_row(
    namespace: dict[str, Any], receiver: flux_magic.Receiver
) -> None:
    w = make(namespace, receiver.url)
    send(w)
    assert w.result is not None
    assert w.result["_sent"].tolist() == ["true"] * 3
    assert w.result["_status"].tolist() == ["200"] * 3
    assert w.result["host"].tolist() == ["a", "b", "c"]
    got = receiver.requests
    assert got["body"].tolist() == [b"a=81.5", b"b=92.0", b"c=99.9"]
    assert got["method"].tolist() == ["POST"] * 3
    assert [h.get("X-Host") or h.get("x-host") for h in got["headers"]] == ["a", "b", "c"]
    assert "3 of 3 rows sent, 0 not sent" in w.message.value  # the engine's summary
    assert "Outcome: 2xx 3." in w.message.value
    assert "The result is in the output below this widget and in ui.result" in w.message.value
    assert w.result_table.value.count("✔ true") == 3
    assert w.progress.value == 3
    assert w.progress.bar_style == "success"
    assert re.search(r"3 / 3 · sent 3 · failed 0 · [\d,]+ req/s", w.progress_text.value)
    (output,) = w.output.outputs
    assert output["output_type"] == "display_data"
    assert "_sent" in output["data"]["text/html"]
    assert not w.send_button.disabled
    assert w.cancel_button.disabled


def test_confirmation_above_threshold(
    namespace: dict[str, Any], receiver: flux_magic.Receiver
) -> None:
    w = make(namespace, receiver.url, confirm_above=2)
    w.send_button.click()
    assert w.confirm_box.layout.display == "flex"
    assert w.confirm_button.description == "Yes, send 3 requests"
    assert not w.sending
    assert receiver.count == 0
    w.back_button.click()
    assert w.confirm_box.layout.display == "none"
    w.send_button.click()
    w.confirm_button.click()
    assert w.wait(20)
    assert receiver.count == 3
    assert w.result is not None


def test_cancel_stops_promptly_and_keeps_every_row(namespace: dict[str, Any]) -> None:
    namespace["many"] = pd.DataFrame({"host": [f"h{i}" for i in range(40)], "_value": range(40)})
    with flux_magic.Receiver(delay=0.2) as slow:
        w = make(namespace, slow.url)
        w.df_picker.value = "many"
        w.send_button.click()
        assert w.sending, "the send runs in the background; the click returned"
        assert not w.cancel_button.disabled
        assert w.send_button.disabled
        assert slow.wait_for(2, timeout=10)
        w.cancel_button.click()
        started = time.monotonic()
        assert w.wait(5)
        assert time.monotonic() - started < 2.0
        arrived = slow.count
    assert w.result is not None
    assert len(w.result) == 40
    sent = w.result["_sent"] == "true"
    assert 1 <= sent.sum() < 40
    assert arrived < 40
    not_attempted = w.result.loc[w.result["_status"] == "", "_error"]
    assert not_attempted.str.contains("not sent|cancel", regex=True).all()
    assert "Cancelled" in w.message.value
    assert "✘ false" in w.result_table.value


def test_mapping_syntax_error_is_shown_inline_with_its_line(
    namespace: dict[str, Any], receiver: flux_magic.Receiver
) -> None:
    w = make(namespace, receiver.url)
    w.mapping_text.value = 'lambda r: {\n    "headers": {},\n    "data": b"x" +\n}'
    assert "line 3" in w.mapping_status.value or "line 4" in w.mapping_status.value
    send(w)
    assert "mapping does not compile" in w.message.value
    assert receiver.count == 0
    assert w.result is None
    w.mapping_text.value = "undefined_name"
    w.preview_button.click()
    assert "NameError" in w.mapping_status.value
    assert "line 1" in w.mapping_status.value
    w.mapping_text.value = "42"
    w.preview_button.click()
    assert "must be a function" in w.mapping_status.value


def test_mapping_runtime_error_is_reported_per_row(
    namespace: dict[str, Any], receiver: flux_magic.Receiver
) -> None:
    mapping = 'lambda r: {"headers": {}, "data": b"ok" if r.host != "b" else r.missing}'
    w = make(namespace, receiver.url, mapping=mapping)
    send(w)
    assert w.result is not None
    assert w.result["_sent"].tolist() == ["true", "false", "true"]
    assert "missing" in w.result["_error"].iloc[1]
    assert receiver.count == 2
    assert "1 not sent" in w.message.value
    assert "Traceback" not in all_text(w)


def test_receiver_down(namespace: dict[str, Any], dead_url: str) -> None:
    w = make(namespace, dead_url)
    send(w)
    assert w.result is not None
    assert w.result["_sent"].tolist() == ["false"] * 3
    assert "refused" in w.message.value
    assert "⚠" in w.message.value
    assert "Traceback" not in all_text(w)


def test_strict_mode_stops_at_the_first_failed_row(namespace: dict[str, Any]) -> None:
    def answer(req: flux_magic.Received) -> flux_magic.Reply:
        return flux_magic.Reply(fault="reset") if req.body.startswith(b"b=") else flux_magic.Reply()

    with flux_magic.Receiver(status=answer) as rx:
        w = make(namespace, rx.url, strict=True)
        send(w)
        assert rx.count == 2
    assert "strict mode: stopped at row 1" in w.message.value
    assert w.result is not None
    assert w.result["host"].tolist() == ["a"]
    assert w.progress.bar_style == "danger"


def test_sent_when_2xx(namespace: dict[str, Any]) -> None:
    with flux_magic.Receiver(status=204) as rx:
        w = make(namespace, rx.url)
        send(w)
        assert w.result is not None
        assert w.result["_sent"].tolist() == ["false"] * 3
        w.sent_when.value = "2xx"
        send(w)
        assert w.result["_sent"].tolist() == ["true"] * 3


def test_result_assigned_to_a_variable(
    namespace: dict[str, Any], receiver: flux_magic.Receiver
) -> None:
    w = make(namespace, receiver.url, output_name="posted")
    send(w)
    assert namespace["posted"] is w.result
    assert "assigned to posted" in w.message.value
    w.output_name.value = "not a name"
    receiver.clear()
    send(w)
    assert "not a valid Python variable name" in w.message.value
    assert receiver.count == 0


def test_secrets_are_masked_everywhere(
    namespace: dict[str, Any], receiver: flux_magic.Receiver
) -> None:
    url = receiver.url.replace("http://", "http://alice:hunter2pw@") + "?token=tok3n-value"
    mapping = (
        'lambda r: {"headers": {"Authorization": "Bearer s3cr3t-bearer", "X-Api-Key": "k3y-val"},'
        ' "data": b"x"}'
    )
    w = make(namespace, url, mapping=mapping, output_name="out")
    w.preview_button.click()
    assert "Bearer ***" in w.preview_table.value
    seen_before_send = all_text(w)
    w.code_button.click()
    send(w)
    assert w.result is not None
    assert w.result["_sent"].tolist() == ["true"] * 3
    assert receiver.requests["headers"].iloc[0].get("X-Api-Key") == "k3y-val"
    seen = (seen_before_send + all_text(w)).replace(w.url_text.value, "")
    seen = seen.replace(w.mapping_text.value, "")
    basic = "YWxpY2U6aHVudGVyMnB3"  # base64 of alice:hunter2pw
    for secret in ("hunter2pw", "tok3n-value", "s3cr3t-bearer", "k3y-val", basic):
        assert secret not in seen, secret


def test_errors_inside_callbacks_become_messages(namespace: dict[str, Any]) -> None:
    w = make(namespace, "http://127.0.0.1:9/")
    w.df_picker.value = None
    w.preview_button.click()
    assert "choose a DataFrame" in w.message.value


FLUX_MAPPING = """(r) => ({
    headers: {"X-Host": r.host},
    data: bytes(v: "The value is ${r._value}"),
})"""


def test_flux_mapping_previews_and_sends(
    namespace: dict[str, Any], receiver: flux_magic.Receiver
) -> None:
    w = make(namespace, receiver.url, mapping=FLUX_MAPPING)
    assert w.mapping_status.value == ""
    w.preview_button.click()
    assert "The value is 81.5" in w.preview_table.value
    send(w)
    assert receiver.requests["body"].tolist() == [
        b"The value is 81.5",
        b"The value is 92",  # Flux formats floats without a trailing .0
        b"The value is 99.9",
    ]
    assert w.result is not None
    assert w.result["_sent"].tolist() == ["true"] * 3


def test_flux_mapping_errors_show_line_and_column(
    namespace: dict[str, Any], receiver: flux_magic.Receiver
) -> None:
    w = make(namespace, receiver.url)
    w.mapping_text.value = "(r) => ({\n  headers: {},\n  data: bytes(v: r._value +),\n})"
    assert "@3:" in w.mapping_status.value
    w.mapping_text.value = '(r) => ({headers: {}, data: "not bytes"})'
    assert "expected bytes" in w.mapping_status.value
    send(w)
    assert "mapping does not compile" in w.message.value
    assert receiver.count == 0
