"""Robot inputs of the ROS 2 node as plain arrays: joints by name, commands, st_gym's layout.

Nothing here imports rclpy; the node converts messages to these calls. Conventions:
quaternions here are (w, x, y, z) as in the deploy runtime (ROS messages carry x, y, z, w);
angular and linear velocities are in the base (root link) frame.

st_gym topics (``--stgym-topics``), all ``std_msgs/Float32MultiArray``, n = contract joints
in ``deploy.yaml`` order:

- ``/state``: ``[quat w x y z (4), gyro x y z (3), q (n), dq (n)]`` = 7 + 2n values, or
  10 + 2n with the base-frame linear velocity after the gyro (needed by policies that
  observe ``base_lin_vel``);
- ``/joy_cmd``: ``[vx, vy, wz]``, or ``[vx, vy, wz, mode]`` where mode -1 is an e-stop;
- ``/action`` (out): a 5 x n row-major array, rows ``q, dq, tau, kp, kd`` (st_gym's
  MotorAction fields; dq = tau = 0), dims labelled ``field`` and ``joint``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from legged_robots.deploy.contract import DeployContract
from legged_robots.deploy.errors import DeployError

VELOCITY_RANGES = ("lin_vel_x", "lin_vel_y", "ang_vel_z")
STGYM_ACTION_FIELDS = ("q", "dq", "tau", "kp", "kd")


class InputError(DeployError):
  """A state or command message that cannot be used as it is (names the problem)."""


class JointNameMap:
  """Reorders a name-keyed joint message into contract order; missing or unknown names fail."""

  def __init__(self, joint_names: Sequence[str], extra_joints: Sequence[str] = ()):
    self.joint_names = list(joint_names)
    self.extra = set(extra_joints)
    self._cache: tuple[tuple[str, ...], np.ndarray] | None = None

  def indices(self, names: Sequence[str]) -> np.ndarray:
    """For each contract joint, its index in ``names``; InputError naming what is wrong."""
    key = tuple(names)
    if self._cache is not None and self._cache[0] == key:
      return self._cache[1]
    where: dict[str, int] = {}
    duplicates = sorted({n for n in key if key.count(n) > 1})
    for i, name in enumerate(key):
      where.setdefault(name, i)
    missing = [n for n in self.joint_names if n not in where]
    unknown = [n for n in where if n not in set(self.joint_names) and n not in self.extra]
    problems = []
    if missing:
      problems.append(f"missing joints {missing}")
    if unknown:
      problems.append(f"unknown joints {unknown} (not in deploy.yaml; list them in extra_joints to ignore)")
    if duplicates:
      problems.append(f"duplicate joints {duplicates}")
    if problems:
      raise InputError("; ".join(problems))
    order = np.array([where[n] for n in self.joint_names], dtype=np.int64)
    self._cache = (key, order)
    return order

  def reorder(
    self, names: Sequence[str], position: ArrayLike, velocity: ArrayLike
  ) -> tuple[np.ndarray, np.ndarray]:
    """(q, dq) in contract order from a JointState's name/position/velocity arrays."""
    order = self.indices(names)
    q, dq = (
      np.asarray(position, dtype=np.float64).reshape(-1),
      np.asarray(velocity, dtype=np.float64).reshape(-1),
    )
    if q.size != len(names) or dq.size != len(names):
      raise InputError(
        f"{len(names)} names but {q.size} positions and {dq.size} velocities "
        "(the policy needs both for every joint)"
      )
    return q[order], dq[order]


@dataclass(frozen=True)
class VelocityCommand:
  """The (vx, vy, wz) command term of a contract and its ranges."""

  name: str
  low: np.ndarray
  high: np.ndarray

  @classmethod
  def of(cls, contract: DeployContract) -> VelocityCommand | None:
    for cmd in contract.commands:
      if all(r in cmd.ranges for r in VELOCITY_RANGES):
        ranges = [cmd.ranges[r] for r in VELOCITY_RANGES]
        return cls(cmd.name, np.array([r[0] for r in ranges]), np.array([r[1] for r in ranges]))
    return None

  def clamp(self, value: ArrayLike) -> tuple[np.ndarray, bool]:
    """(clamped command, whether anything was clamped); NaN/inf is an InputError."""
    v = np.asarray(value, dtype=np.float64)
    if v.shape != (3,) or not np.all(np.isfinite(v)):
      raise InputError(f"velocity command {v.tolist()} is not 3 finite numbers")
    clamped = np.clip(v, self.low, self.high)
    return clamped, bool(np.any(clamped != v))


@dataclass(frozen=True)
class StgymState:
  quat_wxyz: np.ndarray
  gyro: np.ndarray
  lin_vel: np.ndarray | None
  q: np.ndarray
  dq: np.ndarray


def parse_stgym_state(data: ArrayLike, n: int) -> StgymState:
  """Split a ``/state`` vector (7 + 2n or 10 + 2n values, see the module docstring)."""
  v = np.asarray(data, dtype=np.float64)
  if v.size not in (7 + 2 * n, 10 + 2 * n):
    raise InputError(
      f"/state has {v.size} values; st_gym's layout is quat(4) gyro(3) [lin_vel(3)] q({n}) dq({n}) = "
      f"{7 + 2 * n} or {10 + 2 * n}"
    )
  k = 10 if v.size == 10 + 2 * n else 7
  return StgymState(v[0:4], v[4:7], v[7:10] if k == 10 else None, v[k : k + n], v[k + n : k + 2 * n])


def pack_stgym_action(position: np.ndarray, kp: np.ndarray, kd: np.ndarray) -> np.ndarray:
  """5 x n float32 rows q, dq, tau, kp, kd (dq = tau = 0), flattened row-major."""
  zeros = np.zeros_like(position)
  return np.stack([position, zeros, zeros, kp, kd]).astype(np.float32).reshape(-1)
