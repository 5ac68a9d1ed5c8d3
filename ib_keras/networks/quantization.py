"""Quantization-aware training's fake quantization, in Keras 3 ops: values rounded to a uniform grid
of 2^bits levels in the forward pass, gradients passed straight through (Lorenzen, Igel & Nielsen,
ICLR 2022, who used TensorFlow Model Optimization; its rules are read from their code, never copied).

The grid of a range [low, high] is TensorFlow's ``fake_quant_with_min_max_vars`` grid (narrow_range
off): scale = (high - low) / (2^bits - 1), the range nudged so that 0 is a level (zero point
round(-low / scale) clamped to 0..2^bits - 1), level c worth nudged_low + scale c. A value is
clamped to the nudged range and rounded to the nearest level; its gradient is 1 inside the range
and 0 outside (TensorFlow's op also passes the clamped values' gradient to a range variable; the
ranges here get none: a moving range is set by its average, a batch's range is not trained).

Which layers use which range, from ``StephanLorenzen/ExactIBAnalysisInQNNs``:

- ``tanh`` layers: the range is the batch's own, the least and largest tanh output of this call
  (`IB/util/quantization.py`, ``TanhQuantizer.__call__``), kernels not quantized
  (``TanhQuantizeConfig`` derives from ``NoWeightDenseQuantizeConfig``).
- every other layer (ReLU, and the softmax output layer): TFMO's ``Default8BitConfig`` /
  ``Default4BitConfig`` (``DefaultDenseQuantizeConfig``): the kernel by its own least and largest
  value (``LastValueQuantizer``), the activation by a moving average of the batches' ranges
  (``MovingAverageQuantizer``: decay 0.999, starting at [-6, 6], each batch's range widened to
  hold 0). For softmax TFMO quantizes the logits, before the activation
  (``quantize_aware_activation.py``, ``_PRE_QUANT_ACTIVATIONS``): the output is the softmax of
  quantized logits.
- which layers (every Dense layer) and the bits (4 or 8): `IB/models/models.py`, ``NN``.
"""

from __future__ import annotations

import numpy as np

BITS = (4, 8)  # what their code accepts (models.py, NN: "Unsupported number of bits")
MOVING_DECAY = 0.999  # TFMO MovingAverageQuantizer's ema_decay
MOVING_START = 6.0  # TFMO quantizers' range variables start at [-6, 6]
BATCH_RANGE = "batch"  # the range of each call's own values (their tanh layers)
MOVING_RANGE = "moving"  # a moving average of the training batches' ranges, kernels quantized (the rest)


def check_bits(bits: int | None) -> int | None:
    """``bits`` if it is None (float32) or one of `BITS`; ValueError otherwise."""
    if bits is not None and bits not in BITS:
        raise ValueError(f"--quantize-bits must be one of {', '.join(map(str, BITS))} (as Lorenzen et al.'s code), "
                         f"got {bits}")
    return bits


def range_rule(activation: str) -> str:
    """How a layer of ``activation`` is quantized: `BATCH_RANGE` for tanh, else `MOVING_RANGE`."""
    return BATCH_RANGE if activation == "tanh" else MOVING_RANGE


def nudged_grid(low, high, bits: int):
    """(nudged low, scale) of the grid of [low, high] (tensors of one shape), as TensorFlow's
    fake quantization nudges it: 0 a level. A range of zero width gets a scale of 1e-12."""
    from keras import ops

    levels = float(2**bits - 1)
    scale = ops.maximum((high - low) / levels, 1e-12)
    zero_point = ops.clip(ops.round(-low / scale), 0.0, levels)
    return -zero_point * scale, scale


def fake_quantize(x, low, scale, bits: int):
    """``x`` rounded to the grid ``low + scale * c``, c = 0..2^bits - 1 (``low``, ``scale``
    broadcast against x), with the straight-through gradient: 1 inside the grid's range, 0 outside."""
    from keras import ops

    high = low + scale * float(2**bits - 1)
    clamped = ops.clip(x, low, high)
    levels = ops.floor((clamped - low) / scale + 0.5)
    quantized = levels * scale + low
    inside = ops.logical_and(x >= low, x <= high)
    passed = ops.where(inside, x, ops.stop_gradient(x))
    # the value is the level exactly (passed - passed is 0), the gradient that of ``passed``
    return ops.stop_gradient(quantized) + (passed - ops.stop_gradient(passed))


def grid_codes(values: np.ndarray, low: np.ndarray, scale: np.ndarray, bits: int) -> np.ndarray:
    """The levels c (uint8) of values on the grid ``low + scale * c``: ``values`` (N, K, units),
    ``low`` and ``scale`` (K,). ValueError when a value is not on the grid (to 1e-4 of a step)."""
    steps = (values - low[None, :, None]) / scale[None, :, None]
    codes = np.rint(steps)
    if not (np.all(np.abs(steps - codes) < 1e-4) and codes.min() >= 0 and codes.max() <= 2**bits - 1):
        raise ValueError(f"values are not on their {bits}-bit grid (largest distance {np.abs(steps - codes).max():.3g} "
                         "of a step); the layer's grid does not match its output")
    return codes.astype(np.uint8)
