"""A robot as refmotion_manager sees it: an MJCF file, its joint names, limits and bodies."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np

from refmotion_manager.errors import MotionFormatError

_G1_MJCF_IN_MJLAB = ("asset_zoo", "robots", "unitree_g1", "xmls", "g1.xml")


def default_g1_mjcf() -> Path:
  """Path of the G1 29-DoF MJCF shipped inside an installed mjlab (found, never imported)."""
  spec = importlib.util.find_spec("mjlab")
  if spec is None or spec.origin is None:
    raise FileNotFoundError(
      "mjlab is not installed, so the default G1 MJCF cannot be found. "
      "Pass the model explicitly (--mjcf path/to/g1.xml)."
    )
  path = Path(spec.origin).parent.joinpath(*_G1_MJCF_IN_MJLAB)
  if not path.is_file():
    raise FileNotFoundError(f"{path} does not exist in this mjlab version. Pass --mjcf.")
  return path


@dataclass(frozen=True)
class RobotModel:
  """MuJoCo model of a floating-base robot plus the name lookups motions need."""

  mj_model: mujoco.MjModel
  path: Path
  joint_names: tuple[str, ...]
  """1-DoF (hinge/slide) joints in MJCF order, i.e. the order of qpos[7:]."""
  body_names: tuple[str, ...]
  """All bodies except the world, in MJCF order (the order of mjlab's body arrays)."""
  root_body: str
  joint_qpos_adr: np.ndarray
  joint_dof_adr: np.ndarray
  joint_limits: np.ndarray
  """(J, 2) lower/upper limits; (-inf, inf) where the joint is unlimited."""

  @classmethod
  def from_mjcf(cls, path: str | Path) -> RobotModel:
    path = Path(path)
    if not path.is_file():
      raise FileNotFoundError(f"MJCF {path} does not exist. Pass --mjcf with a valid path.")
    model = mujoco.MjModel.from_xml_path(str(path))
    return cls.from_mj_model(model, path)

  @classmethod
  def from_mj_model(cls, model: mujoco.MjModel, path: Path) -> RobotModel:
    free = [j for j in range(model.njnt) if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE]
    if len(free) != 1 or model.jnt_qposadr[free[0]] != 0:
      raise MotionFormatError(
        path,
        "joints",
        f"{len(free)} free joints (need one, first)",
        "use an MJCF whose root body has a single <freejoint/>",
      )
    one_dof = (mujoco.mjtJoint.mjJNT_HINGE, mujoco.mjtJoint.mjJNT_SLIDE)
    joints = [j for j in range(model.njnt) if model.jnt_type[j] in one_dof]
    limits = np.array(
      [model.jnt_range[j] if model.jnt_limited[j] else (-np.inf, np.inf) for j in joints], dtype=np.float64
    ).reshape(-1, 2)
    return cls(
      mj_model=model,
      path=path,
      joint_names=tuple(model.joint(j).name for j in joints),
      body_names=tuple(model.body(b).name for b in range(1, model.nbody)),
      root_body=model.body(model.jnt_bodyid[free[0]]).name,
      joint_qpos_adr=np.array([model.jnt_qposadr[j] for j in joints], dtype=np.int64),
      joint_dof_adr=np.array([model.jnt_dofadr[j] for j in joints], dtype=np.int64),
      joint_limits=limits,
    )

  def body_id(self, name: str) -> int:
    bid = mujoco.mj_name2id(self.mj_model, mujoco.mjtObj.mjOBJ_BODY, name)
    if bid < 0:
      raise MotionFormatError(
        self.path, f"body '{name}'", "not in the model", f"use one of {list(self.body_names)}"
      )
    return bid

  def joint_columns(self, names: tuple[str, ...], source: str | None) -> np.ndarray:
    """Model joint index of each name; unknown names are an error naming the column."""
    index = {n: i for i, n in enumerate(self.joint_names)}
    for col, name in enumerate(names):
      if name not in index:
        raise MotionFormatError(
          source,
          f"joint column {col} '{name}'",
          f"unknown joint for model {self.path.name}",
          f"rename it to one of {list(self.joint_names)} or map the clip with refmotion_manager.remap_joints",
        )
    return np.array([index[n] for n in names], dtype=np.int64)
