"""The estimator benchmark: every estimator setting scored against known truths (the exact
information of quantized networks, the noisy truth, benchmark-mi's discrete-continuous tasks),
shipped as results/estimators.

Public names (``from ib_keras.studies.estimators import run_benchmark``):
    configurations: STUDY
    claims: SETTINGS, leaderboard, score_exact, score_noisy, score_mixtures
    tasks: TASKS, uniform_mixture, zero_inflated_poisson
    benchmark: run_benchmark, Benchmark
    report: write_report
    figures: make_figures
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "configurations": ("STUDY",),
    "claims": ("SETTINGS", "leaderboard", "score_exact", "score_noisy", "score_mixtures"),
    "tasks": ("TASKS", "uniform_mixture", "zero_inflated_poisson"),
    "benchmark": ("run_benchmark", "Benchmark"),
    "report": ("write_report",),
    "figures": ("make_figures",),
})
