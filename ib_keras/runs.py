"""Training one configuration's networks into run files: what to train, in which groups, and where.

A configuration (`TrainSpec`) is an activation, an L2 strength and a protocol; its networks
differ only in their seed. Complete files of the same configuration are kept; incomplete or
unreadable or truncated ones are trained again; a complete file of another configuration, or a
file this ib_keras did not write, is an error unless ``overwrite`` is set.
"""

from __future__ import annotations

import os
import platform
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import h5py
import keras
import numpy as np
import tensorflow as tf

from ib_keras import __version__
from ib_keras.activations import check_activation
from ib_keras.callbacks import ActivationRecorder, TrainingProgress
from ib_keras.data import TRAIN_FRACTION, check_split, split_indices, tishby_dataset
from ib_keras.models import BATCH_SIZE, HIDDEN_UNITS, LEARNING_RATE, N_CLASSES, build_ensemble, kernel_stddevs
from ib_keras.protocols import get_protocol
from ib_keras.schedules import log_spaced_epochs
from ib_keras.storage import ForeignFileError, RunFileError, read_run, run_file_bytes, run_path
from ib_keras.training import fit_ensemble
from ib_keras.workers import worker_pool

# Peak memory of one member while training and recording on 4096 inputs, with a wide margin.
_BYTES_PER_MEMBER = 8 * 2**20
_MEMORY_SHARE = 0.25  # of the memory available when training starts
_DISK_MARGIN = 1.1


@dataclass(frozen=True)
class TrainSpec:
    """One configuration of the paper's network; every network of it differs only in seed.

    ``epochs`` defaults to the protocol's; ``record_points`` replaces the protocol's recording
    schedule by that many log-spaced epochs.
    """

    activation: str
    l2: float = 0.0
    protocol: str = "chelombiev"
    epochs: int | None = None
    split: str = "random"
    split_seed: int = 0
    record_points: int | None = None

    def __post_init__(self):
        check_activation(self.activation)
        get_protocol(self.protocol)
        check_split(self.split)
        if self.l2 < 0 or not np.isfinite(self.l2):
            raise ValueError(f"--l2 must be a finite number >= 0, got {self.l2}")
        if self.epochs is not None and self.epochs < 1:
            raise ValueError(f"--epochs must be >= 1, got {self.epochs}")
        if self.record_points is not None and self.record_points < 1:
            raise ValueError(f"--record-points must be >= 1, got {self.record_points}")

    @property
    def total_epochs(self) -> int:
        return self.epochs if self.epochs is not None else get_protocol(self.protocol).epochs

    def record_epochs(self) -> np.ndarray:
        """The epochs recorded (int64, from 0 to ``total_epochs``)."""
        if self.record_points is not None:
            return log_spaced_epochs(self.total_epochs, self.record_points)
        return get_protocol(self.protocol).record_epochs(self.total_epochs)

    def config(self, seed: int) -> dict:
        """The JSON description stored with network ``seed``: every hyperparameter and versions."""
        return {
            **asdict(self),
            "epochs": self.total_epochs,
            "hidden_units": list(HIDDEN_UNITS),
            "n_classes": N_CLASSES,
            "kernel_stddev": kernel_stddevs(self.activation, self.protocol),
            "optimizer": "adam",
            "learning_rate": LEARNING_RATE,
            "batch_size": BATCH_SIZE,
            "loss": "categorical_crossentropy",
            "train_fraction": TRAIN_FRACTION,
            "dataset": "tishby_var_u",
            "seed": seed,
            "versions": _versions(),
        }


def _versions() -> dict:
    return {
        "ib_keras": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "h5py": h5py.__version__,
    }


def _differences(stored: dict, wanted: dict, ignore: tuple[str, ...] = ("versions",)) -> str:
    """The settings in which two configs differ, as "name stored vs wanted, ..."; empty if none."""
    keys = sorted((set(stored) | set(wanted)) - set(ignore))
    return ", ".join(f"{key} {stored.get(key)} vs {wanted.get(key)}" for key in keys if stored.get(key) != wanted.get(key))


@dataclass
class TrainPlan:
    """Which seeds of a configuration still need training, and where every file goes."""

    spec: TrainSpec
    out: Path
    todo: list[int]
    done: list[int]

    def path(self, seed: int) -> Path:
        return run_path(self.out, self.spec.activation, self.spec.l2, seed)

    def disk_bytes(self) -> int:
        """Upper bound of the disk the files still to train will take."""
        units = [*HIDDEN_UNITS, N_CLASSES]
        return len(self.todo) * run_file_bytes(2**12, units, len(self.spec.record_epochs()))


