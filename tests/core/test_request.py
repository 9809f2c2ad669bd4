from __future__ import annotations

import pytest

import flux_magic
from flux_magic._request import Request, build_request, canonical_header, check_url


def build(obj: object, label: object = 0) -> Request:
    return build_request(lambda r: obj, {}, [label], 0)


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("", "empty"),
        ("127.0.0.1:8080/x", "no scheme"),
        ("ftp://127.0.0.1/x", "ftp://"),
        ("file:///etc/passwd", "file://"),
        ("http:///path", "no host"),
        ("http://a b/", "white space"),
        ("http://127.0.0.1:99999/", "cannot be parsed"),
        (None, "must be a string"),
    ],
)
def test_bad_urls_are_refused_with_the_fix(url: object, match: str) -> None:
    with pytest.raises(flux_magic.UsageError, match=match):
        check_url(url)


def test_url_errors_mask_passwords() -> None:
    with pytest.raises(flux_magic.UsageError) as info:
        check_url("ftp://user:hunter2secret@127.0.0.1/")
    assert "hunter2secret" not in str(info.value)
    assert "user:***@" in str(info.value)


def test_good_urls_pass() -> None:
    for url in ("http://127.0.0.1:8080/hook", "https://example.com", "http://[::1]:80/"):
        assert check_url(url) == url


def test_canonical_header_like_go() -> None:
    assert canonical_header("content-type") == "Content-Type"
    assert canonical_header("X-API-KEY") == "X-Api-Key"
    assert canonical_header("header1") == "Header1"


def test_later_key_with_same_canonical_form_wins() -> None:
    req = build({"headers": {"content-type": "a", "Content-Type": "b"}, "data": b""})
    assert req.headers == {"Content-Type": "b"}


def test_data_forms() -> None:
    assert build({"headers": {}, "data": b"x"}).body == b"x"
    assert build({"headers": {}, "data": bytearray(b"y")}).body == b"y"
    assert build({"headers": {}, "data": memoryview(b"z")}).body == b"z"
    assert build({"headers": {}, "data": "é"}).body == "é".encode()
    assert build({"headers": {}, "data": b""}).body == b""
    assert build({"headers": None, "data": b""}).headers == {}


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        ({"headers": {}}, r'without "data" for row 0\. .*needs both labels.*"data": b"" for no'),
        ({"data": b"x"}, r'without "headers" for row 0\. .*"headers": \{\} for no headers'),
        ({"header": {}, "data": b"x"}, r'without "headers".*did you mean "headers" instead of "he'),
        ({"headers": {}, "body": b"x"}, r'without "data".*did you mean "data" instead of "body"\?'),
        (
            {"header": {"A": "1"}, "body": b"x"},
            r'without "headers" \(and "data"\).*"headers" instead of "header" and "data" '
            r'instead of "body"',
        ),
        ({"headers": {}, "Data": b"x"}, r'did you mean "data" instead of "Data"'),
        ({}, r'without "headers" \(and "data"\).*it has no keys'),
    ],
)
def test_missing_headers_or_data_is_the_rows_error_with_a_did_you_mean(
    obj: dict[str, object], match: str
) -> None:
    # Flux's http.endpoint reads both labels of the mapping's record: neither is optional.
    with pytest.raises(flux_magic.MappingError, match=match) as info:
        build(obj)
    assert info.value.position == 0


def test_other_labels_are_ignored_as_in_flux() -> None:
    req = build({"headers": {"A": "1"}, "data": b"x", "header": {"B": "2"}, "note": 1})
    assert req == ({"A": "1"}, b"x")


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        (None, r"returned None \(NoneType\) for row 0; it must return a dict"),
        ([1, 2], r"returned \[1, 2\] \(list\)"),
        ("text", r"returned 'text' \(str\)"),
        ({"headers": {}, "data": {"a": 1}}, r'"data" must be bytes.*dict.*json.dumps'),
        ({"headers": {}, "data": 5}, r'"data" must be bytes.*int.*str\(...\).encode'),
        ({"headers": {}, "data": None}, r'"data" must be bytes.*b"" for an empty body'),
        ({"headers": ["a"], "data": b""}, r'"headers" must be a dict'),
        ({"headers": {"X-N": 5}, "data": b""}, r'header value "X-N" must be a string'),
        ({"headers": {"X-A": "a\r\nX-B: b"}, "data": b""}, "line break"),
        ({"headers": {"Bad Name": "v"}, "data": b""}, "invalid header name"),
        ({"headers": {"": "v"}, "data": b""}, "invalid header name"),
    ],
)
def test_bad_shapes_name_the_row_and_the_fix(obj: object, match: str) -> None:
    with pytest.raises(flux_magic.MappingError, match=match) as info:
        build(obj)
    assert info.value.position == 0


def test_header_value_error_is_a_header_error_with_flux_wording() -> None:
    with pytest.raises(flux_magic.HeaderError, match=r'^header value "n" must be a string'):
        build({"headers": {"n": 1}, "data": b""})


def test_mapping_that_raises_names_row_label_and_original_exception() -> None:
    def boom(r: object) -> object:
        raise ZeroDivisionError("division by zero")

    with pytest.raises(
        flux_magic.MappingError,
        match=r"ZeroDivisionError: division by zero "
        r"\(at row 'b' \(position 1\)\)",
    ) as info:
        build_request(boom, {}, ["a", "b"], 1)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    assert info.value.row == "b"


def test_missing_column_lists_the_columns() -> None:
    with pytest.raises(flux_magic.MappingError, match="columns are '_value'"):
        build_request(lambda r: {"headers": {}, "data": r["nope"]}, {"_value": 1}, [0], 0)


def test_a_missing_attribute_lists_the_columns_once() -> None:
    import pandas as pd

    from flux_magic._rows import iter_rows

    (row,) = iter_rows(pd.DataFrame({"_value": [1]}))
    with pytest.raises(flux_magic.MappingError) as info:
        build_request(lambda r: {"headers": {}, "data": r.nope}, row, [0], 0)
    assert str(info.value).count("'_value'") == 1
    assert "no column 'nope'" in str(info.value)
