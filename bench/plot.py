"""The bench's pictures: findsvc, the naive reference and the ceiling stand out; experiments and
variants get a panel of their own, with the main lines as faded bands behind them. Every series
has a colour of its own, and the legends sit outside the data."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.targets import GOODPUT_AT_2X

# The story, in this order: what we ship, what we were asked to beat, what Python gRPC can do.
MAIN = {
    "findsvc": "#1f4fbf",
    "findsvc_shipped": "#7fa6ff",
    "findsvc_shipped_hot": "#00a0a0",
    "findsvc_cache": "#2ca02c",
    "naive": "#d62728",
    "ceiling": "#111111",
}
OTHER_COLOURS = (
    "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
    "#ffbb78", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5",
)  # fmt: skip
STYLE = {
    "main": {"linewidth": 2.6, "marker": "o", "markersize": 6},
    "other": {"linewidth": 1.4, "marker": "o", "markersize": 4},
    "backdrop": {"linewidth": 6, "alpha": 0.18, "solid_capstyle": "round"},
}
LEGEND_OUTSIDE = {"loc": "upper left", "bbox_to_anchor": (1.03, 1.0), "borderaxespad": 0}


def colours(keys: Iterable[str]) -> dict[str, str]:
    """A colour a series, none shared; the main ones always the same."""
    spare = iter(OTHER_COLOURS)
    return {key: MAIN[key] if key in MAIN else next(spare, "#cccccc") for key in keys}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _series(axes: Any, points: dict[str, Any], fields: Iterable[str], **style: Any) -> None:
    xs = [float(level) for level in points]
    for axis, field in zip(axes, fields, strict=True):
        axis.plot(xs, [point[field] for point in points.values()], **style)


def _style(key: str, role: str, colour: str, label: str | None) -> dict[str, Any]:
    # The other ceilings are dashed, as the ceiling's kin.
    dashed = {"linestyle": "--"} if key.startswith("ceiling_") and role == "other" else {}
    return {**STYLE[role], **dashed, "color": colour, "label": label}


def _plain_ticks(axis: Any, levels: list[float], log_y: bool) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    plain = FuncFormatter(lambda value, _: f"{value:g}")
    axis.set_xticks(levels)
    axis.xaxis.set_major_formatter(plain)
    axis.xaxis.set_minor_formatter(NullFormatter())
    if log_y:
        axis.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.yaxis.set_major_formatter(plain)
        axis.yaxis.set_minor_formatter(NullFormatter())


def closed_loop(report: dict[str, Any], path: Path) -> None:
    """Throughput and p99 against calls in flight: the main lines on top, the rest below."""
    plt = _pyplot()
    results, labels = report["results"], report.get("labels", {})
    colour = colours(results)
    fields = ("calls_per_s", "p99_ms")
    main = [key for key in MAIN if key in results]
    others = [key for key in results if key not in MAIN]
    rows = [(main, "findsvc, the naive reference and the transport ceiling", "main")]
    if others:
        rows.append((others, "experiments and variants (the lines above, as bands)", "other"))
    levels = sorted({float(level) for points in results.values() for level in points})
    figure, axes = plt.subplots(
        len(rows), 2, figsize=(15, 4.6 * len(rows)), sharey="col", squeeze=False
    )
    for (throughput, p99), (keys, title, role) in zip(axes, rows, strict=True):
        if role == "other":  # the main lines as an unlabelled backdrop
            for key in main:
                _series(
                    (throughput, p99),
                    results[key],
                    fields,
                    **_style(key, "backdrop", colour[key], None),
                )
        for key in keys:
            label = textwrap.fill(f"{key}: {labels.get(key, '')}".rstrip(": "), 46)
            _series(
                (throughput, p99), results[key], fields, **_style(key, role, colour[key], label)
            )
        throughput.set_title(f"Throughput: {title}", fontsize=10)
        throughput.set_ylabel("calls/s")
        p99.set_title("p99 latency", fontsize=10)
        p99.set_ylabel("ms (log scale)")
        p99.set_yscale("log")
        legend_title = "findsvc and the baselines" if role == "main" else "experiments and variants"
        p99.legend(**LEGEND_OUTSIDE, fontsize=8, title=legend_title)
        for axis in (throughput, p99):
            axis.set_xscale("log", base=2)
            _plain_ticks(axis, levels, axis is p99)
            axis.set_xlabel("calls in flight (closed loop)")
            axis.grid(True, alpha=0.3)
    axes[0][0].set_ylim(bottom=0)  # after every row is drawn: the rows share their y axes
    _finish(figure, report, "make bench", path)


def overload(report: dict[str, Any], path: Path) -> None:
    """Goodput over capacity, and the p99 of the OK calls, against offered load."""
    plt = _pyplot()
    results = report["results"]
    colour = colours(results)
    figure, (goodput, p99) = plt.subplots(1, 2, figsize=(15, 4.8))
    levels = sorted({float(level) for points in results.values() for level in points})
    ideal = [0.0, 1.0, max(levels, default=1.0)]
    goodput.plot(ideal, [min(x, 1.0) for x in ideal], ":", color="#888888",
                 label="ideal: every call answered, up to capacity")  # fmt: skip
    for key in [*(k for k in MAIN if k in results), *(k for k in results if k not in MAIN)]:
        role = "main" if key in MAIN else "other"
        style = _style(key, role, colour[key], key)
        _series((goodput, p99), results[key], ("goodput_over_capacity", "p99_ok_ms"), **style)
    target = GOODPUT_AT_2X
    goodput.plot([float(target.level or 0)], [target.threshold], marker="^", markersize=10,
                 color="#888888", linestyle="none",
                 label=f"target: {target.numerator} at {target.level}x, {target.direction} "
                 f"{target.threshold}")  # fmt: skip
    ratios = [p["goodput_over_capacity"] for points in results.values() for p in points.values()]
    goodput.set_ylim(0, max(1.3, max(ratios, default=0) + 0.1))
    goodput.set_ylabel("goodput / capacity (OK within the deadline)")
    goodput.set_title("Goodput under open-loop load", fontsize=10)
    p99.set_ylabel("ms")
    p99.set_ylim(bottom=0)
    p99.set_title("p99 latency of the OK calls", fontsize=10)
    for axis in (goodput, p99):
        axis.set_xlim(0, max(levels, default=1.0) + 0.25)
        _plain_ticks(axis, levels, log_y=False)
        axis.set_xlabel("offered load / the server's capacity")
        axis.grid(True, alpha=0.3)
    p99.legend(*goodput.get_legend_handles_labels(), **LEGEND_OUTSIDE, fontsize=9)
    _finish(figure, report, "make bench-overload", path)


def _finish(figure: Any, report: dict[str, Any], what: str, path: Path) -> None:
    m = report["machine"]
    figure.suptitle(f"findsvc {what}, {m['cpus']} cpus ({m['cpu']}), {report['when']}", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=100, bbox_inches="tight")
