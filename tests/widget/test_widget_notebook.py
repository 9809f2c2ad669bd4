"""``notebooks/widget.ipynb`` runs top to bottom in a fresh kernel."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "widget.ipynb"


@pytest.mark.notebook
@pytest.mark.timeout(180)
def test_widget_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    root = str(NOTEBOOK.parents[1])
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    )
    nb = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            assert out["output_type"] != "error", out
            texts.append(str(out.get("text") or out.get("data", {}).get("text/plain", "")))
    joined = "\n".join(texts)
    send_cell = next(c for c in nb.cells if c.source.startswith("demo.send_button.click()"))
    (shown,) = send_cell.outputs  # the result, published to the cell that ran the send
    assert shown["output_type"] == "display_data"
    assert "_sent" in shown["data"]["text/html"]
    assert "EndpointWidget(" in joined
    assert joined.count("true") >= 3, "the scripted send reports _sent true for every row"
    assert "b'The value is 99.9'" in joined
    assert "%%flux_endpoint alerts --url http://127.0.0.1:" in joined
