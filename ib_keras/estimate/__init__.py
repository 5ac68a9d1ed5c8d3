"""The estimate stage: I(X;T) and I(T;Y), in bits, of every run file, epoch and layer, into one table.

``estimators/`` holds the methods, one private module each, behind `estimate_mi` (arrays in,
bits out); the modules here apply them to run files, split by job: the settings
(`settings`), the files (`files`), one file's rows (`run_rows`), the table's columns and I/O
(`table`), the tasks and where they run (`tasks`), crash-safe parts (`parts`), the stage
itself (`stage`), and the stage as SLURM jobs (`slurm_jobs`).

Public names (``from ib_keras.estimate import estimate_runs``):
    estimators.mi: estimate_mi, estimate_mi_many, estimate_sp, within_between, Estimate, METHODS
    settings: EstimatorSpec, parse_estimators, canonical_params, setting_text, layer_params, resolve_run_values,
        stratified_subsample, SAMPLES, RUN_MAX, RUN_MIN, BY_ACTIVATION, default_estimator
    files: run_files, file_hash
    run_rows: estimate_run, layer_information
    table: read_table, write_table, check_columns, COLUMNS, LATER, RUN_SETTINGS, LAYER_COLUMNS, STANDARD_ERRORS
    tasks: strided_epochs
    stage: estimate_runs
    slurm_jobs: submit_estimate
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "estimators.mi": ("estimate_mi", "estimate_mi_many", "estimate_sp", "within_between", "Estimate", "METHODS"),
    "settings": ("EstimatorSpec", "parse_estimators", "canonical_params", "setting_text", "layer_params",
                 "resolve_run_values", "stratified_subsample", "SAMPLES", "RUN_MAX", "RUN_MIN", "BY_ACTIVATION",
                 "default_estimator"),
    "files": ("run_files", "file_hash"),
    "run_rows": ("estimate_run", "layer_information"),
    "table": ("read_table", "write_table", "check_columns", "COLUMNS", "LATER", "RUN_SETTINGS", "LAYER_COLUMNS",
              "STANDARD_ERRORS"),
    "tasks": ("strided_epochs",),
    "stage": ("estimate_runs",),
    "slurm_jobs": ("submit_estimate",),
})
