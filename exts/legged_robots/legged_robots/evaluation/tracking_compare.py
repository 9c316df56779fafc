"""Bookkeeping of ``benchmarks/tracking_vs_mjlab.py``: run settings and state, the
wall-clock plan of a training session, and the comparison table.

A side's training is split into sessions (one process each, e.g. one 10-minute command
on a GPU machine). ``DIR/state.json`` carries the settings the run was started with
(a resume must repeat them), the training wall-clock so far (process wall-clock of every
session, imports and env creation included, as ``time_to_walk`` counts it), the
iterations done and the newest checkpoint. Training stops once the wall-clock budget is
spent: a chunk of iterations is planned so that it ends at the budget to within half an
iteration (from the last measured seconds per iteration).

Nothing here imports torch or mjlab (the session clock starts after this module loads).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

from legged_robots.evaluation.time_to_walk import (
  ESTIMATE_MARGIN,
  EXIT_RESERVE_S,
  check_resume,
  format_hms,
)
from legged_robots.rl.errors import StRlError

SIDES = ("st_gym", "mjlab")
TASKS = {"st_gym": "Tracking-Flat-G1", "mjlab": "Mjlab-Tracking-Flat-Unitree-G1"}
STATE_FILE = "state.json"
EVAL_FILE = "eval.json"
PREPARE_FILE = "prepare.json"
STATE_FORMAT = 1


@dataclass(frozen=True)
class Settings:
  """What decides a run's result; a resume must repeat it exactly."""

  side: str
  prepared: str
  """The ``prepare`` folder, as given (relative to the working folder): the clip of both sides."""
  num_envs: int
  seed: int
  budget_s: float
  """Training wall-clock budget of the whole run (all sessions)."""
  chunk: int
  """Learning iterations per runner call (a checkpoint after each)."""


@dataclass
class Limits:
  """Per-invocation controls; they may change between sessions."""

  session_s: float
  """Wall-clock this session may use, from process start to exit."""
  max_iterations: int | None = None
  """Stop the run once this many iterations are done (tests); None: the budget alone."""


@dataclass
class RunState:
  settings: Settings
  sessions: list[dict] = field(default_factory=list)
  """Per session: ``setup_s`` (counted), ``device`` and ``iterations`` it trained."""
  train_wall_s: float = 0.0
  iterations: int = 0
  env_steps: int = 0
  s_per_iter: float | None = None
  """Seconds per iteration of the last chunk (plans the next one)."""
  checkpoint: str | None = None
  """Newest checkpoint, relative to the run folder."""
  finished: bool = False
  """The budget (or the iteration cap) is used: the final checkpoint is ``checkpoint``."""


class Action(Enum):
  TRAIN = "train a chunk"
  DONE = "budget used"
  PAUSE = "the next chunk does not fit in this session"


def plan_chunk(
  state: RunState, limits: Limits, wall_s: float, session_s: float, progressed: bool
) -> tuple[Action, int]:
  """The next step and its iterations.

  wall_s: the run's training wall-clock now; session_s: this session's wall-clock now;
  progressed: whether this session already trained. A chunk is at most ``chunk``
  iterations, ends at the budget to within half an iteration, and fits in the session
  with ``ESTIMATE_MARGIN`` and ``EXIT_RESERVE_S`` to spare; the first chunk of a session
  runs at least one iteration so that every session advances the run.
  """
  its = state.settings.chunk
  if limits.max_iterations is not None:
    its = min(its, limits.max_iterations - state.iterations)
  remaining = state.settings.budget_s - wall_s
  if state.s_per_iter is not None:
    its = min(its, round(remaining / state.s_per_iter))
  if remaining <= 0 or its < 1:
    return Action.DONE, 0
  if state.s_per_iter is not None:
    fit = math.floor((limits.session_s - EXIT_RESERVE_S - session_s) / (state.s_per_iter * ESTIMATE_MARGIN))
    if fit < 1 and progressed:
      return Action.PAUSE, 0
    its = max(1, min(its, fit))
  return Action.TRAIN, its


def new_or_resumed_state(run_dir: Path, settings: Settings) -> RunState:
  """A fresh state, or the saved one after checking its settings and checkpoint."""
  path = run_dir / STATE_FILE
  if not path.exists():
    return RunState(settings=settings)
  state = load_state(path)
  check_resume(path, state.settings, settings, state.checkpoint)
  return state


