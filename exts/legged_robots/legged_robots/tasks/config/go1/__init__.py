"""Register the Unitree Go1 velocity tasks (flat and rough)."""

from functools import partial

from legged_robots.tasks.registry import TaskInfo, register_task

from .agents.st_rl_ppo_cfg import go1_flat_ppo_cfg, go1_rough_ppo_cfg
from .env_cfgs import go1_flat_env_cfg, go1_rough_env_cfg


def _agents(factory):
  return {"st_rl_ppo": factory, "st_rl_ppo_lstm": partial(factory, recurrent=True)}


register_task("Flat-Go1", go1_flat_env_cfg, TaskInfo("Go1", "flat", _agents(go1_flat_ppo_cfg)))
register_task("Rough-Go1", go1_rough_env_cfg, TaskInfo("Go1", "rough", _agents(go1_rough_ppo_cfg)))
