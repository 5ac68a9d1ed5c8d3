"""Figures of the paper from the MI table."""

from ib_keras.plots.figures import make_figures

__all__ = ["make_figures"]
