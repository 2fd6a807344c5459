"""Training statistics for the log line: values smoothed over a window, and throughput timers."""
from __future__ import annotations

import collections
import datetime
import statistics
import time
from typing import Deque, Dict


class SmoothedStats:
    """Median of the last `window` values of each named statistic (loss, acc, lr, ...)."""

    def __init__(self, window: int):
        self.window = max(1, int(window))
        self.values: Dict[str, Deque[float]] = {}

    def update(self, values: Dict[str, float]) -> None:
        for key, value in values.items():
            self.values.setdefault(key, collections.deque(maxlen=self.window)).append(float(value))

    def get(self) -> Dict[str, float]:
        return {key: statistics.median(window) for key, window in self.values.items()}

    def log_text(self) -> str:
        """`key: value` pairs; the learning rate with more digits than the rest."""
        parts = []
        for key, value in self.get().items():
            parts.append(f"{key}: {value:.6f}" if key == "lr" else f"{key}: {value:.5f}")
        return ", ".join(parts)


class Throughput:
    """Reader time (waiting for a batch), batch time (the whole step) and samples between two log
    lines, plus the ETA from the mean step time so far."""

    def __init__(self):
        self.reset()
        self.step_seconds_total = 0.0
        self.steps_timed = 0

    def reset(self) -> None:
        self.reader_seconds = 0.0
        self.batch_seconds = 0.0
        self.samples = 0
        self.steps = 0

    def add(self, reader_seconds: float, batch_seconds: float, samples: int) -> None:
        self.reader_seconds += reader_seconds
        self.batch_seconds += batch_seconds
        self.samples += samples
        self.steps += 1
        self.step_seconds_total += batch_seconds
        self.steps_timed += 1

    def log_text(self, steps_left: int) -> str:
        steps = max(1, self.steps)
        ips = self.samples / self.batch_seconds if self.batch_seconds > 0 else 0.0
        eta_seconds = steps_left * self.step_seconds_total / max(1, self.steps_timed)
        return (f"avg_reader_cost: {self.reader_seconds / steps:.5f} s, "
                f"avg_batch_cost: {self.batch_seconds / steps:.5f} s, "
                f"avg_samples: {self.samples / steps:.1f}, ips: {ips:.2f} samples/s, "
                f"eta: {datetime.timedelta(seconds=int(eta_seconds))}")


class Stopwatch:
    """`lap()` returns the seconds since the previous lap (or creation)."""

    def __init__(self):
        self.last = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        elapsed, self.last = now - self.last, now
        return elapsed
