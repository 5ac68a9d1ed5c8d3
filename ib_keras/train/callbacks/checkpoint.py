"""TrainingCheckpoint: a training of hours resumes where it stopped (Keras' ``BackupAndRestore``,
written in one rename).

Keras' own ``BackupAndRestore`` writes the weights, then the epoch, in two files: a process killed
between them resumes the new weights at the old epoch and trains that epoch twice. This callback
keeps the same lifecycle (restore in ``on_train_begin`` by setting ``model._initial_epoch``, the
attribute Keras' ``fit`` and `ib_keras.train.fit.fit_ensemble` start from; save at an epoch's
end) with one file, replaced whole: every variable of the model (weights, BatchNormalization's
statistics, a noise layer's random state), every variable of the optimizer (its step count,
its moments), the epoch, and the configs of the networks it belongs to.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from ib_keras.system.atomic import atomic_path
from ib_keras.train.checkpoint_file import checkpoint_identity, read_checkpoint

CHECKPOINT_SECONDS = 60.0  # at most this much training lost to a kill, at one save per minute


class TrainingCheckpoint(keras.callbacks.Callback):
    """Saves the training's state to ``path`` at the end of an epoch, when ``every_seconds`` have
    passed since the last save (0: every epoch), and restores it when training begins.

    Place it before an `ib_keras.train.callbacks.ActivationRecorder` in the callbacks: its restored
    epoch is the one the recorder continues its files from, and its save at the end of epoch e is
    the state the recorder records as epoch e + 1.

    Args:
        path: the checkpoint file (``.npz``), written by one rename.
        configs: what the checkpoint belongs to (JSON-serialisable, such as the networks' configs
            without their versions): a checkpoint of other configs is not restored.
        every_seconds: the least wall time between two saves.
    """

    def __init__(self, path: str | Path, configs: Sequence[dict], every_seconds: float = CHECKPOINT_SECONDS):
        super().__init__()
        self.path = Path(path)
        self.identity = checkpoint_identity(configs)
        self.every_seconds = every_seconds
        self._last_save = 0.0

    def epoch(self) -> int:
        """The epochs the checkpoint has trained (0: no usable checkpoint: none, damaged, or of
        other configs)."""
        state = self._read()
        return 0 if state is None else int(state["epoch"])

    def remove(self) -> None:
        """Delete the checkpoint (its training is complete, or cannot continue)."""
        self.path.unlink(missing_ok=True)

    def on_train_begin(self, logs=None):
        self._last_save = time.monotonic()
        state = self._read()
        if state is None:
            return
        variables, optimizer = self._variables()
        if len(state["variables"]) != len(variables) or len(state["optimizer"]) != len(optimizer) or any(
                saved.shape != tuple(v.shape) for saved, v in zip([*state["variables"], *state["optimizer"]],
                                                                   [*variables, *optimizer])):
            raise ValueError(f"{self.path}: a checkpoint of another model (its variables' shapes differ); "
                             "delete it to train afresh")
        for variable, value in zip([*variables, *optimizer], [*state["variables"], *state["optimizer"]]):
            variable.assign(value)
        self.model._initial_epoch = int(state["epoch"])  # where Keras' fit and fit_ensemble start

    def on_epoch_end(self, epoch, logs=None):
        if time.monotonic() - self._last_save >= self.every_seconds:
            self._save(epoch + 1)
            self._last_save = time.monotonic()

    def _variables(self) -> tuple[list, list]:
        self.model.optimizer.build(self.model.trainable_variables)  # no-op once built
        return list(self.model.variables), list(self.model.optimizer.variables)

    def _save(self, epoch: int) -> None:
        variables, optimizer = self._variables()
        arrays = {f"v{i}": np.asarray(v) for i, v in enumerate(variables)}
        arrays |= {f"o{i}": np.asarray(v) for i, v in enumerate(optimizer)}
        with atomic_path(self.path) as partial:
            with open(partial, "wb") as file:
                np.savez(file, epoch=epoch, identity=self.identity, **arrays)
                file.flush()
                os.fsync(file.fileno())

    def _read(self) -> dict | None:
        """The checkpoint's epoch and values, or None when there is none usable (none, damaged, or
        of other configs)."""
        state = read_checkpoint(self.path)
        return state if state is not None and state["identity"] == self.identity else None
