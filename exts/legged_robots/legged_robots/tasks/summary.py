"""Task summaries for list_envs: robot, terrain, observation/action sizes, agents.

Sizes are read from the managers of a 1-env build on CPU, never kept by hand.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

from legged_robots.tasks.registry import make_env, skrl_agents, task_info


@dataclass(frozen=True)
class TaskSummary:
  task_id: str
  robot: str
  terrain: str
  obs_sizes: dict[str, int]
  """Observation group name -> flat size (``actor``, ``critic``)."""
  action_size: int
  agents: tuple[str, ...]
  """st_rl agents, then skrl agents."""


def summarize_task(task_id: str, device: str = "cpu") -> TaskSummary:
  """Build ``task_id`` with one env and read its observation and action sizes."""
  info = task_info(task_id)
  # mjlab prints manager tables while building; keep list output to the summary.
  with contextlib.redirect_stdout(io.StringIO()):
    env = make_env(task_id, device=device, num_envs=1)
  try:
    dims = env.observation_manager.group_obs_dim
    obs_sizes = {}
    for name, shape in dims.items():
      assert isinstance(shape, tuple), f"group '{name}' is not concatenated"
      obs_sizes[name] = int(shape[-1])
    return TaskSummary(
      task_id=task_id,
      robot=info.robot,
      terrain=info.terrain,
      obs_sizes=obs_sizes,
      action_size=env.action_manager.total_action_dim,
      agents=tuple(sorted(info.agents)) + tuple(sorted(skrl_agents(task_id))),
    )
  finally:
    env.close()
