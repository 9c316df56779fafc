"""Hyperparameter studies over st_gym training runs (``scripts/inves_train.py``), on Optuna.

Each trial trains the study's task with one sample of the search space (``study_space``)
as a time-to-walk session (``walk_session.Session``: chunks of ``eval_every`` learning
iterations, each checkpoint evaluated by ``walk_eval``), in a normal run folder
``<log_root>/<experiment>/<time>_study-<name>-trial<N>`` (params/, checkpoints, exported/,
TensorBoard, plus the session's state.json). Every evaluation is reported to Optuna with
the learning iteration as the step, so the pruner stops a trial that is worse than the
others were at the same iteration. The objective is minimized:

- ``time_to_walk``: training wall-clock (s, env creation counted, evaluation not) of the
  first checkpoint that walks (fall rate <= max_fall and xy tracking error <= max_lin_err).
  Reported at each evaluation: the criterion distance max(fall / max_fall, err /
  max_lin_err), <= 1 walks. A trial that never walks scores max_wall_s x its last distance:
  worse than every walker, and the closer miss ranks better.
- ``score``: xy tracking error (m/s) + fall_weight x fall rate, reported at each evaluation;
  the value is the last checkpoint's, after the fixed budget of max_iterations.

Storage is Optuna's RDB storage (a SQLite file or any SQLAlchemy URL) with heartbeats.
Finished trials (complete, pruned, failed) stay as they are. A trial that the command's
budget stops is *paused*: marked FAIL (user attr ``paused``) and re-queued with the same
parameters. A trial whose process died stops beating; the next command marks it FAIL after
the grace period (2 x heartbeat) and re-queues it the same way. The re-queued trial
(user attr ``continues``) resumes the same run folder from its newest checkpoint and
re-reports the evaluations done so far.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
import warnings
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, Trial, TrialState

from legged_robots.evaluation.study_space import StudySpec, override_text
from legged_robots.evaluation.time_to_walk import (
  EXIT_RESERVE_S,
  Action,
  Evaluation,
  Limits,
  RunState,
  Settings,
  new_or_resumed_state,
  next_action,
)
from legged_robots.rl.errors import StRlError

if TYPE_CHECKING:
  from legged_robots.evaluation.walk_session import Session

SPEC_ATTR = "st_gym_study"
"""Study user attr holding StudySpec.identity(): a resume must match it."""
NEVER_PASSES = -1.0
"""Pass thresholds of a score trial: no fall rate or error is <= -1, so the time-to-walk
session never stops early and trains its whole budget."""
EXIT_DONE, EXIT_PAUSED = 0, 3


class Outcome(Enum):
  COMPLETE = "complete"
  PRUNED = "pruned"
  FAILED = "failed"
  PAUSED = "paused"


def distributions(spec: StudySpec) -> dict[str, BaseDistribution]:
  """Optuna's distribution of every searched key."""
  out: dict[str, BaseDistribution] = {}
  for p in spec.params:
    if p.kind == "categorical":
      out[p.key] = CategoricalDistribution(p.choices)
    elif p.kind == "int":
      assert p.low is not None and p.high is not None
      out[p.key] = IntDistribution(int(p.low), int(p.high), log=p.log)
    else:
      assert p.low is not None and p.high is not None
      out[p.key] = FloatDistribution(p.low, p.high, log=p.log)
  return out


def make_pruner(spec: StudySpec) -> optuna.pruners.BasePruner:
  """Steps are learning iterations; the k-th evaluation is step k x eval_every - 1."""
  p, every = spec.pruner, spec.trial.eval_every
  if p.kind == "median":
    # An evaluation k may prune once k > warmup_evals: k*every - 1 >= warmup_evals*every.
    return optuna.pruners.MedianPruner(
      n_startup_trials=p.startup_trials, n_warmup_steps=p.warmup_evals * every
    )
  if p.kind == "hyperband":
    top = spec.trial.max_iterations
    return optuna.pruners.HyperbandPruner(min_resource=every, max_resource="auto" if top is None else top)
  return optuna.pruners.NopPruner()


def requeue(study: optuna.Study, trial: FrozenTrial) -> None:
  """Queue a trial with the same parameters that continues ``trial``'s run folder."""
  run_dir = trial.user_attrs.get("run_dir")
  study.enqueue_trial(trial.params, user_attrs={"continues": trial.number, "run_dir": run_dir})
  print(f"[study] trial {trial.number} re-queued: its next trial continues {run_dir}", flush=True)


def open_storage(url: str, heartbeat_s: int) -> optuna.storages.RDBStorage:
  """The RDB storage at url, with heartbeats; StRlError when it cannot be reached."""
  import sqlalchemy.exc

  with warnings.catch_warnings():
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    try:
      return optuna.storages.RDBStorage(
        url, heartbeat_interval=heartbeat_s, heartbeat_stale_trial_callback=requeue
      )
    except (sqlalchemy.exc.SQLAlchemyError, ImportError, ValueError) as e:
      first = str(e).strip().splitlines()[0] if str(e).strip() else ""
      raise StRlError(
        f"cannot open the study storage {url} ({type(e).__name__}: {first}). Check the URL, that "
        "the database server is up and reachable from here, and its user and password."
      ) from None


