"""What every stage needs from the machine: outputs written all at once or not at all, locks
on output paths, clean worker processes, the memory free now, its matrix-product rate,
command-line values checked.

Public names (``from ib_keras.system import atomic_path``):
    atomic: atomic_path, created_directory, output_set, finish_pending, check_utf8
    locks: exclusive
    workers: worker_pool
    memory: available_memory
    compute: matmul_gflops
    arguments: number, positive_int, path_text
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "atomic": ("atomic_path", "created_directory", "output_set", "finish_pending", "check_utf8"),
    "locks": ("exclusive",),
    "workers": ("worker_pool",),
    "memory": ("available_memory",),
    "compute": ("matmul_gflops",),
    "arguments": ("number", "positive_int", "path_text"),
})
