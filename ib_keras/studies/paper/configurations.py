"""The paper study's configurations: ``./run_all.sh --quick`` (the default) and ``--full``."""

from __future__ import annotations

from ib_keras.studies.study import Estimate, Group, Mode, Study

# Every setting of the paper's estimators, and the truth (noisy) beside each KDE setting with the
# lower bounds, on a subset of seeds and of recorded epochs (every stride-th and the last).
PAPER_ESTIMATORS = "ebab,akde,uniform,fixed,kde,akde:variance_scale=0.01,akde:variance_scale=1"
TRUTH_ESTIMATORS = ("noisy,noisy:variance_scale=0.1,noisy:variance_scale=0.01,noisy:variance_scale=1,kde:bound=lower,"
                    "akde:bound=lower,akde:variance_scale=0.01:bound=lower,akde:variance_scale=1:bound=lower")
_FINISH = ("plot {summary} --out {figures}", "report {summary} --out {figures}/REPORT.md --timings {timings}")

STUDY = Study("paper", "Chelombiev et al. (ICLR 2019): adaptive estimators on the synthetic task", (
    Mode("--quick", "the quick run (default): tanh, ReLU, ELU, swish, 3 seeds, 1500 epochs, L2 for tanh and ReLU, "
                    "every estimator, every figure and the report; the truth (noisy) at every 6th recorded epoch",
         (Group("chelombiev", ("tanh", "relu", "elu", "swish"), 1500, ("tanh", "relu")),), 3, "runs/quick", "figures",
         (Estimate("estimate", PAPER_ESTIMATORS), Estimate("truth", TRUTH_ESTIMATORS, "seed-*.h5", 6)),
         _FINISH, 0.22, note="the truth (noisy) on every seed, every 6th recorded epoch"),
    # measured: 3.7 min for 18 networks on a fresh clone (train 54 s, estimate 57, truth 86, plot 24)
    Mode("--full", "the paper's protocol: 11 activations x 50 seeds x 8000 epochs, plus L2 (lambda 0.015) for tanh "
                   "and ReLU; the truth on seeds 0-9 at every 4th recorded epoch",
         (Group("chelombiev", ("tanh", "relu", "softsign", "softplus", "centered_softplus", "elu", "prelu", "swish",
                               "abs", "leaky_relu", "sigmoid"), 8000, ("tanh", "relu")),), 50, "runs/paper",
         "figures", (Estimate("estimate", PAPER_ESTIMATORS), Estimate("truth", TRUTH_ESTIMATORS, "seed-00[0-9].h5", 4)),
         _FINISH, 0.15, note="the truth (noisy) on seeds 0-9 of 50, every 4th recorded epoch"),
    # measured: 78 min for 650 networks (train 49, estimate 27, plot 1), the truth 21
))