def plan_training(spec: TrainSpec, seeds: Sequence[int], out: str | Path, overwrite: bool = False) -> TrainPlan:
    """Sort ``seeds`` into those to train and those already complete under ``out``.

    Raises ValueError when, and ``overwrite`` is off, a complete file holds another configuration
    or a readable file was not written by this ib_keras (another program's HDF5, another schema).
    """
    plan = TrainPlan(spec, Path(out), [], [])
    for seed in seeds:
        path = plan.path(seed)
        if overwrite or not path.exists():
            plan.todo.append(seed)
            continue
        try:
            run = read_run(path, activity=False)
        except ForeignFileError as error:
            raise ValueError(f"{error}; refusing to replace a file this ib_keras did not write: move it away, "
                             "or pass --overwrite") from error
        except RunFileError:
            plan.todo.append(seed)  # unreadable or truncated: a killed run, trained again
            continue
        if not run.complete:
            plan.todo.append(seed)
        elif not _differences(run.config, spec.config(seed)):
            plan.done.append(seed)
        else:
            raise ValueError(
                f"{path} holds a complete run of another configuration ({_differences(run.config, spec.config(seed))}); "
                "choose another --out, or pass --overwrite to replace it"
            )
    _check_neighbours(plan, seeds)
    return plan


def _check_neighbours(plan: TrainPlan, seeds: Sequence[int]) -> None:
    """ValueError when a readable run of another seed in the directory has another configuration:
    one directory holds one configuration, so that its runs can be compared and tabled together."""
    directory = plan.path(0).parent
    ours = {plan.path(seed) for seed in seeds}
    for path in sorted(directory.glob("seed-*.h5")) if directory.is_dir() else []:
        if path in ours:
            continue
        try:
            stored = read_run(path, activity=False).config
        except RunFileError:
            continue
        differences = _differences(stored, plan.spec.config(0), ignore=("versions", "seed"))
        if differences:
            raise ValueError(f"{directory} holds runs of another configuration ({path.name}: {differences}); "
                             "keep each configuration in its own --out")


def check_output_dir(directory: Path) -> None:
    """Make the output directory; OSError-free or ValueError naming the directory and the fix."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"cannot create output directory {directory} ({error.strerror}); choose another --out") from error
    if not os.access(directory, os.W_OK):
        raise ValueError(f"output directory {directory} is not writable; choose another --out")


def check_free_disk(plan: TrainPlan) -> None:
    """ValueError when the disk under ``plan.out`` has less free space than the plan needs."""
    existing = plan.out
    while not existing.exists():
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    needed = int(_DISK_MARGIN * plan.disk_bytes())
    if free < needed:
        raise ValueError(
            f"not enough free disk under {existing}: need {needed / 1e9:.2f} GB, have {free / 1e9:.2f} GB; "
            "free space, choose another --out, or record fewer epochs (--record-points)"
        )


def members_per_model(n_networks: int) -> int:
    """How many networks to train in one model: all of them unless memory says otherwise."""
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        available = 4 * 2**30
    return max(1, min(n_networks, int(_MEMORY_SHARE * available) // _BYTES_PER_MEMBER))


def _one_thread() -> None:
    """Worker set-up: TensorFlow on one thread, so that workers share the cores without contention."""
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def train_plan(plan: TrainPlan, progress: bool = True, workers: int = 1) -> list[Path]:
    """Train every seed in ``plan.todo`` into its run file; return the files.

    With ``workers`` > 1 the seeds are split into that many contiguous shares, each trained by a
    worker process on one thread: on small networks two such workers train about 1.4x as fast as
    one process on two threads. A network's file is the same however the seeds are split.
    """
    shares = [[int(seed) for seed in share] for share in np.array_split(plan.todo, max(1, min(workers, len(plan.todo))))]
    if len(shares) == 1:
        _train_seeds(plan, plan.todo, progress)
    else:
        with worker_pool(len(shares), _one_thread) as pool:
            futures = [pool.submit(_train_seeds, plan, share, progress and i == 0) for i, share in enumerate(shares)]
            for future in futures:
                future.result()
    return [plan.path(seed) for seed in plan.todo]


def _train_seeds(plan: TrainPlan, seeds: Sequence[int], progress: bool) -> None:
    """Train ``seeds`` of ``plan``, K at a time as memory allows; a progress bar if ``progress``."""
    spec = plan.spec
    x, y = tishby_dataset()
    train_idx, test_idx = split_indices(len(x), spec.split, spec.split_seed)
    group_size = members_per_model(len(seeds))
    for start in range(0, len(seeds), group_size):
        group = seeds[start : start + group_size]
        model = build_ensemble(spec.activation, group, spec.l2, spec.protocol, input_dim=x.shape[1])
        recorder = ActivationRecorder([plan.path(seed) for seed in group], x, y, train_idx, test_idx,
                                      spec.record_epochs(), configs=[spec.config(seed) for seed in group])
        callbacks = [recorder]
        if progress:  # every share trains at the same pace: one bar, for all of the plan's networks
            callbacks.append(TrainingProgress(spec.total_epochs, len(plan.todo), plan.path(0).parent.name))
        try:
            fit_ensemble(model, x[train_idx], y[train_idx], group, spec.total_epochs, callbacks=callbacks)
        finally:
            recorder.close()
        keras.backend.clear_session()
