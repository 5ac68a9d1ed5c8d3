"""The report's statistics on cases with known answers, and against independent computations."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ib_keras.analysis import benjamini_hochberg, generalization_correlations, within_configuration_correlations


def _networks(compression, accuracy, activations):
    n = len(compression)
    return pd.DataFrame({"estimator": "ebab", "layer": 0, "activation": activations, "l2": 0.0,
                         "run": [f"r{i}" for i in range(n)], "compression": compression,
                         "test_accuracy": accuracy, "train_accuracy": 1.0})


def test_within_configuration_correlation_removes_what_the_configuration_sets():
    # Within each activation, more compression goes with higher accuracy; across them, the reverse.
    per = _networks([0, 1, 2, 10, 11, 12], [0.90, 0.91, 0.92, 0.50, 0.51, 0.52], ["tanh"] * 3 + ["relu"] * 3)
    assert generalization_correlations(per)["pearson_r"].iloc[0] < -0.9
    within = within_configuration_correlations(per).iloc[0]
    assert (within["n"], within["k"], within["r"]) == (6, 2, pytest.approx(1.0)) and within["p"] < 1e-6


def test_within_configuration_correlation_is_the_partial_correlation_of_a_regression():
    rng = np.random.default_rng(3)
    activations = np.repeat(["tanh", "relu", "elu", "swish"], 12)
    dummies = (activations[:, None] == np.unique(activations)[None, :]).astype(float)
    c = dummies @ rng.normal(size=4) + rng.normal(size=48)
    a = dummies @ rng.normal(size=4) + 0.3 * c + rng.normal(size=48)
    within = within_configuration_correlations(_networks(c, a, activations)).iloc[0]
    # Independent computation: residuals of least squares on the configuration dummies, then the
    # correlation test of the residuals with the dummies' 4 - 1 extra degrees of freedom removed.
    residual = [v - dummies @ np.linalg.lstsq(dummies, v, rcond=None)[0] for v in (c, a)]
    r = np.corrcoef(*residual)[0, 1]
    t = r * np.sqrt((48 - 4 - 1) / (1 - r * r))
    assert within["r"] == pytest.approx(r, abs=1e-12)
    assert within["p"] == pytest.approx(2 * stats.t.sf(abs(t), 48 - 4 - 1), rel=1e-9)


def test_benjamini_hochberg_by_hand():
    # sorted p 0.005, 0.01, 0.03, 0.04 -> p m / rank 0.02, 0.02, 0.04, 0.04 (already monotone)
    q = benjamini_hochberg(np.array([0.01, 0.04, np.nan, 0.03, 0.005]))
    np.testing.assert_allclose(q, [0.02, 0.04, np.nan, 0.04, 0.02])
