import keras
import numpy as np
import pytest
import tensorflow as tf

from ib_keras import ActivationRecorder
from ib_keras.data.tishby import split_indices, tishby_dataset
from ib_keras.estimate import estimate_runs, parse_estimators
from ib_keras.networks.models import build_ensemble
from ib_keras.runfile import read_run
from ib_keras.train.fit import fit_ensemble

EPOCHS = 20
RECORD = [0, 1, 5, 20]


@pytest.fixture(scope="module")
def data():
    x, y = tishby_dataset()
    train_idx, test_idx = split_indices(len(x))
    return x, y, train_idx, test_idx


def _train(directory, seeds, data, activation="tanh", l2=0.0, parameters=True):
    x, y, train_idx, test_idx = data
    paths = [directory / f"seed-{seed}.h5" for seed in seeds]
    recorder = ActivationRecorder(paths, x, y, train_idx, test_idx, RECORD, configs=[{"seed": s} for s in seeds],
                                  parameters=parameters)
    model = build_ensemble(activation, seeds, l2)
    fit_ensemble(model, x[train_idx], y[train_idx], seeds, EPOCHS, callbacks=[recorder])
    keras.backend.clear_session()
    return [read_run(path) for path in paths]


@pytest.fixture(scope="module")
def among(tmp_path_factory, data):
    return _train(tmp_path_factory.mktemp("among"), [4, 7, 9], data, l2=0.015)


def test_a_seed_trained_alone_records_what_it_records_among_others(tmp_path, data, among):
    alone = _train(tmp_path, [7], data, l2=0.015)[0]
    together = among[1]
    assert alone.complete and together.complete
    np.testing.assert_array_equal(alone.epochs, RECORD)
    for a, b in zip(alone.activity, together.activity):
        assert np.abs(a - b).max() <= 1e-4
    np.testing.assert_allclose(alone.metrics["train_loss"], together.metrics["train_loss"], atol=1e-5)
    np.testing.assert_allclose(alone.grad_std, together.grad_std, rtol=1e-3)


def test_the_same_training_twice_with_and_without_parameters_gives_identical_readings(tmp_path, data, among):
    """The run file's schema change (kernels and biases kept) changes none of the readings: the same
    training written with and without them, in this run (no digest made on another machine)."""
    again = _train(tmp_path, [4, 7, 9], data, l2=0.015, parameters=False)
    for first, second in zip(among, again):
        assert first.kernels is not None and second.kernels is None and second.biases is None
        for a, b in zip(first.activity, second.activity):
            np.testing.assert_array_equal(a, b)
        for name in first.metrics:
            np.testing.assert_array_equal(first.metrics[name], second.metrics[name])
        for name in ("weights_norm", "grad_mean", "grad_std"):
            np.testing.assert_array_equal(getattr(first, name), getattr(second, name))


def test_members_differ_and_learn(among):
    assert not np.allclose(among[0].activity[0][-1], among[1].activity[0][-1])
    for run in among:
        assert run.metrics["train_loss"][-1] < run.metrics["train_loss"][0]
        assert run.metrics["train_accuracy"][-1] > 0.6


def test_recorded_metrics_agree_with_the_recorded_output_layer(among, data):
    _, y, train_idx, test_idx = data
    run = among[0]
    probabilities = run.activity[-1][-1]  # output layer, last epoch: (4096, 2)
    assert run.layers[-1].activation == "softmax"
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    accuracy = np.mean(probabilities[test_idx].argmax(axis=1) == y[test_idx])
    assert run.metrics["test_accuracy"][-1] == pytest.approx(accuracy)
    loss = -np.mean(np.log(probabilities[train_idx, y[train_idx]]))
    assert run.metrics["train_loss"][-1] == pytest.approx(loss, rel=1e-5)


def test_weight_norms_are_the_kernels_frobenius_norms(tmp_path, data):
    x, y, train_idx, test_idx = data
    model = build_ensemble("relu", [0, 1])
    recorder = ActivationRecorder([tmp_path / "a.h5", tmp_path / "b.h5"], x, y, train_idx, test_idx, [0])
    fit_ensemble(model, x[train_idx], y[train_idx], [0, 1], 0, callbacks=[recorder])
    run = read_run(tmp_path / "b.h5")
    kernels = [np.asarray(layer.kernel)[1] for layer in model.layers[1:]]
    np.testing.assert_allclose(run.weights_norm[0], [np.linalg.norm(k) for k in kernels], rtol=1e-6)


