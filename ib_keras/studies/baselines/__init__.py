"""The baselines study: Shwartz-Ziv & Tishby (2017) and Saxe et al. (2018) under their own
protocols and estimators, then the adaptive estimators on the same networks (``results/baselines``).

Public names (``from ib_keras.studies.baselines import baselines``):
    configurations: STUDY
    claims: baselines, Baselines, CLAIMS
    report: write_baselines_report
    figures: make_baseline_figures
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "configurations": ("STUDY",),
    "claims": ("baselines", "Baselines", "CLAIMS"),
    "report": ("write_baselines_report",),
    "figures": ("make_baseline_figures",),
})
