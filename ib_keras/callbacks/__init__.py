"""Keras callbacks of ib_keras."""

from ib_keras.callbacks.activation_recorder import ActivationRecorder
from ib_keras.callbacks.information_plane import InformationPlaneLogger
from ib_keras.callbacks.progress import TrainingProgress

__all__ = ["ActivationRecorder", "InformationPlaneLogger", "TrainingProgress"]
