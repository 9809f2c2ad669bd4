"""Option specs: every front end's flags, traits and controls come from ``Options`` alone,
including options whose value is a path, or a bool or a path (as ``verify`` and ``journal``
may become)."""

from __future__ import annotations

import argparse
import os
import ssl
from dataclasses import fields
from pathlib import Path

import ipywidgets as widgets
import pytest

import flux_magic
from flux_magic import OPTION_DOCS, Options
from flux_magic._option_specs import option_flags, option_specs, spec_of
from flux_magic._option_traits import option_traits
from flux_magic._widget_model import EndpointModel, bind_option, option_control


def parser_for(*specs: object) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(exit_on_error=False)
    for spec in specs:
        for args, kwargs in spec.arguments():  # type: ignore[attr-defined]
            parser.add_argument(*args, **kwargs)
    return parser


def test_every_option_has_a_spec_a_trait_and_docs() -> None:
    names = [f.name for f in fields(Options)]
    assert [s.name for s in option_specs()] == names
    assert set(option_traits()) == set(names)
    assert set(OPTION_DOCS) == set(names)
    kinds = {s.name: (s.kind, s.optional) for s in option_specs()}
    assert kinds["timeout"] == ("float", True)
    assert kinds["sent_when"] == ("choice", False)
    assert kinds["allow_hosts"] == ("text", False)


def test_a_path_option_gets_a_text_flag_and_control() -> None:
    spec = spec_of("journal", str | os.PathLike[str] | None, None)
    assert (spec.kind, spec.optional, spec.takes_bool) == ("text", True, False)
    args = parser_for(spec).parse_args(["--journal", "/tmp/send.db"])
    assert args.journal == "/tmp/send.db"
    assert spec.parse("") is None
    assert spec.flag_words(Path("/tmp/a b.db")) == ["--journal", "'/tmp/a b.db'"]
    control = option_control(spec, None)
    assert isinstance(control, widgets.Text)
    assert control.value == ""


def test_a_bool_or_path_option_takes_both_forms() -> None:
    spec = spec_of("verify", bool | str | ssl.SSLContext, True)
    assert (spec.kind, spec.takes_bool) == ("text", True)
    parser = parser_for(spec)
    assert parser.parse_args(["--verify"]).verify is True
    assert parser.parse_args(["--no-verify"]).verify is False
    assert parser.parse_args(["--verify", "/etc/ca.pem"]).verify == "/etc/ca.pem"
    assert parser.parse_args([]).verify is None
    assert spec.parse("false") is False
    assert spec.flag_words(False) == ["--no-verify"]
    assert spec.flag_words("/etc/ca.pem") == ["--verify", "/etc/ca.pem"]
    assert spec.format(True) == "True"


def test_a_widget_text_control_and_the_model_stay_in_step() -> None:
    model = EndpointModel()
    spec = next(s for s in option_specs() if s.name == "rate")
    control = option_control(spec, None)
    bind_option(model, spec, control)
    control.value = "2.5"
    assert model.rate == 2.5
    model.rate = None
    assert control.value == ""
    control.value = "fast"
    assert "rate must be a number" in model.problems["rate"]
    with pytest.raises(flux_magic.UsageError, match="rate must be a number"):
        model.options()


def test_option_flags_are_the_magics_spelling() -> None:
    assert option_flags({"retries": 2, "verify": False, "rate": None}) == [
        "--no-verify",
        "--retries",
        "2",
    ]
    assert option_flags({"errors": "raise", "timeout": None}) == ["--timeout", "none", "--strict"]
    assert option_flags({"allow_hosts": "b.example, a.example"})[0] == "--allow-hosts"
