"""A style report (``evaluation.style.style_report``) as a text table and a bar chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from legged_robots.evaluation.style import STAT_UNITS


def _text(value: float | None) -> str:
  return "n/a" if value is None else f"{value:.3f}"


def style_table(report: dict[str, Any]) -> str:
  """Rows statistic | policy | clips (matched speed) | unit, then the distances."""
  policy, clips = report["policy"]["stats"], report["clips"]["stats"]
  lines = [f"{'statistic':<26}{'policy':>10}{'clips':>10}  unit"]
  for key, unit in STAT_UNITS.items():
    lines.append(f"{key:<26}{_text(policy[key]):>10}{_text(clips[key]):>10}  {unit}")
  lines.append(f"{'steps (touchdowns)':<26}{policy['steps']:>10.0f}{clips['steps']:>10.1f}")
  match = "speed matched" if report["clips"]["within_tolerance"] else "NO clip at the policy's speed: nearest"
  used = ", ".join(Path(n).name for n in report["clips"]["used"])
  lines.append(f"clips used ({match}; rule: {report['clips']['speed_rule']}): {used}")
  lines.append(f"joint angle W1, mean over joints: {_text(report['joint_w1_rad']['mean_over_joints'])} rad")
  lines.append(f"gait cycle DTW, mean over clips:  {_text(report['gait_cycle_dtw_rad']['mean'])} rad")
  return "\n".join(lines)


def plot_style_report(report: dict[str, Any], path: str | Path) -> None:
  """PNG: one panel per statistic of ``STAT_UNITS``, a bar for the policy and one for the clips."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  policy, clips = report["policy"]["stats"], report["clips"]["stats"]
  fig, axes = plt.subplots(2, 4, figsize=(13, 6))
  for ax, key in zip(axes.flat, STAT_UNITS, strict=False):
    values = [policy[key], clips[key]]
    ax.bar(["policy", "clips"], [0.0 if v is None else v for v in values], color=["tab:blue", "tab:orange"])
    for x, v in enumerate(values):
      ax.annotate(_text(v), (x, 0.0 if v is None else v), ha="center", va="bottom", fontsize=8)
    ax.set_title(key, fontsize=9)
    ax.margins(y=0.15)
    ax.grid(axis="y", alpha=0.3)
  last = axes.flat[-1]
  last.axis("off")
  w1, dtw = report["joint_w1_rad"]["mean_over_joints"], report["gait_cycle_dtw_rad"]["mean"]
  used = "\n".join(Path(n).name for n in report["clips"]["used"])
  last.text(
    0.0, 0.5, f"joint W1 (mean): {_text(w1)} rad\ncycle DTW: {_text(dtw)} rad\nclips:\n{used}", fontsize=9
  )
  fig.suptitle(f"style: {Path(report['policy']['name']).name} vs reference clips at matched speed")
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)
