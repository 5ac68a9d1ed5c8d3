"""Sample propagation (Goldfeld et al., ICML 2019): the centres of a noisy network's layer.

In a noisy network T_l = S_l + Z_l, S_l = f_l(T_{l-1}), Z_l ~ N(0, s^2 I) after every layer, so
given the input X = x the layer's T_l is a mixture: of N(S_l, s^2 I) over the distribution of S_l,
which the noise of the earlier layers spreads. Its samples are the replicas: x propagated R times,
each time with fresh draws of the earlier layers' noise. The first layer's S_1 is deterministic
(its R replicas coincide).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ib_keras.networks.activations import numpy_function

NOISE_KEY, DRAW_KEY = 0, 1  # the sub-streams of an sp seed: the replicas' noise, the Monte Carlo draws


def replica_centres(
    x: np.ndarray,
    kernels: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    activations: Sequence[str],
    layer: int,
    noise_std: float,
    replicas: int,
    seed: int,
) -> np.ndarray:
    """(N, R, d) float32: S_layer of every input under R replicas of the noise of layers before it.

    Args:
        x: (N, features) inputs.
        kernels, biases: layer i's (fan_in, units) kernel and (units,) bias, for every layer up to
            ``layer`` at least.
        activations: layer i's activation name (`ib_keras.networks.activations.numpy_function`).
        layer: the layer whose centres are wanted (0 = the first hidden layer).
        noise_std: s, the standard deviation of the noise after every layer before ``layer``.
        replicas: R.
        seed: the noise after layer k is drawn from ``default_rng([seed, NOISE_KEY, k])`` whatever
            ``layer`` is asked, so every layer's centres share the replicas of the layers before.
    """
    if not 0 <= layer < min(len(kernels), len(biases), len(activations)):
        raise ValueError(f"layer {layer} is not among the network's {len(kernels)} layers")
    x = np.asarray(x, dtype=np.float32)
    h = np.broadcast_to(x[:, None, :], (len(x), replicas, x.shape[1]))
    for k in range(layer):
        s = _activity(h, kernels[k], biases[k], activations[k], k)
        h = s + np.float32(noise_std) * np.random.default_rng([seed, NOISE_KEY, k]).standard_normal(s.shape, np.float32)
    return np.ascontiguousarray(_activity(h, kernels[layer], biases[layer], activations[layer], layer))


def _activity(h: np.ndarray, kernel: np.ndarray, bias: np.ndarray, activation: str, k: int) -> np.ndarray:
    """Layer k's S = f(h W + b) in float32, h (N, R, fan_in)."""
    kernel = np.asarray(kernel, dtype=np.float32)
    if kernel.ndim != 2 or kernel.shape[0] != h.shape[-1]:
        raise ValueError(f"layer_{k}: a kernel of shape {kernel.shape} cannot take {h.shape[-1]} inputs")
    return numpy_function(activation)(h @ kernel + np.asarray(bias, dtype=np.float32)).astype(np.float32, copy=False)
