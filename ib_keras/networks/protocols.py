"""Training protocols: everything a published set-up fixes, with the source of each value.

- ``chelombiev`` (default): Chelombiev, Houghton & O'Donnell (2019).
- ``shwartz-ziv``: Shwartz-Ziv & Tishby (2017), ``ravidziv/IDNNs``.
- ``saxe``: Saxe et al. (2018), ``artemyk/ibsgd``.
- ``saxe-mnist``: Saxe et al. (2018) on MNIST, ``artemyk/ibsgd`` ``MNIST_SaveActivations.ipynb``:
  784-1024-20-20-20-10, plain SGD, Keras' default initialisers (``--dataset mnist``).
- ``lorenzen``: Lorenzen, Igel & Nielsen (ICLR 2022)'s quantized networks on the synthetic task,
  ``StephanLorenzen/ExactIBAnalysisInQNNs`` (train with ``--quantize-bits 8`` or 4, or without it).
- ``wickstrom-cnn``: Wickstrom et al. (2019)'s small MNIST CNN, ``Wickstrom/InformationTheoryExperiment``
  ``cnnMI.ipynb`` and ``python/cnn_hero_ex.py``: conv4x3, conv8x3, pool2, conv16x3, pool2, 256,
  plain SGD, every epoch recorded (``--dataset mnist``).

A protocol's schedule is written in its code's own epoch numbering and turned into this project's
states (epoch e = the state after e epochs) by ``recorded_at``: IDNNs records at the *start* of
epoch e (the state after e epochs), ibsgd's ``LoggingReporter`` at the *end* of Keras epoch k (the
state after k + 1 epochs). Values were read from the original codes (never copied); ``sources``
names the file and line of each.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ib_keras.networks.activations import init_gain
from ib_keras.networks.architecture import Conv, Layer, Pool, weighted_layers
from ib_keras.networks.schedules import idnns_epochs, log_spaced_epochs, saxe_epochs, saxe_mnist_epochs

HIDDEN_UNITS = (10, 7, 5, 4, 3)  # the paper's network, 12-10-7-5-4-3-2
N_CLASSES = 2
TRUNCATED_NORMAL = "truncated_normal"  # the protocol's stddev rule, truncated at two stddev
GLOROT_UNIFORM = "glorot_uniform"  # Keras' Dense default: U(-a, a), a = sqrt(6 / (fan_in + units))
SHUFFLED = "shuffled"  # a new permutation of the training rows every epoch, from the network's seed
FIXED = "fixed"  # the training rows in file order, the same minibatches every epoch
START, END = "start", "end"
NOISE_STD_RANGE = (1e-15, 1e15)  # a noisy network's s (train --noise-std; sp reads it from the run)

DEFAULT_PROTOCOL = "chelombiev"
IDNNS = "ravidziv/IDNNs"
IBSGD = "artemyk/ibsgd"
_IDNNS_PARAMS = f"{IDNNS} idnns/networks/network_paramters.py (c4abb1d), get_default_parser"
_IBSGD_SAVE = f"{IBSGD} IBnet_SaveActivations.ipynb"
_IBSGD_MNIST = f"{IBSGD} MNIST_SaveActivations.ipynb (1ccf656)"
WICKSTROM = "Wickstrom/InformationTheoryExperiment"
_CNN_MI = f"{WICKSTROM} cnnMI.ipynb (b5da007)"
_CNN_HERO_EX = f"{WICKSTROM} python/cnn_hero_ex.py (3343d90)"
LORENZEN = "StephanLorenzen/ExactIBAnalysisInQNNs"
_QNN_EXPERIMENT = f"{LORENZEN} IB/experiment.py"
_QNN_MODELS = f"{LORENZEN} IB/models/models.py (4626acd)"


@dataclass(frozen=True)
class Protocol:
    """A published training set-up.

    ``kernel_stddev(activation, fan_in, units)`` is the stddev of the TruncatedNormal(0, stddev)
    of every hidden kernel when ``hidden_init`` is ``truncated_normal``, and of the output kernel
    when ``output_init`` is; biases start at zero. ``hidden`` and ``dataset``, where set, are the
    network's widths by default and the data set it is for. ``schedule(total_epochs)`` gives the recorded epochs in the protocol's
    own numbering, read at the ``recorded_at`` of each.
    """

    name: str
    epochs: int
    batch_size: int
    optimizer: str
    learning_rate: float
    kernel_stddev: Callable[[str, int, int], float]
    output_init: str
    split: str
    minibatch_order: str
    schedule: Callable[[int], np.ndarray]
    recorded_at: str
    sources: Mapping[str, str] = field(default_factory=dict)
    hidden_init: str = TRUNCATED_NORMAL
    hidden: tuple[Layer, ...] | None = None
    dataset: str | None = None

    def record_epochs(self, total_epochs: int) -> np.ndarray:
        """The states recorded in a run of ``total_epochs`` epochs (sorted int64, each <= total)."""
        states = self.schedule(total_epochs) + (1 if self.recorded_at == END else 0)
        return states[states <= total_epochs].astype(np.int64)


PROTOCOLS = {
    "chelombiev": Protocol(
        "chelombiev", epochs=8000, batch_size=256, optimizer="adam", learning_rate=4e-4,
        kernel_stddev=lambda activation, fan_in, units: init_gain(activation) / math.sqrt(fan_in),
        output_init=TRUNCATED_NORMAL, split="random", minibatch_order=SHUFFLED,
        schedule=log_spaced_epochs, recorded_at=START,
        sources={
            "epochs, batch size, optimizer, learning rate": "Chelombiev et al. (2019), Section 3",
            "kernels": "Chelombiev et al. (2019): g / sqrt(fan_in), g by activation (ib-keras's reading)",
            "split, order, schedule": "ib-keras: a random 80/20 split, shuffled minibatches, 0 and 75 "
                                      "log-spaced epochs (the paper does not list its epochs)",
        },
    ),
    "shwartz-ziv": Protocol(
        "shwartz-ziv", epochs=8000, batch_size=512, optimizer="adam", learning_rate=4e-4,
        kernel_stddev=lambda activation, fan_in, units: 1.0 / math.sqrt(fan_in),
        output_init=TRUNCATED_NORMAL, split="first", minibatch_order=FIXED,
        schedule=idnns_epochs, recorded_at=START,
        sources={
            "batch size 512": f"{_IDNNS_PARAMS}, lines 20-21",
            "learning rate 0.0004": f"{_IDNNS_PARAMS}, lines 24-25",
            "epochs 8000": f"{_IDNNS_PARAMS}, lines 33-34",
            "training set 80 %": f"{_IDNNS_PARAMS}, lines 41-42 (inds [80]); "
                                 f"{IDNNS} idnns/networks/utils.py, data_shuffle (shuffle_data=False: first rows)",
            "400 log-spaced points": f"{_IDNNS_PARAMS}, lines 53-54; schedule: {IDNNS} "
                                     "idnns/networks/information_network.py (84993fe), lines 44-46",
            "Adam; kernels TruncatedNormal(0, 1/sqrt(fan_in)), zero biases, softmax output alike":
                f"{IDNNS} idnns/networks/model.py (c7b75c2), Model.initilizae_layer and optimize",
            "fixed minibatch order; activity at the start of a recorded epoch, on all inputs":
                f"{IDNNS} idnns/networks/network.py (c7b75c2), train_network (batch_points, `if j in indexes` "
                "before the minibatch loop) and exctract_activity",
        },
    ),
    "saxe": Protocol(
        "saxe", epochs=10000, batch_size=256, optimizer="adam", learning_rate=4e-4,
        kernel_stddev=lambda activation, fan_in, units: 1.0 / math.sqrt(units),
        output_init=GLOROT_UNIFORM, split="random", minibatch_order=SHUFFLED,
        schedule=saxe_epochs, recorded_at=END,
        sources={
            "batch size 256, learning rate 0.0004, epochs 10000": f"{_IBSGD_SAVE}, first cell (cfg)",
            "hidden kernels TruncatedNormal(0, 1/sqrt(units)), zero biases; softmax layer with Keras' "
            "default initialiser (glorot_uniform); Adam": f"{_IBSGD_SAVE}, second cell",
            "model.fit (shuffles every epoch); recorded epochs (do_report)": f"{_IBSGD_SAVE}, third cell",
            "recorded at the end of an epoch (on_epoch_end)": f"{IBSGD} loggingreporter.py, on_epoch_end",
            "random 80/20 split": f"{_IBSGD_SAVE}, first cell (utils.get_IB_data: a stored random split of var_u)",
        },
    ),
    "saxe-mnist": Protocol(
        "saxe-mnist", epochs=10000, batch_size=128, optimizer="sgd", learning_rate=0.001,
        kernel_stddev=lambda activation, fan_in, units: glorot_uniform_limit(fan_in, units) / math.sqrt(3.0),
        output_init=GLOROT_UNIFORM, split="standard", minibatch_order=SHUFFLED,
        schedule=saxe_mnist_epochs, recorded_at=END, hidden_init=GLOROT_UNIFORM, hidden=(1024, 20, 20, 20),
        dataset="mnist",
        sources={
            "batch size 128, learning rate 0.001, epochs 10000": f"{_IBSGD_MNIST}, first cell, lines 8-10",
            "widths 1024, 20, 20, 20; tanh (relu the other choice)": f"{_IBSGD_MNIST}, first cell, lines 12-15",
            "MNIST, the standard 60,000/10,000 split, pixels in [-1, 1]": f"{_IBSGD_MNIST}, first cell, line 20 "
                                                                          f"(utils.get_mnist; {IBSGD} utils.py, lines 7-12)",
            "Dense layers with Keras' default initialisers (glorot_uniform kernels, zero biases), softmax "
            "output, plain SGD (no momentum), categorical cross-entropy": f"{_IBSGD_MNIST}, second cell, lines 1-9",
            "model.fit (shuffles every epoch); recorded epochs (do_report)": f"{_IBSGD_MNIST}, third cell, "
                                                                             "lines 1-10 and 16-21",
            "recorded at the end of an epoch, on the test images": f"{IBSGD} loggingreporter.py (1ccf656), "
                                                                   "on_epoch_end (activity_tst of tst.X; FULL_MI off)",
        },
    ),
    "lorenzen": Protocol(
        "lorenzen", epochs=8000, batch_size=256, optimizer="adam", learning_rate=1e-4,
        kernel_stddev=lambda activation, fan_in, units: glorot_uniform_limit(fan_in, units) / math.sqrt(3.0),
        output_init=GLOROT_UNIFORM, split="random", minibatch_order=SHUFFLED,
        schedule=lambda total_epochs: np.arange(0, total_epochs, 5), recorded_at=END, hidden_init=GLOROT_UNIFORM,
        sources={
            "Adam, learning rate 1e-4, batch 256, 8000 epochs, categorical cross-entropy":
                f"{_QNN_EXPERIMENT}, run_experiment's defaults and train_model; {LORENZEN} "
                "experiment/helpers/quantize.py (c9fe0c0), epochs = 8000 for SYN",
            "12-10-7-5-4-3-2, tanh or ReLU hidden layers, softmax output": f"{_QNN_MODELS}, ShwartzZiv99 and FNN",
            "Keras' default initialisers (glorot_uniform kernels, zero biases): FNN passes no init to NN, so the "
            "truncated normal ShwartzZiv99 names is never used": f"{_QNN_MODELS}, FNN and _get_init",
            "a random 80/20 split (test_size 0.2; their seed 1000, here --split-seed)":
                f"{_QNN_EXPERIMENT}, prep_data (IBdata.split(X, y, 0.2, seed=seed))",
            "model.fit (shuffles every epoch); information every 5th epoch when training 8000 epochs, at the "
            "end of the epoch": f"{_QNN_EXPERIMENT}, train_model (compute_freq); {LORENZEN} "
                                "IB/models/callbacks.py, TrainingTracker.on_epoch_end",
            "50 repetitions (seed 1000 + repetition)": f"{LORENZEN} experiment/helpers/quantize.py (c9fe0c0), "
                                                       f"repeats = 50; {_QNN_EXPERIMENT}, run_experiment",
            "restart rule: a repetition whose training accuracy stays below 0.55, unchanged, for more than 10 "
            "epochs is stopped and run again with the next seed (not run here: such networks are counted and "
            "left out of the claims)": f"{LORENZEN} IB/models/callbacks.py, THRESHOLD and "
                                       f"TrainingTracker.on_epoch_end (auto_stop); {_QNN_EXPERIMENT}, run_experiment",
        },
    ),
    "wickstrom-cnn": Protocol(
        "wickstrom-cnn", epochs=10, batch_size=100, optimizer="sgd", learning_rate=0.001,
        kernel_stddev=lambda activation, fan_in, fan_out: (math.sqrt(2.0 / fan_in) if activation == "relu"
                                                            else 5 / 3 * math.sqrt(2.0 / (fan_in + fan_out))),
        output_init=TRUNCATED_NORMAL, split="standard", minibatch_order=SHUFFLED,
        schedule=lambda total_epochs: np.arange(total_epochs + 1), recorded_at=START,
        hidden=(Conv(4, 3), Conv(8, 3), Pool(2), Conv(16, 3), Pool(2), 256), dataset="mnist",
        sources={
            "conv 4, 8, 16 filters of 3 x 3 (no padding), 2 x 2 max pooling after the second and third, "
            "Dense 256, Dense 10": f"{_CNN_MI}, cell 'define model', CNN_HERO.__init__ and forward (their "
                                   "BatchNorm after every activation left out)",
            "plain SGD, learning rate 0.001, cross-entropy": f"{_CNN_MI}, cell 'define model', train_model",
            "batch 100; 10 epochs of the 60,000 training images": f"{_CNN_HERO_EX}, lines 15, 17 and 18",
            "kernels: ReLU He-normal, sqrt(2 / fan_in); tanh Xavier-uniform with gain 5/3, its stddev 5/3 "
            "sqrt(2 / (fan_in + fan_out)); zero biases": f"{_CNN_MI}, cell 'define model', weight_init (here "
                                                        "both drawn from the truncated normal of that stddev)",
            "information measured on test images during training": f"{_CNN_HERO_EX}, lines 16 and 41-47 "
                                                                    "(every iteration; here every epoch)",
        },
    ),
}


def record_schedule(protocol: str, epochs: int, record_points: int | None = None) -> np.ndarray:
    """The epochs a run of ``epochs`` epochs records (sorted int64): ``record_points`` log-spaced
    ones when given, else the protocol's schedule. ValueError for an unknown protocol."""
    if record_points is not None:
        return log_spaced_epochs(epochs, record_points)
    return get_protocol(protocol).record_epochs(epochs)


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name``; ValueError listing the valid names otherwise."""
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol '{name}'; valid protocols: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


def glorot_uniform_limit(fan_in: int, units: int) -> float:
    """Half-width a of Glorot's uniform initialiser U(-a, a)."""
    return math.sqrt(6.0 / (fan_in + units))


def kernel_stddevs(activation: str, protocol: str = DEFAULT_PROTOCOL, input_shape: int | Sequence[int] = 12,
                   hidden: Sequence[Layer] = HIDDEN_UNITS, n_classes: int = N_CLASSES) -> list[float]:
    """Each weighted layer's initial kernel stddev under ``protocol``: of the TruncatedNormal
    before its truncation at two stddev, or for a Glorot-uniform output layer its U(-a, a)'s, a /
    sqrt(3). ``input_shape``: the features, or (H, W, C) for a convolutional ``hidden``
    (`ib_keras.networks.architecture`); a convolution's fans are Keras' (size^2 channels in,
    size^2 filters out: ``kernel_stddev``'s ``units``)."""
    chosen = get_protocol(protocol)
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    weighted = weighted_layers(hidden, shape, n_classes)
    stddevs = [chosen.kernel_stddev(activation, layer.fan_in, layer.fan_out) for layer in weighted]
    if chosen.output_init == GLOROT_UNIFORM:
        stddevs[-1] = glorot_uniform_limit(weighted[-1].fan_in, n_classes) / math.sqrt(3.0)
    return stddevs
