"""The estimators: mutual information I(X;T) and I(T;Y), in bits, of one layer's activity T (an
(N, d) array over the N distinct inputs X, with labels Y) at one epoch, and sample propagation
through a noisy network (`estimate_sp`). One private module per method, behind `estimate_mi`
(`mi`), whose docstring lists every method, its parameters, defaults and papers.

Public names (``from ib_keras.estimate.estimators import estimate_mi``):
    mi: estimate_mi, estimate_mi_many, estimate_sp, within_between, Estimate, METHODS, NETWORK_METHODS,
        INPUT_METHODS, CODE_METHODS, LAYER_MAX, LAYER_MIN, BY_ACTIVATION, resolve_params, method_defaults,
        check_finite
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "mi": ("estimate_mi", "estimate_mi_many", "estimate_sp", "within_between", "Estimate", "METHODS", "NETWORK_METHODS",
           "INPUT_METHODS", "CODE_METHODS", "LAYER_MAX", "LAYER_MIN", "BY_ACTIVATION", "resolve_params", "method_defaults",
           "check_finite"),
})
