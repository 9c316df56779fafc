"""Commanded vs achieved base velocity of one env, as a PNG (matplotlib, no display)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: never try to open a window
import matplotlib.pyplot as plt
import numpy as np

_LABELS = (("vx", "m/s"), ("vy", "m/s"), ("wz", "rad/s"))


def plot_velocity_tracking(
  times: np.ndarray, command: np.ndarray, achieved: np.ndarray, path: Path, title: str
) -> None:
  """times: (T,), command/achieved: (T, 3) as (vx, vy, wz) in the base frame."""
  if command.shape != achieved.shape or command.shape != (len(times), 3):
    raise ValueError(f"expected (T, 3) arrays for T={len(times)}, got {command.shape} and {achieved.shape}")
  fig, axes = plt.subplots(3, 1, figsize=(9, 7), sharex=True)
  for i, (ax, (name, unit)) in enumerate(zip(axes, _LABELS, strict=True)):
    ax.plot(times, command[:, i], label="commanded", color="tab:orange", linestyle="--")
    ax.plot(times, achieved[:, i], label="achieved", color="tab:blue")
    ax.set_ylabel(f"{name} [{unit}]")
    ax.grid(alpha=0.3)
  axes[0].legend(loc="upper right")
  axes[0].set_title(title)
  axes[-1].set_xlabel("time [s]")
  fig.tight_layout()
  path.parent.mkdir(parents=True, exist_ok=True)
  fig.savefig(path, dpi=100)
  plt.close(fig)
