"""A planted secret appears nowhere a user can see it — previews, curl, errors, reprs, summaries,
logs, the magic, the widget, an executed notebook — only in the bytes the receiver got."""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

import flux_magic
from flux_magic import Receiver, Reply
from flux_magic._secrets import mask_url, secret_values
from flux_magic._summary import summarize

TOKEN = f"tok{uuid.uuid4().hex}"  # in Authorization, X-Api-Key and Cookie headers
PASSWORD = f"pw{uuid.uuid4().hex}"  # in the URL's userinfo
QUERY = f"qs{uuid.uuid4().hex}"  # in a token-like query parameter
SECRETS = (TOKEN, PASSWORD, QUERY)


def secret_headers(r: Any) -> dict[str, Any]:
    return {
        "headers": {
            "Authorization": f"Bearer {TOKEN}",
            "X-Api-Key": TOKEN,
            "Cookie": f"session={TOKEN}",
            "X-Row": str(r.n),
        },
        "data": f"row {r.n}".encode(),
    }


def secret_url(base: str) -> str:
    return base.replace("://", f"://user:{PASSWORD}@") + f"hook?api_token={QUERY}&x=1"


def assert_clean(*texts: object) -> None:
    for text in texts:
        shown = str(text)
        for secret in SECRETS:
            assert secret not in shown, f"a secret leaked into: {shown[:300]!r}"


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"n": range(3)})


def test_only_the_receiver_sees_the_secrets(
    frame: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[int] = []

    def answer(req: flux_magic.Received) -> Reply:
        seen.append(1)
        return Reply(503) if len(seen) == 1 else Reply(200)

    with Receiver(answer) as rx, caplog.at_level(logging.DEBUG):
        url = secret_url(rx.url)
        ep = flux_magic.endpoint(url, retries=1, backoff=0.01, idempotency_key=True)
        sender = ep(secret_headers)
        preview = sender.preview(frame)
        result = sender(frame)
        got = rx.received()
        shown = [
            preview.to_string(),
            preview.to_html(),
            repr(preview.to_dict()),
            repr(ep),
            repr(sender),
            repr(sender.options),
            repr(rx),
            result.to_string(),
            summarize(result).line(url=url),
            caplog.text,
        ]
    assert_clean(*shown)
    # the real values went out, and only there
    assert all(q.headers["Authorization"] == f"Bearer {TOKEN}" for q in got)
    assert all(q.headers["X-Api-Key"] == TOKEN for q in got)
    assert all(QUERY in q.path for q in got)
    assert "Bearer ***" in preview["headers"][0]["Authorization"]
    assert "retrying" in caplog.text  # the log was written, and is clean


def test_reveal_is_the_explicit_escape_hatch(frame: pd.DataFrame) -> None:
    sender = flux_magic.endpoint(secret_url("http://127.0.0.1:9/"))(secret_headers)
    masked = sender.preview(frame, n=1)["curl"][0]
    revealed = sender.preview(frame, n=1, reveal=True)["curl"][0]
    assert_clean(masked)
    assert TOKEN in revealed
    assert PASSWORD in revealed
    assert QUERY in revealed


@pytest.mark.parametrize("concurrency", [1, 4])
def test_errors_never_show_secrets(frame: pd.DataFrame, concurrency: int) -> None:
    messages: list[str] = []
    # refused connection: per-row errors
    refused = secret_url("http://127.0.0.1:9/")
    out = flux_magic.endpoint(refused, concurrency=concurrency)(secret_headers)(frame)
    messages += out["_error"].tolist()
    # strict mode
    with pytest.raises(flux_magic.EndpointError) as strict:
        flux_magic.endpoint(refused, concurrency=concurrency, errors="raise")(secret_headers)(frame)
    messages += [str(strict.value), strict.value.reason, strict.value.result.to_string()]
    # bad URLs and policies that mention the URL
    for bad, options in [
        (secret_url("ftp://127.0.0.1/"), {}),
        (secret_url("http://127.0.0.1:9/") + " x", {}),
        (secret_url("http://127.0.0.1:9/"), {"block_private": True}),
        (secret_url("http://127.0.0.1:9/"), {"allow_hosts": ["example.com"]}),
    ]:
        with pytest.raises(flux_magic.UsageError) as bad_url:
            flux_magic.endpoint(bad, **options)
        messages.append(str(bad_url.value))
    # a mapping error on a row whose URL carries secrets
    failing = flux_magic.endpoint(refused)(lambda r: {"headers": {"X-Api-Key": 5}})
    messages += failing.preview(frame)["error"].tolist()
    # an interrupt with requests in flight
    with Receiver(lambda req: Reply(fault="hang")) as rx:
        cancel = threading.Event()
        threading.Timer(0.2, cancel.set).start()
        hung = flux_magic.endpoint(secret_url(rx.url), concurrency=concurrency, timeout=None)
        out = hung(secret_headers)(frame, cancel=cancel)
        messages += out["_error"].tolist()
    assert all(messages)
    assert_clean(*messages)


def test_magic_and_widget_paths(
    frame: pd.DataFrame, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    from flux_magic.widget import EndpointWidget

    url = secret_url(receiver.url)
    mapping = (
        'lambda r: {"headers": {"Authorization": "Bearer '
        + TOKEN
        + '", "X-Api-Key": "'
        + TOKEN
        + '"}, "data": str(r.n).encode()}'
    )
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "flux_magic")
    try:
        shell.user_ns.update(df=frame, url=url)
        preview = shell.run_cell_magic("flux_endpoint", "df --url $url --preview", mapping)
        result = shell.run_cell_magic("flux_endpoint", "df --url $url --retries 1", mapping)
        refused = shell.run_cell_magic(
            "flux_endpoint", f"df --url {secret_url('http://127.0.0.1:9/')}", mapping
        )
        bad = shell.run_cell(f"%%flux_endpoint df --url {secret_url('ftp://x/')}\n{mapping}")
    finally:
        shell.run_line_magic("unload_ext", "flux_magic")
        for name in ("df", "url"):
            shell.user_ns.pop(name, None)
    printed = capsys.readouterr()
    assert_clean(printed.out, printed.err, preview, result, refused, bad.error_in_exec)
    assert result["_sent"].tolist() == ["true"] * 3

    w = EndpointWidget(df=frame, url=url, mapping=mapping)
    w.preview_button.click()
    w.send_button.click()
    assert w.wait(20)
    w.url_text.value = secret_url("http://127.0.0.1:9/")
    w.send_button.click()
    assert w.wait(20)
    assert_clean(*_widget_text(w))
    # every request the magic and the widget made carried the real values
    got = receiver.received()
    assert len(got) == 3 + 3
    assert all(q.headers["X-Api-Key"] == TOKEN for q in got)


def _widget_text(root: Any) -> list[str]:
    import ipywidgets as widgets

    parts: list[str] = []
    stack = [root]
    while stack:
        node = stack.pop()
        for name in ("value", "description", "placeholder", "tooltip"):
            v = getattr(node, name, None)
            if (isinstance(v, str) and name != "value") or isinstance(node, widgets.HTML):
                parts.append(str(v))
        if isinstance(node, widgets.Output):
            parts += [str(o) for o in node.outputs]
        stack += list(getattr(node, "children", ()))
    return parts


@pytest.mark.notebook
def test_an_executed_notebook_shows_no_secret(receiver: Receiver) -> None:
    url = secret_url(receiver.url)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import logging, pandas as pd, flux_magic\n"
            "logging.basicConfig(level=logging.DEBUG)\n"
            "%load_ext flux_magic\n"
            f"url = {url!r}\n"
            "df = pd.DataFrame({'n': range(3)})"
        ),
        nbformat.v4.new_code_cell(
            "send = flux_magic.endpoint(url, retries=1)(lambda r: {'headers': "
            f"{{'Authorization': 'Bearer {TOKEN}'}}, 'data': b'x'}})\n"
            "send.preview(df)"
        ),
        nbformat.v4.new_code_cell("send(df)"),
        nbformat.v4.new_code_cell("send"),
        nbformat.v4.new_code_cell(
            "%%flux_endpoint df --url $url\n"
            f"lambda r: {{'headers': {{'X-Api-Key': '{TOKEN}'}}, 'data': b''}}"
        ),
    ]
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    outputs = [str(o) for cell in nb.cells for o in cell.get("outputs", [])]
    assert any("_sent" in o for o in outputs)
    assert_clean(*outputs)
    assert len(receiver.received()) == 6


