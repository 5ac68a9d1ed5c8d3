"""The estimator benchmark: benchmark-mi's closed forms checked by numerical integration (and
against the package's own samplers where it is installed; its zero-inflated value is exact at p =
0 only), the scoring's errors and leaderboard
against errors computed here from the same rows, and the command's refusals."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from ib_keras.studies.estimators.claims import errors, leaderboard, verdicts
from ib_keras.studies.estimators.tasks import uniform_mixture, zero_inflated_poisson
from tests.helpers import cli_here


@pytest.mark.parametrize("sizes", [(2,), (10,), (2, 3, 4)])
def test_the_uniform_mixtures_closed_form_is_the_integral_of_its_densities(sizes):
    """I = H(T) - H(T|Y), each pair's density 1/(2m) on each unit cell it covers: H(T|Y) = 1 bit."""
    total = 0.0
    for m in sizes:
        cells = np.array([min(c + 1, m) - max(c - 1, 0) for c in range(m + 1)]) / (2 * m)  # p(t) on [c, c + 1)
        total += float(-np.sum(cells * np.log2(cells))) - 1.0
    task = uniform_mixture(sizes)
    assert task.information == pytest.approx(total, abs=1e-12)
    t, y = task.draw(20_000, np.random.default_rng(0))
    assert t.shape == (20_000, len(sizes)) and y.max() == math.prod(sizes) - 1 and (t >= 0).all()
    assert task.label_entropy == pytest.approx(math.log2(math.prod(sizes)))


def test_the_zero_inflated_truth_is_the_published_closed_form_at_p_0_and_below_it_above():
    """At p = 0 the quadrature gives Gao et al.'s closed form (2 ln 2 - gamma - sum ln(i) 2^-i nats,
    0.3012); at p = 0.15 less than their (1 - p) times it: a zero cannot tell inflation from Poisson."""
    plain = zero_inflated_poisson(0.0)
    assert plain.information == pytest.approx(plain.published, abs=1e-7)
    assert plain.published * math.log(2) == pytest.approx(0.3012, abs=1e-4)
    inflated = zero_inflated_poisson(0.15)
    assert inflated.published == pytest.approx(0.85 * plain.published, abs=1e-12)
    assert inflated.information == pytest.approx(0.33150, abs=1e-4) and inflated.information < inflated.published - 0.03
    t, y = inflated.draw(200_000, np.random.default_rng(1))  # the sampler is the channel the truth is of
    assert np.mean(y == 0) == pytest.approx(0.15 + 0.85 * 0.5, abs=0.005) and t.mean() == pytest.approx(1.0, abs=0.01)


def test_the_tasks_match_benchmark_mis_own_samplers_where_it_is_installed():
    bmi = pytest.importorskip("bmi", reason="benchmark-mi (needs JAX) is not installed here: the closed forms are "
                                            "checked by integration above")
    assert uniform_mixture((10,)).information == pytest.approx(
        float(bmi.samplers.DiscreteUniformMixtureSampler(n_discrete=10).mutual_information()) / math.log(2), abs=1e-6)
    assert zero_inflated_poisson(0.15).published == pytest.approx(
        float(bmi.samplers.ZeroInflatedPoissonizationSampler(p=0.15).mutual_information(truncation=200)) / math.log(2),
        abs=1e-6)


def _rows():
    """Scored rows of two settings over one run's three epochs and two layers, errors set by hand."""
    rows = []
    for epoch, truth in zip((0, 5, 10), (3.0, 5.0, 4.5)):  # the truth compresses: peak 5, final 4.5
        for layer in (0, 1):
            for setting, error in (("ebab", 0.2), ("kde", -0.5 if epoch == 10 else 0.0)):
                rows.append(("exact", "t", "run", epoch, layer, 4, 100, setting, True, truth, 1.0,
                             truth + error, 1.0 + error / 10))
    return pd.DataFrame(rows, columns=["family", "source", "run", "epoch", "layer", "units", "n", "setting",
                                       "same_quantity", "truth_xt", "truth_ty", "i_xt", "i_ty"])


def test_the_leaderboard_ranks_by_median_error_and_counts_verdicts_as_computed_here():
    rows = _rows()
    board = leaderboard(rows).set_index("setting")
    assert list(board.index) == ["kde", "ebab"]  # median |error| of I(X;T): 0 against 0.2
    assert board.loc["ebab", "xt_median"] == pytest.approx(0.2) and board.loc["ebab", "xt_bias"] == pytest.approx(0.2)
    kde = np.abs(errors(rows).query("setting == 'kde'")["err_xt"])
    assert board.loc["kde", "xt_p90"] == pytest.approx(np.quantile(kde, 0.9))
    # kde's final I(X;T) 4.0 after a peak of 5.0: C = 1.0 >= 0.1, as the truth's 0.5: both compress, agree;
    # ebab's C = 0.5 too: agrees
    assert set(verdicts(rows)["agree"]) == {True} and board.loc["kde", "agree"] == 1.0


def test_the_command_refuses_what_it_cannot_score_in_one_line():
    result = cli_here("estimator-benchmark")
    assert result.returncode == 2 and "give runs to score: --exact" in result.stderr
    result = cli_here("estimator-benchmark", "--exact", "runs", "--settings", "ebab,ksg")
    assert result.returncode == 2 and "--settings: unknown ksg" in result.stderr


def test_the_shipped_report_is_what_this_code_writes_from_the_shipped_scores(tmp_path):
    import json

    from ib_keras.studies.estimators.report import read_benchmark, write_report, write_tables
    from tests.helpers import ROOT

    shipped = ROOT / "results" / "estimators"
    b = read_benchmark(shipped)
    timings = json.loads((shipped / "timings.json").read_text())
    assert write_report(b, tmp_path / "REPORT.md", timings).read_text() == (shipped / "REPORT.md").read_text()
    write_tables(b, tmp_path)
    for name in ("leaderboard.csv", "errors.csv", "costs.csv"):
        assert (tmp_path / name).read_text() == (shipped / name).read_text(), name
