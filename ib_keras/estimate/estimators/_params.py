"""The estimators' parameters: each method's defaults (`METHODS`), what kind of input it reads, and
the check of a request's values (`resolve_params`) that `estimate_mi` makes before any work."""

from __future__ import annotations

import math
from numbers import Integral, Real

from ib_keras.estimate.estimators._binning import BY_ACTIVATION, LAYER_MAX, LAYER_MIN
from ib_keras.estimate.estimators._renyi import MAX_RENYI_INPUTS, TRACES, WIDTHS
from ib_keras.networks.protocols import NOISE_STD_RANGE

METHODS: dict[str, dict] = {
    "uniform": {"n_bins": 30, "lo": -1.0, "hi": 1.0},
    "fixed": {"bin_size": 0.07},
    "ebab": {"n_bins": 30, "low": None},
    "kde": {"noise_variance": 1e-3, "bound": "upper"},
    "akde": {"variance_scale": 0.1, "bound": "upper"},
    "noisy": {"noise_variance": 1e-3, "variance_scale": None, "replicas": 4, "seed": 0},
    "sp": {"noise_std": None, "replicas": 64, "marginal_replicas": 8, "mc_samples": 8, "seed": 0},
    "renyi": {"alpha": 1.01, "width": "knn", "neighbours": 20, "sigma": None, "input_sigma": None, "label_sigma": 0.1},
    "exact": {},
    "knn": {"k": 3, "noise_variance": 1e-3, "replicas": 4, "seed": 0},
    **dict.fromkeys(("infonce", "mine"), {"noise_variance": 1e-3, "steps": 500, "batch": 256, "units": 64,
                                          "learning_rate": 1e-3, "seed": 0}),
}
# renyi:trace=lanczos: tr(A^alpha) by stochastic Lanczos quadrature (`ib_keras.estimate.estimators._renyi`)
LANCZOS = {"trace": "lanczos", "probes": 30, "lanczos_steps": 30, "rank": 100, "seed": 0}
NETWORK_METHODS = ("sp",)  # estimated from the network's inputs and parameters, not one layer's activity
INPUT_METHODS = ("renyi", "infonce", "mine")  # estimated from the layer's activity and the inputs X
CODE_METHODS = ("exact",)  # counted on a quantized layer's integer codes, not estimated from activity
BOUNDS = ("upper", "lower")
# More bins than any sample count this tool handles (a bin's counts cost memory per unit even when
# empty): 10^8 bins took 48 s and 2.2 GB for one layer-epoch.
MAX_BINS = 1_000_000
MAX_REPLICAS = 1000
MAX_NEIGHBOURS = 100  # knn's k: the estimators' bias falls with small k (Kraskov et al. use 2 to 6)


# What float32 computes in: bin indices stay inside int64, kernel variances (and s2 of akde) normal.
_POSITIVE_RANGES = {"bin_size": (1e-9, 1e9), "noise_variance": (1e-30, 1e30), "variance_scale": (1e-30, 1e30),
                    "noise_std": NOISE_STD_RANGE, "alpha": (1e-3, 1e3), "sigma": (1e-15, 1e15),
                    "input_sigma": (1e-15, 1e15), "label_sigma": (1e-15, 1e15)}


