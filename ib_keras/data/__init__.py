"""The data sets: Shwartz-Ziv & Tishby's synthetic task generated exactly, its train/test splits,
and the other inputs `train --dataset` takes (scikit-learn's digits, a user's .mat or .npz), and
MNIST through the package registry.

Public names (``from ib_keras.data import tishby_dataset``):
    tishby: tishby_dataset, load_mat, split_indices, check_split, SPLITS, TRAIN_FRACTION
    datasets: Dataset, load_dataset, TISHBY, DIGITS
    mnist: mnist, Mnist, cache_dir
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "tishby": ("tishby_dataset", "load_mat", "split_indices", "check_split", "SPLITS", "TRAIN_FRACTION"),
    "datasets": ("Dataset", "load_dataset", "TISHBY", "DIGITS"),
    "mnist": ("mnist", "Mnist", "cache_dir"),
})
