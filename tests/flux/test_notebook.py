"""``notebooks/flux_semantics.ipynb`` runs in a fresh kernel and shows what it teaches."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import NotebookRunner  # the root conftest's fixture type

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "flux_semantics.ipynb"


@pytest.mark.notebook
@pytest.mark.timeout(180)
def test_flux_semantics_notebook(tmp_path: Path, notebooks: NotebookRunner) -> None:
    nb = notebooks(NOTEBOOK.name, tmp_path)
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out["output_type"] == "error"]
    text = "\n".join(notebooks.text(out) for out in outputs)
    assert "group key: ['tag']" in text
    assert "type error @2:41-2:55: expected int but found float" in text
    assert "identical bodies:  True\nidentical headers: True" in text
    assert '\'json\': b\'{"a":"\\\\u003c\\\\u0026\\\\u003e","b":1e+21}\'' in text
    assert "t1      -2     204  false" in text
    assert "group key after the send: ['tag', '_sent']" in text
    assert "#group,false,false,false,false,true,false,true" in text
    assert "the parameter is mapFn" in text
    assert "12 requests arrived; first body: b'The value is -2'" in text
    assert "connection refused" in text
    assert "strict: EndpointError - rows sent before the failure: 0" in text
    assert "round trip identical: True" in text
    assert "group key after range: ['_start', '_stop', 'tag']" in text
    assert "rows per tag: {'t1': 3, 't2': 3}" in text
    assert "one table, group key: []" in text
    assert "largest value: 19.85 from t2" in text
    assert "t1 means: [4.37, 12.44, 9.83] at ['00:00:20', '00:00:40', '00:01:00']" in text
