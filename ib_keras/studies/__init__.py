"""Studies: each a folder of one shape (``configurations.py``: its run_all.sh modes; ``claims.py``:
its claims and their rules; ``report.py``: its REPORT.md; ``figures.py``; ``command.py``: its
commands), registered by one line in `registry`, which the command line and ``run_all.sh`` read.
Shared: what a study declares (`study`), Markdown pieces (`markdown`), stage times (`timings`),
a report and its figures written as one set (`bundle`).

Public names (``from ib_keras.studies import REGISTERED``):
    registry: REGISTERED, studies
    study: Study, Mode, Group, Estimate, Command
    markdown: table, number, p_value, escape, link
    timings: read_timings
    bundle: write_bundle
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "registry": ("REGISTERED", "studies"),
    "study": ("Study", "Mode", "Group", "Estimate", "Command"),
    "markdown": ("table", "number", "p_value", "escape", "link"),
    "timings": ("read_timings",),
    "bundle": ("write_bundle",),
})
