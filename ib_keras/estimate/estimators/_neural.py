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

import math

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
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    std = math.sqrt(noise_variance)
    key = int(rng.integers(2**31))

    def tower(width: int, offset: int) -> keras.Sequential:
        return keras.Sequential([keras.Input((width,)), *(keras.layers.Dense(
            units, activation=None if k == 2 else "relu",
            kernel_initializer=keras.initializers.GlorotUniform(seed=key + 3 * offset + k)) for k in range(3))])

    g, h = tower(a.shape[1], 0), tower(b.shape[1], 1)
    variables = g.trainable_variables + h.trainable_variables
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(variables)
    a_all, b_all = tf.constant(a), tf.constant(b)
    rows = tf.constant(np.stack([rng.choice(len(a), batch, replace=False) for _ in range(steps)]))
    noise_seeds = tf.constant(rng.integers(2**31, size=(steps, 2)))

    def noisy(a_rows, b_rows, noise_seed):  # the noise on the layer's side
        side = a_rows if noisy_a else b_rows
        side += std * tf.random.stateless_normal(tf.shape(side), noise_seed) if std else 0.0
        return (side, b_rows) if noisy_a else (a_rows, side)

    @tf.function(jit_compile=False)
    def train():  # every step in one graph: one trace, no Python between steps
        for step in tf.range(steps):
            a_batch, b_batch = noisy(tf.gather(a_all, rows[step]), tf.gather(b_all, rows[step]), noise_seeds[step])
            with tf.GradientTape() as tape:
                loss = -_tf_bound(method, g(a_batch) @ tf.transpose(h(b_batch)))
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))

    train()
    a_eval, b_eval = noisy(a_all, b_all, tf.constant(rng.integers(2**31, size=2)))
    scores = g(a_eval, training=False) @ tf.transpose(h(b_eval, training=False))
    return max(0.0, float(_tf_bound(method, scores)) / math.log(2))


def _tf_bound(method: str, scores):
    """The bound in nats from the (B, B) critic scores of every pair, the joint pairs on the diagonal."""
    import tensorflow as tf

    b = tf.cast(tf.shape(scores)[0], scores.dtype)
    joint = tf.linalg.diag_part(scores)
    if method == "infonce":
        return tf.reduce_mean(joint - tf.reduce_logsumexp(scores, axis=1)) + tf.math.log(b)
    return tf.reduce_mean(joint) - (tf.reduce_logsumexp(scores) - 2 * tf.math.log(b))
