"""The run file's layout, its paths and the record of one read file (`Run`).

Layout (``schema_version`` 1)::

    <out>/<activation>[_l2-<lambda>]/seed-<NNN>.h5
    /                         attrs: schema_version, complete (bool), config (JSON)
    /x (N, 12) float32 (a user's model: (N, features), or images (N, H, W, C))
    /y (N,) int64   /train_idx (n_train,) int64   /test_idx (n_test,) int64
    /schedule (S,) int64      the epochs the run is to record (files from before it: its config's)
    /epochs (E,) int64
    /activations/layer_<i>    (E, N, units) float32 or float16, attrs units, activation, and (newer files)
                              name and, for a non-flat layer, shape (flattened in C order); a quantized
                              network's (``--quantize-bits``) uint8 codes c with attrs bits and grid:
                              "activity" (the values low + scale c) or "logits" (the softmax of them)
    /grids/layer_<i>          (E, 2) float32, a quantized layer's (low, scale) at each recorded epoch
    /metrics/train_loss, train_accuracy, test_loss, test_accuracy   (E,) float64
    /weights_norm, /grad_mean, /grad_std   (E, L) float64, NaN for a recorded layer without a kernel
    /kernels/layer_<i> (E, fan_in, units) float32, /biases/layer_<i> (E, units) float32
                              each recorded epoch's parameters, so that a noisy network's noise can be
                              propagated afterwards (`ib_keras.estimate.estimators.estimate_sp`); files from
                              before them, and a recorder of a model whose layers are not all
                              (fan_in, units) Dense kernels, have none

The file is written in HDF5's single-writer/multiple-reader (SWMR) mode, one epoch per chunk,
flushed after every epoch, so a writer killed at any instant leaves every flushed epoch readable.
Until ``complete`` is set such a file opens only with ``h5py.File(path, "r", swmr=True)``, and
its whole epochs are the rows that every growing dataset has (a writer killed while flushing may
have extended some datasets and not the others); `read_run` does both itself. A file is
complete when its ``complete`` attribute is set and its recorded epochs are its schedule.

Every dataset carries HDF5's Fletcher-32 checksum of each chunk (files written before it have
none and still read), which HDF5 verifies on every read: a file damaged on disk is reported, not
read as numbers. `read_run` also checks the config's field types, the labels against the number
of classes, the indices against N and the epochs for order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ib_keras.system.locks import is_locked

SCHEMA_VERSION = 1
METRICS = ("train_loss", "train_accuracy", "test_loss", "test_accuracy")
LAYER_STATISTICS = ("weights_norm", "grad_mean", "grad_std")
GRIDS = ("activity", "logits")  # what a quantized layer's codes are the grid levels of (LayerSpec.grid)


class RunFileError(ValueError):
    """A run file is missing, unreadable or not of this schema; the message names file and fix."""



class ForeignFileError(RunFileError):
    """A readable file that this ib_keras did not write: another program's HDF5, another schema."""


@dataclass(frozen=True)
class LayerSpec:
    """One recorded layer: its width (the values per input), the nonlinearity its activity comes
    after, and for a layer whose output per input is not flat (a convolution's (H, W, C)) that
    shape, the activity being stored flattened in C order (None: flat, (units,)); the model's
    name for the layer ('' when not known); for a quantized network's layer, ``grid`` says what its
    codes c on the grid low + scale c are: "activity" the layer's values, "logits" those that a
    softmax turns into the output ('' : not quantized), and ``bits`` their width."""

    units: int
    activation: str
    shape: tuple[int, ...] | None = None
    name: str = ""
    grid: str = ""
    bits: int = 0


