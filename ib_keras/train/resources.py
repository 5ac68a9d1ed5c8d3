"""What a training needs of the machine: memory per network, time, and how many worker processes
and networks per model it is worth (the free disk is the plan's, `ib_keras.train.runs.check_free_disk`)."""

from __future__ import annotations

import os

from ib_keras.networks.architecture import hidden_text, weighted_layers
from ib_keras.networks.protocols import HIDDEN_UNITS, N_CLASSES, get_protocol
from ib_keras.system.compute import matmul_gflops
from ib_keras.system.memory import available_memory
from ib_keras.train.spec import TrainSpec

# Peak memory of one member of the paper's network while training and recording on its 4096
# inputs (4096 x (12 + 31) values), with a wide margin; other data and widths scale it.
_BYTES_PER_MEMBER = 8 * 2**20
_PAPER_VALUES = 4096 * (12 + sum(HIDDEN_UNITS) + N_CLASSES)
_BYTES_PER_PARAMETER = 4 * 4  # float32 weight, gradient and Adam's two moments
_MEMORY_SHARE = 0.25  # of the memory available when training starts


def member_bytes(spec: TrainSpec) -> int:
    """Peak memory of one network of ``spec`` while it trains and records (bytes, with a margin):
    its activity on every recorded sample, as measured on the paper's network, and for each
    parameter the weight, its gradient and Adam's two moments in float32."""
    layers = weighted_layers(spec.hidden, spec.input_shape(), spec.data().n_classes)
    values = spec.data().x.shape[1] + sum(layer.units for layer in layers)
    activity = _BYTES_PER_MEMBER * max(1.0, spec.n_recorded * values / _PAPER_VALUES)
    return int(activity) + _BYTES_PER_PARAMETER * sum(layer.parameters for layer in layers)


def check_memory(spec: TrainSpec) -> None:
    """ValueError when one network of ``spec`` needs more memory than is available."""
    needed, free = member_bytes(spec), available_memory()
    if needed > free:
        raise ValueError(f"one network of --hidden {hidden_text(spec.hidden)} on {spec.dataset} needs about "
                         f"{needed / 1e9:.1f} GB of memory to train, and {free / 1e9:.1f} GB are available; choose "
                         "smaller --hidden widths")


# Training work (networks x epochs x training rows) from which a second worker process repays its
# start-up (TensorFlow's import and the compilation, about 9 s): measured on 2 cores with the
# paper's tanh network, 2 seeds x 1500 epochs took 23 s in one process and 27 s on two workers.
_WORK_PER_WORKER = 2.5e7


def default_workers(spec: TrainSpec, n_networks: int) -> int:
    """The processes `train` uses unless told: one per core (at most one per network) when the
    training is long enough to repay a worker's start-up, else 1 (this process)."""
    work = n_networks * spec.total_epochs * len(spec.data().split(spec.split, spec.split_seed)[0])
    return max(1, min(os.cpu_count() or 1, n_networks, int(work // _WORK_PER_WORKER)))


# A quantized model runs member by member without XLA (`ib_keras.networks.layers.EnsembleDense`), so its
# graph grows with its members: on this 2-core machine 12 members took 13 epochs/s and 50 members 0.4.
QUANTIZED_MEMBERS = 10


def members_per_model(n_networks: int, spec: TrainSpec) -> int:
    """How many networks of ``spec`` to train in one model: all of them unless memory says otherwise,
    at most QUANTIZED_MEMBERS of quantized networks."""
    cap = QUANTIZED_MEMBERS if spec.quantize_bits else n_networks
    return max(1, min(n_networks, cap, int(_MEMORY_SHARE * available_memory() // member_bytes(spec))))


# Measured on this project's 2-core machine (docs/performance.md): the ensemble trainer's epoch of
# MNIST's 784-1024-20-20-20-10 ran at 72 % of the machine's NumPy matrix-product rate (143 of 200
# GFLOP/s), and a recorded epoch (a forward pass over every row, a gradient pass over the training
# rows, outside XLA, and the writing) cost about two epochs of training: 8 networks x (100 epochs,
# 36 recorded) took 42 min where this model says 33; a minibatch step of the small networks costs
# _NETWORK_STEP_SECONDS per network whatever its width (the baselines' 50 saxe networks: 130,000
# steps in 522 s on 2 workers; the quick run's 3 chelombiev networks: 19,500 in about 10 s on one).
_EFFICIENCY = 0.7
_CONV_EFFICIENCY = 0.08  # of a convolution's products: see `training_seconds`
_EPOCHS_PER_RECORDING = 2.0
_NETWORK_STEP_SECONDS = 1.6e-4
_QUANTIZED_STEP_SECONDS = 5e-4  # a quantized network's step, without XLA: 12 of 8000 epochs took about 10 min


def network_epoch_flops(spec: TrainSpec, convolutions: bool | None = None) -> float:
    """Floating-point operations of one network's epoch of training: per training row 2 per
    multiply-add of a weighted layer forward (a weight of a Dense layer; a weight at every output
    position of a convolution), 2 for its gradient and 2 for the gradient of the layer's input
    (none for the first layer, whose input is the data); pooling left out. ``convolutions`` True
    (False) counts the convolutions' (the Dense layers') alone."""
    data = spec.data()
    rows = len(data.split(spec.split, spec.split_seed)[0])
    kinds = weighted_layers(spec.hidden, spec.input_shape(), data.n_classes)
    return rows * sum((4 if i == 0 else 6) * layer.multiply_adds for i, layer in enumerate(kinds)
                      if convolutions is None or (len(layer.shape) == 3) == convolutions)


def training_seconds(spec: TrainSpec, networks: int, gflops: float | None = None) -> float:
    """Rough wall time (seconds) to train and record ``networks`` networks of ``spec`` here: their
    products at _EFFICIENCY of ``gflops`` (default: `matmul_gflops` measured now), a convolution's
    at _CONV_EFFICIENCY (Wickstrom et al.'s CNN, 4 networks of 10 epochs, every epoch recorded,
    took 21 min on this project's 2-core machine, about 8 % of its matrix-product rate), a
    recorded epoch counted as _EPOCHS_PER_RECORDING epochs, plus _NETWORK_STEP_SECONDS per network
    and minibatch step (_QUANTIZED_STEP_SECONDS for quantized networks) shared by the `default_workers`
    processes."""
    if not networks:
        return 0.0
    rows = len(spec.data().split(spec.split, spec.split_seed)[0])
    steps = -(-rows // get_protocol(spec.protocol).batch_size) * spec.total_epochs
    epochs = spec.total_epochs + _EPOCHS_PER_RECORDING * len(spec.record_epochs())
    rate = 1e9 * (gflops or matmul_gflops())
    products = networks * epochs * (network_epoch_flops(spec, False) / (_EFFICIENCY * rate)
                                    + network_epoch_flops(spec, True) / (_CONV_EFFICIENCY * rate))
    step = _QUANTIZED_STEP_SECONDS if spec.quantize_bits else _NETWORK_STEP_SECONDS
    return products + networks * steps * step / default_workers(spec, networks)


def duration_text(seconds: float) -> str:
    """A wall time in words: "40 s", "12 min", "2.3 h"."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"
