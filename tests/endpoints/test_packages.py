"""teams, opsgenie, telegram, webexteams, sensu, discord, pushbullet, servicenow, victorops,
alerta, zenoss and bigpanda against the loopback Receiver: every field, byte for byte."""

from __future__ import annotations

import base64

import pandas as pd
import pytest

import flux_magic
from flux_magic.endpoints import (
    alerta,
    bigpanda,
    discord,
    http,
    opsgenie,
    pushbullet,
    sensu,
    servicenow,
    teams,
    telegram,
    victorops,
    webexteams,
    zenoss,
)

from .conftest import T0, checks, only
from .test_slack_pagerduty import header

ONE = pd.DataFrame({"_time": [T0 + pd.Timedelta("1.987654321s")], "x": ["<&>"]})


# teams --------------------------------------------------------------------------------------


def test_teams_card_text_and_summary_cut(rx: flux_magic.Receiver) -> None:
    result = teams.endpoint(url=rx.url)(lambda r: {"title": "Disk <1>", "text": "ü" * 71})(ONE)
    got = only(rx)
    assert (
        got.body
        == (
            '{\n"@type": "MessageCard",\n"@context": "http://schema.org/extensions",\n'
            '"title": "Disk \\u003c1\\u003e",\n'
            f'"text": "{"ü" * 71}",\n'
            f'"summary": "{"ü" * 70}..."\n}}'
        ).encode()
    )
    assert header(got, "Content-Type") == "application/json; charset=utf-8"
    assert result[["_status", "_sent"]].iloc[0].tolist() == ["202", "true"]


def test_teams_short_summary_kept_and_given_summary_used(rx: flux_magic.Receiver) -> None:
    teams.endpoint(url=rx.url)(lambda r: {"title": "t", "text": "x" * 70, "summary": ""})(ONE)
    assert only(rx).body.endswith(b'"summary": "' + b"x" * 70 + b'"\n}')
    rx.clear()
    teams.endpoint(url=rx.url)(lambda r: {"title": "t", "text": "long", "summary": "s"})(ONE)
    assert only(rx).body.endswith(b'"summary": "s"\n}')
    rx.clear()
    assert teams.message(url=rx.url, title="a", text="b") == 202
    assert only(rx).body.endswith(b'"text": "b",\n"summary": "b"\n}')


def test_teams_webhook_url_masked() -> None:
    url = "https://example.webhook.office.com/webhookb2/abc-123@def/IncomingWebhook/SeCrEt/xyz"
    send = teams.endpoint(url=url)(lambda r: {"title": "t", "text": "x"})
    preview = send.preview(ONE)
    assert preview["url"][0] == "https://example.webhook.office.com/webhookb2/***"
    assert "SeCrEt" not in preview["curl"][0] + repr(send)


# opsgenie -----------------------------------------------------------------------------------


def og(**changes: object) -> dict[str, object]:
    record: dict[str, object] = {
        "message": "m",
        "alias": "",
        "description": "",
        "priority": "P1",
        "responders": [],
        "tags": [],
        "actions": [],
        "details": "{}",
        "visibleTo": [],
    }
    record.update(changes)
    return record


def test_opsgenie_every_field_and_header(rx: flux_magic.Receiver) -> None:
    record = og(
        message="M" * 131,
        alias="",
        description="d" * 15001,
        priority="P3x",
        responders=["user:john@example.com", "team:it", "escalation:e", "schedule:s"],
        tags=["a", "b"],
        actions=["ack"],
        details='{"k":"v"}',
        visibleTo=["team:viewers"],
    )
    opsgenie.endpoint(url=rx.url, apiKey="G3N1E-KEY", entity="e" * 513)(lambda r: record)(ONE)
    got = only(rx)
    assert (
        got.body
        == (
            "{\n"
            f'"message": "{"M" * 130}",\n'
            f'"alias": "{"M" * 131}",\n'  # the alias defaults to the whole message; cut at 512
            f'"description": "{"d" * 15000}",\n'
            '"responders": [{"type":"user","username":"john@example.com"},{"type":"team",'
            '"name":"it"},{"type":"escalation","name":"e"},{"type":"schedule","name":"s"}],\n'
            '"visibleTo": [{"type":"team","name":"viewers"}],\n'
            '"actions": ["ack"],\n'
            '"tags": ["a","b"],\n'
            '"details": {"k":"v"},\n'
            f'"entity": "{"e" * 512}",\n'
            '"priority": "P3"\n'
            "}"
        ).encode()
    )
    assert header(got, "Authorization") == "GenieKey G3N1E-KEY"
    assert header(got, "Content-Type") == "application/json; charset=utf-8"


