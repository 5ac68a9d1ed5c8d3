"""The run file: one HDF5 file per trained network, the contract between training and estimation.

Its layout is `ib_keras.runfile.schema`'s docstring; nothing outside this folder knows it.

Public names (``from ib_keras.runfile import read_run``):
    schema: Run, LayerSpec, RunFileError, ForeignFileError, SCHEMA_VERSION, METRICS, LAYER_STATISTICS,
        config_dir, run_path, run_file_bytes, layer_name, model_layer_name
    writer: RunWriter, check_continuable
    arrays: write_run_arrays
    reader: read_run, check_regular_file
    checksums: fletcher32
    description: describe_run
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "schema": ("Run", "LayerSpec", "RunFileError", "ForeignFileError", "SCHEMA_VERSION", "METRICS", "LAYER_STATISTICS",
               "config_dir", "run_path", "run_file_bytes", "layer_name", "model_layer_name"),
    "writer": ("RunWriter", "check_continuable"),
    "arrays": ("write_run_arrays",),
    "reader": ("read_run", "check_regular_file"),
    "checksums": ("fletcher32",),
    "description": ("describe_run",),
})
