"""``%%flux_endpoint`` through a real IPython shell, against real loopback receivers."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import certifi
import pandas as pd
import pytest
from IPython.core.error import UsageError

import flux_magic
from flux_magic._magics import PARTIAL_NAME, FluxEndpointMagic

TEXT_MAP = (
    'lambda r: {"headers": {"Content-Type": "text/plain"}, '
    '"data": f"The value is {r._value}".encode()}'
)


def magic(shell: Any, line: str, cell: str = TEXT_MAP) -> Any:
    return shell.run_cell_magic("flux_endpoint", line, cell)


def one_line_error(shell: Any, line: str, cell: str = TEXT_MAP) -> str:
    with pytest.raises(UsageError) as info:
        magic(shell, line, cell)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith("%%flux_endpoint: ")
    return text


# -- sending ----------------------------------------------------------------------------------


def test_send_returns_the_result_and_prints_a_summary(
    shell: Any, receiver: flux_magic.Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.user_ns["url"] = receiver.url
    result = magic(shell, "df --url $url")
    assert isinstance(result, pd.DataFrame)
    assert result["_status"].tolist() == ["200", "200", "200"]
    assert result["_sent"].tolist() == ["true", "true", "true"]
    assert result["_error"].tolist() == ["", "", ""]
    assert result["host"].tolist() == ["a", "b", "c"]
    got = receiver.requests
    assert [b.decode() for b in got["body"]] == [f"The value is {v}" for v in (1, 2, 3)]
    assert all(h["Content-Type"] == "text/plain" for h in got["headers"])
    out = capsys.readouterr().out
    assert out.startswith("3 of 3 rows sent, 0 not sent, in ")
    assert f"to {receiver.url} (status 200: 3)." in out
    assert "Flux" not in out  # no 2xx note when every answer was 200


def test_the_result_is_the_cells_value(shell: Any, receiver: flux_magic.Receiver) -> None:
    shell.user_ns["url"] = receiver.url
    run = shell.run_cell(f"%%flux_endpoint df --url $url\n{TEXT_MAP}", store_history=True)
    assert run.success
    assert isinstance(run.result, pd.DataFrame)
    assert shell.user_ns["_"] is run.result


@pytest.mark.parametrize("line", ["df --url $url -o result", "df --url {url} --out result"])
def test_out_stores_the_result_and_the_url_comes_from_a_variable(
    shell: Any, receiver: flux_magic.Receiver, line: str
) -> None:
    shell.user_ns["url"] = receiver.url + "hook"
    value = magic(shell, line)
    assert shell.user_ns["result"] is value
    assert receiver.requests["path"].tolist() == ["/hook"] * 3


def test_a_function_name_as_body(shell: Any, receiver: flux_magic.Receiver) -> None:
    shell.run_cell(
        'def to_request(r):\n    return {"headers": {}, "data": f"{r.host}={r._value}".encode()}'
    )
    magic(shell, f"df --url {receiver.url}", "\n  to_request  \n")
    assert receiver.requests["body"].tolist() == [b"a=1", b"b=2", b"c=3"]


def test_a_multi_line_body(shell: Any, receiver: flux_magic.Receiver) -> None:
    body = '\nlambda r: {\n    "headers": {"X-Host": r.host},\n    "data": b"x",\n}\n'
    magic(shell, f"df --url {receiver.url}", body)
    assert [h["X-Host"] for h in receiver.requests["headers"]] == ["a", "b", "c"]


def test_preview_sends_nothing(
    shell: Any, receiver: flux_magic.Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    table = magic(shell, f"df --url {receiver.url} --preview")
    assert table.columns.tolist() == [
        "row",
        "method",
        "url",
        "headers",
        "body",
        "size",
        "curl",
        "error",
        "note",
    ]
    assert table["body"].tolist() == ["The value is 1", "The value is 2", "The value is 3"]
    assert "nothing was sent" in capsys.readouterr().out
    two = magic(shell, f"df --url {receiver.url} --preview 2 -o shown")
    assert len(two) == 2
    assert shell.user_ns["shown"] is two
    assert receiver.count == 0


def test_preview_rows_default_is_configurable(shell: Any, receiver: flux_magic.Receiver) -> None:
    shell.user_ns["big"] = pd.DataFrame({"_value": range(50)})
    assert len(magic(shell, f"big --url {receiver.url} --preview")) == 10
    shell.run_line_magic("config", "FluxEndpointMagic.preview_rows = 4")
    assert len(magic(shell, f"big --url {receiver.url} --preview")) == 4
    assert receiver.count == 0


def test_concurrency_keeps_row_order(shell: Any, receiver: flux_magic.Receiver) -> None:
    shell.user_ns["many"] = pd.DataFrame({"_value": range(40)})
    result = magic(shell, f"many --url {receiver.url} --concurrency 4 --quiet")
    assert (result["_sent"] == "true").all()
    assert result["_value"].tolist() == list(range(40))
    assert sorted(receiver.requests["body"]) == sorted(
        f"The value is {i}".encode() for i in range(40)
    )


def test_timeout(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with flux_magic.Receiver(delay=2.0) as slow:
        result = magic(shell, f"df --url {slow.url} --timeout 0.2")
    assert result["_sent"].tolist() == ["false"] * 3
    assert all("time" in e for e in result["_error"])
    out = capsys.readouterr().out
    assert out.startswith("0 of 3 rows sent, 3 not sent")
    assert "First failure: row 0: " in out


def test_2xx_other_than_200_is_explained_and_sent_when_2xx_counts_it(
    shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with flux_magic.Receiver(status=204) as rx:
        first = magic(shell, f"df --url {rx.url}")
        out = capsys.readouterr().out
        assert first["_status"].tolist() == ["204"] * 3
        assert first["_sent"].tolist() == ["false"] * 3
        assert "3 rows got 204" in out
        assert "Flux's http.endpoint does not count as sent (only 200 is)" in out
        assert "use --sent-when 2xx" in out
        second = magic(shell, f"df --url {rx.url} --sent-when 2xx")
        assert second["_sent"].tolist() == ["true"] * 3
        assert "Flux" not in capsys.readouterr().out


def test_quiet_prints_nothing(
    shell: Any, receiver: flux_magic.Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    magic(shell, f"df --url {receiver.url} --quiet")
    magic(shell, f"df --url {receiver.url} --quiet --preview")
    assert capsys.readouterr() == ("", "")
    assert receiver.count == 3


def test_strict_stops_at_the_first_failure_and_keeps_the_partial_result(
    shell: Any,
) -> None:
    def answer(req: flux_magic.Received) -> flux_magic.Reply:
        return flux_magic.Reply(fault="reset") if req.body.endswith(b"2") else flux_magic.Reply()

    with flux_magic.Receiver(status=answer) as rx:
        text = one_line_error(shell, f"df --url {rx.url} --strict -o partial")
        assert "row 1 failed, so the send stopped there (--strict, as Flux)" in text
        assert "are in partial" in text
        partial = shell.user_ns["partial"]
        assert partial["_value"].tolist() == [1]
        assert partial["_sent"].tolist() == ["true"]
        assert rx.count == 2  # the third row was never sent
        one_line_error(shell, f"df --url {rx.url} --errors raise")
        assert shell.user_ns[PARTIAL_NAME]["_value"].tolist() == [1]


def test_keep_response_and_other_generated_flags(shell: Any) -> None:
    with flux_magic.Receiver(body=b"hello") as rx:
        result = magic(shell, f"df --url {rx.url} --keep-response 3 --max-redirects 0 --quiet")
    assert result["_response"].tolist() == [b"hel"] * 3


def test_no_verify_warns(shell: Any, receiver: flux_magic.Receiver) -> None:
    with pytest.warns(UserWarning, match="TLS certificates are not checked"):
        magic(shell, f"df --url {receiver.url} --no-verify --quiet")


def test_verify_takes_a_ca_bundle_path(
    shell: Any, receiver: flux_magic.Receiver, tmp_path: Any
) -> None:
    missing = tmp_path / "corporate-ca.pem"
    with pytest.raises(UsageError, match=r"verify='.*corporate-ca\.pem' does not exist"):
        magic(shell, f"df --url {receiver.url} --verify {missing} --quiet")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(Path(certifi.where()).read_bytes())
    result = magic(shell, f"df --url {receiver.url} --verify {bundle} --quiet")
    assert result["_sent"].tolist() == ["true"] * len(result)


def test_every_option_has_a_flag_and_a_config_default(shell: Any) -> None:
    doc = FluxEndpointMagic.flux_endpoint.__doc__ or ""
    configured = FluxEndpointMagic.class_traits(config=True)
    defaults = flux_magic.Options()
    for field in fields(flux_magic.Options):
        assert "--" + field.name.replace("_", "-") in doc, field.name
        assert field.name in configured, field.name
        trait_default = configured[field.name].default()
        assert trait_default == getattr(defaults, field.name), field.name
        assert configured[field.name].help == flux_magic.OPTION_DOCS[field.name]
    for flag in ("--preview", "--strict", "-o NAME, --out NAME", "--quiet", "--url"):
        assert flag in doc
    assert "In [1]: %load_ext flux_magic" in doc


def test_help_is_the_manual(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_cell("%%flux_endpoint?")
    out = capsys.readouterr().out
    assert "%%flux_endpoint [--url URL]" in out
    assert "--sent-when" in out
    assert "In [3]: %%flux_endpoint df --url $url --preview 3" in out


# -- %config ----------------------------------------------------------------------------------


def test_config_sets_defaults_and_flags_override_them(shell: Any) -> None:
    with flux_magic.Receiver(status=204) as rx:
        shell.user_ns["hook"] = rx.url
        shell.run_line_magic("config", "FluxEndpointMagic.sent_when = '2xx'")
        shell.run_line_magic("config", "FluxEndpointMagic.url = hook")
        shell.run_line_magic("config", "FluxEndpointMagic.quiet = True")
        assert magic(shell, "df")["_sent"].tolist() == ["true"] * 3
        assert magic(shell, "df --sent-when 200")["_sent"].tolist() == ["false"] * 3
        assert rx.count == 6


def test_config_values_are_validated_when_used(shell: Any, receiver: flux_magic.Receiver) -> None:
    shell.run_line_magic("config", "FluxEndpointMagic.concurrency = 0")
    text = one_line_error(shell, f"df --url {receiver.url}")
    assert "concurrency must be a whole number >= 1, not 0" in text
    assert receiver.count == 0


def test_timeout_none_means_no_limit(shell: Any, receiver: flux_magic.Receiver) -> None:
    assert magic(shell, f"df --url {receiver.url} --timeout none --quiet")["_sent"].all()


# -- errors -----------------------------------------------------------------------------------


def test_unknown_dataframe_suggests_close_names(shell: Any) -> None:
    text = one_line_error(shell, "dff --url http://127.0.0.1:9/")
    assert text == "%%flux_endpoint: there is no variable named 'dff'; did you mean df?"
    shell.user_ns.pop("df")
    shell.user_ns["alerts"] = pd.DataFrame({"_value": [1]})
    assert "the DataFrames here are alerts" in one_line_error(
        shell, "zzz_unrelated --url http://127.0.0.1:9/"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([1, 2], "'thing' is a list, not a DataFrame (pandas, Polars or Dask)."),
        (pd.Series([1, 2]), "'thing' is a pandas Series, not a DataFrame; use thing.to_frame()"),
    ],
)
def test_not_a_dataframe(shell: Any, value: object, message: str) -> None:
    shell.user_ns["thing"] = value
    assert message in one_line_error(shell, "thing --url http://127.0.0.1:9/")


def test_dataframe_problems_from_the_engine(shell: Any) -> None:
    shell.user_ns["dupes"] = pd.DataFrame([[1, 2]], columns=["a", "a"])
    assert "duplicate column names 'a'" in one_line_error(shell, "dupes --url http://127.0.0.1:9/")


def test_missing_and_invalid_urls(shell: Any) -> None:
    assert "give the URL to POST to" in one_line_error(shell, "df")
    assert "only http:// and https://" in one_line_error(shell, "df --url ftp://127.0.0.1/")
    assert "has no scheme" in one_line_error(shell, "df --url 127.0.0.1:8080")


def test_argument_errors_name_the_usage(shell: Any) -> None:
    text = one_line_error(shell, "df --url http://127.0.0.1:9/ --concurrency many")
    assert "argument --concurrency: invalid int value: 'many'" in text
    assert "Usage: %%flux_endpoint DF --url URL" in text
    assert "invalid choice: '3xx'" in one_line_error(
        shell, "df --url http://127.0.0.1:9/ --sent-when 3xx"
    )
    assert "name the DataFrame to send" in one_line_error(shell, "")
    assert "cannot read the magic line" in one_line_error(shell, "df --url 'http://x")
    assert "-o needs a Python name" in one_line_error(shell, "df --url http://127.0.0.1:9/ -o 1x")


def test_body_that_is_not_python_names_the_line(shell: Any) -> None:
    text = one_line_error(shell, "df --url http://127.0.0.1:9/", "\nlambda r: {\n  'data': b'x'")
    assert "the cell body is not a valid Python expression (line 2: 'lambda r: {'" in text
    assert "was never closed" in text
    assert "the cell body is empty" in one_line_error(shell, "df --url http://127.0.0.1:9/", "\n")
    assert "(line 1: 'x = 1'" in one_line_error(shell, "df --url http://127.0.0.1:9/", "x = 1")


def test_body_that_is_not_callable(shell: Any) -> None:
    text = one_line_error(shell, "df --url http://127.0.0.1:9/", "'hello'")
    assert "the cell body evaluated to 'hello' (str), not a function" in text
    text = one_line_error(shell, "df --url http://127.0.0.1:9/", "no_such_function")
    assert "raised NameError: name 'no_such_function' is not defined" in text


def test_mapping_error_names_the_row_and_nothing_is_sent(
    shell: Any, receiver: flux_magic.Receiver
) -> None:
    # the engine's rule, as in the API and the widget: the first 5 rows all fail, none is sent
    shell.user_ns["many"] = pd.DataFrame({"_value": range(20)})
    line = f"many --url {receiver.url}"
    text = one_line_error(shell, line, "lambda r: {'headers': {}, 'data': r.nope}")
    assert "the mapping function raised AttributeError" in text
    assert "(at row 0)" in text
    assert "the mapping failed for each of the first 5 rows, so nothing was sent" in text
    text = one_line_error(shell, line, "lambda r: {'headers': {}, 'data': 1}")
    assert '"data" must be bytes' in text
    assert receiver.count == 0


def test_mapping_error_on_a_later_row_is_reported_per_row(
    shell: Any, receiver: flux_magic.Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "lambda r: {'headers': {}, 'data': str(1 // (r._value - 2)).encode()}"
    result = magic(shell, f"df --url {receiver.url}", body)
    assert result["_sent"].tolist() == ["true", "false", "true"]
    assert "ZeroDivisionError" in result["_error"][1]
    out = capsys.readouterr().out
    assert out.startswith("2 of 3 rows sent, 1 not sent")
    assert "First failure: mapping error: the mapping function raised ZeroDivisionError" in out
    assert "(at row 1)" in out
    assert receiver.count == 2


def test_secrets_are_masked_everywhere(
    shell: Any, receiver: flux_magic.Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    secret_url = receiver.url.replace("http://", "http://user:hunter22@") + "?token=tok-123456"
    shell.user_ns["secret_url"] = secret_url
    magic(shell, "df --url $secret_url")
    magic(shell, "df --url $secret_url --preview")
    out = capsys.readouterr().out
    assert "hunter22" not in out
    assert "tok-123456" not in out
    assert "user:***@" in out
    shell.user_ns["many"] = pd.DataFrame({"_value": range(6)})
    nope = "lambda r: {'headers': {}, 'data': r.nope + secret_url}"
    messages = [
        one_line_error(shell, "df $secret_url"),  # forgot --url: argparse echoes the value
        one_line_error(shell, "df --url http://u:hunter22@127.0.0.1:99999/"),
        one_line_error(shell, "many --url $secret_url", nope.replace(" + secret_url", "")),
        one_line_error(shell, "many --url $secret_url", nope),
    ]
    for text in messages:
        assert "hunter22" not in text, text
        assert "tok-123456" not in text, text


def test_secrets_in_a_strict_failure_are_masked(shell: Any, closed_port_url: str) -> None:
    url = closed_port_url.replace("http://", "http://user:hunter22@")
    text = one_line_error(shell, f"df --url {url} --strict")
    assert "row 0 failed" in text
    assert "hunter22" not in text


# -- the Flux branch of the body --------------------------------------------------------------


def test_flux_function_literals_go_to_the_flux_layer(
    shell: Any, receiver: flux_magic.Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    compiled: list[str] = []

    def flux_fn(source: str) -> Any:
        compiled.append(source)
        if "bad" in source:
            raise flux_magic.FluxError("1:5: expected an expression\n  (r) => bad")
        return lambda r: {"headers": {}, "data": f"flux {r._value}".encode()}

    fake = types.ModuleType("flux_magic._flux")
    fake.looks_like_flux = lambda s: s.lstrip().startswith("(r) =>")  # type: ignore[attr-defined]
    fake.flux_fn = flux_fn  # type: ignore[attr-defined]
    monkeypatch.setitem(__import__("sys").modules, "flux_magic._flux", fake)
    body = '(r) => ({headers: {}, data: bytes(v: "flux ${r._value}")})'
    magic(shell, f"df --url {receiver.url} --quiet", body)
    assert compiled == [body]
    assert receiver.requests["body"].tolist() == [b"flux 1", b"flux 2", b"flux 3"]
    text = one_line_error(shell, f"df --url {receiver.url}", "(r) => bad")
    assert text == "%%flux_endpoint: 1:5: expected an expression (r) => bad"
    # Python bodies still work with the Flux layer present
    magic(shell, f"df --url {receiver.url} --quiet", TEXT_MAP)
    assert receiver.count == 6


def test_the_real_flux_layer(shell: Any, receiver: flux_magic.Receiver) -> None:
    body = '(r) => ({headers: {"X-A": "1"}, data: bytes(v: "The value is ${string(v: r._value)}")})'
    magic(shell, f"df --url {receiver.url} --quiet", body)
    assert receiver.requests["body"].tolist()[0] == b"The value is 1"


# -- interrupt --------------------------------------------------------------------------------


def test_keyboard_interrupt_in_the_mapping_keeps_every_row(
    shell: Any, receiver: flux_magic.Receiver
) -> None:
    shell.user_ns["many"] = pd.DataFrame({"_value": range(10)})
    shell.run_cell(
        "def stop_at_7(r):\n"
        "    if r._value == 7:\n"
        "        raise KeyboardInterrupt\n"
        "    return {'headers': {}, 'data': str(r._value).encode()}\n"
    )
    text = one_line_error(shell, f"many --url {receiver.url} -o partial", "stop_at_7")
    assert "interrupted after 7 of 10 rows (7 sent)" in text
    assert "is in partial" in text
    partial = shell.user_ns["partial"]
    assert len(partial) == 10
    assert partial["_sent"].tolist() == ["true"] * 7 + ["false"] * 3
    assert all(e.startswith("not sent: ") for e in partial["_error"].tolist()[8:])
    assert receiver.count == 7
    one_line_error(shell, f"many --url {receiver.url}", "stop_at_7")
    assert len(shell.user_ns[PARTIAL_NAME]) == 10


def test_keyboard_interrupt_in_the_first_row_or_a_preview(
    shell: Any, receiver: flux_magic.Receiver
) -> None:
    shell.run_cell("def interrupt(r):\n    raise KeyboardInterrupt\n")
    text = one_line_error(shell, f"df --url {receiver.url}", "interrupt")
    assert text.startswith("%%flux_endpoint: interrupted before anything was sent; the result")
    assert shell.user_ns[PARTIAL_NAME]["_sent"].tolist() == ["false"] * 3
    text = one_line_error(shell, f"df --url {receiver.url} --preview", "interrupt")
    assert text == "%%flux_endpoint: interrupted before anything was sent."
    assert receiver.count == 0


def test_kernel_interrupt_during_a_slow_send_stops_promptly(shell: Any) -> None:
    shell.user_ns["many"] = pd.DataFrame({"_value": range(50)})
    with flux_magic.Receiver(delay=0.2) as slow:
        timer = threading.Timer(0.7, os.kill, args=(os.getpid(), signal.SIGINT))
        started = time.monotonic()
        timer.start()
        try:
            text = one_line_error(shell, f"many --url {slow.url} --quiet")
        finally:
            timer.cancel()
        elapsed = time.monotonic() - started
    assert elapsed < 3.0, elapsed
    assert "interrupted after " in text
    assert f"is in {PARTIAL_NAME}" in text
    partial = shell.user_ns[PARTIAL_NAME]
    assert len(partial) == 50
    sent = int((partial["_sent"] == "true").sum())
    assert 1 <= sent < 50
    assert f"({sent} sent)" in text


# -- progress ---------------------------------------------------------------------------------


def test_progress_bar_for_long_sends_only(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with flux_magic.Receiver(delay=0.05) as slow:
        magic(shell, f"df --url {slow.url}")
        assert capsys.readouterr().err == "", "a short send shows no bar"
        shell.run_line_magic("config", "FluxEndpointMagic.progress_after = 0")
        shell.user_ns["many"] = pd.DataFrame({"_value": range(12)})
        magic(shell, f"many --url {slow.url}")
        err = capsys.readouterr().err
        assert "sending" in err
        assert "/12" in err
        assert "sent=" in err
        magic(shell, f"many --url {slow.url} --quiet")
        assert capsys.readouterr().err == ""


def test_an_undefined_variable_in_the_url_is_named(shell: Any) -> None:
    shell.user_ns["hook_url"] = "http://127.0.0.1:9/"
    text = one_line_error(shell, "df --url $hook_ulr")
    assert "--url uses the variable 'hook_ulr' ($hook_ulr), which is not defined" in text
    assert "Did you mean $hook_url?" in text
    text = one_line_error(shell, "df --url {nowhere}/x")
    assert "the variable 'nowhere' ({nowhere})" in text
    assert "has no scheme" not in text


def test_limit_sends_only_the_first_rows(
    shell: Any, receiver: flux_magic.Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    result = magic(shell, f"df --url {receiver.url} --limit 1 -o one")
    assert result["host"].tolist() == ["a"]  # Flux's limit(n: 1): the other rows are not there
    assert receiver.requests["body"].tolist() == [b"The value is 1"]
    assert capsys.readouterr().out.startswith("1 of 1 row sent")
    assert "--limit needs a whole number >= 0" in one_line_error(
        shell, f"df --url {receiver.url} --limit -1"
    )


def test_resend_sends_only_the_failed_rows_and_updates_the_result(
    shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.user_ns["many"] = pd.DataFrame({"_value": range(6)}, index=list("abcdef"))
    fails = {b"The value is 1", b"The value is 4"}
    with flux_magic.Receiver(status=lambda q: 500 if q.body in fails else 200) as rx:
        first = magic(shell, f"many --url {rx.url} -o posted")
    assert first["_sent"].tolist() == ["true", "false", "true", "true", "false", "true"]
    capsys.readouterr()
    with flux_magic.Receiver() as rx:
        again = magic(shell, f"--resend posted --url {rx.url}")
        assert sorted(rx.requests["body"].tolist()) == sorted(fails)
    assert again["_sent"].tolist() == ["true"] * 6
    assert again.index.tolist() == list("abcdef")
    assert again["_value"].tolist() == list(range(6))
    assert shell.user_ns["posted"] is again
    out = capsys.readouterr().out
    assert out.startswith("Resent the 2 failed rows of posted: 6 of 6 rows sent")
    assert "Outcome: 2xx 6." in out
    assert "The result is in posted." in out
    text = one_line_error(shell, "df --resend posted --url http://127.0.0.1:9/")
    assert "either a DataFrame or --resend NAME" in text
    assert "needs an earlier result" in one_line_error(
        shell, "--resend df --url http://127.0.0.1:9/"
    )
    assert "name the DataFrame to send" in one_line_error(shell, "--url http://127.0.0.1:9/")


def test_preview_prints_every_curl_command_in_full(
    shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.user_ns["wide"] = pd.DataFrame({"_value": [1, 2]})
    long_value = "x" * 300
    body = f"lambda r: {{'headers': {{'X-Long': '{long_value}'}}, 'data': b'v'}}"
    magic(shell, "wide --url http://127.0.0.1:9/ --preview", body)
    out = capsys.readouterr().out
    assert "The same requests as curl commands (secrets masked):" in out
    commands = [line for line in out.splitlines() if line.startswith("curl ")]
    assert len(commands) == 2
    assert all(f"-H 'X-Long: {long_value}'" in c for c in commands)
