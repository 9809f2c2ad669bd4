"""The widget's flow: one result output, stale output cleared, outcome first, resend, test
sends, disabled Send without a URL, every option value the API takes."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd
import pytest
from widget_helpers import all_text, make, send

import flux_magic
from flux_magic import Options
from flux_magic.widget import EndpointWidget


def test_one_result_output_replaced_on_every_send(
    namespace: dict[str, Any], receiver: flux_magic.Receiver
) -> None:
    w = make(namespace, receiver.url)
    send(w)
    send(w)
    (output,) = w.output.outputs  # one output per widget, however many sends
    assert output["output_type"] == "display_data"
    html = output["data"]["text/html"]
    assert html.index("flux-magic-outcome-bar") < html.index("_sent")  # outcome, then rows
    assert receiver.count == 6


def test_each_action_clears_what_it_makes_obsolete(
    namespace: dict[str, Any], receiver: flux_magic.Receiver
) -> None:
    w = make(namespace, receiver.url)
    send(w)
    assert w.result_table.value
    assert w.outcome.value
    assert w.progress_box.layout.display == "flex"
    w.preview_button.click()
    assert w.preview_table.value
    assert w.result_table.value == ""
    assert w.outcome.value == ""
    assert w.progress_box.layout.display == "none"
    w.url_text.value = "ftp://nowhere/"
    w.send_button.click()
    assert "fix the URL first" in w.message.value
    assert w.preview_table.value == ""
    w.url_text.value = receiver.url
    w2 = make(namespace, receiver.url, confirm_above=1)
    w2.send_button.click()
    assert w2.confirm_box.layout.display == "flex"
    w2.preview_button.click()
    assert w2.confirm_box.layout.display == "none"


def test_send_is_disabled_without_a_valid_url(namespace: dict[str, Any]) -> None:
    w = make(namespace, "")
    assert w.send_button.disabled
    assert w.preview_button.disabled
    assert w.send_one_button.disabled
    assert "type the URL" in w.url_status.value
    w.url_text.value = "127.0.0.1:8080"
    assert w.send_button.disabled
    w.url_text.value = "http://127.0.0.1:9/"
    assert not w.send_button.disabled
    assert w.resend_button.disabled, "nothing to resend before a send"


def test_outcome_by_class_first_and_failed_rows_reachable(namespace: dict[str, Any]) -> None:
    namespace["many"] = pd.DataFrame({"host": [f"h{i}" for i in range(60)], "_value": range(60)})

    def answer(req: flux_magic.Received) -> int:
        return 503 if req.body.startswith(b"h55=") else 200

    with flux_magic.Receiver(status=answer) as rx:
        w = make(namespace, rx.url)
        w.df_picker.value = "many"
        send(w)
    assert "2xx" in w.outcome.value
    assert "5xx" in w.outcome.value
    assert "flux-magic-outcome-fail" in w.outcome.value
    assert "Latency p50" in w.outcome.value
    # the one failed row is listed first, though it is past the first 50
    assert w.rows_choice.value == "failed"
    assert w.rows_choice.layout.display == "flex"
    assert "h55" in w.result_table.value
    assert "h0<" not in w.result_table.value
    w.rows_choice.value = "all"
    assert "h0" in w.result_table.value
    assert "the first 50 shown" in w.result_table.value
    labels = [label for label, _ in w.rows_choice.options]
    assert labels == ["all (60)", "failed (1)", "not sent (0)"]


def test_resend_failed_and_send_one_row(namespace: dict[str, Any]) -> None:
    with flux_magic.Receiver(status=lambda req: 500 if req.body.startswith(b"b=") else 200) as rx:
        w = make(namespace, rx.url, output_name="posted")
        send(w)
    assert w.result is not None
    assert w.result["_sent"].tolist() == ["true", "false", "true"]
    assert not w.resend_button.disabled
    with flux_magic.Receiver() as rx:
        w.url_text.value = rx.url
        w.resend_button.click()
        assert w.wait(20)
        assert rx.requests["body"].tolist() == [b"b=92.0"]
        assert w.result["_sent"].tolist() == ["true"] * 3
        assert w.result["host"].tolist() == ["a", "b", "c"]
        assert namespace["posted"] is w.result
        assert "3 of 3 rows sent" in w.message.value
        assert w.resend_button.disabled, "nothing left to resend"
        rx.clear()
        w.send_one_button.click()
        assert w.wait(20)
        assert rx.requests["body"].tolist() == [b"a=81.5"]
    assert w.result["host"].tolist() == ["a"]
    assert "1 of 1 row sent" in w.message.value


def test_every_value_the_api_takes(receiver: flux_magic.Receiver) -> None:
    df = pd.DataFrame({"_value": [1, 2]})
    w = EndpointWidget(df, receiver.url, None, namespace={}, timeout=None, rate=None)
    assert w.model.timeout is None
    assert w.timeout.value == ""
    assert w.options()["timeout"] is None
    w.timeout.value = "2.5"
    assert w.model.timeout == 2.5
    w.model.timeout = None  # the model drives the control too
    assert w.timeout.value == ""
    w.rate.value = "fast"
    with pytest.raises(flux_magic.UsageError, match="rate must be a number"):
        w.options()
    assert w.advanced.titles == ("Advanced (a value cannot be read)",)
    w.rate.value = ""
    assert w.options() == {**{n: getattr(Options(), n) for n in w.options()}, "timeout": None}
    w.send_button.click()
    assert w.wait(20)
    assert receiver.count == 2
    with pytest.raises(flux_magic.UsageError, match="unknown option"):
        EndpointWidget(df, receiver.url, namespace={}, bogus=1)


def test_secrets_in_query_tokens_are_masked_in_messages(namespace: dict[str, Any]) -> None:
    w = make(namespace, "http://127.0.0.1:9/")
    w._say("failed posting to http://127.0.0.1:9/x?token=abc123secret")
    assert "abc123secret" not in all_text(w)
    assert "token=***" in w.message.value


def test_show_code_is_above_the_results(
    namespace: dict[str, Any], receiver: flux_magic.Receiver
) -> None:
    w = make(namespace, receiver.url)
    send(w)
    w.code_button.click()
    assert "%%flux_endpoint alerts" in w.code.value
    order = list(w.children)
    assert order.index(w.code) < order.index(w.result_table)
    assert order.index(w.code) < order.index(w.preview_table)
    buttons = next(c for c in order if isinstance(c, widgets.HBox) and w.code_button in c.children)
    assert order.index(buttons) + 1 == order.index(w.code), "right under the buttons"
    assert w.result_table.value, "showing the code keeps the results"


def test_the_engines_mapping_rule_holds_in_the_widget(
    namespace: dict[str, Any], receiver: flux_magic.Receiver
) -> None:
    namespace["many"] = pd.DataFrame({"host": [f"h{i}" for i in range(8)], "_value": range(8)})
    w = make(namespace, receiver.url, mapping='lambda r: {"header": {}, "body": b"x"}')
    w.df_picker.value = "many"
    send(w)
    assert "the mapping failed for each of the first 5 rows, so nothing was sent" in w.message.value
    assert w.result is None
    assert receiver.count == 0
