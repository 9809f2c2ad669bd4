"""``notebooks/widget.ipynb`` runs top to bottom in a fresh kernel."""

from __future__ import annotations

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
