"""Velocities of a clip by finite differences, in the frames a simulator reports them.

Linear: v_t = (p_{t+1} - p_{t-1}) / (2 dt) inside the clip, one-sided at both ends.
Angular (world frame): q_{t+1} = exp(w dt) ⊗ q_t, so w_t = log(q_{t+1} ⊗ q_{t-1}*) / (2 dt),
where log maps a unit quaternion to its rotation vector. Body-frame angular velocity
is R(q_t)^T w_t — the convention of a MuJoCo free joint's qvel[3:6].
"""

from __future__ import annotations

import numpy as np

from refmotion_manager import quat
from refmotion_manager.clip import MotionClip


def linear_velocity(x: np.ndarray, dt: float) -> np.ndarray:
  """d/dt along axis 0 (central differences, one-sided at the ends)."""
  return np.gradient(x, dt, axis=0)


def angular_velocity_world(q: np.ndarray, dt: float) -> np.ndarray:
  """(T, ..., 4) world orientations -> (T, ..., 3) world angular velocities."""
  ahead = np.concatenate([q[1:], q[-1:]], axis=0)
  behind = np.concatenate([q[:1], q[:-1]], axis=0)
  span = np.full(q.shape[0], 2.0 * dt)
  span[0] = span[-1] = dt
  rel = quat.multiply(ahead, quat.conjugate(behind))
  return quat.to_axis_angle(rel) / span.reshape((-1,) + (1,) * (q.ndim - 1))


def joint_velocity(clip: MotionClip) -> np.ndarray:
  return linear_velocity(clip.joint_pos, clip.dt)


def root_lin_vel_w(clip: MotionClip) -> np.ndarray:
  return linear_velocity(clip.root_pos, clip.dt)


def root_ang_vel_w(clip: MotionClip) -> np.ndarray:
  return angular_velocity_world(clip.root_quat_wxyz, clip.dt)


def root_ang_vel_b(clip: MotionClip) -> np.ndarray:
  return quat.rotate_inverse(clip.root_quat_wxyz, root_ang_vel_w(clip))


def root_lin_vel_b(clip: MotionClip) -> np.ndarray:
  return quat.rotate_inverse(clip.root_quat_wxyz, root_lin_vel_w(clip))
