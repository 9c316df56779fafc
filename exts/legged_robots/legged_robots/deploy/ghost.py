"""A translucent second robot in sim2mujoco's video: the reference motion beside the policy.

``Ghost`` replays a ``(T, nq)`` generalized-position trajectory of the exported robot
(e.g. a clip through ``refmotion_manager.kinematics.qpos_trajectory``) in its own
``MjData``: no physics, no contacts with the simulated robot. Each video frame it poses
the ghost at the current time (frames looped) and appends its geoms to the rendered
scene with ``mjv_addGeoms``, made translucent. The clip's root path is turned so that it
starts heading along +x like the robot, and shifted ``offset`` to the robot's side.
"""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np

GHOST_RGB = (1.0, 0.55, 0.1)
"""Orange, so the reference is told apart from the (green/grey) policy robot."""


def _yaw_quat(yaw: float) -> np.ndarray:
  return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


def _yaw_of(quat: np.ndarray) -> float:
  w, x, y, z = quat
  return float(np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z)))


def aligned_root(qpos: np.ndarray, offset: tuple[float, float]) -> np.ndarray:
  """qpos with the root path starting at (offset) and heading +x (free joint first)."""
  out = qpos.copy()
  turn = _yaw_quat(-_yaw_of(qpos[0, 3:7]))
  rot = np.zeros(9)
  mujoco.mju_quat2Mat(rot, turn)
  rot = rot.reshape(3, 3)
  rel = qpos[:, :3] - np.array([qpos[0, 0], qpos[0, 1], 0.0])
  out[:, :3] = rel @ rot.T + np.array([offset[0], offset[1], 0.0])
  for t in range(len(qpos)):
    mujoco.mju_mulQuat(out[t, 3:7], turn, qpos[t, 3:7])
  return out


class Ghost:
  """The reference robot, posed per frame and drawn translucent (module docstring)."""

  def __init__(
    self,
    mjcf: str | Path,
    qpos: np.ndarray,
    fps: float,
    offset: tuple[float, float] = (0.0, 1.0),
    alpha: float = 0.35,
  ):
    self.model = mujoco.MjModel.from_xml_path(str(mjcf))
    if qpos.ndim != 2 or qpos.shape[1] != self.model.nq:
      raise ValueError(f"ghost qpos has shape {qpos.shape}; the model needs (T, {self.model.nq})")
    self.data = mujoco.MjData(self.model)
    self.qpos = aligned_root(qpos, offset)
    self.fps = fps
    self.alpha = alpha

  def pose(self, t: float) -> None:
    self.data.qpos[:] = self.qpos[round(t * self.fps) % len(self.qpos)]
    mujoco.mj_kinematics(self.model, self.data)

  def add_to(self, scene: mujoco.MjvScene, option: mujoco.MjvOption) -> None:
    first = scene.ngeom
    mujoco.mjv_addGeoms(
      self.model, self.data, option, mujoco.MjvPerturb(), mujoco.mjtCatBit.mjCAT_DYNAMIC, scene
    )
    for i in range(first, scene.ngeom):
      scene.geoms[i].rgba[:] = (*GHOST_RGB, self.alpha)
