"""The CNN study: Wickstrom et al.'s (2019) small MNIST CNN (``--protocol wickstrom-cnn``), tanh and
ReLU, read on training and test images with the matrix-based Renyi estimator and with EBAB and
KDE; their claims tested by stated rules (``results/cnn``).

Public names (``from ib_keras.studies.cnn import write_cnn_report``):
    configurations: STUDY, SETTINGS
    claims: cnn_claims, CLAIMS
    report: write_cnn_report
    figures: make_cnn_figures
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "configurations": ("STUDY", "SETTINGS"),
    "claims": ("cnn_claims", "CLAIMS"),
    "report": ("write_cnn_report",),
    "figures": ("make_cnn_figures",),
})
