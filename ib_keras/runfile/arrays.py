"""write_run_arrays: a run file from NumPy arrays, so that a network trained by any framework
(PyTorch, JAX, your own loop) goes through ``estimate``, the tables and the figures as a Keras one.

Example, a PyTorch-style loop (here in NumPy: collect each layer's activity on all inputs at the
epochs you record, as arrays, then write them once):

```python
epochs, hidden, output = [], [], []
for epoch in range(0, 101):
    if epoch in (0, 1, 10, 100):                 # the epochs to record, 0 = before training
        h = np.tanh(x @ w1 + b1)                 # (N, 10): layer 1 on all N inputs
        epochs.append(epoch); hidden.append(h); output.append(softmax(h @ w2 + b2))
    ...                                          # one epoch of training
write_run_arrays("runs/mine/seed-000.h5", epochs, [np.stack(hidden), np.stack(output)], y,
                 activations=["tanh", "softmax"], x=x)
```
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ib_keras.networks.activations import LINEAR, OUTPUT_ACTIVATION
from ib_keras.runfile.checks import whole_numbers
from ib_keras.runfile.schema import LAYER_STATISTICS, METRICS, LayerSpec
from ib_keras.runfile.writer import RunWriter


def write_run_arrays(
    path: str | Path,
    epochs: Sequence[int],
    activity: Sequence[np.ndarray],
    labels: np.ndarray,
    activations: Sequence[str] | None = None,
    x: np.ndarray | None = None,
    train_idx: np.ndarray | None = None,
    test_idx: np.ndarray | None = None,
    metrics: Mapping[str, Sequence[float]] | None = None,
    config: Mapping | None = None,
) -> Path:
    """Write a complete run file of ``activity`` recorded at ``epochs``; returns its path.

    Args:
        path: the file to write (its directory is made); an existing file is replaced.
        epochs: (E,) increasing epochs, 0 being the initialisation.
        activity: one array per layer, in order, of shape (E, N, ...): each layer's values on all N
            inputs at each epoch (a non-flat layer, such as (E, N, H, W, C), is stored flattened in
            C order, its shape kept). Stored as float32.
        labels: (N,) integer class labels 0..n_classes - 1.
        activations: each layer's nonlinearity, as the estimators' defaults read it (EBAB's lowest
            edge, uniform's range): default "linear" for every layer but the last, "softmax".
        x: (N, ...) the inputs. Without them the file says so (config ``inputs_recorded``: false)
            and holds the row numbers, (N, 1), in their place; the estimators that read X
            (``renyi``, ``sp``) refuse such a file by name, and ``inspect`` says it.
        train_idx: rows trained on (default: all rows).
        test_idx: rows tested on (default: none).
        metrics: any of train_loss, train_accuracy, test_loss, test_accuracy, each (E,) (nats and
            fractions; default NaN).
        config: JSON-serialisable description stored with the run (``activation``, ``seed`` ... as
            the table's columns read them).

    Raises ValueError naming the array whose shape or values do not fit (a fraction among the
    epochs or labels included: nothing is truncated), before the file is made.
    """
    epochs = whole_numbers(epochs, "epochs")
    arrays = [np.asarray(a, dtype=np.float32) for a in activity]
    if epochs.ndim != 1 or not len(epochs) or np.any(np.diff(epochs) <= 0):
        raise ValueError(f"epochs must be increasing whole numbers from 0 on, got {epochs.tolist()}")
    labels = whole_numbers(labels, "labels")
    if labels.ndim != 1:
        raise ValueError(f"labels must be (N,) integer classes from 0, got shape {labels.shape}")
    n = len(labels)
    if not arrays:
        raise ValueError("activity holds no layer")
    for i, a in enumerate(arrays):
        if a.ndim < 3 or a.shape[:2] != (len(epochs), n):
            raise ValueError(f"activity[{i}] has shape {a.shape}; expected ({len(epochs)} epochs, {n} inputs, ...)")
        if not np.isfinite(a).all():
            raise ValueError(f"activity[{i}] holds NaN or infinite values")
    names = list(activations) if activations is not None else [LINEAR] * (len(arrays) - 1) + [OUTPUT_ACTIVATION]
    if len(names) != len(arrays):
        raise ValueError(f"{len(arrays)} layers of activity but {len(names)} activations")
    inputs = x
    x = np.arange(n, dtype=np.float32)[:, None] if x is None else np.asarray(x, dtype=np.float32)
    if len(x) != n:
        raise ValueError(f"x has {len(x)} rows but labels {n}")
    unknown = sorted(set(metrics or {}) - set(METRICS))
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; the run file keeps {', '.join(METRICS)}")
    series = {name: np.full(len(epochs), np.nan) for name in METRICS}
    for name, values in (metrics or {}).items():
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (len(epochs),):
            raise ValueError(f"metric {name} has shape {values.shape}; expected ({len(epochs)},)")
        series[name] = values
    layers = [LayerSpec(int(np.prod(a.shape[2:])), name, None if a.ndim == 3 else tuple(a.shape[2:]))
              for a, name in zip(arrays, names)]
    train = np.arange(n) if train_idx is None else np.asarray(train_idx, dtype=np.int64)
    test = np.arange(0) if test_idx is None else np.asarray(test_idx, dtype=np.int64)
    full_config = {"n_classes": max(2, int(labels.max()) + 1 if n else 2), "epochs": int(epochs[-1]),
                   **({"inputs_recorded": False} if inputs is None else {}), **(config or {})}
    writer = RunWriter(path, x, labels, train, test, layers, full_config, epochs)
    missing = np.full(len(layers), np.nan)
    try:
        for e, epoch in enumerate(epochs):
            writer.append(int(epoch), [a[e].reshape(n, -1) for a in arrays],
                          {name: float(series[name][e]) for name in METRICS},
                          *(missing for _ in LAYER_STATISTICS))
    except BaseException:
        writer.close()
        raise
    writer.finish()
    return Path(path)
