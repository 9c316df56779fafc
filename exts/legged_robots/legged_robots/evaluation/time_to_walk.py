"""Bookkeeping of ``benchmarks/time_to_walk.py``: run state, pass test and session budget.

A time-to-walk run is split into sessions (one process each, e.g. one 10-minute command
on a GPU machine). ``DIR/state.json`` carries what a session hands to the next: the
settings the run was started with, the training wall-clock so far, every evaluated
checkpoint with its wall-clock stamp, the reward curve, and the last measured step
durations that the next session uses to decide what still fits in its budget.

Nothing here imports torch or mjlab at import time (the benchmark's session clock starts
after this module is loaded), and the logic is testable with plain numbers.
"""

from __future__ import annotations

import datetime
import json
import math
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any

from legged_robots.rl.errors import StRlError

STATE_FILE = "state.json"
STATE_FORMAT = 1
ESTIMATE_MARGIN = 1.25
"""Planned step time = last measured time x this; the first step of a session (CUDA
graph capture, allocator warm-up) runs slower than the steady ones it is estimated from."""
EXIT_RESERVE_S = 15.0
"""Kept free at the end of a session for the final export, results.json and plot."""


@dataclass(frozen=True)
class Settings:
  """Everything that decides what a run measures; a resume must repeat it exactly."""

  task: str
  num_envs: int
  eval_envs: int
  eval_every: int
  episode_s: float
  max_fall: float
  max_lin_err: float
  device: str
  seed: int | None
  """None: the agent cfg's seed."""
  overrides: tuple[str, ...]
  nproc: int = 1
  """Training processes (one GPU each) under torchrun; num_envs is per process."""
  runner: str = "st_rl"
  """st_rl (rsl_rl PPO, or AMP-PPO per the agent cfg) or skrl (the task's skrl agent)."""
  algorithm: str = "PPO"
  """skrl's agent: PPO (``skrl_ppo``) or AMP (``skrl_amp``, on the AMP tasks). st_rl takes
  its algorithm from the task's agent cfg and always records PPO here."""


@dataclass(frozen=True)
class Limits:
  """Per-session controls; they may change between sessions of one run."""

  budget_s: float
  """Wall-clock this session may use, from process start to exit."""
  max_wall_s: float
  """Training wall-clock after which the run gives up."""
  max_iterations: int | None = None
  """Give up once this many learning iterations are done (tests); None: no cap."""


@dataclass
class Evaluation:
  """One checkpoint's evaluation: one episode per eval env (see walk_eval)."""

  episodes: int
  fall_rate: float
  lin_vel_error: float
  yaw_rate_error: float
  episode_length_s: float
  eval_s: float
  """Wall-clock of the rollout (not counted in the time to walk)."""
  passed: bool


@dataclass
class CheckpointRecord:
  iteration: int
  file: str
  """Checkpoint path relative to the run folder."""
  train_wall_s: float
  """Training wall-clock when the checkpoint was written."""
  evaluation: Evaluation | None = None


@dataclass
class RunState:
  settings: Settings
  session_starts: list[tuple[float, float]] = field(default_factory=list)
  """(training wall-clock before the session, its setup seconds) per session."""
  train_wall_s: float = 0.0
  """Sum over sessions of process wall-clock minus evaluation time."""
  eval_wall_s: float = 0.0
  """Eval env creation + rollouts, all sessions."""
  s_per_iter: float | None = None
  """Seconds per learning iteration in the last training chunk (budget estimates)."""
  eval_s: float | None = None
  """Seconds of the last evaluation (budget estimates)."""
  checkpoints: list[CheckpointRecord] = field(default_factory=list)
  curve: list[tuple[int, float, float | None]] = field(default_factory=list)
  """(iteration, training wall-clock, mean episode reward or None) per iteration."""

  @property
  def sessions(self) -> int:
    return len(self.session_starts)

  @property
  def next_iteration(self) -> int:
    return self.checkpoints[-1].iteration + 1 if self.checkpoints else 0

  @property
  def walked(self) -> CheckpointRecord | None:
    """The first checkpoint that passed, if any."""
    return next((c for c in self.checkpoints if c.evaluation and c.evaluation.passed), None)


def format_hms(seconds: float) -> str:
  """``0:07:12``."""
  return str(datetime.timedelta(seconds=round(seconds)))


