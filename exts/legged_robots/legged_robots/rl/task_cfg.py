"""Task lookup, device choice and config resolution shared by train and play."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from mjlab.envs import ManagerBasedRlEnvCfg
from mjlab.rl import RslRlOnPolicyRunnerCfg, RslRlVecEnvWrapper

from legged_robots.rl.errors import StRlError
from legged_robots.rl.overrides import Override, apply_overrides, parse_overrides

OVERRIDE_ROOTS = ("env", "agent")


def require_task(task: str) -> None:
  """Raise StRlError (one line, closest ids, all ids) unless ``task`` is registered."""
  import mjlab.tasks  # noqa: F401  (registers mjlab's tasks; ours come via its entry point)

  from legged_robots.tasks.registry import UnknownTaskError, check_task_id

  try:
    check_task_id(task)
  except UnknownTaskError as err:
    raise StRlError(str(err)) from None


def resolve_device(device: str | None) -> str:
  if device is None:
    return "cuda:0" if torch.cuda.is_available() else "cpu"
  if device.startswith("cuda") and not torch.cuda.is_available():
    raise StRlError(f"--device {device}: CUDA is not available here; use --device cpu.")
  return device


@dataclass
class TaskCfgs:
  env: ManagerBasedRlEnvCfg
  agent: RslRlOnPolicyRunnerCfg


def load_task_cfgs(task: str, play: bool) -> TaskCfgs:
  from mjlab.tasks.registry import load_env_cfg, load_rl_cfg

  require_task(task)
  agent = load_rl_cfg(task)
  if not isinstance(agent, RslRlOnPolicyRunnerCfg):
    raise StRlError(
      f"task {task} has a {type(agent).__name__} agent config; st_rl PPO needs an RslRlOnPolicyRunnerCfg."
    )
  return TaskCfgs(env=load_env_cfg(task, play=play), agent=agent)


def checked_overrides(args: list[str]) -> list[Override]:
  return parse_overrides(args, OVERRIDE_ROOTS)


def apply_cfg_overrides(cfgs: TaskCfgs, overrides: list[Override]) -> None:
  apply_overrides({"env": cfgs.env, "agent": cfgs.agent}, overrides)


def set_if_given(cfg: Any, field: str, value: Any) -> None:
  """Flags left at None keep the config's value."""
  if value is not None:
    setattr(cfg, field, value)


def policy_io_sizes(env: RslRlVecEnvWrapper, agent: RslRlOnPolicyRunnerCfg) -> tuple[int, int]:
  """(actor input size, action size) as rsl_rl will build the actor."""
  obs = env.get_observations()
  groups = agent.obs_groups["actor"]
  return sum(int(obs[g].shape[-1]) for g in groups), int(env.num_actions)
