"""One registry for st_gym tasks: mjlab's task registry plus gymnasium ids.

``register_task`` puts a task into mjlab's registry (so mjlab's tools and ours find
it) and registers the same id with gymnasium (``gym.make("Flat-G1", device="cpu")``).
A task id is registered twice: ``<id>`` (train cfg; its play cfg is the ``-Play``
variant) and ``<id>-Play`` (play cfg for both).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import gymnasium as gym
from mjlab.envs import ManagerBasedRlEnv, ManagerBasedRlEnvCfg
from mjlab.rl import RslRlOnPolicyRunnerCfg
from mjlab.tasks import registry as mjlab_registry

from legged_robots.tasks.env import StGymRlEnv

if TYPE_CHECKING:
  from legged_robots.tasks.agents_skrl import SkrlAgentCfg


@dataclass(frozen=True)
class TaskInfo:
  """What list_envs reports about a task beyond its cfgs."""

  robot: str
  terrain: str
  agents: dict[str, Callable[[], RslRlOnPolicyRunnerCfg]]
  """Agent config factories by name."""
  default_agent: str = "st_rl_ppo"
  """The agent ``train.py`` uses: ``st_rl_ppo``, or ``st_rl_amp`` for AMP tasks."""


DEFAULT_AGENT = "st_rl_ppo"
_INFO: dict[str, TaskInfo] = {}
_SKRL_AGENTS: dict[str, dict[str, Callable[[], SkrlAgentCfg]]] = {}


class UnknownTaskError(KeyError):
  """A task id that is not registered; the message lists the registered ones."""

  def __str__(self) -> str:
    return str(self.args[0])


def register_task(task_id: str, env_cfg: Callable[..., ManagerBasedRlEnvCfg], info: TaskInfo) -> None:
  """Register ``task_id`` and ``task_id-Play``; ``env_cfg(play=...)`` builds the cfgs."""
  if info.default_agent not in info.agents:
    raise ValueError(
      f"Task '{task_id}': default agent '{info.default_agent}' is not in {sorted(info.agents)}."
    )
  for tid, train in ((task_id, env_cfg(play=False)), (f"{task_id}-Play", env_cfg(play=True))):
    if tid in mjlab_registry.list_tasks():
      raise ValueError(f"Task '{tid}' is already registered.")
    mjlab_registry.register_mjlab_task(
      task_id=tid, env_cfg=train, play_env_cfg=env_cfg(play=True), rl_cfg=info.agents[info.default_agent]()
    )
    gym.register(
      id=tid,
      entry_point="legged_robots.tasks.registry:make_env",
      kwargs={"task_id": tid},
      disable_env_checker=True,
      order_enforce=False,
    )
    _INFO[tid] = info


def register_skrl_agents(task_id: str, agents: dict[str, Callable[[], SkrlAgentCfg]]) -> None:
  """Give the registered task ``task_id`` (and ``task_id-Play``) skrl agent configs by name
  (``skrl_ppo``, ``skrl_amp``, ...), beside its st_rl agents."""
  for tid in (task_id, f"{task_id}-Play"):
    if tid not in _INFO:
      raise ValueError(f"Task '{tid}' is not registered: register the task before its skrl agents.")
    if tid in _SKRL_AGENTS:
      raise ValueError(f"Task '{tid}' already has skrl agents {sorted(_SKRL_AGENTS[tid])}.")
    _SKRL_AGENTS[tid] = dict(agents)


def skrl_agents(task_id: str) -> dict[str, Callable[[], SkrlAgentCfg]]:
  """The skrl agent config factories of a task by name (empty when it has none)."""
  check_task_id(task_id)
  return dict(_SKRL_AGENTS.get(task_id, {}))


def task_ids() -> list[str]:
  """The st_gym task ids, sorted."""
  return sorted(_INFO)


def task_info(task_id: str) -> TaskInfo:
  check_task_id(task_id)
  return _INFO[task_id]


def check_task_id(task_id: str) -> None:
  """Raise UnknownTaskError naming the closest ids and listing all registered ones."""
  known = mjlab_registry.list_tasks()
  if task_id in known:
    return
  close = difflib.get_close_matches(task_id, known, n=3, cutoff=0.4)
  hint = f" Did you mean: {', '.join(close)}?" if close else ""
  raise UnknownTaskError(
    f"Unknown task id '{task_id}'.{hint} Registered tasks: {', '.join(sorted(known))}. "
    "List them with `python scripts/list_envs.py`."
  )


def is_st_gym_task(task_id: str) -> bool:
  """Whether ``task_id`` is one of st_gym's tasks (not one of mjlab's own)."""
  check_task_id(task_id)
  return task_id in _INFO


def env_class(task_id: str) -> type[ManagerBasedRlEnv]:
  """The class to build ``task_id``'s env with: ``StGymRlEnv`` for st_gym tasks (fused
  reward bookkeeping), mjlab's ``ManagerBasedRlEnv`` for mjlab's own tasks."""
  return StGymRlEnv if is_st_gym_task(task_id) else ManagerBasedRlEnv


def load_env_cfg(task_id: str, play: bool = False) -> ManagerBasedRlEnvCfg:
  """A fresh copy of the task's env cfg."""
  check_task_id(task_id)
  return mjlab_registry.load_env_cfg(task_id, play=play)


def load_agent_cfg(task_id: str, agent: str | None = None) -> RslRlOnPolicyRunnerCfg:
  """A fresh runner cfg of the task's agent ``agent`` (e.g. ``st_rl_ppo_lstm``; None: default)."""
  check_task_id(task_id)
  if task_id not in _INFO:  # A task of mjlab's own: only its registered rl cfg exists.
    if agent not in (None, DEFAULT_AGENT):
      raise ValueError(f"Task '{task_id}' is not an st_gym task; it has no agent '{agent}'.")
    cfg = mjlab_registry.load_rl_cfg(task_id)
    assert isinstance(cfg, RslRlOnPolicyRunnerCfg)
    return cfg
  agents = _INFO[task_id].agents
  agent = agent or _INFO[task_id].default_agent
  if agent not in agents:
    raise ValueError(f"Task '{task_id}' has no agent '{agent}'. Available: {', '.join(sorted(agents))}.")
  return agents[agent]()


class GymManagerBasedRlEnv(StGymRlEnv, gym.Env):
  """st_gym's env, recognised by ``gymnasium.make`` as a ``gymnasium.Env``."""


def make_env(
  task_id: str,
  device: str = "cpu",
  num_envs: int | None = None,
  render_mode: str | None = None,
  seed: int | None = None,
  play: bool = False,
) -> GymManagerBasedRlEnv:
  """Build the task's env (gymnasium entry point)."""
  cfg = load_env_cfg(task_id, play=play)
  if num_envs is not None:
    cfg.scene.num_envs = num_envs
  if seed is not None:
    cfg.seed = seed
  return GymManagerBasedRlEnv(cfg, device=device, render_mode=render_mode)
