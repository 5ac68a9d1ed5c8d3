"""The report's statistics on cases with known answers, and against independent computations."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ib_keras.analysis.statistics import (benjamini_hochberg, compression, correlation, generalization_correlations,
                                          within_configuration_correlations)


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


def test_three_points_in_rank_order_are_not_significant():
    # Every pairing of 3 points is equally likely under the null: 2 of the 6 have |rho| = 1, so p = 1/3.
    per = _networks([0.1, 0.2, 0.3], [0.8, 0.85, 0.9], ["tanh"] * 3)
    row = generalization_correlations(per).iloc[0]
    assert row["spearman_r"] == pytest.approx(1.0) and row["spearman_p"] == pytest.approx(1 / 3)
    assert row["pearson_r"] == pytest.approx(1.0) and row["pearson_p"] == pytest.approx(1 / 3)


@pytest.mark.parametrize("n", [4, 6, 7])
def test_exact_correlation_p_values_agree_with_scipys_permutation_test(n):
    rng = np.random.default_rng(n)
    x, y = rng.normal(size=n), rng.normal(size=n)
    r, p = correlation(x, y)
    # Two-sided as the share of the n! orders of x, against y as it is, at least as far from 0 as r.
    reference = stats.permutation_test((x,), lambda a: abs(stats.pearsonr(a, y).statistic),
                                       permutation_type="pairings", n_resamples=np.inf, vectorized=False,
                                       alternative="greater")
    assert abs(r) == pytest.approx(reference.statistic) and p == pytest.approx(reference.pvalue)


def test_a_p_value_from_fewer_than_four_networks_is_never_starred():
    from ib_keras.studies.paper.claims import _tests

    # Three networks per configuration with compression in rank order of accuracy, and the test
    # across both configurations: only the 6-network tests may enter the correction.
    per = _networks([0.1, 0.2, 0.3, 1.1, 1.2, 1.3], [0.80, 0.85, 0.90, 0.81, 0.86, 0.91], ["tanh"] * 3 + ["relu"] * 3)
    per = per.assign(seed=range(6), units=3, epoch=1, max_i_xt=1.0, final_i_xt=1.0, gap=0.0, params="{}")
    tests = _tests(per)
    small = tests.per_configuration
    assert (small["n"] == 3).all() and small["pearson_p"].notna().all() and small["pearson_q"].isna().all()
    assert tests.learned["pearson_q"].notna().all()


def test_compression_and_the_phases_of_one_network_by_hand():
    # I(X;T) 2, 5, 7, 7, 4 over epochs 0, 1, 3, 10, 20 (rows shuffled): the peak is first reached at
    # epoch 3, C = 7 - 4; I(T;Y) goes 0.1 -> 0.9.
    epochs, i_xt, i_ty = [20, 0, 10, 3, 1], [4.0, 2.0, 7.0, 7.0, 5.0], [0.9, 0.1, 0.8, 0.6, 0.3]
    table = pd.DataFrame({"run": "r", "estimator": "uniform", "params": "{}", "layer": 0, "activation": "tanh",
                          "l2": 0.0, "seed": 0, "units": 10, "epoch": epochs, "i_xt": i_xt, "i_ty": i_ty,
                          "train_accuracy": 0.9, "test_accuracy": 0.8,
                          **{column: "x" for column in ["protocol", "dataset", "hidden", "split"]},
                          "trained_epochs": 20, "split_seed": 0})
    row = compression(table).iloc[0]
    assert (row["max_i_xt"], row["final_i_xt"], row["compression"]) == (7.0, 4.0, 3.0)
    assert (row["first_i_xt"], row["first_i_ty"], row["final_i_ty"], row["peak_epoch"]) == (2.0, 0.1, 0.9, 3)


@pytest.mark.parametrize("seeds, effect, verdict", [(3, 1.0, "not testable"), (8, 1.0, "reproduced"),
                                                    (8, -1.0, "not reproduced")])
def test_the_l2_claim_counts_only_starred_comparisons(seeds, effect, verdict):
    """Claim 3's verdict follows its rule, which counts starred comparisons only: more compression
    with L2 that no test can star (3 seeds) is not testable, not "partly reproduced"."""
    from ib_keras.studies.paper.claims import paper_claims

    rng = np.random.default_rng(0)
    rows = []
    for l2 in (0.0, 0.015):
        for seed in range(seeds):
            for estimator in ("ebab", "akde"):
                for layer in (0, 1):
                    c = 0.5 + (effect if l2 else 0.0) + 0.01 * rng.standard_normal()
                    rows.append({"run": f"{l2}-{seed}", "estimator": estimator, "params": "{}", "layer": layer,
                                 "activation": "tanh", "l2": l2, "seed": seed, "units": 3, "epoch": 10,
                                 "compression": c, "max_i_xt": 1.0, "final_i_xt": 1.0 - c, "gap": 0.05,
                                 "train_accuracy": 0.95, "test_accuracy": 0.9})
    claims, _ = paper_claims(pd.DataFrame(rows))
    assert claims[2].verdict == verdict, claims[2].reason
