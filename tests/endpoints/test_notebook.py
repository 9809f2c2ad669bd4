"""``notebooks/notifications.ipynb`` runs top to bottom in a fresh kernel and tells its story."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import NotebookRunner


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, notebooks: NotebookRunner) -> list[str]:
    nb = notebooks("notifications.ipynb", tmp_path_factory.mktemp("notifications"))
    cells = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in cells), "every code cell ran"
    outputs: list[str] = []
    for cell in cells:
        texts: list[Any] = []
        for out in cell.outputs:
            assert out["output_type"] != "error", out
            texts.append(notebooks.text(out))
        outputs.append(cell.source.splitlines()[0] + "\n" + "\n".join(texts))
    return outputs


def cell(executed: list[str], first_line: str) -> str:
    found = [text for text in executed if text.startswith(first_line + "\n")]
    assert len(found) == 1, first_line
    return found[0]


@pytest.mark.notebook
@pytest.mark.timeout(180)
def test_previews_mask_and_send_nothing(executed: list[str]) -> None:
    shown = "\n".join(text.split("\n", 1)[1] for text in executed[:7])  # outputs only
    assert "xoxb-not-a-real-token" not in shown
    assert "Bearer ***" in cell(executed, 'print(preview["curl"][0])')
    assert cell(executed, "rx.count  # nothing was sent").endswith("\n0")
    pd_preview = cell(executed, 'to_pagerduty = pagerduty.endpoint(url=rx.url + "v2/enqueue")(')
    assert '"routing_key":"***"' in pd_preview
    assert "R0UTING-KEY-NOT-REAL" not in pd_preview


@pytest.mark.notebook
@pytest.mark.timeout(180)
def test_sent_and_refused_rows(executed: list[str]) -> None:
    slack_out = cell(executed, "slack_result = to_slack(checks)")
    assert slack_out.count("true") == 3  # as Flux: any 2xx is sent
    refused = cell(executed, 'print(slack_result["_error"][1])')
    assert 'Slack answered HTTP 200 with "ok": false (channel_not_found)' in refused
    pd_out = cell(executed, "pd_result = to_pagerduty(checks)")
    assert "Event processed" in pd_out
    assert pd_out.count("202") == 3


@pytest.mark.notebook
@pytest.mark.timeout(180)
def test_what_arrived_decoded(executed: list[str]) -> None:
    events = cell(executed, 'events = pd.json_normalize(list(arrived["json"][3:]))')
    assert "critical" in events
    assert "resolve" in events
    auth = cell(
        executed,
        '{h.get("authorization") or h.get("Authorization") for h in arrived["headers"][:3]}',
    )
    assert "Bearer xoxb-not-a-real-token" in auth  # only the bytes sent carry the token
    flux = cell(executed, "%%flux")
    assert "true" in flux
