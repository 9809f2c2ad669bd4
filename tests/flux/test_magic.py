"""``%%flux`` through a real IPython shell."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import flux_magic
from flux_magic._flux import FluxWarning
from flux_magic._flux_magic import PARTIAL_NAME, FluxMagic

from .test_program import DOCS_EXAMPLE


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    ip.register_magics(FluxMagic(shell=ip))
    before = set(ip.user_ns)
    yield ip
    for name in set(ip.user_ns) - before:
        del ip.user_ns[name]


def run(shell: InteractiveShell, line: str, cell: str) -> Any:
    return shell.run_cell_magic("flux", line, cell)


def test_returns_the_table(shell: InteractiveShell) -> None:
    df = run(shell, "", 'import "sampledata"\nsampledata.int() |> filter(fn: (r) => r._value > 15)')
    assert isinstance(df, pd.DataFrame)
    assert df["_value"].tolist() == [17, 19, 19]


def test_output_stores_the_frame_or_a_dict(shell: InteractiveShell) -> None:
    assert run(shell, "-o one --quiet", 'import "sampledata"\nsampledata.bool()') is None
    assert isinstance(shell.user_ns["one"], pd.DataFrame)
    run(
        shell,
        "-o many",
        'import "sampledata"\nsampledata.int() |> yield(name: "a")\n'
        'sampledata.uint() |> yield(name: "b")',
    )
    assert set(shell.user_ns["many"]) == {"a", "b"}


def test_notebook_dataframes_are_visible(shell: InteractiveShell) -> None:
    shell.user_ns["mydf"] = pd.DataFrame({"x": [1, 2, 3]})
    df = run(shell, "", "mydf |> filter(fn: (r) => r.x >= 2)")
    assert df["x"].tolist() == [2, 3]


def test_docs_example_sends_to_the_receiver(
    shell: InteractiveShell, receiver: flux_magic.Receiver
) -> None:
    with pytest.warns(FluxWarning, match="mapFn"):
        df = run(shell, "-o sent", DOCS_EXAMPLE.format(url=receiver.url))
    assert df["_sent"].tolist() == ["true"] * 12
    assert receiver.count == 12
    assert receiver.requests["body"].iloc[-1] == b"The value is 1"
    assert shell.user_ns["sent"] is df


def test_204_is_not_sent_unless_2xx(shell: InteractiveShell) -> None:
    program = (
        'import "http"\nimport "sampledata"\n'
        'sampledata.int() |> limit(n: 1) |> http.endpoint(url: "{url}")'
        '(mapFn: (r) => ({{headers: {{}}, data: bytes(v: "x")}}))()'
    )
    with flux_magic.Receiver(204) as rx:
        flux = run(shell, "", program.format(url=rx.url))
        webhooks = run(shell, "--sent-when 2xx", program.format(url=rx.url))
    assert flux["_sent"].tolist() == ["false", "false"]
    assert webhooks["_sent"].tolist() == ["true", "true"]


def test_flux_error_is_a_usage_error_with_the_underline(shell: InteractiveShell) -> None:
    with pytest.raises(UsageError) as info:
        run(shell, "", 'import "sampledata"\nsampledata.int() |> map(fn: (r) => ({v: bytes("x")}))')
    text = str(info.value)
    assert text.startswith("%%flux: error @2:47-2:50: positional argument")
    assert "^^^" in text
    assert 'Write bytes(v: "x")' in text


def test_transport_error_is_shown_and_partial_kept(
    shell: InteractiveShell, closed_port_url: str
) -> None:
    program = (
        f'import "http"\nimport "sampledata"\nsampledata.int() |> http.endpoint(url: '
        f'"{closed_port_url}")(mapFn: (r) => ({{headers: {{}}, data: bytes(v: "x")}}))()'
    )
    with pytest.raises(UsageError, match="failed to evaluate map function"):
        run(shell, "", program)
    assert isinstance(shell.user_ns[PARTIAL_NAME], pd.DataFrame)


def test_collect_mode_reports_failures(
    shell: InteractiveShell, closed_port_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    program = (
        f'import "http"\nimport "sampledata"\nsampledata.int() |> limit(n: 1) |> '
        f'http.endpoint(url: "{closed_port_url}")'
        '(mapFn: (r) => ({headers: {}, data: bytes(v: "x")}))()'
    )
    df = run(shell, "--collect --timeout 5", program)
    assert df["_sent"].tolist() == ["false", "false"]
    assert "2 of 2 request(s) in _result failed" in capsys.readouterr().out


def test_load_ext_registers_flux() -> None:
    ip = InteractiveShell.instance()
    flux_magic.load_ipython_extension(ip)
    assert "flux" in ip.magics_manager.magics["cell"]


def test_notebook_strings_are_visible_and_can_be_shadowed(shell: InteractiveShell) -> None:
    shell.user_ns["label"] = "from python"
    df = run(shell, "", 'import "array"\narray.from(rows: [{v: label}])')
    assert df["v"].tolist() == ["from python"]
    df = run(shell, "", 'import "array"\nlabel = "flux"\narray.from(rows: [{v: label}])')
    assert df["v"].tolist() == ["flux"]


def _caret_column(text: str, line_no: int) -> tuple[str, int, int]:
    """The quoted source line ``line_no`` of a Flux error and where its caret starts/ends."""
    lines = text.split("\n")
    source = next(i for i, line in enumerate(lines) if line.startswith(f"{line_no:>3} | "))
    caret = lines[source + 1]
    start = caret.index("^")
    return lines[source], start, len(caret.rstrip())


@pytest.mark.parametrize(
    ("body", "span"),
    [
        ('(r) => ({headers: {},\n  data: bytes(v: r.x + "a")})', 'r.x + "a"'),  # runtime
        ("(r) => ({headers: {},\n  data: bytes(v: r.x + )})", ")"),  # syntax
    ],
)
def test_flux_endpoint_errors_keep_the_caret_under_the_text(
    shell: InteractiveShell, body: str, span: str
) -> None:
    from flux_magic._magics import FluxEndpointMagic

    shell.register_magics(FluxEndpointMagic(shell=shell))
    # five rows that all fail to map: the engine stops the send and the magic reports why
    shell.user_ns["df"] = pd.DataFrame({"x": [1, 2, 3, 4, 5]})
    with pytest.raises(UsageError) as info:
        shell.run_cell_magic("flux_endpoint", "df --url http://127.0.0.1:9/", body)
    text = str(info.value)
    assert "@2:" in text
    source, start, end = _caret_column(text, 2)
    assert source[start:end] == span


def test_flux_errors_keep_line_and_caret_in_the_flux_magic(shell: InteractiveShell) -> None:
    program = (
        'import "sampledata"\n'
        "sampledata.int()\n"
        "    |> range(start: sampledata.start, stop: sampledata.stop)\n"
        '    |> filter(fn: (r) => r._value > "10")'
    )
    with pytest.raises(UsageError) as info:
        run(shell, "", program)
    text = str(info.value)
    assert "@4:26-4:41: cannot compare int with string using >" in text
    source, start, end = _caret_column(text, 4)
    assert source[start:end] == 'r._value > "10"'


def test_range_filter_group_aggregate_in_the_magic(shell: InteractiveShell) -> None:
    df = run(
        shell,
        "",
        'import "sampledata"\n'
        "sampledata.int()\n"
        "    |> range(start: sampledata.start, stop: sampledata.stop)\n"
        "    |> filter(fn: (r) => r._value > 5)\n"
        '    |> group(columns: ["tag"])\n'
        "    |> sum()",
    )
    assert df["_value"].tolist() == [10 + 7 + 17 + 15, 19 + 19 + 13]
    assert df.attrs["flux_group_key"] == ["tag"]
