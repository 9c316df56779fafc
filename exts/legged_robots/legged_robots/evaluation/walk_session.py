"""One session of a time-to-walk run (``benchmarks/time_to_walk.py``) and its results.

A session builds the training env and runner (resuming from the run's newest checkpoint),
then a separate eval env, and runs training chunks and evaluations as
``time_to_walk.next_action`` decides, saving ``state.json`` after every step. Its clock:
training wall-clock = wall-clock of earlier sessions + this process's time since
``start`` - this session's evaluation time.

Under torchrun (``settings.nproc`` processes) every rank trains its own envs with the
gradients all-reduced; rank 0 alone evaluates, keeps ``state.json`` and writes the run
folder; the other ranks train with no folder and keep only the checkpoint list (the
iteration count), as the benchmark broadcasts rank 0's decisions to them.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

import torch
from mjlab.rl import RslRlVecEnvWrapper

from legged_robots.evaluation.time_to_walk import (
  CheckpointRecord,
  Evaluation,
  Limits,
  RunState,
  chunk_iterations,
  format_hms,
  passes,
  plot_run,
  save_state,
)
from legged_robots.evaluation.walk_eval import eval_env_cfg, evaluate_first_episodes
from legged_robots.rl import checkpoint as ckpt
from legged_robots.rl.cfg_yaml import dump_cfg
from legged_robots.rl.distributed import Rank, device_for
from legged_robots.rl.progress import IterationStats
from legged_robots.rl.runner import runner_class
from legged_robots.rl.task_cfg import apply_cfg_overrides, checked_overrides, load_task_cfgs, policy_io_sizes
from legged_robots.tasks.registry import env_class

NEVER = 10**9  # save_interval: checkpoints are written only where a chunk ends (eval points)


class Session:
  """One process's share of a run: training env + runner, eval env, and the session clock."""

  def __init__(
    self,
    run_dir: Path,
    limits: Limits,
    state: RunState,
    print_every: int,
    start: float,
    train_subdir: str = "train",
    rank: Rank | None = None,
  ) -> None:
    """start: time.perf_counter() when the process's clock started (before heavy imports);
    train_subdir: the runner's folder inside run_dir ("." makes run_dir itself a normal run
    folder, as the hyperparameter study's trials are); rank: this process under torchrun."""
    self.run_dir, self.limits, self.state, self.print_every = run_dir, limits, state, print_every
    self.train_subdir = train_subdir
    self.start = start
    self.settings = state.settings
    self.rank = rank or Rank()
    self.device = (
      device_for(self.rank, self.settings.device) if self.settings.nproc > 1 else self.settings.device
    )
    self.base_wall_s, self.eval_s = state.train_wall_s, 0.0
    self.first_chunk, self.chunk_end = True, -1
    self.envs: list = []
    self._build_training()
    if not self.rank.is_main:
      return
    state.session_starts.append((self.base_wall_s, self.elapsed()))
    state.train_wall_s = self.train_wall()
    save_state(state, run_dir)
    print(f"[ttw] session {state.sessions}: setup took {self.elapsed():.1f} s (counted)", flush=True)
    t0 = time.perf_counter()
    self._build_eval()
    self._add_eval_time(time.perf_counter() - t0)
    save_state(state, run_dir)

  def _build_training(self) -> None:
    s = self.settings
    self.cfgs = cfgs = load_task_cfgs(s.task, play=False)
    cfgs.env.scene.num_envs = s.num_envs
    if s.seed is not None:
      cfgs.agent.seed = s.seed
    apply_cfg_overrides(cfgs, checked_overrides(list(s.overrides)))
    cfgs.agent.save_interval = NEVER
    cfgs.agent.logger = "tensorboard"
    self.seed = cfgs.agent.seed  # the eval env's seed derives from rank 0's
    self.env_cfg, self.clip_actions = cfgs.env, cfgs.agent.clip_actions
    cfgs.agent.seed += self.rank.rank  # each process simulates its own envs
    cfgs.env.seed = cfgs.agent.seed
    env = env_class(s.task)(cfg=cfgs.env, device=self.device)
    self.envs.append(env)
    wrapped = RslRlVecEnvWrapper(env, clip_actions=cfgs.agent.clip_actions)
    train_dir = self.run_dir / self.train_subdir
    log_dir = str(train_dir) if self.rank.is_main else None  # ranks > 0 write nothing
    self.runner = runner_class(cfgs.agent)(wrapped, asdict(cfgs.agent), s.task, log_dir, self.device)
    self.runner.logger.print_progress = False
    if self.rank.is_main:
      self.runner.logger.on_iteration = self._on_iteration
    if not self.state.checkpoints:
      if not self.rank.is_main:
        return
      dump_cfg(cfgs.env, train_dir / "params" / "env.yaml")  # so that play.py can load the run
      dump_cfg(cfgs.agent, train_dir / "params" / "agent.yaml")
      return
    path = self.run_dir / self.state.checkpoints[-1].file
    data = ckpt.read_checkpoint(path)
    ckpt.check_fits(path, data, *policy_io_sizes(wrapped, cfgs.agent))
    print(f"[ttw] resuming from {path}", flush=True)
    self.runner.load(str(path))

  def _build_eval(self) -> None:
    s = self.settings
    play = load_task_cfgs(s.task, play=True).env
    cfg = eval_env_cfg(play, self.env_cfg, s.eval_envs, s.episode_s)
    cfg.seed = self.seed + s.nproc  # a random stream apart from every rank's training
    env = env_class(s.task)(cfg=cfg, device=self.device)
    self.envs.append(env)
    self.eval_wrapped = RslRlVecEnvWrapper(env, clip_actions=self.clip_actions)

  def elapsed(self) -> float:
    return time.perf_counter() - self.start

  def train_wall(self) -> float:
    return self.base_wall_s + self.elapsed() - self.eval_s

  def _add_eval_time(self, seconds: float) -> None:
    self.eval_s += seconds
    self.state.eval_wall_s += seconds

  def _sync(self) -> None:
    if self.device.startswith("cuda"):
      torch.cuda.synchronize()

  def _on_iteration(self, stats: IterationStats) -> None:
    wall = self.train_wall()
    self.state.curve.append((stats.it, wall, stats.mean_reward))
    if stats.it % self.print_every == 0 or stats.it == self.chunk_end:
      reward = "n/a" if stats.mean_reward is None else f"{stats.mean_reward:.2f}"
      left = max(0.0, self.limits.max_wall_s - wall)
      print(
        f"[it {stats.it}] {stats.steps_per_s:.0f} env-steps/s | reward {reward} | training wall-clock "
        f"{format_hms(wall)} | ETA to the {format_hms(self.limits.max_wall_s)} limit {format_hms(left)}",
        flush=True,
      )

  def train_chunk(self) -> None:
    state = self.state
    its = chunk_iterations(state.next_iteration, self.settings.eval_every, self.limits.max_iterations)
    self.chunk_end = state.next_iteration + its - 1
    t0 = time.perf_counter()
    self._learn(its)
    self._sync()
    state.s_per_iter = (time.perf_counter() - t0) / its
    self.first_chunk = False
    file = str(Path(self.train_subdir, f"model_{self.chunk_end}.pt"))
    state.train_wall_s = self.train_wall()
    state.checkpoints.append(CheckpointRecord(self.chunk_end, file, state.train_wall_s))
    if not self.rank.is_main:
      return
    if not (self.run_dir / file).is_file():
      raise RuntimeError(f"the runner did not write {file}")
    save_state(state, self.run_dir)

  def _learn(self, iterations: int) -> None:
    """Train the next ``iterations`` (the runner writes its checkpoint after the last)."""
    self.runner.learn(num_learning_iterations=iterations, init_at_random_ep_len=self.first_chunk)
    # learn() leaves the counter at its last iteration; the next chunk starts after it,
    # as StRlOnPolicyRunner.load does for a resumed run.
    self.runner.current_learning_iteration += 1

  def _policy(self):
    """The deterministic policy for the eval env (``policy(obs)``, ``policy.reset(dones)``)."""
    return self.runner.get_inference_policy(self.device)

  def evaluate(self) -> None:
    record = self.state.checkpoints[-1]
    t0 = time.perf_counter()
    summary = evaluate_first_episodes(self.eval_wrapped, self._policy())
    self._sync()
    seconds = time.perf_counter() - t0
    self._add_eval_time(seconds)
    self.state.eval_s = seconds
    fall, lin, yaw = summary["fall_rate"], summary["lin_vel_error"], summary["yaw_rate_error"]
    ok = passes(fall, lin, self.settings)
    record.evaluation = Evaluation(
      summary["episodes"], fall, lin, yaw, summary["episode_length_s"], seconds, ok
    )
    print(
      f"[eval] it {record.iteration} | training wall-clock {format_hms(record.train_wall_s)} | fall rate "
      f"{fall:.1%} | lin err {lin:.3f} m/s | yaw err {yaw:.3f} rad/s | {summary['episodes']} episodes, "
      f"{seconds:.1f} s | {'PASS' if ok else 'fail'}",
      flush=True,
    )
    if ok:  # export before the state says "walked", so a walked state always has its policy
      self.runner.export(self.run_dir / "walking_policy", iteration=record.iteration)
    save_state(self.state, self.run_dir)

  def close(self) -> None:
    for env in self.envs:
      env.close()


