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

The database side (storage, resume checks, heartbeats) is ``study_db``. Finished trials
(complete, pruned, failed) stay as they are. A trial that the command's budget stops is
*paused*: marked FAIL (user attr ``paused``) and re-queued with the same parameters. A
trial whose process died stops beating; the next command marks it FAIL after the grace
period (2 x heartbeat) and re-queues it the same way. The re-queued trial (user attr
``continues``) resumes the same run folder from its newest checkpoint and re-reports the
evaluations done so far.
"""

from __future__ import annotations

import math
import time
import traceback
import warnings
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import Trial, TrialState

from legged_robots.evaluation.study_db import Heartbeat, requeue
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

if TYPE_CHECKING:
  from legged_robots.evaluation.walk_session import Session

NEVER_PASSES = -1.0
"""Pass thresholds of a score trial: no fall rate or error is <= -1, so the time-to-walk
session never stops early and trains its whole budget."""
EXIT_DONE, EXIT_FAILED, EXIT_PAUSED = 0, 1, 3
WARMUP_ENVS, WARMUP_STEPS = 2, 3
"""StudyRun.warm_up's env: enough to run every kernel of a training step once."""
MAX_FAILURES_IN_A_ROW = 3
"""Trials that raise one after another stop the command (a broken setup, not bad luck)."""


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
  warmup: bool = True
  """Build and step the task once before this command's first trial (warm_up)."""

  def elapsed(self) -> float:
    return time.perf_counter() - self.start

  def _fits(self, seconds: float) -> bool:
    return self.budget_s is None or self.elapsed() + seconds + EXIT_RESERVE_S <= self.budget_s

  def run(self) -> int:
    """EXIT_DONE when the study holds n_trials finished trials, EXIT_PAUSED when the budget
    is used, EXIT_FAILED after MAX_FAILURES_IN_A_ROW failed trials or a failed warm-up."""
    failures = 0
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
      if self.warmup:  # before ask: a trial is RUNNING from then on and must beat
        self.warmup = False
        try:
          self.warm_up()
        except Exception as e:
          traceback.print_exc()
          print(f"[study] the warm-up failed: {type(e).__name__}: {e}; no trial started", flush=True)
          return EXIT_FAILED
      with warnings.catch_warnings():
        # Optuna's heartbeat thread lives in study.optimize; this loop runs its own (Heartbeat).
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
        trial = self.study.ask(distributions(self.spec))
      outcome = self.run_trial(trial)
      if outcome is Outcome.PAUSED:
        return EXIT_PAUSED
      failures = failures + 1 if outcome is Outcome.FAILED else 0
      if failures >= MAX_FAILURES_IN_A_ROW:
        print(f"[study] {failures} trials failed in a row (errors above): stopping", flush=True)
        return EXIT_FAILED

  def warm_up(self) -> None:
    """Build the task's env with WARMUP_ENVS envs and step it, counted in no trial.

    On a fresh machine MuJoCo Warp compiles its kernels on first use (1-2 min on a GPU, ~25 s
    on a CPU) and caches them on disk; without this the command's first trial would carry
    that time in its wall-clock (time_to_walk) and lose to the trials after it. The cache is
    keyed by kernel source, not by env count, so a tiny env compiles what every trial uses."""
    import torch

    from legged_robots.rl.task_cfg import apply_cfg_overrides, checked_overrides, load_task_cfgs
    from legged_robots.tasks.registry import env_class

    t0 = time.perf_counter()
    cfgs = load_task_cfgs(self.spec.task, play=False)
    apply_cfg_overrides(cfgs, checked_overrides(list(self.spec.overrides)))
    cfgs.env.scene.num_envs = WARMUP_ENVS
    env = env_class(self.spec.task)(cfg=cfgs.env, device=self.device)
    try:
      env.reset()
      actions = torch.zeros(WARMUP_ENVS, env.action_manager.total_action_dim, device=self.device)
      for _ in range(WARMUP_STEPS):
        env.step(actions)
    finally:
      env.close()
    print(
      f"[study] warm-up: {self.spec.task} built and stepped with {WARMUP_ENVS} envs in "
      f"{time.perf_counter() - t0:.1f} s (Warp kernels compiled or loaded; counted in no trial)",
      flush=True,
    )

  def run_trial(self, trial: Trial) -> Outcome:
    from legged_robots.rl.run_dir import claim_run_dir

    continues = trial.user_attrs.get("continues")
    saved_dir = trial.user_attrs.get("run_dir")
    if saved_dir is not None:
      # By name in this command's experiment folder: another machine's path may differ.
      run_dir = self.experiment_dir / Path(saved_dir).name
      if not run_dir.is_dir():
        print(f"[study] {run_dir} is not here: trial {trial.number} trains it from scratch", flush=True)
    else:
      run_dir = claim_run_dir(self.experiment_dir, f"study-{self.name}-trial{trial.number}")
    trial.set_user_attr("run_dir", str(run_dir))
    origin = "" if continues is None else f" (continues trial {continues})"
    print(f"[study] trial {trial.number}{origin}: {trial.params} -> {run_dir}", flush=True)
    with Heartbeat(self.storage, trial._trial_id, self.heartbeat_s):
      try:
        outcome, value = self._train(trial, run_dir)
      except KeyboardInterrupt:
        self.pause(trial)
        raise
      except Exception as e:
        traceback.print_exc()
        trial.set_user_attr("error", f"{type(e).__name__}: {e}")
        self.study.tell(trial, state=TrialState.FAIL)
        print(f"[study] trial {trial.number} failed: {type(e).__name__}: {e}", flush=True)
        return Outcome.FAILED
    if outcome is Outcome.PAUSED:
      self.pause(trial)
    elif outcome is Outcome.PRUNED:
      self.study.tell(trial, state=TrialState.PRUNED)
      print(f"[study] trial {trial.number} pruned", flush=True)
    else:
      self.study.tell(trial, value)
      print(f"[study] trial {trial.number} complete: {self.spec.objective} = {value:.4g}", flush=True)
    return outcome

  def pause(self, trial: Trial) -> None:
    """End the trial as FAIL (user attr paused) and queue its continuation."""
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
    """Train and evaluate as next_action says, reporting every evaluation. As in the
    benchmark, the first step after the session is built always runs: a trial whose env
    was just built is not paused before it advanced (the budget's margin covers one step)."""
    state = session.state
    progressed = False
    while True:
      action = next_action(state, limits, self.elapsed(), progressed)
      progressed = True
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
