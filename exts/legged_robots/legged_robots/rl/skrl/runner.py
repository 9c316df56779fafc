"""``SkrlRunner``: skrl's SequentialTrainer and agent on an st_gym env, with st_rl's run folder.

One learning iteration is ``agent.rollouts`` env steps and one update. After each one (the
agent's ``on_iteration`` hook) the runner writes skrl's tracking data and st_rl-style
scalars to TensorBoard, prints st_rl's progress line (steps/s, reward, ETA), and at the
checkpoint interval and at the end writes ``model_<iter>.pt`` atomically and refreshes
``exported/``. A resumed run continues the iteration count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from skrl.trainers.torch import SequentialTrainer, SequentialTrainerCfg
from torch import nn

from legged_robots.rl.progress import IterationStats, eta_seconds, format_progress
from legged_robots.rl.skrl.agent import build_agent, iterations_per
from legged_robots.rl.skrl.checkpoint import load_into, save_checkpoint
from legged_robots.rl.skrl.distributed import agent_modules
from legged_robots.rl.skrl.env import SkrlVecEnvWrapper
from legged_robots.rl.skrl.export import export_skrl_policy
from legged_robots.tasks.agents_skrl import SkrlAgentCfg

EXPORT_DIR = "exported"
_MEAN_REWARD = "Reward / Total reward (mean)"
_MEAN_LENGTH = "Episode / Total timesteps (mean)"
_UPDATE_MS = "Stats / Algorithm update time (ms)"


class SkrlRunner:
  """Train (or load for export) an skrl agent on a wrapped st_gym env."""

  print_progress: bool = True
  """Print the one-line progress per iteration; a caller that prints its own turns it off."""
  on_iteration: Callable[[IterationStats], None] | None = None
  """Called after every learning iteration (as st_rl's ``ProgressLogger.on_iteration``)."""

  def __init__(self, env: SkrlVecEnvWrapper, cfg: SkrlAgentCfg, task_id: str, device: str) -> None:
    self.env, self.cfg, self.task_id = env, cfg, task_id
    self.run_dir: Path | None = None
    self.agent = build_agent(cfg, env, device)
    self.agent.on_iteration = self._iteration_done  # pyright: ignore[reportAttributeAccessIssue]
    self.start_iteration = 0
    self.iteration = -1
    self._trainer: SequentialTrainer | None = None

  @property
  def sizes(self) -> dict[str, int]:
    """Observation, state and action widths, as saved in checkpoints."""
    spaces = {"obs_dim": self.env.observation_space, "state_dim": self.env.state_space}
    sizes = {name: int(np.prod(space.shape or ())) for name, space in spaces.items()}
    return {**sizes, "action_dim": int(np.prod(self.env.action_space.shape or ()))}

  def policy_modules(self) -> list[nn.Module]:
    """Models and observation/value scalers: what every rank of a distributed run shares."""
    return agent_modules(self.agent)

  def use_run_dir(self, run_dir: Path) -> None:
    """Checkpoints, exports and TensorBoard events go to run_dir (before ``load``/``learn``)."""
    self.run_dir = run_dir
    self.agent.experiment_dir = str(run_dir)

  def load(self, data: dict[str, Any]) -> None:
    """Restore a checkpoint (from ``read_skrl_checkpoint``); learning continues after its iteration."""
    self._ensure_initialized(num_iterations=1)
    load_into(self.agent, data)
    meta = data["st_gym"]
    self.start_iteration = int(meta["iteration"]) + 1
    if "common_step_counter" in meta:
      self.env.unwrapped.common_step_counter = int(meta["common_step_counter"])

  def learn(self, num_iterations: int, randomize_episode_lengths: bool = True) -> None:
    """Run num_iterations learning iterations (checkpoint + export after the last one);
    randomize_episode_lengths: spread the first time-outs (off for a continued chunk)."""
    trainer = self._ensure_initialized(num_iterations)
    trainer.cfg.timesteps = num_iterations * self.cfg.agent.rollouts
    self._last = self.start_iteration + num_iterations - 1
    interval = self.cfg.agent.experiment
    self._save_every = iterations_per(
      interval.checkpoint_interval, self.cfg.agent.rollouts, max(num_iterations // 10, 1)
    )
    self._write_every = iterations_per(interval.write_interval, self.cfg.agent.rollouts, 1)
    self.iteration = self.start_iteration - 1
    self._started = self._tick = time.perf_counter()
    if randomize_episode_lengths:
      self.env.randomize_episode_lengths()
    trainer.train()

  def _ensure_initialized(self, num_iterations: int) -> SequentialTrainer:
    """The trainer (it calls ``agent.init``: memories, TensorBoard writer, AMP motion dataset)."""
    if self._trainer is None:
      settings = SequentialTrainerCfg(
        timesteps=num_iterations * self.cfg.agent.rollouts,
        headless=True,
        disable_progressbar=True,
        close_environment_at_exit=False,
        environment_info=self.cfg.trainer.environment_info,
      )
      self._trainer = SequentialTrainer(env=self.env, agents=self.agent, cfg=settings)
    return self._trainer

  def _iteration_done(self) -> None:
    self.iteration += 1
    it, now = self.iteration, time.perf_counter()
    elapsed, wall = now - self._started, now - self._tick
    self._tick = now
    data = self.agent.tracking_data
    steps_per_s = self.cfg.agent.rollouts * self.env.num_envs / max(wall, 1e-9)
    reward = data[_MEAN_REWARD][-1] if data.get(_MEAN_REWARD) else None
    length = data[_MEAN_LENGTH][-1] if data.get(_MEAN_LENGTH) else None
    learn_s = float(np.sum(data.get(_UPDATE_MS, [0.0]))) / 1000.0
    stats = IterationStats(it, steps_per_s, wall - learn_s, learn_s, reward, length)
    if (it - self.start_iteration) % self._write_every == 0 or it == self._last:
      self._write_scalars(stats)
    data.clear()
    done = it + 1 - self.start_iteration
    eta = eta_seconds(elapsed, done, self._last - it)
    if self.print_progress:
      print(format_progress(it, self._last, steps_per_s, reward, length, elapsed, eta), flush=True)
    if self.on_iteration is not None:
      self.on_iteration(stats)
    if it % self._save_every == 0 or it == self._last:
      self.save(it)

  def _write_scalars(self, stats: IterationStats) -> None:
    writer = getattr(self.agent, "writer", None)
    if writer is None:
      return
    it = stats.it
    for tag, values in self.agent.tracking_data.items():
      reduce = np.min if tag.endswith("(min)") else np.max if tag.endswith("(max)") else np.mean
      writer.add_scalar(tag=tag, value=float(reduce(values)), timestep=it)
    scalars = {
      "Perf/total_fps": stats.steps_per_s,
      "Perf/learning_time": stats.learn_s,
      "Perf/collection_time": stats.collect_s,
      "Train/mean_reward": stats.mean_reward,
      "Train/mean_episode_length": stats.mean_episode_length,
    }
    for tag, value in scalars.items():
      if value is not None:
        writer.add_scalar(tag=tag, value=float(value), timestep=it)

  def save(self, iteration: int) -> None:
    """Write run_dir/model_<iteration>.pt, then refresh run_dir/exported."""
    assert self.run_dir is not None
    meta = {
      "algorithm": self.cfg.algorithm,
      "iteration": iteration,
      "recurrent": self.cfg.recurrent,
      "common_step_counter": int(self.env.unwrapped.common_step_counter),
      **self.sizes,
    }
    save_checkpoint(self.agent, self.run_dir / f"model_{iteration}.pt", meta)
    self.export(self.run_dir / EXPORT_DIR, iteration)

  def export(self, out_dir: Path, iteration: int | None) -> None:
    export_skrl_policy(
      self.agent, self.env.unwrapped, self.task_id, out_dir, iteration, self.cfg.clip_actions
    )
