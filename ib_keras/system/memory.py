"""How much memory the machine can give a computation now, for the stages' plans."""

from __future__ import annotations

import os


def available_memory() -> int:
    """Bytes of memory available now: Linux's MemAvailable (free memory and what the page cache
    would give back), else the free pages, else 4 GiB where the system does not say."""
    try:
        with open("/proc/meminfo") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 * 2**30
