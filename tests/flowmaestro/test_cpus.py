"""The gateway's process count follows the container's CPU quota, not the node's cores."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from flowmaestro.cpus import available_cpus, cgroup_quota

if TYPE_CHECKING:
    from pathlib import Path

AFFINITY = len(os.sched_getaffinity(0))


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_cgroup_v2_quota_is_read_from_the_process_own_cgroup(tmp_path: Path) -> None:
    proc = tmp_path / "proc-cgroup"
    write(proc, "0::/kubepods/pod1/c1\n")
    write(tmp_path / "kubepods/pod1/c1/cpu.max", "150000 100000\n")
    write(tmp_path / "cpu.max", "max 100000\n")
    assert cgroup_quota(tmp_path, proc) == 1.5
    assert available_cpus(tmp_path, proc) == min(AFFINITY, 2)


def test_a_namespaced_container_sees_its_quota_at_the_root(tmp_path: Path) -> None:
    proc = tmp_path / "proc-cgroup"
    write(proc, "0::/\n")
    write(tmp_path / "cpu.max", "50000 100000\n")
    assert cgroup_quota(tmp_path, proc) == 0.5
    assert available_cpus(tmp_path, proc) == 1


def test_no_quota_leaves_the_affinity(tmp_path: Path) -> None:
    proc = tmp_path / "proc-cgroup"
    write(proc, "0::/\n")
    write(tmp_path / "cpu.max", "max 100000\n")
    assert cgroup_quota(tmp_path, proc) is None
    assert available_cpus(tmp_path, proc) == AFFINITY
    assert available_cpus(tmp_path / "nothing", proc) == AFFINITY


def test_a_cgroup_v1_quota(tmp_path: Path) -> None:
    proc = tmp_path / "proc-cgroup"
    write(proc, "4:cpu,cpuacct:/docker/abc\n")
    write(tmp_path / "cpu/cpu.cfs_quota_us", "100000\n")
    write(tmp_path / "cpu/cpu.cfs_period_us", "100000\n")
    assert cgroup_quota(tmp_path, proc) == 1.0
    write(tmp_path / "cpu/cpu.cfs_quota_us", "-1\n")
    assert cgroup_quota(tmp_path, proc) is None
