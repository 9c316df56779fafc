"""The robot's visual meshes in sim2mujoco's video, posed from the simulated robot.

``exported/robot.xml`` keeps only the collision geoms (the physics of training), which
look like a stick figure. When the robot's asset MJCF with its meshes is available —
``robot.mjcf_path`` of deploy.yaml as written at export, or the same file inside this
machine's mjlab installation — its geoms are drawn instead: a second, physics-free model
posed each frame from the simulated robot's joint positions (matched by joint name).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import mujoco
import numpy as np

from legged_robots.deploy.contract import DeployContract

_QPOS_WIDTH = {
  mujoco.mjtJoint.mjJNT_FREE: 7,
  mujoco.mjtJoint.mjJNT_BALL: 4,
  mujoco.mjtJoint.mjJNT_SLIDE: 1,
  mujoco.mjtJoint.mjJNT_HINGE: 1,
}


def find_visual_mjcf(contract: DeployContract) -> tuple[Path | None, str]:
  """(MJCF with the robot's meshes or None, where it came from or why there is none)."""
  written = contract.robot.mjcf_path
  if written is None:
    return None, "deploy.yaml names no robot.mjcf_path (a robot built in code): collision geoms shown"
  if Path(written).is_file():
    return Path(written), f"robot.mjcf_path of deploy.yaml ({written})"
  _, sep, inside = written.partition("/mjlab/")
  spec = importlib.util.find_spec("mjlab") if sep else None  # locates, does not import
  if spec is not None and spec.submodule_search_locations:
    local = Path(next(iter(spec.submodule_search_locations))) / inside
    if local.is_file():
      return local, f"the same asset in this machine's mjlab ({local})"
  return None, f"robot.mjcf_path {written} is not on this machine: collision geoms shown"


class VisualRobot:
  """The asset MJCF (plus the sim's ground), posed like the simulated robot (joints by name).

  It is rendered as its own model: mesh geoms need a render context built from the model
  that holds the meshes."""

  def __init__(self, mjcf: Path, sim_model: mujoco.MjModel, prepare: Callable[[mujoco.MjSpec], None]):
    spec = mujoco.MjSpec.from_file(str(mjcf))
    prepare(spec)  # the same ground and light as the simulated scene
    self.model = spec.compile()
    self.data = mujoco.MjData(self.model)
    src, dst = [], []
    self.root_body = 0
    for j in range(self.model.njnt):
      k = mujoco.mj_name2id(sim_model, mujoco.mjtObj.mjOBJ_JOINT, self.model.joint(j).name)
      kind = self.model.jnt_type[j]
      if kind == mujoco.mjtJoint.mjJNT_FREE and self.root_body == 0:
        self.root_body = int(self.model.jnt_bodyid[j])
      if k < 0 or sim_model.jnt_type[k] != kind:
        continue  # e.g. a wrist the 23-DoF robot locks: it keeps the asset's pose
      width = _QPOS_WIDTH[mujoco.mjtJoint(kind)]
      dst += range(self.model.jnt_qposadr[j], self.model.jnt_qposadr[j] + width)
      src += range(sim_model.jnt_qposadr[k], sim_model.jnt_qposadr[k] + width)
    self._src, self._dst = np.array(src, dtype=int), np.array(dst, dtype=int)
    self.matched = len(src)

  def pose(self, sim_data: mujoco.MjData) -> mujoco.MjData:
    """The visual model's data, posed from sim_data."""
    self.data.qpos[self._dst] = sim_data.qpos[self._src]
    mujoco.mj_kinematics(self.model, self.data)
    mujoco.mj_comPos(self.model, self.data)  # subtree_com: where the tracking camera looks
    return self.data