def _differences(saved: dict, current: dict) -> list[str]:
  out = []
  for key in sorted(set(saved) | set(current)):
    if saved.get(key) != current.get(key):
      out.append(f"{key}: {saved.get(key)!r} -> {current.get(key)!r}")
  return out


def load_or_create(
  storage: optuna.storages.RDBStorage, name: str, spec: StudySpec, seed: int | None
) -> optuna.Study:
  """The study ``name``, created if new; StRlError if it exists with another search space."""
  sampler = optuna.samplers.TPESampler(n_startup_trials=spec.tpe_startup_trials, seed=seed)
  current = spec.identity()
  if name in {s.study_name for s in storage.get_all_studies()}:
    study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=make_pruner(spec))
    saved = study.user_attrs.get(SPEC_ATTR)
    if saved != current:
      what = "no st_gym search space" if saved is None else "; ".join(_differences(saved, current))
      raise StRlError(
        f"study '{name}' in {storage.url} exists with another search space ({what}). Resume it with "
        "its original study file and trial settings, or pass a new --name. The study was not changed."
      )
    return study
  study = optuna.create_study(
    study_name=name, storage=storage, direction="minimize", sampler=sampler, pruner=make_pruner(spec)
  )
  study.set_user_attr(SPEC_ATTR, current)
  return study


class _Heartbeat:
  """Records the trial's heartbeat every interval while a trial runs (what study.optimize
  does; the ask/tell loop here must do it itself)."""

  def __init__(self, storage: optuna.storages.RDBStorage, trial_id: int, interval_s: int) -> None:
    self._storage, self._trial_id, self._interval = storage, trial_id, interval_s
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._beat, daemon=True)

  def _beat(self) -> None:
    while not self._stop.wait(self._interval):
      self._storage.record_heartbeat(self._trial_id)

  def __enter__(self) -> _Heartbeat:
    self._storage.record_heartbeat(self._trial_id)
    self._thread.start()
    return self

  def __exit__(self, *exc: object) -> None:
    self._stop.set()
    self._thread.join()


