"""Is the style real? Gait statistics of a policy beside those of reference clips at matched speed.

Both sides become a ``GaitTrajectory`` measured the same way: a policy through
``evaluation.style_rollout.policy_trajectory`` (native MuJoCo), a clip through
``clip_trajectory`` (forward kinematics). ``style_report`` puts the two side by side:
gait statistics (``gait_stats``), per-joint Wasserstein-1 distances of the joint angle
distributions and the DTW distance of one gait cycle of joint angles.

Imports numpy only at module level (``style_rollout`` builds on it without torch);
scipy and refmotion_manager are imported where they are used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
  from refmotion_manager import MotionClip, RobotModel

FOOT_BODIES = ("left_ankle_roll_link", "right_ankle_roll_link")
TORSO_BODY = "torso_link"
SHOULDER_PITCH_JOINTS = ("left_shoulder_pitch_joint", "right_shoulder_pitch_joint")
CONTACT_HEIGHT = 0.03
"""A foot whose lowest collision point is below this height (m) may be on the ground."""
CONTACT_SPEED = 0.5
"""... if its horizontal speed (m/s) is below this too. Retargeted human feet pass the
swing a few millimetres above the floor at 2-3 m/s, so height alone calls most of the
swing a stance (double support of 0.8 for a human walk); stance feet move < 0.2 m/s."""
SPEED_TOLERANCE = 0.25
"""Clips whose mean forward speed is within this (m/s) of the policy's are compared."""
STAT_UNITS = {
  "cadence_steps_per_min": "steps/min",
  "stride_length_m": "m",
  "double_support_fraction": "",
  "foot_clearance_m": "m",
  "arm_swing_rad": "rad",
  "torso_pitch_rad": "rad",
  "forward_speed_m_s": "m/s",
}
"""The statistics compared by ``style_report`` (``gait_stats`` adds steps and duration_s)."""


@dataclass
class GaitTrajectory:
  """What gait statistics need from a motion, sampled every ``dt`` (world frame z up)."""

  dt: float
  """Seconds between frames."""
  joint_names: tuple[str, ...]
  joint_pos: np.ndarray
  """(T, J) joint angles (rad), columns in ``joint_names`` order."""
  base_pos_w: np.ndarray
  """(T, 3) floating-base (pelvis) position."""
  base_quat_wxyz: np.ndarray
  """(T, 4) floating-base orientation."""
  base_lin_vel_b: np.ndarray
  """(T, 3) floating-base linear velocity in the base frame."""
  foot_pos_w: np.ndarray
  """(T, 2, 3) left, right: origin of the ankle-roll body (``FOOT_BODIES``), not the sole."""
  foot_contact: np.ndarray
  """(T, 2) bool, left, right (``foot_contact`` gives the rule both sides use)."""
  torso_quat_wxyz: np.ndarray | None = None
  """(T, 4) orientation of the torso body; None: torso pitch uses the base."""
  name: str = "trajectory"
  """Label in reports (a clip's file name, "policy")."""

  def __post_init__(self) -> None:
    self.joint_names = tuple(self.joint_names)
    t = np.shape(self.joint_pos)[0]
    shapes = {
      "joint_pos": (t, len(self.joint_names)),
      "base_pos_w": (t, 3),
      "base_quat_wxyz": (t, 4),
      "base_lin_vel_b": (t, 3),
      "foot_pos_w": (t, 2, 3),
      "foot_contact": (t, 2),
    }
    if self.torso_quat_wxyz is not None:
      shapes["torso_quat_wxyz"] = (t, 4)
    for field, shape in shapes.items():
      value = np.asarray(getattr(self, field), dtype=bool if field == "foot_contact" else np.float64)
      if value.shape != shape:
        raise ValueError(f"GaitTrajectory {self.name}: {field} has shape {value.shape}, expected {shape}")
      setattr(self, field, value)
    if not self.dt > 0:
      raise ValueError(f"GaitTrajectory {self.name}: dt must be > 0, got {self.dt}")


def foot_contact(
  lowest_z: np.ndarray, foot_pos_w: np.ndarray, dt: float, height: float, speed: float
) -> np.ndarray:
  """(T, F) bool: lowest point z < height and |d/dt foot_xy| < speed (central differences)."""
  foot_speed = np.linalg.norm(np.gradient(foot_pos_w[..., :2], dt, axis=0), axis=-1)
  return (lowest_z < height) & (foot_speed < speed)


def touchdowns(contact: np.ndarray) -> np.ndarray:
  """Frames t >= 1 where the foot lands: contact[t] and not contact[t - 1]."""
  c = np.asarray(contact, dtype=bool)
  return np.flatnonzero(c[1:] & ~c[:-1]) + 1


