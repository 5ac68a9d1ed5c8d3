"""The quantized-network study's configuration: ``./run_all.sh --quantized``. Lorenzen, Igel &
Nielsen's (ICLR 2022) set-up (`ib_keras.networks.protocols`, ``lorenzen``) at 8 and 4 bits and in
float32, the exact information of the quantized networks counted (``exact``) and every estimator
scored against it."""

from __future__ import annotations

from ib_keras.studies.study import Estimate, Group, Mode, Study

PROTOCOL = "lorenzen"
EPOCHS = 8000  # theirs (experiment/helpers/quantize.py)
SEEDS_8BIT = 40  # of their 50 repetitions (experiment/helpers/quantize.py): what fitted the session, said in the report
SEEDS_OTHER = 6  # 4-bit and float32, for comparison
RECORD_POINTS = 100  # log-spaced (their every 5th epoch would be 1,600 recorded epochs per network)
# The estimators scored against the exact value, by name: label and setting as --estimators takes it.
# Uniform bins over each layer-epoch's range at their appendix's 30, 100 and 256 bins (IB/__main__.py,
# `for n_bins in [30, 100, 256]`, bounds="layer"); Saxe et al.'s fixed bins of 0.07; the paper's
# EBAB and aKDE at their defaults; Saxe et al.'s KDE upper bound at s2 = 1e-3.
ESTIMATORS = {
    "uniform_30": ("uniform, 30 bins", "uniform:n_bins=30:lo=layer_min:hi=layer_max"),
    "uniform_100": ("uniform, 100 bins", "uniform:n_bins=100:lo=layer_min:hi=layer_max"),
    "uniform_256": ("uniform, 256 bins", "uniform:n_bins=256:lo=layer_min:hi=layer_max"),
    "fixed": ("fixed 0.07", "fixed"),
    "ebab": ("EBAB", "ebab"),
    "kde": ("KDE s2 = 1e-3", "kde"),
    "akde": ("aKDE", "akde"),
}
EXACT = "exact"

STUDY = Study("quantized", "Quantized networks: the exact information plane (Lorenzen, Igel & Nielsen, ICLR 2022)", (
    Mode("--quantized", f"quantized networks (Lorenzen et al. 2022): their 12-10-7-5-4-3-2 set-up, tanh and ReLU, "
                        f"{EPOCHS} epochs, {SEEDS_8BIT} networks each at 8 bits, {SEEDS_OTHER} at 4 bits and in "
                        f"float32; exact information counted, and every estimator scored against it; claims in "
                        f"figures/quantized",
         (Group(PROTOCOL, ("tanh", "relu"), EPOCHS, quantize_bits=8, seeds=SEEDS_8BIT),
          Group(PROTOCOL, ("tanh", "relu"), EPOCHS, quantize_bits=4),
          Group(PROTOCOL, ("tanh", "relu"), EPOCHS)),
         SEEDS_OTHER, "runs/quantized", "figures/quantized",
         (Estimate("exact", EXACT, quantized=True),
          Estimate("estimate", ",".join(setting for _, setting in ESTIMATORS.values()))),
         ("quantized {tables} --out {figures} --timings {timings}",), 0.5, summarize=False, group_dirs=True,
         record_points=RECORD_POINTS),
    # measured: 24 networks of 8000 epochs, in 2 models of 12, took about 10 minutes on this 2-core machine
))
