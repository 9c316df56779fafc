"""A kinematic biped gait: pelvis path from (speed, yaw rate), footsteps, swing trajectories.

Step k lasts [k Ts, (k+1) Ts]; the left foot swings in even steps, the right in odd ones.
The foot landing at the end of step k is placed beside the pelvis pose it will be under
at mid-stance, time (k + 1.5) Ts, so the pelvis passes over each stance foot. A stance
foot never moves (no skating); a swing foot first lifts, then travels, then descends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GaitParams:
  speed: float
  """Forward speed along the heading (m/s)."""
  yaw_rate: float
  """Heading rate (rad/s), positive = turning left."""
  step_time: float = 0.4
  """Duration of one step Ts (s); a gait cycle is two steps."""
  step_height: float = 0.1
  """Peak lift of the swing foot (m)."""
  toe_pitch: float = 0.3
  """Scale of the swing foot's pitch (rad): toes down after lift-off, up before landing."""
  half_width: float = 0.1185
  """Lateral offset of each foot from the pelvis path (m); the G1's hip spacing."""


def pelvis_xy_yaw(t: np.ndarray | float, p: GaitParams) -> tuple[np.ndarray, np.ndarray]:
  """Ground-plane pelvis position and heading, integrating a constant (v, w) from t = 0."""
  t = np.asarray(t, dtype=np.float64)
  yaw = p.yaw_rate * t
  if abs(p.yaw_rate) < 1e-9:
    xy = np.stack([p.speed * t, np.zeros_like(t)], axis=-1)
  else:
    r = p.speed / p.yaw_rate  # circle of radius v / w
    xy = np.stack([r * np.sin(yaw), r * (1.0 - np.cos(yaw))], axis=-1)
  return xy, yaw


def footprint(k: int, side: int, p: GaitParams) -> tuple[np.ndarray, float]:
  """Ground position and yaw of the foot landing at the end of step k (side +1 left)."""
  xy, yaw = pelvis_xy_yaw((k + 1.5) * p.step_time, p)
  lateral = side * p.half_width * np.array([-np.sin(yaw), np.cos(yaw)])
  return xy + lateral, float(yaw)


def _smoothstep(x: np.ndarray | float) -> float:
  x = float(np.clip(x, 0.0, 1.0))
  return x * x * (3.0 - 2.0 * x)


def foot_at(t: float, side: int, p: GaitParams) -> tuple[np.ndarray, float, float, float]:
  """(xy, yaw, lift, pitch) of one foot at time t; side +1 is the left foot (swings in even
  steps). Pitch > 0 is toes down: toe-off early in the swing, toes up before heel strike."""
  k = int(np.floor(t / p.step_time + 1e-9))
  swinging = (k % 2 == 0) == (side > 0)
  if not swinging:
    # Stance: the footprint from the previous step, which swung this foot.
    xy, yaw = footprint(k - 1, side, p)
    return xy, yaw, 0.0, 0.0
  s = t / p.step_time - k
  (xy0, yaw0), (xy1, yaw1) = footprint(k - 2, side, p), footprint(k, side, p)
  # Travel only once the foot is off the ground, so it never slides while touching it.
  h = _smoothstep((s - 0.2) / 0.6)
  arc = np.sin(np.pi * s)
  lift = p.step_height * arc
  pitch = p.toe_pitch * arc * ((1.0 - s) - 0.3 * s)
  return xy0 + h * (xy1 - xy0), yaw0 + h * (yaw1 - yaw0), float(lift), float(pitch)


def phase(t: float, p: GaitParams) -> float:
  """Gait phase angle, pi per step: 0 when the left foot lifts off."""
  return np.pi * t / p.step_time
