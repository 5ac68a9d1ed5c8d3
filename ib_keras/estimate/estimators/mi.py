"""`estimate_mi`: I(X;T) and I(T;Y), in bits, of one layer's activity T at one epoch: validated
once, then dispatched to one private module per method (`ib_keras.estimate.estimators`).

X is the set of the N distinct inputs, uniformly weighted, and the network is deterministic.
Methods (parameters and defaults; the stage's lo, hi, low: `ib_keras.estimate.layer_params`):

- ``"uniform"`` (n_bins=30, lo=-1.0, hi=1.0): Shwartz-Ziv & Tishby (2017), equal-width bins over
  a fixed range; ``hi="layer_max"`` takes the layer's largest activity at this epoch, ``lo="layer_min"``
  its least (Lorenzen et al.'s bins over each layer's range).
- ``"fixed"`` (bin_size=0.07): Saxe et al. (2018), bins of fixed width.
- ``"ebab"`` (n_bins=30, low=None): Chelombiev et al. (2019), entropy-based adaptive binning:
  per layer and epoch, each bin holds the same number of unique activity levels.
- ``"kde"`` (noise_variance=1e-3, bound="upper"): Saxe et al. (2018), T' = T + N(0, s2 I) with
  the Kolchinsky & Tracey (2017) upper (KL) or lower (Bhattacharyya) bound on H(T').
- ``"akde"`` (variance_scale=0.1, bound="upper"): Chelombiev et al. (2019), adaptive KDE: as
  ``"kde"`` with s2 = variance_scale * max|T| of this layer at this epoch. The paper's constant
  is not published; 0.1 is this project's default.
- ``"noisy"`` (noise_variance=1e-3 or variance_scale=v, replicas=4, seed=0): the quantity the
  KDE bounds bracket, I(X;T') and I(T';Y) of T' = T + N(0, s2 I) themselves, by stratified
  Monte Carlo with ``replicas`` antithetic draws per input, with standard errors (`Estimate`).
  s2 = noise_variance as ``"kde"``, or variance_scale * max|T| as ``"akde"``: give one of them.
- ``"sp"`` (noise_std=None, replicas=64, marginal_replicas=8, mc_samples=8, seed=0): Goldfeld et
  al. (2019), sample propagation in a noisy network, T_l = S_l + N(0, s^2 I) after every layer:
  I(X;T_l) and I(T_l;Y) when T_l given an input is the mixture over its ``replicas`` centres (S_l
  under draws of the earlier layers' noise), the marginal summing ``marginal_replicas`` of every
  other input's, by ``mc_samples`` draws per input, with standard errors. It needs the whole
  network (`estimate_sp`), not one layer's activity; noise_std None means the run's own.
- ``"renyi"`` (alpha=1.01, width="knn", neighbours=20, sigma=None, input_sigma=None,
  label_sigma=0.1): the matrix-based Renyi alpha-entropy functional (Giraldo et al. 2015; Yu et
  al. 2020; Wickstrom et al. 2019) of Gram matrices over the N inputs X (given as ``inputs``),
  T and the one-hot Y; its width rules and their sources: `ib_keras.estimate.estimators._renyi`.
- ``"exact"`` (no parameters): Lorenzen, Igel & Nielsen (ICLR 2022), a quantized network's
  (``train --quantize-bits``) information counted, with nothing to tune: T takes finitely many
  values, so I(X;T) = H(T) and I(T;Y) = H(T) - H(T|Y) over the distinct code vectors. It takes
  integer codes (N, d), not activity; a softmax output's codes (of its logits) as differences
  from their first unit, the softmax being blind to a shift of all logits. The estimate stage
  does this from the run file, and refuses a run that is not quantized.
- ``"knn"`` (k=3, noise_variance=1e-3, replicas=4, seed=0): Kraskov et al. (2004) in Ross's (2014)
  form for a discrete and a continuous variable: I(X;T') and I(T';Y) of T' = T + N(0, s2 I) (the
  quantity of ``"noisy"``) over ``replicas`` draws per input; noise_variance=0: I(X;T) = H(T) of
  the distinct rows, counted, and I(T;Y) of T itself (`ib_keras.estimate.estimators._knn`).
- ``"infonce"``, ``"mine"`` (noise_variance=1e-3, steps=500, batch=256, units=64,
  learning_rate=1e-3, seed=0): variational lower bounds on I(X;T') and I(T';Y) from separable
  critics trained in Keras (van den Oord et al. 2018, at most log2 N; Belghazi et al. 2018); they
  need the inputs X (`ib_keras.estimate.estimators._neural`).

References:
    Shwartz-Ziv & Tishby, Opening the Black Box of Deep Neural Networks via Information, 2017.
    Saxe et al., On the Information Bottleneck Theory of Deep Learning, ICLR 2018.
    Kolchinsky & Tracey, Estimating Mixture Entropy with Pairwise Distances, Entropy 2017.
    Goldfeld et al., Estimating Information Flow in Deep Neural Networks, ICML 2019.
    Chelombiev, Houghton & O'Donnell, Adaptive Estimators Show Information Compression in Deep
    Neural Networks, ICLR 2019.
    Giraldo, Rao & Principe, Measures of Entropy from Data Using Infinitely Divisible Kernels,
    IEEE Trans. Inf. Theory 2015.
    Yu, Wickstrom, Jenssen & Principe, Understanding Convolutional Neural Networks with
    Information Theory: An Initial Exploration, IEEE TNNLS 2020.
    Wickstrom, Lokse, Kampffmeyer, Yu, Principe & Jenssen, Information Plane Analysis of Deep
    Neural Networks via Matrix-Based Renyi's Entropy and Tensor Kernels, 2019.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# LAYER_MAX, LAYER_MIN, BY_ACTIVATION, METHODS, method_defaults and within_between: exported from here
from ib_keras.estimate.estimators._binning import BINNING, BY_ACTIVATION, LAYER_MAX, LAYER_MIN, binned_information  # noqa: F401
from ib_keras.estimate.estimators._clustering import within_between  # noqa: F401
from ib_keras.estimate.estimators._kde import kde_information
from ib_keras.estimate.estimators._knn import knn_information
from ib_keras.estimate.estimators._neural import NEURAL_METHODS
from ib_keras.estimate.estimators._neural import neural_information
from ib_keras.estimate.estimators._mixture import mixture_information, replica_mixture_information
from ib_keras.estimate.estimators._params import (CODE_METHODS, INPUT_METHODS, METHODS, NETWORK_METHODS,  # noqa: F401
                                                  method_defaults, resolve_params)
from ib_keras.estimate.estimators._propagation import DRAW_KEY, replica_centres
from ib_keras.estimate.estimators._renyi import checked_inputs, renyi_information
from ib_keras.system.memory import available_memory


class Estimate(tuple):
    """One estimate, which unpacks as the tuple (i_xt, i_ty), and its standard errors.

    Attributes:
        i_xt: I(X;T), bits.
        i_ty: I(T;Y), bits.
        i_xt_se: the Monte Carlo standard error of i_xt, bits (``noisy``, ``sp``; else NaN).
        i_ty_se: that of i_ty, bits (likewise).
    """

    def __new__(cls, i_xt: float, i_ty: float, i_xt_se: float = math.nan, i_ty_se: float = math.nan):
        estimate = super().__new__(cls, (i_xt, i_ty))
        estimate.i_xt_se, estimate.i_ty_se = i_xt_se, i_ty_se
        return estimate

    @property
    def i_xt(self) -> float:
        return self[0]

    @property
    def i_ty(self) -> float:
        return self[1]


def _noise_variance(activity: np.ndarray, method: str, params: dict) -> float:
    """s2 of a kde, akde or noisy request: noise_variance, or variance_scale * max|T| when set."""
    if params.get("variance_scale") is None:
        return params["noise_variance"]
    largest = float(np.abs(activity).max())
    if largest == 0.0:
        raise ValueError(f"{method}: the activity is all zero, so its noise variance variance_scale * max|T| would be 0")
    return params["variance_scale"] * largest


def check_finite(activity: np.ndarray) -> None:
    """ValueError counting the NaN and inf values of ``activity``, if it holds any."""
    bad = np.count_nonzero(~np.isfinite(activity))
    if bad:
        raise ValueError(f"activity has {bad} NaN or inf values of {activity.size}; the network diverged")


def estimate_mi_many(
    activity: np.ndarray, labels: np.ndarray, requests: Sequence[tuple[str, dict]], inputs: np.ndarray | None = None,
) -> list[Estimate]:
    """Estimate (I(X;T), I(T;Y)) in bits for one layer at one epoch under several estimators.

    Every ``kde``/``akde`` request shares one pass over the pairs of samples (their kernel
    variances differ, the distances do not), so asking for several KDE settings together costs
    far less than asking for each alone. A ``noisy`` request makes its own pass: all N x N
    (input, centre) pairs, each with r/2 dot products and r exponentials, where the KDE pass has
    N^2 / 2 pairs and one exponential per setting.

    Args:
        activity: (N, d) activity T of the layer's d units on the N distinct inputs; computed on
            its float32 values, as recorded; for ``exact`` alone, a quantized layer's integer codes.
        labels: (N,) integer labels Y, at least two classes.
        requests: (method, params) pairs: a method of ``METHODS`` (see the module docstring)
            and the parameters that override its defaults.
        inputs: (N, ...) the inputs X, for ``renyi`` (the other methods need only their count).

    Returns:
        One `Estimate` per request, in order: the pair (i_xt, i_ty) in bits, with standard errors
        for ``noisy`` (NaN for the others).

    Raises:
        ValueError: NaN or inf activity, mismatched shapes, a single class, an unknown method or
            parameter, or a bad parameter value (n_bins < 1, a variance <= 0, all-zero activity
            for akde, an odd number of replicas, ...).
    """
    requests = [(method, resolve_params(method, **params)) for method, params in requests]
    if any(method in NETWORK_METHODS for method, _ in requests):
        raise ValueError("sp propagates the noise through the network's layers, so it needs the network, not one "
                         "layer's activity: use estimate_sp, or the estimate stage on a run file")
    activity = np.asarray(activity)
    labels = np.asarray(labels)
    if activity.ndim != 2 or activity.shape[0] == 0 or activity.shape[1] == 0:
        raise ValueError(f"activity must be a non-empty (N, d) array, got shape {activity.shape}")
    if labels.shape != (activity.shape[0],):
        raise ValueError(f"labels must have shape ({activity.shape[0]},) to match activity, got {labels.shape}")
    if not np.issubdtype(activity.dtype, np.number):
        raise ValueError(f"activity must be numeric, got dtype {activity.dtype}")
    counted = [method for method, _ in requests if method in CODE_METHODS]
    if counted and (len(counted) < len(requests) or not np.issubdtype(activity.dtype, np.integer)):
        raise ValueError("exact counts a quantized layer's integer codes (a run file's `codes`, of a network trained "
                         f"with --quantize-bits), alone; got {activity.dtype} values with "
                         f"{', '.join(method for method, _ in requests)}")
    codes = activity
    activity = activity.astype(np.float32, copy=False)
    check_finite(activity)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    values, classes = np.unique(labels, return_inverse=True)
    if len(values) < 2:
        raise ValueError(f"labels hold a single class ({values[0]}); I(T;Y) needs at least two")
    classes = classes.astype(np.int64)
    reading = [method for method, _ in requests if method in INPUT_METHODS]
    if reading:
        lanczos = all(params.get("trace") == "lanczos" for method, params in requests if method == "renyi")
        inputs = checked_inputs(inputs, len(activity), sorted(set(reading)), lanczos)
    kde_positions = [k for k, (method, _) in enumerate(requests) if method in ("kde", "akde")]
    results = {}
    if kde_positions:
        settings = [(_noise_variance(activity, *requests[k]), requests[k][1]["bound"]) for k in kde_positions]
        results = dict(zip(kde_positions, kde_information(activity, classes, settings)))
    for k, (method, params) in enumerate(requests):
        if method == "noisy":
            results[k] = mixture_information(activity, classes, _noise_variance(activity, method, params),
                                             params["replicas"], params["seed"])
        elif method in BINNING:
            results[k] = BINNING[method](activity, classes, len(values), **params)
        elif method == "renyi":
            results[k] = renyi_information(inputs, activity, classes, params)
        elif method == "exact":
            results[k] = binned_information(codes.astype(np.int64), classes, len(values))
        elif method == "knn":
            results[k] = knn_information(activity, classes, **params)
        elif method in NEURAL_METHODS:
            results[k] = neural_information(method, inputs, activity, classes, **params)
    return [Estimate(*results[k]) for k in range(len(requests))]


def estimate_mi(activity: np.ndarray, labels: np.ndarray, method: str, inputs: np.ndarray | None = None,
                **params) -> Estimate:
    """Estimate (I(X;T), I(T;Y)) in bits for one layer at one epoch: `estimate_mi_many` with
    the one request (method, params). activity (N, d), labels (N,), inputs (N, ...) for renyi."""
    return estimate_mi_many(activity, labels, [(method, params)], inputs)[0]


def estimate_sp(
    x: np.ndarray,
    kernels: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    activations: Sequence[str],
    labels: np.ndarray,
    layer: int,
    noise_std: float,
    replicas: int = 64,
    marginal_replicas: int = 8,
    mc_samples: int = 8,
    seed: int = 0,
) -> Estimate:
    """Sample propagation (Goldfeld et al. 2019): (I(X;T_l), I(T_l;Y)) in bits, with standard
    errors, of layer ``layer`` of a noisy network T_l = f_l(T_{l-1} W_l + b_l) + N(0, s^2 I).

    X is uniform over the N inputs. Each input is propagated ``replicas`` times with fresh draws of
    the earlier layers' noise (`replica_centres`); T_l given X = x is then the mixture of N(c, s^2 I)
    over x's replica centres c, and the estimate is that of `replica_mixture_information`:
    ``mc_samples`` draws per input, the marginal with ``marginal_replicas`` centres of every other
    input. The layer's own noise N(0, s^2 I) is counted for every layer, the output layer too (its
    activity observed with noise s). For the first layer the replicas coincide and the estimate
    is the ``noisy`` estimator's quantity at s2 = s^2. Cost: N^2 marginal_replicas mc_samples / 4
    centre pairs, four exponentials each.

    Args:
        x: (N, features) inputs.
        kernels: each layer's (fan_in, units) kernel at this epoch.
        biases: each layer's (units,) bias at this epoch.
        activations: each layer's activation name (hidden ones, then ``"softmax"``).
        labels: (N,) integer labels, two classes at least.
        layer: which layer (0 = the first hidden one).
        noise_std: s > 0, in activity units.
        replicas: as ``METHODS["sp"]``.
        marginal_replicas: as ``METHODS["sp"]``.
        mc_samples: as ``METHODS["sp"]``.
        seed: as ``METHODS["sp"]``; the same seed gives the same estimate.

    Raises ValueError for bad parameters, shapes, labels or non-finite activity.
    """
    params = resolve_params("sp", noise_std=noise_std, replicas=replicas, marginal_replicas=marginal_replicas,
                            mc_samples=mc_samples, seed=seed)
    if params["noise_std"] is None:
        raise ValueError("sp: give noise_std, the network's noise standard deviation s > 0")
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer) or labels.shape != (len(x),):
        raise ValueError(f"labels must be ({len(x)},) integers to match x, got {labels.shape} {labels.dtype}")
    values, classes = np.unique(labels, return_inverse=True)
    if len(values) < 2:
        raise ValueError(f"labels hold a single class ({values[0]}); I(T;Y) needs at least two")
    _check_sp_memory(len(x), [np.shape(x)[1], *(np.shape(kernel)[-1] for kernel in kernels[: layer + 1])], replicas)
    centres = replica_centres(x, kernels, biases, activations, layer, noise_std, replicas,
                              params["seed"])
    check_finite(centres)
    draws_seed = np.random.default_rng([params["seed"], DRAW_KEY, layer]).integers(2**63)
    return Estimate(*replica_mixture_information(centres, classes.astype(np.int64), noise_std**2, marginal_replicas,
                                                 mc_samples, int(draws_seed)))


_SP_ARRAYS = 4  # (N, R, width) float32 arrays alive at once while propagating: h, S, the noise, the centres


def _check_sp_memory(n: int, widths: list[int], replicas: int) -> None:
    """ValueError, before anything is allocated, when propagating ``n`` inputs ``replicas`` times
    through layers of these widths would take more memory than is available."""
    needed = _SP_ARRAYS * 4 * n * replicas * max(widths)
    available = available_memory()
    if needed > available:
        raise ValueError(f"sp: {replicas} replicas of {n} inputs through a layer of {max(widths)} units need about "
                         f"{needed / 2**30:.1f} GiB of memory and {available / 2**30:.1f} GiB are available; use fewer "
                         "replicas, or estimate a subsample (estimate --samples)")
