import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A parent whose two spawned workers would sleep for two minutes.
PARENT = """
import time
from ib_keras.system.workers import worker_pool
with worker_pool(2) as pool:
    for future in [pool.submit(time.sleep, 120) for _ in range(2)]:
        future.result()
"""


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_exit_when_their_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=ROOT)
    deadline = time.monotonic() + 60
    workers = []
    while time.monotonic() < deadline:
        # the spawn start method runs a resource tracker besides the two workers
        workers = [pid for pid in _children(parent.pid) if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        if len(workers) == 2:
            break
        time.sleep(0.2)
    assert len(workers) == 2, "the workers did not start"
    time.sleep(1)  # let each worker start its task
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(_alive, workers)), "workers outlived their killed parent"
