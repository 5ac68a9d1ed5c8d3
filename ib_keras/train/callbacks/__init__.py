"""Keras callbacks of the train stage, one per file: the activity recorder (one run file per
network), a checkpoint to resume from, and a progress bar over many networks.

Public names (``from ib_keras.train.callbacks import ActivationRecorder``):
    activation_recorder: ActivationRecorder
    checkpoint: TrainingCheckpoint, CHECKPOINT_SECONDS
    progress: TrainingProgress
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "activation_recorder": ("ActivationRecorder",),
    "checkpoint": ("TrainingCheckpoint", "CHECKPOINT_SECONDS"),
    "progress": ("TrainingProgress",),
})
