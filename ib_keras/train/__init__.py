"""The train stage: a configuration's networks trained as ensembles into run files (the plan, its
checks of disk and memory, worker processes, resumption), sweeps of configurations (local, on Dask or as SLURM jobs), and the
callbacks that record (`callbacks/`). TensorFlow starts only where a network is trained.

Public names (``from ib_keras.train import TrainSpec``):
    spec: TrainSpec
    runs: TrainPlan, plan_training, train_configuration, train_plan
    resources: default_workers, members_per_model, check_memory
    sweep: train_sweep, submit_sweep
    fit: fit_ensemble, model_members
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "spec": ("TrainSpec",),
    "runs": ("TrainPlan", "plan_training", "train_configuration", "train_plan"),
    "resources": ("default_workers", "members_per_model", "check_memory"),
    "sweep": ("train_sweep", "submit_sweep"),
    "fit": ("fit_ensemble", "model_members"),
})
