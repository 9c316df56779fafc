"""skrl PPO, PPO_RNN and AMP agents with their memories, from an ``SkrlAgentCfg``.

The YAML's class names map to skrl classes through the tables below (no ``eval``). The
agents are skrl's own, with one hook: skrl calls ``write_tracking_data`` every
``write_interval`` env steps; that interval is set to the rollout length, so the hook runs
once per learning iteration, right after the update, and the runner does its per-iteration
work there (TensorBoard, progress line, checkpoint and export). skrl's own checkpoint
writing is switched off (interval 0): the runner writes atomic ``model_<iter>.pt`` files.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import Any

import skrl
import torch
from skrl.agents.torch import Agent
from skrl.agents.torch.amp import AMP, AMP_CFG
from skrl.agents.torch.ppo import PPO, PPO_CFG, PPO_RNN
from skrl.memories.torch import RandomMemory
from skrl.resources.preprocessors.torch import RunningStandardScaler
from skrl.resources.schedulers.torch import KLAdaptiveLR

from legged_robots.rl.errors import StRlError
from legged_robots.rl.skrl.distributed import sync_after_updates
from legged_robots.rl.skrl.env import SkrlVecEnvWrapper
from legged_robots.rl.skrl.models import build_models, check_models_cfg
from legged_robots.tasks.agents_skrl import AmpAgentCfg, MemoryCfg, OnPolicyAgentCfg, SkrlAgentCfg

PREPROCESSORS: dict[str, type] = {"RunningStandardScaler": RunningStandardScaler}
SCHEDULERS: dict[str, type] = {"KLAdaptiveLR": KLAdaptiveLR}
_NOT_SKRL_FIELDS = ("class_name", "experiment", "rewards_shaper_scale")
"""Fields of our agent section that are not skrl ``PPO_CFG``/``AMP_CFG`` fields as such."""


class _IterationHook:
  """Replaces skrl's TensorBoard write with ``on_iteration`` (see the module docstring)."""

  on_iteration: Callable[[], None] | None = None

  def write_tracking_data(self, *, timestep: int, timesteps: int) -> None:
    del timestep, timesteps
    if self.on_iteration is not None:
      self.on_iteration()


class StGymPPO(_IterationHook, PPO):
  """skrl PPO with the per-iteration hook."""


class StGymPPORNN(_IterationHook, PPO_RNN):
  """skrl PPO_RNN (recurrent models) with the per-iteration hook."""


class StGymAMP(_IterationHook, AMP):
  """skrl AMP with the per-iteration hook."""


def check_agent_cfg(cfg: SkrlAgentCfg, num_envs: int) -> None:
  """Raise StRlError naming every setting this runner cannot honour (before anything is built)."""
  agent, problems = cfg.agent, check_models_cfg(cfg.models, cfg.algorithm)
  if agent.rollouts < 2:
    problems.append(f"agent.rollouts must be at least 2, got {agent.rollouts}")
  if num_envs < 1 or agent.learning_epochs < 1 or cfg.max_iterations < 1:
    problems.append(
      f"--num_envs ({num_envs}), agent.learning_epochs ({agent.learning_epochs}) and --max_iterations "
      f"({cfg.max_iterations}) must be at least 1"
    )
  if not (math.isfinite(agent.learning_rate) and agent.learning_rate > 0):
    problems.append(f"agent.learning_rate must be a finite number > 0, got {agent.learning_rate}")
  samples = agent.rollouts * num_envs
  if not 1 <= agent.mini_batches <= samples:
    problems.append(
      f"agent.mini_batches ({agent.mini_batches}) must be in 1..rollouts x num_envs ({samples})"
    )
  for name in ("write_interval", "checkpoint_interval"):
    value = getattr(agent.experiment, name)
    if value != "auto" and (value <= 0 or value % agent.rollouts):
      problems.append(
        f"agent.experiment.{name} ({value}) must be auto or a multiple of rollouts ({agent.rollouts})"
      )
  rnn = cfg.models.policy.rnn or cfg.models.value.rnn
  if rnn is not None:
    per_batch = samples / agent.mini_batches
    if agent.rollouts % rnn.sequence_length or per_batch % rnn.sequence_length:
      problems.append(
        f"rnn.sequence_length ({rnn.sequence_length}) must divide agent.rollouts ({agent.rollouts}) "
        f"and the mini-batch size rollouts x num_envs / mini_batches ({per_batch:g})"
      )
  if cfg.memory.memory_size not in (-1, agent.rollouts):
    problems.append(
      f"memory.memory_size must be -1 (= rollouts) for on-policy agents, got {cfg.memory.memory_size}"
    )
  if cfg.algorithm == "AMP" and (cfg.motion_dataset is None or cfg.reply_buffer is None):
    problems.append("AMP needs the motion_dataset and reply_buffer sections")
  if cfg.clip_actions is not None and not cfg.clip_actions > 0:
    problems.append(f"clip_actions must be positive or null, got {cfg.clip_actions}")
  if problems:
    raise StRlError("skrl agent config: " + "; ".join(problems) + ".")