def _plain_model(activation="tanh", seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((12,))]
        + [keras.layers.Dense(units, activation=activation) for units in (10, 7, 5, 4, 3)]
        + [keras.layers.Dense(2, activation="softmax")]
    )
    model.compile(optimizer=keras.optimizers.Adam(4e-4), loss="categorical_crossentropy")
    return model


def test_recorder_works_on_a_plain_keras_model_with_model_fit(tmp_path, data):
    x, y, train_idx, test_idx = data
    model = _plain_model()
    recorder = ActivationRecorder(tmp_path / "plain.h5", x, y, train_idx, test_idx, [0, 1, 3])
    onehot = np.eye(2, dtype=np.float32)[y]
    model.fit(x[train_idx], onehot[train_idx], batch_size=256, epochs=3, verbose=0, callbacks=[recorder])
    run = read_run(tmp_path / "plain.h5")
    assert run.complete
    np.testing.assert_array_equal(run.epochs, [0, 1, 3])
    assert [a.shape for a in run.activity] == [(3, 4096, u) for u in (10, 7, 5, 4, 3, 2)]
    assert [layer.activation for layer in run.layers] == ["tanh"] * 5 + ["softmax"]
    np.testing.assert_allclose(run.activity[0][-1], np.tanh(x @ np.asarray(model.layers[0].kernel)
                                                            + np.asarray(model.layers[0].bias)), atol=1e-5)


def test_gradient_statistics_match_a_brute_force_computation(tmp_path, data):
    """||mean_b g_b|| and ||std_b g_b|| over the recorder's minibatches, recomputed batch by batch."""
    from ib_keras.networks.seeding import GRADIENT_STREAM, stream

    x, y, train_idx, test_idx = data
    model = _plain_model("relu", seed=3)
    recorder = ActivationRecorder(tmp_path / "g.h5", x, y, train_idx, test_idx, [0])
    fit_ensemble(model, x[train_idx], y[train_idx], [0], 0, callbacks=[recorder])
    run = read_run(tmp_path / "g.h5")
    order = stream(0, GRADIENT_STREAM, 0).permutation(len(train_idx))
    onehot = np.eye(2, dtype=np.float32)[y[train_idx]]
    per_batch = []
    for start in range(0, len(order), 256):
        rows = order[start : start + 256]
        with tf.GradientTape() as tape:
            p = model(x[train_idx][rows], training=True)
            loss = tf.reduce_mean(keras.losses.categorical_crossentropy(onehot[rows], p))
        per_batch.append([g.numpy() for g in tape.gradient(loss, [layer.kernel for layer in model.layers])])
    for i in range(6):
        stacked = np.stack([batch[i] for batch in per_batch])
        assert run.grad_mean[0, i] == pytest.approx(np.linalg.norm(stacked.mean(axis=0)), rel=1e-4)
        assert run.grad_std[0, i] == pytest.approx(np.linalg.norm(stacked.std(axis=0)), rel=1e-4)


def test_fit_ensemble_trains_a_plain_network_like_model_fit_does(tmp_path, data):
    x, y, train_idx, _ = data
    model = _plain_model("relu", seed=1)
    before = model.evaluate(x[train_idx], np.eye(2)[y[train_idx]], verbose=0)
    fit_ensemble(model, x[train_idx], y[train_idx], [0], 30)
    after = model.evaluate(x[train_idx], np.eye(2)[y[train_idx]], verbose=0)
    assert after < before - 0.05


def test_seeds_must_match_the_members(data):
    x, y, train_idx, _ = data
    with pytest.raises(ValueError, match="3 members but 2 seeds"):
        fit_ensemble(build_ensemble("tanh", [0, 1, 2]), x[train_idx], y[train_idx], [0, 1], 1)


def test_a_diverging_training_stops_and_leaves_its_files_incomplete(tmp_path, data):
    x, y, train_idx, test_idx = data
    recorder = ActivationRecorder([tmp_path / "run.h5"], x, y, train_idx, test_idx, RECORD)
    model = build_ensemble("tanh", [0], l2=1e300)  # inf in float32: the loss is not finite
    with pytest.raises(FloatingPointError, match="diverged at epoch 1"):
        fit_ensemble(model, x[train_idx], y[train_idx], [0], EPOCHS, callbacks=[recorder])
    keras.backend.clear_session()
    assert not read_run(tmp_path / "run.h5").complete


