"""The baselines study's configuration: ``./run_all.sh --baselines``, each paper's networks under
its own protocol (`ib_keras.networks.protocols`), 50 seeds each."""

from __future__ import annotations

from ib_keras.studies.paper.configurations import PAPER_ESTIMATORS
from ib_keras.studies.study import Estimate, Group, Mode, Study

STUDY = Study("baselines", "Shwartz-Ziv & Tishby (2017) and Saxe et al. (2018) under their own protocols", (
    Mode("--baselines", "the baselines under their own protocols: Shwartz-Ziv & Tishby tanh, Saxe et al. tanh and "
                        "ReLU, 50 seeds each; their claims in figures/baselines",
         (Group("shwartz-ziv", ("tanh",), 8000), Group("saxe", ("tanh", "relu"), 10000)), 50, "runs/baselines",
         "figures/baselines", (Estimate("estimate", PAPER_ESTIMATORS + ",kde:bound=lower"),),
         ("baselines {summaries} --out {figures} --timings {timings}",), 0.49, group_dirs=True),
    # measured: 73 min for 150 networks (train 26, estimate 47)
))
