"""The plane of a user's own model under the default estimator shows something: a digits MLP's
layers apart and moving, where EBAB (the default before) put every layer at log2 N. The model is
examples/own_models.py's, as docs/own-models.md draws it, trained for fewer epochs."""

import importlib.util

import matplotlib
import numpy as np

from tests.helpers import ROOT

matplotlib.use("Agg")


def _examples():
    spec = importlib.util.spec_from_file_location("own_models", ROOT / "examples" / "own_models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_default_plane_of_a_digits_mlp_shows_its_layers_apart_and_moving(tmp_path):
    from ib_keras import plot_plane
    from ib_keras.data import load_dataset, split_indices

    data = load_dataset("digits")
    train_idx, test_idx = split_indices(len(data.x))
    run = _examples().digits_mlp(data.x, data.y, train_idx, test_idx, tmp_path, epochs=4)
    notes = []
    fig = plot_plane(run.parent, report=notes.append)  # no estimator given: the run's default
    assert notes == [] and fig.axes[0].get_title().startswith("digits-mlp: aKDE, upper bound, scale 0.1")
    paths = {line.get_label(): line.get_xdata() for line in fig.axes[0].lines}
    assert list(paths) == ["tanh_32", "relu_16", "softmax_10"]
    final = [xs[-1] for xs in paths.values()]
    assert min(abs(a - b) for a in final for b in final if a is not b) > 1.0  # the layers apart (bits)
    assert all(np.ptp(xs) > 0.05 for xs in paths.values())  # and moving
    saturated = []
    plot_plane(run.parent, "ebab", report=saturated.append)  # the estimator the plane read it with before
    assert len(saturated) == 1 and "saturated: tanh_32, relu_16, softmax_10 at log2 N = 10.81 bits" in saturated[0]
