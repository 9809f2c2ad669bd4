"""``%%flux`` runs the same packages with Flux's names: import paths, package options, docs
examples, ``monitor.notify``, errors, and the same bytes as the Python modules."""

from __future__ import annotations

import hashlib
import importlib
import json

import pandas as pd
import pytest

import flux_magic
from flux_magic import FluxError
from flux_magic._flux import run_program
from flux_magic.endpoints import registry

from .conftest import only
from .test_slack_pagerduty import header

NOW = pd.Timestamp("2030-01-01T00:00:00Z")
CHECKS = """array.from(rows: [
    {_time: 2021-01-01T00:00:00Z, host: "web-1", _level: "crit", _check_name: "cpu",
     _check_id: "c1", _message: "cpu is 97%", _value: 97.0, _measurement: "cpu",
     _field: "usage"},
    {_time: 2021-01-01T00:00:10Z, host: "web-2", _level: "ok", _check_name: "cpu",
     _check_id: "c1", _message: "cpu is fine", _value: 12.5, _measurement: "cpu",
     _field: "usage"},
])"""


def run(source: str, **options: object) -> pd.DataFrame:
    frame = run_program(source, now=lambda: NOW, endpoint_options=dict(options)).frame()
    assert frame is not None
    return frame


def test_slack_docs_example_as_written(rx: flux_magic.Receiver) -> None:
    out = run(
        f"""import "sampledata"
import "slack"
option slack.defaultURL = "{rx.url}"

data = sampledata.int()
    |> map(fn: (r) => ({{r with status: if r._value > 15 then "alert" else "ok"}}))
    |> filter(fn: (r) => r.status == "alert")

data
    |> slack.endpoint(token: "mY5uP3rSeCr37T0kEN")(mapFn: (r) => ({{channel: "Alerts", text: r._message, color: "danger"}}))()
"""  # noqa: E501  (the docs example, as written)
    )
    got = rx.received()
    assert len(got) == len(out) == 3  # sampledata.int() has three values above 15
    assert got[0].body == (
        b'{"attachments":[{"color":"danger","mrkdwn_in":["text"],"text":null}],"channel":"Alerts"}'
    )
    assert header(got[0], "Authorization") == "Bearer mY5uP3rSeCr37T0kEN"
    assert out["_sent"].tolist() == ["true"] * 3
    assert out["_status"].tolist() == ["202"] * 3
    assert "_error" not in out.columns
    assert "_elapsed" not in out.columns


def test_teams_docs_example_on_array_data(rx: flux_magic.Receiver) -> None:
    run(
        f"""import "array"
import "contrib/sranka/teams"

url = "{rx.url}"
endpoint = teams.endpoint(url: url)

crit_statuses = array.from(rows: [{{status: "crit"}}])

crit_statuses
    |> endpoint(
        mapFn: (r) => ({{
            title: "Disk Usage",
            text: "Disk usage is: **${{r.status}}**.",
            summary: "Disk usage is ${{r.status}}",
        }}),
    )()
"""
    )
    assert only(rx).body == (
        b'{\n"@type": "MessageCard",\n"@context": "http://schema.org/extensions",\n'
        b'"title": "Disk Usage",\n"text": "Disk usage is: **crit**.",\n'
        b'"summary": "Disk usage is crit"\n}'
    )


