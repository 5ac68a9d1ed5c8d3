"""A user's own Keras model recorded as they mean it: each layer's representation after its
activation (an argument or a separate layer) and BatchNormalization, the output as probabilities
(softmax or logits), integer labels, convolutions on images flattened with their shape, and what
cannot be read refused before any file is written. Each expectation is computed here in NumPy
from the model's weights, independently of the recorder."""

import keras
import numpy as np
import pandas as pd
import pytest

from ib_keras import ActivationRecorder, read_run
from ib_keras.estimate import estimate_runs, parse_estimators
from tests.helpers import cli_here

N_CLASSES = 3


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)  # three classes
    return x, y, np.arange(180), np.arange(180, 240)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _record(model, path, data, epochs=2, labels="onehot", **recorder_options):
    x, y, train_idx, test_idx = data
    recorder = ActivationRecorder(path, x, y, train_idx, test_idx, range(epochs + 1), **recorder_options)
    targets = y if labels == "sparse" else np.eye(N_CLASSES, dtype=np.float32)[y]
    model.fit(x[train_idx], targets[train_idx], batch_size=32, epochs=epochs, verbose=0, shuffle=False,
              callbacks=[recorder])
    return read_run(path)


def test_separate_activation_layers_are_recorded_after_them(tmp_path, data):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, name="hidden"), keras.layers.ReLU(),
                              keras.layers.Dense(N_CLASSES, name="out"), keras.layers.Softmax()])
    model.compile("adam", "categorical_crossentropy")
    run = _record(model, tmp_path / "separate.h5", data)
    assert run.complete and [layer.activation for layer in run.layers] == ["relu", "softmax"]
    (w1, b1), (w2, b2) = model.get_layer("hidden").get_weights(), model.get_layer("out").get_weights()
    hidden = np.maximum(data[0] @ w1 + b1, 0)
    np.testing.assert_allclose(run.activity[0][-1], hidden, atol=1e-5)  # after the ReLU layer, not before
    np.testing.assert_allclose(run.activity[1][-1], _softmax(hidden @ w2 + b2), atol=1e-5)


def test_batch_normalization_is_recorded_after_it_with_its_moving_statistics(tmp_path, data):
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, name="hidden"),
                              keras.layers.BatchNormalization(name="bn"), keras.layers.Activation("tanh"),
                              keras.layers.Dropout(0.5), keras.layers.Dense(N_CLASSES, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    run = _record(model, tmp_path / "bn.h5", data, epochs=3)
    assert run.layers[0].activation == "batch_normalization+tanh"
    w, b = model.get_layer("hidden").get_weights()
    gamma, beta, mean, variance = model.get_layer("bn").get_weights()
    normalised = gamma * (data[0] @ w + b - mean) / np.sqrt(variance + model.get_layer("bn").epsilon) + beta
    assert not np.allclose(mean, 0)  # the moving statistics moved: the test can tell them apart
    np.testing.assert_allclose(run.activity[0][-1], np.tanh(normalised), atol=1e-5)  # Dropout inactive


def test_logits_are_recorded_as_probabilities_with_the_loss_keras_computes(tmp_path, data):
    x, y, train_idx, _ = data
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="tanh"),
                              keras.layers.Dense(N_CLASSES, name="logits")])
    model.compile("adam", keras.losses.CategoricalCrossentropy(from_logits=True))
    run = _record(model, tmp_path / "logits.h5", data)
    assert run.layers[-1].activation == "softmax"
    np.testing.assert_allclose(run.activity[-1][-1].sum(axis=1), 1.0, atol=1e-5)
    keras_loss = model.evaluate(x[train_idx], np.eye(N_CLASSES)[y[train_idx]], batch_size=len(train_idx), verbose=0)
    assert run.metrics["train_loss"][-1] == pytest.approx(keras_loss, rel=1e-4)
    assert run.metrics["train_loss"][-1] < np.log(N_CLASSES) + 0.5  # a cross-entropy of probabilities, not of logits


