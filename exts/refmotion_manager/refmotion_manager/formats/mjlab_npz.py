"""mjlab / BeyondMimic motion `.npz` (as written by mjlab's `csv_to_npz.py`).

Keys: fps (1,), joint_pos / joint_vel (T, J) in the robot's joint order, body_pos_w /
body_quat_w (wxyz) / body_lin_vel_w / body_ang_vel_w (T, B, ·) for every body of the
robot in its body order (root first). The file itself carries no names, so names come
from the MJCF (mjlab's order is the MJCF order) or are given explicitly; files we write
add `joint_names` and `body_names` arrays, which mjlab's loader ignores.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from refmotion_manager.clip import MotionClip, read_npz
from refmotion_manager.errors import MotionFormatError
from refmotion_manager.kinematics import body_states, qpos_trajectory, qvel_trajectory
from refmotion_manager.model import RobotModel

REQUIRED_KEYS = ("fps", "joint_pos", "body_pos_w", "body_quat_w")


def _names(
  path: Path,
  data: dict[str, np.ndarray],
  key: str,
  given: Sequence[str] | None,
  from_model: Sequence[str] | None,
  count: int,
) -> tuple[str, ...]:
  if given is not None:
    names, origin = tuple(given), "the names given"
  elif key in data:
    names, origin = tuple(data[key].tolist()), f"the file's '{key}'"
  elif from_model is not None:
    names, origin = tuple(from_model), "the MJCF"
  else:
    raise MotionFormatError(
      path,
      f"key '{key}'",
      "an mjlab npz has no names",
      "pass the robot's MJCF (--mjcf), whose order mjlab uses",
    )
  if len(names) != count:
    raise MotionFormatError(
      path,
      f"{key} ({count} columns)",
      f"{len(names)} names from {origin}",
      "use the MJCF of the robot the file was made for",
    )
  return names


def load_mjlab_npz(
  path: str | Path,
  model: RobotModel | None = None,
  joint_names: Sequence[str] | None = None,
  body_names: Sequence[str] | None = None,
) -> MotionClip:
  path = Path(path)
  data = read_npz(path)
  missing = [k for k in REQUIRED_KEYS if k not in data]
  if missing:
    raise MotionFormatError(
      path,
      f"keys {missing}",
      f"not an mjlab motion (keys: {sorted(data)})",
      "pass an npz written by csv_to_npz.py or a canonical clip",
    )
  jpos, bpos, bquat = data["joint_pos"], data["body_pos_w"], data["body_quat_w"]
  jn = _names(path, data, "joint_names", joint_names, model.joint_names if model else None, jpos.shape[1])
  bn = _names(path, data, "body_names", body_names, model.body_names if model else None, bpos.shape[1])
  # mjlab stores the root (floating-base) body first.
  root = bn.index(model.root_body) if model is not None and model.root_body in bn else 0
  return MotionClip(
    fps=float(np.ravel(data["fps"])[0]),
    joint_names=jn,
    root_pos=bpos[:, root],
    root_quat_wxyz=bquat[:, root],
    joint_pos=jpos,
    body_names=bn,
    body_pos=bpos,
    body_quat=bquat,
    metadata={"converted_from": "mjlab_npz"},
    source=str(path),
  )


def save_mjlab_npz(clip: MotionClip, path: str | Path, model: RobotModel) -> Path:
  """Write every body of `model` (FK) and all model joints (absent ones at qpos0)."""
  path = Path(path)
  states = body_states(clip, model)
  qpos, qvel = qpos_trajectory(clip, model), qvel_trajectory(clip, model)
  f32 = np.float32
  arrays = {
    "fps": np.array([clip.fps], dtype=f32),
    "joint_pos": qpos[:, model.joint_qpos_adr].astype(f32),
    "joint_vel": qvel[:, model.joint_dof_adr].astype(f32),
    "body_pos_w": states.pos.astype(f32),
    "body_quat_w": states.quat.astype(f32),
    "body_lin_vel_w": states.lin_vel.astype(f32),
    "body_ang_vel_w": states.ang_vel.astype(f32),
    "joint_names": np.array(model.joint_names, dtype=np.str_),
    "body_names": np.array(model.body_names, dtype=np.str_),
  }
  path.parent.mkdir(parents=True, exist_ok=True)
  with path.open("wb") as f:
    np.savez(f, allow_pickle=False, **arrays)
  return path
