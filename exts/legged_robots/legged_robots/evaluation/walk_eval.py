"""Checkpoint evaluation of the time-to-walk benchmark: one episode per env, play metrics.

The eval env is the task's play variant (no observation noise, no pushes or external
wrenches) with the trained policy's interface, solver settings, terminations and
velocity command taken from the training cfg: commands are drawn from the training
ranges and resampled during an episode exactly as in training (the play variant draws
one command per episode). Each evaluation resets every env and steps until every env
has ended its first episode; later episodes of envs that fell early are ignored, so
short falling episodes cannot outnumber the full-length ones and bias the fall rate.
"""

from __future__ import annotations

import copy

import torch
from mjlab.envs import ManagerBasedRlEnvCfg
from mjlab.managers.command_manager import CommandManager
from mjlab.rl import RslRlVecEnvWrapper

from legged_robots.evaluation.metrics import EpisodeMetrics
from legged_robots.evaluation.play import velocity_command
from legged_robots.rl.errors import StRlError


def eval_env_cfg(
  play: ManagerBasedRlEnvCfg, train: ManagerBasedRlEnvCfg, num_envs: int, episode_s: float
) -> ManagerBasedRlEnvCfg:
  """The play cfg with the training cfg's policy interface, sim, terminations and commands."""
  cfg = copy.deepcopy(play)
  actor = copy.deepcopy(train.observations["actor"])
  actor.enable_corruption = play.observations["actor"].enable_corruption
  cfg.observations["actor"] = actor
  cfg.actions = copy.deepcopy(train.actions)
  cfg.decimation = train.decimation
  cfg.sim = copy.deepcopy(train.sim)
  cfg.terminations = copy.deepcopy(train.terminations)
  cfg.commands = copy.deepcopy(train.commands)
  cfg.scene.num_envs = num_envs
  cfg.episode_length_s = episode_s
  return cfg


def evaluate_first_episodes(wrapped: RslRlVecEnvWrapper, policy) -> dict:
  """Reset all envs, run ``policy`` until each env ended one episode; play metrics of those.

  Returns EpisodeMetrics.summary() plus ``steps`` and ``episodes_ended`` (all episode
  ends seen, including the ignored later ones).
  """
  env = wrapped.unwrapped
  found = velocity_command(env)
  if found is None:
    raise StRlError(f"{type(env.cfg).__name__}: the task has no (vx, vy, wz) velocity command to track")
  command_name, entity = found
  commands = env.command_manager
  assert isinstance(commands, CommandManager)  # it holds the velocity command found above
  scale = env.step_dt if env.cfg.scale_rewards_by_dt else 1.0
  metrics = EpisodeMetrics(env.num_envs, list(env.reward_manager.active_terms), env.step_dt)
  first = torch.ones(env.num_envs, dtype=torch.bool, device=env.device)
  ended = torch.zeros((), dtype=torch.long, device=env.device)
  obs, _ = wrapped.reset()
  policy.reset()
  # After a reset the time-out fires at step max_episode_length, so every env has ended
  # at least one episode after that many steps.
  for _ in range(env.max_episode_length):
    command = commands.get_command(command_name)[:, :3].clone()
    with torch.inference_mode():
      actions = policy(obs)
    obs, _, dones, _ = wrapped.step(actions)
    policy.reset(dones)
    data = env.scene[entity].data
    velocity = torch.cat([data.root_link_lin_vel_b[:, :2], data.root_link_ang_vel_b[:, 2:3]], dim=1)
    # _step_reward is the manager's per-term reward before the dt scaling.
    term_rewards = env.reward_manager._step_reward * scale
    time_outs = env.termination_manager.time_outs
    metrics.step(term_rewards, dones, time_outs, command, velocity, active=first)
    done = dones.bool()
    ended += done.sum()
    first &= ~done
  if bool(first.any()):
    raise RuntimeError(f"{int(first.sum())} envs never ended an episode in {env.max_episode_length} steps")
  summary = metrics.summary()
  summary.update(steps=env.max_episode_length, episodes_ended=int(ended))
  return summary
