"""Goal tables of motion-conditioned policies: the command of every control step, replayed.

A mimic policy observes goals sampled from its reference clip (``MotionCommand``). The
exporter samples them once, with the training code, at every control step of a fresh
episode that starts at clip time 0, and writes ``<command>_goals.npz`` beside
deploy.yaml: ``goals`` (steps, size) float32, row k = the goal at clip time k * dt.
Training shows row k + 1 at control step k (the goal of the frame the next action
aims at), and so does ``goal_at``. The table covers one training episode; beyond it
playback wraps to row 0.

A command whose training episodes start from a full clip state (``init="full"``: whole-body
tracking) also stores that start, clip frame 0 placed as training places it (root x, y at
the origin): ``start_root_pos`` (3), ``start_root_quat`` (4, wxyz), ``start_root_lin_vel_w``
and ``start_root_ang_vel_w`` (3, world frame), ``start_joint_pos`` and ``start_joint_vel``
(joints in ``deploy.yaml`` order). A runtime starts the robot there (``StartState``).
Tables without these keys (mimic, older exports) start from the default pose.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from legged_robots.deploy.contract import CommandSpec, DeployContract
from legged_robots.deploy.errors import MissingFileError

GOALS_SUFFIX = "_goals.npz"


@dataclass(frozen=True)
class StartState:
  """The robot state an episode of a full-state motion command starts in (module docstring)."""

  root_pos: np.ndarray
  root_quat: np.ndarray
  root_lin_vel_w: np.ndarray
  root_ang_vel_w: np.ndarray
  joint_pos: np.ndarray
  joint_vel: np.ndarray

  def to_npz(self) -> dict[str, np.ndarray]:
    """The table's ``start_*`` arrays."""
    return {f"start_{f.name}": getattr(self, f.name) for f in fields(self)}


def _read_table(folder: Path, spec: CommandSpec) -> tuple[Path, dict[str, np.ndarray]]:
  assert spec.goals is not None
  path = Path(folder) / spec.goals
  if not path.is_file():
    raise MissingFileError(f"{path} is missing: command '{spec.name}' replays it; re-export the policy")
  try:
    with np.load(path, allow_pickle=False) as data:
      return path, {k: np.asarray(data[k], dtype=np.float64) for k in data.files}
  except (OSError, ValueError, zipfile.BadZipFile) as e:
    raise MissingFileError(f"{path} is not a goal table ({e}); re-export the policy") from e


def load_goals(folder: Path, spec: CommandSpec) -> np.ndarray:
  """The (steps, size) goal table of a command with ``goals``; a clear error if it is unusable."""
  path, table = _read_table(folder, spec)
  goals = table.get("goals")
  if goals is None:
    raise MissingFileError(f"{path} is not a goal table (no 'goals' array); re-export the policy")
  if goals.ndim != 2 or len(goals) < 2 or not np.isfinite(goals).all():
    raise MissingFileError(
      f"{path}: goals must be a finite (steps >= 2, size) array, got shape {goals.shape}"
    )
  return goals


def load_start_state(folder: Path, contract: DeployContract) -> StartState | None:
  """The start state of the first replayed command that stores one, else None."""
  sizes = {"root_pos": 3, "root_quat": 4, "root_lin_vel_w": 3, "root_ang_vel_w": 3}
  sizes |= {"joint_pos": len(contract.joint_names), "joint_vel": len(contract.joint_names)}
  for spec in contract.commands:
    if spec.goals is None:
      continue
    path, table = _read_table(folder, spec)
    present = {name: table.get(f"start_{name}") for name in sizes}
    if all(v is None for v in present.values()):
      continue
    checked: dict[str, np.ndarray] = {}
    for name, size in sizes.items():
      value = present[name]
      if value is None or value.shape != (size,) or not np.isfinite(value).all():
        got = "missing" if value is None else f"shape {value.shape}"
        raise MissingFileError(
          f"{path}: start_{name} must be {size} finite numbers ({got}); re-export the policy"
        )
      checked[name] = value
    return StartState(**checked)
  return None


def goal_tables(folder: Path, contract: DeployContract) -> dict[str, np.ndarray]:
  """Goal table of every replayed command of the contract, by command name."""
  return {c.name: load_goals(folder, c) for c in contract.commands if c.goals is not None}


def goal_at(goals: np.ndarray, step: int) -> np.ndarray:
  """The command at control step ``step`` of an episode (row step + 1, wrapping)."""
  return goals[(step + 1) % len(goals)]
