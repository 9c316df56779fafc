"""What each `python -m refmotion_manager` sub-command does (parsing lives in cli.py)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from refmotion_manager import processing
from refmotion_manager.clip import MotionClip
from refmotion_manager.errors import MotionFormatError
from refmotion_manager.formats import detect_format, load_motion, rate_from_name, save_motion
from refmotion_manager.joints import remap_joints, resolve_joint_set
from refmotion_manager.kinematics import with_body_poses
from refmotion_manager.model import RobotModel, default_g1_mjcf
from refmotion_manager.validation import ValidationConfig, validate_clip


def model_from(args: argparse.Namespace, required: bool) -> RobotModel | None:
  """--mjcf if given; else the G1 from an installed mjlab when a model is required."""
  if args.mjcf:
    return RobotModel.from_mjcf(args.mjcf)
  return RobotModel.from_mjcf(default_g1_mjcf()) if required else None


def _load(args: argparse.Namespace, path: str, model: RobotModel | None) -> MotionClip:
  names = resolve_joint_set(args.joint_names) if args.joint_names else None
  return load_motion(
    path, args.format, model=model, fps=args.input_fps, joint_names=names, motion_key=args.motion_key
  )


def _needs_model(args: argparse.Namespace, path: str) -> bool:
  return (args.format or detect_format(path)) == "mjlab"


def inspect(args: argparse.Namespace) -> int:
  clip = _load(args, args.path, model_from(args, _needs_model(args, args.path)))
  print(
    f"{args.path}\n  fps: {clip.fps:g}\n  frames: {clip.num_frames}\n"
    f"  duration: {clip.duration:.3f} s\n  joints ({len(clip.joint_names)}):"
  )
  for k, name in enumerate(clip.joint_names):
    col = clip.joint_pos[:, k]
    print(f"    {k:2d} {name:32s} [{np.nanmin(col):+.3f}, {np.nanmax(col):+.3f}] rad")
  lo, hi = np.nanmin(clip.root_pos, axis=0), np.nanmax(clip.root_pos, axis=0)
  print(f"  root_pos min {np.round(lo, 3).tolist()} max {np.round(hi, 3).tolist()}")
  print(f"  bodies: {list(clip.body_names) if clip.body_names else 'none stored'}")
  print(f"  metadata: {clip.metadata}")
  return 0


def _require_usable(clip: MotionClip) -> None:
  report = validate_clip(clip)
  for issue in report.errors:
    raise MotionFormatError(
      clip.source,
      f"frame {issue.frame}",
      issue.message,
      "repair the input (python -m refmotion_manager validate shows every problem)",
    )


def convert(args: argparse.Namespace) -> int:
  src, dst = Path(args.input), Path(args.output)
  if dst.exists() and dst.resolve() == src.resolve():
    raise MotionFormatError(
      dst, "output", "is the input file", "write to a new file; inputs are never modified"
    )
  to_format = args.to
  model = model_from(args, _needs_model(args, args.input) or to_format == "mjlab" or bool(args.fk))
  clip = _load(args, args.input, model)
  _require_usable(clip)
  if args.joints:
    clip = remap_joints(clip, resolve_joint_set(args.joints), _fill_values(args.fill, src))
  elif args.fill:
    raise MotionFormatError(src, "--fill", "only applies with --joints", "add --joints <set or names>")
  if args.trim:
    clip = processing.trim(clip, args.trim[0], args.trim[1])
  if args.fps is not None:
    clip = processing.resample(clip, args.fps)
  if args.fk:
    assert model is not None
    clip = with_body_poses(clip, model)
  save_motion(clip, dst, to_format, model=model)
  print(f"wrote {dst} ({clip.num_frames} frames at {clip.fps:g} fps, {len(clip.joint_names)} joints)")
  if (to_format or detect_format(dst)) == "lafan_csv" and rate_from_name(dst) is None:
    print(f"  a CSV does not store its rate: read it back with --input-fps {clip.fps:g}")
  return 0


def _fill_values(entries: list[str], src: Path) -> dict[str, float]:
  """--fill JOINT=VALUE ... as {joint: value}; a malformed entry is a MotionFormatError."""
  fill = {}
  for entry in entries:
    name, _, value = entry.partition("=")
    try:
      fill[name] = float(value)
    except ValueError:
      fill[name] = math.nan  # refused below, with the malformed entries
    if not name or not math.isfinite(fill[name]):
      raise MotionFormatError(
        src, f"--fill {entry}", "is not JOINT=VALUE with a finite number", "e.g. --fill waist_roll_joint=0.0"
      )
  return fill


def validate(args: argparse.Namespace) -> int:
  model = None if args.no_model else model_from(args, required=True)
  config = ValidationConfig(
    expected_fps=args.expected_fps,
    min_duration_s=args.min_duration,
    root_height_range=tuple(args.root_height),
  )
  failed = unreadable = 0
  for path in args.paths:
    try:
      clip = _load(args, path, model)
    except (MotionFormatError, FileNotFoundError) as err:
      # Like every sub-command: one line on stderr and exit 2; the other files still run.
      print(f"error: {err}", file=sys.stderr)
      unreadable += 1
      continue
    report = validate_clip(clip, model, config, strict=args.strict)
    print(report.to_text())
    failed += 0 if report.ok else 1
  return 2 if unreadable else 1 if failed else 0


def synthesize(args: argparse.Namespace) -> int:
  from refmotion_manager.synth import CATALOGUE
  from refmotion_manager.synth import synthesize as make

  model = model_from(args, required=True)
  assert model is not None
  names = args.motion or sorted(CATALOGUE)
  unknown = sorted(set(names) - set(CATALOGUE))
  if unknown:
    raise MotionFormatError(None, f"motions {unknown}", "unknown", f"choose from {sorted(CATALOGUE)}")
  out = Path(args.out)
  for name in names:
    clip = make(name, model, fps=args.fps, duration=args.duration)
    path = clip.save(out / f"g1_{name}.npz")
    print(f"wrote {path} ({clip.num_frames} frames, {CATALOGUE[name].description})")
  return 0


def render(args: argparse.Namespace) -> int:
  from refmotion_manager import render as rendering

  model = model_from(args, required=True)
  assert model is not None
  clip = _load(args, args.path, model)
  _require_usable(clip)
  out = Path(args.out)
  frames = rendering.render_frames(clip, model, args.width, args.height, args.stride)
  if out.suffix.lower() == ".png":
    rendering.write_strip(out, frames, args.columns)
  elif out.suffix.lower() == ".mp4":
    rendering.write_video(out, frames, clip.fps / args.stride)
  else:
    raise MotionFormatError(
      out, "output", f"unknown output type '{out.suffix}'", "use .mp4 (video) or .png (frame strip)"
    )
  print(f"wrote {out} ({len(frames)} frames rendered)")
  return 0