def all_touchdowns(contact: np.ndarray) -> np.ndarray:
  """Sorted touchdown frames of both feet of a (T, 2) contact array."""
  return np.sort(np.concatenate([touchdowns(contact[:, k]) for k in range(contact.shape[1])]))


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
  """(..., 4) unit quaternions (w, x, y, z) -> (..., 3, 3) rotation matrices."""
  w, x, y, z = np.moveaxis(np.asarray(q, dtype=np.float64), -1, 0)
  rows = [
    [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
    [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
    [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
  ]
  return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def pitch_angle(q: np.ndarray) -> np.ndarray:
  """ZYX-Euler pitch: asin(-R[2, 0]); > 0 tips the body's x axis down (leaning forward)."""
  return np.arcsin(np.clip(-quat_to_matrix(q)[..., 2, 0], -1.0, 1.0))


def forward_velocity(traj: GaitTrajectory) -> np.ndarray:
  """(T,) v_w . h: world base velocity along the heading h = base x axis in the ground plane."""
  rot = quat_to_matrix(traj.base_quat_wxyz)
  v_w = np.einsum("tij,tj->ti", rot, traj.base_lin_vel_b)
  heading = rot[:, :2, 0] / np.maximum(np.linalg.norm(rot[:, :2, 0], axis=1, keepdims=True), 1e-9)
  return np.sum(v_w[:, :2] * heading, axis=1)


def gait_window(traj: GaitTrajectory) -> GaitTrajectory:
  """Frames [t_1 - 1, t_N] (first/last touchdown of either foot): the walk without standing
  before or after it; unchanged with fewer than two touchdowns."""
  frames = all_touchdowns(traj.foot_contact)
  if frames.size < 2:
    return traj
  cut = slice(frames[0] - 1, frames[-1] + 1)  # keep t_1 - 1 so t_1 is still a touchdown
  arrays = ("joint_pos", "base_pos_w", "base_quat_wxyz", "base_lin_vel_b", "foot_pos_w", "foot_contact")
  torso = None if traj.torso_quat_wxyz is None else traj.torso_quat_wxyz[cut]
  return replace(traj, **{k: getattr(traj, k)[cut] for k in arrays}, torso_quat_wxyz=torso)


def _swing_clearances(z: np.ndarray, contact: np.ndarray) -> list[float]:
  """Per complete swing [s, e) (stance at s - 1 and at e): max z[s:e] - (z[s - 1] + z[e]) / 2."""
  out = []
  for start in np.flatnonzero(contact[:-1] & ~contact[1:]) + 1:  # liftoffs
    landed = np.flatnonzero(contact[start:])
    if landed.size:
      end = start + int(landed[0])
      out.append(float(z[start:end].max() - 0.5 * (z[start - 1] + z[end])))
  return out


def _mean(values: Sequence[float] | np.ndarray) -> float:
  """Mean of the finite values; NaN when there are none."""
  finite = np.asarray(values, dtype=np.float64)
  finite = finite[np.isfinite(finite)]
  return float(finite.mean()) if finite.size else math.nan


def gait_stats(traj: GaitTrajectory) -> dict[str, float]:
  """Gait statistics of a trajectory; NaN where it has too few steps (``steps`` says how many).

  With t_1 < ... < t_N the touchdown times (``touchdowns``) of both feet merged:

  - cadence_steps_per_min = 60 (N - 1) / (t_N - t_1)  (N >= 2);
  - stride_length_m: mean of |p_xy(td_{i+1}) - p_xy(td_i)| over both feet's strides, the
    horizontal distance a foot travels between its successive touchdowns;
  - double_support_fraction: share of the frames in [t_1, t_N) with both feet in contact;
  - foot_clearance_m: mean over complete swings of max foot z in the swing minus the mean
    of z at the stance frames just before and after it (ankle-roll origin height);
  - arm_swing_rad: peak-to-peak (max - min) of each shoulder pitch joint, mean of left/right;
  - torso_pitch_rad: mean ZYX pitch of the torso (the base without a torso), > 0 forward;
  - forward_speed_m_s: mean of ``forward_velocity`` (heading frame, so yaw does not matter).
  """
  contact = traj.foot_contact
  frames = all_touchdowns(contact)
  n = frames.size
  strides = np.concatenate(
    [
      np.linalg.norm(np.diff(traj.foot_pos_w[touchdowns(contact[:, k]), k, :2], axis=0), axis=1)
      for k in range(2)
    ]
  )
  window = contact[frames[0] : frames[-1]] if n >= 2 else np.zeros((0, 2), dtype=bool)
  clearances = [c for k in range(2) for c in _swing_clearances(traj.foot_pos_w[:, k, 2], contact[:, k])]
  arms = [
    traj.joint_pos[:, traj.joint_names.index(j)] for j in SHOULDER_PITCH_JOINTS if j in traj.joint_names
  ]
  torso = traj.torso_quat_wxyz if traj.torso_quat_wxyz is not None else traj.base_quat_wxyz
  return {
    "cadence_steps_per_min": 60.0 * (n - 1) / ((frames[-1] - frames[0]) * traj.dt) if n >= 2 else math.nan,
    "stride_length_m": _mean(strides),
    "double_support_fraction": float(window.all(axis=1).mean()) if window.size else math.nan,
    "foot_clearance_m": _mean(clearances),
    "arm_swing_rad": _mean([float(np.ptp(a)) for a in arms]),
    "torso_pitch_rad": float(pitch_angle(torso).mean()),
    "forward_speed_m_s": float(forward_velocity(traj).mean()),
    "steps": float(n),
    "duration_s": traj.joint_pos.shape[0] * traj.dt,
  }


def wasserstein_1(a: np.ndarray, b: np.ndarray) -> float:
  """W1 between two 1-D empirical distributions: integral of |F_a(x) - F_b(x)| dx."""
  from scipy.stats import wasserstein_distance

  return float(wasserstein_distance(np.ravel(a), np.ravel(b)))


def _as_list(trajs: GaitTrajectory | Sequence[GaitTrajectory]) -> list[GaitTrajectory]:
  return [trajs] if isinstance(trajs, GaitTrajectory) else list(trajs)


def _common_joints(a: list[GaitTrajectory], b: list[GaitTrajectory]) -> list[str]:
  """Joints every trajectory has, in the first one's order."""
  names = set.intersection(*(set(t.joint_names) for t in a + b))
  return [j for j in a[0].joint_names if j in names]


def _column(trajs: list[GaitTrajectory], joint: str) -> np.ndarray:
  return np.concatenate([t.joint_pos[:, t.joint_names.index(joint)] for t in trajs])


def joint_distribution_distance(
  a: GaitTrajectory | Sequence[GaitTrajectory],
  b: GaitTrajectory | Sequence[GaitTrajectory],
  joint_names: Sequence[str] | None = None,
) -> dict[str, float]:
  """Per joint W1 (rad) between the angle samples of a and b (lists pooled), plus mean_over_joints.

  Joints are matched by name; default: the joints all trajectories have.
  """
  a_list, b_list = _as_list(a), _as_list(b)
  joints = list(joint_names) if joint_names is not None else _common_joints(a_list, b_list)
  out = {j: wasserstein_1(_column(a_list, j), _column(b_list, j)) for j in joints}
  out["mean_over_joints"] = _mean(list(out.values()))
  return out


def dtw_distance(x: np.ndarray, y: np.ndarray) -> float:
  """Classic DTW: D[i, j] = |x_i - y_j| + min(D[i-1, j-1], D[i-1, j], D[i, j-1]); D[n, m] / path length.

  x (n, d) and y (m, d) (or 1-D); the frame cost is the Euclidean distance. The path is
  traced back from (n, m) to (1, 1); on ties it takes the diagonal (fewer cells).
  """
  x2, y2 = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
  x2, y2 = x2.reshape(len(x2), -1), y2.reshape(len(y2), -1)
  cost = np.linalg.norm(x2[:, None, :] - y2[None, :, :], axis=-1)
  n, m = cost.shape
  acc = np.full((n + 1, m + 1), np.inf)
  acc[0, 0] = 0.0
  for i in range(1, n + 1):
    for j in range(1, m + 1):
      acc[i, j] = cost[i - 1, j - 1] + min(acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1])
  i, j, length = n, m, 1
  while (i, j) != (1, 1):
    moves = ((i - 1, j - 1), (i - 1, j), (i, j - 1))  # diagonal first: wins ties
    i, j = min(moves, key=lambda ij: acc[ij])
    length += 1
  return float(acc[n, m] / length)


def gait_cycle(traj: GaitTrajectory, joint_names: Sequence[str]) -> np.ndarray | None:
  """(n, J) joint angles of the last complete cycle, frames [td_{-2}, td_{-1}) of left touchdowns."""
  left = touchdowns(traj.foot_contact[:, 0])
  if left.size < 2:
    return None
  cols = [traj.joint_names.index(j) for j in joint_names]
  return traj.joint_pos[left[-2] : left[-1]][:, cols]


def gait_cycle_dtw(a: GaitTrajectory, b: GaitTrajectory, joint_names: Sequence[str] | None = None) -> float:
  """``dtw_distance`` (rad) of one gait cycle (``gait_cycle``) of a and of b; NaN if one has none."""
  joints = list(joint_names) if joint_names is not None else _common_joints([a], [b])
  cycle_a, cycle_b = gait_cycle(a, joints), gait_cycle(b, joints)
  if cycle_a is None or cycle_b is None:
    return math.nan
  return dtw_distance(cycle_a, cycle_b)


def clip_trajectory(
  clip: MotionClip,
  model: RobotModel,
  contact_height: float = CONTACT_HEIGHT,
  contact_speed: float = CONTACT_SPEED,
) -> GaitTrajectory:
  """A clip through forward kinematics on ``model``; contact by ``foot_contact`` on the foot's
  lowest collision point (``refmotion_manager.validation.foot_heights``)."""
  from refmotion_manager import body_states, derivatives, validation

  has_torso = TORSO_BODY in model.body_names
  states = body_states(clip, model, FOOT_BODIES + ((TORSO_BODY,) if has_torso else ()))
  lowest, _ = validation.foot_heights(clip, model, FOOT_BODIES)
  feet = states.pos[:, :2]
  return GaitTrajectory(
    dt=clip.dt,
    joint_names=clip.joint_names,
    joint_pos=clip.joint_pos,
    base_pos_w=clip.root_pos,
    base_quat_wxyz=clip.root_quat_wxyz,
    base_lin_vel_b=derivatives.root_lin_vel_b(clip),
    foot_pos_w=feet,
    foot_contact=foot_contact(lowest, feet, clip.dt, contact_height, contact_speed),
    torso_quat_wxyz=states.quat[:, 2] if has_torso else None,
    name=clip.source or "clip",
  )


def matched_clips(policy_speed: float, clip_speeds: Sequence[float], tolerance: float) -> list[int]:
  """Indices of the clips with |speed - policy_speed| <= tolerance, else of the nearest clip."""
  gap = np.abs(np.asarray(clip_speeds, dtype=np.float64) - policy_speed)
  within = np.flatnonzero(gap <= tolerance)
  return within.tolist() if within.size else [int(np.nanargmin(gap))]


def _json_ready(value: Any) -> Any:
  """Floats as floats, NaN/inf as None (JSON has no NaN), recursively."""
  if isinstance(value, dict):
    return {k: _json_ready(v) for k, v in value.items()}
  if isinstance(value, list | tuple):
    return [_json_ready(v) for v in value]
  if isinstance(value, float | np.floating):
    return float(value) if math.isfinite(value) else None
  return value


def style_report(
  policy: GaitTrajectory, clips: Sequence[GaitTrajectory], speed_tolerance: float = SPEED_TOLERANCE
) -> dict[str, Any]:
  """Policy gait beside the clips at matched speed (``matched_clips``); JSON-ready, None = n/a.

  Every trajectory is first cut to its ``gait_window``, so standing is not part of the style.
  clips.stats is the mean over the used clips of each statistic; joint_w1_rad pools the
  used clips' frames; gait_cycle_dtw_rad compares the policy's cycle with each used clip's.
  """
  if not clips:
    raise ValueError("style_report needs at least one clip")
  policy, clips = gait_window(policy), [gait_window(c) for c in clips]
  policy_stats = gait_stats(policy)
  per_clip = [gait_stats(c) for c in clips]
  speeds = [s["forward_speed_m_s"] for s in per_clip]
  speeds_policy = policy_stats["forward_speed_m_s"]
  chosen = matched_clips(speeds_policy, speeds, speed_tolerance)
  used = [clips[i] for i in chosen]
  dtw = {c.name: gait_cycle_dtw(policy, c) for c in used}
  report = {
    "policy": {"name": policy.name, "stats": policy_stats},
    "clips": {
      "speed_rule": f"mean forward speed within +-{speed_tolerance} m/s of the policy's, else the nearest",
      "used": [c.name for c in used],
      "within_tolerance": all(abs(speeds[i] - speeds_policy) <= speed_tolerance for i in chosen),
      "stats": {k: _mean([per_clip[i][k] for i in chosen]) for k in policy_stats},
      "per_clip": {c.name: s for c, s in zip(clips, per_clip, strict=True)},
    },
    "joint_w1_rad": joint_distribution_distance(policy, used),
    "gait_cycle_dtw_rad": {"per_clip": dtw, "mean": _mean(list(dtw.values()))},
    "units": STAT_UNITS,
  }
  return _json_ready(report)
