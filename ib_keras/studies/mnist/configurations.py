"""The MNIST study's configuration: ``./run_all.sh --mnist``, Saxe et al.'s MNIST networks under
their protocol (`ib_keras.networks.protocols`, ``saxe-mnist``) on a shortened schedule."""

from __future__ import annotations

from ib_keras.studies.study import Estimate, Group, Mode, Study

# The estimator settings the report reads, by name: its label and the setting as --estimators
# takes it. Saxe et al. (2018) read their MNIST networks with KDE at s2 = 0.1 (Appendix B.1: "we
# took the noise variance s2 = 0.1", upper bound in Fig. 1C-D, both bounds in Figs. 9-10) and
# with bins of 0.5 (Figs. 9-10, row 3); fixed 0.07 bins are their synthetic task's; EBAB and aKDE
# are the paper's adaptive estimators.
MNIST_SETTINGS = {
    "kde_upper": ("KDE s2 = 0.1, upper", "kde:noise_variance=0.1"),
    "kde_lower": ("KDE s2 = 0.1, lower", "kde:noise_variance=0.1:bound=lower"),
    "fixed_05": ("fixed bins 0.5", "fixed:bin_size=0.5"),
    "fixed": ("fixed bins 0.07", "fixed"),
    "ebab": ("EBAB", "ebab"),
    "akde": ("aKDE 0.1", "akde"),
}
EPOCHS = 100  # of their 10,000: what about 90 minutes of the 2-core machine trains and estimates for 8 networks
SEEDS = 4  # the fewest networks a claim's test counts (`ib_keras.analysis.statistics.STAR_MIN_N`)

STUDY = Study("mnist", "Saxe et al.'s MNIST networks (784-1024-20-20-20-10) under their protocol", (
    Mode("--mnist", f"Saxe et al.'s MNIST networks, tanh and ReLU, {SEEDS} seeds each, {EPOCHS} of their 10,000 "
                    "epochs; their claims in figures/mnist (downloads MNIST once through pip, about 2 hours)",
         (Group("saxe-mnist", ("tanh", "relu"), EPOCHS),), SEEDS, "runs/mnist", "figures/mnist",
         (Estimate("estimate", ",".join(text for _, text in MNIST_SETTINGS.values())),),
         ("mnist {summary} --out {figures} --timings {timings}",), 9.0),
))
