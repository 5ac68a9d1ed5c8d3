"""The estimator benchmark's configuration: no ``run_all.sh`` mode (its runs are trained by the
commands in results/estimators/README.md, then scored by ``estimator-benchmark``)."""

from __future__ import annotations

from ib_keras.studies.study import Study

STUDY = Study("estimators", "Which estimator can a user trust? Every estimator against known truths")
