"""Shared drawing: information planes in the paper's style, one run's plane (`plot_plane`), and
figures saved to files. Every study's figures (`ib_keras.studies`) are drawn with these; nothing
here knows a study.

Public names (``from ib_keras.plots import draw_plane``):
    planes: draw_plane, plane_grid, epoch_norm, add_epoch_colorbar, COLORMAP, X_LABEL, Y_LABEL
    files: Output, save_figure, files_only, PNG_PIXELS
    one_plane: plot_plane, plane_rows
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "planes": ("draw_plane", "plane_grid", "epoch_norm", "add_epoch_colorbar", "COLORMAP", "X_LABEL", "Y_LABEL"),
    "files": ("Output", "save_figure", "files_only", "PNG_PIXELS"),
    "one_plane": ("plot_plane", "plane_rows"),
})
