"""``infonce`` and ``mine``: lower bounds from trained critics, against closed forms (labels
independent of T: 0 bits; a binary Gaussian channel, by quadrature; class-separated T: H(Y); T =
X: log2 N, InfoNCE's ceiling), and their refusals. Small training budgets: the bounds are loose,
the tolerances say how loose."""

import numpy as np
import pytest
from scipy import integrate, stats

from ib_keras.estimate.estimators import estimate_mi

N = 400
FAST = {"steps": 200, "batch": 128, "noise_variance": 0}


@pytest.mark.parametrize("method", ["infonce", "mine"])
def test_independent_labels_give_about_zero_and_the_channel_its_information(method):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(N, 3)).astype(np.float32), rng.integers(0, 2, N)
    t = (rng.normal(size=(N, 1)) + np.where(y == 1, 1.0, -1.0)[:, None]).astype(np.float32)  # independent of x
    mixture = lambda u: 0.5 * (stats.norm.pdf(u, 1.0) + stats.norm.pdf(u, -1.0))  # noqa: E731
    truth = integrate.quad(lambda u: -mixture(u) * np.log2(mixture(u)), -12, 12)[0] - 0.5 * np.log2(2 * np.pi * np.e)
    assert truth - 0.12 < estimate_mi(t, y, method, inputs=x, **FAST).i_ty < truth + 0.05  # a bound, up to sampling
    # labels independent of T: 0, up to the critic fitting these N pairs
    assert estimate_mi(t, rng.integers(0, 2, N), method, inputs=x, **FAST).i_ty < 0.1


@pytest.mark.parametrize("method", ["infonce", "mine"])
def test_class_separated_t_gives_the_label_entropy_and_infonce_stays_under_log2_n(method):
    rng = np.random.default_rng(1)
    y = rng.choice(3, N, p=[0.5, 0.3, 0.2])
    x = rng.normal(size=(N, 2)).astype(np.float32)
    t = (3 * np.eye(3)[y] + 0.05 * rng.normal(size=(N, 3))).astype(np.float32)
    p = np.bincount(y) / N
    i_xt, i_ty = estimate_mi(t, y, method, inputs=x, **FAST)
    assert i_ty == pytest.approx(float(-np.sum(p * np.log2(p))), abs=0.08)
    apart = estimate_mi(x, y, method, inputs=x, **FAST)  # T = X: I(X;T) = log2 N, every input apart
    if method == "infonce":
        assert 0.7 * np.log2(N) < apart.i_xt <= np.log2(N) + 1e-9
    else:  # MINE learns slower: at this budget about half (docs/estimators.md)
        assert apart.i_xt > 0.3 * np.log2(N)


@pytest.mark.parametrize("params, message", [
    ({"steps": 0}, "infonce: steps must be a whole number from 1"),
    ({"batch": 1.5}, "infonce: batch must be a whole number from 2"),
    ({"learning_rate": 2}, "infonce: learning_rate must be a number from"),
    ({"units": True}, "infonce: units must be a number, not True"),
])
def test_bad_parameters_and_missing_inputs_are_refused_in_one_line(params, message):
    activity, labels = np.zeros((10, 2), np.float32), np.arange(10) % 2
    with pytest.raises(ValueError, match=message):
        estimate_mi(activity, labels, "infonce", inputs=np.zeros((10, 1)), **params)
    with pytest.raises(ValueError, match="mine needs the inputs X beside the activity: pass inputs=x"):
        estimate_mi(activity, labels, "mine")


def test_critics_of_many_layer_shapes_do_not_warn_of_retracing(caplog):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(64, 3)).astype(np.float32), rng.integers(0, 2, 64)
    with caplog.at_level("WARNING", logger="tensorflow"):
        for width in range(1, 7):  # a critic traced per shape, as a run's layers ask: TensorFlow warns at the 6th
            estimate_mi(rng.normal(size=(64, width)).astype(np.float32), y, "infonce", inputs=x, steps=2, batch=16,
                        noise_variance=0)
    assert not [record for record in caplog.records if "retracing" in record.getMessage()]
