"""The recorder on the models and trainings a user writes: a recorder reused by several ``fit``
calls continues its files at the model's own epochs; a layer applied twice is recorded at each
application; layers with weights but no ``kernel`` (LSTM, SeparableConv2D, Embedding) are
recorded; a model of one recorded layer, a Sequential without an Input; and every model or
argument it cannot record faithfully is refused by name before any file is written. Each
expected activity is computed here from the model's own weights or from ``keras.Model(inputs,
layer.output)``, independently of the recorder."""

import keras
import numpy as np
import pytest

from ib_keras import ActivationRecorder, read_run

N_CLASSES = 3


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)
    return x, y, np.arange(90), np.arange(90, 120)


def _mlp(seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="tanh", name="a"),
                              keras.layers.Dense(N_CLASSES, activation="softmax", name="out")])
    model.compile("adam", "categorical_crossentropy")
    return model


def _fit(model, data, callbacks, **options):
    x, y, train_idx, _ = data
    model.fit(x[train_idx], np.eye(N_CLASSES)[y[train_idx]], batch_size=30, verbose=0, shuffle=False,
              callbacks=callbacks, **options)


def _recorder(path, data, epochs, **options):
    x, y, train_idx, test_idx = data
    return ActivationRecorder(path, x, y, train_idx, test_idx, epochs, verbose=0, **options)


def test_one_recorder_over_several_fits_records_the_models_own_epochs(tmp_path, data):
    """Three fits (2 epochs, 1 more counted from 0, then initial_epoch=3) record what one fit of 4
    epochs records; a fit that cannot say which epoch the model is at, or another model, is
    refused and the file keeps its epochs."""
    whole = _mlp(1)
    _fit(whole, data, [_recorder(tmp_path / "whole.h5", data, range(5))], epochs=4)
    pieces, recorder = _mlp(1), _recorder(tmp_path / "pieces.h5", data, range(5))
    _fit(pieces, data, [recorder], epochs=2)
    _fit(pieces, data, [recorder], epochs=1)  # Keras counts from 0 again: the model's epoch 3
    assert read_run(tmp_path / "pieces.h5").epochs.tolist() == [0, 1, 2, 3]
    _fit(pieces, data, [recorder], initial_epoch=3, epochs=4)
    a, b = read_run(tmp_path / "whole.h5"), read_run(tmp_path / "pieces.h5")
    assert b.complete and b.epochs.tolist() == [0, 1, 2, 3, 4]
    for layer_a, layer_b in zip(a.activity, b.activity):
        np.testing.assert_allclose(layer_b, layer_a, atol=1e-5)
    assert not np.allclose(b.activity[0][0], b.activity[0][3], atol=1e-3)  # epoch 0 is not a later state
    with pytest.raises(ValueError, match="fit\\(initial_epoch=7\\) but this ActivationRecorder saw the model train 4"):
        _fit(pieces, data, [recorder], initial_epoch=7, epochs=8)
    with pytest.raises(ValueError, match="a recorder records one model"):
        _fit(_mlp(2), data, [recorder], epochs=1)
    np.testing.assert_array_equal(read_run(tmp_path / "pieces.h5").activity[0], b.activity[0])  # nothing replaced


def test_a_layer_applied_twice_is_recorded_at_each_application(tmp_path, data):
    x = data[0]
    keras.utils.set_random_seed(3)
    inputs = keras.Input((6,))
    shared = keras.layers.Dense(6, activation="tanh", name="sh")
    outputs = keras.layers.Dense(N_CLASSES, activation="softmax", name="out")(shared(shared(inputs)))
    model = keras.Model(inputs, outputs)
    model.compile("adam", "categorical_crossentropy")
    _fit(model, data, [_recorder(tmp_path / "twice.h5", data, [0, 1])], epochs=1)
    run = read_run(tmp_path / "twice.h5")
    assert [layer.name for layer in run.layers] == ["sh#1", "sh#2", "out"]
    w, b = model.get_layer("sh").get_weights()
    once = np.tanh(x @ w + b)
    np.testing.assert_allclose(run.activity[0][-1], once, atol=1e-5)
    np.testing.assert_allclose(run.activity[1][-1], np.tanh(once @ w + b), atol=1e-5)
    _fit(model, data, [_recorder(tmp_path / "second.h5", data, [1], layers=["sh#2", "out"])], initial_epoch=1, epochs=1)
    np.testing.assert_allclose(read_run(tmp_path / "second.h5").activity[0][0], run.activity[1][-1], atol=1e-6)
    # the same rule on another layer type, applied to two inputs of a branch each
    keras.utils.set_random_seed(4)
    inputs = keras.Input((6,))
    conv = keras.layers.Conv1D(2, 3, activation="relu", name="conv")
    left, right = conv(keras.layers.Reshape((6, 1))(inputs)), conv(keras.layers.Reshape((3, 2))(inputs)[..., :1])
    merged = keras.layers.Concatenate()([keras.layers.Flatten()(left), keras.layers.Flatten()(right)])
    model = keras.Model(inputs, keras.layers.Dense(N_CLASSES, activation="softmax")(merged))
    model.compile("adam", "categorical_crossentropy")
    _fit(model, data, [_recorder(tmp_path / "branches.h5", data, [0])], epochs=0)
    run = read_run(tmp_path / "branches.h5")
    assert [(layer.name, layer.shape) for layer in run.layers[:2]] == [("conv#1", (4, 2)), ("conv#2", (1, 2))]
    for i, node in enumerate(conv._inbound_nodes):
        expected = keras.Model(inputs, node.output_tensors[0]).predict(x, verbose=0)
        np.testing.assert_allclose(run.activity[i][0], expected.reshape(len(x), -1), atol=1e-5)