def test_opsgenie_alias_cut_at_512(rx: flux_magic.Receiver) -> None:
    opsgenie.endpoint(url=rx.url, apiKey="k")(lambda r: og(alias="a" * 600))(ONE)
    assert f'"alias": "{"a" * 512}",'.encode() in only(rx).body


def test_opsgenie_bad_responder_is_flux_error(rx: flux_magic.Receiver) -> None:
    result = opsgenie.endpoint(url=rx.url, apiKey="k")(lambda r: og(responders=["bob"]))(ONE)
    assert 'unsupported responder "bob", it must start with one of' in result["_error"][0]
    assert rx.count == 0


def test_opsgenie_send_alert_defaults(rx: flux_magic.Receiver) -> None:
    assert opsgenie.sendAlert(url=rx.url, apiKey="k3y", message="hi") == 202
    assert only(rx).body == (
        b'{\n"message": "hi",\n"alias": "hi",\n"description": "",\n"responders": [],\n'
        b'"visibleTo": [],\n"actions": [],\n"tags": [],\n"details": {},\n"entity": "",\n'
        b'"priority": "P3"\n}'
    )


# telegram -----------------------------------------------------------------------------------


def test_telegram_url_body_and_masking(rx: flux_magic.Receiver) -> None:
    send = telegram.endpoint(url=rx.url + "bot", token="123:S3CR3T")(
        lambda r: {"channel": "-100", "text": r.x, "silent": False}
    )
    result = send(ONE)
    got = only(rx)
    assert got.path == "/bot123:S3CR3T/sendMessage"
    assert got.body == (
        b'{"chat_id":"-100","disable_notification":false,"disable_web_page_preview":false,'
        b'"parse_mode":"MarkdownV2","text":"\\u003c\\u0026\\u003e"}'
    )
    assert header(got, "Content-Type") == "application/json; charset=utf-8"
    assert result["_sent"][0] == "true"
    preview = send.preview(ONE)
    assert "S3CR3T" not in preview.to_string() + preview["curl"][0] + repr(send)
    default = telegram.endpoint(token="123:S3CR3T")(lambda r: {})
    assert "bot***/sendMessage" in repr(default)


def test_telegram_message_options(rx: flux_magic.Receiver) -> None:
    telegram.message(
        url=rx.url + "bot",
        token="t",
        channel="c",
        text="x",
        parseMode="HTML",
        disableWebPagePreview=True,
    )
    assert only(rx).body == (
        b'{"chat_id":"c","disable_notification":true,"disable_web_page_preview":true,'
        b'"parse_mode":"HTML","text":"x"}'
    )


# webexteams ---------------------------------------------------------------------------------


def test_webexteams(rx: flux_magic.Receiver) -> None:
    webexteams.endpoint(url=rx.url.rstrip("/"), token="W3BEX")(
        lambda r: {"roomId": "R1", "text": "t", "markdown": "**m**"}
    )(ONE)
    got = only(rx)
    assert got.path == "/v1/messages"
    assert got.body == b'{"markdown":"**m**","roomId":"R1","text":"t"}'
    assert header(got, "Authorization") == "Bearer W3BEX"
    assert header(got, "Content-Type") == "application/json; charset=utf-8"


# sensu --------------------------------------------------------------------------------------


def test_sensu_event_names_states_and_no_status(rx: flux_magic.Receiver) -> None:
    send = sensu.endpoint(
        url=rx.url.rstrip("/"),
        apiKey="S3NSU",
        handlers=["slack"],
        namespace="ops",
        entityName="my host!",
    )(lambda r: {"checkName": "cpu load/é", "text": r.x, "status": 2})
    result = send(ONE)
    got = only(rx)
    assert got.path == "/api/core/v2/namespaces/ops/events"
    assert got.body == (
        b'{"check":{"handlers":["slack"],"interval":60,"metadata":{"name":"cpu_load__"},'
        b'"output":"\\u003c\\u0026\\u003e","state":"failing","status":2},'
        b'"entity":{"entity_class":"proxy","metadata":{"name":"my_host_"}}}'
    )
    assert header(got, "Authorization") == "Key S3NSU"
    assert "_status" not in result.columns
    assert result["_sent"][0] == "true"


def test_sensu_passing_and_defaults(rx: flux_magic.Receiver) -> None:
    sensu.endpoint(url=rx.url.rstrip("/"), apiKey="k")(
        lambda r: {"checkName": "", "text": "ok", "status": 0}
    )(ONE)
    got = only(rx)
    assert got.path == "/api/core/v2/namespaces/default/events"
    assert got.body == (
        b'{"check":{"handlers":[],"interval":60,"metadata":{"name":"_"},"output":"ok",'
        b'"state":"passing","status":0},'
        b'"entity":{"entity_class":"proxy","metadata":{"name":"influxdb"}}}'
    )
    assert sensu.toSensuName("a.b-c_d e") == "a.b-c_d_e"


