"""Convolutional networks in the multi-seed trainer: built, trained, recorded and estimated."""

import keras
import numpy as np
import pytest

from ib_keras.estimate import stratified_subsample
from ib_keras.estimate.estimators import estimate_mi
from ib_keras.networks.architecture import Conv, Pool, check_hidden, parse_hidden, weighted_layers
from ib_keras.networks.models import build_ensemble
from ib_keras.runfile import read_run
from tests.helpers import cli_here, cli_ok

HIDDEN = "conv4x3,pool2,16"  # on digits' 8 x 8 images: 6 x 6 x 4, pooled to 3 x 3 x 4, then 16 units
COMMON = ("--dataset", "digits", "--hidden", HIDDEN, "--epochs", "3", "--record-points", "2")


@pytest.fixture(scope="module")
def among(tmp_path_factory):
    out = tmp_path_factory.mktemp("among")
    cli_ok("train", *COMMON, "--seeds", "3", "--out", str(out))
    return out


def test_a_convolutional_seed_trained_alone_records_what_it_records_among_others(tmp_path, among):
    cli_ok("train", *COMMON, "--seeds", "1", "--first-seed", "2", "--out", str(tmp_path))
    alone, together = (read_run(root / "tanh" / "seed-002.h5") for root in (tmp_path, among))
    assert alone.complete and together.complete and alone.config == together.config
    assert [layer.shape for layer in alone.layers] == [(6, 6, 4), None, None]
    assert [a.shape[2] for a in alone.activity] == [144, 16, 10]
    for a, b in zip(alone.activity, together.activity):
        assert np.abs(a - b).max() <= 1e-5
    np.testing.assert_allclose(alone.grad_std, together.grad_std, rtol=1e-3)
    others = read_run(among / "tanh" / "seed-000.h5")
    assert np.abs(others.activity[0][0] - together.activity[0][0]).max() > 0.01  # the members differ


def test_each_member_of_the_ensemble_convolution_is_its_own_convolution():
    model = build_ensemble("relu", [3, 5], protocol="saxe-mnist", input_shape=(8, 8, 1), hidden=parse_hidden(HIDDEN),
                           n_classes=10)
    conv = model.get_layer("layer_0")
    images = np.random.default_rng(0).normal(size=(5, 2, 8, 8, 1)).astype(np.float32)
    out = np.asarray(conv(images))
    kernel, bias = np.asarray(conv.kernel), np.asarray(conv.bias)
    for k in range(2):  # a plain convolution of member k's images by its kernel, in NumPy
        windows = np.lib.stride_tricks.sliding_window_view(images[:, k, :, :, 0], (3, 3), axis=(1, 2))
        expected = np.maximum(np.einsum("nhwij,ijf->nhwf", windows, kernel[k, :, :, 0, :]) + bias[k], 0)
        np.testing.assert_allclose(out[:, k], expected, atol=1e-5)
    # Glorot-uniform with Keras' fans for a convolution (9 x 1 in, 9 x 4 out), not a Dense layer's (1 in, 4 out)
    assert abs(kernel[0].std() - np.sqrt(6 / (9 + 36)) / np.sqrt(3)) < 0.1
    keras.backend.clear_session()


def test_renyi_on_the_conv_layer_from_the_command_line_and_from_python(among, tmp_path):
    table = tmp_path / "mi.parquet"
    cli_ok("estimate", str(among), "--estimators", "renyi,ebab", "--samples", "200", "--jobs", "1", "--out", str(table))
    import pandas as pd

    rows = pd.read_parquet(table)
    conv = rows[(rows["layer"] == 0) & (rows["estimator"] == "renyi")]
    assert len(conv) == 3 * 3 and set(rows["hidden"]) == {HIDDEN}
    assert conv[["i_xt", "i_ty"]].notna().all().all() and (conv["i_xt"] > 0).all()
    assert (conv["i_xt"] <= np.log2(200) + 1e-9).all() and (conv["i_ty"] <= np.log2(10) + 1e-9).all()
    run = read_run(among / "tanh" / "seed-000.h5")
    i_xt, i_ty = estimate_mi(run.activity[0][-1][:300], run.y[:300], "renyi", inputs=run.x[:300])
    assert 0 < i_ty < i_xt <= np.log2(300) + 1e-9