def _sequence_data(data):
    x, y, train_idx, test_idx = data
    return np.abs(x * 3).astype(np.int64) % 10, y, train_idx, test_idx  # 6 tokens of 10 per input


@pytest.mark.parametrize("build, names", [
    (lambda: keras.Sequential([keras.Input((6,)), keras.layers.Embedding(10, 3, name="embed"),
                               keras.layers.LSTM(4, name="lstm"),
                               keras.layers.Dense(N_CLASSES, activation="softmax", name="out")]),
     ["embed", "lstm", "out"]),
    (lambda: keras.Sequential([keras.Input((6,)), keras.layers.Reshape((2, 3, 1)),
                               keras.layers.SeparableConv2D(2, 2, activation="relu", name="separable"),
                               keras.layers.Flatten(), keras.layers.Dense(N_CLASSES, activation="softmax", name="out")]),
     ["separable", "out"]),
])
def test_layers_with_weights_but_no_kernel_are_recorded(tmp_path, data, build, names):
    keras.utils.set_random_seed(5)
    model = build()
    model.compile("adam", "categorical_crossentropy")
    data = _sequence_data(data) if names[0] == "embed" else data
    _fit(model, data, [_recorder(tmp_path / "run.h5", data, [0, 1])], epochs=1)
    run = read_run(tmp_path / "run.h5")
    assert [layer.name for layer in run.layers] == names
    for i, name in enumerate(names[:-1]):
        expected = keras.Model(model.inputs, model.get_layer(name).output).predict(data[0], verbose=0)
        np.testing.assert_allclose(run.activity[i][-1], expected.reshape(len(data[0]), -1), atol=1e-5)
        # the norm of its weights of two or more dimensions together (an LSTM's kernel and recurrent kernel)
        weights = [w for w in model.get_layer(name).get_weights() if w.ndim >= 2]
        assert run.weights_norm[-1, i] == pytest.approx(np.sqrt(sum(np.sum(w**2) for w in weights)), rel=1e-5)
        assert np.isfinite(run.grad_mean[:, i]).all() and np.isfinite(run.grad_std[:, i]).all()


@pytest.mark.parametrize("layers", [None, ["out"]])
def test_a_model_of_one_recorded_layer(tmp_path, data, layers):
    keras.utils.set_random_seed(6)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="relu", name="a"),
                              keras.layers.Dense(N_CLASSES, activation="softmax", name="out")])
    if layers is None:  # the output layer alone
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(N_CLASSES, activation="softmax", name="out")])
    model.compile("adam", "categorical_crossentropy")
    _fit(model, data, [_recorder(tmp_path / "one.h5", data, [0, 1], layers=layers)], epochs=1)
    run = read_run(tmp_path / "one.h5")
    assert run.complete and [layer.name for layer in run.layers] == ["out"]
    np.testing.assert_allclose(run.activity[0][-1], model.predict(data[0], verbose=0), atol=1e-5)


def test_a_sequential_without_an_input_is_built_and_recorded(tmp_path, data):
    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.layers.Dense(4, activation="relu", name="a"),
                              keras.layers.Dense(N_CLASSES, activation="softmax", name="out")])
    model.compile("adam", "categorical_crossentropy")
    _fit(model, data, [_recorder(tmp_path / "lazy.h5", data, [0, 1])], epochs=1)
    run = read_run(tmp_path / "lazy.h5")
    w, b = model.get_layer("a").get_weights()
    np.testing.assert_allclose(run.activity[0][-1], np.maximum(data[0] @ w + b, 0), atol=1e-5)


