"""The registry that front ends generate their endpoint choice from."""

from __future__ import annotations

import importlib

import pandas as pd
import pytest

from flux_magic.endpoints import REQUIRED, registry
from flux_magic.endpoints._registry import MODULES


def test_every_module_is_described_in_menu_order() -> None:
    specs = registry()
    assert list(specs) == list(MODULES)
    assert len(specs) == 15  # http.endpoint and the fourteen notification packages
    assert specs["teams"].flux_path == "contrib/sranka/teams"
    assert specs["servicenow"].flux_path == "contrib/bonitoo-io/servicenow"


def test_config_fields_have_types_defaults_docs_and_secrets() -> None:
    specs = registry()
    for spec in specs.values():
        assert spec.doc
        assert spec.config, spec.name
        for f in spec.config:
            assert f.doc, f"{spec.name}.{f.name} has no doc"
            assert f.type in {"str", "int", "bool", "Sequence[str]"}, (spec.name, f.name, f.type)
    telegram = {f.name: f for f in specs["telegram"].config}
    assert telegram["token"].required
    assert telegram["token"].secret
    assert telegram["url"].default == "https://api.telegram.org/bot"
    assert telegram["parseMode"].default == "MarkdownV2"
    assert telegram["disableWebPagePreview"].default is False
    zenoss = {f.name: f for f in specs["zenoss"].config}
    assert zenoss["tid"].default == 1
    assert zenoss["tid"].type == "int"
    assert {f.name for f in specs["zenoss"].config if f.secret} == {"password", "apiKey"}
    assert specs["sensu"].config[0].default is REQUIRED
    assert repr(REQUIRED) == "REQUIRED"


@pytest.mark.parametrize("name", [n for n in MODULES if n != "http"])
def test_python_template_gives_every_field(name: str) -> None:
    spec = registry()[name]
    module = importlib.import_module(f"flux_magic.endpoints.{name}")
    mapping = eval(spec.template, {name: module})
    row = pd.Series(
        {
            "_time": pd.Timestamp("2021-01-01", tz="UTC"),
            "host": "h",
            "_level": "crit",
            "_check_name": "c",
            "_check_id": "i",
            "_message": "m",
            "_value": 1.0,
            "_measurement": "cpu",
            "_field": "f",
        }
    )
    record = mapping(row)
    assert set(spec.fields) <= set(record), (name, set(spec.fields) - set(record))
    for field in spec.fields:
        assert f"{field}:" in spec.flux_template or (name == "pagerduty" and field == "class")
