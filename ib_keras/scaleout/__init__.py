"""Scale-out: a stage's tasks on a Dask cluster (a running scheduler, or local:N worker processes),
or its commands as SLURM batch jobs that requeue themselves.

Public names (``from ib_keras.scaleout import dask_client``):
    cluster: dask_client, worker_threads, check_visible, finished
    slurm: SlurmJobs, batch_script, submit, active, wait_for, runs, expected_requeues
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "cluster": ("dask_client", "worker_threads", "check_visible", "finished"),
    "slurm": ("SlurmJobs", "batch_script", "submit", "active", "wait_for", "runs", "expected_requeues"),
})
