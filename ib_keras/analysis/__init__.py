"""From the MI table to the numbers the studies report: compression and its statistics, the small
summary bundle the figures and reports are drawn from, the KDE bounds against the truth, and the
compact Parquet every shipped table is written in.

Public names (``from ib_keras.analysis import compression``):
    statistics: compression, compression_summary, default_estimates, spread, correlation, benjamini_hochberg,
        final_accuracies, STAR_MIN_N, LEARNED
    summary: Summary, summarize, write_summary, read_summary, load
    truth: truth_rows, paired, with_errors, error_summary, compression_against_truth
    compact: write_compact
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "statistics": ("compression", "compression_summary", "default_estimates", "spread", "correlation",
                   "benjamini_hochberg", "final_accuracies", "STAR_MIN_N", "LEARNED"),
    "summary": ("Summary", "summarize", "write_summary", "read_summary", "load"),
    "truth": ("truth_rows", "paired", "with_errors", "error_summary", "compression_against_truth"),
    "compact": ("write_compact",),
})
