"""TrainingProgress: a progress bar over epochs for many networks training together."""

from __future__ import annotations

import sys

import keras
from tqdm import tqdm


class TrainingProgress(keras.callbacks.Callback):
    """A tqdm bar over epochs, naming how many networks train and the time left (ETA).

    Args:
        epochs: total epochs of the training.
        networks: how many networks train together.
        description: text in front of the bar, e.g. the configuration.

    Example:

    ```python
    fit_ensemble(model, x, y, seeds, 8000, callbacks=[TrainingProgress(8000, len(seeds), "relu")])
    ```
    """

    def __init__(self, epochs: int, networks: int, description: str = ""):
        super().__init__()
        self.epochs = epochs
        self.networks = networks
        self.description = description
        self._bar = None

    def on_train_begin(self, logs=None):
        self._bar = tqdm(
            total=self.epochs,
            initial=getattr(self.model, "_initial_epoch", None) or 0,  # a training resumed from a checkpoint
            desc=f"{self.description} x{self.networks} networks",
            unit="epoch",
            file=sys.stderr,
            mininterval=0.5 if sys.stderr.isatty() else 30.0,
            dynamic_ncols=True,
        )

    def on_epoch_end(self, epoch, logs=None):
        self._bar.update(1)

    def on_train_end(self, logs=None):
        self._bar.close()