def _device_name(device: str) -> str:
  return torch.cuda.get_device_name(device) if device.startswith("cuda") else platform.processor() or "cpu"


def _version(package: str) -> str | None:
  try:
    return metadata.version(package)
  except metadata.PackageNotFoundError:
    return None


def _git_commit() -> str | None:
  """HEAD of the checkout this module runs from; None where that is no git checkout."""
  try:
    out = subprocess.run(
      ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent
    )
  except OSError:  # no git program
    return None
  return out.stdout.strip() or None


def write_results(run_dir: Path, state: RunState, limits: Limits, status: str) -> Path:
  """results.json and time_to_walk.png, both from the state."""
  pkgs = ("torch", "mjlab", "mujoco", "mujoco-warp", "rsl-rl-lib")
  walked = state.walked
  results = {
    "status": status,
    "time_to_walk_s": None if walked is None else walked.train_wall_s,
    "walking_iteration": None if walked is None else walked.iteration,
    "task": state.settings.task,
    "num_envs": state.settings.num_envs,
    "device": _device_name(state.settings.device),
    "versions": {**{p: _version(p) for p in pkgs}, "python": sys.version.split()[0]},
    "git_commit": _git_commit(),
    "settings": asdict(state.settings),
    "limits": asdict(limits),
    "accounting": (
      "train_wall_s = sum over sessions of process wall-clock minus evaluation time: imports, env "
      "and runner creation and checkpoint loading of every session are counted; eval_wall_s (eval "
      "env creation + rollouts) is not."
    ),
    "sessions": state.sessions,
    "session_starts": state.session_starts,
    "train_wall_s": state.train_wall_s,
    "eval_wall_s": state.eval_wall_s,
    "checkpoints": [asdict(c) for c in state.checkpoints],
  }
  path = run_dir / "results.json"
  path.write_text(json.dumps(results, indent=2) + "\n")
  plot_run(state, limits.max_wall_s, run_dir / "time_to_walk.png")
  return path