def test_pagerduty_in_flux_adds_dedup_key_and_body(rx: flux_magic.Receiver) -> None:
    out = run(
        f"""import "pagerduty"
import "sampledata"

sampledata.int()
    |> limit(n: 1)
    |> pagerduty.endpoint(url: "{rx.url}")(mapFn: (r) => ({{r with
        routingKey: "rk", client: "c", clientURL: "u", class: "k", group: "g",
        severity: pagerduty.severityFromLevel(level: "warn"),
        eventAction: pagerduty.actionFromLevel(level: "ok"),
        source: r.tag, summary: "v=${{r._value}}", timestamp: r._time,
    }}))()
"""
    )
    keys = {hashlib.sha256(f"tag\n{t}\n".encode()).hexdigest() for t in ("t1", "t2")}
    assert set(out["_pagerdutyDedupKey"]) == keys
    bodies = [json.loads(r.body) for r in rx.received()]
    assert {b["dedup_key"] for b in bodies} == keys
    assert bodies[0]["payload"]["severity"] == "warning"
    assert bodies[0]["event_action"] == "resolve"
    assert bodies[0]["payload"]["timestamp"] == "2021-01-01T00:00:00Z"
    assert out["_body"].tolist() == ["", ""]  # the Receiver answers with an empty body
    assert out["_sent"].tolist() == ["true", "true"]


def test_monitor_notify_adds_notification_columns(rx: flux_magic.Receiver) -> None:
    out = run(
        f"""import "array"
import "slack"
import "influxdata/influxdb/monitor"

e = slack.endpoint(url: "{rx.url}")(
    mapFn: (r) => ({{channel: "#c", text: r._message, color: "danger"}}),
)
{CHECKS}
    |> monitor.notify(
        data: {{
            _notification_rule_id: "0001",
            _notification_rule_name: "rule",
            _notification_endpoint_id: "0002",
            _notification_endpoint_name: "slack",
        }},
        endpoint: e,
    )
"""
    )
    row = out.iloc[0]
    assert row["_notification_rule_id"] == "0001"
    assert row["_notification_endpoint_name"] == "slack"
    assert row["_measurement"] == "notifications"
    assert int(row["_status_timestamp"]) == 1609459200000000000
    assert row["_time"] == NOW
    assert out.attrs["flux_group_key"] == [
        "_notification_rule_id",
        "_notification_rule_name",
        "_notification_endpoint_id",
        "_notification_endpoint_name",
        "_sent",
    ]
    assert rx.count == 2


def test_sensu_has_no_status_and_discord_option(rx: flux_magic.Receiver) -> None:
    out = run(
        f"""import "array"
import "contrib/sranka/sensu"
array.from(rows: [{{x: 1}}])
    |> sensu.endpoint(url: "{rx.url.rstrip("/")}", apiKey: "k")(
        mapFn: (r) => ({{checkName: "c", text: "t", status: 1}}),
    )()
"""
    )
    assert "_status" not in out.columns
    assert out["_sent"].tolist() == ["true"]
    rx.clear()
    run(
        f"""import "array"
import "contrib/chobbs/discord"
option discord.discordURL = "{rx.url}hooks/"
array.from(rows: [{{x: 1}}])
    |> discord.endpoint(webhookToken: "tok", webhookID: "7", username: "u")(
        mapFn: (r) => ({{content: "hi"}}),
    )()
"""
    )
    assert only(rx).path == "/hooks/7/tok"


def test_bad_color_is_a_flux_error_and_collect_mode_reports_it(rx: flux_magic.Receiver) -> None:
    program = f"""import "array"
import "slack"
array.from(rows: [{{c: "good"}}, {{c: "purple"}}])
    |> slack.endpoint(url: "{rx.url}")(mapFn: (r) => ({{channel: "x", text: "t", color: r.c}}))()
"""
    with pytest.raises(FluxError, match="could not parse color string 'purple'"):
        run(program)
    out = run(program, errors="collect")
    assert out["_sent"].tolist() == ["true", "false"]
    assert "purple" in out["_error"].iloc[1]
    with pytest.raises(FluxError, match="could not parse color string"):
        run('import "slack"\nslack.validateColorString(color: "blue")')


