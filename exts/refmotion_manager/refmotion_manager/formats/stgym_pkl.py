"""st_gym `.pkl` motion files (read by st_gym's refmotion_manager `RefMotionLoader`).

A pickled dict {motion_name: motion}; each motion is a dict with `Fields` (column names),
`Frames` (T, F), `FrameDuration` (s) and optional `MotionWeight`, `LoopMode`. Columns:
root_pos_{x,y,z}, root_rot_{x,y,z,w}, root_vel_{x,y,z}_{w,b}, root_ang_vel_{x,y,z}_{w,b},
<joint>_dof_pos, <joint>_dof_vel and per body <body>_{pos,vel}_{x,y,z}_{w,b} (the `_b`
ones relative to the root, in root axes). st_gym writes them with joblib.dump; we write
plain pickles, which joblib.load also reads. Only load pickles you trust.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from refmotion_manager import quat
from refmotion_manager.clip import MotionClip
from refmotion_manager.derivatives import angular_velocity_world, linear_velocity
from refmotion_manager.errors import MotionFormatError

_AXES = ("x", "y", "z")
_ROOT_POS = [f"root_pos_{a}" for a in _AXES]
_ROOT_ROT_XYZW = [f"root_rot_{a}" for a in (*_AXES, "w")]


def _unpickle(path: Path) -> Any:
  if not path.is_file():
    raise MotionFormatError(path, "file", "does not exist", "check the path")
  try:
    with path.open("rb") as f:
      return pickle.load(f)
  except ModuleNotFoundError as err:
    if err.name != "joblib":
      raise
    plain_error: Exception = err
  except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as err:
    plain_error = err
  # joblib.dump stores numpy arrays outside the pickle stream; only joblib can read those.
  try:
    import joblib
  except ModuleNotFoundError as err:
    if isinstance(plain_error, ModuleNotFoundError):
      raise MotionFormatError(
        path,
        "file",
        "written by joblib, which is not installed",
        "pip install 'refmotion_manager[stgym]' (joblib)",
      ) from err
    raise MotionFormatError(
      path, "file", f"not a pickle ({plain_error})", "pass an st_gym motion .pkl"
    ) from plain_error
  try:
    return joblib.load(path)
  except Exception as err:  # joblib raises many types for non-joblib bytes
    raise MotionFormatError(
      path, "file", f"not a pickle ({plain_error})", "pass an st_gym motion .pkl"
    ) from err


def _motions(path: Path) -> dict[str, dict[str, Any]]:
  obj = _unpickle(path)
  needed = {"Fields", "Frames", "FrameDuration"}
  if (
    not isinstance(obj, dict)
    or not obj
    or not all(isinstance(m, dict) and needed <= set(m) for m in obj.values())
  ):
    raise MotionFormatError(
      path,
      "top level",
      "not an st_gym motion dict {name: {Fields, Frames, FrameDuration}}",
      "pass an st_gym motion .pkl",
    )
  return obj


def stgym_motion_names(path: str | Path) -> list[str]:
  return list(_motions(Path(path)))


def load_stgym_pkl(path: str | Path, motion_key: str | None = None) -> MotionClip:
  path = Path(path)
  motions = _motions(path)
  if motion_key is None and len(motions) > 1:
    raise MotionFormatError(
      path, "motions", f"{len(motions)} motions {list(motions)}", "choose one with motion_key (--motion-key)"
    )
  key = motion_key if motion_key is not None else next(iter(motions))
  if key not in motions:
    raise MotionFormatError(path, f"motion '{key}'", "not in the file", f"use one of {list(motions)}")
  m = motions[key]
  fields = [str(f) for f in m["Fields"]]
  frames = np.asarray(m["Frames"], dtype=np.float64)
  if frames.ndim != 2 or frames.shape[1] != len(fields):
    raise MotionFormatError(
      path,
      f"motion '{key}' Frames",
      f"shape {frames.shape} for {len(fields)} Fields",
      "store one column per field",
    )
  missing = [f for f in _ROOT_POS + _ROOT_ROT_XYZW if f not in fields]
  if missing:
    raise MotionFormatError(
      path,
      f"motion '{key}' Fields",
      f"missing {missing}",
      "st_gym motions need root_pos_* and root_rot_* columns",
    )
  col = {f: i for i, f in enumerate(fields)}
  joints = tuple(f[: -len("_dof_pos")] for f in fields if f.endswith("_dof_pos"))
  meta = {"converted_from": "stgym_pkl", "motion_key": key}
  meta.update({k: m[k] for k in ("MotionWeight", "LoopMode") if k in m})
  return MotionClip(
    fps=1.0 / float(m["FrameDuration"]),
    joint_names=joints,
    root_pos=frames[:, [col[f] for f in _ROOT_POS]],
    root_quat_wxyz=quat.xyzw_to_wxyz(frames[:, [col[f] for f in _ROOT_ROT_XYZW]]),
    joint_pos=frames[:, [col[f"{j}_dof_pos"] for j in joints]],
    metadata=meta,
    source=str(path),
  )


def stgym_columns(clip: MotionClip) -> dict[str, np.ndarray]:
  """All st_gym fields of a clip, body fields only for the clip's bodies (if any)."""
  dt, q = clip.dt, clip.root_quat_wxyz
  lin_w = linear_velocity(clip.root_pos, dt)
  ang_w = angular_velocity_world(q, dt)
  cols: dict[str, np.ndarray] = {}
  cols.update(zip(_ROOT_POS, clip.root_pos.T, strict=True))
  cols.update(zip(_ROOT_ROT_XYZW, quat.wxyz_to_xyzw(q).T, strict=True))
  for name, vec in (("root_vel", lin_w), ("root_ang_vel", ang_w)):
    cols.update({f"{name}_{a}_w": vec[:, i] for i, a in enumerate(_AXES)})
  for name, vec in (("root_vel", lin_w), ("root_ang_vel", ang_w)):
    vec_b = quat.rotate_inverse(q, vec)
    cols.update({f"{name}_{a}_b": vec_b[:, i] for i, a in enumerate(_AXES)})
  joint_vel = linear_velocity(clip.joint_pos, dt)
  cols.update({f"{j}_dof_pos": clip.joint_pos[:, i] for i, j in enumerate(clip.joint_names)})
  cols.update({f"{j}_dof_vel": joint_vel[:, i] for i, j in enumerate(clip.joint_names)})
  if clip.body_names is not None:
    assert clip.body_pos is not None
    cols.update(_body_columns(clip.body_names, clip.body_pos, clip.root_pos, q, lin_w, dt))
  return cols


