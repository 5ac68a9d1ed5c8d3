import os
from collections import Counter
from pathlib import Path

import pytest

# The suite runs two workers on two cores (pyproject's addopts): each keeps TensorFlow's and
# OpenBLAS's pools to one thread, as the training pools' workers do (`ib_keras.train.runs.one_thread`),
# rather than four threads contending for two cores. Set before TensorFlow or NumPy loads; children inherit it.
for _pool in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_pool, "1")

import ib_keras  # noqa: F401,E402  (before any test module starts TensorFlow: oneDNN off, as for the command line)

SHARED_VAR_U = Path(__file__).resolve().parents[2] / "shared" / "data" / "var_u.mat"


@pytest.fixture(scope="session", autouse=True)
def _frozen_imports():
    """Each pytest worker set up as a training worker is (`ib_keras.train.runs.one_thread`): its
    objects once TensorFlow and Keras are imported (with every test module's, collected by now) moved
    out of the garbage collector's scans, so that each training's `clear_session` and Python's own
    full collections scan what the tests made, not these 474,000 objects (0.21 s a collection; 6-7 %
    fewer core-seconds in the training modules)."""
    from ib_keras.train.runs import one_thread

    one_thread()


@pytest.fixture(scope="session")
def var_u_path() -> Path:
    """The original Shwartz-Ziv & Tishby data file beside the project; required under CI."""
    path = Path(os.environ.get("IB_KERAS_VAR_U", SHARED_VAR_U))
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI must check the dataset against the original file")
        pytest.skip(f"{path} not found (set IB_KERAS_VAR_U to the original var_u.mat)")
    return path


# The longest modules first (measured: --durations), then the others by their number of tests, most
# first (what xdist's reordering does, which would put test_slurm.py's five tests near the end):
# under --dist loadfile a worker takes whole files in this order, and a long one taken last leaves
# the other worker idle at the end (test_slurm.py waits on SLURM's jobs for about 2 minutes).
FIRST = ("test_slurm.py", "test_faults.py", "test_sweep.py", "test_cluster.py", "test_noisy.py", "test_cli.py",
         "test_resume_plans.py", "test_resume.py", "test_truth.py")


def pytest_collection_modifyitems(items):
    counts = Counter(item.path for item in items)
    rank = {name: position for position, name in enumerate(FIRST)}
    items.sort(key=lambda item: (rank.get(item.path.name, len(FIRST)), -counts[item.path], str(item.path)))
