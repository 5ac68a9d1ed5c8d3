"""ib-keras: information-plane analysis of small Keras networks.

A TensorFlow/Keras reproduction of Chelombiev, Houghton & O'Donnell, "Adaptive Estimators Show
Information Compression in Deep Neural Networks", ICLR 2019.
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