def test_single_shot_functions_in_flux(rx: flux_magic.Receiver) -> None:
    result = run_program(
        f"""import "slack"
import "pagerduty"
import "contrib/rhajek/bigpanda"
import "contrib/sranka/opsgenie"
import "contrib/sranka/sensu"
import "http"
s = slack.message(url: "{rx.url}", channel: "#c", text: "hi", color: "good")
sev = pagerduty.severityFromLevel(level: "crit")
st = bigpanda.statusFromLevel(level: "info")
resp = opsgenie.respondersToJSON(v: ["user:a", "team:b"])
name = sensu.toSensuName(v: "a b")
auth = http.basicAuth(u: "u", p: "p")
"""
    )
    assert result.values["s"] == 202
    assert result.values["sev"] == "critical"
    assert result.values["st"] == "ok"
    assert result.values["resp"] == '[{"type":"user","username":"a"},{"type":"team","name":"b"}]'
    assert result.values["name"] == "a_b"
    assert only(rx).body.startswith(b'{"attachments":[{"color":"good"')


CONFIG = {
    "slack": 'token: "xoxb-1"',
    "pagerduty": "",
    "teams": "",
    "opsgenie": 'apiKey: "k"',
    "telegram": 'token: "123:T"',
    "webexteams": 'token: "w"',
    "pushbullet": 'token: "p"',
    "sensu": 'apiKey: "k"',
    "servicenow": 'username: "u", password: "p"',
    "victorops": "",
    "alerta": 'apiKey: "k"',
    "zenoss": 'apiKey: "z"',
    "bigpanda": 'token: "t", appKey: "a"',
}


@pytest.mark.parametrize("name", sorted(CONFIG))
def test_registry_templates_run_in_flux_and_python(rx: flux_magic.Receiver, name: str) -> None:
    """Each registry template sends every check row, as Flux and as Python, with the same
    JSON fields (the bytes of each field are pinned by the per-package tests)."""
    spec = registry()[name]
    url = {"telegram": rx.url + "bot", "webexteams": rx.url.rstrip("/")}.get(name, rx.url)
    url = rx.url.rstrip("/") if name == "sensu" else url
    config = ", ".join(x for x in (f'url: "{url}"', CONFIG[name]) if x)
    out = run(
        f"""import "array"
import "{spec.flux_path}"
{CHECKS}
    |> {name}.endpoint({config})(mapFn: {spec.flux_template})()
"""
    )
    flux_bodies = [r.body for r in rx.received()]
    assert len(flux_bodies) == 2
    assert out["_sent"].tolist() == ["true", "true"]
    rx.clear()
    frame = run_program(f'import "array"\n{CHECKS}').frame()
    assert frame is not None
    python_config: dict[str, object] = {"url": url}
    for part in filter(None, CONFIG[name].split(", ")):
        key, _, value = part.partition(": ")
        python_config[key] = json.loads(value)
    module = importlib.import_module(f"flux_magic.endpoints.{name}")
    mapping = eval(spec.template, {name: module})  # the template as a user would paste it
    result = spec.endpoint(**python_config)(mapping)(frame)
    python_bodies = [r.body for r in rx.received()]
    assert result["_sent"].tolist() == ["true", "true"]
    for flux_body, python_body in zip(flux_bodies, python_bodies, strict=True):
        if flux_body.startswith(b"{") and name not in ("teams", "opsgenie"):
            assert json.loads(flux_body).keys() == json.loads(python_body).keys()
        else:  # the hand-written bodies: same lines, field by field
            names = [line.split(":")[0] for line in flux_body.decode().splitlines()]
            assert names == [line.split(":")[0] for line in python_body.decode().splitlines()]


def test_pagerduty_dedup_key_in_flux() -> None:
    out = run(
        """import "pagerduty"
import "sampledata"
sampledata.int() |> pagerduty.dedupKey()"""
    )
    assert set(out["_pagerdutyDedupKey"]) == {
        hashlib.sha256(f"tag\n{t}\n".encode()).hexdigest() for t in ("t1", "t2")
    }
    out = run(
        """import "pagerduty"
import "sampledata"
sampledata.int() |> pagerduty.dedupKey(exclude: ["tag"])"""
    )
    assert set(out["_pagerdutyDedupKey"]) == {hashlib.sha256(b"").hexdigest()}
