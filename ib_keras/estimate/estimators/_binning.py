"""Binning estimators: activity -> per-unit bin indices -> discrete entropies, in bits.

The network is deterministic and X is the set of N distinct inputs, uniformly weighted, so with
T the row of a sample's bin indices: I(X;T) = H(T) and I(T;Y) = H(T) - sum_y p(y) H(T | Y=y).
"""

from __future__ import annotations

import numpy as np

LAYER_MAX = "layer_max"  # uniform's hi: the layer's largest activity at this epoch
LAYER_MIN = "layer_min"  # uniform's lo: its least
BY_ACTIVATION = "activation"  # uniform's lo and hi, EBAB's low: set by each layer's activation (a request's value)
_CODE_LIMIT = 2**62  # mixed-radix state codes stay below this before they are renumbered
_COUNTED_EDGES = 256  # up to here counting edges beats NumPy's binary search (5.6x at 32 edges)


def _digitize(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.digitize(values, edges)`` for non-decreasing edges, that is the number of edges <= v.

    For the few edges of these estimators, counting edge by edge into int16 is several times
    faster than NumPy's binary search, and gives the same indices; for many edges it is not.
    """
    if len(edges) > _COUNTED_EDGES:
        return np.digitize(values, edges)
    bins = np.zeros(values.shape, dtype=np.int16)
    for edge in edges:
        np.add(bins, values >= edge, out=bins, casting="unsafe")
    return bins


def uniform_bins(activity: np.ndarray, n_bins: int, lo: float, hi: float) -> np.ndarray:
    """Shwartz-Ziv & Tishby (2017): edges = linspace(lo, hi, n_bins) (as float32, as in their
    code); value v goes to bin digitize(v, edges). (N, d) float32 -> (N, d) integer."""
    edges = np.linspace(lo, hi, n_bins).astype(np.float32)
    return _digitize(activity, edges)


def fixed_width_bins(activity: np.ndarray, bin_size: float) -> np.ndarray:
    """Saxe et al. (2018): bin floor(v / bin_size), divided in float32 as in their code."""
    return np.floor(activity / np.float32(bin_size)).astype(np.int64)


def ebab_edges(activity: np.ndarray, n_bins: int, low: float | None) -> np.ndarray:
    """Entropy-based adaptive binning (Chelombiev et al. 2019): edges such that every bin holds
    the same number of unique activity levels of this layer (all units and samples pooled).

    u = sorted unique values with ``low`` removed (``low=None``: the minimum activity);
    edges = [low, u[floor(k |u| / n_bins)] for k = 0..n_bins-1, u[-1]], as float32. The index is
    computed as the authors did, ``int(k * (|u| / n_bins))``, float rounding included.
    """
    levels = np.unique(activity)
    if low is None:
        low = levels[0]
    levels = levels[levels != np.float32(low)]
    if levels.size == 0:
        return np.array([low], dtype=np.float32)
    positions = (np.arange(n_bins) * (levels.size / n_bins)).astype(np.int64)
    return np.concatenate([[low], levels[positions], levels[-1:]]).astype(np.float32)


def ebab_bins(activity: np.ndarray, n_bins: int, low: float | None) -> np.ndarray:
    """EBAB bin index digitize(v, edges) of every value: (N, d) float32 -> (N, d) integer."""
    return _digitize(activity, ebab_edges(activity, n_bins, low))


def _state_codes(bins: np.ndarray) -> np.ndarray:
    """One int64 per row, equal iff the rows of bin indices are equal: (N, d) -> (N,)."""
    codes = np.zeros(len(bins), dtype=np.int64)
    for column in bins.T:
        column = column - column.min()
        radix = int(column.max()) + 1
        if (int(codes.max()) + 1) * radix >= _CODE_LIMIT:
            codes = np.unique(codes, return_inverse=True)[1].astype(np.int64)
        codes = codes * radix + column
    return codes


def _entropy_bits(counts: np.ndarray) -> float:
    p = counts / counts.sum()
    return float(-np.sum(p * np.log2(p)))


def binned_information(bins: np.ndarray, classes: np.ndarray, n_classes: int) -> tuple[float, float]:
    """(I(X;T), I(T;Y)) in bits from (N, d) bin indices and (N,) classes in 0..n_classes-1.

    One sort of the joint (state, class) codes gives every count H(T) and H(T|Y) need.
    """
    codes = _state_codes(bins)
    if int(codes.max()) >= _CODE_LIMIT // n_classes:
        codes = np.unique(codes, return_inverse=True)[1].astype(np.int64)
    joint, counts = np.unique(codes * n_classes + classes, return_counts=True)
    state, label = np.divmod(joint, n_classes)
    state_starts = np.flatnonzero(np.r_[True, state[1:] != state[:-1]])
    h_t = _entropy_bits(np.add.reduceat(counts, state_starts))
    n = len(codes)
    h_t_given_y = sum(
        (counts[label == c].sum() / n) * _entropy_bits(counts[label == c]) for c in range(n_classes)
    )
    return h_t, h_t - h_t_given_y


def _uniform(activity, classes, n_classes, n_bins, lo, hi):
    """Equal-width bins over [lo, hi] (``hi="layer_max"``, ``lo="layer_min"``: this layer-epoch's range)."""
    if hi == LAYER_MAX:
        hi = float(activity.max())
    if lo == LAYER_MIN:
        lo = float(activity.min())
    low, high = float(activity.min()), float(activity.max())
    if low < np.float32(lo) or high > np.float32(hi):
        raise ValueError(f"uniform: the activity spans [{low:g}, {high:g}], beyond the bins' range [{lo:g}, {hi:g}]: "
                         "values outside would all fall into the two end bins; widen lo and hi, or give "
                         f"hi='{LAYER_MAX}'")
    return binned_information(uniform_bins(activity, n_bins, lo, hi), classes, n_classes)


def _fixed(activity, classes, n_classes, bin_size):
    return binned_information(fixed_width_bins(activity, bin_size), classes, n_classes)


def _ebab(activity, classes, n_classes, n_bins, low):
    return binned_information(ebab_bins(activity, n_bins, low), classes, n_classes)


BINNING = {"uniform": _uniform, "fixed": _fixed, "ebab": _ebab}  # (I(X;T), I(T;Y)) in bits of a binning, by name
