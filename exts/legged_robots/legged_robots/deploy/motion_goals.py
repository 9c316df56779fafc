"""Goal tables of motion-conditioned policies: the command of every control step, replayed.

A mimic policy observes goals sampled from its reference clip (``MotionCommand``). The
exporter samples them once, with the training code, at every control step of a fresh
episode that starts at clip time 0, and writes ``<command>_goals.npz`` beside
deploy.yaml: ``goals`` (steps, size) float32, row k = the goal at clip time k * dt.
Training shows row k + 1 at control step k (the goal of the frame the next action
aims at), and so does ``goal_at``. The table covers one training episode; beyond it
playback wraps to row 0.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from legged_robots.deploy.contract import CommandSpec, DeployContract
from legged_robots.deploy.errors import MissingFileError

GOALS_SUFFIX = "_goals.npz"


def load_goals(folder: Path, spec: CommandSpec) -> np.ndarray:
  """The (steps, size) goal table of a command with ``goals``; a clear error if it is unusable."""
  assert spec.goals is not None
  path = Path(folder) / spec.goals
  if not path.is_file():
    raise MissingFileError(f"{path} is missing: command '{spec.name}' replays it; re-export the policy")
  try:
    with np.load(path, allow_pickle=False) as data:
      goals = np.asarray(data["goals"], dtype=np.float64)
  except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
    raise MissingFileError(f"{path} is not a goal table ({e}); re-export the policy") from e
  if goals.ndim != 2 or len(goals) < 2 or not np.isfinite(goals).all():
    raise MissingFileError(
      f"{path}: goals must be a finite (steps >= 2, size) array, got shape {goals.shape}"
    )
  return goals


def goal_tables(folder: Path, contract: DeployContract) -> dict[str, np.ndarray]:
  """Goal table of every replayed command of the contract, by command name."""
  return {c.name: load_goals(folder, c) for c in contract.commands if c.goals is not None}


def goal_at(goals: np.ndarray, step: int) -> np.ndarray:
  """The command at control step ``step`` of an episode (row step + 1, wrapping)."""
  return goals[(step + 1) % len(goals)]
