"""LAFAN1-retargeted CSV (unitreerobotics/LAFAN1_Retargeting_Dataset layout).

One row per frame, no header, comma-separated: root x, y, z (m), root quaternion
qx, qy, qz, qw, then the joint angles (rad) in the robot's order — for the G1 the 29
joints of `G1_29DOF_JOINT_NAMES`. The dataset is 30 fps; the file does not say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from refmotion_manager import quat
from refmotion_manager.clip import MotionClip
from refmotion_manager.errors import MotionFormatError
from refmotion_manager.joints import G1_29DOF_JOINT_NAMES, remap_joints

LAFAN_FPS = 30.0
_ROOT_COLUMNS = ("root_x", "root_y", "root_z", "root_qx", "root_qy", "root_qz", "root_qw")


def _column_name(col: int, joint_names: Sequence[str]) -> str:
  names = (*_ROOT_COLUMNS, *joint_names)
  return names[col] if col < len(names) else f"extra column {col}"


def _parse_rows(path: Path, joint_names: Sequence[str]) -> np.ndarray:
  width = len(_ROOT_COLUMNS) + len(joint_names)
  rows = []
  try:
    lines = path.read_text(encoding="utf-8").splitlines()
  except UnicodeDecodeError as err:
    raise MotionFormatError(path, "file", "not a text CSV", "pass a LAFAN-style CSV") from err
  for line_no, line in enumerate(lines, start=1):
    if not line.strip():
      continue
    cells = line.split(",")
    if len(cells) != width:
      raise MotionFormatError(
        path,
        f"row {line_no}",
        f"{len(cells)} columns, expected {width} (7 root + {len(joint_names)} joints)",
        "export root xyz, quaternion xyzw and one angle per joint "
        "of the robot (for another robot pass its joint names)",
      )
    try:
      rows.append([float(c) for c in cells])
    except ValueError:
      col = next(i for i, c in enumerate(cells) if not _is_float(c))
      header = line_no == 1 and not any(_is_float(c) for c in cells)
      what = "a header row" if header else f"'{cells[col].strip()}' is not a number"
      raise MotionFormatError(
        path,
        f"row {line_no}, column {col} ({_column_name(col, joint_names)})",
        what,
        "keep only numeric rows (LAFAN CSVs have no header)",
      ) from None
  if len(rows) < 2:
    raise MotionFormatError(path, "rows", f"{len(rows)} frame(s)", "a clip needs at least 2 frames")
  return np.array(rows, dtype=np.float64)


def _is_float(text: str) -> bool:
  try:
    float(text)
  except ValueError:
    return False
  return True


def load_lafan_csv(
  path: str | Path, fps: float = LAFAN_FPS, joint_names: Sequence[str] = G1_29DOF_JOINT_NAMES
) -> MotionClip:
  path = Path(path)
  data = _parse_rows(path, joint_names)
  return MotionClip(
    fps=fps,
    joint_names=tuple(joint_names),
    root_pos=data[:, 0:3],
    root_quat_wxyz=quat.xyzw_to_wxyz(data[:, 3:7]),
    joint_pos=data[:, 7:],
    metadata={"converted_from": "lafan_csv"},
    source=str(path),
  )


def save_lafan_csv(
  clip: MotionClip,
  path: str | Path,
  joint_names: Sequence[str] = G1_29DOF_JOINT_NAMES,
  fps: float = LAFAN_FPS,
) -> Path:
  """Write the CSV; the clip must already be at `fps` because the file cannot say its rate."""
  path = Path(path)
  if abs(clip.fps - fps) > 1e-9:
    raise MotionFormatError(
      clip.source,
      "fps",
      f"clip is {clip.fps} fps but LAFAN CSVs are {fps} fps",
      f"resample first (convert --fps {fps:g})",
    )
  clip = remap_joints(clip, joint_names)
  table = np.concatenate([clip.root_pos, quat.wxyz_to_xyzw(clip.root_quat_wxyz), clip.joint_pos], axis=1)
  path.parent.mkdir(parents=True, exist_ok=True)
  # 17 significant digits round-trip float64 exactly.
  np.savetxt(path, table, delimiter=",", fmt="%.17g")
  return path