def _body_columns(
  names: tuple[str, ...],
  pos: np.ndarray,
  root_pos: np.ndarray,
  root_q: np.ndarray,
  root_v: np.ndarray,
  dt: float,
) -> dict[str, np.ndarray]:
  vel = linear_velocity(pos, dt)
  qb = np.broadcast_to(root_q[:, None], (*pos.shape[:2], 4))
  values = {
    "pos_{}_w": pos,
    "vel_{}_w": vel,
    "pos_{}_b": quat.rotate_inverse(qb, pos - root_pos[:, None]),
    "vel_{}_b": quat.rotate_inverse(qb, vel - root_v[:, None]),
  }
  return {
    f"{b}_{pattern.format(a)}": arr[:, k, i]
    for pattern, arr in values.items()
    for k, b in enumerate(names)
    for i, a in enumerate(_AXES)
  }


def save_stgym_pkl(
  clip: MotionClip, path: str | Path, motion_key: str | None = None, weight: float = 1.0
) -> Path:
  path = Path(path)
  cols = stgym_columns(clip)
  motion = {
    "LoopMode": "Wrap",
    "FrameDuration": clip.dt,
    "EnableCycleOffsetPosition": True,
    "EnableCycleOffsetRotation": True,
    "MotionWeight": float(weight),
    "Fields": list(cols),
    "Frames": np.stack(list(cols.values()), axis=1),
  }
  path.parent.mkdir(parents=True, exist_ok=True)
  with path.open("wb") as f:
    pickle.dump({motion_key or path.stem: motion}, f, protocol=4)
  return path