def test_integer_labels_under_a_sparse_loss_record_every_epoch(tmp_path, data):
    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dense(N_CLASSES, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    run = _record(model, tmp_path / "sparse.h5", data, labels="sparse")
    assert run.complete and list(run.epochs) == [0, 1, 2]
    assert np.isfinite(run.grad_mean).all() and (run.grad_mean > 0).all()


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(5)
    x = rng.random((120, 8, 8, 1), dtype=np.float32)
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype(np.int64)
    return x, y, np.arange(90), np.arange(90, 120)


def _conv_model():
    keras.utils.set_random_seed(6)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
                              keras.layers.MaxPooling2D(2, name="pool"), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax", name="out")])
    model.compile("adam", "categorical_crossentropy")
    return model


def test_a_convolution_on_images_is_recorded_flattened_with_its_shape(tmp_path, images, capsys):
    x, y, train_idx, test_idx = images
    model = _conv_model()
    recorder = ActivationRecorder(tmp_path / "conv.h5", x, y, train_idx, test_idx, [0, 1, 2])
    model.fit(x[train_idx], np.eye(2)[y[train_idx]], epochs=2, verbose=0, callbacks=[recorder])
    per_epoch = 4 * len(x) * (144 + 2)  # bytes: float32, every input, the conv layer's 6 x 6 x 4 and the output
    assert (f"2 layers (conv 6x6x4, out 2), 146 values per input x {len(x):,} inputs x 3 recorded epochs: "
            f"{3 * per_epoch / 1e6:,.1f} MB on disk before compression, {per_epoch / 1e6:,.1f} MB of memory")\
        in capsys.readouterr().out
    run = read_run(tmp_path / "conv.h5")
    assert [(layer.name, layer.units, layer.shape) for layer in run.layers] == [("conv", 144, (6, 6, 4)),
                                                                                   ("out", 2, None)]
    kernel, bias = model.get_layer("conv").get_weights()
    windows = np.lib.stride_tricks.sliding_window_view(x[..., 0], (3, 3), axis=(1, 2))  # (N, 6, 6, 3, 3)
    conv = np.maximum(np.einsum("nijab,abk->nijk", windows, kernel[:, :, 0, :]) + bias, 0)
    np.testing.assert_allclose(run.activity[0][-1], conv.reshape(len(x), -1), atol=1e-5)  # C order
    assert np.isfinite(run.weights_norm).all() and np.isfinite(run.grad_std).all()
    table = estimate_runs([tmp_path / "conv.h5"], parse_estimators("ebab"), tmp_path / "mi.parquet", progress=False)
    assert sorted(table.groupby("layer")["units"].first()) == [2, 144]
    assert "layer 1 = layer_0: relu" in cli_here("inspect", str(tmp_path / "conv.h5")).stdout
    assert "(6, 6, 4)" in cli_here("inspect", str(tmp_path / "conv.h5")).stdout


def test_layers_named_are_recorded_a_pooling_layer_among_them(tmp_path, images):
    x, y, train_idx, test_idx = images
    model = _conv_model()
    recorder = ActivationRecorder(tmp_path / "named.h5", x, y, train_idx, test_idx, [0], layers=["pool", "out"])
    fit_targets = np.eye(2)[y[train_idx]]
    model.fit(x[train_idx], fit_targets, epochs=0, verbose=0, callbacks=[recorder])
    run = read_run(tmp_path / "named.h5")
    assert [(layer.name, layer.shape) for layer in run.layers] == [("pool", (3, 3, 4)), ("out", None)]
    assert np.isnan(run.weights_norm[0, 0]) and np.isfinite(run.weights_norm[0, 1])  # a pooling layer has no kernel


def _branching():
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(5, name="shared")(inputs)
    merged = keras.layers.Concatenate()([keras.layers.ReLU()(hidden), keras.layers.Activation("tanh")(hidden)])
    return keras.Model(inputs, keras.layers.Dense(N_CLASSES, activation="softmax")(merged))


@pytest.mark.parametrize("build, loss, options, message", [
    (_branching, "categorical_crossentropy", {}, "the output of layer 'shared' feeds 2 layers"),
    (lambda: keras.Sequential([keras.Input((6,)), keras.layers.Dense(N_CLASSES, activation="softmax")]),
     "categorical_crossentropy", {"layers": ["nope"]}, "has no layer 'nope'"),
    (lambda: keras.Sequential([keras.Input((6,)), keras.layers.Dense(1, activation="sigmoid", name="p")]),
     "binary_crossentropy", {}, "loss 'binary_crossentropy'"),
    (lambda: keras.Sequential([keras.Input((6,)), keras.layers.Dense(N_CLASSES, activation="softmax", name="p")]),
     keras.losses.CategoricalCrossentropy(from_logits=True), {}, "ends in softmax but the loss has from_logits=True"),
])
def test_what_cannot_be_recorded_faithfully_is_refused_before_any_file(tmp_path, data, build, loss, options, message):
    x, y, train_idx, test_idx = data
    model = build()
    model.compile("adam", loss)
    recorder = ActivationRecorder(tmp_path / "no.h5", x, y, train_idx, test_idx, [0, 1], **options)
    with pytest.raises(ValueError, match=message):
        model.fit(x[train_idx], np.eye(N_CLASSES)[y[train_idx]][:, : model.outputs[0].shape[-1]], epochs=1, verbose=0,
                  callbacks=[recorder])
    assert not (tmp_path / "no.h5").exists()


def test_a_run_written_from_arrays_reads_and_estimates_as_the_keras_one(tmp_path, data):
    from ib_keras import write_run_arrays

    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="tanh"),
                              keras.layers.Dense(N_CLASSES, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    recorded = _record(model, tmp_path / "keras" / "seed-000.h5", data)
    written = read_run(write_run_arrays(
        tmp_path / "arrays" / "seed-000.h5", recorded.epochs, recorded.activity, recorded.y,
        [layer.activation for layer in recorded.layers], recorded.x, recorded.train_idx, recorded.test_idx,
        recorded.metrics, {"activation": "tanh"}))
    assert written.complete and [layer.activation for layer in written.layers] == ["tanh", "softmax"]
    for a, b in zip(written.activity, recorded.activity):
        np.testing.assert_array_equal(a, b)
    specs = parse_estimators("ebab,akde,kde")
    tables = [estimate_runs([tmp_path / name], specs, tmp_path / f"{name}.parquet", progress=False)
              .sort_values(["estimator", "params", "epoch", "layer"], ignore_index=True) for name in ("keras", "arrays")]
    for column in ("i_xt", "i_ty", "train_loss", "test_accuracy"):
        np.testing.assert_array_equal(tables[0][column], tables[1][column])
    import matplotlib

    matplotlib.use("Agg")
    from ib_keras import plot_plane

    planes = [plot_plane(tmp_path / name / "seed-000.h5", "ebab", tmp_path / f"{name}.png") for name in ("keras", "arrays")]
    drawn = [[line.get_xydata().tolist() for line in fig.axes[0].lines] for fig in planes]
    assert drawn[0] and drawn[0] == drawn[1] and (tmp_path / "arrays.png").stat().st_size > 10_000  # one plane, drawn


def test_arrays_of_a_convolution_keep_its_shape_and_bad_arrays_are_refused_by_name(tmp_path):
    from ib_keras import write_run_arrays

    rng = np.random.default_rng(8)
    labels = np.arange(20) % 2
    conv, out = rng.random((3, 20, 2, 2, 3)), rng.dirichlet([1, 1], (3, 20))
    run = read_run(write_run_arrays(tmp_path / "conv.h5", [0, 1, 5], [conv, out], labels))
    assert [(layer.units, layer.shape, layer.activation) for layer in run.layers] == [(12, (2, 2, 3), "linear"),
                                                                                       (2, None, "softmax")]
    np.testing.assert_allclose(run.activity[0][2], conv[2].reshape(20, -1))
    for kwargs, message in [({"epochs": [0, 0, 1]}, "epochs must be increasing"),
                            ({"activity": [conv[:, :10], out]}, r"activity\[0\] has shape \(3, 10, 2, 2, 3\)"),
                            ({"labels": labels + 0.5}, "labels must be whole numbers"),
                            ({"epochs": [0, 1.5, 2.7]}, r"epochs must be whole numbers >= 0, got 1.5"),
                            ({"metrics": {"loss": [1, 2, 3]}}, "unknown metrics"),
                            ({"activity": [np.full_like(conv, np.nan), out]}, r"activity\[0\] holds NaN"),
                            # checked before the file is made, not after (issue 40, item 8)
                            ({"train_idx": [0, 25]}, "'train_idx' holds indices outside 0..19"),
                            ({"config": {"n_classes": 1}}, "config field 'n_classes' is 1, expected a whole number >= 2"),
                            ({"config": {"when": object()}}, "config is not JSON-serialisable"),
                            ({"activity": [conv[:, :0], out[:, :0]], "labels": labels[:0]}, r"no inputs \(N = 0\)")]:
        arguments = {"epochs": [0, 1, 5], "activity": [conv, out], "labels": labels, **kwargs}
        with pytest.raises(ValueError, match=message):
            write_run_arrays(tmp_path / "bad.h5", **arguments)
        assert not (tmp_path / "bad.h5").exists()


def test_the_plane_of_a_run_a_directory_and_a_table_is_the_same_seed_mean(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from ib_keras import plot_plane
    from ib_keras.plots.one_plane import plane_rows
    from tests.helpers import write_run

    for seed in (0, 1):
        write_run(tmp_path / "runs" / "relu" / f"seed-{seed:03d}.h5", seed)
    table = estimate_runs([tmp_path / "runs"], parse_estimators("ebab,kde"), tmp_path / "mi.parquet", progress=False)
    from_files, from_table = (plane_rows(source, "ebab,kde") for source in (tmp_path / "runs", tmp_path / "mi.parquet"))
    assert set(from_table["setting"]) == {"ebab:low=activation:n_bins=30", "kde:bound=upper:noise_variance=0.001"}
    key = ["setting", "run", "epoch", "layer"]
    pd.testing.assert_frame_equal(from_files.sort_values(key, ignore_index=True)[[*key, "i_xt", "i_ty"]],
                                  from_table.sort_values(key, ignore_index=True)[[*key, "i_xt", "i_ty"]])
    fig = plot_plane(tmp_path / "mi.parquet", "kde,ebab", tmp_path / "plane.png", axis_range=(12, 1))
    panels = [ax for ax in fig.axes if ax.get_title()]
    # in the order asked for, short human titles, one shared range
    assert [ax.get_title().splitlines() for ax in panels] == [["relu: KDE, upper bound, s2 = 0.001", "mean of 2 networks"],
                                                               ["relu: EBAB, 30 bins", "mean of 2 networks"]]
    assert all(ax.get_xlim() == (0, 12) and ax.get_ylim() == (0, 1) for ax in panels) and len(fig.axes) == 2
    assert [text.get_text() for text in fig.legends[0].get_texts()][:2] == ["layer 1", "softmax"]
    assert (tmp_path / "plane.png").stat().st_size > 10_000
    mean = table[(table.estimator == "ebab") & (table.layer == 0)].groupby("epoch")["i_xt"].mean()
    path = next(line for line in panels[1].lines if line.get_label() == "layer 1")  # layer 1's path, epoch by epoch
    np.testing.assert_allclose(path.get_xdata(), mean.to_numpy())
    assert from_files.equals(plane_rows(tmp_path / "runs", "ebab,kde"))
    # a table beside the runs is read, not estimated again
    from ib_keras.plots import one_plane

    estimate_runs([tmp_path / "runs"], parse_estimators("ebab,kde"), tmp_path / "runs" / "mi.parquet", progress=False)
    one_plane.estimate_run, kept = None, one_plane.estimate_run  # any estimate would fail now
    try:
        reused = plane_rows(tmp_path / "runs", "ebab,kde")
    finally:
        one_plane.estimate_run = kept
    pd.testing.assert_frame_equal(reused.sort_values(key, ignore_index=True)[[*key, "i_xt", "i_ty"]],
                                  from_files.sort_values(key, ignore_index=True)[[*key, "i_xt", "i_ty"]])


def test_a_plane_names_the_models_layers_follows_each_and_starts_at_epoch_0(tmp_path, data):
    """Issue 41: the model's own names (a logits layer is "logits", not "softmax") in the SVG's
    text; each layer one colour along its path; epoch 0 hollow; --layers and --epochs; the full
    setting in the file's metadata."""
    keras.utils.set_random_seed(12)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="tanh", name="encoder"),
                              keras.layers.Dense(4, activation="relu", name="bottleneck"),
                              keras.layers.Dense(N_CLASSES, name="logits")])
    model.compile("adam", keras.losses.CategoricalCrossentropy(from_logits=True))
    _record(model, tmp_path / "mine" / "seed-000.h5", data, epochs=3)
    out = tmp_path / "plane.svg"
    result = cli_here("plane", str(tmp_path / "mine"), "--estimators", "kde", "--out", str(out))
    assert result.returncode == 0, result.stderr
    svg = out.read_text()
    assert all(f">{name}<" in svg or f"{name}</" in svg or f"<!-- {name} -->" in svg
               for name in ("encoder", "bottleneck", "logits")) and "softmax" not in svg
    assert "kde:bound=upper:noise_variance=0.001" in svg  # the full setting, in the metadata
    import matplotlib

    matplotlib.use("Agg")
    from ib_keras import plot_plane

    fig = plot_plane(tmp_path / "mine", "kde", report=lambda note: None)
    ax = fig.axes[0]
    paths = {line.get_label(): line for line in ax.lines}
    assert list(paths) == ["encoder", "bottleneck", "logits"] and len({tuple(p.get_color()) for p in paths.values()}) == 3
    starts = [c for c in ax.collections if len(c.get_offsets()) == 1 and np.allclose(c.get_facecolor()[0], 1)]
    assert len(starts) == 3  # every layer's epoch 0: a hollow (white) marker
    for path, start in zip(paths.values(), starts):
        assert tuple(start.get_offsets()[0]) == (path.get_xdata()[0], path.get_ydata()[0])
    chosen = plot_plane(tmp_path / "mine", "kde", layers=["bottleneck", "3"], epochs=(1, 2), report=lambda note: None)
    assert [line.get_label() for line in chosen.axes[0].lines] == ["bottleneck", "logits"]
    assert all(len(line.get_xdata()) == 2 for line in chosen.axes[0].lines)
    refused = cli_here("plane", str(tmp_path / "mine"), "--layers", "decoder", "--out", str(tmp_path / "x.png"))
    assert refused.returncode == 2 and "--layers: no layer decoder; the layers: encoder, bottleneck, logits" in \
        refused.stderr


