"""Checks a clip before training on it, and reports every problem with frame and column.

Errors make a clip unusable (NaN/inf, non-unit quaternions, unknown joints, wrong fps).
Warnings are physically dubious but usable (joint limits, root height, feet through or
sliding on the ground, short clips); `strict=True` counts them as errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from refmotion_manager.clip import MotionClip
from refmotion_manager.contact import foot_contacts, on_ground
from refmotion_manager.model import RobotModel

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class ValidationConfig:
  expected_fps: float | None = None
  """Rate the consumer needs; a different clip rate is an error."""
  min_duration_s: float = 1.0
  """Shorter clips get a warning (they still work; any clip of 2+ frames samples)."""
  root_height_range: tuple[float, float] = (0.25, 1.5)
  """Allowed root z (m)."""
  joint_limit_tol: float = 1e-3
  """Radians a joint may exceed its MJCF range before a warning."""
  quat_norm_tol: float = 1e-3
  foot_bodies: tuple[str, ...] = ("left_ankle_roll_link", "right_ankle_roll_link")
  """Bodies whose collision geoms are the feet; missing bodies skip the foot checks."""
  penetration_tol: float = 0.01
  """Meters a foot may sink below z = 0 before a warning."""
  contact_height: float = 0.02
  """A foot whose lowest point is below this height (m) may be on the ground ..."""
  contact_speed_z: float = 0.1
  """... if that point's height also changes slower than this (m/s) ..."""
  contact_min_s: float = 0.06
  """... for at least this long (s): a swing foot is that low and steady only for a frame or
  two at the bottom of its arc ..."""
  contact_touchdown_height: float = 0.01
  """... and gets below this height (m) in that time: a foot skimming the ground 1-2 cm
  above it is not on it (``contact.on_ground``)."""
  skate_speed: float = 0.25
  """Horizontal speed (m/s) of the foot at its lowest point, while on the ground, above
  which it skates (``contact.foot_contacts``: a heel-to-toe roll does not count)."""


@dataclass(frozen=True)
class Issue:
  severity: Severity
  check: str
  message: str
  frame: int | None = None


@dataclass
class ValidationReport:
  source: str
  strict: bool = False
  issues: list[Issue] = field(default_factory=list)

  def add(self, severity: Severity, check: str, message: str, frame: int | None = None) -> None:
    self.issues.append(Issue(severity, check, message, frame))

  @property
  def errors(self) -> list[Issue]:
    return [i for i in self.issues if i.severity == "error" or self.strict]

  @property
  def warnings(self) -> list[Issue]:
    return [i for i in self.issues if i.severity == "warning" and not self.strict]

  @property
  def ok(self) -> bool:
    return not self.errors

  def to_text(self) -> str:
    lines = [
      f"{self.source}: {'OK' if self.ok else 'FAILED'} ({len(self.errors)} errors, "
      f"{len(self.warnings)} warnings)"
    ]
    for issue in self.issues:
      level = "error" if issue in self.errors else "warning"
      where = f" frame {issue.frame}" if issue.frame is not None else ""
      lines.append(f"  {level} [{issue.check}]{where}: {issue.message}")
    return "\n".join(lines)


def validate_clip(
  clip: MotionClip,
  model: RobotModel | None = None,
  config: ValidationConfig | None = None,
  strict: bool = False,
) -> ValidationReport:
  cfg = config or ValidationConfig()
  report = ValidationReport(clip.source or "<in-memory clip>", strict=strict)
  finite = _check_finite(clip, report)
  _check_quaternions(clip, cfg, report)
  _check_timing(clip, cfg, report)
  if not finite:
    return report
  _check_root_height(clip, cfg, report)
  if model is None:
    return report
  unknown = [n for n in clip.joint_names if n not in model.joint_names]
  for name in unknown:
    report.add(
      "error",
      "joint_names",
      f"joint '{name}' (column {clip.joint_names.index(name)})"
      f" is not in {model.path.name}; rename it or remap the clip",
    )
  if unknown:
    return report
  _check_joint_limits(clip, model, cfg, report)
  _check_feet(clip, model, cfg, report)
  return report


def _columns(clip: MotionClip) -> list[tuple[str, np.ndarray, list[str]]]:
  arrays = [
    ("root_pos", clip.root_pos, ["x", "y", "z"]),
    ("root_quat_wxyz", clip.root_quat_wxyz, ["w", "x", "y", "z"]),
    ("joint_pos", clip.joint_pos, list(clip.joint_names)),
  ]
  if clip.body_names is not None:
    assert clip.body_pos is not None and clip.body_quat is not None
    t = clip.num_frames
    names = list(clip.body_names)
    arrays += [
      ("body_pos", clip.body_pos.reshape(t, -1), [f"{b}.{a}" for b in names for a in "xyz"]),
      ("body_quat", clip.body_quat.reshape(t, -1), [f"{b}.{a}" for b in names for a in "wxyz"]),
    ]
  return arrays


