"""The notebooks in examples/, executed as a user would run them (with small settings): any cell
that raises fails the test."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from ib_keras.mi_table import read_table
from ib_keras.storage import read_run

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))


def _execute(name: str, parameters: str, cwd: Path) -> nbformat.NotebookNode:
    """The notebook ``name`` with its "parameters" cell replaced, executed in ``cwd``."""
    notebook = nbformat.read(EXAMPLES / name, as_version=4)
    [cell] = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    cell.source = parameters
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return notebook


def _outputs(notebook: nbformat.NotebookNode, kind: str) -> list:
    return [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if kind in o.get("data", {})]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_notebooks_are_kept_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_your_own_model_notebook_records_logs_estimates_and_draws(tmp_path):
    notebook = _execute("own_model.ipynb", f"EPOCHS = 20\nOUT = {str(tmp_path / 'example')!r}", tmp_path)
    run = read_run(tmp_path / "example" / "mine.h5", activity=False)
    assert run.complete and int(run.epochs[-1]) == 20
    assert list((tmp_path / "example" / "tb" / "network").glob("events.out.tfevents.*"))
    table = read_table(tmp_path / "example" / "mi.parquet")
    assert set(table["estimator"]) == {"ebab", "akde"} and table["layer"].nunique() == 3
    assert len(_outputs(notebook, "image/png")) == 1  # the two planes


def test_the_paper_results_notebook_queries_and_redraws_the_bundle(tmp_path):
    results = Path(__file__).resolve().parents[1] / "results" / "paper"
    notebook = _execute("paper_results.ipynb", f"RESULTS = {str(results)!r}\nOUT = {str(tmp_path / 'figs')!r}", tmp_path)
    assert (tmp_path / "figs" / "fig6_relu_mean.png").stat().st_size > 10_000
    assert len(_outputs(notebook, "image/png")) == 1
    tables = [o["data"]["text/plain"] for o in _outputs(notebook, "text/plain")]
    assert any("compression" in text or "truth" in text for text in tables)
