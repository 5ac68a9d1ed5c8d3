"""A training configuration (`TrainSpec`): an activation, an L2 strength, a protocol, hidden
widths and a data set, whose networks differ only in their seed, and the config each network's
run file stores."""

from __future__ import annotations

import functools
import importlib.metadata
import platform
from dataclasses import asdict, dataclass

import h5py
import numpy as np

from ib_keras import __version__
from ib_keras.data.datasets import TISHBY, Dataset, load_dataset, stratified_rows
from ib_keras.data.tishby import STANDARD, TRAIN_FRACTION, check_split
from ib_keras.networks.activations import PRELU, check_activation
from ib_keras.networks.architecture import Layer, check_hidden, hidden_text, is_convolutional, weighted_layers
from ib_keras.networks.protocols import (DEFAULT_PROTOCOL, HIDDEN_UNITS, NOISE_STD_RANGE, Protocol, get_protocol,
                                         kernel_stddevs, record_schedule)
from ib_keras.networks.quantization import check_bits
from ib_keras.networks.seeding import RECORD_STREAM, stream


@dataclass(frozen=True)
class TrainSpec:
    """One configuration of the networks to train; every network of it differs only in seed.

    ``epochs``, ``hidden`` and ``dataset`` default to the protocol's (the paper's 10-7-5-4-3 on
    tishby unless it says; ``hidden`` as `ib_keras.networks.architecture` spells it, convolutions
    on an image data set included), ``split`` to the data set's own (MNIST's) or else the protocol's;
    ``record_points`` replaces the protocol's recording schedule by that many log-spaced epochs;
    ``record_inputs``, ``record_train_inputs`` and ``record_dtype`` say which inputs' activity is
    recorded, and how. A
    protocol made for one data set (``saxe-mnist``) refuses another.
    """

    activation: str
    l2: float = 0.0
    protocol: str = DEFAULT_PROTOCOL
    epochs: int | None = None
    split: str | None = None
    split_seed: int = 0
    record_points: int | None = None
    hidden: tuple[Layer, ...] | None = None
    dataset: str | None = None  # a name `load_dataset` takes; None: the protocol's, else tishby
    noise_std: float = 0.0  # s > 0: noisy networks, N(0, s^2) added after every hidden activation
    record_inputs: int | None = None  # record a stratified sample of this many inputs (None: the data set's rows)
    record_train_inputs: int | None = None  # also record a stratified sample of this many training rows
    record_dtype: str = "float32"  # or "float16": half the disk, about 3 significant digits
    quantize_bits: int | None = None  # 4 or 8: quantized networks (Lorenzen et al. 2022), activity stored as codes

    def __post_init__(self):
        check_activation(self.activation)
        protocol = get_protocol(self.protocol)
        if self.hidden is None:
            object.__setattr__(self, "hidden", protocol.hidden or HIDDEN_UNITS)
        if self.dataset is None:
            object.__setattr__(self, "dataset", protocol.dataset or TISHBY)
        if protocol.dataset is not None and self.dataset != protocol.dataset:
            raise ValueError(f"--protocol {self.protocol} is the set-up of --dataset {protocol.dataset}, "
                             f"not of {self.dataset}; give --dataset {protocol.dataset}")
        data = self.data()  # a data set that cannot train fails here, before anything is written
        check_hidden(self.hidden, data.image_shape)
        if self.noise_std and is_convolutional(self.hidden):
            raise ValueError("--noise-std: noisy networks are Dense networks; give --hidden Dense widths")
        if self.split is None:
            object.__setattr__(self, "split", STANDARD if data.standard_split is not None else protocol.split)
        check_split(self.split)
        data.split(self.split, self.split_seed)  # a split the data set does not have fails here too
        if self.l2 < 0 or not np.isfinite(self.l2):
            raise ValueError(f"--l2 must be a finite number >= 0, got {self.l2}")
        if self.epochs is not None and self.epochs < 1:
            raise ValueError(f"--epochs must be >= 1, got {self.epochs}")
        if self.record_points is not None and self.record_points < 1:
            raise ValueError(f"--record-points must be >= 1, got {self.record_points}")
        if self.record_dtype not in RECORD_DTYPES:
            raise ValueError(f"--record-dtype must be one of {', '.join(RECORD_DTYPES)}, got '{self.record_dtype}'")
        self.recorded_rows()  # a sample the data set cannot give fails here
        check_bits(self.quantize_bits)
        if self.quantize_bits and (is_convolutional(self.hidden) or self.noise_std or self.activation == PRELU):
            raise ValueError("--quantize-bits: quantized networks are deterministic Dense networks of a stateless "
                             "activation; leave out --noise-std, convolutions and prelu")
        if self.quantize_bits and (self.recorded_rows() is not None or self.record_dtype != "float32"):
            raise ValueError(f"--quantize-bits: a quantized network records every input of its data set in one pass "
                             f"(a tanh layer's grid is the range of the inputs it sees) as integer codes; {data.name} "
                             "records a subset, or --record-inputs or --record-dtype was given: leave them out")
        low, high = NOISE_STD_RANGE
        if not (self.noise_std == 0 or low <= self.noise_std <= high):
            raise ValueError(f"--noise-std must be 0 (a deterministic network) or from {low:g} to {high:g} (what sp can "
                             f"estimate), got {self.noise_std}")

    def train_options(self) -> list[str]:
        """The options of ``python -m ib_keras train`` that make this configuration (a SLURM job's
        command line): each setting spelled out, so that the job trains what was planned."""
        values = {"activation": self.activation, "l2": repr(self.l2), "protocol": self.protocol,
                  "epochs": self.epochs, "split": self.split, "split-seed": self.split_seed,
                  "record-points": self.record_points, "hidden": hidden_text(self.hidden), "dataset": self.dataset,
                  "noise-std": repr(self.noise_std), "record-inputs": self.record_inputs,
                  "record-train-inputs": self.record_train_inputs, "record-dtype": self.record_dtype,
                  "quantize-bits": self.quantize_bits}
        return [text for name, value in values.items() if value is not None for text in (f"--{name}", str(value))]

    @property
    def total_epochs(self) -> int:
        return self.epochs if self.epochs is not None else get_protocol(self.protocol).epochs

    def record_epochs(self) -> np.ndarray:
        """The epochs recorded (int64, from 0 to ``total_epochs``)."""
        return record_schedule(self.protocol, self.total_epochs, self.record_points)

    def recorded_rows(self) -> np.ndarray | None:
        """The rows whose activity is recorded (sorted int64; None: every row): the data set's own
        (MNIST's test images), or with ``record_inputs`` a class-stratified sample of them drawn
        from the split's seed (the same rows for every network of the configuration); with
        ``record_train_inputs`` and a sample of the training rows beside them. ValueError for a
        sample the data set cannot give."""
        data = self.data()
        rows = data.evaluation
        if self.record_inputs is not None:
            rows = stratified_rows(data.y, np.arange(len(data.x)) if rows is None else rows, self.record_inputs,
                                   stream(self.split_seed, RECORD_STREAM), "--record-inputs")
        if self.record_train_inputs is None:
            return rows
        if data.evaluation is None:
            raise ValueError(f"--record-train-inputs: {data.name} records its training rows already (every row); "
                             "leave it out")
        train, _ = data.split(self.split, self.split_seed)
        sample = stratified_rows(data.y, train, self.record_train_inputs, stream(self.split_seed, RECORD_STREAM, 1),
                                 "--record-train-inputs")
        return np.union1d(rows, sample)

    @property
    def n_recorded(self) -> int:
        """How many inputs the recorder records."""
        rows = self.recorded_rows()
        return len(self.data().x) if rows is None else len(rows)

    def value_bytes(self) -> int:
        """Bytes a recorded value takes on disk before compression: 1 for a quantized network's codes."""
        return 1 if self.quantize_bits else np.dtype(self.record_dtype).itemsize

    def input_shape(self) -> tuple[int, ...]:
        """What the network reads an input as: (H, W, C) images for convolutions, else (features,)."""
        data = self.data()
        return data.image_shape if is_convolutional(self.hidden) else (data.x.shape[1],)

    def recorded_units(self) -> list[int]:
        """Values per input of every recorded layer (its hidden layers with a kernel, then the output)."""
        return [layer.units for layer in weighted_layers(self.hidden, self.input_shape(), self.data().n_classes)]

    def data(self) -> Dataset:
        """The data set (loaded once per process)."""
        return _load_dataset(self.dataset)

    def config(self, seed: int) -> dict:
        """The JSON description stored with network ``seed``: every hyperparameter and versions.
        The paper's task and widths, and a deterministic network (no ``noise_std``), give the same
        config as before these were options."""
        data = self.data()
        protocol = get_protocol(self.protocol)
        settings = {name: value for name, value in asdict(self).items()
                    if name not in ("hidden", "dataset") and value != _UNSTATED.get(name, ...)}
        return {
            **settings,
            "epochs": self.total_epochs,
            "hidden_units": self.recorded_units()[:-1],
            **({"architecture": hidden_text(self.hidden)} if is_convolutional(self.hidden) else {}),
            "n_classes": data.n_classes,
            "kernel_stddev": kernel_stddevs(self.activation, self.protocol, self.input_shape(), self.hidden,
                                            data.n_classes),
            "optimizer": protocol.optimizer,
            "learning_rate": protocol.learning_rate,
            "batch_size": protocol.batch_size,
            "loss": "categorical_crossentropy",
            "train_fraction": TRAIN_FRACTION,
            **_protocol_rules(protocol),
            **data.config(),
            "seed": seed,
            "versions": _versions(),
        }


_load_dataset = functools.cache(load_dataset)
RECORD_DTYPES = ("float32", "float16")
# Settings a config leaves out at these values: configs of runs made before they were options stay equal.
_UNSTATED = {"noise_std": 0.0, "record_inputs": None, "record_train_inputs": None, "record_dtype": "float32",
             "quantize_bits": None}


def _protocol_rules(protocol: Protocol) -> dict:
    """The rules in which ``protocol`` departs from the default one (minibatch order, output and
    hidden kernels, when a recorded epoch is read), as config fields; the default's are implied, so that
    its files stay as they were before these were stored."""
    default = get_protocol(DEFAULT_PROTOCOL)
    names = ("minibatch_order", "output_init", "hidden_init", "recorded_at")
    rules = {name: getattr(protocol, name) for name in names}
    return {name: value for name, value in rules.items() if value != getattr(default, name)}


def _versions() -> dict:
    return {
        "ib_keras": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "tensorflow": _installed("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel"),
        "keras": _installed("keras"),
        "h5py": h5py.__version__,
    }


def _installed(*distributions: str) -> str | None:
    """The version of the first of ``distributions`` installed (TensorFlow's name depends on the
    platform), read from its metadata: without importing it."""
    for name in distributions:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None