def _check_finite(clip: MotionClip, report: ValidationReport) -> bool:
  ok = True
  for key, arr, names in _columns(clip):
    bad = ~np.isfinite(arr)
    if bad.any():
      frame, col = (int(v) for v in np.argwhere(bad)[0])
      report.add(
        "error",
        "finite",
        f"{key} column {col} ({names[col]}) is {arr[frame, col]}"
        f" in {int(bad.any(axis=1).sum())} frame(s); interpolate over or trim "
        "those frames",
        frame,
      )
      ok = False
  return ok


def _check_quaternions(clip: MotionClip, cfg: ValidationConfig, report: ValidationReport) -> None:
  err = np.abs(np.linalg.norm(clip.root_quat_wxyz, axis=1) - 1.0)
  err = np.where(np.isfinite(err), err, 0.0)
  if err.max() > cfg.quat_norm_tol:
    frame = int(err.argmax())
    report.add(
      "error",
      "quaternion",
      f"root_quat_wxyz norm is off by {err[frame]:.3g}; store unit quaternions (w, x, y, z)",
      frame,
    )


def _check_timing(clip: MotionClip, cfg: ValidationConfig, report: ValidationReport) -> None:
  if cfg.expected_fps is not None and abs(clip.fps - cfg.expected_fps) > 1e-6:
    report.add(
      "error",
      "fps",
      f"clip is {clip.fps:g} fps, expected {cfg.expected_fps:g}; "
      f"resample it (convert --fps {cfg.expected_fps:g})",
    )
  if clip.duration < cfg.min_duration_s:
    report.add(
      "warning",
      "short",
      f"clip lasts {clip.duration:.3f} s (< {cfg.min_duration_s} s, {clip.num_frames} frames)",
    )


def _check_root_height(clip: MotionClip, cfg: ValidationConfig, report: ValidationReport) -> None:
  z = clip.root_pos[:, 2]
  low, high = cfg.root_height_range
  for frame, what in ((int(z.argmin()), "below"), (int(z.argmax()), "above")):
    bound = low if what == "below" else high
    if (what == "below" and z[frame] < low) or (what == "above" and z[frame] > high):
      report.add("warning", "root_height", f"root z = {z[frame]:.3f} m is {what} {bound} m", frame)


def _check_joint_limits(
  clip: MotionClip, model: RobotModel, cfg: ValidationConfig, report: ValidationReport
) -> None:
  limits = model.joint_limits[model.joint_columns(clip.joint_names, clip.source)]
  excess = np.maximum(limits[:, 0] - clip.joint_pos, clip.joint_pos - limits[:, 1])
  for col in np.flatnonzero(excess.max(axis=0) > cfg.joint_limit_tol):
    frame = int(excess[:, col].argmax())
    report.add(
      "warning",
      "joint_limit",
      f"{clip.joint_names[col]} = "
      f"{clip.joint_pos[frame, col]:.4f} rad is {excess[frame, col]:.4f} rad outside "
      f"[{limits[col, 0]:.4f}, {limits[col, 1]:.4f}] in "
      f"{int((excess[:, col] > cfg.joint_limit_tol).sum())} frame(s)",
      frame,
    )


def foot_heights(
  clip: MotionClip, model: RobotModel, foot_bodies: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
  """Lowest collision-geom point of each foot: its height (T, F) and its xy (T, F, 2)."""
  contacts = foot_contacts(clip, model, foot_bodies)
  return contacts.height, contacts.point[..., :2]


def _check_feet(clip: MotionClip, model: RobotModel, cfg: ValidationConfig, report: ValidationReport) -> None:
  feet = tuple(f for f in cfg.foot_bodies if f in model.body_names)
  if not feet:
    report.add(
      "warning",
      "feet",
      f"no foot bodies {list(cfg.foot_bodies)} in the model; "
      "foot penetration/skating not checked (set foot_bodies)",
    )
    return
  contacts = foot_contacts(clip, model, feet)
  low, speed = contacts.height, contacts.speed_xy
  grounded = on_ground(
    contacts,
    clip.dt,
    cfg.contact_height,
    cfg.contact_speed_z,
    cfg.contact_min_s,
    cfg.contact_touchdown_height,
  )
  for k, name in enumerate(feet):
    frame = int(low[:, k].argmin())
    if low[frame, k] < -cfg.penetration_tol:
      report.add(
        "warning",
        "foot_penetration",
        f"{name} is {-low[frame, k]:.3f} m below "
        f"the ground in {int((low[:, k] < -cfg.penetration_tol).sum())} "
        "frame(s)",
        frame,
      )
    skating = grounded[:, k] & (speed[:, k] > cfg.skate_speed)
    if skating.any():
      frame = int(np.where(skating, speed[:, k], 0.0).argmax())
      report.add(
        "warning",
        "foot_skating",
        f"{name} slides at {speed[frame, k]:.2f} m/s at its lowest point while on the ground "
        f"in {int(skating.sum())} frame(s)",
        frame,
      )
