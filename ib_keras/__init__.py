"""ib-keras: information-plane analysis of small Keras networks.

A TensorFlow/Keras reproduction of Chelombiev, Houghton & O'Donnell, "Adaptive Estimators Show
Information Compression in Deep Neural Networks", ICLR 2019.

The package's folders are the pipeline's stages, each importing only the ones before it:
``system``, ``scaleout`` -> ``data`` -> ``networks`` -> ``runfile`` -> ``train`` -> ``estimate``
-> ``analysis`` -> ``plots`` -> ``live`` -> ``studies`` -> ``cli`` (docs/contributing.md).

The names a user needs, importable from here without starting TensorFlow (the callbacks start it
when first used):
    ActivationRecorder, InformationPlaneLogger: Keras callbacks recording a network's activity to a
        run file, and its information plane to TensorBoard as it trains
    read_run, write_run_arrays: one run file's contents; a run file from NumPy arrays (any framework)
    estimate_mi: I(X;T) and I(T;Y), in bits, of one layer's activity
    parse_estimators, estimate_runs, read_table: the estimate stage over run files, and its table
    load: an MI table or a summary directory, as the figures and reports take it
    plot_plane: the information plane of a run, a directory of runs or a table
"""

import os
import sys
import warnings

# Unless the user chose otherwise: TensorFlow's oneDNN kernels change float rounding between
# runs and machines, and measured no faster on these small networks; keep results reproducible.
# TensorFlow reads the setting once, when it is first imported: imported before ib_keras (a
# notebook's `import keras` first), it keeps oneDNN on, and that is said rather than hidden.
if "TF_ENABLE_ONEDNN_OPTS" not in os.environ and "tensorflow" in sys.modules:
    warnings.warn("TensorFlow was imported before ib_keras, so its oneDNN kernels stay on and float rounding differs "
                  "from runs made with them off (ib_keras' default): import ib_keras first, or set "
                  "TF_ENABLE_ONEDNN_OPTS=0 (or =1 to keep them) before Python starts", stacklevel=2)
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"

from ib_keras._lazy import lazy_names  # noqa: E402 (after the oneDNN setting, which must come first)

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "train.callbacks.activation_recorder": ("ActivationRecorder",),
    "live.information_plane": ("InformationPlaneLogger",),
    "runfile.reader": ("read_run",),
    "runfile.arrays": ("write_run_arrays",),
    "estimate.estimators.mi": ("estimate_mi",),
    "estimate.settings": ("parse_estimators",),
    "estimate.stage": ("estimate_runs",),
    "estimate.table": ("read_table",),
    "analysis.summary": ("load",),
    "plots.one_plane": ("plot_plane",),
})
