"""refmotion_manager — reference motions for AMP and mimic training.

Depends on numpy, torch, mujoco and pyyaml only (never mjlab); a robot is an MJCF file.

Public API (stable names):

- ``MotionClip``: one clip (fps, joint_names, root_pos (T,3), root_quat_wxyz (T,4),
  joint_pos (T,J), optional body_names/body_pos/body_quat, metadata) with
  ``MotionClip.load(path)`` / ``clip.save(path)`` for the canonical ``.npz``
  (schema: docs/motion_format.md).
- ``load_motion(path, fmt=None, ...)`` / ``save_motion(clip, path, fmt=None, ...)``: any
  supported format — "canonical", "mjlab" (mjlab/BeyondMimic npz), "lafan_csv"
  (LAFAN1-retargeted G1 CSV), "stgym_pkl" (st_gym pkl). A CSV's rate is never assumed:
  pass ``fps=`` or name it in the file (``walk_120hz.csv``); ``rate_from_name(path)``
  reads it, and a name whose rate disagrees with the clip's is an error in any format.
- ``RobotModel.from_mjcf(path)``: joint names, limits and bodies of an MJCF;
  ``default_g1_mjcf()`` finds the G1 MJCF inside an installed mjlab without importing it.
- ``remap_joints(clip, names, fill=None)``, ``G1_29DOF_JOINT_NAMES``, ``G1_23DOF_JOINT_NAMES``.
- Processing: ``resample``, ``trim``, ``loop``, ``blend``, ``with_body_poses`` (FK through
  MuJoCo), ``body_states`` (poses and velocities), ``derivatives`` (finite differences).
- ``validate_clip(clip, model, config, strict)`` -> ``ValidationReport``; its foot checks
  use ``contact.foot_contacts`` (each foot's lowest collision point and its speed there).
- ``MotionLibrary(clips, device, body_names=None, weights=None)``: batched
  ``sample(clip_ids, times)`` and ``sample_amp_window(clip_ids, times, num_frames, dt)``,
  ``sample_clip_ids(n)`` (weighted), ``sample_times(clip_ids)`` (random starts).
- ``data_path()``: directory of the shipped synthetic G1 clips; ``shipped_clips()`` lists them.
- ``MotionFormatError``: every bad input, naming file, frame/column and the fix.

Command line: ``python -m refmotion_manager {inspect,convert,validate,synthesize,render}``.
"""

from __future__ import annotations

from pathlib import Path

from refmotion_manager import derivatives
from refmotion_manager.clip import MotionClip
from refmotion_manager.errors import MotionFormatError
from refmotion_manager.formats import FORMATS, detect_format, load_motion, rate_from_name, save_motion
from refmotion_manager.joints import (
  G1_23DOF_JOINT_NAMES,
  G1_29DOF_JOINT_NAMES,
  G1_WRIST_JOINT_NAMES,
  remap_joints,
)
from refmotion_manager.kinematics import BodyStates, body_states, with_body_poses
from refmotion_manager.library import MotionLibrary
from refmotion_manager.model import RobotModel, default_g1_mjcf
from refmotion_manager.processing import blend, concatenate, loop, resample, trim
from refmotion_manager.validation import (
  Issue,
  ValidationConfig,
  ValidationReport,
  validate_clip,
)


def data_path() -> Path:
  """Directory of the shipped synthetic G1 clips (canonical .npz, 29 DoF, 50 fps)."""
  return Path(__file__).parent / "data"


def shipped_clips() -> list[Path]:
  return sorted(data_path().glob("*.npz"))


__all__ = [
  "FORMATS",
  "G1_23DOF_JOINT_NAMES",
  "G1_29DOF_JOINT_NAMES",
  "G1_WRIST_JOINT_NAMES",
  "BodyStates",
  "Issue",
  "MotionClip",
  "MotionFormatError",
  "MotionLibrary",
  "RobotModel",
  "ValidationConfig",
  "ValidationReport",
  "blend",
  "body_states",
  "concatenate",
  "data_path",
  "default_g1_mjcf",
  "derivatives",
  "detect_format",
  "load_motion",
  "loop",
  "rate_from_name",
  "remap_joints",
  "resample",
  "save_motion",
  "shipped_clips",
  "trim",
  "validate_clip",
  "with_body_poses",
]
