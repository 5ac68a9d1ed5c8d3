"""The noisy-network study: Goldfeld et al. (ICML 2019), sample propagation (sp) beside the other
estimators on networks with Gaussian noise after every hidden layer (``results/noisy``).

Public names (``from ib_keras.studies.noisy import analyse``):
    configurations: STUDY
    claims: analyse, NoisyResult, study_settings
    report: noisy_report, write_noisy_report
    figures: make_noisy_figures
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "configurations": ("STUDY",),
    "claims": ("analyse", "NoisyResult", "study_settings"),
    "report": ("noisy_report", "write_noisy_report"),
    "figures": ("make_noisy_figures",),
})
