"""The discrete-continuous tasks of the ``benchmark-mi`` package (Czyz et al., "Beyond Normal: On
the Evaluation of Mutual Information Estimators", NeurIPS 2023), whose mutual information Gao,
Kannan, Oh & Viswanath (NeurIPS 2017) give in closed form: a truth for I(T;Y), T continuous and Y
a class label. Reproduced here in NumPy with their closed forms (bits), so that the main
environment does not grow by JAX; ``tests/test_estimator_benchmark.py`` checks each closed form
by numerical integration, and against the package's own samplers where it is installed.

- ``uniform-mixture-<m>`` (``DiscreteUniformMixtureSampler(n_discrete=m)``): Y uniform on
  {0..m-1}, T | Y ~ U(Y, Y + 2): I = log2 m - (m - 1) / m bits.
- ``uniform-mixture-<m1>x<m2>x...`` (``MultivariateDiscreteUniformMixtureSampler(ns_discrete=
  (m1, m2, ...))``): independent such pairs, T the vector of their T's and Y the tuple of their
  labels (m1 m2 ... classes): I the sum of theirs.
- ``zero-inflated-poisson-<p>`` (``ZeroInflatedPoissonizationSampler(p)``): T ~ Exp(1), Y = 0
  with probability p, else Poisson(T). Gao et al.'s and benchmark-mi's value, (1 - p)(2 ln 2 -
  gamma - sum_{i>=1} ln(i) 2^-i) nats, is exact at p = 0 only: an inflated 0 cannot be told from a
  Poisson 0, so the information is not (1 - p) times the plain channel's. The truth here is the
  defining sum over y of integrals over t, by quadrature (`_zero_inflated_information`): at p =
  0.15 0.3315 bits, where the published value says 0.3694 (`Task.published`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Task:
    """A task of known I(T;Y): ``draw(n, rng)`` gives (T (n, d) float32, Y (n,) int64 classes)."""

    name: str
    draw: Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]]
    information: float  # I(T;Y), bits
    label_entropy: float  # H(Y), bits: the most any estimate of I(T;Y) can be
    published: float | None = None  # benchmark-mi's value where it differs from the truth (bits)


def uniform_mixture(sizes: tuple[int, ...]) -> Task:
    """Independent pairs Y_k uniform on {0..m_k-1}, T_k | Y_k ~ U(Y_k, Y_k + 2), for m_k in
    ``sizes``; Y the tuple of labels numbered as one class (m_1 m_2 ... classes)."""

    def draw(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        labels = np.stack([rng.integers(0, m, n) for m in sizes], axis=1)
        t = labels + rng.uniform(0.0, 2.0, labels.shape)
        return t.astype(np.float32), np.ravel_multi_index(labels.T, sizes).astype(np.int64)

    information = sum(math.log2(m) - (m - 1) / m for m in sizes)
    return Task(f"uniform-mixture-{'x'.join(map(str, sizes))}", draw, information, sum(map(math.log2, sizes)))


def zero_inflated_poisson(p: float, terms: int = 200) -> Task:
    """T ~ Exp(1), Y = 0 with probability ``p``, else Poisson(T); the closed form's series summed to
    ``terms`` terms (the rest is below 2^-terms terms)."""

    def draw(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        t = rng.exponential(1.0, n)
        y = np.where(rng.random(n) < p, 0, rng.poisson(t))
        return t[:, None].astype(np.float32), y.astype(np.int64)

    series = sum(math.log(i) * 2.0**-i for i in range(1, terms + 1))
    published = (1 - p) * (2 * math.log(2) - np.euler_gamma - series) / math.log(2)
    # Y's entropy: P(Y = k) = p [k = 0] + (1 - p) 2^-(k+1) (a Poisson of an Exp(1) rate is geometric)
    probabilities = np.array([(1 - p) * 2.0 ** -(k + 1) for k in range(terms)])
    probabilities[0] += p
    label_entropy = float(-np.sum(probabilities * np.log2(probabilities)))
    return Task(f"zero-inflated-poisson-{p:g}", draw, _zero_inflated_information(p, probabilities), label_entropy,
                published)


_COUNTS = 60  # Y = k beyond this has probability below 2^-60: left out of the sum


def _zero_inflated_information(p: float, marginal: np.ndarray) -> float:
    """I(T;Y) in bits of T ~ Exp(1), Y = 0 with probability p else Poisson(T): the sum over k of
    the integral over t of e^-t P(k|t) log2(P(k|t) / P(k)), P(k|t) = p [k = 0] + (1 - p) e^-t t^k / k!,
    by adaptive quadrature."""
    from scipy import integrate, stats

    def term(k: int) -> float:
        def integrand(t: float) -> float:
            conditional = p * (k == 0) + (1 - p) * stats.poisson.pmf(k, t)
            return math.exp(-t) * conditional * math.log2(conditional / marginal[k]) if conditional > 0 else 0.0
        return integrate.quad(integrand, 0, 100, limit=400, epsabs=1e-13)[0]

    return float(sum(term(k) for k in range(_COUNTS)))


TASKS = (uniform_mixture((2,)), uniform_mixture((10,)), uniform_mixture((2, 3, 4)), zero_inflated_poisson(0.15))
