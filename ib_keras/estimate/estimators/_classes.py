"""Points sorted by class, as every kernel sum takes them: each class a contiguous range."""

from __future__ import annotations

import numpy as np


def class_order(classes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order, sorted_classes, class_bounds): the stable order that sorts ``classes`` (N,), the
    classes in it, and the (C + 1,) int64 starts of each class's range, then N."""
    order = np.argsort(classes, kind="stable")
    sorted_classes = np.asarray(classes)[order]
    class_bounds = np.flatnonzero(np.r_[True, sorted_classes[1:] != sorted_classes[:-1], True]).astype(np.int64)
    return order, sorted_classes, class_bounds


def class_ranges(class_bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends), each (N,) int64: the range of the class of every sorted position."""
    sizes = np.diff(class_bounds)
    return np.repeat(class_bounds[:-1], sizes).astype(np.int64), np.repeat(class_bounds[1:], sizes).astype(np.int64)