def test_a_training_stopped_early_is_complete_with_what_it_recorded(tmp_path, data):
    x, y, train_idx, test_idx = data
    model = _plain_model()
    recorder = ActivationRecorder(tmp_path / "early.h5", x, y, train_idx, test_idx, [0, 1, 2, 3, 5, 8])
    stop = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(model, "stop_training", epoch >= 2))
    onehot = np.eye(2, dtype=np.float32)[y]
    model.fit(x[train_idx], onehot[train_idx], batch_size=256, epochs=8, verbose=0, callbacks=[recorder, stop])
    run = read_run(tmp_path / "early.h5")
    assert run.complete and list(run.epochs) == list(run.schedule) == [0, 1, 2, 3]


def _normalised_model(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dropout(0.3),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="categorical_crossentropy")
    return model


def test_the_recorder_leaves_the_model_as_it_would_train_without_it(tmp_path, data):
    """Its training-mode gradient pass must not move BatchNormalization's moving statistics nor
    advance a Dropout's random state: the same model trained with and without it ends equal."""
    x, y, train_idx, test_idx = data
    onehot = np.eye(2, dtype=np.float32)[y[train_idx]]
    final = []
    for recorded in (False, True):
        model = _normalised_model(seed=5)
        callbacks = [ActivationRecorder(tmp_path / "bn.h5", x, y, train_idx, test_idx, [0, 1, 3])] if recorded else []
        keras.utils.set_random_seed(6)
        model.fit(x[train_idx], onehot, batch_size=256, epochs=3, verbose=0, shuffle=False, callbacks=callbacks)
        final.append([np.asarray(variable) for variable in model.variables])
        keras.backend.clear_session()
    assert len(final[0]) == len(final[1])
    for without, with_recorder in zip(*final):
        np.testing.assert_array_equal(without, with_recorder)
    run = read_run(tmp_path / "bn.h5")
    assert run.complete and run.kernels is None  # BatchNormalization: sp could not reproduce the activity
    with pytest.raises(ValueError, match="sp needs every recorded epoch's kernels and biases"):
        estimate_runs([tmp_path / "bn.h5"], parse_estimators("sp:noise_std=0.01"), tmp_path / "mi.parquet",
                      progress=False, strict=True)


def test_parameters_are_kept_only_for_a_chain_of_dense_layers(tmp_path, data):
    x, y, train_idx, test_idx = data
    model = _plain_model()
    for name, parameters in (("kept.h5", True), ("not-asked.h5", False)):
        recorder = ActivationRecorder(tmp_path / name, x, y, train_idx, test_idx, [0], parameters=parameters)
        fit_ensemble(model, x[train_idx], y[train_idx], [0], 0, callbacks=[recorder])
    kept = read_run(tmp_path / "kept.h5")
    np.testing.assert_array_equal(kept.kernels[0][0], np.asarray(model.layers[0].kernel))
    assert read_run(tmp_path / "not-asked.h5").kernels is None
    separate = keras.Sequential([keras.Input((12,)), keras.layers.Dense(4), keras.layers.Activation("tanh"),
                                 keras.layers.Dense(2, activation="softmax")])
    recorder = ActivationRecorder(tmp_path / "separate.h5", x, y, train_idx, test_idx, [0])
    separate.compile(optimizer="adam", loss="categorical_crossentropy")
    fit_ensemble(separate, x[train_idx], y[train_idx], [0], 0, callbacks=[recorder])
    assert read_run(tmp_path / "separate.h5").kernels is None


@pytest.mark.parametrize("last", ["linear", "sigmoid"])
def test_a_model_not_ending_in_softmax_is_refused_before_any_file_is_written(tmp_path, data, last):
    x, y, train_idx, test_idx = data
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dense(2, activation=last, name="logits")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    recorder = ActivationRecorder(tmp_path / "no.h5", x, y, train_idx, test_idx, [0, 1])
    with pytest.raises(ValueError, match=f"layer 'logits' gives {last} values, not probabilities.*softmax"):
        fit_ensemble(model, x[train_idx], y[train_idx], [0], 1, callbacks=[recorder])
    assert not (tmp_path / "no.h5").exists()
