"""Shared helpers of the bench scripts: machine description, timing, and result tables.

Every figure a bench prints is a ratio to a named baseline measured in the same run, because the
machine is shared and noisy; `interleave` runs variants A B A B ... so that load changes hit all of
them alike, and timings are medians."""
from __future__ import annotations

import datetime
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:  # bench scripts run as `python bench/x.py` from a fresh clone
    sys.path.insert(0, REPO)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (platform.processor() elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def machine_info() -> Dict[str, str]:
    """Date, cores, CPU model, load, and the versions that matter for the figures."""
    import numpy
    import paddle
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "cores": f"{usable_cores()} usable of {os.cpu_count()}",
            "cpu": cpu_model(),
            "load average (1, 5, 15 min)": load,
            "python": platform.python_version(),
            "paddle": paddle.__version__,
            "numpy": numpy.__version__}


def print_machine_info(extra: Optional[Dict[str, str]] = None) -> None:
    for key, value in {**machine_info(), **(extra or {})}.items():
        print(f"# {key}: {value}")
    print()


@dataclass
class Timing:
    """Wall-clock and process-CPU seconds of repeated calls; medians are what gets reported."""

    wall: List[float] = field(default_factory=list)
    cpu: List[float] = field(default_factory=list)

    def add(self, other: "Timing") -> None:
        self.wall += other.wall
        self.cpu += other.cpu

    @property
    def wall_median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


def time_calls(function: Callable[[], object], repeats: int, warmup: int = 1) -> Timing:
    """Call `function` `warmup` times untimed, then `repeats` times timed (wall and CPU)."""
    for _ in range(warmup):
        function()
    timing = Timing()
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        timing.cpu.append(time.process_time() - cpu)
        timing.wall.append(time.perf_counter() - wall)
    return timing


def interleave(variants: Dict[str, Callable[[], Timing]], rounds: int) -> Dict[str, Timing]:
    """Run each variant's measurement once per round, in order A B C A B C ...; merge timings."""
    results = {name: Timing() for name in variants}
    for _ in range(rounds):
        for name, measure in variants.items():
            results[name].add(measure())
    return results


def ratio_text(value: Optional[float], baseline: Optional[float]) -> str:
    if value is None or not baseline:
        return "-"
    ratio = value / baseline
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.2g}x"


def print_table(title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A plain-text table, columns left-aligned; also valid Markdown (pipes)."""
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h)) for i, h in enumerate(header)]
    print(f"## {title}")
    print("| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths)) + " |")
    print()


def format_number(value: Optional[float], digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_ratio_table(title: str, unit: str, values: Dict[str, Optional[float]], baseline: str,
                      higher_is_better: bool = True, notes: Optional[Dict[str, str]] = None) -> None:
    """`name | value | speed vs baseline` rows; the ratio is > 1 when the row is faster."""
    base = values.get(baseline)
    rows = []
    for name, value in values.items():
        if value is None or not base:
            ratio = "-"
        else:
            ratio = ratio_text(value, base) if higher_is_better else ratio_text(base, value)
        rows.append([name, format_number(value, 2), ratio, (notes or {}).get(name, "")])
    print_table(title, ["name", unit, f"speed vs {baseline}", "note"], rows)
