"""The widget's Endpoint choice: fields from the registry, the package's template, a send."""

from __future__ import annotations

import json

import pandas as pd
from widget_helpers import all_text

import flux_magic
from flux_magic.widget import EndpointWidget


def checks() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "_time": pd.to_datetime(["2024-05-01T10:00:00Z", "2024-05-01T10:00:30Z"]),
            "host": ["web-1", "db-1"],
            "_level": ["crit", "ok"],
            "_check_name": ["cpu", "disk"],
            "_check_id": ["c1", "c2"],
            "_message": ["cpu at 97%", "disk fine"],
            "_value": [97.0, 41.0],
            "_measurement": ["cpu", "disk"],
            "_field": ["usage", "used"],
        }
    )


def test_choosing_slack_shows_its_fields_and_template(receiver: flux_magic.Receiver) -> None:
    w = EndpointWidget(checks(), url="http://127.0.0.1:9/", namespace={})
    assert w.endpoint_choice.is_http
    w.endpoint_choice.dropdown.value = "slack"
    assert sorted(w.endpoint_choice.controls) == ["token", "url"]
    assert w.endpoint_choice.controls["url"].value == "https://slack.com/api/chat.postMessage"
    assert '"channel"' in w.mapping_text.value
    assert w.sent_when.value == "2xx"
    assert w.url_row.layout.display == "none"
    w.endpoint_choice.controls["url"].value = receiver.url
    w.endpoint_choice.controls["token"].value = "xoxb-W1DGET"
    w.preview_button.click()
    assert w.preview_frame is not None
    assert w.preview_frame["headers"][0]["Authorization"] == "Bearer ***"
    assert "xoxb-W1DGET" not in w.preview_table.value
    w.send_button.click()
    assert w.wait(20)
    assert w.result is not None
    assert w.result["_sent"].tolist() == ["true", "true"]
    body = json.loads(receiver.received()[0].body)
    assert body["attachments"][0]["color"] == "danger"
    assert receiver.received()[0].headers["Authorization"] == "Bearer xoxb-W1DGET"
    w.code_button.click()
    code = w.code.value
    assert "slack.endpoint(" in code
    assert "xoxb-W1DGET" not in code
    assert "xoxb-W1DGET" not in all_text(w).replace(w.endpoint_choice.controls["token"].value, "")


def test_pagerduty_template_calls_the_package_helpers(receiver: flux_magic.Receiver) -> None:
    w = EndpointWidget(checks(), namespace={})
    w.endpoint_choice.dropdown.value = "pagerduty"
    w.endpoint_choice.controls["url"].value = receiver.url
    w.send_button.click()
    assert w.wait(20)
    assert w.result is not None
    assert "_pagerdutyDedupKey" in w.result.columns
    events = [json.loads(r.body) for r in receiver.received()]
    assert [e["payload"]["severity"] for e in events] == ["critical", "info"]
    assert [e["event_action"] for e in events] == ["trigger", "resolve"]


def test_required_field_left_empty_is_reported(receiver: flux_magic.Receiver) -> None:
    w = EndpointWidget(checks(), namespace={})
    w.endpoint_choice.dropdown.value = "opsgenie"
    w.preview_button.click()
    assert "fill in apiKey" in w.message.value
    assert receiver.count == 0


def test_back_to_http_restores_the_url_field() -> None:
    w = EndpointWidget(checks(), url="http://127.0.0.1:9/", namespace={})
    w.endpoint_choice.dropdown.value = "teams"
    w.endpoint_choice.dropdown.value = "http"
    assert w.url_row.layout.display is None
    assert w.endpoint_choice.controls == {}
    assert w.sent_when.value == "200"
    assert "headers" in w.mapping_text.value
