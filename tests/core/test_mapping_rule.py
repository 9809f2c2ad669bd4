"""The one rule for mapping failures, decided in the engine: when each of the first rows
fails to map, nothing is sent; otherwise a row that fails to map gets its own ``_error``.

The magic and the widget follow the same rule (tests/magic, tests/widget)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import flux_magic
from flux_magic._send import CHECKED_ROWS

CONCURRENCY = [1, 4]


def fails_below(k: int) -> Any:
    """A mapping that fails for the rows whose _value is below ``k``."""

    def fn(r: Any) -> dict[str, Any]:
        if r._value < k:
            raise ValueError(f"bad value {r._value}")
        return {"headers": {}, "data": f"{r._value}".encode()}

    return fn


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_first_rows_all_failing_send_nothing(
    receiver: flux_magic.Receiver, concurrency: int
) -> None:
    df = pd.DataFrame({"_value": range(20)})
    sender = flux_magic.endpoint(receiver.url, concurrency=concurrency)(fails_below(CHECKED_ROWS))
    with pytest.raises(flux_magic.MappingError) as info:
        sender(df)
    text = str(info.value)
    assert text.startswith(
        f"the mapping failed for each of the first {CHECKED_ROWS} rows, so nothing was sent. "
    )
    assert "bad value 0" in text
    assert "(at row 0)" in text
    assert info.value.position == 0
    assert receiver.count == 0
    # every row is still accounted for: none was sent
    assert sender.result is not None
    assert sender.result["_sent"].tolist() == ["false"] * 20
    assert sender.result["_status"].tolist() == [""] * 20


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_a_row_that_maps_among_the_first_lets_the_send_go(
    receiver: flux_magic.Receiver, concurrency: int
) -> None:
    df = pd.DataFrame({"_value": range(8)})
    k = CHECKED_ROWS - 1
    out = flux_magic.endpoint(receiver.url, concurrency=concurrency)(fails_below(k))(df)
    assert out["_sent"].tolist() == ["false"] * k + ["true"] * (8 - k)
    assert all(e.startswith("mapping error: ") for e in out["_error"][:k])
    assert sorted(receiver.requests["body"]) == [str(v).encode() for v in range(k, 8)]


def test_fewer_rows_than_checked_report_each_row(receiver: flux_magic.Receiver) -> None:
    few = pd.DataFrame({"_value": range(CHECKED_ROWS - 1)})
    out = flux_magic.endpoint(receiver.url)(lambda r: {"header": {}, "body": b"x"})(few)
    assert out["_sent"].tolist() == ["false"] * (CHECKED_ROWS - 1)
    assert all('did you mean "headers" instead of "header"' in e for e in out["_error"])
    assert receiver.count == 0


def test_the_mapping_runs_once_per_row(receiver: flux_magic.Receiver) -> None:
    calls: list[int] = []

    def fn(r: Any) -> dict[str, Any]:
        calls.append(r._value)
        return {"headers": {}, "data": b"x"}

    flux_magic.endpoint(receiver.url)(fn)(pd.DataFrame({"_value": range(12)}))
    assert calls == list(range(12))


def test_url_secrets_are_masked_in_the_rule_message(receiver: flux_magic.Receiver) -> None:
    url = receiver.url + "?token=s3cr3t-value"

    def fn(r: Any) -> dict[str, Any]:
        raise ValueError(f"cannot post to {url}")

    with pytest.raises(flux_magic.MappingError) as info:
        flux_magic.endpoint(url)(fn)(pd.DataFrame({"_value": range(CHECKED_ROWS)}))
    assert "s3cr3t-value" not in str(info.value)


def test_where_the_mapping_goes_is_said() -> None:
    df = pd.DataFrame({"_value": [1]})
    for name in ("mapFn", "map_fn", "mapfn"):
        with pytest.raises(flux_magic.UsageError, match=r"endpoint\(url\)\(\w+=f\)") as info:
            flux_magic.endpoint("http://127.0.0.1:9/", **{name: fails_below(0)})
        assert "http.endpoint(url: ...)(mapFn: ...)" in str(info.value)
    ep = flux_magic.endpoint("http://127.0.0.1:9/")
    with pytest.raises(flux_magic.UsageError, match=r"endpoint\(url\)\(mapFn\)\.preview\(df\)"):
        ep.preview(df)
    with pytest.raises(flux_magic.UsageError, match=r"^that is a DataFrame, not a mapping"):
        ep(df)
