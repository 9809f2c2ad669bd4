"""The widget's "Advanced" options: retries, idempotency keys, rate, URL policy, TLS, limits.

Every send goes to a real loopback Receiver; the options reach ``endpoint()`` exactly as the
magic's flags do, and "Show code" run through ``%%flux_endpoint`` gives the same result.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import ipywidgets as widgets
import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from widget_helpers import all_text, make, send

import flux_magic
from flux_magic import OPTION_DOCS, Options
from flux_magic._widget_magic import register
from flux_magic.widget import MAIN_OPTIONS, EndpointWidget


def header(headers: dict[str, str], name: str) -> list[str]:
    """Every value of header ``name`` (any case) in ``headers``."""
    return [v for k, v in headers.items() if k.lower() == name.lower()]


def fail_first(status: int = 503) -> tuple[Callable[[flux_magic.Received], int], dict[bytes, int]]:
    """A receiver handler answering ``status`` to the first request of each body, then 200."""
    seen: dict[bytes, int] = {}
    lock = threading.Lock()

    def answer(req: flux_magic.Received) -> int:
        with lock:
            seen[req.body] = seen.get(req.body, 0) + 1
            return status if seen[req.body] == 1 else 200

    return answer, seen


@pytest.fixture
def shell(namespace: dict[str, Any]) -> Iterator[Any]:
    ip = InteractiveShell.instance(history_length=0, colors="NoColor")
    ip.history_manager.enabled = False
    register(ip)
    ip.user_ns["alerts"] = namespace["alerts"]
    yield ip
    ip.run_line_magic("unload_ext", "flux_magic")
    for name in ("alerts", "from_cell"):
        ip.user_ns.pop(name, None)


def test_advanced_section_is_collapsed_documented_and_defaults_from_options(
    namespace: dict[str, Any],
) -> None:
    w = make(namespace, "http://127.0.0.1:9/")
    assert isinstance(w.advanced, widgets.Accordion)
    assert w.advanced.selected_index is None, "collapsed at first"
    assert w.advanced.titles == ("Advanced",)
    defaults = Options()
    every = set(Options.__dataclass_fields__)
    # every option of endpoint() has a control, generated from Options, documented by OPTION_DOCS
    assert set(w.option_controls) == every
    assert set(w.advanced_controls) == every - set(MAIN_OPTIONS)
    for name, control in w.option_controls.items():
        assert control.tooltip == OPTION_DOCS[name], name
        assert getattr(w, name) is control
    values = w.advanced_values()
    for name in w.advanced_controls:
        assert values[name] == getattr(defaults, name), name
    assert w.options() == {n: getattr(defaults, n) for n in every}
    w.retries.value = 2
    w.verify.value = "false"  # a text box: true, false or a CA bundle path
    assert w.advanced.titles == ("Advanced (2 changed)",)


def test_retries_resend_a_503_and_record_attempts(namespace: dict[str, Any]) -> None:
    answer, seen = fail_first(503)
    with flux_magic.Receiver(status=answer) as rx:
        w = make(namespace, rx.url)
        w.retries.value = 2
        w.backoff.value = 0.01
        send(w)
        assert rx.count == 6
    assert w.result is not None
    assert w.result["_sent"].tolist() == ["true"] * 3
    assert w.result["_attempts"].tolist() == [2, 2, 2]
    assert set(seen.values()) == {2}
    assert "<th" in w.result_table.value
    assert "_attempts</th>" in w.result_table.value
    assert "3 took more than one attempt" in w.message.value


def test_without_retries_a_503_is_not_sent(namespace: dict[str, Any]) -> None:
    answer, _seen = fail_first(503)
    with flux_magic.Receiver(status=answer) as rx:
        w = make(namespace, rx.url)
        send(w)
        assert rx.count == 3
    assert w.result is not None
    assert w.result["_sent"].tolist() == ["false"] * 3
    assert "_attempts" not in w.result.columns


def test_idempotency_key_one_header_per_row_kept_across_retries(
    namespace: dict[str, Any],
) -> None:
    answer, _seen = fail_first(503)
    with flux_magic.Receiver(status=answer) as rx:
        w = make(namespace, rx.url)
        w.idempotency_key.value = True
        w.retries.value = 1
        w.backoff.value = 0.01
        send(w)
        got = rx.requests
    assert w.result is not None
    assert w.result["_sent"].tolist() == ["true"] * 3
    keys: dict[bytes, set[str]] = {}
    for body, headers in zip(got["body"], got["headers"], strict=True):
        values = header(headers, "Idempotency-Key")
        assert len(values) == 1, "one Idempotency-Key header per request"
        keys.setdefault(body, set()).update(values)
    assert len(keys) == 3
    assert all(len(v) == 1 for v in keys.values()), "a retry repeats its row's key"
    assert len(set().union(*keys.values())) == 3, "every row has its own key"


def test_block_private_and_allow_hosts_refuse_the_loopback_receiver(
    namespace: dict[str, Any], receiver: flux_magic.Receiver
) -> None:
    w = make(namespace, receiver.url)
    w.block_private.value = True
    send(w)
    assert "refused by the URL policy" in w.message.value
    assert "loopback" in w.message.value
    assert w.result is None
    w.block_private.value = False
    w.allow_hosts.value = "hooks.example"
    w.preview_button.click()
    assert "not in allow_hosts (hooks.example)" in w.message.value
    send(w)
    assert "not in allow_hosts (hooks.example)" in w.message.value
    assert w.result is None
    assert receiver.count == 0
    w.allow_hosts.value = "hooks.example, 127.0.0.1"
    send(w)
    assert w.result is not None
    assert w.result["_sent"].tolist() == ["true"] * 3
    assert receiver.count == 3


def test_keep_response_and_rate(namespace: dict[str, Any]) -> None:
    with flux_magic.Receiver(body=b"accepted-long-answer") as rx:
        w = make(namespace, rx.url)
        w.keep_response.value = 8
        w.rate.value = "200"
        send(w)
    assert w.result is not None
    assert w.result["_sent"].tolist() == ["true"] * 3
    assert [bytes(v) for v in w.result["_response"]] == [b"accepted"] * 3
    assert "_response" in w.result_table.value


def test_verify_off_is_a_note_in_the_widget_not_a_warning(
    namespace: dict[str, Any], receiver: flux_magic.Receiver
) -> None:
    w = make(namespace, receiver.url)
    w.verify.value = "false"  # a text box: true, false or a CA bundle path
    send(w)  # pytest turns warnings into errors: none may escape the widget
    assert w.result is not None
    assert w.result["_sent"].tolist() == ["true"] * 3
    assert "verify=False" in w.message.value


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("rate", "0", "rate must be"),
        ("rate", "fast", "rate must be a number"),
        ("retries", -1, "retries must be"),
        ("retries", 99, "retries must be at most"),
        ("backoff", -0.5, "backoff must be"),
        ("max_redirects", -1, "max_redirects must be"),
        ("max_response_bytes", -1, "max_response_bytes must be"),
        ("keep_response", -3, "keep_response must be"),
        ("allow_hosts", "a b/c", "allow_hosts"),
    ],
)
@pytest.mark.parametrize("button", ["send", "preview", "code"])
def test_invalid_value_is_a_short_message_and_sends_nothing(
    namespace: dict[str, Any],
    receiver: flux_magic.Receiver,
    name: str,
    value: Any,
    message: str,
    button: str,
) -> None:
    w = make(namespace, receiver.url)
    w.advanced_controls[name].value = value
    getattr(w, f"{button}_button").click()
    assert w.wait(10)
    assert message in w.message.value, w.message.value
    assert "⚠" in w.message.value
    assert len(w.message.value) < 600
    assert "Traceback" not in all_text(w)
    assert w.result is None
    assert receiver.count == 0


def test_constructor_accepts_the_options_of_endpoint() -> None:
    df = pd.DataFrame({"_value": [1]})
    w = EndpointWidget(
        df,
        "http://127.0.0.1:9/",
        None,
        namespace={},
        retries=3,
        backoff=0.25,
        rate=1.5,
        idempotency_key=True,
        allow_hosts=["a.example", "b.example"],
        verify=False,
        keep_response=16,
        errors="raise",
    )
    assert w.errors.value == "raise"
    assert (w.retries.value, w.backoff.value, w.rate.value) == (3, 0.25, "1.5")
    assert w.allow_hosts.value == "a.example,b.example"
    first = w.code_text().partition("\n")[0]
    assert first == (
        "%%flux_endpoint df --url http://127.0.0.1:9/ --strict --keep-response 16 --no-verify "
        "--retries 3 --backoff 0.25 --idempotency-key --rate 1.5 "
        "--allow-hosts a.example,b.example"
    )
    with pytest.raises(flux_magic.UsageError, match="rate must be"):
        EndpointWidget(df, namespace={}, rate=0)
    with pytest.raises(flux_magic.UsageError, match="retries must be"):
        EndpointWidget(df, namespace={}, retries=-1)


def test_line_magic_takes_the_same_flags(shell: Any) -> None:
    w = shell.run_line_magic(
        "flux_endpoint_ui",
        "alerts --url http://127.0.0.1:9/ --retries 2 --backoff 0.1 --idempotency-key "
        "--no-verify --rate 2 --allow-hosts a.example,b.example --block-private "
        "--max-redirects 0 --max-response-bytes 1000 --keep-response 4 --retry-unknown "
        "--journal sends.sqlite",
    )
    assert isinstance(w, EndpointWidget)
    assert w.advanced_values() == {
        "retries": 2,
        "backoff": 0.1,
        "rate": 2.0,
        "retry_unknown": True,
        "idempotency_key": True,
        "allow_hosts": ("a.example", "b.example"),
        "block_private": True,
        "verify": False,
        "max_redirects": 0,
        "max_response_bytes": 1000,
        "keep_response": 4,
        "journal": "sends.sqlite",
    }
    assert w.advanced.titles == ("Advanced (12 changed)",)
    with pytest.raises(UsageError, match="rate must be"):
        shell.run_line_magic("flux_endpoint_ui", "alerts --rate 0")
    # every value the API accepts, no limit included
    w = shell.run_line_magic("flux_endpoint_ui", "alerts --timeout none")
    assert w.model.timeout is None
    assert w.timeout.value == ""
    assert "--timeout none" in w.code_text()


def test_show_code_with_advanced_options_runs_and_gives_the_same_result(shell: Any) -> None:
    answer, seen = fail_first(503)
    with flux_magic.Receiver(status=answer, body=b"ok-answer") as rx:
        w = shell.run_line_magic("flux_endpoint_ui", f"alerts --url {rx.url}")
        w.retries.value = 2
        w.backoff.value = 0.01
        w.idempotency_key.value = True
        w.rate.value = "500"
        w.allow_hosts.value = "127.0.0.1, localhost"
        w.verify.value = "false"  # a text box: true, false or a CA bundle path
        w.max_redirects.value = 3
        w.keep_response.value = 2
        w.concurrency.value = 2
        send(w)
        assert w.result is not None
        from_widget = rx.requests
        code = w.code_text()
        rx.clear()
        seen.clear()
        shell.run_line_magic("load_ext", "flux_magic")
        first, _, cell = code.partition("\n")
        magic, _, line = first.partition(" ")
        assert magic == "%%flux_endpoint"
        for flag in (
            "--retries 2",
            "--backoff 0.01",
            "--idempotency-key",
            "--rate 500",
            "--allow-hosts 127.0.0.1,localhost",
            "--no-verify",
            "--max-redirects 3",
            "--keep-response 2",
            "--concurrency 2",
        ):
            assert flag in line, flag
        with pytest.warns(UserWarning, match="verify=False"):
            result = shell.run_cell_magic("flux_endpoint", line + " -o from_cell --quiet", cell)
        from_cell = rx.requests
    if result is None:
        result = shell.user_ns["from_cell"]
    assert w.result["_attempts"].tolist() == [2, 2, 2]
    pd.testing.assert_frame_equal(
        result.drop(columns="_elapsed").reset_index(drop=True),
        w.result.drop(columns="_elapsed").reset_index(drop=True),
    )

    def without_key(headers: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in headers.items() if k.lower() != "idempotency-key"}

    for got in (from_widget, from_cell):
        assert all(len(header(h, "Idempotency-Key")) == 1 for h in got["headers"])
    assert sorted(from_cell["body"]) == sorted(from_widget["body"])
    assert sorted(map(str, map(without_key, from_cell["headers"]))) == sorted(
        map(str, map(without_key, from_widget["headers"]))
    )
