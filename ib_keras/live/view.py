"""LiveView: the live information plane asked of `train --tensorboard`, made into one
`InformationPlaneLogger` per group of networks training together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ib_keras.train.runs import TrainPlan


@dataclass(frozen=True)
class LiveView:
    """Where `InformationPlaneLogger` writes TensorBoard runs while networks train (one run per
    network, ``directory/<configuration>/seed-NNN``) and with which estimator setting. Given to
    `ib_keras.train.runs.train_configuration` as its ``extra_callbacks``."""

    directory: Path
    estimator: str = "ebab"

    def __call__(self, plan: TrainPlan, group: Sequence[int], x: np.ndarray, y: np.ndarray) -> list:
        """The logger of ``group``'s networks: ``x`` (N, features) the inputs, ``y`` (N,) the labels."""
        from ib_keras.live.information_plane import InformationPlaneLogger

        spec = plan.spec
        return [InformationPlaneLogger(self.directory / plan.path(0).parent.name, x, y, spec.record_epochs(),
                                       self.estimator, [f"seed-{seed:03d}" for seed in group])]
