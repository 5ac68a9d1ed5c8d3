"""Saxe et al.'s MNIST claims, each tested by the baselines' stated rules
(`ib_keras.studies.baselines.claims`) on their networks trained under ``--protocol saxe-mnist``
and read with their MNIST estimators."""

from __future__ import annotations

from ib_keras.studies.baselines.claims import Baselines, Claim, claim_snr, claim_tanh_relu

PROTOCOL = "saxe-mnist"

# Their MNIST settings (`ib_keras.studies.mnist.configurations.MNIST_SETTINGS`), and the synthetic task's 0.07 bins.
SAXE_MNIST_SETTINGS = ("kde_upper", "kde_lower", "fixed_05", "fixed")

CLAIMS = [
    ("Saxe et al. (MNIST): tanh compresses, ReLU does not",
     "On MNIST too, read with KDE at s2 = 0.1 (their Fig. 1C-D, Appendix B.1), \"tanh networks compressed but "
     "ReLU networks did not\"; their Figs. 9-10 add KDE's lower bound and bins of 0.5."),
    ("Saxe et al. (MNIST): the SNR transition happens with and without compression",
     "\"For both the tanh and ReLU networks, the gradient SNR shows a phase transition during training\" "
     "(Appendix B.1, Figs. 9-10), although the ReLU network does not compress."),
]


def mnist_claims(b: Baselines) -> list[Claim]:
    """Each claim of `CLAIMS`, tested on the saxe-mnist networks of ``b``."""
    return [claim_tanh_relu(b, PROTOCOL, SAXE_MNIST_SETTINGS), claim_snr(b, PROTOCOL, "claim 1")]
