"""ib-keras: information-plane analysis of small Keras networks.

A TensorFlow/Keras reproduction of Chelombiev, Houghton & O'Donnell, "Adaptive Estimators Show
Information Compression in Deep Neural Networks", ICLR 2019.
"""

import os

# Unless the user chose otherwise: TensorFlow's oneDNN kernels change float rounding between
# runs and machines, and measured no faster on these small networks; keep results reproducible.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"
