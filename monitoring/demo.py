"""`make dashboard-demo`: the dashboard's panels drawn from a real Prometheus and findsvc.

Starts a private MariaDB, `findsvc serve` (cache on, a small concurrency limit) and Debian's
Prometheus (loopback, free ports, a temporary TSDB, the generated rules), drives three minutes'
worth of events in about one (steady load, a burst past the limit, the database stopped for
10 s), then asks Prometheus' HTTP API for every panel's queries and draws them with matplotlib.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from devkit.load import run_load
from devkit.mariadb import PrivateMariaDB, free_port
from devkit.server import ServerProcess
from devkit.users import seed_users
from monitoring.generated import DASHBOARD, ROOT, RULES_FILE

PICTURE = ROOT / "monitoring" / "dashboard.png"
PANELS_DIR = ROOT / "build" / "dashboard-demo"
VARIABLES = {"$__rate_interval": "10s", "$namespace": ".*"}
SCALE = {"percentunit": (100, "%"), "s": (1000, "ms"), "reqps": (1, "/s"), "bytes": (2**-20, "MiB")}
USERS = 2000


def _prometheus(work: Path, metrics_port: int) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("prometheus")
    if binary is None:
        raise SystemExit("dashboard-demo: no prometheus (Debian's package): run `make tools`")
    port = free_port()
    config = work / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: [{ROOT / RULES_FILE}]\n"
        "scrape_configs:\n"
        f"  - job_name: findsvc\n    static_configs: [{{targets: ['127.0.0.1:{metrics_port}']}}]\n"
    )
    process = subprocess.Popen(  # noqa: S603 (our own config, a binary found on PATH)
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={work / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1):  # noqa: S310 (loopback)
                return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("dashboard-demo: prometheus did not start")


def _drive(
    target: str, names: list[str], database: PrivateMariaDB
) -> dict[str, tuple[float, float]]:
    """The load's phases, as (start, end) wall-clock times."""
    phases = {}
    started = time.time()
    run_load(target, names, concurrency=8, seconds=15)
    phases["steady"] = (started, time.time())
    started = time.time()
    # One load process: it connects before its calls start, so its first call is not shed.
    run_load(target, names, concurrency=56, seconds=15, processes=1)
    phases["burst past the limit"] = (started, time.time())
    background = threading.Thread(target=run_load, args=(target, names, 8, 30))
    background.start()
    time.sleep(8)
    started = time.time()
    database.stop()
    time.sleep(10)
    database.start()
    phases["database stopped"] = (started, time.time())
    background.join()
    time.sleep(3)  # the last scrapes
    return phases


def _query_range(url: str, expr: str, start: float, end: float) -> list[dict[str, Any]]:
    for variable, value in VARIABLES.items():
        expr = expr.replace(variable, value)
    query = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": 1})
    with urllib.request.urlopen(f"{url}/api/v1/query_range?{query}", timeout=30) as answer:  # noqa: S310
        result: list[dict[str, Any]] = json.load(answer)["data"]["result"]
    return result


def _legend(template: str, labels: dict[str, str]) -> str:
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template).strip()


def _draw(
    axes: Any,
    panel: dict[str, Any],
    url: str,
    span: tuple[float, float],
    phases: dict[str, tuple[float, float]],
) -> None:
    start, end = span
    factor, unit = SCALE.get(panel["fieldConfig"]["defaults"]["unit"], (1, ""))
    drawn = 0
    for target in panel["targets"]:
        for series in _query_range(url, target["expr"], start, end):
            times = [float(t) - start for t, _ in series["values"]]
            values = [float(v) * factor for _, v in series["values"]]
            axes.plot(times, values, label=_legend(target["legendFormat"], series["metric"]))
            drawn += 1
    for colour, (phase_start, phase_end) in zip(
        ("#eef", "#fee", "#fdd"), phases.values(), strict=False
    ):
        axes.axvspan(phase_start - start, phase_end - start, color=colour, zorder=0)
    axes.set_title(panel["title"], fontsize=10)
    axes.set_ylabel(unit)
    axes.tick_params(labelsize=8)
    if drawn:
        axes.legend(fontsize=7, loc="upper left")
    else:
        note = "cAdvisor: Kubernetes only" if "container_" in str(panel["targets"]) else "no data"
        axes.text(
            0.5,
            0.5,
            f"no series here\n({note})",
            ha="center",
            va="center",
            transform=axes.transAxes,
            color="grey",
        )


def render(url: str, span: tuple[float, float], phases: dict[str, tuple[float, float]]) -> None:
    panels = json.loads((ROOT / DASHBOARD).read_text())["panels"]
    PANELS_DIR.mkdir(parents=True, exist_ok=True)
    columns = 3
    rows = -(-len(panels) // columns)
    figure, grid = plt.subplots(rows, columns, figsize=(15, 3.2 * rows), sharex=True)
    for index, (axes, panel) in enumerate(zip(grid.flat, panels, strict=False)):
        _draw(axes, panel, url, span, phases)
        single, single_axes = plt.subplots(figsize=(6, 3.5))
        _draw(single_axes, panel, url, span, phases)
        slug = re.sub(r"[^a-z0-9]+", "-", panel["title"].lower()).strip("-")
        single.savefig(PANELS_DIR / f"{index + 1:02d}-{slug}.png", dpi=80, bbox_inches="tight")
        plt.close(single)
    for axes in grid.flat[len(panels) :]:
        axes.axis("off")
    shading = ", ".join(
        f"{name} ({shade})" for name, shade in zip(phases, ("blue", "pink", "red"), strict=False)
    )
    figure.suptitle(
        "make dashboard-demo: findsvc's dashboard panels, seconds from the start;"
        f" shaded: {shading}",
        fontsize=11,
    )
    figure.tight_layout()
    figure.savefig(PICTURE, dpi=70)
    print(PICTURE.relative_to(ROOT), "and", PANELS_DIR.relative_to(ROOT))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="findsvc-dashboard-demo-"))
    database = PrivateMariaDB()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        database.start()
        names = seed_users(database, USERS)
        unknown = [f"NoSuchUser{i:04d}" for i in range(USERS // 10)]  # client errors: NOT_FOUND
        metrics_port = free_port()
        env = {
            "FINDSVC_DB_URL": database.url,
            "FINDSVC_METRICS_PORT": str(metrics_port),
            "FINDSVC_CACHE_TTL_S": "20",
            "FINDSVC_MAX_CONCURRENCY": "24",
        }
        server = ServerProcess(env, keep_logs=False)
        processes.append(server.process)
        server.wait_health(timeout_s=30)
        target = server.target
        prometheus, url = _prometheus(work, metrics_port)
        processes.append(prometheus)
        time.sleep(5)  # a few scrapes before the load
        started = time.time() - 5
        phases = _drive(target, names + unknown, database)
        render(url, (started, time.time()), phases)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        database.destroy()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