@dataclass
class StudyRun:
  """One command's work on a study: runs trials until the study has n_trials finished
  ones (complete or pruned) or the budget is used."""

  study: optuna.Study
  storage: optuna.storages.RDBStorage
  spec: StudySpec
  name: str
  n_trials: int
  experiment_dir: Path
  device: str
  seed: int | None
  budget_s: float | None
  heartbeat_s: int
  print_every: int
  start: float
  """time.perf_counter() at process start: the budget counts from there."""
  setup_s: float = 0.0
  """The last trial's env and runner creation in this process (budget estimate)."""

  def elapsed(self) -> float:
    return time.perf_counter() - self.start

  def _fits(self, seconds: float) -> bool:
    return self.budget_s is None or self.elapsed() + seconds + EXIT_RESERVE_S <= self.budget_s

  def run(self) -> int:
    """EXIT_DONE when the study holds n_trials finished trials, else EXIT_PAUSED."""
    while True:
      with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(self.study)
      trials = self.study.get_trials(deepcopy=False)
      count = {s: sum(t.state == s for t in trials) for s in TrialState}
      finished = count[TrialState.COMPLETE] + count[TrialState.PRUNED]
      if finished >= self.n_trials:
        return EXIT_DONE
      if not count[TrialState.WAITING] and finished + count[TrialState.RUNNING] >= self.n_trials:
        # The missing trials run elsewhere, or died less than a grace period ago.
        if not self._fits(self.heartbeat_s):
          return EXIT_PAUSED
        print(f"[study] waiting for {count[TrialState.RUNNING]} running trial(s)", flush=True)
        time.sleep(self.heartbeat_s)
        continue
      if not self._fits(self.setup_s):
        return EXIT_PAUSED
      with warnings.catch_warnings():
        # Optuna's heartbeat thread lives in study.optimize; this loop runs its own (_Heartbeat).
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
        trial = self.study.ask(distributions(self.spec))
      if self.run_trial(trial) is Outcome.PAUSED:
        return EXIT_PAUSED

  def run_trial(self, trial: Trial) -> Outcome:
    from legged_robots.rl.run_dir import claim_run_dir

    continues = trial.user_attrs.get("continues")
    saved_dir = trial.user_attrs.get("run_dir")
    if saved_dir is not None:
      run_dir = Path(saved_dir)
    else:
      run_dir = claim_run_dir(self.experiment_dir, f"study-{self.name}-trial{trial.number}")
      trial.set_user_attr("run_dir", str(run_dir))
    origin = "" if continues is None else f" (continues trial {continues})"
    print(f"[study] trial {trial.number}{origin}: {trial.params} -> {run_dir}", flush=True)
    with _Heartbeat(self.storage, trial._trial_id, self.heartbeat_s):
      try:
        outcome, value = self._train(trial, run_dir)
      except KeyboardInterrupt:
        self._pause(trial)
        raise
      except Exception as e:
        traceback.print_exc()
        trial.set_user_attr("error", f"{type(e).__name__}: {e}")
        self.study.tell(trial, state=TrialState.FAIL)
        print(f"[study] trial {trial.number} failed: {type(e).__name__}: {e}", flush=True)
        return Outcome.FAILED
    if outcome is Outcome.PAUSED:
      self._pause(trial)
    elif outcome is Outcome.PRUNED:
      self.study.tell(trial, state=TrialState.PRUNED)
      print(f"[study] trial {trial.number} pruned", flush=True)
    else:
      self.study.tell(trial, value)
      print(f"[study] trial {trial.number} complete: {self.spec.objective} = {value:.4g}", flush=True)
    return outcome

  def _pause(self, trial: Trial) -> None:
    trial.set_user_attr("paused", True)
    frozen = self.study.tell(trial, state=TrialState.FAIL)
    print(f"[study] trial {trial.number} paused: the command's budget is used", flush=True)
    requeue(self.study, frozen)

  def _settings(self, trial: Trial) -> Settings:
    s, walk = self.spec.trial, self.spec.objective == "time_to_walk"
    searched = tuple(override_text(k, v) for k, v in trial.params.items())
    return Settings(
      task=self.spec.task,
      num_envs=int(trial.params.get("env.scene.num_envs", s.num_envs)),
      eval_envs=s.eval_envs,
      eval_every=s.eval_every,
      episode_s=s.episode_s,
      max_fall=s.max_fall if walk else NEVER_PASSES,
      max_lin_err=s.max_lin_err if walk else NEVER_PASSES,
      device=self.device,
      seed=self.seed,
      overrides=(*self.spec.overrides, *searched),
    )

  def intermediate(self, e: Evaluation) -> float:
    """The value reported after an evaluation (see the module docstring)."""
    s = self.spec.trial
    if self.spec.objective == "time_to_walk":
      return max(e.fall_rate / s.max_fall, e.lin_vel_error / s.max_lin_err)
    return e.lin_vel_error + s.fall_weight * e.fall_rate

  def final_value(self, state: RunState, max_wall_s: float) -> float:
    evaluated = [c.evaluation for c in state.checkpoints if c.evaluation is not None]
    if not evaluated:
      raise RuntimeError("the trial stopped before its first evaluation (max_wall_min too small?)")
    if self.spec.objective == "score":
      return self.intermediate(evaluated[-1])
    walked = state.walked
    return walked.train_wall_s if walked is not None else max_wall_s * self.intermediate(evaluated[-1])

  def _train(self, trial: Trial, run_dir: Path) -> tuple[Outcome, float]:
    from legged_robots.evaluation.walk_session import Session  # imports torch and mjlab
    from legged_robots.rl.messages import quiet_build
    from legged_robots.rl.run_dir import TrainLock, write_run_info

    s = self.spec.trial
    limits = Limits(
      math.inf if self.budget_s is None else self.budget_s, s.max_wall_min * 60, s.max_iterations
    )
    state = new_or_resumed_state(run_dir, self._settings(trial))
    for c in state.checkpoints:  # a continued trial: the evaluations of the trials before
      if c.evaluation is not None:
        trial.report(self.intermediate(c.evaluation), c.iteration)
    if state.walked is None and any(c.evaluation for c in state.checkpoints) and trial.should_prune():
      return Outcome.PRUNED, math.nan
    if state.checkpoints:
      print(f"[study] resuming {run_dir} from {state.checkpoints[-1].file}", flush=True)
    else:
      write_run_info(run_dir, self.spec.task, None)
    lock = TrainLock(run_dir)
    try:
      with quiet_build(verbose=False):  # mjlab's manager tables, as train.py
        session = Session(run_dir, limits, state, self.print_every, time.perf_counter(), train_subdir=".")
      self.setup_s = session.elapsed()
      try:
        return self.steps(trial, session, limits)
      finally:
        session.close()
    finally:
      lock.release()

  def steps(self, trial: Trial, session: Session, limits: Limits) -> tuple[Outcome, float]:
    """Train and evaluate as next_action says, reporting every evaluation."""
    state = session.state
    while True:
      action = next_action(state, limits, self.elapsed(), progressed=True)
      if action is Action.PAUSE:
        return Outcome.PAUSED, math.nan
      if action is Action.TRAIN:
        session.train_chunk()
      elif action is Action.EVALUATE:
        session.evaluate()
        c = state.checkpoints[-1]
        assert c.evaluation is not None
        trial.report(self.intermediate(c.evaluation), c.iteration)
        if state.walked is None and trial.should_prune():
          return Outcome.PRUNED, math.nan
      else:  # walked, or the trial's iteration / wall-clock limit
        return Outcome.COMPLETE, self.final_value(state, limits.max_wall_s)
