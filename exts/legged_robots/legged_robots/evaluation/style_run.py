"""One style report, end to end: walk an exported policy in MuJoCo, measure it beside clips.

Used by ``scripts/st_rl/style_report.py`` and by ``play`` for every task with reference
motions (``env.motion``). The clips go through forward kinematics on the export's own
``robot.xml``, so policy and clips are measured on the same feet.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from legged_robots.deploy.exported import resolve_mjcf
from legged_robots.deploy.runtime import load_contract
from legged_robots.evaluation.style import clip_trajectory, style_report
from legged_robots.evaluation.style_plot import plot_style_report, style_table
from legged_robots.evaluation.style_rollout import policy_trajectory
from refmotion_manager import MotionClip, RobotModel


def write_style_report(
  exported: Path, clips: Sequence[MotionClip], out: Path, speed: float, duration_s: float, seed: int = 0
) -> dict[str, Any]:
  """Run the policy at (speed, 0, 0) for duration_s, write style_report.{json,png} to out,
  print the table; return the report."""
  mjcf, _ = resolve_mjcf(exported, load_contract(exported), None)
  model = RobotModel.from_mjcf(mjcf)
  references = [clip_trajectory(clip, model) for clip in clips]
  policy = policy_trajectory(exported, (speed, 0.0, 0.0), duration_s, seed)
  report = style_report(policy, references)
  report["policy"].update(command=[speed, 0.0, 0.0], duration_s=duration_s, seed=seed)
  out.mkdir(parents=True, exist_ok=True)
  (out / "style_report.json").write_text(json.dumps(report, indent=2) + "\n")
  plot_style_report(report, out / "style_report.png")
  print(style_table(report), flush=True)
  print(f"[style_report] wrote {out / 'style_report.json'} and style_report.png", flush=True)
  return report
