"""The quantized-network study: Lorenzen, Igel & Nielsen's (ICLR 2022) set-up trained with
``--quantize-bits`` 8 and 4 and in float32, the exact information counted on the codes (``exact``)
and every estimator scored against it; their claims tested by stated rules (``results/quantized``).

Public names (``from ib_keras.studies.quantized import quantized_result``):
    configurations: STUDY, ESTIMATORS
    claims: quantized_result, QuantizedResult
    report: write_quantized_report, write_quantized_tables
    figures: make_quantized_figures
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "configurations": ("STUDY", "ESTIMATORS"),
    "claims": ("quantized_result", "QuantizedResult"),
    "report": ("write_quantized_report", "write_quantized_tables"),
    "figures": ("make_quantized_figures",),
})
