"""The notebooks in examples/, executed as a user would run them (with small settings): any cell
that raises fails the test."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from ib_keras.estimate import read_table
from ib_keras.runfile import read_run

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


def test_your_own_cnn_notebook_records_logs_estimates_and_draws(tmp_path):
    notebook = _execute("own_model.ipynb", f"EPOCHS = 5\nOUT = {str(tmp_path / 'example')!r}", tmp_path)
    run = read_run(tmp_path / "example" / "cnn.h5", activity=False)
    assert run.complete and int(run.epochs[-1]) == 5
    assert [(layer.name, layer.units, layer.shape) for layer in run.layers] == [
        ("conv", 288, (6, 6, 8)), ("dense", 32, None), ("logits", 10, None)]
    assert list((tmp_path / "example" / "tb" / "network").glob("events.out.tfevents.*"))
    table = read_table(tmp_path / "example" / "mi.parquet")
    assert set(table["setting"]) == {"ebab:low=activation:n_bins=30", "akde:bound=upper:variance_scale=0.1",
                                     "akde:bound=upper:variance_scale=0.01"}
    assert table["layer"].nunique() == 3
    assert (tmp_path / "example" / "plane.png").stat().st_size > 10_000
    assert len(_outputs(notebook, "image/png")) == 1  # the planes


def test_the_paper_results_notebook_queries_and_redraws_the_bundle_from_anywhere(tmp_path):
    """Run from a directory of its own with its own default RESULTS (a copy of the notebook): it
    finds the shipped bundle beside the ib_keras it imports."""
    [default] = [c.source for c in nbformat.read(EXAMPLES / "paper_results.ipynb", as_version=4).cells
                 if "parameters" in c.metadata.get("tags", [])]
    parameters = default.replace('OUT = "figures-from-the-bundle"', f"OUT = {str(tmp_path / 'figs')!r}")
    assert parameters != default
    notebook = _execute("paper_results.ipynb", parameters, tmp_path)
    assert (tmp_path / "figs" / "fig6_relu_mean.png").stat().st_size > 10_000
    assert len(_outputs(notebook, "image/png")) == 1
    tables = [o["data"]["text/plain"] for o in _outputs(notebook, "text/plain")]
    assert any("compression" in text or "truth" in text for text in tables)


def test_a_missing_bundle_is_named_as_missing(tmp_path):
    from ib_keras.analysis.summary import read_summary

    with pytest.raises(ValueError, match=f"{tmp_path / 'nothing'}: no such summary directory"):
        read_summary(tmp_path / "nothing")


def test_importing_keras_first_warns_that_onednn_stays_on():
    """ib_keras turns oneDNN off only when it is imported before TensorFlow: after, it says so
    (imported first, as the command line does, nothing about oneDNN is printed: test_cli.py)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    late = subprocess.run([sys.executable, "-c", "import keras; import ib_keras"], capture_output=True, text=True, env=env)
    assert "oneDNN kernels stay on" in late.stderr and "import ib_keras first" in late.stderr
