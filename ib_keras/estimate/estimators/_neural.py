"""``mine`` and ``infonce``: variational lower bounds on I(X;T') and I(T';Y), T' = T + N(0, s2 I),
in bits, each from a critic trained in Keras on the layer's activity.

The critic is separable, f(a, b) = g(a) . h(b), g and h two-layer ReLU networks (``units`` wide)
ending in ``units`` features: the scores of every pair in a batch are one matrix product. For
I(X;T') a is the input x and b the draw t' (the inputs are the N distinct ones, uniformly
weighted); for I(T';Y), a is t' and b the one-hot label. Training: Adam at ``learning_rate`` for
``steps`` batches of ``batch`` inputs, each with fresh noise, initialised from ``seed``; then the
bound is evaluated once on all N inputs (one draw of the noise each), every input paired with every
other as the product of the marginals:

- ``infonce`` (van den Oord, Li & Vinyals 2018; Poole et al. 2019): I >= E_i[log(e^f(a_i, b_i) /
  (1/N sum_j e^f(a_i, b_j)))], which can never exceed log N (here log2 N bits): a deterministic
  layer that keeps the inputs apart, whose I(X;T) is log2 N, is at most that.
- ``mine`` (Belghazi et al. 2018, the Donsker-Varadhan bound): I >= E_i[f(a_i, b_i)] - log
  (1/N^2 sum_ij e^f(a_i, b_j)). Trained on each batch's own bound (its gradient biased, without
  the paper's moving-average correction); the bound is not capped by log N, and its estimate has
  the variance Song & Ermon (2020) describe.

With s2 = 0 they bound the information of T itself. A bound below 0 is reported as 0.

References:
    van den Oord, Li & Vinyals, Representation Learning with Contrastive Predictive Coding, 2018.
    Belghazi et al., Mutual Information Neural Estimation, ICML 2018.
    Poole, Ozair, van den Oord, Alemi & Tucker, On Variational Bounds of Mutual Information, ICML 2019.
    Song & Ermon, Understanding the Limitations of Variational Mutual Information Estimators, ICLR 2020.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

NEURAL_METHODS = ("infonce", "mine")


def neural_information(method: str, inputs: np.ndarray, activity: np.ndarray, classes: np.ndarray,
                       noise_variance: float, steps: int, batch: int, units: int, learning_rate: float,
                       seed: int) -> tuple[float, float]:
    """(I(X;T'), I(T';Y)) in bits by ``method`` ("infonce" or "mine"): inputs (N, ...), activity
    (N, d), classes (N,) in 0..C-1; one critic trained for each quantity."""
    n = len(activity)
    x = inputs.reshape(n, -1).astype(np.float32)
    onehot = np.eye(int(classes.max()) + 1, dtype=np.float32)[classes]
    t = activity.astype(np.float32)
    i_xt = _bound(method, x, t, False, noise_variance, steps, min(batch, n), units, learning_rate, [seed, 0])
    i_ty = _bound(method, t, onehot, True, noise_variance, steps, min(batch, n), units, learning_rate, [seed, 1])
    return i_xt, i_ty


def _bound(method: str, a: np.ndarray, b: np.ndarray, noisy_a: bool, noise_variance: float, steps: int, batch: int,
           units: int, learning_rate: float, seed: list[int]) -> float:
    """The bound of ``method`` on I(A;B) in bits, the noise added to the layer's side (``a`` if
    ``noisy_a``, else ``b``), from a critic trained as the module docstring says."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    key = int(rng.integers(2**31))
    critic = _critic(method, a.shape[1], b.shape[1], units, learning_rate, noisy_a)
    critic.reset(key)
    rows = tf.constant(np.stack([rng.choice(len(a), batch, replace=False) for _ in range(steps)]))
    noise_seeds = tf.constant(rng.integers(2**31, size=(steps, 2)))
    a_all, b_all, std = tf.constant(a), tf.constant(b), tf.constant(math.sqrt(noise_variance), tf.float32)
    with _retracing_unsaid():
        critic.train(a_all, b_all, rows, noise_seeds, std)
        bound = float(critic.bound(a_all, b_all, tf.constant(rng.integers(2**31, size=(1, 2))), std))
    return max(0.0, bound / math.log(2))


