"""How many CPUs this process may use: the container's CPU quota (cgroup v2 `cpu.max`, or v1
`cpu.cfs_quota_us` / `cpu.cfs_period_us`), the CPU affinity, whichever is smaller.

`os.cpu_count()` is the node's core count: a pod limited to 2 CPUs on a 64-core node would
start 64 gateway processes, each with its own Postgres pool and listening connections.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

_CGROUP = Path("/sys/fs/cgroup")
_PROC_CGROUP = Path("/proc/self/cgroup")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _v2_path(proc_cgroup: Path) -> str:
    """This process's cgroup v2 path (`0::/a/b`), `/` when unknown (a cgroup namespace
    shows the container's own cgroup as `/`)."""
    for line in (_read(proc_cgroup) or "").splitlines():
        if line.startswith("0::"):
            return line[3:] or "/"
    return "/"


def cgroup_quota(root: Path = _CGROUP, proc_cgroup: Path = _PROC_CGROUP) -> float | None:
    """The CPU quota in CPUs (1.5 for `150000 100000`), None when there is none."""
    own = root / _v2_path(proc_cgroup).lstrip("/")
    for directory in (own, root):
        text = _read(directory / "cpu.max")
        if text is not None:
            quota, _, period = text.partition(" ")
            if quota == "max" or not period:
                return None
            return int(quota) / int(period)
    quota_us = _read(root / "cpu" / "cpu.cfs_quota_us") or _read(root / "cpu.cfs_quota_us")
    period_us = _read(root / "cpu" / "cpu.cfs_period_us") or _read(root / "cpu.cfs_period_us")
    if quota_us is None or period_us is None or int(quota_us) <= 0:
        return None
    return int(quota_us) / int(period_us)


def available_cpus(root: Path = _CGROUP, proc_cgroup: Path = _PROC_CGROUP) -> int:
    """The CPUs this process may use, at least 1 (a quota of 1.5 counts as 2)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    quota = cgroup_quota(root, proc_cgroup)
    if quota is not None:
        cpus = min(cpus, math.ceil(quota))
    return max(1, cpus)