class _Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(4, activation="relu")
        self.out = keras.layers.Dense(N_CLASSES, activation="softmax")

    def call(self, inputs):
        return self.out(self.hidden(inputs))


def _two_inputs():
    a, b = keras.Input((3,)), keras.Input((3,))
    return keras.Model([a, b], keras.layers.Dense(N_CLASSES, activation="softmax")(keras.layers.Concatenate()([a, b])))


def _nested():
    block = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="relu", name="inner")], name="block")
    inputs = keras.Input((6,))
    return keras.Model(inputs, keras.layers.Dense(N_CLASSES, activation="softmax")(block(inputs)))


@pytest.mark.parametrize("build, options, message", [
    (_Subclassed, {}, "a subclassed keras.Model"),
    (_nested, {}, r"layer 'block' is a nested model whose layers \(inner\)"),
    (lambda: keras.Sequential([keras.Input((6,)), keras.layers.Dense(N_CLASSES, activation="softmax")]),
     {"epochs": [5, 10]}, r"none of the epochs to record \(5, 10\) lies in this training's epochs 0..2"),
])
def test_models_and_schedules_that_cannot_be_recorded_are_refused_before_any_file(tmp_path, data, build, options,
                                                                                  message):
    model = build()
    model.compile("adam", "categorical_crossentropy")
    with pytest.raises(ValueError, match=message):
        _fit(model, data, [_recorder(tmp_path / "no.h5", data, options.get("epochs", [0, 1]))], epochs=2)
    assert not (tmp_path / "no.h5").exists()


def test_a_multi_input_model_is_refused_and_a_named_nested_model_recorded(tmp_path, data):
    x, y, train_idx, test_idx = data
    model = _two_inputs()
    model.compile("adam", "categorical_crossentropy")
    with pytest.raises(ValueError, match="takes 2 inputs; the recorder records models of one input"):
        model.fit([x[train_idx, :3], x[train_idx, 3:]], np.eye(N_CLASSES)[y[train_idx]], epochs=1, verbose=0,
                  callbacks=[_recorder(tmp_path / "no.h5", data, [0, 1])])
    assert not (tmp_path / "no.h5").exists()
    keras.utils.set_random_seed(8)
    model = _nested()
    model.compile("adam", "categorical_crossentropy")
    _fit(model, data, [_recorder(tmp_path / "block.h5", data, [0], layers=["block", model.layers[-1].name])], epochs=0)
    w, b = model.get_layer("block").get_layer("inner").get_weights()
    np.testing.assert_allclose(read_run(tmp_path / "block.h5").activity[0][0], np.maximum(x @ w + b, 0), atol=1e-5)


@pytest.mark.parametrize("arguments, message", [
    ({"y": np.array([0.7, 1.7] * 60)}, r"y \(the class labels\) must be whole numbers >= 0, got 0.7"),
    ({"y": np.array(["a", "b"] * 60)}, r"y \(the class labels\) must be whole numbers >= 0, got values of type <U1"),
    ({"epochs": [0, 0.5, 1.9]}, r"epochs \(to record\) must be whole numbers >= 0, got 0.5"),
    ({"epochs": [-1, 1]}, r"epochs \(to record\) must be whole numbers >= 0, got -1"),
    ({"train_idx": np.arange(100, 130)}, "'train_idx' holds indices outside 0..119"),
])
def test_arguments_that_are_not_whole_numbers_in_range_are_refused_when_the_recorder_is_made(tmp_path, data,
                                                                                             arguments, message):
    x, y, train_idx, test_idx = data
    values = {"y": y, "train_idx": train_idx, "test_idx": test_idx, "epochs": [0, 1], **arguments}
    with pytest.raises(ValueError, match=message):
        ActivationRecorder(tmp_path / "no.h5", x, values["y"], values["train_idx"], values["test_idx"], values["epochs"])


def test_labels_beyond_the_models_classes_are_refused_before_any_file(tmp_path, data):
    x, y, train_idx, test_idx = data
    model = _mlp(9)
    recorder = ActivationRecorder(tmp_path / "no.h5", x, np.where(y == 2, 3, y), train_idx, test_idx, [0, 1])
    with pytest.raises(ValueError, match="gives 3 class probabilities but y holds label 3"):
        _fit(model, data, [recorder], epochs=1)
    assert not (tmp_path / "no.h5").exists()