def load_state(path: Path) -> RunState:
  try:
    data = json.loads(path.read_text())
    if data.pop("format") != STATE_FORMAT:
      raise ValueError(f"format is not {STATE_FORMAT}")
    return RunState(settings=Settings(**data.pop("settings")), **data)
  except (OSError, ValueError, KeyError, TypeError) as e:
    raise StRlError(
      f"{path} is corrupt or not a tracking_vs_mjlab state ({type(e).__name__}: {e}); pass a new --run-dir"
    ) from None


def save_state(state: RunState, run_dir: Path) -> None:
  """Write state.json atomically (a killed session leaves the previous one)."""
  from legged_robots.rl.checkpoint import atomic_write  # imports torch

  text = json.dumps({"format": STATE_FORMAT, **asdict(state)}, indent=1, allow_nan=False) + "\n"

  def write(tmp: Path) -> None:
    tmp.write_text(text)

  atomic_write(run_dir / STATE_FILE, write)


def read_json(path: Path, fix: str) -> dict:
  try:
    return json.loads(path.read_text())
  except (OSError, ValueError) as e:
    raise StRlError(f"cannot read {path} ({type(e).__name__}: {e}): {fix}") from None


def prepared(folder: Path) -> dict:
  """``prepare.json`` of a prepare folder with its clip files (``csv``, ``npz``) as paths
  inside the folder (it can be moved as a whole); a clear error if there is none."""
  path = folder / PREPARE_FILE
  try:
    info = json.loads(path.read_text())
    files = {key: folder.resolve() / info[key] for key in ("csv", "npz")}
  except (OSError, ValueError, KeyError, TypeError) as e:
    raise StRlError(
      f"{path} is missing or unreadable ({type(e).__name__}): run `prepare --out {folder}` first"
    ) from None
  for file in files.values():
    if not file.is_file():
      raise StRlError(f"{path} names {file.name}, which is missing: run `prepare --out {folder}` again")
  return {**info, **{key: str(file) for key, file in files.items()}}


ROWS = (
  ("side", "{}"),
  ("task", "{}"),
  ("success_rate", "{:.1%}"),
  ("body_pos_error_anchored_m", "{:.4f}"),
  ("body_pos_error_world_m", "{:.4f}"),
  ("episodes", "{}"),
  ("train_wall", "{}"),
  ("iterations", "{}"),
  ("env_steps", "{:,}"),
  ("num_envs", "{}"),
  ("device", "{}"),
)


RESULT_KEYS = ("success_rate", "body_pos_error_anchored_m", "body_pos_error_world_m", "episodes")


def comparison(run_dirs: list[Path]) -> dict:
  """One column per run folder (a finished, evaluated run): its results and budget use."""
  columns = []
  for run_dir in run_dirs:
    state = load_state(run_dir / STATE_FILE) if (run_dir / STATE_FILE).is_file() else None
    if state is None or not state.finished:
      raise StRlError(f"{run_dir} holds no finished training run: run `train` until it exits 0")
    result = read_json(run_dir / EVAL_FILE, f"run `eval --run-dir {run_dir}` first")
    missing = [k for k in RESULT_KEYS if k not in result]
    if missing:
      raise StRlError(
        f"{run_dir / EVAL_FILE} lacks {', '.join(missing)}: run `eval --run-dir {run_dir}` again"
      )
    columns.append(
      {
        "side": state.settings.side,
        "task": TASKS[state.settings.side],
        **{k: result[k] for k in RESULT_KEYS},
        "train_wall_s": state.train_wall_s,
        "train_wall": format_hms(state.train_wall_s),
        "budget_s": state.settings.budget_s,
        "iterations": state.iterations,
        "env_steps": state.env_steps,
        "num_envs": state.settings.num_envs,
        "sessions": len(state.sessions),
        "device": sorted({s["device"] for s in state.sessions}),
        "eval": result,
      }
    )
  return {"runs": [str(d) for d in run_dirs], "columns": columns}


def comparison_text(table: dict) -> str:
  """The table as aligned text: one row per quantity, one column per run."""
  rows = [
    (key, [",".join(c[key]) if isinstance(c[key], list) else fmt.format(c[key]) for c in table["columns"]])
    for key, fmt in ROWS
  ]
  width = 2 + max(len(cell) for _, cells in rows for cell in cells)
  return "\n".join(f"{key:<27}" + "".join(f"{cell:>{width}}" for cell in cells) for key, cells in rows)
