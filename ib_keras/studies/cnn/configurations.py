"""The CNN study's configuration: Wickstrom et al.'s MNIST CNN under their protocol
(`ib_keras.networks.protocols`, ``wickstrom-cnn``), its activity recorded on 500 test and 500
training images, read on each set with the matrix-based Renyi estimator and with EBAB and KDE."""

from __future__ import annotations

from ib_keras.studies.study import Study

INPUT_SETS = ("train", "test")
# The estimator settings the report reads, by name: its label and the setting as --estimators
# takes it, each on the training and on the test images. Renyi at Yu et al.'s alpha 1.01 with
# Wickstrom's k-nearest-neighbour widths (python/network.py) and with their label-alignment widths
# (cnnMI.ipynb); EBAB (the paper's adaptive binning) and KDE at Saxe et al.'s MNIST s2 = 0.1, both
# on the flattened activity.
ESTIMATORS = {
    "renyi": ("Renyi kNN", "renyi"),
    "renyi_alignment": ("Renyi aligned", "renyi:width=alignment"),
    "ebab": ("EBAB", "ebab"),
    "kde": ("KDE s2 = 0.1", "kde:noise_variance=0.1"),
}
SETTINGS = {f"{name}_{inputs}": (f"{label}, {inputs}", f"{text}:inputs={inputs}")
            for name, (label, text) in ESTIMATORS.items() for inputs in INPUT_SETS}
# What `estimate` is given: the settings, and EBAB at its defaults on all 1,000 images, which
# `summarize` needs (the rows every bundle's figures read at an estimator's default settings).
ESTIMATORS_ARGUMENT = ",".join([*(text for _, text in SETTINGS.values()), "ebab"])
PROTOCOL = "wickstrom-cnn"
SEEDS = 4  # the fewest networks a claim's test counts (`ib_keras.analysis.statistics.STAR_MIN_N`)
EPOCHS = 10  # the protocol's (cnn_hero_ex.py)
RECORD_INPUTS = 500  # test images; and as many training images (--record-train-inputs)
TRAIN_OPTIONS = (f"--protocol {PROTOCOL} --seeds {SEEDS} --epochs {EPOCHS} --record-inputs {RECORD_INPUTS} "
                 f"--record-train-inputs {RECORD_INPUTS} --record-dtype float16")

STUDY = Study("cnn", "Wickstrom et al.'s MNIST CNN, read with the matrix-based Renyi estimator")
