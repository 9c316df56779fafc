"""Task lookup, device choice and config resolution shared by train, play and sim2sim."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from mjlab.envs import ManagerBasedRlEnv, ManagerBasedRlEnvCfg
from mjlab.rl import RslRlOnPolicyRunnerCfg, RslRlVecEnvWrapper

from legged_robots.rl.cfg_yaml import find_opaque, load_cfg
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
  try:
    parsed = torch.device(device)
  except RuntimeError:
    raise StRlError(f"--device {device}: not a device; use cpu, cuda or cuda:N.") from None
  if parsed.type not in ("cpu", "cuda"):
    raise StRlError(f"--device {device}: st_gym runs on cpu or cuda; use --device cpu or cuda:N.")
  if parsed.type == "cuda" and not torch.cuda.is_available():
    raise StRlError(f"--device {device}: CUDA is not available here; use --device cpu.")
  if parsed.type == "cuda" and (parsed.index or 0) >= torch.cuda.device_count():
    raise StRlError(
      f"--device {device}: this machine has {torch.cuda.device_count()} GPU(s); use cuda:0 .. cuda:N-1."
    )
  return device


@dataclass
class TaskCfgs:
  env: ManagerBasedRlEnvCfg
  agent: RslRlOnPolicyRunnerCfg


def task_agents(task: str) -> tuple[list[str], str]:
  """(the task's named st_rl agents, its default one): the options of hydra's ``agent=``."""
  from legged_robots.tasks.registry import DEFAULT_AGENT, is_st_gym_task, task_info

  require_task(task)
  if not is_st_gym_task(task):  # mjlab's own tasks register one agent
    return [DEFAULT_AGENT], DEFAULT_AGENT
  info = task_info(task)
  return sorted(info.agents), info.default_agent


def load_task_cfgs(task: str, play: bool, agent_name: str | None = None) -> TaskCfgs:
  """The task's env cfg and its agent ``agent_name`` (None: the task's default agent)."""
  from mjlab.tasks.registry import load_env_cfg

  from legged_robots.tasks.registry import load_agent_cfg

  require_task(task)
  try:
    agent = load_agent_cfg(task, agent_name)
  except ValueError as e:
    raise StRlError(str(e)) from None
  if not isinstance(agent, RslRlOnPolicyRunnerCfg):
    raise StRlError(
      f"task {task} has a {type(agent).__name__} agent config; st_rl PPO needs an RslRlOnPolicyRunnerCfg."
    )
  return TaskCfgs(env=load_env_cfg(task, play=play), agent=agent)


def checked_overrides(args: list[str]) -> list[Override]:
  """Parse ``env.*``/``agent.*`` overrides (hydra's grammar); OverrideError on bad syntax."""
  return parse_overrides(args, OVERRIDE_ROOTS)


def apply_cfg_overrides(cfgs: TaskCfgs, overrides: list[Override]) -> None:
  """Compose the overrides with hydra and write them into cfgs, keys and types checked."""
  apply_overrides({"env": cfgs.env, "agent": cfgs.agent}, overrides)


def checked_run_cfgs(
  task: str, overrides: list[str], runner: str = "st_rl", algorithm: str = "PPO", num_envs: int | None = None
) -> tuple[ManagerBasedRlEnvCfg, Any]:
  """(env cfg, agent cfg) of a run with ``num_envs`` and the overrides applied, the keys,
  types and values checked (rl.checks); the agent is st_rl's, or the task's skrl agent of
  ``algorithm``. Builds nothing: for command lines that check before they start."""
  from legged_robots.rl.checks import check_agent_cfg, check_env_cfg, no_nan

  require_task(task)
  if runner == "skrl":
    from legged_robots.rl.skrl.task_cfg import select_agent_cfg
    from legged_robots.tasks.registry import load_env_cfg

    env_cfg, agent_cfg = load_env_cfg(task, play=False), select_agent_cfg(task, algorithm, None, None)
  else:
    cfgs = load_task_cfgs(task, play=False)
    env_cfg, agent_cfg = cfgs.env, cfgs.agent
  if num_envs is not None:
    env_cfg.scene.num_envs = num_envs
  roots = {"env": env_cfg, "agent": agent_cfg}
  apply_overrides(roots, checked_overrides(overrides))
  check_env_cfg(roots["env"])
  if runner == "skrl":
    no_nan("agent", roots["agent"])
  else:
    check_agent_cfg(roots["agent"])
  return roots["env"], roots["agent"]


def set_if_given(cfg: Any, field: str, value: Any) -> None:
  """Flags left at None keep the config's value."""
  if value is not None:
    setattr(cfg, field, value)


def policy_io_sizes(
  env: ManagerBasedRlEnv | RslRlVecEnvWrapper, agent: RslRlOnPolicyRunnerCfg
) -> tuple[int, int]:
  """(actor input size, action size) as rsl_rl will build the actor, from the managers'
  sizes (no step, no reset: callable before anything is written)."""
  base = env.unwrapped
  obs_dim = 0
  for group in agent.obs_groups["actor"]:
    dim = base.observation_manager.group_obs_dim[group]
    assert isinstance(dim, tuple), f"rsl_rl needs observation group {group} concatenated"
    obs_dim += int(dim[-1])
  return obs_dim, int(base.action_manager.total_action_dim)


def restore_training_interface(cfgs: TaskCfgs, run_dir: Path) -> None:
  """Put the trained policy's interface and agent config from run_dir/params into cfgs."""
  params = run_dir / "params"
  if not params.is_dir():
    print(f"[st_rl] {run_dir} has no params/: using the task's registered configs")
    return
  agent = load_cfg(params / "agent.yaml")
  if type(agent) is not type(cfgs.agent):
    raise StRlError(
      f"{params / 'agent.yaml'} holds a {type(agent).__name__}, not an st_rl agent cfg "
      "(a run of scripts/skrl/train.py plays with scripts/skrl/play.py)"
    )
  cfgs.agent = agent
  restore_env_interface(cfgs.env, params)


def restore_env_interface(play_env: ManagerBasedRlEnvCfg, params: Path) -> None:
  """Put the trained policy's env interface from params/env.yaml into play_env (any runner)."""
  env = load_cfg(params / "env.yaml")
  actor_group = env.observations["actor"]
  for name, part in (("observations.actor", actor_group), ("actions", env.actions)):
    where = find_opaque(part)
    if where is not None:
      raise StRlError(
        f"{params / 'env.yaml'}: {name}.{where} is a lambda that cannot be rebuilt; "
        "define that function at module level in the task and retrain."
      )
  play_group = play_env.observations["actor"]
  # Terms and history come from training; corruption stays as the play cfg sets it.
  actor_group.enable_corruption = play_group.enable_corruption
  play_env.observations["actor"] = actor_group
  play_env.actions = env.actions
  play_env.decimation = env.decimation
  play_env.sim.mujoco.timestep = env.sim.mujoco.timestep
  if getattr(env, "motion", None) is not None and hasattr(play_env, "motion"):
    # The clips the policy was trained on (override env.motion.files where they live elsewhere).
    play_env.motion = env.motion
