"""Mutual information I(X;T) and I(T;Y), in bits, of one layer's activity T at one epoch.

X is the set of the N distinct inputs, uniformly weighted, and the network is deterministic.

Methods (parameters and their defaults):

- ``"uniform"`` (n_bins=30, lo=-1.0, hi=1.0): Shwartz-Ziv & Tishby (2017), equal-width bins over
  a fixed range; ``hi="layer_max"`` takes the layer's largest activity at this epoch.
- ``"fixed"`` (bin_size=0.07): Saxe et al. (2018), bins of fixed width.
- ``"ebab"`` (n_bins=30, low=None): Chelombiev et al. (2019), entropy-based adaptive binning:
  per layer and epoch, each bin holds the same number of unique activity levels.
- ``"kde"`` (noise_variance=1e-3, bound="upper"): Saxe et al. (2018), T' = T + N(0, s2 I) with
  the Kolchinsky & Tracey (2017) upper (KL) or lower (Bhattacharyya) bound on H(T').
- ``"akde"`` (variance_scale=0.1, bound="upper"): Chelombiev et al. (2019), adaptive KDE: as
  ``"kde"`` with s2 = variance_scale * max|T| of this layer at this epoch. The paper's constant
  is not published; 0.1 is this project's default.

References:
    Shwartz-Ziv & Tishby, Opening the Black Box of Deep Neural Networks via Information, 2017.
    Saxe et al., On the Information Bottleneck Theory of Deep Learning, ICLR 2018.
    Kolchinsky & Tracey, Estimating Mixture Entropy with Pairwise Distances, Entropy 2017.
    Chelombiev, Houghton & O'Donnell, Adaptive Estimators Show Information Compression in Deep
    Neural Networks, ICLR 2019.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np

from ib_keras.estimators._binning import binned_information, ebab_bins, fixed_width_bins, uniform_bins
from ib_keras.estimators._kde import kde_information

METHODS: dict[str, dict] = {
    "uniform": {"n_bins": 30, "lo": -1.0, "hi": 1.0},
    "fixed": {"bin_size": 0.07},
    "ebab": {"n_bins": 30, "low": None},
    "kde": {"noise_variance": 1e-3, "bound": "upper"},
    "akde": {"variance_scale": 0.1, "bound": "upper"},
}
BOUNDS = ("upper", "lower")
LAYER_MAX = "layer_max"
# More bins than any sample count this tool handles (a bin's counts cost memory per unit even when
# empty): 10^8 bins took 48 s and 2.2 GB for one layer-epoch.
MAX_BINS = 1_000_000


def _uniform(activity, classes, n_classes, n_bins, lo, hi):
    if hi == LAYER_MAX:
        hi = float(activity.max())
    return binned_information(uniform_bins(activity, n_bins, lo, hi), classes, n_classes)


def _fixed(activity, classes, n_classes, bin_size):
    return binned_information(fixed_width_bins(activity, bin_size), classes, n_classes)


def _ebab(activity, classes, n_classes, n_bins, low):
    return binned_information(ebab_bins(activity, n_bins, low), classes, n_classes)


_BINNING = {"uniform": _uniform, "fixed": _fixed, "ebab": _ebab}


def _kde_setting(activity: np.ndarray, method: str, params: dict) -> tuple[float, str]:
    """(noise variance s2, bound) of a kde or akde request; akde's s2 = variance_scale * max|T|."""
    if method == "kde":
        return params["noise_variance"], params["bound"]
    largest = float(np.abs(activity).max())
    if largest == 0.0:
        raise ValueError("akde: the activity is all zero, so its noise variance variance_scale * max|T| would be 0")
    return params["variance_scale"] * largest, params["bound"]


# What works in the float32 the estimators compute in: bin indices activity / bin_size stay far
# inside int64, and kernel variances (and the largest activity times variance_scale) stay normal.
_POSITIVE_RANGES = {"bin_size": (1e-9, 1e9), "noise_variance": (1e-30, 1e30), "variance_scale": (1e-30, 1e30)}