@contextmanager
def _retracing_unsaid() -> Iterator[None]:
    """TensorFlow warns of "retracing" once it has traced functions of one code several times: the
    critics of a run's layer shapes are, each once, by design (`_critic`). That warning, of these
    calls alone, is left out; every other message of TensorFlow's logger passes."""
    logger = logging.getLogger("tensorflow")
    unsaid = lambda record: "triggered tf.function retracing" not in record.getMessage()  # noqa: E731
    logger.addFilter(unsaid)
    try:
        yield
    finally:
        logger.removeFilter(unsaid)


_KEPT_CRITICS = 8  # critics (their variables and traced graphs) kept for the next layer-epoch of their shapes
_critics: OrderedDict = OrderedDict()


def _critic(method: str, a_width: int, b_width: int, units: int, learning_rate: float, noisy_a: bool):
    """The critic of these shapes and settings: built and traced once per process, then reset for
    each estimate (`_Critic.reset`), so a run's layer-epochs do not trace their graphs again."""
    spec = (method, a_width, b_width, units, learning_rate, noisy_a)
    if spec not in _critics:
        _critics[spec] = _Critic(*spec)
        while len(_critics) > _KEPT_CRITICS:
            _critics.popitem(last=False)
    _critics.move_to_end(spec)
    return _critics[spec]


class _Critic:
    """A separable critic g(a) . h(b), its Adam optimizer and its training and bound as graphs."""

    def __init__(self, method: str, a_width: int, b_width: int, units: int, learning_rate: float, noisy_a: bool):
        import keras
        import tensorflow as tf

        def tower(width: int) -> keras.Sequential:
            return keras.Sequential([keras.Input((width,)), *(keras.layers.Dense(
                units, activation=None if k == 2 else "relu") for k in range(3))])

        self.towers = (tower(a_width), tower(b_width))
        g, h = self.towers
        self.variables = g.trainable_variables + h.trainable_variables
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.optimizer.build(self.variables)
        self.fresh = [np.array(variable.numpy()) for variable in self.optimizer.variables]  # its state unused

        def noisy(a_rows, b_rows, noise_seed, std):  # the noise on the layer's side
            side = a_rows if noisy_a else b_rows
            side += std * tf.random.stateless_normal(tf.shape(side), noise_seed)
            return (side, b_rows) if noisy_a else (a_rows, side)

        signature = [tf.TensorSpec([None, a_width]), tf.TensorSpec([None, b_width]),
                     tf.TensorSpec([None, None], tf.int64), tf.TensorSpec([None, 2], tf.int64), tf.TensorSpec([])]

        @tf.function(input_signature=signature)
        def train(a_all, b_all, rows, noise_seeds, std):  # every step in one graph: no Python between steps
            for step in tf.range(tf.shape(rows)[0]):
                a_batch, b_batch = noisy(tf.gather(a_all, rows[step]), tf.gather(b_all, rows[step]),
                                         noise_seeds[step], std)
                with tf.GradientTape() as tape:
                    loss = -_tf_bound(method, g(a_batch) @ tf.transpose(h(b_batch)))
                self.optimizer.apply_gradients(zip(tape.gradient(loss, self.variables), self.variables))

        @tf.function(input_signature=signature[:2] + signature[3:])
        def bound(a_all, b_all, noise_seed, std):  # every input paired with every other, one draw of the noise
            a_eval, b_eval = noisy(a_all, b_all, noise_seed[0], std)
            return _tf_bound(method, g(a_eval, training=False) @ tf.transpose(h(b_eval, training=False)))

        self.train, self.bound = train, bound

    def reset(self, key: int) -> None:
        """Glorot-uniform kernels drawn from ``key`` (tower t, layer k: seed key + 3 t + k), zero
        biases, a fresh optimizer state: as a critic built anew."""
        import keras

        for offset, tower in enumerate(self.towers):
            for k, layer in enumerate(tower.layers):
                layer.kernel.assign(keras.initializers.GlorotUniform(seed=key + 3 * offset + k)(layer.kernel.shape))
                layer.bias.assign(np.zeros(layer.bias.shape, np.float32))
        for variable, fresh in zip(self.optimizer.variables, self.fresh):
            variable.assign(fresh)


def _tf_bound(method: str, scores):
    """The bound in nats from the (B, B) critic scores of every pair, the joint pairs on the diagonal."""
    import tensorflow as tf

    b = tf.cast(tf.shape(scores)[0], scores.dtype)
    joint = tf.linalg.diag_part(scores)
    if method == "infonce":
        return tf.reduce_mean(joint - tf.reduce_logsumexp(scores, axis=1)) + tf.math.log(b)
    return tf.reduce_mean(joint) - (tf.reduce_logsumexp(scores) - 2 * tf.math.log(b))
