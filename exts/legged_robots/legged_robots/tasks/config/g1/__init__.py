"""Register the Unitree G1 tasks: velocity, AMP and mimic, 29-DoF and 23-DoF, flat and rough."""

from functools import partial
from typing import Literal

from legged_robots.tasks.registry import TaskInfo, register_task

from .agents.st_rl_amp_cfg import g1_amp_flat_cfg, g1_amp_mimic_cfg, g1_amp_rough_cfg
from .agents.st_rl_ppo_cfg import (
  g1_flat_ppo_cfg,
  g1_mimic_flat_ppo_cfg,
  g1_mimic_rough_ppo_cfg,
  g1_rough_ppo_cfg,
  g1_tracking_flat_ppo_cfg,
)
from .amp_env_cfgs import g1_amp_env_cfg, g1_amp_mimic_env_cfg, g1_amp_rough_env_cfg
from .env_cfgs import g1_flat_env_cfg, g1_rough_env_cfg
from .mimic_env_cfgs import g1_mimic_env_cfg, g1_mimic_rough_env_cfg
from .tracking_env_cfgs import g1_tracking_env_cfg


def _agents(factory, name: str = "st_rl_ppo"):
  return {name: factory, f"{name}_lstm": partial(factory, recurrent=True)}


_VARIANTS: tuple[tuple[Literal[29, 23], str], ...] = ((29, "G1 (29 DoF)"), (23, "G1 (23 DoF, wrists locked)"))
for _dof, _robot in _VARIANTS:
  _suffix = "" if _dof == 29 else "-23DoF"
  register_task(
    f"Flat-G1{_suffix}",
    partial(g1_flat_env_cfg, num_joints=_dof),
    TaskInfo(_robot, "flat", _agents(g1_flat_ppo_cfg)),
  )
  register_task(
    f"Rough-G1{_suffix}",
    partial(g1_rough_env_cfg, num_joints=_dof),
    TaskInfo(_robot, "rough", _agents(g1_rough_ppo_cfg)),
  )
  register_task(
    f"Amp-Flat-G1{_suffix}",
    partial(g1_amp_env_cfg, num_joints=_dof),
    TaskInfo(_robot, "flat", _agents(g1_amp_flat_cfg, "st_rl_amp"), "st_rl_amp"),
  )
  register_task(
    f"Amp-Rough-G1{_suffix}",
    partial(g1_amp_rough_env_cfg, num_joints=_dof),
    TaskInfo(_robot, "rough", _agents(g1_amp_rough_cfg, "st_rl_amp"), "st_rl_amp"),
  )
  register_task(
    f"Mimic-Flat-G1{_suffix}",
    partial(g1_mimic_env_cfg, num_joints=_dof),
    TaskInfo(_robot, "flat", _agents(g1_mimic_flat_ppo_cfg)),
  )
  register_task(
    f"Mimic-Rough-G1{_suffix}",
    partial(g1_mimic_rough_env_cfg, num_joints=_dof),
    TaskInfo(_robot, "rough", _agents(g1_mimic_rough_ppo_cfg)),
  )
register_task(
  "AmpMimic-Flat-G1",
  g1_amp_mimic_env_cfg,
  TaskInfo("G1 (29 DoF)", "flat", _agents(g1_amp_mimic_cfg, "st_rl_amp"), "st_rl_amp"),
)
register_task(
  "Tracking-Flat-G1", g1_tracking_env_cfg, TaskInfo("G1 (29 DoF)", "flat", _agents(g1_tracking_flat_ppo_cfg))
)