def test_the_plane_says_when_every_layer_keeps_the_inputs_apart_and_the_command_writes_it(tmp_path):
    from ib_keras import write_run_arrays
    from ib_keras.data.tishby import tishby_dataset

    x, y = tishby_dataset()  # each layer below a one-to-one function of the 4096 inputs: I(X;T) = 12 bits
    rows = np.arange(len(x), dtype=np.float32)[:, None] / len(x)
    hidden = np.stack([x * (1 + e) for e in range(3)])
    output = np.stack([np.hstack([rows, 1 - rows])] * 3)
    run = write_run_arrays(tmp_path / "linear" / "seed-000.h5", [0, 1, 2], [hidden, output], y, x=x)
    out = tmp_path / "apart.png"
    result = cli_here("plane", str(run), "--estimators", "kde:noise_variance=1e-12", "--out", str(out))
    assert result.returncode == 0 and out.stat().st_size > 10_000, result.stderr
    assert "saturated: layer 1, softmax at log2 N = 12.00 bits throughout" in result.stderr
    assert 'see docs/estimators.md, "Which estimator"' in result.stderr
    import matplotlib

    matplotlib.use("Agg")
    from ib_keras import plot_plane

    notes = []
    fig = plot_plane(run, "kde:noise_variance=1e-12", report=notes.append)
    assert any("every input kept apart" in text.get_text() for ax in fig.axes for text in ax.texts) and len(notes) == 1
    assert fig.axes[0].get_xlim()[0] == 0 and fig.axes[0].get_xlim()[1] > 12  # from 0: never zoomed to the span
    refused = cli_here("plane", str(tmp_path / "missing.h5"), "--out", str(tmp_path / "x.png"))
    assert refused.returncode == 2 and "no such file or directory" in refused.stderr and not (tmp_path / "x.png").exists()
    assert cli_here("plane", str(run), "--out", str(tmp_path / "x.jpg")).returncode == 2
    # the table's summary says it too
    assert cli_here("estimate", str(run.parent), "--estimators", "kde", "--jobs", "1").returncode == 0
    summary = cli_here("summarize", str(run.parent / "mi.parquet"), "--out", str(tmp_path / "summary"))
    assert summary.returncode == 0, summary.stderr
    assert ("linear: saturated: layer 1 at log2 N = 12.00 bits throughout (every input kept apart), under "
            "kde:bound=upper:noise_variance=0.001; see docs/estimators.md") in summary.stderr


