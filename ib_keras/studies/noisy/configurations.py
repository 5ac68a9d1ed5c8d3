"""The noisy-network study's configuration: ``./run_all.sh --noisy``."""

from __future__ import annotations

from ib_keras.studies.study import Estimate, Group, Mode, Study

STUDY = Study("noisy", "Noisy networks (Goldfeld et al., ICML 2019): sample propagation beside the estimators", (
    # Goldfeld et al.'s set-up (ICML 2019, Section 6): s = 0.005, Adam 4e-4, batch 256 (the chelombiev
    # protocol's), 10000 epochs; 98 log-spaced points give 84 distinct recorded epochs.
    Mode("--noisy", "noisy networks (Goldfeld et al. 2019): tanh and ReLU, noise s = 0.005 after every hidden "
                    "layer, Adam 4e-4, batch 256, 10000 epochs, 84 recorded, 10 seeds each; sample propagation (sp) "
                    "at every 2nd recorded epoch beside the other estimators at every one; claims in figures/noisy",
         (Group("chelombiev", ("tanh", "relu"), 10000),), 10, "runs/noisy", "figures/noisy",
         (Estimate("estimate", "noisy:noise_variance=2.5e-05,kde:noise_variance=2.5e-05,fixed:bin_size=0.005,ebab"),
          Estimate("sp", "sp", stride=2),  # 0.75 s per layer-epoch: every 2nd recorded epoch and the last
          Estimate("sensitivity", "sp:replicas=256:marginal_replicas=16", "seed-000.h5", 12)),  # the replica bias
         ("noisy-report {table} --out {figures} --timings {timings}",), 3.0, summarize=False, noise_std=0.005,
         record_points=98),
    # estimated: training 10 networks x 10000 epochs took 9 min per activation
))