def test_estimates_on_the_training_and_the_test_rows_of_one_run(among, tmp_path):
    table = tmp_path / "mi.parquet"
    cli_ok("estimate", str(among), "--estimators", "renyi:inputs=train,renyi:inputs=test", "--epoch-stride", "9",
           "--samples", "150", "--jobs", "1", "--out", str(table))
    import pandas as pd

    rows = pd.read_parquet(table)
    run = read_run(among / "tanh" / "seed-001.h5")
    for inputs, idx in (("train", run.train_idx), ("test", run.test_idx)):
        idx = idx[stratified_subsample(run.y[idx], 150)]  # the set's rows, then the subsample of them
        row = rows[rows["run"].str.endswith("seed-001.h5") & (rows["layer"] == 1) & (rows["epoch"] == 3)
                   & rows["setting"].str.endswith(f"inputs={inputs}:samples=150")]
        expected = estimate_mi(run.activity[1][-1][idx], run.y[idx], "renyi", inputs=run.x[idx])
        assert (row["i_xt"].item(), row["i_ty"].item()) == pytest.approx(expected, abs=1e-9)
    result = cli_here("train", *COMMON, "--record-train-inputs", "50", "--out", str(tmp_path / "runs"))
    assert result.returncode == 2 and "digits records its training rows already" in result.stderr


@pytest.mark.parametrize("hidden, shape, message", [
    ("conv4x3,16", None, "conv4x3 needs images"),
    ("16,conv4x3", (8, 8, 1), "conv4x3 comes after a Dense layer"),
    ("conv4x5,pool2,conv4x3", (8, 8, 1), "conv4x3 leaves no pixels of the 8 x 8 images"),
])
def test_an_architecture_that_cannot_be_built_is_named(hidden, shape, message):
    with pytest.raises(ValueError, match=message):
        check_hidden(parse_hidden(hidden), shape)


def test_a_misspelt_layer_is_refused_by_the_command_line_before_anything_is_written(tmp_path):
    result = cli_here("train", "--hidden", "conv4,16", "--dataset", "digits", "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "'conv4' is not a layer" in result.stderr
    result = cli_here("train", "--hidden", "conv4x3,16", "--out", str(tmp_path / "out"))  # the 12-bit task
    assert result.returncode == 2 and "needs images" in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_weighted_layers_count_a_convolution_per_output_position():
    layers = weighted_layers([Conv(8, 5), Pool(2), 32], (28, 28, 1), 10)
    assert [layer.shape for layer in layers] == [(24, 24, 8), (32,), (10,)]
    assert layers[0].multiply_adds == 24 * 24 * 25 * 8 and layers[1].fan_in == 12 * 12 * 8
    assert [layer.parameters for layer in layers] == [25 * 8 + 8, 1152 * 32 + 32, 330]


def test_the_shipped_cnn_report_is_what_this_code_writes_from_the_shipped_summary(tmp_path):
    import json
    from pathlib import Path

    from ib_keras.analysis.summary import read_summary
    from ib_keras.studies.baselines.claims import baselines
    from ib_keras.studies.cnn.configurations import SETTINGS
    from ib_keras.studies.cnn.report import write_cnn_report

    shipped = Path(__file__).resolve().parents[1] / "results" / "cnn"
    result = baselines([read_summary(shipped / "summary")], SETTINGS)
    timings = json.loads((shipped / "timings.json").read_text())
    assert write_cnn_report(result, tmp_path / "REPORT.md", timings).read_text() == (shipped / "REPORT.md").read_text()
