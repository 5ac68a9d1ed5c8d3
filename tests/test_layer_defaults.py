"""The parameters an activation sets (uniform's range, EBAB's lowest edge) resolved per layer from
the layer's own activation: a request's ``setting`` reads the same in every model, what each layer
resolved it to is in ``resolved``, a model mixing activations is estimated with no options, a
table of before is read in today's words, and every network this project trains resolves as its
one activation did (so the comparisons with the original codes still hold)."""

import json

import numpy as np
import pandas as pd
import pytest

from ib_keras import write_run_arrays
from ib_keras.estimate import estimate_mi, estimate_runs, parse_estimators, read_table
from ib_keras.estimate.settings import activation_values, defining_activation
from tests.helpers import cli_here

EPOCHS = [0, 1, 2]


def _model_run(path, activations, seed=0):
    """A run of three layers ending in ``activations``: a tanh-like layer in [-1, 1], a ReLU-like one
    reaching 4, and class probabilities; 300 inputs of 2 classes."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], 150)
    first = np.tanh(rng.normal(size=(len(EPOCHS), 300, 5)) + y[None, :, None])
    second = np.maximum(rng.normal(size=(len(EPOCHS), 300, 4)) * 2 + y[None, :, None], 0)
    logits = rng.normal(size=(len(EPOCHS), 300, 2)) + 2 * np.eye(2)[y][None]
    output = np.exp(logits) / np.exp(logits).sum(axis=2, keepdims=True)
    write_run_arrays(path, EPOCHS, [first, second, output], y, activations, x=rng.normal(size=(300, 3)),
                     config={"activation": activations[0], "seed": seed})
    return [first, second, output], y


def test_estimate_with_no_options_resolves_each_layer_by_its_own_activation(tmp_path):
    """Issue 41: a tanh -> ReLU model estimated with the default estimators (uniform's [-1, 1] failed
    on its ReLU layer); each setting reads the same as in a ReLU model, and each layer's values
    are its own activation's."""
    layers, y = _model_run(tmp_path / "runs" / "mixed" / "seed-000.h5", ["tanh", "relu", "softmax"])
    _model_run(tmp_path / "runs" / "relu" / "seed-000.h5", ["relu", "relu", "softmax"])
    result = cli_here("estimate", str(tmp_path / "runs"), "--jobs", "1", "--out", str(tmp_path / "mi.parquet"))
    assert result.returncode == 0, result.stderr
    table = read_table(tmp_path / "mi.parquet")
    assert (table.groupby("setting")["run"].nunique() == 2).all()  # every setting: both models' rows
    assert {"ebab:low=activation:n_bins=30", "uniform:hi=activation:lo=activation:n_bins=30"} <= set(table["setting"])
    mixed = table[table["run"].str.contains("mixed")]
    resolved = mixed.drop_duplicates(["estimator", "layer"]).set_index(["estimator", "layer"])["resolved"].map(json.loads)
    # the softmax output takes the layer before's values, as the original codes bin it
    assert [resolved["ebab", layer]["low"] for layer in range(3)] == [-1.000001, 0.0, 0.0]
    assert [(resolved["uniform", layer]["lo"], resolved["uniform", layer]["hi"]) for layer in range(3)] == [
        (-1.0, 1.0), ("run_min", "run_max"), ("run_min", "run_max")]
    at = mixed[mixed["epoch"] == 2].set_index(["estimator", "layer"])
    low, high = min(float(a.min()) for a in layers), max(float(a.max()) for a in layers)
    expected = {("ebab", 0): estimate_mi(layers[0][2], y, "ebab", low=-1.000001),
                ("ebab", 1): estimate_mi(layers[1][2], y, "ebab", low=0.0),
                ("uniform", 0): estimate_mi(layers[0][2], y, "uniform", lo=-1.0, hi=1.0),
                ("uniform", 1): estimate_mi(layers[1][2], y, "uniform", lo=low, hi=high)}
    for key, estimate in expected.items():
        assert (at.loc[key, "i_xt"], at.loc[key, "i_ty"]) == pytest.approx(tuple(estimate)[:2], abs=1e-6), key


def test_a_table_of_before_reads_in_todays_words_and_the_layers_resolved_otherwise_are_estimated_again(tmp_path):
    """A table written when every layer took the run's activation's values: its default rows read
    as today's request, their values kept in ``resolved``; the estimate stage keeps the layers
    whose activation resolves them alike (tanh) and estimates again those it does not (the ReLU
    layer, and the output after it)."""
    run = tmp_path / "runs" / "mixed" / "seed-000.h5"
    layers, y = _model_run(run, ["tanh", "relu", "softmax"])
    out = tmp_path / "mi.parquet"
    specs = parse_estimators("ebab")
    today = estimate_runs([tmp_path / "runs"], specs, out, progress=False)
    before = today.drop(columns=["resolved", "setting"]).assign(params='{"low": -1.000001, "n_bins": 30}', i_xt=99.0)
    before.to_parquet(out, index=False)  # as the stage wrote it then: low -1.000001 in every layer of a tanh run
    read = read_table(out)
    assert set(read["setting"]) == {"ebab:low=activation:n_bins=30"}
    assert set(read["resolved"]) == {'{"low": -1.000001, "n_bins": 30}'}
    again = estimate_runs([tmp_path / "runs"], specs, out, progress=False).set_index(["epoch", "layer"])
    assert (again.xs(0, level="layer")["i_xt"] == 99.0).all()  # kept: tanh resolves it as it was
    fresh = today.set_index(["epoch", "layer"])
    for layer in (1, 2):
        np.testing.assert_allclose(again.xs(layer, level="layer")["i_xt"], fresh.xs(layer, level="layer")["i_xt"])
        assert set(again.xs(layer, level="layer")["resolved"]) == {'{"low": 0.0, "n_bins": 30}'}
    assert len(again) == len(today) and set(again["setting"]) == {"ebab:low=activation:n_bins=30"}


def test_every_network_this_project_trains_resolves_each_layer_as_its_activation_did():
    """Per layer and per network agree on the networks of `build_ensemble` (one hidden
    activation, a softmax output): the equality tests with the original codes stand."""
    from ib_keras.networks.activations import ACTIVATIONS
    from ib_keras.networks.models import build_ensemble
    from ib_keras.train.callbacks.representations import representations

    for activation in ACTIVATIONS:
        found = representations(build_ensemble(activation, [0], hidden=[4, 3]), None)
        names = [r.activation for r in found[:-1]] + ["softmax"]
        for method in ("ebab", "uniform"):
            assert [activation_values(method, defining_activation(names, layer)) for layer in range(len(names))] == \
                [activation_values(method, activation)] * len(names), (activation, method)


def test_the_live_view_resolves_each_layer_as_the_estimate_stage():
    from ib_keras.live.information_plane import live_request

    spec = parse_estimators("ebab")[0]
    lows = [params["low"] for _, params in live_request(spec, ["tanh", "batch_normalization+relu", "softmax"])]
    assert lows == [-1.000001, 0.0, 0.0]
    with pytest.raises(ValueError, match="relu layer: lo and hi span the whole run's activity"):
        live_request(parse_estimators("uniform")[0], ["tanh", "relu", "softmax"])
    assert pd.isna(activation_values("ebab", "gelu")["low"])  # no value of its own: the layer's minimum