def resolve_params(method: str, **params) -> dict:
    """The method's full parameters: its defaults updated by ``params``, each checked.

    Raises ValueError naming an unknown method or parameter, or a bad value.
    """
    if method not in METHODS:
        raise ValueError(f"unknown estimator '{method}'; valid estimators: {', '.join(METHODS)}")
    unknown = set(params) - set(METHODS[method]) - (set(LANCZOS) if method == "renyi" else set())
    if unknown:
        valid = f"valid: {', '.join(METHODS[method])}" if METHODS[method] else f"{method} takes no parameters"
        raise ValueError(f"{method}: unknown parameter(s) {', '.join(sorted(unknown))}; {valid}")
    resolved = {**method_defaults(method, params), **params}
    if method == "noisy" and (resolved["noise_variance"] is None) == (resolved["variance_scale"] is None):
        raise ValueError("noisy: give noise_variance (a fixed s2, as kde) or variance_scale (s2 = variance_scale x "
                         f"max|T|, as akde), one of them, got {resolved['noise_variance']!r} and {resolved['variance_scale']!r}")
    for name, value in resolved.items():
        if method in ("knn", "infonce", "mine") and name == "noise_variance" and value == 0:  # a deterministic T
            continue
        if value is None and (method, name) in (("noisy", "noise_variance"), ("noisy", "variance_scale"),
                                                ("sp", "noise_std"), ("renyi", "sigma"), ("renyi", "input_sigma")):
            continue
        if isinstance(value, bool) and name not in ("bound", "width", "trace"):  # JSON's true would pass as the number 1
            raise ValueError(f"{method}: {name} must be a number, not {value!r}")
        if name == "n_bins" and not (isinstance(value, Integral) and 1 <= value <= MAX_BINS):
            raise ValueError(f"{method}: n_bins must be a whole number from 1 to {MAX_BINS}, got {value!r}")
        if name in _POSITIVE_RANGES:
            low, high = _POSITIVE_RANGES[name]
            if not (isinstance(value, Real) and low <= value <= high):
                raise ValueError(f"{method}: {name} must be a number from {low:g} to {high:g}, got {value!r}")
        if name in ("replicas", "marginal_replicas", "mc_samples") and method == "sp" and not (
                isinstance(value, Integral) and 1 <= value <= MAX_REPLICAS):
            raise ValueError(f"sp: {name} must be a whole number from 1 to {MAX_REPLICAS}, got {value!r}")
        if name == "replicas" and method == "noisy" and not (
                isinstance(value, Integral) and 4 <= value <= MAX_REPLICAS and value % 2 == 0):
            raise ValueError(f"{method}: replicas must be an even whole number from 4 to {MAX_REPLICAS} (antithetic pairs, "
                             f"two at least for a standard error), got {value!r}")
        if name == "seed" and not (isinstance(value, Integral) and 0 <= value < 2**63):
            raise ValueError(f"{method}: seed must be a whole number >= 0, got {value!r}")
        if name == "trace" and value not in TRACES:
            raise ValueError(f"{method}: trace must be one of {', '.join(TRACES)}, got {value!r}")
        if name in ("probes", "lanczos_steps", "rank") and not (isinstance(value, Integral) and 1 <= value <= MAX_REPLICAS):
            raise ValueError(f"{method}: {name} must be a whole number from 1 to {MAX_REPLICAS}, got {value!r}")
        if name == "width" and value not in WIDTHS:
            raise ValueError(f"{method}: width must be one of {', '.join(WIDTHS)}, got {value!r}")
        if name == "neighbours" and not (isinstance(value, Integral) and 1 <= value < MAX_RENYI_INPUTS):
            raise ValueError(f"{method}: neighbours must be a whole number from 1 to {MAX_RENYI_INPUTS - 1}, "
                             f"got {value!r}")
        if name == "bound" and value not in BOUNDS:
            raise ValueError(f"{method}: bound must be one of {', '.join(BOUNDS)}, got {value!r}")
        if value == BY_ACTIVATION and name in ("low", "lo", "hi"):  # a table's request; ib_keras.estimate.layer_params
            raise ValueError(f"{method}: {name}={BY_ACTIVATION!r} is set by each layer's activation, which one layer's "
                             "activity cannot tell: pass `layer_params(method, params, activations, layer)`, or a number")
        if name == "low" and value is not None and not (isinstance(value, Real) and math.isfinite(value)):
            raise ValueError(f"{method}: low must be a finite number or None, got {value!r}")
    if method == "sp":
        _check_sp(resolved)
    if method == "knn":
        _check_knn(resolved)
    for name, (low, high) in _TRAINING.items():
        if method in ("infonce", "mine") and not (
                isinstance(resolved[name], Real) and not isinstance(resolved[name], bool) and low <= resolved[name] <= high
                and (name == "learning_rate" or isinstance(resolved[name], Integral))):
            kind = "a number" if name == "learning_rate" else "a whole number"
            raise ValueError(f"{method}: {name} must be {kind} from {low:g} to {high:g}, got {resolved[name]!r}")
    if method == "renyi" and (resolved["width"] == "fixed") != (resolved["sigma"] is not None):
        raise ValueError(f"renyi: sigma is the width of width='fixed' and of it alone; got width={resolved['width']!r} "
                         f"and sigma={resolved['sigma']!r}")
    if method == "uniform":
        lo, hi = resolved["lo"], resolved["hi"]
        whole_run = [name for name, value in (("lo", lo), ("hi", hi)) if value in ("run_min", "run_max")]
        if whole_run:
            raise ValueError(f"uniform: {whole_run[0]}={resolved[whole_run[0]]!r} is the whole run's smallest or largest "
                             "activity, which one layer-epoch's activity cannot tell: pass "
                             "`ib_keras.estimate.table.resolve_run_values(params, run.activity)` (a table's params and the "
                             "run file's activity), or numbers")
        if not (lo == LAYER_MIN or isinstance(lo, Real) and math.isfinite(lo)):
            raise ValueError(f"uniform: lo must be a finite number or '{LAYER_MIN}', got {lo!r}")
        if hi != LAYER_MAX and not (isinstance(hi, Real) and math.isfinite(hi) and (lo == LAYER_MIN or hi > lo)):
            raise ValueError(f"uniform: hi must be a finite number > lo ({lo}) or '{LAYER_MAX}', got {hi!r}")
    return resolved


