"""slack and pagerduty against the loopback Receiver: body bytes, headers, errors, masking."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

import flux_magic
from flux_magic import Reply
from flux_magic._summary import summarize
from flux_magic.endpoints import pagerduty, slack

from .conftest import T0, checks, only


def header(received: object, name: str) -> str | None:
    headers = {k.lower(): v for k, v in received.headers.items()}  # type: ignore[attr-defined]
    return headers.get(name.lower())


# slack --------------------------------------------------------------------------------------


def test_slack_body_headers_and_result(rx: flux_magic.Receiver) -> None:
    send = slack.endpoint(url=rx.url + "api/chat.postMessage", token="xoxb-SECRET-1")(
        lambda r: {"channel": "#ops", "text": r._message, "color": "danger"}
    )
    result = send(checks().iloc[[2]])
    got = only(rx)
    assert got.path == "/api/chat.postMessage"
    assert got.body == (
        b'{"attachments":[{"color":"danger","mrkdwn_in":["text"],'
        b'"text":"disk is fine \\u003cok\\u003e \\u0026 \\"quiet\\""}],"channel":"#ops"}'
    )
    assert header(got, "Authorization") == "Bearer xoxb-SECRET-1"
    assert header(got, "Content-Type") == "application/json"
    assert result[["_status", "_sent", "_error"]].iloc[0].tolist() == ["202", "true", ""]
    assert "_response" not in result.columns


def test_slack_text_is_flux_string_and_no_token_sends_bare_bearer(
    rx: flux_magic.Receiver,
) -> None:
    send = slack.endpoint(url=rx.url)(lambda r: {"channel": "c", "text": r._value, "color": "good"})
    send(pd.DataFrame({"_value": [85.5]}))
    got = only(rx)
    assert got.body.endswith(b'"text":"85.5"}],"channel":"c"}')
    assert header(got, "Authorization") == "Bearer"


@pytest.mark.parametrize("color", ["good", "warning", "danger", "#fff", "#FF0000", "#000000"])
def test_slack_accepts_flux_colors(color: str) -> None:
    assert slack.validateColorString(color) == color


@pytest.mark.parametrize("color", ["red", "#", "#ggg", "#1000000", "#-1", "0xff0000", ""])
def test_slack_refuses_other_colors(color: str) -> None:
    with pytest.raises(ValueError, match="color"):
        slack.validateColorString(color)


def test_slack_bad_color_is_that_row_s_error_and_nothing_is_sent_for_it(
    rx: flux_magic.Receiver,
) -> None:
    df = pd.DataFrame({"c": ["good", "purple", "#00ff00"]})
    result = slack.endpoint(url=rx.url)(lambda r: {"channel": "x", "text": "t", "color": r.c})(df)
    assert result["_sent"].tolist() == ["true", "false", "true"]
    assert "could not parse color string 'purple'" in result["_error"].iloc[1]
    assert "row 1" in result["_error"].iloc[1]
    assert rx.count == 2


def test_slack_missing_field_names_the_fields(rx: flux_magic.Receiver) -> None:
    result = slack.endpoint(url=rx.url)(lambda r: {"channel": "x", "text": "t"})(checks()[:1])
    assert "has no 'color'; it must give channel, text, color" in result["_error"].iloc[0]
    assert rx.count == 0


def test_slack_ok_false_keeps_sent_but_says_so_and_summary_counts_it() -> None:
    answers = iter([b'{"ok":true}', b'{"ok":false,"error":"channel_not_found"}', b"ok"])
    with flux_magic.Receiver(lambda req: Reply(200, body=next(answers))) as rx:
        send = slack.endpoint(url=rx.url, token="xoxb-T0KEN")(
            lambda r: {"channel": "#nope", "text": r._message, "color": "danger"}
        )
        result = send(checks())
    assert result["_sent"].tolist() == ["true", "true", "true"]  # as Flux: any 2xx
    assert result["_error"].iloc[0] == ""
    assert "channel_not_found" in result["_error"].iloc[1]
    assert '"ok": false' in result["_error"].iloc[1]
    assert result["_error"].iloc[2] == ""
    summary = summarize(result)
    assert summary.refused == 1
    assert "1 row counted as sent got an answer saying the service did not accept it" in (
        summary.line()
    )


def test_slack_token_masked_in_preview_curl_repr() -> None:
    send = slack.endpoint(token="xoxb-VERY-SECRET")(
        lambda r: {"channel": "#c", "text": "t", "color": "good"}
    )
    preview = send.preview(checks(), n=1)
    shown = preview.to_string() + preview["curl"][0] + repr(send) + str(dict(preview.iloc[0]))
    assert "xoxb-VERY-SECRET" not in shown
    assert preview["headers"][0]["Authorization"] == "Bearer ***"
    assert preview["url"][0] == "https://slack.com/api/chat.postMessage"
    revealed = send.preview(checks(), n=1, reveal=True)
    assert "xoxb-VERY-SECRET" in revealed["curl"][0]


def test_slack_incoming_webhook_url_is_masked() -> None:
    url = "https://hooks.slack.com/services/T0001/B0002/AbCdEfGhSecret"
    send = slack.endpoint(url=url)(lambda r: {"channel": "#c", "text": "t", "color": "good"})
    preview = send.preview(checks(), n=1)
    assert preview["url"][0] == "https://hooks.slack.com/services/T0001/B0002/***"
    assert "AbCdEfGhSecret" not in preview["curl"][0] + repr(send)


def test_slack_message_sends_one(rx: flux_magic.Receiver) -> None:
    status = slack.message(url=rx.url, token="t", channel="#c", text="hello", color="warning")
    assert status == 202
    assert only(rx).body == (
        b'{"attachments":[{"color":"warning","mrkdwn_in":["text"],"text":"hello"}],"channel":"#c"}'
    )


def test_slack_options_pass_through(rx: flux_magic.Receiver) -> None:
    send = slack.endpoint(url=rx.url, concurrency=2, retries=1, rate=1000)(
        lambda r: {"channel": "#c", "text": "t", "color": "good"}
    )
    result = send(checks())
    assert send.options.concurrency == 2
    assert "_attempts" in result.columns
    assert rx.count == 3


def test_sent_when_can_still_be_overridden(rx: flux_magic.Receiver) -> None:
    send = slack.endpoint(url=rx.url, sent_when="200")(
        lambda r: {"channel": "#c", "text": "t", "color": "good"}
    )
    assert send(checks()[:1])["_sent"].tolist() == ["false"]  # the Receiver answers 202


# pagerduty ----------------------------------------------------------------------------------


def pd_record(r: object) -> dict[str, object]:
    return {
        "routingKey": "R0UTING-KEY-42",
        "client": "flux_magic",
        "clientURL": "http://example.com/c",
        "class": r._check_name,  # type: ignore[attr-defined]
        "group": "app",
        "severity": pagerduty.severityFromLevel(r._level),  # type: ignore[attr-defined]
        "eventAction": pagerduty.actionFromLevel(r._level),  # type: ignore[attr-defined]
        "source": r.host,  # type: ignore[attr-defined]
        "summary": r._message,  # type: ignore[attr-defined]
        "timestamp": r._time,  # type: ignore[attr-defined]
    }


def test_pagerduty_event_bytes_headers_dedup_and_body() -> None:
    answer = b'{"status":"success","message":"Event processed","dedup_key":"x"}'
    with flux_magic.Receiver(lambda req: Reply(202, body=answer)) as rx:
        df = checks()
        df.attrs["flux_group_key"] = ["host", "_level"]
        result = pagerduty.endpoint(url=rx.url + "v2/enqueue")(pd_record)(df)
        got = rx.received()
    key0 = hashlib.sha256(b"host\nweb-1\n").hexdigest()  # _level is excluded
    assert got[0].path == "/v2/enqueue"
    assert got[0].body == (
        b'{"client":"flux_magic","client_url":"http://example.com/c","dedup_key":"'
        + key0.encode()
        + b'","event_action":"trigger","payload":{"class":"cpu","component":"","group":"app",'
        b'"severity":"critical","source":"web-1","summary":"cpu is 97%",'
        b'"timestamp":"2021-01-01T00:00:00Z"},"routing_key":"R0UTING-KEY-42"}'
    )
    assert header(got[0], "Accept") == "application/vnd.pagerduty+json;version=2"
    assert header(got[0], "Content-Type") == "application/json"
    assert json.loads(got[1].body)["payload"]["severity"] == "warning"
    assert json.loads(got[2].body)["event_action"] == "resolve"
    assert json.loads(got[2].body)["payload"]["severity"] == "info"
    assert result["_pagerdutyDedupKey"].tolist() == [
        key0,
        hashlib.sha256(b"host\nweb-2\n").hexdigest(),
        hashlib.sha256(b"host\ndb-1\n").hexdigest(),
    ]
    assert result["_body"].tolist() == [answer.decode()] * 3
    assert result["_sent"].tolist() == ["true"] * 3
    assert "_response" not in result.columns


def test_pagerduty_custom_details_component_and_summary_cut(rx: flux_magic.Receiver) -> None:
    def mapping(r: object) -> dict[str, object]:
        return {
            **pd_record(r),
            "component": "cpu0",
            "customDetails": {"ping time": 12, "load": 0.5},
            "summary": "é" * 1100,
        }

    pagerduty.endpoint(url=rx.url)(mapping)(checks()[:1])
    payload = json.loads(only(rx).body)["payload"]
    assert payload["component"] == "cpu0"
    assert payload["custom_details"] == {"load": 0.5, "ping time": 12}
    assert b'"custom_details":{"load":0.5,"ping time":12},"group"' in only(rx).body
    assert payload["summary"] == "é" * 1023  # code points, not bytes


def test_pagerduty_no_group_key_hashes_the_empty_key() -> None:
    out = pagerduty.dedupKey(pd.DataFrame({"a": [1, 2]}))
    assert out["_pagerdutyDedupKey"].tolist() == [hashlib.sha256(b"").hexdigest()] * 2


def test_pagerduty_dedup_key_formats_values_as_flux() -> None:
    df = pd.DataFrame({"t": [T0], "n": [3], "f": [1.5], "b": [True], "_start": [T0]})
    df.attrs["flux_group_key"] = ["t", "n", "f", "b", "_start"]
    text = b"b\ntrue\nf\n1.5\nn\n3\nt\n2021-01-01T00:00:00Z\n"
    assert pagerduty.dedupKey(df)["_pagerdutyDedupKey"][0] == hashlib.sha256(text).hexdigest()
    only_n = pagerduty.dedupKey(df, exclude=["t", "f", "b", "_start"])
    assert only_n["_pagerdutyDedupKey"][0] == hashlib.sha256(b"n\n3\n").hexdigest()


def test_pagerduty_routing_key_masked_in_preview() -> None:
    preview = pagerduty.endpoint()(pd_record).preview(checks(), n=2)
    assert '"routing_key":"***"' in preview["body"][0]
    assert "R0UTING-KEY-42" not in preview.to_string() + preview["curl"][0]
    assert '"dedup_key":"' in preview["body"][0]  # not a secret
    assert preview["url"][0] == "https://events.pagerduty.com/v2/enqueue"


@pytest.mark.parametrize(
    ("level", "severity", "action"),
    [
        ("crit", "critical", "trigger"),
        ("WARN", "warning", "trigger"),
        ("info", "info", "trigger"),
        ("Ok", "info", "resolve"),
        ("unknown", "error", "trigger"),
    ],
)
def test_pagerduty_level_maps(level: str, severity: str, action: str) -> None:
    assert pagerduty.severityFromLevel(level) == severity
    assert pagerduty.actionFromLevel(level) == action


def test_pagerduty_send_event(rx: flux_magic.Receiver) -> None:
    status = pagerduty.sendEvent(
        pagerdutyURL=rx.url,
        routingKey="rk",
        client="c",
        clientURL="u",
        dedupKey="dk",
        group="g",
        severity="critical",
        eventAction="trigger",
        source="s",
        summary="sum",
        timestamp="2021-01-01T00:00:00Z",
        **{"class": "k"},
    )
    assert status == 202
    assert only(rx).body == (
        b'{"client":"c","client_url":"u","dedup_key":"dk","event_action":"trigger",'
        b'"payload":{"class":"k","component":"","group":"g","severity":"critical",'
        b'"source":"s","summary":"sum","timestamp":"2021-01-01T00:00:00Z"},"routing_key":"rk"}'
    )


def test_single_shot_transport_failure_raises(closed_port_url: str) -> None:
    with pytest.raises(flux_magic.EndpointError, match="slack: the request failed"):
        slack.message(url=closed_port_url, token="tok3n", channel="c", text="t", color="good")


def test_slack_refusals_are_read_on_every_concurrent_path(concurrent_path: str) -> None:
    def answer(req: object) -> Reply:
        refused = b"#nope" in req.body  # type: ignore[attr-defined]
        return Reply(200, body=b'{"ok":false,"error":"x"}' if refused else b'{"ok":true}')

    df = pd.DataFrame({"ch": ["#a", "#nope", "#b", "#nope"] * 5})
    with flux_magic.Receiver(answer) as rx:
        result = slack.endpoint(url=rx.url, concurrency=4)(
            lambda r: {"channel": r.ch, "text": "t", "color": "good"}
        )(df)
    refused = result["_error"].str.contains('"ok": false').tolist()
    assert refused == [ch == "#nope" for ch in df["ch"]]
    assert set(result["_sent"]) == {"true"}


def test_secrets_stay_out_of_strict_errors(closed_port_url: str) -> None:
    from flux_magic.endpoints import discord

    send = discord.endpoint(
        webhookToken="D1SCORD-T0KEN",
        webhookID="1",
        username="u",
        discordURL=closed_port_url,
        errors="raise",
    )(lambda r: {"content": "x"})
    with pytest.raises(flux_magic.EndpointError) as info:
        send(pd.DataFrame({"a": [1]}))
    assert "D1SCORD-T0KEN" not in str(info.value)
    assert "D1SCORD-T0KEN" not in info.value.result.to_string()
    assert "D1SCORD-T0KEN" not in repr(send)


def test_secrets_stay_out_of_url_errors() -> None:
    from flux_magic.endpoints import telegram

    with pytest.raises(flux_magic.UsageError) as info:
        telegram.endpoint(url="http://localhost:1/bot", token="123:S3CRET", allow_hosts=["x.org"])
    assert "S3CRET" not in str(info.value)
    assert "bot***/sendMessage" in str(info.value)
    with pytest.raises(flux_magic.UsageError, match="telegram: the URL") as info:
        telegram.endpoint(url="ftp://h/bot", token="123:S3CRET")
    assert "S3CRET" not in str(info.value)
