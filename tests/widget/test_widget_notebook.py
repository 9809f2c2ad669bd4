"""``notebooks/widget.ipynb`` runs top to bottom in a fresh kernel."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import NotebookRunner  # the root conftest's fixture type

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "widget.ipynb"


@pytest.mark.notebook
@pytest.mark.timeout(180)
def test_widget_notebook_runs(tmp_path: Path, notebooks: NotebookRunner) -> None:
    nb = notebooks(NOTEBOOK.name, tmp_path)
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            assert out["output_type"] != "error", out
            texts.append(notebooks.text(out))
    joined = "\n".join(texts)
    send_cell = next(c for c in nb.cells if c.source.startswith("demo.send_button.click()"))
    (shown,) = send_cell.outputs  # the result, published to the cell that ran the send
    assert shown["output_type"] == "display_data"
    assert "_sent" in shown["data"]["text/html"]
    assert "EndpointWidget(" in joined
    assert joined.count("true") >= 3, "the scripted send reports _sent true for every row"
    assert "b'The value is 99.9'" in joined
    assert "%%flux_endpoint alerts --url http://127.0.0.1:" in joined
    # the flaky send, the figure, Resend failed and Send 1 row
    flaky_cell = next(c for c in nb.cells if c.source.startswith("flaky = flux_magic.Receiver("))
    (result,) = [o for o in flaky_cell.outputs if "text/html" in o.get("data", {})]
    # one result output for the widget, replaced in place: after the resend and the one-row
    # send (both from later cells) it shows the last result, of one row
    page = result["data"]["text/html"]
    assert "flux-magic-outcome-bar" in page
    assert "<th>0</th>" in page
    assert "<th>1</th>" not in page
    plot = next(c for c in nb.cells if c.source.startswith("flux_magic.plot_outcomes("))
    assert any("image/png" in o.get("data", {}) for o in plot.outputs)
    resent = next(c for c in nb.cells if c.source.startswith("numbers_ui.url_text.value"))
    assert re.search(r"true\s+12", notebooks.text(resent.outputs[-1]))
    one = next(c for c in nb.cells if c.source.startswith("numbers_ui.send_one_button"))
    assert len(notebooks.text(one.outputs[-1]).splitlines()) == 2, "a header and one row"
