"""Control-loop timing of the ROS 2 node: period, jitter, late and missed cycles, latency.

Per control tick (times in seconds of one monotonic clock):

    period    = start_k - start_{k-1}
    jitter    = |period - dt|
    lateness  = start_k - scheduled_k          (scheduled_k: the timer's due time)
    missed    = (scheduled_k - scheduled_{k-1}) / dt - 1   (ticks the timer skipped)
    late      = count(lateness > late_threshold) + missed
    compute   = end_k - start_k                 (state read -> command published)
    latency   = publish time - stamp of the joint state used  (state-to-command)

Percentiles cover the last ``window`` ticks; counts and maxima cover the whole run.
"""

from __future__ import annotations

from collections import deque

import numpy as np

SERIES: tuple[str, ...] = ("period", "lateness", "compute", "latency")


class LoopTiming:
  def __init__(self, dt: float, late_threshold_s: float = 0.005, window: int = 3000, keep_all: bool = False):
    self.dt, self.late_threshold_s = dt, late_threshold_s
    self.series: dict[str, deque[float]] = {k: deque(maxlen=window) for k in SERIES}
    self.history: dict[str, list[float]] | None = {k: [] for k in SERIES} if keep_all else None
    """Every value of every series (for benchmarks; None unless keep_all)."""
    self.maxima: dict[str, float] = dict.fromkeys(SERIES, 0.0)
    self.ticks = self.late = self.missed = 0
    self._start: float | None = None
    self._scheduled: float | None = None

  def _add(self, key: str, value: float) -> None:
    self.series[key].append(value)
    if self.history is not None:
      self.history[key].append(value)
    self.maxima[key] = max(self.maxima[key], value)

  def start(self, now: float, scheduled: float) -> None:
    """A tick begins at ``now``; the timer had it due at ``scheduled``."""
    lateness = max(0.0, now - scheduled)
    if self._start is not None and self._scheduled is not None:
      self._add("period", now - self._start)
      missed = max(0, round((scheduled - self._scheduled) / self.dt) - 1)
      self.missed += missed
      self.late += missed
    self._add("lateness", lateness)
    self.late += lateness > self.late_threshold_s
    self.ticks += 1
    self._start, self._scheduled = now, scheduled

  def end(self, now: float, latency: float | None = None) -> None:
    """The tick's command is out; ``latency`` = publish time - state stamp, if known."""
    if self._start is not None:
      self._add("compute", now - self._start)
    if latency is not None:
      self._add("latency", latency)

  def summary(self) -> dict[str, float | int]:
    """Milliseconds (p50/p99 over the window, max over the run) and counts."""
    out: dict[str, float | int] = {
      "ticks": self.ticks,
      "late_cycles": self.late,
      "missed_cycles": self.missed,
    }
    for key, values in self.series.items():
      if values:
        arr = np.fromiter(values, dtype=np.float64)
        out[f"{key}_p50_ms"] = float(np.percentile(arr, 50)) * 1e3
        out[f"{key}_p99_ms"] = float(np.percentile(arr, 99)) * 1e3
        out[f"{key}_max_ms"] = self.maxima[key] * 1e3
    if self.series["period"]:
      out["jitter_max_ms"] = float(np.max(np.abs(np.fromiter(self.series["period"], float) - self.dt))) * 1e3
    return out