def iterations_per(interval: int | str, rollouts: int, auto: int) -> int:
  """An interval in env steps as whole learning iterations (auto: the given default)."""
  return auto if interval == "auto" else max(int(interval) // rollouts, 1)


def _scale_rewards(rewards: torch.Tensor, timestep: int, timesteps: int, *, scale: float) -> torch.Tensor:
  return rewards * scale


def skrl_agent_settings(agent: OnPolicyAgentCfg, env: SkrlVecEnvWrapper, device: str) -> PPO_CFG | AMP_CFG:
  """skrl's own cfg dataclass from the agent section (classes from the tables, sizes from env)."""
  sizes = {
    "observation": env.observation_space,
    "state": env.state_space,
    "value": 1,
    "amp_observation": env.amp_observation_space if isinstance(agent, AmpAgentCfg) else None,
  }
  values: dict[str, Any] = {}
  for f in dataclasses.fields(agent):
    if f.name in _NOT_SKRL_FIELDS or f.name.endswith("_kwargs"):
      continue
    value = getattr(agent, f.name)
    if f.name.endswith("_preprocessor"):
      values[f.name] = None if value is None else PREPROCESSORS[value]
      kwargs = getattr(agent, f"{f.name}_kwargs")
      values[f"{f.name}_kwargs"] = {
        **kwargs,
        "size": sizes[f.name.removesuffix("_preprocessor")],
        "device": device,
      }
    elif f.name == "learning_rate_scheduler":
      values[f.name] = None if value is None else SCHEDULERS[value]
      values["learning_rate_scheduler_kwargs"] = dict(agent.learning_rate_scheduler_kwargs)
    else:
      values[f.name] = value
  if agent.rewards_shaper_scale != 1.0:
    values["rewards_shaper"] = functools.partial(_scale_rewards, scale=agent.rewards_shaper_scale)
  settings_cls = AMP_CFG if isinstance(agent, AmpAgentCfg) else PPO_CFG
  return settings_cls(**values)


def _memory(cfg: MemoryCfg, size: int, num_envs: int, device: str) -> RandomMemory:
  return RandomMemory(
    memory_size=size if cfg.memory_size < 0 else cfg.memory_size, num_envs=num_envs, device=device
  )


def build_agent(cfg: SkrlAgentCfg, env: SkrlVecEnvWrapper, device: str) -> Agent:
  """The skrl agent of cfg on env (its ``experiment_dir``, where ``init`` opens the
  TensorBoard writer, is the runner's to set)."""
  agent_cfg = cfg.agent
  spaces = {
    "observation": env.observation_space,
    "state": env.state_space,
    "action": env.action_space,
    "amp": env.amp_observation_space if cfg.algorithm == "AMP" else None,
  }
  models = build_models(cfg.models, spaces, env.num_envs, device)
  settings = skrl_agent_settings(agent_cfg, env, device)
  # skrl writes tracking data every write_interval steps: once per iteration (the hook).
  settings.experiment.write_interval = agent_cfg.rollouts
  settings.experiment.checkpoint_interval = 0
  common: dict[str, Any] = {
    "models": models,
    "memory": _memory(cfg.memory, agent_cfg.rollouts, env.num_envs, device),
    "observation_space": env.observation_space,
    "state_space": env.state_space,
    "action_space": env.action_space,
    "device": device,
  }
  if cfg.algorithm == "AMP":
    assert cfg.motion_dataset is not None and cfg.reply_buffer is not None
    assert isinstance(settings, AMP_CFG)
    agent: Agent = StGymAMP(
      **common,
      cfg=settings,
      amp_observation_space=env.amp_observation_space,
      motion_dataset=_memory(cfg.motion_dataset, 0, 1, device),
      reply_buffer=_memory(cfg.reply_buffer, 0, 1, device),
      collect_reference_motions=env.collect_reference_motions,
    )
  else:
    assert isinstance(settings, PPO_CFG)
    agent_class = StGymPPORNN if cfg.recurrent or cfg.models.value.rnn is not None else StGymPPO
    agent = agent_class(**common, cfg=settings)
  if skrl.config.torch.is_distributed:
    sync_after_updates(agent, skrl.config.torch.world_size)
  return agent
