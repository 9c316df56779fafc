"""LAFAN1-retargeted CSV (unitreerobotics/LAFAN1_Retargeting_Dataset layout).

One row per frame, no header, comma-separated: root x, y, z (m), root quaternion
qx, qy, qz, qw, then the joint angles (rad) in the robot's order — for the G1 the 29
joints of `G1_29DOF_JOINT_NAMES`. The file does not store its rate (LAFAN1 retargets are
30 fps, other G1 CSVs 60 or 120), so it is never assumed: the reader passes it, or the
file name carries it (`walk_120hz.csv`; rules in `formats/rate.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from refmotion_manager import quat
from refmotion_manager.clip import MotionClip
from refmotion_manager.errors import MotionFormatError
from refmotion_manager.formats.rate import check_name_rate, csv_rate
from refmotion_manager.joints import G1_29DOF_JOINT_NAMES, remap_joints

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
  path: str | Path, fps: float | None = None, joint_names: Sequence[str] = G1_29DOF_JOINT_NAMES
) -> MotionClip:
  """Read the CSV at `fps`, or at the rate its name carries; neither (or both, disagreeing) is an error."""
  path = Path(path)
  rate = csv_rate(path, fps)
  data = _parse_rows(path, joint_names)
  return MotionClip(
    fps=rate,
    joint_names=tuple(joint_names),
    root_pos=data[:, 0:3],
    root_quat_wxyz=quat.xyzw_to_wxyz(data[:, 3:7]),
    joint_pos=data[:, 7:],
    metadata={"converted_from": "lafan_csv"},
    source=str(path),
  )


def save_lafan_csv(
  clip: MotionClip, path: str | Path, joint_names: Sequence[str] = G1_29DOF_JOINT_NAMES
) -> Path:
  """Write the CSV at the clip's rate, which the file cannot store: a reader must be told
  it (or name it in the file: `walk_50hz.csv`); a name carrying another rate is an error."""
  path = Path(path)
  check_name_rate(path, clip.fps, writing=True)
  clip = remap_joints(clip, joint_names)
  table = np.concatenate([clip.root_pos, quat.wxyz_to_xyzw(clip.root_quat_wxyz), clip.joint_pos], axis=1)
  path.parent.mkdir(parents=True, exist_ok=True)
  # 17 significant digits round-trip float64 exactly.
  np.savetxt(path, table, delimiter=",", fmt="%.17g")
  return path
