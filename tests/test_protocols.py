"""Each published protocol's values, pinned, and what they make the trainer do."""

import json
import math

import h5py
import keras
import numpy as np
import pytest

from ib_keras.data.tishby import tishby_dataset
from ib_keras.networks.models import HIDDEN_UNITS, build_ensemble
from ib_keras.networks.protocols import PROTOCOLS, get_protocol
from ib_keras.networks.schedules import idnns_epochs
from ib_keras.runfile import read_run
from ib_keras.train.fit import fit_ensemble
from ib_keras.train.spec import TrainSpec
from tests.helpers import cli_here

WIDTHS = (12, *HIDDEN_UNITS, 2)


@pytest.mark.parametrize("name, values", [
    ("chelombiev", dict(epochs=8000, batch_size=256, optimizer="adam", learning_rate=4e-4, split="random",
                        minibatch_order="shuffled", output_init="truncated_normal", recorded_at="start")),
    ("shwartz-ziv", dict(epochs=8000, batch_size=512, optimizer="adam", learning_rate=4e-4, split="first",
                         minibatch_order="fixed", output_init="truncated_normal", recorded_at="start")),
    ("saxe", dict(epochs=10000, batch_size=256, optimizer="adam", learning_rate=4e-4, split="random",
                  minibatch_order="shuffled", output_init="glorot_uniform", recorded_at="end")),
    ("saxe-mnist", dict(epochs=10000, batch_size=128, optimizer="sgd", learning_rate=0.001, split="standard",
                        minibatch_order="shuffled", output_init="glorot_uniform", hidden_init="glorot_uniform",
                        recorded_at="end", hidden=(1024, 20, 20, 20), dataset="mnist")),
])
def test_each_protocol_carries_its_papers_values(name, values):
    protocol = get_protocol(name)
    assert {key: getattr(protocol, key) for key in values} == values
    assert protocol.sources  # every protocol names where its values come from


def test_kernel_rules_by_protocol():
    fan_in_rule = [1 / math.sqrt(f) for f in WIDTHS[:-1]]
    assert [PROTOCOLS["shwartz-ziv"].kernel_stddev("tanh", f, u) for f, u in zip(WIDTHS, WIDTHS[1:])] == fan_in_rule
    assert [PROTOCOLS["saxe"].kernel_stddev("relu", f, u) for f, u in zip(WIDTHS, WIDTHS[1:])] == \
        [1 / math.sqrt(u) for u in WIDTHS[1:]]
    assert PROTOCOLS["chelombiev"].kernel_stddev("relu", 12, 10) == pytest.approx(2 / math.sqrt(12))


def test_recorded_states_of_each_protocol():
    sz = get_protocol("shwartz-ziv").record_epochs(8000)
    assert len(sz) == 274 and sz[0] == 0 and sz[-1] == 7999  # the start of epoch e is the state after e epochs
    saxe = get_protocol("saxe").record_epochs(10000)
    assert len(saxe) == 211 and saxe[0] == 1 and saxe[-1] == 9901  # the end of Keras epoch k: after k + 1
    np.testing.assert_array_equal(saxe[18:23], [19, 20, 21, 26, 31])
    mnist = get_protocol("saxe-mnist").record_epochs(10000)  # their MNIST do_report: every 10th epoch < 200
    assert len(mnist) == 144 and mnist[0] == 1 and mnist[-1] == 9901
    np.testing.assert_array_equal(mnist[18:23], [19, 20, 21, 26, 31])
    np.testing.assert_array_equal(mnist[34:40], [91, 96, 101, 111, 121, 131])
    chelombiev = get_protocol("chelombiev").record_epochs(8000)
    assert chelombiev[0] == 0 and chelombiev[-1] == 8000 and len(chelombiev) == 66


def test_saxe_output_layer_is_glorot_uniform_per_member_and_hidden_layers_truncated_normal():
    model = build_ensemble("tanh", list(range(400)), protocol="saxe")
    output = np.asarray(model.layers[-1].kernel)  # (400, 3, 2)
    limit = math.sqrt(6 / 5)
    assert np.abs(output).max() <= limit and np.abs(output).max() > 0.95 * limit
    assert output.std() == pytest.approx(limit / math.sqrt(3), rel=0.05)  # uniform, not a truncated normal
    first = np.asarray(model.layers[1].kernel)
    assert np.abs(first).max() <= 2 / math.sqrt(10) + 1e-6
    assert first.std() == pytest.approx(0.8796 / math.sqrt(10), rel=0.03)
    alone = np.asarray(build_ensemble("tanh", [7], protocol="saxe").layers[-1].kernel)
    np.testing.assert_array_equal(alone[0], output[7])  # a member's draw depends on its seed alone