@pytest.mark.parametrize("concurrency", [1, 4])
def test_url_credentials_become_basic_auth_unless_the_mapping_sets_one(
    concurrency: int, receiver: Receiver
) -> None:
    """As in Go's client (Flux), the same in both transports; the URL sent has no userinfo."""
    url = receiver.url.replace("://", "://us%40er:p%3Ass@")
    flux_magic.endpoint(url, concurrency=concurrency)(
        lambda r: {"headers": {"Authorization": "Bearer mine"} if r.n else {}, "data": b""}
    )(pd.DataFrame({"n": [0, 1]}))
    auth = sorted(q.headers.get("Authorization", "") for q in receiver.received())
    assert auth == ["Basic dXNAZXI6cDpzcw==", "Bearer mine"]  # base64("us@er:p:ss")


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("http://TOKEN123@127.0.0.1:1/hook", "TOKEN123"),
        ("http://sk_live_x:@127.0.0.1:1/", "sk_live_x"),
    ],
)
def test_a_credential_given_as_the_user_name_is_masked(url: str, secret: str) -> None:
    """Issue 11 item 13: ``https://TOKEN@host`` carries its credential in the user name."""
    assert secret not in mask_url(url)
    assert "***@127.0.0.1:1" in mask_url(url)
    assert secret in secret_values(url)
    sender = flux_magic.endpoint(url)(lambda r: {"data": b"x"})
    shown = sender.preview(pd.DataFrame({"n": [1]}))
    assert secret not in shown.to_string()
    assert secret not in repr(sender)


def test_the_curl_column_masks_a_secret_in_the_body_as_the_body_column_does() -> None:
    """Issue 11 item 13: the same masking in the body and curl columns."""
    sender = flux_magic.endpoint("http://127.0.0.1:1/hook")(
        lambda r: {"headers": {"Authorization": "Bearer s3cr3t-token"}, "data": b"t=s3cr3t-token"}
    )
    shown = sender.preview(pd.DataFrame({"n": [1]}))
    assert "s3cr3t-token" not in shown.loc[0, "body"]
    assert "s3cr3t-token" not in shown.loc[0, "curl"]
    assert "t=***" in shown.loc[0, "curl"]
    revealed = sender.preview(pd.DataFrame({"n": [1]}), reveal=True)
    assert "t=s3cr3t-token" in revealed.loc[0, "curl"]
