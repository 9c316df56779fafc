"""Quaternion helpers on numpy arrays, scalar-first (w, x, y, z), batched over leading axes.

All functions take and return float64 arrays with the quaternion on the last axis.
"""

from __future__ import annotations

import numpy as np

_SMALL_ANGLE = 1e-8


def normalize(q: np.ndarray) -> np.ndarray:
  return q / np.linalg.norm(q, axis=-1, keepdims=True)


def conjugate(q: np.ndarray) -> np.ndarray:
  return q * np.array([1.0, -1.0, -1.0, -1.0])


def multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """Hamilton product a ⊗ b (apply b first, then a)."""
  aw, ax, ay, az = np.moveaxis(a, -1, 0)
  bw, bx, by, bz = np.moveaxis(b, -1, 0)
  return np.stack(
    [
      aw * bw - ax * bx - ay * by - az * bz,
      aw * bx + ax * bw + ay * bz - az * by,
      aw * by - ax * bz + ay * bw + az * bx,
      aw * bz + ax * by - ay * bx + az * bw,
    ],
    axis=-1,
  )


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
  """Rotate vectors v by unit quaternions q: v' = q v q*  (Rodrigues form)."""
  w = q[..., :1]
  u = q[..., 1:]
  t = 2.0 * np.cross(u, v)
  return v + w * t + np.cross(u, t)


def rotate_inverse(q: np.ndarray, v: np.ndarray) -> np.ndarray:
  """Express world vectors v in the frame of q: R(q)^T v."""
  return rotate(conjugate(q), v)


def canonical(q: np.ndarray) -> np.ndarray:
  """Same rotation with w >= 0 (q and -q are one rotation)."""
  return np.where(q[..., :1] < 0.0, -q, q)


def make_continuous(q: np.ndarray) -> np.ndarray:
  """Flip signs along axis 0 so consecutive quaternions lie in one hemisphere."""
  out = q.copy()
  for t in range(1, out.shape[0]):
    if np.sum(out[t] * out[t - 1]) < 0.0:
      out[t] = -out[t]
  return out


def slerp(q0: np.ndarray, q1: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
  """Shortest-arc spherical interpolation; alpha broadcasts against q[..., 0]."""
  alpha = np.asarray(alpha, dtype=np.float64)[..., None]
  q1_given = q1
  dot = np.sum(q0 * q1, axis=-1, keepdims=True)
  q1 = np.where(dot < 0.0, -q1, q1)
  dot = np.clip(np.abs(dot), 0.0, 1.0)
  theta = np.arccos(dot)
  sin_theta = np.sin(theta)
  small = sin_theta < _SMALL_ANGLE
  safe = np.where(small, 1.0, sin_theta)
  s0 = np.where(small, 1.0 - alpha, np.sin((1.0 - alpha) * theta) / safe)
  s1 = np.where(small, alpha, np.sin(alpha * theta) / safe)
  out = normalize(s0 * q0 + s1 * q1)
  # The end points themselves, bit for bit (resampling at the clip's own rate is identity).
  return np.where(alpha == 0.0, q0, np.where(alpha == 1.0, q1_given, out))


def to_axis_angle(q: np.ndarray) -> np.ndarray:
  """Rotation vector (axis * angle, angle in [0, pi]) of unit quaternions."""
  q = canonical(q)
  sin_half = np.linalg.norm(q[..., 1:], axis=-1, keepdims=True)
  angle = 2.0 * np.arctan2(sin_half, q[..., :1])
  # angle / sin(angle/2) -> 2 as the angle -> 0.
  scale = np.where(sin_half > _SMALL_ANGLE, angle / np.maximum(sin_half, _SMALL_ANGLE), 2.0)
  return q[..., 1:] * scale


def from_axis_angle(rotvec: np.ndarray) -> np.ndarray:
  angle = np.linalg.norm(rotvec, axis=-1, keepdims=True)
  half = 0.5 * angle
  # sin(a/2)/a -> 1/2 as a -> 0.
  k = np.where(angle > _SMALL_ANGLE, np.sin(half) / np.maximum(angle, _SMALL_ANGLE), 0.5)
  return np.concatenate([np.cos(half), rotvec * k], axis=-1)


def from_yaw(yaw: np.ndarray | float) -> np.ndarray:
  yaw = np.asarray(yaw, dtype=np.float64)
  zeros = np.zeros_like(yaw)
  return np.stack([np.cos(0.5 * yaw), zeros, zeros, np.sin(0.5 * yaw)], axis=-1)


def from_euler_xyz(roll: float, pitch: float, yaw: float) -> np.ndarray:
  """Intrinsic z-y'-x'' (yaw, then pitch, then roll) as R = Rz(yaw) Ry(pitch) Rx(roll)."""
  qx = np.array([np.cos(roll / 2), np.sin(roll / 2), 0.0, 0.0])
  qy = np.array([np.cos(pitch / 2), 0.0, np.sin(pitch / 2), 0.0])
  qz = np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])
  return multiply(qz, multiply(qy, qx))


def yaw_of(q: np.ndarray) -> np.ndarray:
  """Heading angle of the rotated x axis projected on the ground plane."""
  w, x, y, z = np.moveaxis(q, -1, 0)
  return np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def xyzw_to_wxyz(q: np.ndarray) -> np.ndarray:
  return q[..., [3, 0, 1, 2]]


def wxyz_to_xyzw(q: np.ndarray) -> np.ndarray:
  return q[..., [1, 2, 3, 0]]
