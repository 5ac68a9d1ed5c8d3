"""The MNIST study: Saxe et al.'s (2018) MNIST networks, 784-1024-20-20-20-10, tanh and ReLU,
under their protocol and estimators, then the adaptive estimators on the same networks
(``results/mnist``).

Public names (``from ib_keras.studies.mnist import write_mnist_report``):
    configurations: STUDY, MNIST_SETTINGS
    claims: mnist_claims, CLAIMS
    report: write_mnist_report
    figures: make_mnist_figures
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "configurations": ("STUDY", "MNIST_SETTINGS"),
    "claims": ("mnist_claims", "CLAIMS"),
    "report": ("write_mnist_report",),
    "figures": ("make_mnist_figures",),
})
