"""The matrix-based Renyi alpha-order entropy functional (Giraldo, Rao & Principe 2015), as Yu et
al. (2020) and Wickstrom et al. (2019) estimate the information plane of convolutional networks.

For N inputs, a representation's Gram matrix K_ij = exp(-||t_i - t_j||^2 / (2 sigma^2)) over its
N rows, normalised to unit trace (A = K / N, as K_ii = 1), has the entropy

    S_alpha(A) = 1 / (1 - alpha) log2 sum_i lambda_i(A)^alpha        (bits; alpha -> 1: -sum lambda log2 lambda)

and two representations the joint entropy S_alpha(A o B / tr(A o B)) (o: the Hadamard product),
so that I(A; B) = S(A) + S(B) - S(A, B). X is the inputs, T a layer's activity (flattened), Y
the labels one-hot. Eigenvalues from LAPACK (``numpy.linalg.eigvalsh``, float64); those below its
rounding (N eps of the largest, negative ones included) are taken as 0.

Every width here, the rules' and those given (``sigma``, ``input_sigma``, ``label_sigma``), is the
sigma of exp(-d^2 / (2 sigma^2)). A code whose kernel is exp(-d^2 / sigma^2) means a width sqrt 2
larger: divide its value by sqrt 2 to give it here (Wickstrom's sigma_X = 8 is sigma = 5.66; passed
as 8 it gave 0.49 bits more in issue 40's probe).

Kernel widths sigma (the rule ``width``), read from Wickstrom's codes (cited beside each):
- ``knn``: the mean over the inputs of the distance to the k-th nearest other input
  (``Wickstrom/InformationTheoryExperiment`` python/network.py, ``calc_kernel``: the width at line
  70 of 09a2a51; k = ``n_n`` = 20 in python/iteration_activation_ex.py (0bf8703), line 18), in the
  kernel exp(-d^2 / (2 sigma^2)) of network.py at 0bf8703 (lines 63-70), the one implemented here.
  At 09a2a51 the same width goes into exp(-d^2 / sigma^2) (line 73), a kernel sqrt 2 narrower,
  up to 2.97 bits apart in issue 40's probe. alpha = 1.01 as Yu et al. and
  ``Wickstrom/InfExperiment`` VGG16.py, ``renyi``; alpha -> 1 (Shannon) as python/network.py
  (576653f), ``entropy``.
- ``silverman``: Silverman's rule in d dimensions, sigma = s (4 / ((d + 2) N))^(1 / (d + 4)), s
  the mean of the units' standard deviations (Yu et al. 2020 use a rule of this form).
- ``alignment``: the width, of 75 evenly from 0.1 to 10 x the mean distance, whose Gram matrix
  is best aligned with the labels' (tr(K_T K_Y) / (||K_T|| ||K_Y||)) (cnnMI.ipynb (b5da007), cell
  "define model", ``kernel_mat`` and ``kernel_loss`` with beta = 1; their kernel is exp(-d^2 /
  sigma^2), so the grid is theirs and sigma here is theirs / sqrt 2). They smooth the chosen width
  over training iterations (0.9 old + 0.1 new); here every epoch chooses its own.
- ``fixed``: ``sigma`` as given.
The inputs' width is ``input_sigma`` when given, else the same rule (``knn`` for ``alignment``,
which needs a representation's labels to align with); the labels' kernel has width ``label_sigma``
(0.1: cnnMI.ipynb, ``compute_mi``), which on one-hot labels makes K_Y the same-class indicator.
Above alpha 1 the functional's I can fall below 0; such a value is reported as 0, with a warning
(`_at_least_zero`).

``trace="lanczos"`` estimates tr(f(A)), f(l) = l^alpha (alpha = 1: -l log2 l), without a full
eigendecomposition. The ``rank`` largest eigenvalues come from randomized subspace iteration
(two power steps on a Gaussian block, then Rayleigh-Ritz) and enter f exactly; on the rest, A
deflated of their subspace (P A P), stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017; the
randomized approach Dong, Gong, Yu & Principe (2023) apply to this entropy): for ``probes``
Rademacher vectors z projected by P, ``lanczos_steps`` steps of the Lanczos recurrence from z /
||z|| give a tridiagonal matrix whose eigenvalues theta_k and first eigenvector components tau_k
make the Gauss quadrature z^T g(PAP) z ~ ||z||^2 sum_k tau_k^2 g(theta_k). For alpha != 1 the
quadrature is of g(l) = l^alpha - l, the trace of P A P being known exactly (tr A = 1 less the
head's): near alpha = 1, where S = log2 tr(A^alpha) / (1 - alpha) magnifies an error of the trace
a hundredfold, g is small and so is its variance. All probes advance together (one N x N by N x
probes product per step), with no reorthogonalisation; a probe whose recurrence ends (an
invariant subspace) stops there. The random draws come from ``seed``. At alpha = 2, tr(A^2) is
the squared Frobenius norm, computed exactly. Its error against the
decomposition is measured in results/estimators (on a digits layer, N = 1,797: 0.003 and 0.03
bits at the defaults).

References:
    Ubaru, Chen & Saad, Fast Estimation of tr(f(A)) via Stochastic Lanczos Quadrature, SIAM J.
    Matrix Anal. Appl. 38, 2017.
    Dong, Gong, Yu & Principe, Optimal Randomized Approximations to Matrix-Based Renyi's Entropy,
    IEEE Trans. Inf. Theory 69, 2023.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from scipy.linalg import eigh_tridiagonal

WIDTHS = ("knn", "silverman", "alignment", "fixed")
TRACES = ("eig", "lanczos")
_POWER_STEPS = 2  # subspace iterations of trace="lanczos"'s deflation
MAX_RENYI_INPUTS = 4096  # five eigendecompositions of N x N float64 matrices per layer-epoch: about 20 s each here
MAX_LANCZOS_INPUTS = 16384  # trace="lanczos": five N x N float64 matrices alive, 2 GB each at this N
_ALIGNMENT_WIDTHS = 75  # cnnMI.ipynb: torch.linspace(0.1, 10 * d.mean(), 75) (50 after epoch 40)
_ALIGNMENT_LOW = 0.1
_ROUNDING = 1e-9  # bits: an information this far below 0 is the eigendecompositions' rounding, set to 0 unsaid


def checked_inputs(inputs: np.ndarray | None, n: int, methods: Sequence[str] = ("renyi",),
                   lanczos: bool = False) -> np.ndarray:
    """The inputs X of requests of ``methods`` (those that read X), (n, ...) finite numbers, for
    ``renyi`` at most MAX_RENYI_INPUTS of them (MAX_LANCZOS_INPUTS with ``lanczos``, its every
    request's trace); ValueError saying what to give otherwise."""
    if inputs is None:
        raise ValueError(f"{' and '.join(methods)} need{'s' * (len(methods) == 1)} the inputs X beside the activity: "
                         "pass inputs=x")
    inputs = np.asarray(inputs)
    if inputs.ndim < 2 or len(inputs) != n or not np.issubdtype(inputs.dtype, np.number):
        raise ValueError(f"inputs must be ({n}, ...) numbers to match the activity, got shape {inputs.shape}")
    if not np.isfinite(inputs).all():
        raise ValueError(f"inputs hold {np.count_nonzero(~np.isfinite(inputs))} NaN or inf values")
    if "renyi" in methods and n > MAX_LANCZOS_INPUTS:
        raise ValueError(f"renyi: {n} inputs; at most {MAX_LANCZOS_INPUTS} (five {n} x {n} matrices per layer and "
                         "epoch): estimate a subsample (estimate --samples K)")
    if "renyi" in methods and n > MAX_RENYI_INPUTS and not lanczos:
        raise ValueError(f"renyi: {n} inputs; at most {MAX_RENYI_INPUTS} (five {n} x {n} eigendecompositions per layer "
                         "and epoch): give renyi:trace=lanczos, or estimate a subsample (estimate --samples K)")
    return inputs


def squared_distances(points: np.ndarray) -> np.ndarray:
    """(N, N) float64 squared Euclidean distances between the rows of ``points`` (N, d), zero on the diagonal."""
    points = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    norms = np.einsum("ij,ij->i", points, points)
    distances = norms[:, None] + norms[None, :] - 2.0 * points @ points.T
    np.fill_diagonal(distances, 0.0)
    return np.maximum(distances, 0.0)


def gram(distances: np.ndarray, sigma: float) -> np.ndarray:
    """exp(-D / (2 sigma^2)) of the (N, N) squared distances D."""
    return np.exp(-distances / (2.0 * sigma * sigma))


def entropy(gram_matrix: np.ndarray, alpha: float, lanczos: dict | None = None) -> float:
    """S_alpha in bits of a Gram matrix with a positive trace, normalised here to unit trace: from
    its eigenvalues, or with ``lanczos`` (probes, lanczos_steps, seed) by `lanczos_trace`."""
    if lanczos is not None:
        normalised = gram_matrix / np.trace(gram_matrix)
        if alpha == 2.0:  # tr(A^2) is the squared Frobenius norm: exact, with no quadrature
            return float(-math.log2(np.einsum("ij,ij->", normalised, normalised)))
        if alpha == 1.0:
            return lanczos_trace(normalised, lambda l: -l * np.log2(np.where(l > 0, l, 1.0)), 0.0, **lanczos)
        # l^alpha - l, near 0 for alpha near 1, is what the quadrature estimates: tr A = 1 is exact
        return float(math.log2(lanczos_trace(normalised, lambda l: l**alpha, 1.0, **lanczos)) / (1.0 - alpha))
    eigenvalues = np.linalg.eigvalsh(gram_matrix / np.trace(gram_matrix))
    # below the decomposition's rounding (N eps of the largest) an eigenvalue is 0: its rounding
    # residue would otherwise count, for alpha < 1, as lambda^alpha >> lambda
    eigenvalues[eigenvalues < len(eigenvalues) * np.finfo(np.float64).eps * eigenvalues[-1]] = 0.0
    if alpha == 1.0:
        positive = eigenvalues[eigenvalues > 0]
        return float(-np.sum(positive * np.log2(positive)))
    return float(math.log2(np.sum(eigenvalues**alpha)) / (1.0 - alpha))


def lanczos_trace(matrix: np.ndarray, f, linear: float, probes: int, lanczos_steps: int, rank: int,
                  seed: int) -> float:
    """tr f(A) of the symmetric positive semi-definite ``matrix`` A (N, N), f(0) = 0: the ``rank``
    largest eigenvalues by randomized subspace iteration, f summed over them, plus, on A deflated of
    their subspace (P A P), ``linear`` tr(P A P) (exact) and stochastic Lanczos quadrature of f(l) -
    ``linear`` l (module docstring); Ritz values below 0 (rounding) are taken as 0."""
    n = len(matrix)
    rng = np.random.default_rng([seed, n])
    basis = np.linalg.qr(matrix @ rng.standard_normal((n, min(rank, n))))[0]
    for _ in range(_POWER_STEPS):
        basis = np.linalg.qr(matrix @ basis)[0]
    top, vectors = np.linalg.eigh(basis.T @ matrix @ basis)
    head = basis @ vectors  # the top eigenvectors, as far as the iteration found them

    def deflated(v: np.ndarray) -> np.ndarray:  # P A P v, P the projection off the head
        v = v - head @ (head.T @ v)
        v = matrix @ v
        return v - head @ (head.T @ v)

    z = rng.choice([-1.0, 1.0], size=(n, probes))
    z -= head @ (head.T @ z)
    norms = np.linalg.norm(z, axis=0)
    q = z / norms
    previous, beta = np.zeros_like(q), np.zeros(probes)
    diagonals, offdiagonals = [], []
    for _ in range(min(lanczos_steps, n)):
        w = deflated(q)
        a = np.einsum("ij,ij->j", q, w)
        w -= a * q + beta * previous
        beta = np.linalg.norm(w, axis=0)
        diagonals.append(a)
        offdiagonals.append(beta)
        ended = beta <= 1e-12 * np.maximum(np.abs(a), 1e-300)
        previous, q = q, np.where(ended, 0.0, w / np.where(ended, 1.0, beta))
        beta = np.where(ended, 0.0, beta)
        if ended.all():
            break
    diagonals, offdiagonals = np.array(diagonals), np.array(offdiagonals)
    tail = []
    for probe in range(probes):
        theta, ritz = eigh_tridiagonal(diagonals[:, probe], offdiagonals[:-1, probe])
        theta = np.maximum(theta, 0.0)
        tail.append(norms[probe] ** 2 * np.sum(ritz[0] ** 2 * (f(theta) - linear * theta)))
    deflated_trace = np.trace(matrix) - np.sum(top)  # tr(P A P) = tr A - tr(H^T A H), exactly
    return float(np.sum(f(np.maximum(top, 0.0))) + linear * deflated_trace + np.mean(tail))


def knn_width(distances: np.ndarray, neighbours: int) -> float:
    """The mean over the rows of the distance to the ``neighbours``-th nearest other row."""
    if not 1 <= neighbours < len(distances):
        raise ValueError(f"renyi: neighbours must be from 1 to N - 1 = {len(distances) - 1}, got {neighbours}")
    return float(np.mean(np.sqrt(np.partition(distances, neighbours, axis=1)[:, neighbours])))


def silverman_width(points: np.ndarray) -> float:
    """Silverman's rule of thumb in d dimensions: s (4 / ((d + 2) N))^(1 / (d + 4))."""
    points = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    n, d = points.shape
    return float(np.mean(points.std(axis=0)) * (4.0 / ((d + 2) * n)) ** (1.0 / (d + 4)))


def alignment_width(distances: np.ndarray, label_gram: np.ndarray) -> float:
    """The width of Wickstrom's grid whose Gram matrix is best aligned with ``label_gram``."""
    mean_distance = float(np.mean(np.sqrt(distances)))
    label_norm = np.linalg.norm(label_gram)
    best, best_alignment = math.nan, -math.inf
    for theirs in np.linspace(_ALIGNMENT_LOW, max(10.0 * mean_distance, 2 * _ALIGNMENT_LOW), _ALIGNMENT_WIDTHS):
        kernel = np.exp(-distances / (theirs * theirs))
        alignment = float(np.sum(kernel * label_gram)) / (np.linalg.norm(kernel) * label_norm)
        if alignment > best_alignment:
            best, best_alignment = theirs / math.sqrt(2.0), alignment
    return best


def _width(rule: str, points: np.ndarray, distances: np.ndarray, params: dict, label_gram: np.ndarray) -> float:
    if rule == "fixed":
        return params["sigma"]
    if rule == "knn":
        return knn_width(distances, params["neighbours"])
    if rule == "silverman":
        return silverman_width(points)
    return alignment_width(distances, label_gram)


def _digest(array: np.ndarray) -> tuple:
    """A key for an array's contents: its shape, type and a BLAKE2 hash of its bytes."""
    array = np.ascontiguousarray(array)
    return array.shape, array.dtype.str, hashlib.blake2b(array.view(np.uint8), digest_size=16).hexdigest()


_KEPT_SIDES = 4  # the input and label sides (Gram matrix, entropy) kept: those of the run being estimated
_kept: OrderedDict[tuple, tuple[np.ndarray, float]] = OrderedDict()


def _side(key: tuple, compute) -> tuple[np.ndarray, float]:
    """A side's (Gram matrix, entropy) by ``key``: kept from an earlier layer-epoch of the same
    inputs or labels and parameters, else ``compute()``d and kept (the least recently used of
    _KEPT_SIDES dropped). The kept matrix is read-only."""
    if key in _kept:
        _kept.move_to_end(key)
        return _kept[key]
    matrix, information = compute()
    matrix.setflags(write=False)
    _kept[key] = (matrix, information)
    while len(_kept) > _KEPT_SIDES:
        _kept.popitem(last=False)
    return matrix, information


def renyi_information(inputs: np.ndarray, activity: np.ndarray, classes: np.ndarray,
                      params: dict) -> tuple[float, float]:
    """(I(X;T), I(T;Y)) in bits by the matrix-based functional, for inputs (N, ...), activity (N,
    d) and classes (N,) 0..C-1, with the parameters of ``METHODS["renyi"]`` (alpha, width,
    neighbours, sigma, input_sigma, label_sigma). A width of 0 (every row alike under
    ``silverman``, or a k-th neighbour at distance 0) gives a constant kernel: 0 bits. The inputs'
    and the labels' Gram matrices and entropies are kept between calls on the same inputs and
    labels (`_side`): a run's later layer-epochs take three eigendecompositions, not five."""
    alpha = params["alpha"]
    lanczos = ({name: params[name] for name in ("probes", "lanczos_steps", "rank", "seed")}
               if params.get("trace") == "lanczos" else None)
    label_gram, s_y = _side(("labels", _digest(classes), params["label_sigma"], alpha, str(lanczos)), lambda: _with_entropy(
        gram(squared_distances(np.eye(int(classes.max()) + 1)[classes]), params["label_sigma"]), alpha, lanczos))
    rule = params["width"]
    input_rule = "knn" if rule == "alignment" else rule  # alignment needs a layer's labels to align with
    input_key = ("inputs", _digest(inputs), alpha, str(lanczos), params["input_sigma"]
                 if params["input_sigma"] is not None else (input_rule, params["neighbours"], params["sigma"]))
    input_gram, s_x = _side(input_key, lambda: _with_entropy(_gram(inputs, params["input_sigma"], input_rule, params,
                                                                   label_gram), alpha, lanczos))
    layer_gram = _gram(activity, None, rule, params, label_gram)
    s_t = entropy(layer_gram, alpha, lanczos)
    i_xt = s_x + s_t - entropy(input_gram * layer_gram, alpha, lanczos)
    i_ty = s_y + s_t - entropy(layer_gram * label_gram, alpha, lanczos)
    return _at_least_zero(i_xt, "I(X;T)", alpha), _at_least_zero(i_ty, "I(T;Y)", alpha)


def _gram(points: np.ndarray, sigma: float | None, rule: str, params: dict, label_gram: np.ndarray) -> np.ndarray:
    """The Gram matrix of ``points`` at width ``sigma``, or when None the width of ``rule``; a
    width of 0 gives a constant kernel."""
    distances = squared_distances(points)
    if sigma is None:
        sigma = _width(rule, points, distances, params, label_gram)
    return gram(distances, sigma) if sigma > 0 else np.ones_like(distances)


def _with_entropy(matrix: np.ndarray, alpha: float, lanczos: dict | None) -> tuple[np.ndarray, float]:
    return matrix, entropy(matrix, alpha, lanczos)


def _at_least_zero(information: float, name: str, alpha: float) -> float:
    """``information`` (bits), or 0 with a warning saying so when the functional gave less: the
    joint entropy of a Hadamard product is at least the larger of the two entropies (Giraldo et
    al. 2015), so I <= min(S(A), S(B)), but nothing bounds it by their sum, so I can fall below 0
    (seen for alpha >= 2, as -0.113 bits on six points in tests/test_renyi.py; never at alpha 1
    or 1.01 in 4,000 random trials)."""
    if information >= -_ROUNDING:
        return max(information, 0.0)
    warnings.warn(f"renyi (alpha {alpha:g}): {name} = {information:.4f} bits, below 0, reported as 0: the matrix-based "
                  "functional is not a Shannon mutual information and is not bounded below by 0 for alpha > 1; "
                  "alpha 1.01 (the default) keeps it above", stacklevel=3)
    return 0.0
