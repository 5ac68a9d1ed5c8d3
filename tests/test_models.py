import math

import keras
import numpy as np
import pytest

from ib_keras.networks.activations import (ACTIVATIONS, STATELESS, activation_function, check_activation, init_gain,
                                           numpy_function)
from ib_keras.networks.layers import EnsembleDense
from ib_keras.networks.models import HIDDEN_UNITS, build_ensemble, kernel_stddevs


def _kernels(model):
    return [np.asarray(layer.kernel) for layer in model.layers if hasattr(layer, "kernel")]


def test_the_network_is_12_10_7_5_4_3_2_with_softmax_output():
    model = build_ensemble("tanh", [0, 1, 2])
    assert [k.shape for k in _kernels(model)] == [(3, 12, 10), (3, 10, 7), (3, 7, 5), (3, 5, 4), (3, 4, 3), (3, 3, 2)]
    probabilities = np.asarray(model(np.random.default_rng(0).random((5, 3, 12), dtype=np.float32)))
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-6)


def test_a_member_starts_from_the_same_weights_alone_or_among_others():
    alone = _kernels(build_ensemble("relu", [5]))
    among = _kernels(build_ensemble("relu", [2, 5, 9]))
    for a, b in zip(alone, among):
        np.testing.assert_array_equal(a[0], b[1])
    assert not np.array_equal(among[0][0], among[0][1])


@pytest.mark.parametrize("activation, gain", [("tanh", 1.0), ("relu", 2.0), ("softsign", 1.0), ("swish", 2.0)])
def test_kernels_are_truncated_normal_with_the_authors_gain(activation, gain):
    kernels = _kernels(build_ensemble(activation, list(range(200))))
    first = kernels[0]  # fan_in 12: stddev gain / sqrt(12)
    stddev = gain / math.sqrt(12)
    assert np.abs(first).max() <= 2 * stddev + 1e-6
    truncated_std = stddev * 0.8796  # std of a normal truncated at two standard deviations
    assert first.std() == pytest.approx(truncated_std, rel=0.03)
    assert kernel_stddevs(activation) == pytest.approx([gain / math.sqrt(f) for f in (12, *HIDDEN_UNITS)])


def test_saxe_protocol_scales_hidden_kernels_by_layer_width_and_keeps_keras_default_output():
    # ibsgd: TruncatedNormal(0, 1/sqrt(units)) for hidden layers; the softmax layer is Keras' default
    # glorot_uniform, U(-a, a) with a = sqrt(6 / (3 + 2)), whose standard deviation is a / sqrt(3)
    assert kernel_stddevs("tanh", "saxe") == pytest.approx([*(1 / math.sqrt(u) for u in HIDDEN_UNITS),
                                                            math.sqrt(6 / 5) / math.sqrt(3)])


def test_biases_start_at_zero():
    model = build_ensemble("elu", [0, 1])
    for layer in model.layers[1:]:
        np.testing.assert_array_equal(np.asarray(layer.bias), 0.0)


def test_l2_penalty_is_lambda_times_half_squared_hidden_kernels():
    model = build_ensemble("tanh", [0, 1], l2=0.015)
    model(np.zeros((1, 2, 12), np.float32))
    kernels = _kernels(model)
    expected = 0.015 * sum((k**2).sum() for k in kernels[:-1]) / 2  # not the output layer
    assert float(sum(model.losses)) == pytest.approx(expected, rel=1e-5)


def test_without_l2_there_is_no_penalty():
    model = build_ensemble("tanh", [0])
    model(np.zeros((1, 1, 12), np.float32))
    assert not model.losses


@pytest.mark.parametrize(
    "name, z, expected",
    [
        ("centered_softplus", [0.0, 2.0], [0.0, math.log1p(math.exp(2.0)) - math.log(2.0)]),
        ("leaky_relu", [-1.0, 3.0], [-0.2, 3.0]),
        ("swish", [1.0], [1.0 / (1.0 + math.exp(-1.0))]),
        ("abs", [-2.5], [2.5]),
        ("elu", [-1.0], [math.exp(-1.0) - 1.0]),
        ("softsign", [3.0], [0.75]),
    ],
)
def test_activation_functions_match_their_formulas(name, z, expected):
    np.testing.assert_allclose(np.asarray(activation_function(name)(np.array(z, np.float32))), expected, rtol=1e-6)


def test_ensemble_dense_applies_each_members_own_weights():
    layer = EnsembleDense(4, members=3, activation="tanh")
    x = np.random.default_rng(1).normal(size=(6, 3, 5)).astype(np.float32)
    out = np.asarray(layer(x))
    kernel, bias = np.asarray(layer.kernel), np.asarray(layer.bias)
    for k in range(3):
        np.testing.assert_allclose(out[:, k], np.tanh(x[:, k] @ kernel[k] + bias[k]), rtol=1e-5, atol=1e-6)


def test_prelu_starts_as_relu_and_learns_a_slope_per_member_and_unit():
    layer = EnsembleDense(2, members=2, activation="prelu")
    x = np.random.default_rng(2).normal(size=(7, 2, 3)).astype(np.float32)
    out = np.asarray(layer(x))
    pre = np.einsum("bki,kij->bkj", x, np.asarray(layer.kernel))
    np.testing.assert_allclose(out, np.maximum(pre, 0), atol=1e-6)
    layer.slope.assign(np.array([[0.5, 0.1], [0.2, 0.3]], np.float32))
    out = np.asarray(layer(x))
    np.testing.assert_allclose(out, np.where(pre > 0, pre, pre * np.array([[0.5, 0.1], [0.2, 0.3]])), atol=1e-6)
    assert any(weight is layer.slope for weight in layer.trainable_weights)


def test_unknown_activation_lists_the_valid_ones():
    with pytest.raises(ValueError, match="valid activations: tanh"):
        check_activation("gelu")
    assert len(ACTIVATIONS) == 11
    assert init_gain("prelu") == 2.0


def test_a_saved_ensemble_loads_back(tmp_path):
    model = build_ensemble("prelu", [0, 1])
    x = np.random.default_rng(3).random((4, 2, 12), dtype=np.float32)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", compile=False)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-6)


def test_numpy_functions_equal_the_keras_ones():
    z = np.random.default_rng(0).normal(0, 4, (200, 3)).astype(np.float32)
    for name in STATELESS:
        expected = z if name == "linear" else np.asarray(activation_function(name)(z))
        np.testing.assert_allclose(numpy_function(name)(z), expected, atol=3e-6)