def _check_sp(params: dict) -> None:
    replicas, marginal, draws = params["replicas"], params["marginal_replicas"], params["mc_samples"]
    if marginal > replicas:
        raise ValueError(f"sp: marginal_replicas ({marginal}) must be at most replicas ({replicas})")
    if draws % 4 or draws < 8 or draws // 4 > replicas:
        raise ValueError(f"sp: mc_samples must be a multiple of 4 from 8 (four draws from each of two centres per input "
                         f"at least, for a standard error) to 4 x replicas ({4 * replicas}), got {draws}")


# infonce's and mine's critic and its training budget
_TRAINING = {"steps": (1, 1e6), "batch": (2, 65536), "units": (1, 4096), "learning_rate": (1e-7, 1.0)}


def _check_knn(params: dict) -> None:
    k, replicas = params["k"], params["replicas"]
    if not (isinstance(k, Integral) and 1 <= k <= MAX_NEIGHBOURS):
        raise ValueError(f"knn: k must be a whole number from 1 to {MAX_NEIGHBOURS}, got {k!r}")
    if not (isinstance(replicas, Integral) and 2 <= replicas <= MAX_REPLICAS):
        raise ValueError(f"knn: replicas must be a whole number from 2 to {MAX_REPLICAS}, got {replicas!r}")
    if params["noise_variance"] > 0 and k >= replicas:
        raise ValueError(f"knn: I(X;T') takes each input's k-th nearest other draw, so k ({k}) must be below replicas "
                         f"({replicas}); give replicas={k + 1} or more, or a smaller k")


def method_defaults(method: str, params: dict) -> dict:
    """The defaults of ``method`` under the parameters ``params`` a request sets: ``noisy`` given
    variance_scale alone drops its default noise_variance, so that s2 is set one way; ``renyi``
    given trace="lanczos" gains the parameters of its quadrature (`LANCZOS`)."""
    defaults = dict(METHODS[method])
    if method == "noisy" and params.get("variance_scale") is not None and "noise_variance" not in params:
        defaults["noise_variance"] = None
    if method == "renyi" and params.get("trace") == "lanczos":
        defaults.update(LANCZOS)
    return defaults