def test_fixed_minibatch_order_trains_as_keras_fit_without_shuffling():
    """Shwartz-Ziv & Tishby's order (rows in file order, batch 512, the same every epoch) against
    Keras' own model.fit(shuffle=False) on a plain network starting from the same weights."""
    x, y = tishby_dataset()
    x, y = x[:3277], y[:3277]
    ensemble = build_ensemble("tanh", [3], protocol="shwartz-ziv")
    plain = keras.Sequential([keras.Input((12,)), *[keras.layers.Dense(u, activation="tanh") for u in HIDDEN_UNITS],
                              keras.layers.Dense(2, activation="softmax")])
    for dense, layer in zip(plain.layers, ensemble.layers[1:]):
        dense.set_weights([np.asarray(layer.kernel)[0], np.asarray(layer.bias)[0]])
    plain.compile(optimizer=keras.optimizers.Adam(4e-4), loss="categorical_crossentropy")
    plain.fit(x, np.eye(2)[y], batch_size=512, epochs=3, shuffle=False, verbose=0)
    fit_ensemble(ensemble, x, y, [3], 3, batch_size=512, shuffle=False)
    for dense, layer in zip(plain.layers, ensemble.layers[1:]):
        np.testing.assert_allclose(np.asarray(layer.kernel)[0], dense.get_weights()[0], atol=2e-6)
    # shuffled, the same start ends elsewhere: the comparison can tell the orders apart
    shuffled = build_ensemble("tanh", [3], protocol="shwartz-ziv")
    fit_ensemble(shuffled, x, y, [3], 3, batch_size=512)
    assert np.abs(np.asarray(shuffled.layers[1].kernel)[0] - plain.layers[0].get_weights()[0]).max() > 1e-4


def test_train_with_shwartz_ziv_protocol_records_their_epochs_and_says_so(tmp_path):
    result = cli_here("train", "--activation", "tanh", "--protocol", "shwartz-ziv", "--epochs", "20", "--seeds", "1",
                      "--workers", "1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    run = read_run(tmp_path / "tanh" / "seed-000.h5", activity=False)
    assert run.complete
    np.testing.assert_array_equal(run.epochs, idnns_epochs(20))  # starts of epochs 0..19: 20 is not recorded
    assert run.epochs[-1] == 19
    assert {key: run.config[key] for key in ("batch_size", "split", "minibatch_order", "protocol")} == \
        {"batch_size": 512, "split": "first", "minibatch_order": "fixed", "protocol": "shwartz-ziv"}
    np.testing.assert_array_equal(run.train_idx, np.arange(3277))
    with h5py.File(tmp_path / "tanh" / "seed-000.h5") as f:
        assert json.loads(f.attrs["config"])["epochs"] == 20


def test_a_chelombiev_config_names_no_rule_it_did_not_name_before():
    config = TrainSpec("tanh").config(0)
    assert not {"minibatch_order", "output_init", "recorded_at"} & set(config)
    assert config["split"] == "random" and config["batch_size"] == 256
    assert TrainSpec("tanh", protocol="saxe").config(0)["output_init"] == "glorot_uniform"


def test_saxe_mnist_is_plain_sgd_with_every_kernel_glorot_uniform_and_refuses_other_data():
    model = build_ensemble("tanh", list(range(3)), protocol="saxe-mnist", input_shape=784, hidden=(1024, 20, 20, 20),
                           n_classes=10)
    assert isinstance(model.optimizer, keras.optimizers.SGD) and float(model.optimizer.momentum) == 0.0
    assert float(model.optimizer.learning_rate) == pytest.approx(0.001)
    for layer, (fan_in, units) in zip(model.layers[1:], [(784, 1024), (1024, 20), (20, 20), (20, 20), (20, 10)]):
        kernel = np.asarray(layer.kernel)  # (3, fan_in, units)
        limit = math.sqrt(6 / (fan_in + units))
        assert np.abs(kernel).max() <= limit and kernel.std() == pytest.approx(limit / math.sqrt(3), rel=0.1)
    with pytest.raises(ValueError, match="--protocol saxe-mnist is the set-up of --dataset mnist, not of tishby"):
        TrainSpec("tanh", protocol="saxe-mnist", dataset="tishby")
    assert TrainSpec("tanh", protocol="saxe-mnist").dataset == "mnist"  # its data set unless told otherwise