def test_a_dense_chain_keeps_its_parameters_only_when_every_layer_is_recorded(tmp_path, data):
    keras.utils.set_random_seed(9)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="tanh", name="a"),
                              keras.layers.Dense(4, activation="tanh", name="b"),
                              keras.layers.Dense(N_CLASSES, activation="softmax", name="out")])
    model.compile("adam", "categorical_crossentropy")
    assert len(_record(model, tmp_path / "all.h5", data, epochs=0).kernels) == 3  # sp can propagate through them
    assert _record(model, tmp_path / "some.h5", data, epochs=0, layers=["b", "out"]).kernels is None


def test_rows_recorded_alone_are_the_whole_recordings_rows_with_every_rows_losses(tmp_path, data, monkeypatch):
    """Two recorders on one training: every row, and the test rows alone (as MNIST's 10,000 test
    images are recorded), the losses of the second computed a chunk of rows at a time."""
    from ib_keras.train.callbacks import activation_recorder

    monkeypatch.setattr(activation_recorder, "_CHUNK", 50)  # 240 rows: five passes
    x, y, train_idx, test_idx = data
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="tanh"),
                              keras.layers.Dense(N_CLASSES, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    every, some = (ActivationRecorder(tmp_path / name, x, y, train_idx, test_idx, [0, 1, 2], verbose=0, **options)
                   for name, options in (("every.h5", {}), ("test.h5", {"record_rows": test_idx})))
    model.fit(x[train_idx], np.eye(N_CLASSES)[y[train_idx]], epochs=2, verbose=0, callbacks=[every, some])
    whole, part = read_run(tmp_path / "every.h5"), read_run(tmp_path / "test.h5")
    np.testing.assert_array_equal(part.x, x[test_idx])
    np.testing.assert_array_equal(part.y, y[test_idx])
    assert len(part.train_idx) == 0 and part.test_idx.tolist() == list(range(len(test_idx)))
    for a, b in zip(whole.activity, part.activity):  # passes over other rows: float32 rounding apart
        np.testing.assert_allclose(a[:, test_idx], b, rtol=0, atol=1e-6)
    for name in whole.metrics:  # the training rows' loss too, though none of them is recorded
        np.testing.assert_allclose(part.metrics[name], whole.metrics[name], rtol=1e-6)
    with pytest.raises(ValueError, match="record_rows must be increasing rows of x"):
        ActivationRecorder(tmp_path / "bad.h5", x, y, train_idx, test_idx, [0], record_rows=[5, 3])


@pytest.mark.parametrize("widths", [[(10, 2), (7, 5, 3, 2)], [(3, 2), (4, 2)]])
def test_a_plane_of_runs_of_different_architectures_is_refused_naming_them(tmp_path, widths):
    from ib_keras import write_run_arrays

    rng = np.random.default_rng(10)
    labels = np.arange(40) % 2
    for seed, units in enumerate(widths):
        activity = [rng.random((2, 40, u)) for u in units[:-1]] + [rng.dirichlet([1, 1], (2, 40))]
        write_run_arrays(tmp_path / "mine" / f"seed-{seed:03d}.h5", [0, 1], activity, labels)
    estimate_runs([tmp_path / "mine"], parse_estimators("ebab"), tmp_path / "mi.parquet", progress=False)
    message = (f"mine: runs of different architectures, seed-000.h5 with layers of {', '.join(map(str, widths[0]))} "
               f"units and seed-001.h5 of {', '.join(map(str, widths[1]))}")
    for source in (tmp_path / "mine", tmp_path / "mi.parquet"):
        result = cli_here("plane", str(source), "--estimators", "ebab", "--out", str(tmp_path / "plane.png"))
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert not (tmp_path / "plane.png").exists()


def test_a_run_written_without_its_inputs_says_so_and_the_estimators_reading_x_refuse_it(tmp_path):
    """Issue 41: renyi measured I(X;T) against row numbers stored in place of the inputs."""
    from ib_keras import write_run_arrays

    rng = np.random.default_rng(11)
    labels = np.arange(30) % 2
    activity = [rng.random((2, 30, 3)), rng.dirichlet([1, 1], (2, 30))]
    blind = write_run_arrays(tmp_path / "blind" / "seed-000.h5", [0, 1], activity, labels)
    seen = write_run_arrays(tmp_path / "seen" / "seed-000.h5", [0, 1], activity, labels, x=rng.random((30, 4)))
    assert not read_run(blind).has_inputs and read_run(seen).has_inputs
    assert "inputs: not recorded (written without them" in cli_here("inspect", str(blind)).stdout
    result = cli_here("estimate", str(blind), "--estimators", "renyi", "--out", str(tmp_path / "r.parquet"))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert f"{blind}: renyi read the inputs X, and this file was written without them" in result.stderr
    assert cli_here("estimate", str(blind), "--estimators", "ebab", "--jobs", "1", "--out",
                    str(tmp_path / "e.parquet")).returncode == 0
    assert cli_here("estimate", str(seen), "--estimators", "renyi", "--jobs", "1", "--out",
                    str(tmp_path / "s.parquet")).returncode == 0
