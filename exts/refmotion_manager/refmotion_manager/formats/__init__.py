"""Reading and writing every supported motion format through one entry point."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from refmotion_manager.clip import FORMAT_TAG, MotionClip, read_npz
from refmotion_manager.errors import MotionFormatError
from refmotion_manager.formats.lafan_csv import load_lafan_csv, save_lafan_csv
from refmotion_manager.formats.mjlab_npz import load_mjlab_npz, save_mjlab_npz
from refmotion_manager.formats.rate import check_name_rate, rate_from_name
from refmotion_manager.formats.stgym_pkl import load_stgym_pkl, save_stgym_pkl
from refmotion_manager.model import RobotModel

Format = Literal["canonical", "mjlab", "lafan_csv", "stgym_pkl"]
FORMATS: tuple[Format, ...] = ("canonical", "mjlab", "lafan_csv", "stgym_pkl")


def detect_format(path: str | Path) -> Format:
  path = Path(path)
  suffix = path.suffix.lower()
  if suffix == ".csv":
    return "lafan_csv"
  if suffix == ".pkl":
    return "stgym_pkl"
  if suffix == ".npz":
    data = read_npz(path) if path.exists() else {}
    if not path.exists() or ("format" in data and str(data["format"]) == FORMAT_TAG):
      return "canonical"
    if "body_pos_w" in data:
      return "mjlab"
    raise MotionFormatError(
      path,
      "keys",
      f"not a motion npz (keys: {sorted(data)})",
      "pass a canonical clip (docs/motion_format.md) or an mjlab "
      "motion npz (fps, joint_pos, body_pos_w, ...)",
    )
  raise MotionFormatError(
    path,
    "file name",
    f"unknown motion file type '{suffix}'",
    f"use .npz, .csv or .pkl, or name the format ({', '.join(FORMATS)})",
  )


def load_motion(
  path: str | Path,
  fmt: Format | None = None,
  *,
  model: RobotModel | None = None,
  fps: float | None = None,
  joint_names: Sequence[str] | None = None,
  motion_key: str | None = None,
) -> MotionClip:
  """Read any supported file as a MotionClip.

  `fps` is the input rate of a CSV, required unless the file name carries it
  (`walk_120hz.csv`); for formats that store their rate it is a check, and a different
  rate is an error. A rate in any file's name must agree too (`formats/rate.py`).
  `joint_names` names the columns of files that do not (CSV, mjlab npz); `model`
  supplies MJCF names for mjlab files.
  """
  path = Path(path)
  fmt = fmt or detect_format(path)
  if fmt == "lafan_csv":
    kwargs = {"joint_names": joint_names} if joint_names is not None else {}
    return load_lafan_csv(path, fps=fps, **kwargs)
  if fmt == "canonical":
    clip = MotionClip.load(path)
  elif fmt == "mjlab":
    clip = load_mjlab_npz(path, model=model, joint_names=joint_names)
  elif fmt == "stgym_pkl":
    clip = load_stgym_pkl(path, motion_key=motion_key)
  else:
    raise MotionFormatError(path, "format", f"unknown format '{fmt}'", f"use one of {FORMATS}")
  if fps is not None and abs(clip.fps - fps) > 1e-6:
    raise MotionFormatError(
      path,
      "fps",
      f"the file is {clip.fps:g} fps, but {fps:g} fps was declared",
      "drop the declared input fps, or resample the clip (convert --fps)",
    )
  check_name_rate(path, clip.fps)
  return clip


def save_motion(
  clip: MotionClip, path: str | Path, fmt: Format | None = None, *, model: RobotModel | None = None
) -> Path:
  """Write a clip; mjlab files need `model` (they hold FK of every body). A rate in the
  file name must be the clip's."""
  path = Path(path)
  fmt = fmt or _format_from_suffix(path)
  check_name_rate(path, clip.fps, writing=True)
  if fmt == "canonical":
    return clip.save(path)
  if fmt == "mjlab":
    if model is None:
      raise MotionFormatError(path, "format mjlab", "needs the robot model for FK", "pass --mjcf")
    return save_mjlab_npz(clip, path, model)
  if fmt == "lafan_csv":
    return save_lafan_csv(clip, path)
  if fmt == "stgym_pkl":
    return save_stgym_pkl(clip, path)
  raise MotionFormatError(path, "format", f"unknown format '{fmt}'", f"use one of {FORMATS}")


def _format_from_suffix(path: Path) -> Format:
  by_suffix: dict[str, Format] = {".npz": "canonical", ".csv": "lafan_csv", ".pkl": "stgym_pkl"}
  if path.suffix.lower() not in by_suffix:
    raise MotionFormatError(
      path,
      "file name",
      f"cannot tell the output format from '{path.suffix}'",
      f"name the format ({', '.join(FORMATS)})",
    )
  return by_suffix[path.suffix.lower()]


__all__ = ["FORMATS", "Format", "detect_format", "load_motion", "rate_from_name", "save_motion"]
