"""2**y for float32 y <= 0, vectorisable by LLVM inside Numba loops: Cody-Waite reduction and a
degree-6 Taylor polynomial on [-1/2, 1/2] (relative error < 3e-7). NumPy's and XLA's exp cannot be
fused into a Numba loop; this one is, in every kernel sum of the estimators. And `_row_sums`, the
sweep of one row's kernels over its distances, which both kernel-sum paths share."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types, uint64
from numba.extending import intrinsic

# 2**f = sum_k (f ln 2)^k / k!, k <= 6, for |f| <= 1/2, in Horner order (highest power first).
_C6, _C5, _C4, _C3, _C2, _C1, _C0 = (np.float32(math.log(2.0) ** k / math.factorial(k)) for k in range(6, -1, -1))
_SMALLEST_EXPONENT = np.float32(-126.0)  # 2**-126 is float32's smallest normal number


@intrinsic
def _float32_from_bits(typingctx, bits):
    """Reinterpret an int32's bits as a float32 (a bitcast, not a conversion)."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float32))

    return types.float32(types.int32), codegen


@njit(fastmath=True, inline="always", cache=True)
def _exp2(y):
    """2**y for float32 y <= 0; below 2**-126 it returns 2**-126 (irrelevant beside the j = i
    term 1 of every sum)."""
    y = max(y, _SMALLEST_EXPONENT)
    whole = np.rint(y)
    f = y - whole
    p = _C6 * f + _C5
    p = p * f + _C4
    p = p * f + _C3
    p = p * f + _C2
    p = p * f + _C1
    p = p * f + _C0
    return p * _float32_from_bits((np.int32(whole) + np.int32(127)) << np.int32(23))


@njit(fastmath=True, cache=True)
def _row_sums(distances, j0, j1, betas, sums, i):
    """Add 2^(beta_s distances[j]) for j in [j0, j1) to sums[s, j] and their total to sums[s, i]."""
    for s in range(betas.shape[0]):
        beta = betas[s]
        acc = np.float32(0.0)
        column_sums = sums[s]
        for j in range(uint64(j0), uint64(j1)):
            e = _exp2(beta * distances[j])
            acc += e
            column_sums[j] += e
        sums[s, i] += acc