def resolve_params(method: str, **params) -> dict:
    """The method's full parameters: its defaults updated by ``params``, each checked.

    Raises ValueError naming an unknown method or parameter, or a bad value.
    """
    if method not in METHODS:
        raise ValueError(f"unknown estimator '{method}'; valid estimators: {', '.join(METHODS)}")
    unknown = set(params) - set(METHODS[method])
    if unknown:
        raise ValueError(
            f"{method}: unknown parameter(s) {', '.join(sorted(unknown))}; valid: {', '.join(METHODS[method])}"
        )
    resolved = {**METHODS[method], **params}
    for name, value in resolved.items():
        if isinstance(value, bool) and name != "bound":  # JSON's true would pass as the number 1
            raise ValueError(f"{method}: {name} must be a number, not {value!r}")
        if name == "n_bins" and not (isinstance(value, Integral) and 1 <= value <= MAX_BINS):
            raise ValueError(f"{method}: n_bins must be a whole number from 1 to {MAX_BINS}, got {value!r}")
        if name in _POSITIVE_RANGES:
            low, high = _POSITIVE_RANGES[name]
            if not (isinstance(value, Real) and low <= value <= high):
                raise ValueError(f"{method}: {name} must be a number from {low:g} to {high:g}, got {value!r}")
        if name == "bound" and value not in BOUNDS:
            raise ValueError(f"{method}: bound must be one of {', '.join(BOUNDS)}, got {value!r}")
        if name == "low" and value is not None and not (isinstance(value, Real) and math.isfinite(value)):
            raise ValueError(f"{method}: low must be a finite number or None, got {value!r}")
    if method == "uniform":
        lo, hi = resolved["lo"], resolved["hi"]
        if not (isinstance(lo, Real) and math.isfinite(lo)):
            raise ValueError(f"uniform: lo must be a finite number, got {lo!r}")
        if hi != LAYER_MAX and not (isinstance(hi, Real) and math.isfinite(hi) and hi > lo):
            raise ValueError(f"uniform: hi must be a finite number > lo ({lo}) or '{LAYER_MAX}', got {hi!r}")
    return resolved


def check_finite(activity: np.ndarray) -> None:
    """ValueError counting the NaN and inf values of ``activity``, if it holds any."""
    bad = np.count_nonzero(~np.isfinite(activity))
    if bad:
        raise ValueError(f"activity has {bad} NaN or inf values of {activity.size}; the network diverged")


def estimate_mi_many(
    activity: np.ndarray, labels: np.ndarray, requests: Sequence[tuple[str, dict]]
) -> list[tuple[float, float]]:
    """Estimate (I(X;T), I(T;Y)) in bits for one layer at one epoch under several estimators.

    Every ``kde``/``akde`` request shares one pass over the pairs of samples (their kernel
    variances differ, the distances do not), so asking for several KDE settings together costs
    far less than asking for each alone.

    Args:
        activity: (N, d) activity T of the layer's d units on the N distinct inputs; computed on
            its float32 values, as recorded.
        labels: (N,) integer labels Y, at least two classes.
        requests: (method, params) pairs: a method of ``METHODS`` (see the module docstring)
            and the parameters that override its defaults.

    Returns:
        One (i_xt, i_ty) pair per request, in order, both in bits.

    Raises:
        ValueError: NaN or inf activity, mismatched shapes, a single class, an unknown method or
            parameter, or a bad parameter value (n_bins < 1, a variance <= 0, all-zero activity
            for akde, ...).
    """
    requests = [(method, resolve_params(method, **params)) for method, params in requests]
    activity = np.asarray(activity)
    labels = np.asarray(labels)
    if activity.ndim != 2 or activity.shape[0] == 0 or activity.shape[1] == 0:
        raise ValueError(f"activity must be a non-empty (N, d) array, got shape {activity.shape}")
    if labels.shape != (activity.shape[0],):
        raise ValueError(f"labels must have shape ({activity.shape[0]},) to match activity, got {labels.shape}")
    if not np.issubdtype(activity.dtype, np.number):
        raise ValueError(f"activity must be numeric, got dtype {activity.dtype}")
    activity = activity.astype(np.float32, copy=False)
    check_finite(activity)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    values, classes = np.unique(labels, return_inverse=True)
    if len(values) < 2:
        raise ValueError(f"labels hold a single class ({values[0]}); I(T;Y) needs at least two")
    classes = classes.astype(np.int64)
    kde_positions = [k for k, (method, _) in enumerate(requests) if method not in _BINNING]
    results = {}
    if kde_positions:
        settings = [_kde_setting(activity, *requests[k]) for k in kde_positions]
        results = dict(zip(kde_positions, kde_information(activity, classes, settings)))
    return [
        results[k] if k in results else _BINNING[method](activity, classes, len(values), **params)
        for k, (method, params) in enumerate(requests)
    ]


def estimate_mi(activity: np.ndarray, labels: np.ndarray, method: str, **params) -> tuple[float, float]:
    """Estimate (I(X;T), I(T;Y)) in bits for one layer at one epoch: `estimate_mi_many` with
    the one request (method, params). activity (N, d), labels (N,)."""
    return estimate_mi_many(activity, labels, [(method, params)])[0]
