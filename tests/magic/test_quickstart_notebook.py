"""``notebooks/quickstart.ipynb`` runs top to bottom in a fresh kernel and tells its story."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import NotebookRunner  # the root conftest's fixture type

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"


def outputs_of(cell: Any, text: Callable[[Any], str]) -> str:
    texts = []
    for out in cell.outputs:
        assert out["output_type"] != "error", out
        texts.append(text(out))
    return "\n".join(texts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, notebooks: NotebookRunner) -> dict[str, str]:
    """Each code cell's source (its first line) mapped to its outputs, after a fresh run."""
    nb = notebooks(NOTEBOOK.name, tmp_path_factory.mktemp("quickstart"))
    cells = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in cells), "every code cell ran"
    texts = {c.source: outputs_of(c, notebooks.text) for c in cells}
    plot = next(c for c in cells if c.source == "flux_magic.plot_outcomes(flaky_result)")
    texts["images of the plot"] = str(sum("image/png" in o.get("data", {}) for o in plot.outputs))
    return texts


def output(executed: dict[str, str], first_line: str) -> str:
    matches = [out for src, out in executed.items() if src.splitlines()[0] == first_line]
    assert len(matches) == 1, first_line
    return matches[0]


@pytest.mark.notebook
@pytest.mark.timeout(180)
def test_preview_sends_nothing(executed: dict[str, str]) -> None:
    preview = output(executed, "%%flux_endpoint df --url $url --preview 3")
    assert re.search(r"Preview of 3 of 12 requests to http://127\.0\.0\.1:\d+/; nothing", preview)
    assert "The value is -2" in preview
    assert output(executed, "rx.count  # nothing was sent") == "0"


@pytest.mark.notebook
@pytest.mark.timeout(180)
def test_send_and_what_arrived(executed: dict[str, str]) -> None:
    sent = output(executed, "%%flux_endpoint df --url $url -o result")
    assert re.match(r"12 of 12 rows sent, 0 not sent, in [\d.]+ s to http://127\.0\.0\.1", sent)
    assert "(status 200: 12)." in sent
    counts = output(executed, 'result["_sent"].value_counts()')
    assert re.search(r"true\s+12", counts)
    assert output(executed, 'result.attrs["flux_group_key"]') == "['tag', '_sent']"
    got = output(executed, "got = rx.requests")
    assert "example1" in got
    assert "The value is -2" in got


@pytest.mark.notebook
@pytest.mark.timeout(180)
def test_204_is_not_sent_until_sent_when_2xx(executed: dict[str, str]) -> None:
    strict = output(executed, "%%flux_endpoint df --url $hook_url -o strict_200")
    assert "0 of 12 rows sent, 12 not sent" in strict
    assert "Flux's http.endpoint does not count as sent (only 200 is)" in strict
    assert "use --sent-when 2xx" in strict
    assert output(executed, 'strict_200["_sent"].unique()') == "array(['false'], dtype=object)"
    any_2xx = output(executed, "%%flux_endpoint df --url $hook_url --sent-when 2xx -o any_2xx")
    assert "12 of 12 rows sent" in any_2xx
    assert output(executed, 'any_2xx["_sent"].unique()') == "array(['true'], dtype=object)"


@pytest.mark.notebook
@pytest.mark.timeout(180)
def test_function_name_and_flux_bodies(executed: dict[str, str]) -> None:
    again = output(executed, "%%flux_endpoint df --url $url --concurrency 4 --timeout 5 -o again")
    assert "12 of 12 rows sent" in again
    flux = output(executed, "%%flux_endpoint df --url $url -o from_flux")
    assert "12 of 12 rows sent" in flux


@pytest.mark.notebook
@pytest.mark.timeout(180)
def test_limit_outcome_plot_and_resend(executed: dict[str, str]) -> None:
    one = output(executed, "%%flux_endpoint df --url $url --limit 1")
    assert "1 of 1 row sent" in one  # a progress bar may come first on a loaded machine
    flaky = output(executed, "%%flux_endpoint df --url $flaky_url -o flaky_result")
    assert "10 of 12 rows sent, 2 not sent" in flaky  # -2 and -3 got 503
    assert "Outcome: 2xx 10, 5xx 2. Latency p50 " in flaky
    assert re.search(r"p95 [\d.]+ m?s, max [\d.]+ m?s\.", flaky)
    assert executed["images of the plot"] == "1"
    again = output(executed, "%%flux_endpoint --resend flaky_result --url $url")
    assert "Resent the 2 failed rows of flaky_result: 12 of 12 rows sent" in again
    assert re.search(r"true\s+12", output(executed, 'flaky_result["_sent"].value_counts()'))
