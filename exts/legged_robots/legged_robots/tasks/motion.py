"""Reference motions in the env: a task-level motion config, loaded once per env.

``MotionDataCfg`` names the clip files (any format ``refmotion_manager`` reads; a
directory means every motion file in it), their sampling weights and the CSV rate.
``load_motion_library`` reads, maps by joint name to the robot (29 -> 23 DoF drops the
wrists), validates against the robot's own model and stacks the clips into one
``MotionLibrary`` on the training device. Errors stop the build with the file and the
fix (``MotionFormatError``); warnings are printed once per clip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import mujoco
import torch

from refmotion_manager import (
  MotionClip,
  MotionFormatError,
  MotionLibrary,
  RobotModel,
  ValidationConfig,
  load_motion,
  remap_joints,
  validate_clip,
  with_body_poses,
)

if TYPE_CHECKING:
  from mjlab.envs import ManagerBasedRlEnv

MOTION_SUFFIXES = (".npz", ".csv", ".pkl")


@dataclass(kw_only=True)
class MotionDataCfg:
  """Which reference clips a task uses and how they are read (st_gym's motion parameters)."""

  files: list[str] = field(default_factory=list)
  """Motion files or directories (every ``.npz``/``.csv``/``.pkl`` inside, sorted)."""
  weights: list[float] | None = None
  """Relative sampling weight per file (st_gym's ``MotionWeight``); None: equal weights.
  With directories, one weight per resolved file, in sorted order."""
  csv_fps: float | None = None
  """Frame rate of CSV files, which do not store it (LAFAN1 G1 retargets: 30 or 120)."""
  body_names: list[str] = field(default_factory=list)
  """Bodies whose poses the library serves (forward kinematics through the robot model)."""
  strict: bool = False
  """Treat validation warnings (joint limits, foot skating, ...) as errors."""


def resolve_motion_files(cfg: MotionDataCfg) -> list[Path]:
  """The files of ``cfg.files`` with directories expanded; a missing path is an error."""
  if not cfg.files:
    raise MotionFormatError(
      None, "env.motion.files", "no motion files given", "set env.motion.files=[PATH,...]"
    )
  paths: list[Path] = []
  for entry in cfg.files:
    path = Path(entry).expanduser()
    if path.is_dir():
      found = sorted(p for p in path.iterdir() if p.suffix.lower() in MOTION_SUFFIXES)
      if not found:
        raise MotionFormatError(path, "directory", "holds no .npz/.csv/.pkl motion files", "check the path")
      paths += found
    elif path.is_file():
      paths.append(path)
    else:
      raise MotionFormatError(path, "file", "does not exist", "check env.motion.files")
  return paths


def read_clip(path: Path, csv_fps: float | None) -> MotionClip:
  """One motion file; a CSV needs ``csv_fps`` (the files do not store their rate)."""
  if path.suffix.lower() == ".csv" and csv_fps is None:
    raise MotionFormatError(
      path,
      "frame rate",
      "CSV files do not store their rate",
      "set env.motion.csv_fps (120 for the AMP locomotion CSVs, 30 for LAFAN1 retargets)",
    )
  return load_motion(path, fps=csv_fps if path.suffix.lower() == ".csv" else None)


def robot_model(spec: mujoco.MjSpec, name: str = "robot") -> RobotModel:
  """``RobotModel`` of an entity's MJCF spec (the robot as trained, e.g. 23-DoF)."""
  return RobotModel.from_mj_model(spec.compile(), Path(name))


def load_clips(cfg: MotionDataCfg, model: RobotModel, joint_names: tuple[str, ...]) -> list[MotionClip]:
  """Read, map to ``joint_names`` and validate every clip; raise on the first bad one."""
  clips = []
  for path in resolve_motion_files(cfg):
    clip = remap_joints(read_clip(path, cfg.csv_fps), joint_names)
    report = validate_clip(clip, model, ValidationConfig(), strict=cfg.strict)
    if not report.ok:
      first = report.errors[0]
      where = f"frame {first.frame}" if first.frame is not None else first.check
      raise MotionFormatError(
        path,
        where,
        f"{first.message} ({len(report.errors)} validation errors)",
        f"see `python -m refmotion_manager validate {path}`; repair the clip or drop it",
      )
    if report.warnings:
      print(report.to_text(), flush=True)
    if cfg.body_names:
      clip = with_body_poses(clip, model, tuple(cfg.body_names))
    clips.append(clip)
  return clips


def load_motion_library(
  cfg: MotionDataCfg, model: RobotModel, joint_names: tuple[str, ...], device: str | torch.device
) -> MotionLibrary:
  """All clips of ``cfg`` on ``device``, joints in ``joint_names`` order."""
  clips = load_clips(cfg, model, joint_names)
  if cfg.weights is not None and len(cfg.weights) != len(clips):
    raise MotionFormatError(
      None,
      "env.motion.weights",
      f"{len(cfg.weights)} weights for {len(clips)} clips",
      "give one weight per motion file (directories count each file)",
    )
  return MotionLibrary(
    clips, device=device, body_names=cfg.body_names or None, weights=cfg.weights, joint_names=joint_names
  )


def motion_library(env: ManagerBasedRlEnv) -> MotionLibrary:
  """The env's reference clips (``StGymRlEnv`` loads them from ``cfg.motion``)."""
  library = getattr(env, "motion_library", None)
  if library is None:
    raise ValueError("this term needs reference motions: give the env cfg a `motion` (MotionDataCfg)")
  return library
