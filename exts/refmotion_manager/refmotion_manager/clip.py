"""The canonical motion clip and its `.npz` file format (schema: docs/motion_format.md)."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from refmotion_manager.errors import MotionFormatError

FORMAT_TAG = "refmotion_manager/clip"
FORMAT_VERSION = 1
_REQUIRED_KEYS = ("format", "format_version", "fps", "joint_names", "root_pos", "root_quat_wxyz", "joint_pos")
_BODY_KEYS = ("body_names", "body_pos", "body_quat")


@dataclass(eq=False)  # arrays have no single truth value; compare fields explicitly
class MotionClip:
  """One reference motion: root trajectory plus joint angles, sampled at a fixed rate.

  Frame t is at time t / fps. Positions in meters, angles in radians, quaternions
  (w, x, y, z) in the world frame (z up). Velocities are not stored: they are
  derived by finite differences (`refmotion_manager.processing`).
  """

  fps: float
  """Frames per second (> 0)."""
  joint_names: tuple[str, ...]
  """Names of the joints of `joint_pos`, in column order (MJCF joint names)."""
  root_pos: np.ndarray
  """(T, 3) world position of the root (floating-base) body."""
  root_quat_wxyz: np.ndarray
  """(T, 4) world orientation of the root body, unit quaternions (w, x, y, z)."""
  joint_pos: np.ndarray
  """(T, J) joint positions."""
  body_names: tuple[str, ...] | None = None
  """Optional names of the bodies of `body_pos` / `body_quat`."""
  body_pos: np.ndarray | None = None
  """Optional (T, B, 3) world body positions (usually from forward kinematics)."""
  body_quat: np.ndarray | None = None
  """Optional (T, B, 4) world body orientations (w, x, y, z)."""
  metadata: dict[str, Any] = field(default_factory=dict)
  """Free-form JSON-serializable information (origin, license, generator settings)."""
  source: str | None = field(default=None, compare=False)
  """File the clip was read from, for error messages; not saved."""

  def __post_init__(self) -> None:
    self.joint_names = tuple(str(n) for n in self.joint_names)
    self.root_pos = np.asarray(self.root_pos, dtype=np.float64)
    self.root_quat_wxyz = np.asarray(self.root_quat_wxyz, dtype=np.float64)
    self.joint_pos = np.asarray(self.joint_pos, dtype=np.float64)
    if self.body_names is not None:
      self.body_names = tuple(str(n) for n in self.body_names)
      self.body_pos = np.asarray(self.body_pos, dtype=np.float64)
      self.body_quat = np.asarray(self.body_quat, dtype=np.float64)
    self._check_shapes()

  def _check_shapes(self) -> None:
    t = self.root_pos.shape[0] if self.root_pos.ndim == 2 else -1
    expected: dict[str, tuple[np.ndarray | None, tuple[int, ...]]] = {
      "root_pos": (self.root_pos, (t, 3)),
      "root_quat_wxyz": (self.root_quat_wxyz, (t, 4)),
      "joint_pos": (self.joint_pos, (t, len(self.joint_names))),
    }
    if self.body_names is not None:
      b = len(self.body_names)
      expected["body_pos"] = (self.body_pos, (t, b, 3))
      expected["body_quat"] = (self.body_quat, (t, b, 4))
    elif self.body_pos is not None or self.body_quat is not None:
      raise MotionFormatError(
        self.source,
        "body_pos/body_quat",
        "body arrays without body_names",
        "give body_names with one name per body",
      )
    for name, (arr, shape) in expected.items():
      got = None if arr is None else arr.shape
      if got != shape:
        raise MotionFormatError(
          self.source,
          name,
          f"shape {got}, expected {shape} (T={t} frames, {len(self.joint_names)} joint names)",
          "make every array have one row per frame",
        )
    if t < 2:
      raise MotionFormatError(
        self.source, "root_pos", f"{max(t, 0)} frame(s)", "a clip needs at least 2 frames"
      )
    if not np.isfinite(self.fps) or self.fps <= 0.0:
      raise MotionFormatError(
        self.source, "fps", f"fps is {self.fps}", "store the clip's frame rate, a positive number"
      )
    if len(set(self.joint_names)) != len(self.joint_names):
      raise MotionFormatError(
        self.source, "joint_names", "duplicate joint names", "give each column a distinct joint name"
      )

  @property
  def num_frames(self) -> int:
    return int(self.root_pos.shape[0])

  @property
  def dt(self) -> float:
    return 1.0 / self.fps

  @property
  def duration(self) -> float:
    """Time of the last frame, (T - 1) / fps."""
    return (self.num_frames - 1) / self.fps

  def replace(self, **changes: Any) -> MotionClip:
    return replace(self, **changes)

  def save(self, path: str | Path) -> Path:
    """Write the canonical compressed `.npz` (float64, no pickled objects)."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {
      "format": np.array(FORMAT_TAG),
      "format_version": np.array(FORMAT_VERSION),
      "fps": np.array(float(self.fps)),
      "joint_names": np.array(self.joint_names, dtype=np.str_),
      "root_pos": self.root_pos,
      "root_quat_wxyz": self.root_quat_wxyz,
      "joint_pos": self.joint_pos,
      "metadata_json": np.array(json.dumps(self.metadata, sort_keys=True)),
    }
    if self.body_names is not None:
      arrays["body_names"] = np.array(self.body_names, dtype=np.str_)
      arrays["body_pos"] = np.asarray(self.body_pos)
      arrays["body_quat"] = np.asarray(self.body_quat)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
      np.savez_compressed(f, allow_pickle=False, **arrays)
    return path

  @classmethod
  def load(cls, path: str | Path) -> MotionClip:
    """Read a canonical `.npz`; other formats go through `refmotion_manager.load_motion`."""
    path = Path(path)
    data = read_npz(path)
    if "format" not in data or str(data["format"]) != FORMAT_TAG:
      raise MotionFormatError(
        path,
        "key 'format'",
        f"not a canonical clip (keys: {sorted(data)})",
        "convert it first: python -m refmotion_manager convert IN OUT.npz (see docs/motion_format.md)",
      )
    missing = [k for k in _REQUIRED_KEYS if k not in data]
    if missing:
      raise MotionFormatError(
        path, f"keys {missing}", "required keys are missing", "re-save the clip with MotionClip.save"
      )
    if int(data["format_version"]) > FORMAT_VERSION:
      raise MotionFormatError(
        path,
        "key 'format_version'",
        f"version {int(data['format_version'])} is newer than {FORMAT_VERSION}",
        "upgrade refmotion_manager",
      )
    bodies = {k: data[k] for k in _BODY_KEYS if k in data}
    if bodies and len(bodies) != len(_BODY_KEYS):
      raise MotionFormatError(
        path,
        f"keys {sorted(bodies)}",
        "partial body arrays",
        "store body_names, body_pos and body_quat together",
      )
    metadata = json.loads(str(data["metadata_json"])) if "metadata_json" in data else {}
    return cls(
      fps=float(data["fps"]),
      joint_names=tuple(data["joint_names"].tolist()),
      root_pos=data["root_pos"],
      root_quat_wxyz=data["root_quat_wxyz"],
      joint_pos=data["joint_pos"],
      body_names=tuple(bodies["body_names"].tolist()) if bodies else None,
      body_pos=bodies.get("body_pos"),
      body_quat=bodies.get("body_quat"),
      metadata=metadata,
      source=str(path),
    )


def read_npz(path: Path) -> dict[str, np.ndarray]:
  """All arrays of an `.npz`, refusing pickled objects, with a clear error for non-npz files."""
  if not path.is_file():
    raise MotionFormatError(path, "file", "does not exist", "check the path")
  if not zipfile.is_zipfile(path):
    raise MotionFormatError(
      path, "file", "not a readable .npz archive (no zip header)", "pass a motion file (.npz, .csv or .pkl)"
    )
  try:
    with np.load(path, allow_pickle=False) as npz:
      return {k: npz[k] for k in npz.files}
  except (zipfile.BadZipFile, OSError, EOFError) as err:
    raise MotionFormatError(
      path, "file", f"not a readable .npz archive ({err})", "pass a motion file (.npz, .csv or .pkl)"
    ) from err
  except ValueError as err:
    raise MotionFormatError(
      path, "file", f"contains pickled objects ({err})", "store plain numeric/string arrays only"
    ) from err
