"""The paper study: Chelombiev, Houghton & O'Donnell (ICLR 2019) on the synthetic task, its four
claims tested by stated rules, its figures and this project's extensions (``results/paper``).

Public names (``from ib_keras.studies.paper import CLAIMS``):
    configurations: STUDY
    claims: CLAIMS, paper_claims
    report: write_report
    figures: make_figures
    figure_data: FigureData
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "configurations": ("STUDY",),
    "claims": ("CLAIMS", "paper_claims"),
    "report": ("write_report",),
    "figures": ("make_figures",),
    "figure_data": ("FigureData",),
})
