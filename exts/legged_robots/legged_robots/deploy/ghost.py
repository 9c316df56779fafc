"""A translucent second robot in sim2mujoco's video: the reference motion beside the policy.

``Ghost`` replays a ``(T, nq)`` generalized-position trajectory of the exported robot
(e.g. a clip through ``refmotion_manager.kinematics.qpos_trajectory``) in its own
``MjData``: no physics, no contacts with the simulated robot. Each video frame it poses
the ghost at the current time (frames looped) and appends its geoms to the rendered
scene with ``mjv_addGeoms``, made translucent. The clip's root path is turned so that it
starts heading along +x like the robot, and shifted ``offset`` to the robot's side.
"""

from __future__ import annotations

import copy
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


class GhostRobot:
  """A robot model posed by generalized positions and drawn into another scene, translucent:
  no physics, no contacts. ``Ghost`` replays a clip with it (sim2mujoco); play's video
  poses it at each step's reference frame (``evaluation.reference_video``)."""

  def __init__(self, mjcf: str | Path, alpha: float = 0.35):
    self.model = mujoco.MjModel.from_xml_path(str(mjcf))
    self.data = mujoco.MjData(self.model)
    self.alpha = alpha

  def set_qpos(self, qpos: np.ndarray) -> None:
    self.data.qpos[:] = qpos
    mujoco.mj_kinematics(self.model, self.data)

  def add_to(self, scene: mujoco.MjvScene, option: mujoco.MjvOption) -> None:
    """Append the posed robot's geoms to ``scene``; every geom group of the ghost is shown
    (an exported robot.xml keeps only collision geoms, which viewers often hide)."""
    first = scene.ngeom
    shown = copy.copy(option)
    shown.geomgroup[np.unique(self.model.geom_group)] = 1
    mujoco.mjv_addGeoms(
      self.model, self.data, shown, mujoco.MjvPerturb(), mujoco.mjtCatBit.mjCAT_DYNAMIC, scene
    )
    for i in range(first, scene.ngeom):
      scene.geoms[i].rgba[:] = (*GHOST_RGB, self.alpha)


class Ghost(GhostRobot):
  """The reference clip replayed beside the policy (module docstring)."""

  def __init__(
    self,
    mjcf: str | Path,
    qpos: np.ndarray,
    fps: float,
    offset: tuple[float, float] = (0.0, 1.0),
    alpha: float = 0.35,
  ):
    super().__init__(mjcf, alpha)
    if qpos.ndim != 2 or qpos.shape[1] != self.model.nq:
      raise ValueError(f"ghost qpos has shape {qpos.shape}; the model needs (T, {self.model.nq})")
    self.qpos = aligned_root(qpos, offset)
    self.fps = fps

  def pose(self, t: float) -> None:
    self.set_qpos(self.qpos[round(t * self.fps) % len(self.qpos)])