def passes(fall_rate: float, lin_vel_error: float, settings: Settings) -> bool:
  """The issue's criterion: fall rate <= max_fall and mean xy tracking error <= max_lin_err."""
  return fall_rate <= settings.max_fall and lin_vel_error <= settings.max_lin_err


def chunk_iterations(next_iteration: int, eval_every: int, max_iterations: int | None) -> int:
  """Iterations until the next evaluation point (a multiple of eval_every) or the cap."""
  end = (next_iteration // eval_every + 1) * eval_every
  if max_iterations is not None:
    end = min(end, max_iterations)
  return end - next_iteration


class Action(Enum):
  EVALUATE = "evaluate the newest checkpoint"
  TRAIN = "train up to the next checkpoint"
  WALKED = "a checkpoint passed"
  LIMIT = "training limit reached without a passing checkpoint"
  PAUSE = "the next step does not fit in this session's budget"


def next_action(state: RunState, limits: Limits, elapsed_s: float, progressed: bool) -> Action:
  """What the session does next.

  elapsed_s: session wall-clock so far; progressed: whether this session already ran a
  step. The first step of a session always runs, so every session advances the run even
  when its budget is smaller than one step; later steps run only if their estimated
  duration (unknown counts as 0) plus EXIT_RESERVE_S still fits in the budget.
  """
  if state.walked is not None:
    return Action.WALKED
  pending = bool(state.checkpoints) and state.checkpoints[-1].evaluation is None
  if pending:
    action, estimate = Action.EVALUATE, state.eval_s
  else:
    capped = limits.max_iterations is not None and state.next_iteration >= limits.max_iterations
    if capped or state.train_wall_s >= limits.max_wall_s:
      return Action.LIMIT
    action, estimate = Action.TRAIN, None
    if state.s_per_iter is not None:
      its = chunk_iterations(state.next_iteration, state.settings.eval_every, limits.max_iterations)
      estimate = state.s_per_iter * its
  planned = 0.0 if estimate is None else estimate * ESTIMATE_MARGIN
  if not progressed or elapsed_s + planned + EXIT_RESERVE_S <= limits.budget_s:
    return action
  return Action.PAUSE


def settings_differences(saved: Any, current: Any) -> list[str]:
  """``name: saved -> current`` for every field that differs between two instances of one
  settings dataclass (this module's ``Settings``, or another benchmark's)."""
  return [
    f"{f.name}: {getattr(saved, f.name)!r} -> {getattr(current, f.name)!r}"
    for f in fields(saved)
    if getattr(saved, f.name) != getattr(current, f.name)
  ]


def new_or_resumed_state(run_dir: Path, settings: Settings) -> RunState:
  """A fresh state, or the saved one after checking settings and checkpoint files."""
  path = run_dir / STATE_FILE
  if not path.exists():
    return RunState(settings=settings)
  state = load_state(path)
  # Only the newest checkpoint is needed: training resumes from it (and it may still
  # await its evaluation), so older ones may be deleted or left behind when copying a run.
  check_resume(path, state.settings, settings, state.checkpoints[-1].file if state.checkpoints else None)
  return state


def check_resume(path: Path, saved: Any, current: Any, checkpoint: str | None) -> None:
  """Raise StRlError unless the run whose state is ``path`` can resume: it was started with
  the ``current`` settings (a dataclass like ``saved``) and its ``checkpoint`` (relative
  to the run folder; None: none yet) is there. Shared by the resumable benchmarks."""
  diff = settings_differences(saved, current)
  if diff:
    raise StRlError(
      f"{path} was started with other settings ({'; '.join(diff)}). Repeat the original "
      "flags (and overrides) to resume it, or pass a new --run-dir to start a new run."
    )
  if checkpoint is not None and not (path.parent / checkpoint).is_file():
    raise StRlError(
      f"{path} resumes from {checkpoint}, which is missing from {path.parent}. "
      "Restore that file, or pass a new --run-dir to start over."
    )


def save_state(state: RunState, run_dir: Path) -> None:
  """Write state.json atomically: a session killed mid-write leaves the previous state."""
  from legged_robots.rl.checkpoint import atomic_write  # imports torch

  text = json.dumps({"format": STATE_FORMAT, **asdict(state)}, allow_nan=False)
  atomic_write(run_dir / STATE_FILE, lambda tmp: _write_text(tmp, text + "\n"))


def _write_text(path: Path, text: str) -> None:
  path.write_text(text)


def load_state(path: Path) -> RunState:
  """Read state.json; raise StRlError naming the problem if it is unreadable or malformed."""
  try:
    data = json.loads(path.read_text())
    if data.pop("format") != STATE_FORMAT:
      raise ValueError(f"format is not {STATE_FORMAT}")
    return _state_from_dict(data)
  except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
    raise StRlError(
      f"{path} is corrupt or not a time_to_walk state ({type(e).__name__}: {e}). "
      "Pass a new --run-dir to start a new run (or delete the folder)."
    ) from None


def _state_from_dict(data: dict[str, Any]) -> RunState:
  settings = data.pop("settings")
  settings["overrides"] = tuple(_typed(settings["overrides"], list, "settings.overrides"))
  checkpoints = [
    CheckpointRecord(
      **{**c, "evaluation": None if c["evaluation"] is None else Evaluation(**c["evaluation"])}
    )
    for c in data.pop("checkpoints")
  ]
  curve = [(int(it), float(wall), None if r is None else float(r)) for it, wall, r in data.pop("curve")]
  starts = [(float(wall), float(setup)) for wall, setup in data.pop("session_starts")]
  state = RunState(
    settings=Settings(**settings), session_starts=starts, checkpoints=checkpoints, curve=curve, **data
  )
  for name in ("train_wall_s", "eval_wall_s"):
    value = _typed(getattr(state, name), (int, float), name)
    if not math.isfinite(value) or value < 0:
      raise ValueError(f"{name} = {value} is not a non-negative number")
  iterations = [c.iteration for c in state.checkpoints]
  if iterations != sorted(set(iterations)):
    raise ValueError(f"checkpoint iterations {iterations} are not increasing")
  return state


def _typed(value: Any, types: type | tuple[type, ...], name: str) -> Any:
  if not isinstance(value, types):
    raise TypeError(f"{name} is a {type(value).__name__}")
  return value


def plot_run(state: RunState, max_wall_s: float, path: Path) -> None:
  """Reward, tracking errors and fall rate against training wall-clock (minutes), as a PNG."""
  import matplotlib

  matplotlib.use("Agg")  # headless: never try to open a window
  import matplotlib.pyplot as plt

  s = state.settings
  fig, (ax_r, ax_e, ax_f) = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
  rewards = [(wall / 60, r) for _, wall, r in state.curve if r is not None]
  if rewards:
    ax_r.plot(*zip(*rewards, strict=True), color="tab:green")
  ax_r.set_ylabel("mean episode reward")
  evals = [(c.train_wall_s / 60, c.evaluation) for c in state.checkpoints if c.evaluation is not None]
  minutes = [m for m, _ in evals]
  ax_e.plot(minutes, [e.lin_vel_error for _, e in evals], "o-", label="xy velocity [m/s]")
  ax_e.plot(minutes, [e.yaw_rate_error for _, e in evals], "s-", label="yaw rate [rad/s]")
  ax_e.axhline(s.max_lin_err, color="tab:blue", linestyle=":", label=f"xy pass <= {s.max_lin_err}")
  ax_e.set_ylabel("tracking error")
  ax_e.legend(loc="upper right")
  ax_f.plot(minutes, [100 * e.fall_rate for _, e in evals], "o-", color="tab:red")
  ax_f.axhline(100 * s.max_fall, color="tab:red", linestyle=":", label=f"pass <= {100 * s.max_fall:g} %")
  ax_f.set_ylabel("fall rate [%]")
  ax_f.legend(loc="upper right")
  walked = state.walked
  for ax in (ax_r, ax_e, ax_f):
    ax.axvline(max_wall_s / 60, color="gray", linestyle="--")
    # A resumed session restarts rsl_rl's reward buffer and randomizes episode
    # lengths: the reward dips there without the policy getting worse.
    for wall, _ in state.session_starts[1:]:
      ax.axvline(wall / 60, color="gray", linestyle=":", linewidth=0.8)
    if walked is not None:
      ax.axvline(walked.train_wall_s / 60, color="black")
    ax.grid(alpha=0.3)
  verdict = "no pass yet" if walked is None else f"walks at {walked.train_wall_s / 60:.1f} min"
  ax_r.set_title(f"{s.task}, {s.num_envs} envs: time to walk ({verdict})")
  ax_f.set_xlabel(
    "training wall-clock [min] (env creation included, evaluation excluded; dotted: session starts)"
  )
  fig.tight_layout()
  path.parent.mkdir(parents=True, exist_ok=True)
  fig.savefig(path, dpi=100)
  plt.close(fig)
