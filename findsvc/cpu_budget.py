"""How many CPUs this process may really use: `--processes auto` starts one server per CPU.

A container limited to 2 CPUs on a 32-core node still sees 32 cores in os.cpu_count(); the
limit is a CFS quota in its cgroup. So: the CPUs of the affinity mask (taskset, cpusets),
capped by the quota (rounded up) of this cgroup and each cgroup above it. Python's
os.process_cpu_count() knows only the mask, and no small, well-kept library reads the quota
(loky does, inside joblib), so these few lines read the files the kernel documents.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")


def usable_cpus(root: Path = CGROUP_ROOT, self_cgroup: Path = PROC_SELF_CGROUP) -> int:
    """At least 1: the affinity mask, capped by the cgroup CPU quota if there is one."""
    cpus = len(os.sched_getaffinity(0))
    quota = cgroup_cpu_quota(root, self_cgroup)
    if quota is not None:
        cpus = min(cpus, math.ceil(quota))
    return max(1, cpus)


def cgroup_cpu_quota(
    root: Path = CGROUP_ROOT, self_cgroup: Path = PROC_SELF_CGROUP
) -> float | None:
    """The tightest quota in CPUs over this cgroup and its ancestors (v2 or v1); None: no limit."""
    try:
        lines = self_cgroup.read_text().splitlines()
    except OSError:
        return None
    quotas: list[float] = []
    for line in lines:
        _id, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2: "0::/path", limits in cpu.max
            quotas += _v2_quotas(root, path)
        elif "cpu" in controllers.split(","):  # cgroup v1: cfs quota and period files
            for mount in (root / controllers, root / "cpu"):
                if mount.is_dir():
                    quotas += _v1_quotas(mount, path)
                    break
    return min(quotas) if quotas else None


def _up_from(base: Path, path: str) -> list[Path]:
    """base/path and every directory above it up to base. In a container the cgroup
    namespace makes path "/", and the container's own limit sits at base itself."""
    here = base / path.strip("/")
    dirs = [here, *here.parents]
    return [d for d in dirs if d == base or base in d.parents]


def _v2_quotas(root: Path, path: str) -> list[float]:
    quotas = []
    for directory in _up_from(root, path):
        fields = _read(directory / "cpu.max").split()
        if len(fields) == 2 and fields[0].isdigit() and fields[1].isdigit() and int(fields[1]):
            quotas.append(int(fields[0]) / int(fields[1]))
    return quotas


def _v1_quotas(mount: Path, path: str) -> list[float]:
    quotas = []
    for directory in _up_from(mount, path):
        quota = _read(directory / "cpu.cfs_quota_us")  # -1: no limit
        period = _read(directory / "cpu.cfs_period_us")
        if quota.isdigit() and period.isdigit() and int(quota) > 0 and int(period) > 0:
            quotas.append(int(quota) / int(period))
    return quotas


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""
