"""Watching a training: each network's information plane in TensorBoard while it trains, estimated
with the estimate stage's own code (`ib_keras.estimate`).

Public names (``from ib_keras.live import InformationPlaneLogger``):
    information_plane: InformationPlaneLogger
    view: LiveView
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "information_plane": ("InformationPlaneLogger",),
    "view": ("LiveView",),
})