# discord ------------------------------------------------------------------------------------


def test_discord(rx: flux_magic.Receiver) -> None:
    send = discord.endpoint(
        webhookToken="D1SC-T0K",
        webhookID="42",
        username="bot",
        avatar_url="http://a/p.png",
        discordURL=rx.url + "api/webhooks/",
    )(lambda r: {"content": "hi"})
    send(ONE)
    got = only(rx)
    assert got.path == "/api/webhooks/42/D1SC-T0K"
    assert got.body == b'{"avatar_url":"http://a/p.png","content":"hi","username":"bot"}'
    assert header(got, "Content-Type") == "application/json"
    assert "D1SC-T0K" not in send.preview(ONE).to_string() + repr(send)
    real = discord.endpoint(webhookToken="D1SC-T0K", webhookID="42", username="b")(
        lambda r: {"content": "x"}
    )
    assert real.preview(ONE)["url"][0] == "https://discordapp.com/api/webhooks/42/***"


# pushbullet ---------------------------------------------------------------------------------


def test_pushbullet(rx: flux_magic.Receiver) -> None:
    send = pushbullet.endpoint(url=rx.url, token="o.PUSH")(lambda r: {"title": "T", "text": "B"})
    result = send(ONE)
    got = only(rx)
    assert got.body == b'{"body":"B","title":"T","type":"note"}'
    assert header(got, "Access-Token") == "o.PUSH"
    assert header(got, "Content-Type") == "application/json"
    assert send.preview(ONE)["headers"][0]["Access-Token"] == "***"
    assert result["_sent"][0] == "true"


# servicenow ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "code"),
    [
        ("critical", "1"),
        ("major", "2"),
        ("minor", "3"),
        ("warning", "4"),
        ("info", "5"),
        ("clear", "0"),
        ("other", ""),
    ],
)
def test_servicenow_severities(rx: flux_magic.Receiver, severity: str, code: str) -> None:
    servicenow.endpoint(url=rx.url, username="u", password="p")(
        lambda r: {"description": "d", "severity": severity}
    )(ONE)
    assert f'"severity":"{code}"'.encode() in only(rx).body


def test_servicenow_every_field(rx: flux_magic.Receiver) -> None:
    servicenow.endpoint(url=rx.url, username="admin", password="Pa55", source="Src")(
        lambda r: {
            "description": "cpu high",
            "severity": "critical",
            "node": "web-1",
            "metricType": "cpu",
            "resource": "CPU-1",
            "metricName": "usage_idle",
            "messageKey": "alert-1",
            "additionalInfo": {"devId": "d<1>", "n": 2},
        }
    )(ONE)
    got = only(rx)
    assert got.body == (
        b'{"records":[{"additional_info":"{\\"devId\\":\\"d\\\\u003c1\\\\u003e\\",\\"n\\":2}",'
        b'"description":"cpu high","message_key":"alert-1","metric_name":"usage_idle",'
        b'"node":"web-1","resource":"CPU-1","severity":"1","source":"Src","type":"cpu"}]}'
    )
    assert header(got, "Authorization") == "Basic " + base64.b64encode(b"admin:Pa55").decode()
    assert header(got, "Content-Type") == "application/json"


# victorops ----------------------------------------------------------------------------------


def test_victorops_seconds_and_masked_keys(rx: flux_magic.Receiver) -> None:
    victorops.endpoint(url=rx.url, monitoringTool="Tool")(
        lambda r: {
            "messageType": "CRITICAL",
            "entityID": "e1",
            "entityDisplayName": "E 1",
            "stateMessage": r.x,
            "timestamp": r._time,
        }
    )(ONE)
    assert only(rx).body == (
        b'{"entity_display_name":"E 1","entity_id":"e1","message_type":"CRITICAL",'
        b'"monitoring_tool":"Tool","state_message":"\\u003c\\u0026\\u003e",'
        b'"state_start_time":1609459201}'
    )
    url = "https://alert.victorops.com/integrations/generic/20131114/alert/AP1KEY/R0UTE"
    send = victorops.endpoint(url=url)(lambda r: {})
    assert "AP1KEY" not in repr(send)
    assert "R0UTE" not in send.preview(ONE).to_string()


# alerta -------------------------------------------------------------------------------------


