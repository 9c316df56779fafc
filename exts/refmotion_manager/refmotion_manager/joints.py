"""Joint-name tables and mapping clips between joint sets by name (e.g. G1 29-DoF -> 23-DoF)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from refmotion_manager.clip import MotionClip
from refmotion_manager.errors import MotionFormatError

G1_29DOF_JOINT_NAMES: tuple[str, ...] = (
  "left_hip_pitch_joint",
  "left_hip_roll_joint",
  "left_hip_yaw_joint",
  "left_knee_joint",
  "left_ankle_pitch_joint",
  "left_ankle_roll_joint",
  "right_hip_pitch_joint",
  "right_hip_roll_joint",
  "right_hip_yaw_joint",
  "right_knee_joint",
  "right_ankle_pitch_joint",
  "right_ankle_roll_joint",
  "waist_yaw_joint",
  "waist_roll_joint",
  "waist_pitch_joint",
  "left_shoulder_pitch_joint",
  "left_shoulder_roll_joint",
  "left_shoulder_yaw_joint",
  "left_elbow_joint",
  "left_wrist_roll_joint",
  "left_wrist_pitch_joint",
  "left_wrist_yaw_joint",
  "right_shoulder_pitch_joint",
  "right_shoulder_roll_joint",
  "right_shoulder_yaw_joint",
  "right_elbow_joint",
  "right_wrist_roll_joint",
  "right_wrist_pitch_joint",
  "right_wrist_yaw_joint",
)
"""G1 29-DoF joints in MJCF order, which is also the LAFAN1-retargeted CSV column order."""

G1_WRIST_JOINT_NAMES: tuple[str, ...] = tuple(
  f"{side}_wrist_{axis}_joint" for side in ("left", "right") for axis in ("roll", "pitch", "yaw")
)

G1_23DOF_JOINT_NAMES: tuple[str, ...] = tuple(
  n for n in G1_29DOF_JOINT_NAMES if n not in G1_WRIST_JOINT_NAMES
)
"""The 23-DoF G1 variant: the 29-DoF joints without the six wrist joints (locked at 0)."""

JOINT_SETS: dict[str, tuple[str, ...]] = {
  "g1_29dof": G1_29DOF_JOINT_NAMES,
  "g1_23dof": G1_23DOF_JOINT_NAMES,
}


def remap_joints(
  clip: MotionClip, target_names: Sequence[str], fill: Mapping[str, float] | None = None
) -> MotionClip:
  """Reorder/select the clip's joints by name to `target_names`.

  Joints of the clip that the target lacks are dropped (that is what 29 -> 23 DoF
  means). A target joint the clip lacks is an error unless `fill` gives its constant
  value, so that no joint silently appears at zero.
  """
  fill = dict(fill or {})
  unknown = sorted(set(fill) - set(target_names))
  if unknown:  # a misspelled name would otherwise be ignored
    raise MotionFormatError(
      clip.source,
      f"fill {unknown}",
      f"not among the target joints {list(target_names)}",
      "name target joints (the ones the clip lacks) in fill",
    )
  index = {n: i for i, n in enumerate(clip.joint_names)}
  columns = []
  for col, name in enumerate(target_names):
    if name in index:
      columns.append(clip.joint_pos[:, index[name]])
    elif name in fill:
      columns.append(np.full(clip.num_frames, float(fill[name])))
    else:
      raise MotionFormatError(
        clip.source,
        f"target joint {col} '{name}'",
        f"not among the clip's joints {list(clip.joint_names)}",
        "give its value in fill={name: value} or choose target joints the clip has",
      )
  joint_pos = np.stack(columns, axis=1)
  return clip.replace(joint_names=tuple(target_names), joint_pos=joint_pos)


def resolve_joint_set(spec: str) -> tuple[str, ...]:
  """A named set ('g1_23dof') or a comma-separated list of joint names."""
  if spec in JOINT_SETS:
    return JOINT_SETS[spec]
  names = tuple(s.strip() for s in spec.split(",") if s.strip())
  if len(names) < 2:
    raise MotionFormatError(
      None,
      f"joint set '{spec}'",
      "unknown joint set",
      f"use one of {sorted(JOINT_SETS)} or a comma-separated name list",
    )
  return names