@dataclass
class Run:
    """The contents of one run file, cut to its recorded epochs (E of them), as `read_run` gives it.

    Attributes:
        path: the file.
        config: the run's configuration (JSON object): activation, seed, protocol... as written.
        finished: the file's ``complete`` attribute: training ran to its end (`complete` also
            checks the epochs against the schedule).
        x: (N, ...) float32 inputs the activity was recorded on (row numbers when written without
            them: `has_inputs`).
        y: (N,) int64 class labels.
        train_idx: (n_train,) int64 rows of x trained on.
        test_idx: (n_test,) int64 rows of x tested on.
        epochs: (E,) int64 recorded epochs, 0 = the initialisation.
        layers: one `LayerSpec` per recorded layer, in order: width, activation, shape, name.
        metrics: train_loss, train_accuracy, test_loss, test_accuracy, each (E,) float64 (nats,
            fractions).
        weights_norm: (E, L) each layer's kernel's Frobenius norm (NaN without one).
        grad_mean: (E, L) the norm of the mean minibatch gradient of each layer's kernel.
        grad_std: (E, L) the norm of its standard deviation over the minibatches.
        activity: layer i's (E, N, units) float32 activity (a float16 file's widened, a quantized
            one's grid values), hidden layers first, then the output layer's softmax
            probabilities; None when read with ``activity=False``.
        schedule: (S,) the epochs the run is to record; None when neither file nor config says.
        kernels: layer i's (E, fan_in, units) kernels; None when not recorded or not read.
        biases: layer i's (E, units) biases; None likewise.
        codes: a quantized layer's (E, N, units) uint8 codes; None for a run that is not quantized.
        grids: a quantized layer's (E, 2) grid (low, scale) at each epoch; None likewise.
    """

    path: Path
    config: dict
    finished: bool  # the ``complete`` attribute: training ran to its end
    x: np.ndarray
    y: np.ndarray
    train_idx: np.ndarray
    test_idx: np.ndarray
    epochs: np.ndarray
    layers: list[LayerSpec]
    metrics: dict[str, np.ndarray]
    weights_norm: np.ndarray
    grad_mean: np.ndarray
    grad_std: np.ndarray
    activity: list[np.ndarray] | None
    schedule: np.ndarray | None = None  # the epochs to record; None when neither file nor config says
    kernels: list[np.ndarray] | None = None  # layer i's (E, fan_in, units); None: not recorded, or not read
    biases: list[np.ndarray] | None = None  # layer i's (E, units)
    codes: list[np.ndarray | None] | None = None  # a quantized layer's (E, N, units) uint8 codes; None: not read
    grids: list[np.ndarray | None] | None = None  # a quantized layer's (E, 2) (low, scale)

    @property
    def quantized(self) -> bool:
        """Every layer recorded as codes on a grid (a network trained with ``--quantize-bits``)."""
        return all(layer.grid for layer in self.layers)

    @property
    def has_inputs(self) -> bool:
        """``x`` holds the inputs; False for a file written without them (`write_run_arrays`
        without ``x``: row numbers in their place)."""
        return self.config.get("inputs_recorded", True)

    @property
    def complete(self) -> bool:
        """Training finished (the file says so) and every scheduled epoch is recorded."""
        return self.finished and (self.schedule is None or np.array_equal(self.epochs, self.schedule))

    def incomplete_reason(self) -> str:
        """Why the run is not complete and what to do, in words for a message ('' when it is)."""
        if self.complete:
            return ""
        if self.finished:
            return (f"marked complete but holds {len(self.epochs)} of the {len(self.schedule)} epochs its "
                    "schedule records; rerun its train command")
        if is_locked(self.path.parent):  # `train` holds its configuration directory while it trains
            return "a train command is writing it now: wait for it to finish"
        return "training was interrupted; rerun its train command"


def layer_name(layer: int, last: int) -> str:
    """The one name a user sees for a recorded layer: "layer 1" ... for the hidden layers, counted
    from 1 as the papers count them, and "softmax" for the last, the output's probabilities (index
    ``last``). ``layer`` is the 0-based index that the file's ``activations/layer_<layer>`` and the
    MI table's ``layer`` column hold. Figures, reports, TensorBoard and `inspect` all name layers so."""
    return "softmax" if layer == last else f"layer {layer + 1}"


def model_layer_name(name: str, layer: int, last: int) -> str:
    """The name a figure gives a recorded layer: the model's own (``name``, the file's layer
    attribute), or `layer_name` for a file without one and for ib_keras' own trainings, whose
    layers are layer_1 ... (the papers' "layer 1" ... "softmax")."""
    return name if name and not re.fullmatch(r"layer_\d+", name) else layer_name(layer, last)


def config_dir(out: str | Path, activation: str, l2: float = 0.0) -> Path:
    """``<out>/<activation>`` or ``<out>/<activation>_l2-<lambda>`` for a regularised run."""
    return Path(out) / (f"{activation}_l2-{l2:g}" if l2 > 0 else activation)


def run_path(out: str | Path, activation: str, l2: float, seed: int) -> Path:
    """The file of network ``seed`` of one configuration: ``.../seed-<NNN>.h5``."""
    return config_dir(out, activation, l2) / f"seed-{seed:03d}.h5"


def run_file_bytes(n_samples: int, layer_units: Sequence[int], n_epochs: int, input_dim: int = 12,
                   activity_bytes: int = 4, parameters: int | None = None) -> int:
    """Upper bound, in bytes, of one run file (activity stored uncompressed, ``activity_bytes`` a
    value: 4 for float32, 2 for float16, 1 for codes), with the kernels and biases (``parameters`` values an
    epoch; None: those of a chain of Dense layers fed by ``input_dim`` inputs), and the inputs."""
    widths = [input_dim, *layer_units]
    if parameters is None:
        parameters = sum((fan_in + 1) * units for fan_in, units in zip(widths, widths[1:]))
    per_epoch = activity_bytes * n_samples * sum(layer_units) + 4 * parameters \
        + 8 * (len(METRICS) + 1 + len(LAYER_STATISTICS) * len(layer_units))
    return n_epochs * per_epoch + (4 * input_dim + 8 * 16) * n_samples + 64 * 1024
