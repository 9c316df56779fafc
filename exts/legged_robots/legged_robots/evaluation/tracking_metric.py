"""One tracking metric for two stacks: BeyondMimic's failure conditions and body-position
errors, computed here from robot and reference body poses, never from an env's own terms.

``benchmarks/tracking_vs_mjlab.py`` scores st_gym's ``Tracking-Flat-G1`` and mjlab's
``Mjlab-Tracking-Flat-Unitree-G1`` with this code. Each side hands over, per env step,
the world poses of the same bodies (BeyondMimic's 14, ``BODIES``) for the robot after
the step and for the reference frame that step was scored against by its own rewards.

Definitions (thresholds are BeyondMimic's / mjlab's tracking terminations):

- anchored reference (BeyondMimic's ``body_pos_relative_w``): the reference bodies moved
  so that the reference anchor (torso) sits on the robot's anchor in x, y (keeping the
  reference height) and turned by the yaw between the two anchors;
- failure at a step: the anchor height error > 0.25 m, or the z components of gravity
  in the two anchor frames differ by > 0.8, or an end effector's (ankle-roll and
  wrist-yaw links) height differs from its anchored reference by > 0.25 m;
- an episode succeeds when no step of its window fails;
- body-position error of a step: the mean over bodies of the distance between robot and
  anchored reference (m; mjlab's ``r_mpkpe``), and the same against the reference in the
  world (``mpkpe``, which also counts drift). An episode's error is the mean over its
  scored steps (up to and including a failing step), the reported error the mean over
  episodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from mjlab.utils.lab_api.math import quat_apply, quat_apply_inverse, quat_inv, quat_mul, yaw_quat

from legged_robots.tasks.config.g1.tracking_env_cfgs import EE_LINKS, TRACKED_LINKS

BODIES = TRACKED_LINKS
"""BeyondMimic's G1 bodies, in the order both tasks list them."""
ANCHOR = BODIES.index("torso_link")
END_EFFECTORS = tuple(BODIES.index(b) for b in EE_LINKS)
ANCHOR_HEIGHT_M = 0.25
ANCHOR_GRAVITY_Z = 0.8
END_EFFECTOR_HEIGHT_M = 0.25


@dataclass
class BodyPoses:
  """World poses of the same bodies for robot and reference, (N, B, 3) and (N, B, 4) wxyz."""

  robot_pos: torch.Tensor
  robot_quat: torch.Tensor
  ref_pos: torch.Tensor
  ref_quat: torch.Tensor


def anchored_reference(p: BodyPoses, anchor: int = ANCHOR) -> torch.Tensor:
  """Reference body positions re-anchored on the robot's anchor (x, y and yaw), (N, B, 3)."""
  ref_anchor_pos, robot_anchor_pos = p.ref_pos[:, anchor : anchor + 1], p.robot_pos[:, anchor : anchor + 1]
  delta_pos = torch.cat([robot_anchor_pos[..., :2], ref_anchor_pos[..., 2:]], dim=-1)
  delta_yaw = yaw_quat(quat_mul(p.robot_quat[:, anchor], quat_inv(p.ref_quat[:, anchor])))
  delta_yaw = delta_yaw.unsqueeze(1).expand(-1, p.ref_pos.shape[1], -1)
  return delta_pos + quat_apply(delta_yaw, p.ref_pos - ref_anchor_pos)


def failed(
  p: BodyPoses, anchor: int = ANCHOR, end_effectors: tuple[int, ...] = END_EFFECTORS
) -> torch.Tensor:
  """BeyondMimic's failure conditions per env, (N,) bool (module docstring)."""
  height = (p.ref_pos[:, anchor, 2] - p.robot_pos[:, anchor, 2]).abs() > ANCHOR_HEIGHT_M
  down = torch.tensor([0.0, 0.0, -1.0], device=p.ref_pos.device).expand(len(p.ref_pos), 3)
  gravity_z = quat_apply_inverse(p.ref_quat[:, anchor], down)[:, 2]
  tilt = (gravity_z - quat_apply_inverse(p.robot_quat[:, anchor], down)[:, 2]).abs() > ANCHOR_GRAVITY_Z
  ee = list(end_effectors)
  ee_height = (anchored_reference(p, anchor)[:, ee, 2] - p.robot_pos[:, ee, 2]).abs()
  return height | tilt | (ee_height > END_EFFECTOR_HEIGHT_M).any(dim=1)


def body_pos_errors(p: BodyPoses, anchor: int = ANCHOR) -> tuple[torch.Tensor, torch.Tensor]:
  """(anchored, world) mean body-position error per env (m), each (N,)."""
  anchored = (anchored_reference(p, anchor) - p.robot_pos).norm(dim=-1).mean(dim=1)
  world = (p.ref_pos - p.robot_pos).norm(dim=-1).mean(dim=1)
  return anchored, world


class EpisodeScore:
  """Scores one episode per env over a window of ``steps`` (N,) control steps.

  Call ``step`` once per env step with that step's poses; envs past their window or
  after their failing step are not scored any more. Envs with an empty window are no
  episode.
  """

  def __init__(self, steps: torch.Tensor) -> None:
    self.window = steps.long()
    n, device = len(steps), steps.device
    self.t = 0
    self.failed = torch.zeros(n, dtype=torch.bool, device=device)
    self.scored = torch.zeros(n, dtype=torch.long, device=device)
    self.sums = torch.zeros(n, 2, dtype=torch.float64, device=device)

  @property
  def max_steps(self) -> int:
    return int(self.window.max()) if len(self.window) else 0

  def step(self, p: BodyPoses) -> None:
    live = (self.t < self.window) & ~self.failed
    anchored, world = body_pos_errors(p)
    self.sums += torch.stack([anchored, world], dim=1).double() * live.unsqueeze(1)
    self.scored += live.long()
    self.failed |= live & failed(p)
    self.t += 1

  def summary(self) -> dict:
    episodes = self.window > 0
    n = int(episodes.sum())
    if self.t < self.max_steps:
      raise RuntimeError(f"scored {self.t} steps of a {self.max_steps}-step window")
    means = self.sums[episodes] / self.scored[episodes].clamp(min=1).unsqueeze(1)
    return {
      "episodes": n,
      "success_rate": float((~self.failed[episodes]).double().mean()) if n else float("nan"),
      "body_pos_error_anchored_m": float(means[:, 0].mean()) if n else float("nan"),
      "body_pos_error_world_m": float(means[:, 1].mean()) if n else float("nan"),
      "mean_window_steps": float(self.window[episodes].double().mean()) if n else 0.0,
      "empty_windows": len(self.window) - n,
    }