def test_alerta_every_field(rx: flux_magic.Receiver) -> None:
    alerta.endpoint(url=rx.url, apiKey="AL3RTA", environment="Production", origin="flux")(
        lambda r: {
            "resource": "web-1",
            "event": "cpu",
            "severity": "major",
            "service": ["web"],
            "group": "g",
            "value": "97",
            "text": "cpu is 97%",
            "tags": ["t1"],
            "attributes": {"region": "eu"},
            "type": "exceptionAlert",
            "timestamp": r._time,
        }
    )(ONE)
    got = only(rx)
    assert got.body == (
        b'{"attributes":{"region":"eu"},"createTime":"2021-01-01T00:00:01.987Z",'
        b'"environment":"Production","event":"cpu","group":"g","origin":"flux",'
        b'"resource":"web-1","service":["web"],"severity":"major","tags":["t1"],'
        b'"text":"cpu is 97%","type":"exceptionAlert","value":"97"}'
    )
    assert header(got, "Authorization") == "Key AL3RTA"
    assert header(got, "Content-Type") == "application/json"


# zenoss -------------------------------------------------------------------------------------


def test_zenoss_basic_auth_and_every_field(rx: flux_magic.Receiver) -> None:
    zenoss.endpoint(
        url=rx.url, username="z", password="zp", action="A", method="m", type="t", tid=7
    )(
        lambda r: {
            "summary": "s",
            "device": "d",
            "component": "c",
            "severity": "Critical",
            "eventClass": "/App",
            "eventClassKey": "k",
            "collector": "col",
            "message": "msg",
        }
    )(ONE)
    got = only(rx)
    assert got.body == (
        b'{"action":"A","data":[{"collector":"col","component":"c","device":"d",'
        b'"evclass":"/App","evclasskey":"k","message":"msg","severity":"Critical",'
        b'"summary":"s"}],"method":"m","tid":7,"type":"t"}'
    )
    assert header(got, "Authorization") == "Basic " + base64.b64encode(b"z:zp").decode()
    assert header(got, "Z-Api-Key") is None


def test_zenoss_api_key_replaces_basic_auth(rx: flux_magic.Receiver) -> None:
    send = zenoss.endpoint(url=rx.url, apiKey="Z-KEY-9")(lambda r: {"severity": "Clear"})
    send(ONE)
    got = only(rx)
    assert header(got, "Z-Api-Key") == "Z-KEY-9"
    assert header(got, "Authorization") is None
    assert send.preview(ONE)["headers"][0]["Z-Api-Key"] == "***"


# bigpanda -----------------------------------------------------------------------------------


def test_bigpanda_record_plus_app_key_and_status(rx: flux_magic.Receiver) -> None:
    send = bigpanda.endpoint(url=rx.url, token="BP-T0K", appKey="APP-K3Y")(
        lambda r: {"status": bigpanda.statusFromLevel("warn"), "host": "h", "when": r._time}
    )
    send(ONE)
    got = only(rx)
    assert got.body == (
        b'{"app_key":"APP-K3Y","host":"h","status":"warning",'
        b'"when":"2021-01-01T00:00:01.987654321Z"}'
    )
    assert header(got, "Authorization") == "Bearer BP-T0K"
    assert header(got, "Content-Type") == "application/json; charset=utf-8"
    preview = send.preview(ONE)
    assert '"app_key":"***"' in preview["body"][0]
    assert "APP-K3Y" not in preview["curl"][0]
    assert "BP-T0K" not in preview["curl"][0]


# http ---------------------------------------------------------------------------------------


def test_http_helpers() -> None:
    assert http.basicAuth("user", "pass") == "Basic dXNlcjpwYXNz"
    assert http.pathEscape("a b/ü?") == "a%20b%2F%C3%BC%3F"
    assert http.endpoint(url="http://127.0.0.1:9/").options.sent_when == "200"


def test_every_check_row_goes_once(rx: flux_magic.Receiver) -> None:
    result = pushbullet.endpoint(url=rx.url, token="t")(
        lambda r: {"title": r.host, "text": r._message}
    )(checks())
    assert rx.count == 3
    assert result["_sent"].tolist() == ["true"] * 3


def test_numpy_values_from_python_mappings(rx: flux_magic.Receiver) -> None:
    import numpy as np

    sensu.endpoint(url=rx.url.rstrip("/"), apiKey="k")(
        lambda r: {"checkName": "c", "text": "t", "status": np.int32(1)}
    )(ONE)
    assert b'"state":"failing","status":1}' in only(rx).body
    rx.clear()
    bigpanda.endpoint(url=rx.url, token="t", appKey="a")(
        lambda r: {"status": "ok", "n": np.int64(3), "f": np.float32(0.5), "b": np.bool_(True)}
    )(ONE)
    assert only(rx).body == b'{"app_key":"a","b":true,"f":0.5,"n":3,"status":"ok"}'
