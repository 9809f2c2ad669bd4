"""``%flux_endpoint_ui`` in a real IPython shell, and "Show code" run as a cell."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import flux_magic
from flux_magic._widget_magic import register
from flux_magic.widget import EndpointWidget


@pytest.fixture
def shell() -> Iterator[Any]:
    ip = InteractiveShell.instance(history_length=0, colors="NoColor")
    ip.history_manager.enabled = False
    register(ip)
    ip.user_ns["alerts"] = pd.DataFrame({"host": ["a", "b"], "_value": [1.5, 2.5]})
    yield ip
    for name in ("alerts", "posted", "from_cell"):
        ip.user_ns.pop(name, None)


def test_magic_opens_the_widget_with_the_given_options(shell: Any) -> None:
    w = shell.run_line_magic(
        "flux_endpoint_ui",
        "alerts --url http://127.0.0.1:9/hook --concurrency 4 --timeout 5 --sent-when 2xx "
        "--strict -o posted",
    )
    assert isinstance(w, EndpointWidget)
    assert w.df_picker.value == "alerts"
    assert w.url_text.value == "http://127.0.0.1:9/hook"
    assert (w.concurrency.value, w.timeout.value, w.sent_when.value) == (4, "5", "2xx")
    assert w.model.timeout == 5.0
    assert w.errors.value == "raise"
    assert w.output_name.value == "posted"
    assert w.namespace is shell.user_ns


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("missing_df", "no variable named 'missing_df'"),
        ("--bogus", "unrecognized arguments"),
        ("--concurrency 0", "concurrency must be a whole number >= 1, not 0"),
        ("--sent-when 201", "invalid choice"),
        ("'unclosed", "No closing quotation"),
    ],
)
def test_magic_usage_errors_are_one_line(shell: Any, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        shell.run_line_magic("flux_endpoint_ui", line)


def test_magic_rejects_a_non_dataframe(shell: Any) -> None:
    shell.user_ns["numbers"] = [1, 2]
    with pytest.raises(UsageError, match="not a DataFrame"):
        shell.run_line_magic("flux_endpoint_ui", "numbers")


def test_show_code_text(shell: Any) -> None:
    w = shell.run_line_magic(
        "flux_endpoint_ui", "alerts --url http://u:pw123@127.0.0.1:9/ --concurrency 2 -o posted"
    )
    w.code_button.click()
    code = w.code_text()
    first, _, body = code.partition("\n")
    assert (
        first
        == "%%flux_endpoint alerts --url 'http://u:***@127.0.0.1:9/' --concurrency 2 -o posted"
    )
    assert body.strip() == w.mapping_text.value.strip()
    assert "pw123" not in w.code.value
    assert "masked" in w.code.value


@pytest.mark.skipif(
    importlib.util.find_spec("flux_magic._magics") is None,
    reason="the %%flux_endpoint magic is not available",
)
def test_show_code_runs_and_gives_the_same_result(shell: Any) -> None:
    with flux_magic.Receiver() as rx:
        w = shell.run_line_magic("flux_endpoint_ui", f"alerts --url {rx.url} --sent-when 2xx")
        w.send_button.click()
        assert w.wait(20)
        assert w.result is not None
        from_widget = rx.requests
        rx.clear()
        shell.run_line_magic("load_ext", "flux_magic")
        first, _, cell = w.code_text().partition("\n")
        magic, _, line = first.partition(" ")
        assert magic == "%%flux_endpoint"
        result = shell.run_cell_magic("flux_endpoint", line + " -o from_cell", cell)
        from_cell = rx.requests
    if result is None:
        result = shell.user_ns["from_cell"]
    pd.testing.assert_frame_equal(
        result.drop(columns="_elapsed").reset_index(drop=True),
        w.result.drop(columns="_elapsed").reset_index(drop=True),
    )
    assert from_cell["body"].tolist() == from_widget["body"].tolist()
    assert from_cell["headers"].tolist() == from_widget["headers"].tolist()


def test_load_ext_registers_the_widget_magic(shell: Any) -> None:
    shell.run_line_magic("load_ext", "flux_magic")
    try:
        assert "flux_endpoint_ui" in shell.magics_manager.magics["line"]
        w = shell.run_line_magic("flux_endpoint_ui", "alerts")
        assert isinstance(w, EndpointWidget)
    finally:
        shell.run_line_magic("unload_ext", "flux_magic")
