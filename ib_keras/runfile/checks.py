"""What a run file's contents must be, checked in one place: by the writer before it creates a
file (so that bad input leaves no file) and by the reader on every file it reads (so that a file
damaged or edited since is named).

Each check returns a problem in words ('' when there is none); the writer turns it into a
ValueError about its argument, the reader into a RunFileError about the file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np


def whole_numbers(values, name: str, low: int = 0) -> np.ndarray:
    """``values`` as an int64 array, if every one is a whole number >= ``low`` (an integer type,
    or floats with no fractional part); ValueError naming ``name`` and the first value that is not
    (a fraction is never truncated, a string never parsed)."""
    array = np.asarray(values)
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(f"{name} must be whole numbers >= {low}, got values of type {array.dtype}"
                         f"{f' ({array.ravel()[0].item()!r}, ...)' if array.size else ''}")
    if np.issubdtype(array.dtype, np.floating):
        bad = ~np.isfinite(array) | (array != np.round(array))
        if bad.any():
            raise ValueError(f"{name} must be whole numbers >= {low}, got {array[bad].ravel()[0].item()!r} (position "
                             f"{int(np.flatnonzero(bad.ravel())[0])}); give whole numbers, nothing is rounded")
    whole = array.astype(np.int64)
    if whole.size and whole.min() < low:
        raise ValueError(f"{name} must be whole numbers >= {low}, got {int(whole.min())}")
    return whole


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# The config fields the stages read, each with its test and what it must be; fields a config lacks
# (a user's own recorder config) are not checked.
_CONFIG_FIELDS = {
    "activation": (lambda v: isinstance(v, str), "a name"),
    "protocol": (lambda v: isinstance(v, str), "a name"),
    "dataset": (lambda v: isinstance(v, str), "a name"),
    "split": (lambda v: isinstance(v, str), "a name"),
    "minibatch_order": (lambda v: isinstance(v, str), "a name"),
    "output_init": (lambda v: isinstance(v, str), "a name"),
    "recorded_at": (lambda v: isinstance(v, str), "a name"),
    "l2": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < float("inf"),
           "a number >= 0"),
    "seed": (lambda v: _is_int(v) and v >= 0, "a whole number >= 0"),
    "split_seed": (lambda v: _is_int(v) and v >= 0, "a whole number >= 0"),
    "epochs": (lambda v: _is_int(v) and v >= 1, "a whole number >= 1"),
    "record_points": (lambda v: v is None or (_is_int(v) and v >= 1), "a whole number >= 1 or null"),
    "hidden_units": (lambda v: isinstance(v, list) and all(_is_int(u) and u >= 1 for u in v), "a list of widths"),
    "n_classes": (lambda v: _is_int(v) and v >= 2, "a whole number >= 2"),
    "inputs_recorded": (lambda v: isinstance(v, bool), "true or false"),
}


def config_problem(config) -> str:
    """Why ``config`` cannot be a run's config: not a JSON object, or a field the stages read of
    the wrong kind ('' when it can)."""
    if not isinstance(config, dict):
        return f"config is a {type(config).__name__}, not a JSON object (a dict)"
    try:
        json.dumps(config)
    except (TypeError, ValueError) as error:
        return f"config is not JSON-serialisable ({error})"
    for name, (valid, expected) in _CONFIG_FIELDS.items():
        if name in config and not valid(config[name]):
            return f"config field '{name}' is {config[name]!r}, expected {expected}"
    return ""


def contents_problem(n: int, y: np.ndarray, classes: int, train_idx: np.ndarray, test_idx: np.ndarray,
                     epochs: Sequence[int] = (), last_epoch: int | None = None) -> str:
    """Why these cannot be a run's contents ('' when they can): no inputs, labels that are not
    (N,) classes 0..``classes`` - 1, indices outside 0..N - 1 or repeated, epochs not increasing
    from 0 or beyond ``last_epoch``."""
    if n < 1:
        return "no inputs (N = 0): a run records its layers on at least one input"
    if y.shape != (n,) or not (0 <= y.min() and y.max() < classes):
        return (f"field 'y' holds values outside the {classes} classes 0..{classes - 1} (or is not ({n},)): "
                f"got {y.shape} labels from {y.min(initial=0)} to {y.max(initial=0)}")
    for name, indices in (("train_idx", train_idx), ("test_idx", test_idx)):
        if indices.ndim != 1 or len(indices) and not (0 <= indices.min() and indices.max() < n) \
                or len(np.unique(indices)) != len(indices):
            return f"field '{name}' holds indices outside 0..{n - 1} or repeated ones"
    epochs = np.asarray(epochs)
    if len(epochs) and (epochs[0] < 0 or np.any(np.diff(epochs) <= 0) or (last_epoch is not None
                                                                          and epochs[-1] > last_epoch)):
        return f"field 'epochs' is not increasing from 0 to the config's {last_epoch} epochs"
    return ""
